import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storageConformance } from './conformance.js';
import { recordWatch, settle } from './conformance-helpers.js';
import { CompactedError } from './interface.js';
import { MemoryStorage } from './memory.js';

storageConformance('memory', () => new MemoryStorage(), { progress: true });

describe('memory storage watch delivery', () => {
  it('a watch from a recent revision has replayed the missed events when watch() returns', async () => {
    const storage = new MemoryStorage();
    const start = await storage.currentRevision();
    await storage.create('/registry/pods/a', 'v');
    const created = await storage.create('/registry/pods/b', 'v');
    const recorded = recordWatch(storage, '/registry/', start);
    assert.deepEqual(recorded.events.map((event) => event.revision), [created.modRevision - 1, created.modRevision]);
    recorded.watcher.stop();
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
    const start = await storage.currentRevision();
    let value = await storage.create('/registry/pods/a', '0');
    for (let index = 1; index < 1500; index++) value = await storage.update('/registry/pods/a', String(index), value.modRevision);
    const recorded = recordWatch(storage, '/registry/', start);
    await storage.compact(value.modRevision);
    await settle();
    assert.ok(recorded.events.length > 0 && recorded.events.length < 1500, `${recorded.events.length} events`);
    assert.equal(recorded.errors.length, 1);
    assert.ok(recorded.errors[0] instanceof CompactedError);
    await storage.close();
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
