// The behaviour every storage backend must show, as node:test cases. A backend's test file calls
// storageConformance('sqlite', () => new SqliteStorage(':memory:')). Each case gets a fresh store
// from makeStorage and closes it afterwards; keys live under a prefix unique to the case, so a
// backend whose stores share a server (etcd) still passes as long as nothing else writes to it.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { keysOf, recordWatch, type ConformanceContext, type ConformanceOptions } from './conformance-helpers.js';
import { describeCompactionConformance, describeWatchConformance } from './conformance-watch.js';
import { ConflictError, KeyExistsError, NotFoundError, StorageError, type Storage } from './interface.js';

export type { ConformanceOptions } from './conformance-helpers.js';

let suiteRun = 0;

export function storageConformance(
  name: string,
  makeStorage: () => Promise<Storage> | Storage,
  options: ConformanceOptions = {},
): void {
  describe(`${name} storage conformance`, () => {
    let storage: Storage;
    let root: string;
    const key = (path: string) => root + path;
    const context: ConformanceContext = { storage: () => storage, key };

    beforeEach(async () => {
      storage = await makeStorage();
      root = `/registry/conformance-${process.pid}-${++suiteRun}/`;
    });
    afterEach(async () => {
      await storage.close();
    });

    describe('create, get, list and count', () => {
      it('create returns the stored value with createRevision equal to modRevision', async () => {
        const created = await storage.create(key('pods/a'), '{"a":1}');
        assert.equal(created.key, key('pods/a'));
        assert.equal(created.value, '{"a":1}');
        assert.equal(created.createRevision, created.modRevision);
        assert.deepEqual(await storage.get(key('pods/a')), created);
      });

      it('get of a missing key returns undefined', async () => {
        assert.equal(await storage.get(key('pods/missing')), undefined);
      });

      it('create of an existing key fails with KeyExistsError and leaves the value alone', async () => {
        const created = await storage.create(key('pods/a'), 'first');
        const revision = await storage.currentRevision();
        await assert.rejects(storage.create(key('pods/a'), 'second'), (error: unknown) => {
          assert.ok(error instanceof KeyExistsError);
          assert.equal(error.key, key('pods/a'));
          return true;
        });
        assert.deepEqual(await storage.get(key('pods/a')), created);
        assert.equal(await storage.currentRevision(), revision, 'a failed write consumes no revision');
      });

      it('list returns the keys under a prefix in ascending order, and count agrees', async () => {
        for (const name of ['c', 'a', 'e', 'b', 'd']) await storage.create(key(`pods/ns/${name}`), name);
        const listed = await storage.list(key('pods/'));
        assert.deepEqual(keysOf(listed.items), ['a', 'b', 'c', 'd', 'e'].map((name) => key(`pods/ns/${name}`)));
        assert.deepEqual(listed.items.map((item) => item.value), ['a', 'b', 'c', 'd', 'e']);
        assert.equal(listed.more, false);
        assert.equal(listed.revision, await storage.currentRevision());
        assert.equal(await storage.count(key('pods/')), 5);
        assert.equal(await storage.count(key('services/')), 0);
      });

      it('a prefix ending in / does not match keys that merely start with the same characters', async () => {
        await storage.create(key('configmaps/default/a'), 'a');
        await storage.create(key('configmaps2/default/b'), 'b');
        await storage.create(key('configmaps/'), 'bare');
        const listed = await storage.list(key('configmaps/'));
        assert.deepEqual(keysOf(listed.items), [key('configmaps/'), key('configmaps/default/a')]);
        assert.equal(await storage.count(key('configmaps/')), 2);
        assert.equal(await storage.count(key('configmaps2/')), 1);
      });

      it('values round-trip exactly, including non-ASCII text and large values', async () => {
        const text = '{"name":"ünïcødé ✓ 🚀","nul":"\\u0000"}';
        const large = JSON.stringify({ data: 'x'.repeat(300_000) });
        await storage.create(key('secrets/text'), text);
        await storage.create(key('secrets/large'), large);
        assert.equal((await storage.get(key('secrets/text')))?.value, text);
        assert.equal((await storage.get(key('secrets/large')))?.value, large);
      });
    });

    describe('update and delete', () => {
      it('update with the current modRevision succeeds and keeps createRevision', async () => {
        const created = await storage.create(key('pods/a'), 'v1');
        const updated = await storage.update(key('pods/a'), 'v2', created.modRevision);
        assert.equal(updated.value, 'v2');
        assert.equal(updated.createRevision, created.createRevision);
        assert.ok(updated.modRevision > created.modRevision);
        assert.deepEqual(await storage.get(key('pods/a')), updated);
      });

      it('update with a stale modRevision fails with ConflictError carrying the current value', async () => {
        const created = await storage.create(key('pods/a'), 'v1');
        const updated = await storage.update(key('pods/a'), 'v2', created.modRevision);
        await assert.rejects(storage.update(key('pods/a'), 'v3', created.modRevision), (error: unknown) => {
          assert.ok(error instanceof ConflictError);
          assert.equal(error.key, key('pods/a'));
          assert.deepEqual(error.current, updated);
          return true;
        });
        assert.equal((await storage.get(key('pods/a')))?.value, 'v2');
      });

      it('update or delete of a missing key fails with NotFoundError', async () => {
        await assert.rejects(storage.update(key('pods/none'), 'v', 1), NotFoundError);
        await assert.rejects(storage.delete(key('pods/none')), NotFoundError);
        await assert.rejects(storage.delete(key('pods/none'), 1), NotFoundError);
      });

      it('delete without an expected revision returns the last value at the deletion revision', async () => {
        const created = await storage.create(key('pods/a'), 'v1');
        const deleted = await storage.delete(key('pods/a'));
        assert.equal(deleted.key, key('pods/a'));
        assert.equal(deleted.value, 'v1');
        assert.equal(deleted.createRevision, created.createRevision);
        assert.ok(deleted.modRevision > created.modRevision);
        assert.equal(await storage.currentRevision(), deleted.modRevision);
        assert.equal(await storage.get(key('pods/a')), undefined);
        assert.equal(await storage.count(key('pods/')), 0);
      });

      it('delete with a stale expected revision fails with ConflictError and keeps the key', async () => {
        const created = await storage.create(key('pods/a'), 'v1');
        const updated = await storage.update(key('pods/a'), 'v2', created.modRevision);
        await assert.rejects(storage.delete(key('pods/a'), created.modRevision), (error: unknown) => {
          assert.ok(error instanceof ConflictError);
          assert.deepEqual(error.current, updated);
          return true;
        });
        assert.deepEqual(await storage.get(key('pods/a')), updated);
      });

      it('delete with the current expected revision succeeds', async () => {
        const created = await storage.create(key('pods/a'), 'v1');
        const deleted = await storage.delete(key('pods/a'), created.modRevision);
        assert.equal(deleted.value, 'v1');
        assert.equal(await storage.get(key('pods/a')), undefined);
      });

      it('a deleted key can be created again, with a new createRevision', async () => {
        const first = await storage.create(key('pods/a'), 'v1');
        await storage.delete(key('pods/a'));
        const second = await storage.create(key('pods/a'), 'v2');
        assert.ok(second.createRevision > first.createRevision);
        assert.equal(second.createRevision, second.modRevision);
      });
    });

    describe('revisions', () => {
      it('revisions strictly increase across keys and are the modRevisions of the writes', async () => {
        let previous = await storage.currentRevision();
        const a = await storage.create(key('pods/a'), '1');
        const b = await storage.create(key('services/b'), '1');
        const a2 = await storage.update(key('pods/a'), '2', a.modRevision);
        const b2 = await storage.delete(key('services/b'));
        const c = await storage.create(key('pods/c'), '1');
        for (const written of [a, b, a2, b2, c]) {
          assert.ok(written.modRevision > previous, `${written.modRevision} > ${previous}`);
          previous = written.modRevision;
        }
        assert.equal(await storage.currentRevision(), c.modRevision);
        assert.equal((await storage.get(key('pods/a')))?.modRevision, a2.modRevision);
      });

      it('the revision of an untouched store can be listed and watched from', async () => {
        const start = await storage.currentRevision();
        assert.ok(Number.isInteger(start) && start > 0, `current revision ${start}`);
        const listed = await storage.list(key('pods/'), { revision: start });
        assert.deepEqual(listed.items, []);
        assert.equal(listed.revision, start);
        const recorded = recordWatch(storage, key('pods/'), start);
        const created = await storage.create(key('pods/a'), 'v');
        await recorded.reach(created.modRevision);
        assert.deepEqual(recorded.events.map((event) => event.revision), [created.modRevision]);
        recorded.watcher.stop();
      });

      it('a read at a future revision fails', async () => {
        const current = await storage.currentRevision();
        await assert.rejects(storage.get(key('pods/a'), current + 1000), StorageError);
        await assert.rejects(storage.list(key('pods/'), { revision: current + 1000 }), StorageError);
      });
    });

    describe('paged and historical reads', () => {
      it('limit and after page through the keys, with more set until the last page', async () => {
        const names = Array.from({ length: 7 }, (_, index) => `pods/ns/p${index}`);
        for (const name of names) await storage.create(key(name), name);
        const pages: string[][] = [];
        let after: string | undefined;
        let revision: number | undefined;
        for (;;) {
          const page = await storage.list(key('pods/'), { limit: 3, after, revision });
          revision = page.revision;
          pages.push(keysOf(page.items));
          if (!page.more) break;
          after = page.items.at(-1)!.key;
        }
        assert.deepEqual(pages, [names.slice(0, 3), names.slice(3, 6), names.slice(6)].map((page) => page.map(key)));
        const exact = await storage.list(key('pods/'), { limit: 7 });
        assert.equal(exact.more, false);
      });

      it('pages read at the first page revision show one snapshot while writes continue', async () => {
        for (const name of ['a', 'b', 'c', 'd']) await storage.create(key(`pods/${name}`), name);
        const first = await storage.list(key('pods/'), { limit: 2 });
        const b = await storage.get(key('pods/b'));
        await storage.delete(key('pods/c'));
        await storage.create(key('pods/bb'), 'bb');
        await storage.update(key('pods/d'), 'd2', (await storage.get(key('pods/d')))!.modRevision);
        await storage.update(key('pods/b'), 'b2', b!.modRevision);
        const second = await storage.list(key('pods/'), { limit: 2, after: first.items.at(-1)!.key, revision: first.revision });
        assert.equal(second.revision, first.revision);
        assert.deepEqual(keysOf(second.items), [key('pods/c'), key('pods/d')]);
        assert.deepEqual(second.items.map((item) => item.value), ['c', 'd']);
        assert.equal(second.more, false);
      });

      it('list at an older revision returns the state as of that revision', async () => {
        const a = await storage.create(key('pods/a'), 'a1');
        await storage.create(key('pods/b'), 'b1');
        const before = await storage.currentRevision();
        await storage.update(key('pods/a'), 'a2', a.modRevision);
        await storage.delete(key('pods/b'));
        await storage.create(key('pods/c'), 'c1');
        const old = await storage.list(key('pods/'), { revision: before });
        assert.equal(old.revision, before);
        assert.deepEqual(old.items.map((item) => [item.key, item.value]), [
          [key('pods/a'), 'a1'],
          [key('pods/b'), 'b1'],
        ]);
        assert.equal(old.items[0].modRevision, a.modRevision);
        const now = await storage.list(key('pods/'));
        assert.deepEqual(now.items.map((item) => item.value), ['a2', 'c1']);
      });

      it('get at an older revision returns the value as of that revision', async () => {
        const v1 = await storage.create(key('pods/a'), 'v1');
        const v2 = await storage.update(key('pods/a'), 'v2', v1.modRevision);
        const deleted = await storage.delete(key('pods/a'));
        const v3 = await storage.create(key('pods/a'), 'v3');
        assert.equal(await storage.get(key('pods/a'), v1.modRevision - 1), undefined);
        assert.deepEqual(await storage.get(key('pods/a'), v1.modRevision), v1);
        assert.deepEqual(await storage.get(key('pods/a'), v2.modRevision), v2);
        assert.equal(await storage.get(key('pods/a'), deleted.modRevision), undefined);
        assert.deepEqual(await storage.get(key('pods/a'), v3.modRevision), v3);
      });
    });

    describeWatchConformance(context, options);
    describeCompactionConformance(context);
  });
}
