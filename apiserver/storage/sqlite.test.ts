import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { storageConformance } from './conformance.js';
import { keysOf, recordWatch, settle } from './conformance-helpers.js';
import { CompactedError, KeyExistsError, type KeyValue } from './interface.js';
import { SqliteStorage } from './sqlite.js';

const directory = mkdtempSync(join(tmpdir(), 'sqlite-storage-test-'));
after(() => rmSync(directory, { recursive: true, force: true }));
let files = 0;
const freshFile = () => join(directory, `store-${++files}.db`);

storageConformance('sqlite (file)', () => new SqliteStorage(freshFile()), { progress: true });
storageConformance('sqlite (:memory:)', () => new SqliteStorage(':memory:'), { progress: true });
// Tiny steps, so lists, replays and compaction all cross many chunk boundaries.
storageConformance('sqlite (tiny chunks)', () => new SqliteStorage(':memory:', { compactBatch: 2, scanChunk: 2, maxBatch: 3 }));

describe('sqlite storage', () => {
  it('data survives close and reopen, and revisions continue after the last one', async () => {
    const path = freshFile();
    const first = new SqliteStorage(path);
    const a = await first.create('/registry/pods/a', 'a1');
    const a2 = await first.update('/registry/pods/a', 'a2', a.modRevision);
    await first.create('/registry/pods/b', 'b1');
    const gone = await first.delete('/registry/pods/b');
    await first.compact(a2.modRevision);
    await first.close();

    const second = new SqliteStorage(path);
    assert.equal(await second.currentRevision(), gone.modRevision);
    assert.equal(await second.compactedRevision(), a2.modRevision);
    assert.deepEqual(await second.get('/registry/pods/a'), a2);
    assert.equal(await second.get('/registry/pods/b'), undefined);
    const next = await second.create('/registry/pods/c', 'c1');
    assert.equal(next.modRevision, gone.modRevision + 1);
    await second.close();
  });

  it('an acknowledged write survives the process being killed', async () => {
    const path = freshFile();
    const storageModule = new URL('./sqlite.js', import.meta.url).href;
    const script = `
      const { SqliteStorage } = await import(${JSON.stringify(storageModule)});
      const storage = new SqliteStorage(${JSON.stringify(path)});
      for (let index = 0; ; index++) {
        const written = await storage.create('/registry/pods/p' + index, 'v' + index);
        process.stdout.write(written.modRevision + '\\n');
      }`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acknowledged = 0;
    await new Promise<void>((resolve, reject) => {
      let buffered = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) acknowledged = Math.max(acknowledged, Number(line));
        if (acknowledged >= 40 && child.exitCode === null) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    await new Promise((resolve) => child.once('exit', resolve));
    const reopened = new SqliteStorage(path);
    assert.ok((await reopened.currentRevision()) >= acknowledged);
    assert.ok((await reopened.count('/registry/pods/')) >= acknowledged - 1);
    assert.equal((await reopened.get('/registry/pods/p0'))?.value, 'v0');
    await reopened.close();
  });

  it('writes issued together commit in one transaction', async () => {
    const storage = new SqliteStorage(':memory:');
    const before = storage.stats.transactions;
    const written = await Promise.all(Array.from({ length: 50 }, (_, index) => storage.create(`/registry/pods/p${index}`, 'v')));
    assert.equal(storage.stats.transactions - before, 1);
    assert.deepEqual(
      written.map((keyValue) => keyValue.modRevision),
      Array.from({ length: 50 }, (_, index) => written[0].modRevision + index),
    );
    await storage.close();
  });

  it('each write in a batch keeps its own checks and sees the earlier writes of the batch', async () => {
    const storage = new SqliteStorage(':memory:');
    const base = await storage.create('/registry/pods/base', 'v1');
    const results = await Promise.allSettled([
      storage.create('/registry/pods/a', 'first'),
      storage.create('/registry/pods/a', 'second'),
      storage.update('/registry/pods/base', 'v2', base.modRevision),
      storage.update('/registry/pods/base', 'v3', base.modRevision),
      storage.update('/registry/pods/base', 'v4', base.modRevision + 2),
    ]);
    assert.deepEqual(
      results.map((result) => result.status),
      ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled'],
    );
    assert.ok((results[1] as PromiseRejectedResult).reason instanceof KeyExistsError);
    assert.equal((await storage.get('/registry/pods/a'))?.value, 'first');
    assert.equal((await storage.get('/registry/pods/base'))?.value, 'v4');
    assert.equal(storage.stats.transactions, 2);
    await storage.close();
  });

  it('a write that breaks unexpectedly fails alone, without a gap in revisions', async () => {
    const storage = new SqliteStorage(':memory:');
    const start = await storage.currentRevision();
    const recorded = recordWatch(storage, '/registry/', start);
    const results = await Promise.allSettled([
      storage.create('/registry/pods/a', 'a'),
      storage.create('/registry/pods/bad', { not: 'a string' } as unknown as string),
      storage.create('/registry/pods/c', 'c'),
    ]);
    assert.deepEqual(results.map((result) => result.status), ['fulfilled', 'rejected', 'fulfilled']);
    const [a, , c] = results.map((result) => (result.status === 'fulfilled' ? result.value : undefined));
    assert.deepEqual([a!.modRevision, c!.modRevision], [start + 1, start + 2]);
    await recorded.reach(start + 2);
    assert.deepEqual(keysOf((await storage.list('/registry/')).items), ['/registry/pods/a', '/registry/pods/c']);
    assert.deepEqual(recorded.events.map((event) => event.revision), [start + 1, start + 2]);
    await storage.close();
  });

  it('compaction removes superseded values and old deletions, and keeps what later reads need', async () => {
    const storage = new SqliteStorage(':memory:', { compactBatch: 3 });
    let churn: KeyValue = await storage.create('/registry/pods/churn', '0');
    for (let index = 1; index <= 30; index++) churn = await storage.update('/registry/pods/churn', String(index), churn.modRevision);
    const stable = await storage.create('/registry/pods/stable', 's');
    await storage.create('/registry/pods/gone', 'g');
    await storage.delete('/registry/pods/gone');
    assert.equal(storage.logRowCount(), 34);
    await storage.compact(await storage.currentRevision());
    // The deletion at the compacted revision itself stays until a later compaction passes it.
    assert.equal(storage.logRowCount(), 3);
    assert.equal(storage.stats.compactedRows, 31);
    const later = await storage.update('/registry/pods/stable', 's2', stable.modRevision);
    await storage.compact(later.modRevision);
    assert.equal(storage.logRowCount(), 2);
    assert.deepEqual((await storage.list('/registry/pods/')).items.map((item) => item.value), ['30', 's2']);
    assert.deepEqual(await storage.get('/registry/pods/churn'), churn);
    await storage.close();
  });

  it('a watch whose replay is overtaken by compaction fails with CompactedError', async () => {
    const storage = new SqliteStorage(':memory:', { scanChunk: 2 });
    const start = await storage.currentRevision();
    let value = await storage.create('/registry/pods/a', '0');
    for (let index = 1; index < 10; index++) value = await storage.update('/registry/pods/a', String(index), value.modRevision);
    const recorded = recordWatch(storage, '/registry/', start);
    await storage.compact(value.modRevision);
    await settle();
    assert.deepEqual(recorded.events.map((event) => event.value), ['0', '1']);
    assert.equal(recorded.errors.length, 1);
    assert.ok(recorded.errors[0] instanceof CompactedError);
    await storage.close();
  });

  it('compactions interleave with writes without losing either', async () => {
    const storage = new SqliteStorage(':memory:', { compactBatch: 2 });
    const writes: Promise<KeyValue>[] = [];
    for (let index = 0; index < 40; index++) writes.push(storage.create(`/registry/pods/p${index}`, 'v'));
    await Promise.all(writes);
    const compaction = storage.compact(await storage.currentRevision());
    const during = await Promise.all([storage.delete('/registry/pods/p0'), storage.create('/registry/pods/new', 'v')]);
    await compaction;
    assert.equal(await storage.count('/registry/pods/'), 40);
    assert.equal(await storage.get('/registry/pods/p0'), undefined);
    assert.ok(during[1].modRevision > during[0].modRevision);
    await storage.close();
  });

  it('writes pending when the store closes are committed first', async () => {
    const path = freshFile();
    const storage = new SqliteStorage(path);
    const pending = storage.create('/registry/pods/a', 'v');
    await storage.close();
    await pending;
    await assert.rejects(storage.create('/registry/pods/b', 'v'));
    const reopened = new SqliteStorage(path);
    assert.equal((await reopened.get('/registry/pods/a'))?.value, 'v');
    await reopened.close();
  });
});
