import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStorage } from './memory.js';
import { waitUntil } from './conformance-helpers.js';
import type { WatchHandlers, Watcher } from './interface.js';
import { WatchCache, type CacheEventType } from './watch-cache.js';
import { StatusError } from '../request/status.js';

/** A store whose watches the test can break, as a remote store's can be. */
class BreakableStorage extends MemoryStorage {
  last: { handlers: WatchHandlers; watcher: Watcher } | undefined;
  override watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher {
    const watcher = super.watch(prefix, fromRevision, handlers);
    this.last = { handlers, watcher };
    return watcher;
  }
}

const object = (name: string, value: string) => JSON.stringify({ metadata: { name, namespace: 'ns' }, value });
const attributes = (decoded: Record<string, unknown>) => {
  const metadata = decoded.metadata as { name: string; namespace: string };
  return { name: metadata.name, namespace: metadata.namespace, labels: undefined, fields: {} };
};

describe('watch cache after its storage watch ends', () => {
  it('relists, turns what changed meanwhile into events, and watches on', async () => {
    const storage = new BreakableStorage();
    const a = await storage.create('/registry/things/ns/a', object('a', '1'));
    await storage.create('/registry/things/ns/c', object('c', '1'));
    const cache = new WatchCache(storage, '/registry/things/', { attributes });
    await cache.start();
    const before = cache.revision;
    const seen: [CacheEventType, string][] = [];
    cache.watch({ fromRevision: before, prefix: '/registry/things/', filter: () => true, onEvent: (type, cached) => seen.push([type, cached.name]) });
    // The storage watch is lost while writes go on.
    storage.last!.watcher.stop();
    await storage.update('/registry/things/ns/a', object('a', '2'), a.modRevision);
    await storage.create('/registry/things/ns/b', object('b', '1'));
    await storage.delete('/registry/things/ns/c');
    storage.last!.handlers.onError!(new Error('watch channel closed'));
    await waitUntil(() => seen.length === 3, () => `events ${JSON.stringify(seen)}`);
    assert.deepEqual(seen, [['MODIFIED', 'a'], ['ADDED', 'b'], ['DELETED', 'c']]);
    assert.deepEqual(cache.list('/registry/things/').map((cached) => cached.name), ['a', 'b']);
    assert.equal(cache.revision, await storage.currentRevision());
    assert.throws(() => cache.watch({ fromRevision: before, prefix: '/registry/things/', filter: () => true, onEvent: () => undefined }), (error: unknown) => error instanceof StatusError && error.code === 410);
    // Watching again: later writes arrive as before.
    await storage.create('/registry/things/ns/d', object('d', '1'));
    await waitUntil(() => seen.length === 4, () => `events ${JSON.stringify(seen)}`);
    assert.deepEqual(seen[3], ['ADDED', 'd']);
    cache.stop();
    await storage.close();
  });
});
