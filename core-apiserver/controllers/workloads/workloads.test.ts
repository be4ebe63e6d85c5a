import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podTemplateHash, templatesEqualIgnoringHash } from './pod-template-hash.js';
import { rollingLimits } from './deployment.js';
import { podAvailability } from './controller-ref.js';

const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }] } };

test('the pod-template-hash is stable, key-order independent, safe-encoded, and changes with the template or a collision', () => {
  const hash = podTemplateHash(template);
  assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
  assert.equal(podTemplateHash({ spec: template.spec, metadata: template.metadata }), hash);
  assert.notEqual(podTemplateHash({ ...template, spec: { containers: [{ name: 'nginx', image: 'nginx:1.26' }] } }), hash);
  assert.notEqual(podTemplateHash(template, 1), hash);
});

test('a ReplicaSet template equals the Deployment template but for the hash label', () => {
  const withHash = { ...template, metadata: { labels: { app: 'web', 'pod-template-hash': 'abc' } } };
  assert.ok(templatesEqualIgnoringHash(withHash, template));
  assert.ok(!templatesEqualIgnoringHash({ ...withHash, metadata: { labels: { app: 'api', 'pod-template-hash': 'abc' } } }, template));
});

test('rolling update limits: surge rounds up, unavailable down, never both zero', () => {
  assert.deepEqual(rollingLimits({}, 10), { maxSurge: 3, maxUnavailable: 2 });
  assert.deepEqual(rollingLimits({ strategy: { rollingUpdate: { maxSurge: '50%', maxUnavailable: '50%' } } }, 3), { maxSurge: 2, maxUnavailable: 1 });
  assert.deepEqual(rollingLimits({ strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }, 3), { maxSurge: 0, maxUnavailable: 1 });
  assert.deepEqual(rollingLimits({ strategy: { rollingUpdate: { maxSurge: '10%', maxUnavailable: '10%' } } }, 1), { maxSurge: 1, maxUnavailable: 0 });
  assert.deepEqual(rollingLimits({ strategy: { type: 'Recreate' } }, 3), { maxSurge: 0, maxUnavailable: 0 });
});

test('a pod is available once ready for minReadySeconds', () => {
  const readySince = (iso: string) => ({ metadata: {}, status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: iso }] } });
  const now = Date.parse('2026-01-01T00:00:10Z');
  assert.deepEqual(podAvailability(readySince('2026-01-01T00:00:00Z'), 5, now), { available: true });
  assert.deepEqual(podAvailability(readySince('2026-01-01T00:00:08Z'), 5, now), { available: false, availableInMs: 3000 });
  assert.deepEqual(podAvailability({ metadata: {}, status: {} }, 0, now), { available: false });
});
