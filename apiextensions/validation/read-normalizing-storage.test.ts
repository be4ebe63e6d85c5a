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
});
