import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStorage } from '../storage/memory.js';
import { waitUntil } from '../storage/conformance-helpers.js';
import type { Storage } from '../storage/interface.js';
import { LEASE_STORAGE_PREFIX, LeaderElector, whileLeading } from './leader-election.js';

const FAST = { leaseDurationMs: 600, renewDeadlineMs: 400, retryPeriodMs: 50 };

function elector(storage: Storage, identity: string): LeaderElector {
  return new LeaderElector({ storage, name: 'test-controllers', identity, ...FAST });
}

async function lease(storage: Storage): Promise<{ metadata: { name: string; namespace: string }; spec: Record<string, unknown> }> {
  return JSON.parse((await storage.get(`${LEASE_STORAGE_PREFIX}kube-system/test-controllers`))!.value);
}

describe('leader election', () => {
  it('exactly one of several candidates leads, and the Lease names it', async () => {
    const storage = new MemoryStorage();
    const candidates = ['a', 'b', 'c'].map((identity) => elector(storage, identity));
    for (const candidate of candidates) candidate.start();
    await waitUntil(() => candidates.some((candidate) => candidate.isLeader), () => 'nobody leads');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const leaders = candidates.filter((candidate) => candidate.isLeader);
    assert.equal(leaders.length, 1);
    const record = await lease(storage);
    assert.equal(record.metadata.namespace, 'kube-system');
    assert.equal(record.spec.holderIdentity, leaders[0].identity);
    assert.equal(record.spec.leaseTransitions, 0);
    assert.match(String(record.spec.renewTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    await Promise.all(candidates.map((candidate) => candidate.stop()));
    await storage.close();
  });

  it('a leader that stops releases the Lease and another candidate takes over at once', async () => {
    const storage = new MemoryStorage();
    const first = elector(storage, 'first');
    first.start();
    await waitUntil(() => first.isLeader, () => 'first never led');
    const second = elector(storage, 'second');
    second.start();
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(second.isLeader, false);
    await first.stop();
    await waitUntil(() => second.isLeader, () => 'second never took over', 1000);
    assert.equal((await lease(storage)).spec.leaseTransitions, 1);
    await second.stop();
    await storage.close();
  });

  it('a leader that vanishes without releasing is replaced after the lease duration, not before', async () => {
    const storage = new MemoryStorage();
    const crashed = elector(storage, 'crashed');
    crashed.start();
    await waitUntil(() => crashed.isLeader, () => 'never led');
    // A crash: the process stops renewing without a word.
    (crashed as unknown as { stopped: boolean }).stopped = true;
    const started = Date.now();
    const successor = elector(storage, 'successor');
    successor.start();
    await waitUntil(() => successor.isLeader, () => 'no successor', 5000);
    assert.ok(Date.now() - started >= FAST.leaseDurationMs, `took over after ${Date.now() - started} ms`);
    await successor.stop();
    await storage.close();
  });

  it('a leader that cannot renew steps down after the renew deadline, and controllers stop with it', async () => {
    const storage = new MemoryStorage();
    const leader = elector(storage, 'leader');
    let running = 0;
    const controllers = whileLeading(leader, () => {
      running++;
      return () => running--;
    });
    leader.start();
    await waitUntil(() => leader.isLeader && running === 1, () => 'controllers never started');
    // Someone else's write wins every round from now on.
    const key = `${LEASE_STORAGE_PREFIX}kube-system/test-controllers`;
    const thief = setInterval(async () => {
      const current = await storage.get(key);
      if (current) await storage.update(key, current.value.replace('"holderIdentity":"leader"', '"holderIdentity":"thief"'), current.modRevision).catch(() => undefined);
    }, 5);
    await waitUntil(() => !leader.isLeader, () => 'never stepped down', 5000);
    assert.equal(running, 0);
    clearInterval(thief);
    controllers.stop();
    await leader.stop();
    await storage.close();
  });
});
