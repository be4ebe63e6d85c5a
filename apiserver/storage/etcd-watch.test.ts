import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Etcd3 } from 'etcd3';
import { EtcdWatchStreams } from './etcd-watch.js';
import type { StorageEvent } from './interface.js';

/** A watch stream etcd would answer on; the test plays etcd. */
class FakeStream extends EventEmitter {
  written: unknown[] = [];
  write(request: unknown): void {
    this.written.push(request);
  }
  cancel(): void {}
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

function header(revision: number) {
  return { header: { revision: String(revision) } };
}

function put(revision: number, key: string) {
  return { type: 'Put', kv: { key: Buffer.from(key), value: Buffer.from('v'), mod_revision: String(revision), create_revision: String(revision), version: '1' } };
}

test('a progress revision etcd announces ahead of undelivered events is not trusted until proven, so no event is dropped', async () => {
  const stream = new FakeStream();
  const client = { watchClient: { watch: async () => stream } } as unknown as Etcd3;
  const proofs: [number, number][] = [];
  let unchanged = false;
  const watches = new EtcdWatchStreams(client, {
    decodeKey: (key) => key.toString(),
    onCompacted: () => undefined,
    unchangedBetween: async (_key, _end, from, to) => {
      proofs.push([from, to]);
      return unchanged;
    },
  });
  const events: StorageEvent[] = [];
  const progress: number[] = [];
  watches.watch(Buffer.from('/a/'), Buffer.from('/a0'), 4, { onEvent: (event) => events.push(event), onProgress: (revision) => progress.push(revision) });
  await tick();
  stream.emit('data', { ...header(4), watch_id: '1', created: true, canceled: false, events: [] });
  // etcd 3.4.23 says "revision 10" to every watcher while this one's event at 7 is still queued.
  stream.emit('data', { ...header(10), watch_id: '-1', created: false, canceled: false, events: [] });
  await tick();
  assert.deepEqual(proofs, [[4, 10]]);
  assert.deepEqual(progress, [], 'an unproven progress revision is not passed on');
  stream.emit('data', { ...header(10), watch_id: '1', created: false, canceled: false, events: [put(7, '/a/x')] });
  assert.deepEqual(events.map((event) => event.revision), [7], 'the late event is delivered, not dropped as already seen');
  // Now nothing changed between 7 and 12: the next announcement is proven and passed on.
  unchanged = true;
  stream.emit('data', { ...header(12), watch_id: '-1', created: false, canceled: false, events: [] });
  await tick();
  assert.deepEqual(proofs.at(-1), [7, 12]);
  assert.deepEqual(progress, [12]);
  watches.close();
});

test('progress is not proven when the consumer does not want it now', async () => {
  const stream = new FakeStream();
  const client = { watchClient: { watch: async () => stream } } as unknown as Etcd3;
  let proofs = 0;
  const watches = new EtcdWatchStreams(client, { decodeKey: (key) => key.toString(), onCompacted: () => undefined, unchangedBetween: async () => (proofs++, true) });
  const progress: number[] = [];
  watches.watch(Buffer.from('/a/'), Buffer.from('/a0'), 4, { onEvent: () => undefined, onProgress: (revision) => progress.push(revision), wantsProgress: () => false });
  await tick();
  stream.emit('data', { ...header(4), watch_id: '1', created: true, canceled: false, events: [] });
  stream.emit('data', { ...header(10), watch_id: '-1', created: false, canceled: false, events: [] });
  await tick();
  assert.equal(proofs, 0);
  assert.deepEqual(progress, []);
  watches.close();
});
