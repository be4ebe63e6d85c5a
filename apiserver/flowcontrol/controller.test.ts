import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { EventEmitter } from 'node:events';
import { parseRequestInfo } from '../request/request-info.js';
import { StatusError } from '../request/status.js';
import { FlowControl } from './controller.js';
import { MANDATORY_FLOW_SCHEMAS, MANDATORY_PRIORITY_LEVELS, SUGGESTED_FLOW_SCHEMAS, SUGGESTED_PRIORITY_LEVELS } from './bootstrap.js';
import type { FlowSchema, PriorityLevelConfiguration } from './types.js';

class FakeResponse extends EventEmitter {
  headers: Record<string, string> = {};
  setHeader(name: string, value: string): void {
    this.headers[name] = value;
  }
}

const withUid = <T extends { metadata: { name: string; uid?: string } }>(object: T): T => ({ ...object, metadata: { ...object.metadata, uid: `uid-${object.metadata.name}` } });
const info = (path: string) => parseRequestInfo('GET', path, new URLSearchParams());

function bootstrapped(serverConcurrencyLimit = 600): FlowControl {
  const control = new FlowControl({ serverConcurrencyLimit, maxQueueWaitMs: 1000 });
  control.configure([...MANDATORY_FLOW_SCHEMAS, ...SUGGESTED_FLOW_SCHEMAS].map(withUid), [...MANDATORY_PRIORITY_LEVELS, ...SUGGESTED_PRIORITY_LEVELS].map(withUid));
  return control;
}

test('each level gets ceil(limit × shares / all shares) seats', () => {
  const control = bootstrapped(600);
  // Shares: exempt 0, catch-all 5, system 30, node-high 40, leader-election 10, workload-high 40, workload-low 100, global-default 20 = 245.
  assert.equal(control.levelStats('global-default')!.concurrencyLimit, Math.ceil((600 * 20) / 245));
  assert.equal(control.levelStats('workload-low')!.concurrencyLimit, Math.ceil((600 * 100) / 245));
  assert.equal(control.levelStats('catch-all')!.concurrencyLimit, Math.ceil((600 * 5) / 245));
  assert.equal(control.levelStats('exempt'), undefined, 'exempt is never limited');
});

test('responses name the matched schema and level; the exempt level never waits', () => {
  const control = bootstrapped(1);
  const res = new FakeResponse();
  const release = control.admit({ username: 'admin', groups: ['system:masters'] }, info('/api/v1/pods'), res as unknown as ServerResponse);
  assert.equal(typeof release, 'function');
  assert.deepEqual(res.headers, { 'X-Kubernetes-PF-FlowSchema-UID': 'uid-exempt', 'X-Kubernetes-PF-PriorityLevel-UID': 'uid-exempt' });
  for (let index = 0; index < 100; index++) control.admit({ username: 'admin', groups: ['system:masters'] }, info('/api/v1/pods'), new FakeResponse() as unknown as ServerResponse);
});

test('before any stored configuration the mandatory objects apply; catch-all rejects with 429 past its seats', () => {
  const control = new FlowControl({ serverConcurrencyLimit: 2, maxQueueWaitMs: 1000 });
  const user = { username: 'bob', groups: ['system:authenticated'] };
  const res = new FakeResponse();
  control.admit(user, info('/api/v1/pods'), res as unknown as ServerResponse);
  assert.equal(res.headers['X-Kubernetes-PF-FlowSchema-UID'], undefined, 'no uid to name yet');
  control.admit(user, info('/api/v1/pods'), new FakeResponse() as unknown as ServerResponse);
  assert.throws(
    () => control.admit(user, info('/api/v1/pods'), new FakeResponse() as unknown as ServerResponse),
    (error: unknown) => error instanceof StatusError && error.code === 429 && error.message === 'Too many requests, please try again later.' && error.headers?.['Retry-After'] === '1',
  );
});

test('a schema whose level is missing is skipped; a changed configuration applies at once', () => {
  const dangling: FlowSchema = { metadata: { name: 'dangling', uid: 'uid-dangling' }, spec: { priorityLevelConfiguration: { name: 'nowhere' }, matchingPrecedence: 50, rules: [{ subjects: [{ kind: 'Group', group: { name: 'system:authenticated' } }], resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'], clusterScope: true }] }] } };
  const control = bootstrapped();
  control.configure([...SUGGESTED_FLOW_SCHEMAS.map(withUid), dangling], SUGGESTED_PRIORITY_LEVELS.map(withUid));
  const user = { username: 'bob', groups: ['system:authenticated'] };
  assert.equal(control.classify(user, info('/api/v1/pods')).flowSchema.metadata.name, 'global-default');
  const level: PriorityLevelConfiguration = { metadata: { name: 'nowhere', uid: 'uid-nowhere' }, spec: { type: 'Limited', limited: { nominalConcurrencyShares: 1, limitResponse: { type: 'Reject' } } } };
  control.configure([...SUGGESTED_FLOW_SCHEMAS.map(withUid), dangling], [...SUGGESTED_PRIORITY_LEVELS.map(withUid), level]);
  assert.equal(control.classify(user, info('/api/v1/pods')).priorityLevel.metadata.name, 'nowhere');
});
