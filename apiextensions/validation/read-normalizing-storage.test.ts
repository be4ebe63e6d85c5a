import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStorage } from '../../apiserver/storage/memory.js';
import type { StorageEvent } from '../../apiserver/storage/interface.js';
import { ReadNormalizingStorage } from './read-normalizing-storage.js';

describe('storage as a served CRD version reads it', () => {
  const normalize = (value: string) => value.replace('"old"', '"normalized"');

  it('normalizes get, list and watch under its prefix, and nothing else', async () => {
    const inner = new MemoryStorage();
    const storage = new ReadNormalizingStorage(inner, '/registry/example.com/widgets/', normalize);
    await inner.create('/registry/example.com/widgets/default/a', '{"v":"old"}');
    await inner.create('/registry/other/x', '{"v":"old"}');
    assert.equal((await storage.get('/registry/example.com/widgets/default/a'))?.value, '{"v":"normalized"}');
    assert.equal((await storage.get('/registry/other/x'))?.value, '{"v":"old"}');
    assert.deepEqual((await storage.list('/registry/')).items.map((item) => item.value), ['{"v":"normalized"}', '{"v":"old"}']);

    const events: StorageEvent[] = [];
    const watcher = storage.watch('/registry/example.com/widgets/', 0, { onEvent: (event) => events.push(event) });
    await storage.update('/registry/example.com/widgets/default/a', '{"v":"old","n":2}', (await inner.get('/registry/example.com/widgets/default/a'))!.modRevision);
    await new Promise((resolve) => setTimeout(resolve, 20));
    watcher.stop();
    assert.deepEqual(events.map((event) => [event.value, event.prevValue]), [
      ['{"v":"normalized"}', undefined],
      ['{"v":"normalized","n":2}', '{"v":"normalized"}'],
    ]);
    assert.equal((await inner.get('/registry/example.com/widgets/default/a'))?.value, '{"v":"old","n":2}', 'writes are stored as sent');
  });

  it('the storage version\'s store skips normalizing the watch event of its own fresh write, and only that', async () => {
    const inner = new MemoryStorage();
    let calls = 0;
    const counting = (value: string) => (calls++, normalize(value));
    const storage = new ReadNormalizingStorage(inner, '/registry/example.com/widgets/', counting, true);
    const events: StorageEvent[] = [];
    const watcher = storage.watch('/registry/example.com/widgets/', await inner.currentRevision(), { onEvent: (event) => events.push(event) });
    // Written by this store: its pipeline already pruned and defaulted it with this schema.
    const created = await storage.create('/registry/example.com/widgets/default/a', '{"v":"fresh"}');
    // Written by someone else (another version's store, an older server): normalized.
    await inner.update('/registry/example.com/widgets/default/a', '{"v":"old"}', created.modRevision);
    // A failed write leaves nothing behind that could vouch for a later value.
    await assert.rejects(storage.create('/registry/example.com/widgets/default/a', '{"v":"old"}'));
    await inner.create('/registry/example.com/widgets/default/b', '{"v":"old"}');
    await new Promise((resolve) => setTimeout(resolve, 20));
    watcher.stop();
    assert.deepEqual(events.map((event) => event.value), ['{"v":"fresh"}', '{"v":"normalized"}', '{"v":"normalized"}']);
    assert.equal(calls, 3, 'normalized: the two foreign values and the previous value of the update');
  });

  it('passes progress requests and the consumer\'s wish for progress through to the backend', () => {
    let requested = 0;
    let wanted: (() => boolean) | undefined;
    const inner = new MemoryStorage();
    const backend = Object.assign(Object.create(inner) as MemoryStorage, {
      requestProgress: () => requested++,
      watch: (prefix: string, from: number, handlers: { wantsProgress?: () => boolean }) => ((wanted = handlers.wantsProgress), { stop() {} }),
    });
    const storage = new ReadNormalizingStorage(backend, '/registry/example.com/widgets/', normalize);
    storage.requestProgress();
    assert.equal(requested, 1);
    storage.watch('/registry/example.com/widgets/', 0, { onEvent: () => undefined, wantsProgress: () => true });
    assert.equal(wanted?.(), true);
  });
});
