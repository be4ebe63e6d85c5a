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
  const control = new FlowControl({ serverConcurrencyLimit, maxQueueWaitMs: 1000, borrowingPeriodMs: 0 });
  control.configure([...MANDATORY_FLOW_SCHEMAS, ...SUGGESTED_FLOW_SCHEMAS].map(withUid), [...MANDATORY_PRIORITY_LEVELS, ...SUGGESTED_PRIORITY_LEVELS].map(withUid));
  return control;
}

test('each level\'s nominal seats are ceil(limit × shares / all shares); it starts lending half of what it may lend', () => {
  const control = bootstrapped(600);
  // Shares: exempt 0, catch-all 5, system 30, node-high 40, leader-election 10, workload-high 40, workload-low 100, global-default 20 = 245.
  const globalDefault = control.levelStats('global-default')!;
  assert.equal(globalDefault.nominalCL, Math.ceil((600 * 20) / 245));
  assert.equal(globalDefault.minCL, globalDefault.nominalCL - Math.round(globalDefault.nominalCL / 2));
  assert.equal(control.levelStats('workload-low')!.nominalCL, Math.ceil((600 * 100) / 245));
  assert.equal(control.levelStats('catch-all')!.nominalCL, Math.ceil((600 * 5) / 245));
  assert.equal(control.levelStats('exempt')!.nominalCL, 0, 'exempt is never limited, only counted');
  // With no demand anywhere, the levels keep their lower limits and the rest is shared by what they lend.
  const all = control.levelNames().map((name) => control.levelStats(name)!);
  for (const level of all) assert.ok(level.currentCL >= level.minCL && level.currentCL <= level.maxCL, JSON.stringify(level));
  const [current, nominal] = [all.reduce((sum, level) => sum + level.currentCL, 0), all.reduce((sum, level) => sum + level.nominalCL, 0)];
  assert.ok(Math.abs(current - nominal) < all.length, `${current} vs ${nominal} (each level's share is rounded)`);
});

test('under load a level borrows the seats idle levels lend; a level that gets busy gets its nominal seats back', async () => {
  let clock = 0;
  const control = new FlowControl({ serverConcurrencyLimit: 600, maxQueueWaitMs: 60_000, now: () => clock, borrowingPeriodMs: 0 });
  control.configure([...MANDATORY_FLOW_SCHEMAS, ...SUGGESTED_FLOW_SCHEMAS].map(withUid), [...MANDATORY_PRIORITY_LEVELS, ...SUGGESTED_PRIORITY_LEVELS].map(withUid));
  const nominal = control.levelStats('global-default')!.nominalCL;
  const releases: (() => void)[] = [];
  const waiting: Promise<() => void>[] = [];
  const load = (count: number, user: (index: number) => { username: string; groups: string[] }) => {
    for (let index = 0; index < count; index++) {
      const admitted = control.admit(user(index), info('/api/v1/namespaces/default/configmaps/x'), new FakeResponse() as unknown as ServerResponse);
      if (typeof admitted === 'function') releases.push(admitted);
      else waiting.push(admitted);
    }
  };
  load(3 * nominal, (index) => ({ username: `user-${index % 40}`, groups: ['system:authenticated'] }));
  assert.ok(control.levelStats('global-default')!.waiting > 0, 'more than the level\'s seats were asked for');
  clock += 10_000;
  control.updateBorrowing();
  const busy = control.levelStats('global-default')!;
  assert.ok(busy.currentCL > nominal, `currentCL ${busy.currentCL} > nominal ${nominal}`);
  assert.deepEqual([busy.executing, busy.waiting], [3 * nominal, 0], 'the borrowed seats run the queued requests');
  const lender = control.levelStats('workload-low')!;
  assert.ok(lender.currentCL < lender.nominalCL && lender.currentCL >= lender.minCL, JSON.stringify(lender));

  // Now workload-low gets busy too: it takes back (at least) its nominal seats, global-default keeps its own.
  load(lender.nominalCL + 20, (index) => ({ username: `system:serviceaccount:team-${index % 40}:builder`, groups: ['system:serviceaccounts', 'system:authenticated'] }));
  clock += 10_000;
  control.updateBorrowing();
  assert.ok(control.levelStats('workload-low')!.currentCL >= lender.nominalCL);
  assert.ok(control.levelStats('global-default')!.currentCL >= nominal);

  for (const promise of waiting) void promise.then((release) => release());
  for (const release of releases) release();
  await Promise.all(waiting);
  assert.equal(control.levelStats('global-default')!.executing + control.levelStats('workload-low')!.executing, 0);
  control.stop();
});

test('a LIST of a large collection takes more seats than a GET', () => {
  const control = new FlowControl({ serverConcurrencyLimit: 600, maxQueueWaitMs: 1000, objectCount: (resource) => (resource === 'configmaps' ? 5000 : undefined), borrowingPeriodMs: 0 });
  control.configure([...MANDATORY_FLOW_SCHEMAS, ...SUGGESTED_FLOW_SCHEMAS].map(withUid), [...MANDATORY_PRIORITY_LEVELS, ...SUGGESTED_PRIORITY_LEVELS].map(withUid));
  const user = { username: 'bob', groups: ['system:authenticated'] };
  const list = control.admit(user, info('/api/v1/configmaps'), new FakeResponse() as unknown as ServerResponse) as () => void;
  // 5000 objects would be 50 seats: at most 10, and at most 15 % of the level's 49 nominal seats.
  const { maxSeats } = control.levelStats('global-default')!;
  assert.equal(maxSeats, 8);
  assert.equal(control.levelStats('global-default')!.seatsInUse, 8);
  const get = control.admit(user, info('/api/v1/namespaces/default/configmaps/x'), new FakeResponse() as unknown as ServerResponse) as () => void;
  assert.equal(control.levelStats('global-default')!.seatsInUse, 9);
  list();
  get();
  assert.equal(control.levelStats('global-default')!.seatsInUse, 0);
  control.stop();
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
  const control = new FlowControl({ serverConcurrencyLimit: 2, maxQueueWaitMs: 1000, borrowingPeriodMs: 0 });
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

test('a write seen by many open watches keeps seats a few milliseconds after it answered; a closed watch stops counting', async () => {
  const control = bootstrapped(600);
  const user = { username: 'bob', groups: ['system:authenticated'] };
  const watchers = Array.from({ length: 20 }, () => new FakeResponse());
  for (const res of watchers) (control.admit(user, parseRequestInfo('GET', '/api/v1/namespaces/default/configmaps', new URLSearchParams('watch=true')), res as unknown as ServerResponse) as () => void)();
  const write = () => control.admit(user, parseRequestInfo('POST', '/api/v1/namespaces/default/configmaps', new URLSearchParams()), new FakeResponse() as unknown as ServerResponse) as () => void;
  const release = write();
  // 20 watches: 2 seats for 2 × 5 ms / 2 after the answer.
  assert.equal(control.levelStats('global-default')!.seatsInUse, 2);
  release();
  assert.deepEqual([control.levelStats('global-default')!.executing, control.levelStats('global-default')!.seatsInUse], [0, 2]);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(control.levelStats('global-default')!.seatsInUse, 0);
  for (const res of watchers.slice(0, 15)) res.emit('close');
  write()();
  assert.equal(control.levelStats('global-default')!.seatsInUse, 0, '5 watches left: the write costs its one seat only while it runs');
  control.stop();
});

test('a removed level finishes what it admitted, then goes and its seats return to the others', () => {
  const control = new FlowControl({ serverConcurrencyLimit: 600, maxQueueWaitMs: 1000, borrowingPeriodMs: 0 });
  const level: PriorityLevelConfiguration = { metadata: { name: 'short-lived', uid: 'uid-short-lived' }, spec: { type: 'Limited', limited: { nominalConcurrencyShares: 100, limitResponse: { type: 'Reject' } } } };
  const schema: FlowSchema = { metadata: { name: 'short-lived', uid: 'uid-fs' }, spec: { priorityLevelConfiguration: { name: 'short-lived' }, matchingPrecedence: 50, rules: [{ subjects: [{ kind: 'User', user: { name: 'eve' } }], resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'], clusterScope: true }] }] } };
  control.configure([...SUGGESTED_FLOW_SCHEMAS.map(withUid), schema], [...SUGGESTED_PRIORITY_LEVELS.map(withUid), level]);
  const before = control.levelStats('global-default')!.nominalCL;
  const release = control.admit({ username: 'eve', groups: ['system:authenticated'] }, info('/api/v1/pods'), new FakeResponse() as unknown as ServerResponse) as () => void;
  control.configure(SUGGESTED_FLOW_SCHEMAS.map(withUid), SUGGESTED_PRIORITY_LEVELS.map(withUid));
  assert.equal(control.levelStats('short-lived')!.quiescing, true);
  assert.equal(control.classify({ username: 'eve', groups: ['system:authenticated'] }, info('/api/v1/pods')).priorityLevel.metadata.name, 'global-default');
  release();
  control.updateBorrowing();
  assert.equal(control.levelStats('short-lived'), undefined);
  assert.ok(control.levelStats('global-default')!.nominalCL > before);
});
