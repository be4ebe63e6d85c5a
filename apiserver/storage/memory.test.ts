import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storageConformance } from './conformance.js';
import { recordWatch, settle } from './conformance-helpers.js';
import { CompactedError } from './interface.js';
import { MemoryStorage } from './memory.js';

storageConformance('memory', () => new MemoryStorage(), { progress: true });

describe('memory storage watch delivery', () => {
  it('a replaying watch calls back only after watch() has returned', async () => {
    const storage = new MemoryStorage();
    const created = await storage.create('/registry/pods/a', 'v');
    let returned = false;
    let calledBeforeReturn = false;
    const watcher = storage.watch('/registry/', 0, {
      onEvent: () => {
        calledBeforeReturn ||= !returned;
      },
    });
    returned = true;
    await settle();
    assert.equal(calledBeforeReturn, false);
    watcher.stop();
    assert.ok(created.modRevision > 0);
    await storage.close();
  });

  it('a watcher whose handler throws is stopped and told why, and the store keeps serving others', async () => {
    const storage = new MemoryStorage();
    const errors: Error[] = [];
    let calls = 0;
    storage.watch('/registry/', await storage.currentRevision(), {
      onEvent: () => {
        calls++;
        throw new Error('consumer broke');
      },
      onError: (error) => errors.push(error),
    });
    const healthy = recordWatch(storage, '/registry/', await storage.currentRevision());
    await storage.create('/registry/pods/a', 'v');
    const second = await storage.create('/registry/pods/b', 'v');
    await healthy.reach(second.modRevision);
    assert.equal(calls, 1);
    assert.deepEqual(errors.map((error) => error.message), ['consumer broke']);
    assert.equal(healthy.events.length, 2);
    await storage.close();
  });

  it('a watch whose replay is overtaken by compaction fails with CompactedError', async () => {
    const storage = new MemoryStorage();
    const first = await storage.create('/registry/pods/a', 'v1');
    const second = await storage.update('/registry/pods/a', 'v2', first.modRevision);
    const recorded = recordWatch(storage, '/registry/', first.modRevision - 1);
    await storage.compact(second.modRevision);
    await settle();
    assert.equal(recorded.events.length, 0);
    assert.equal(recorded.errors.length, 1);
    assert.ok(recorded.errors[0] instanceof CompactedError);
  });

  it('closing the store ends its watches with an error', async () => {
    const storage = new MemoryStorage();
    const recorded = recordWatch(storage, '/registry/', await storage.currentRevision());
    await storage.close();
    assert.equal(recorded.errors.length, 1);
    await assert.rejects(storage.get('/registry/pods/a'));
  });

  it('list reports how many keys remain after a page', async () => {
    const storage = new MemoryStorage();
    for (const name of ['a', 'b', 'c', 'd']) await storage.create(`/registry/pods/${name}`, name);
    const page = await storage.list('/registry/pods/', { limit: 1 });
    assert.equal(page.remaining, 3);
    await storage.close();
  });
});
