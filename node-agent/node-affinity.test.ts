import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeAffinityAdmits } from './node-affinity.js';
import type { KubeObject } from '../apiserver/registry/object.js';

const node = (name: string, labels: Record<string, string> = {}): KubeObject => ({ metadata: { name, labels } });
const pod = (terms: unknown[]): KubeObject => ({ metadata: {}, spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } } });

test('required node affinity: ORed terms, ANDed requirements, matchFields on the name, empty terms match nothing', () => {
  assert.ok(nodeAffinityAdmits({ metadata: {}, spec: {} }, node('a')));
  const pinned = pod([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }] }]);
  assert.ok(nodeAffinityAdmits(pinned, node('a')));
  assert.ok(!nodeAffinityAdmits(pinned, node('b')));
  const zoned = pod([{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['x'] }, { key: 'gpu', operator: 'DoesNotExist' }] }, { matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['8'] }] }]);
  assert.ok(nodeAffinityAdmits(zoned, node('a', { zone: 'x' })));
  assert.ok(!nodeAffinityAdmits(zoned, node('a', { zone: 'x', gpu: 'yes' })));
  assert.ok(nodeAffinityAdmits(zoned, node('a', { cores: '16' })));
  assert.ok(!nodeAffinityAdmits(zoned, node('a', { cores: 'many' })));
  assert.ok(!nodeAffinityAdmits(pod([{}]), node('a')));
  assert.ok(nodeAffinityAdmits(pod([{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['y'] }] }]), node('a')));
});
