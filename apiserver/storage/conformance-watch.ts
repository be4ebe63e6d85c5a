// The watch and compaction cases of the storage conformance suite (see conformance.ts).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  keysOf,
  recordWatch,
  replayState,
  settle,
  waitUntil,
  type ConformanceContext,
  type ConformanceOptions,
} from './conformance-helpers.js';
import { CompactedError, ConflictError, KeyExistsError, StorageError, type KeyValue } from './interface.js';

export function describeWatchConformance({ storage: store, key }: ConformanceContext, options: ConformanceOptions): void {
  describe('watch', () => {
    it('a watch from a revision replays exactly the later events, then streams live ones in order', async () => {
      const a = await store().create(key('pods/a'), 'a1');
      const from = a.modRevision;
      const b = await store().create(key('pods/b'), 'b1');
      const a2 = await store().update(key('pods/a'), 'a2', a.modRevision);
      const recorded = recordWatch(store(), key('pods/'), from);
      const c = await store().create(key('pods/c'), 'c1');
      const bGone = await store().delete(key('pods/b'));
      await recorded.reach(bGone.modRevision);
      assert.deepEqual(
        recorded.events.map((event) => [event.type, event.key, event.value, event.revision]),
        [
          ['PUT', key('pods/b'), 'b1', b.modRevision],
          ['PUT', key('pods/a'), 'a2', a2.modRevision],
          ['PUT', key('pods/c'), 'c1', c.modRevision],
          ['DELETE', key('pods/b'), 'b1', bGone.modRevision],
        ],
      );
      assert.deepEqual(recorded.errors, []);
      recorded.watcher.stop();
    });

    it('a watch sees only keys under its prefix', async () => {
      const start = await store().currentRevision();
      const recorded = recordWatch(store(), key('configmaps/'), start);
      await store().create(key('configmaps2/x'), 'no');
      await store().create(key('secrets/x'), 'no');
      const wanted = await store().create(key('configmaps/ns/x'), 'yes');
      await recorded.reach(wanted.modRevision);
      await settle();
      assert.deepEqual(keysOf(replayState(recorded.events)), [key('configmaps/ns/x')]);
      assert.equal(recorded.events.length, 1);
      recorded.watcher.stop();
    });

    it('events carry previous values: none on create, the replaced one on update', async () => {
      const start = await store().currentRevision();
      const recorded = recordWatch(store(), key('pods/'), start);
      const created = await store().create(key('pods/a'), 'v1');
      const updated = await store().update(key('pods/a'), 'v2', created.modRevision);
      await recorded.reach(updated.modRevision);
      const [create, update] = recorded.events;
      assert.equal(create.prevValue, undefined);
      assert.equal(create.prevRevision, undefined);
      assert.equal(create.createRevision, created.modRevision);
      assert.equal(update.prevValue, 'v1');
      assert.equal(update.prevRevision, created.modRevision);
      assert.equal(update.createRevision, created.createRevision);
      recorded.watcher.stop();
    });

    it('DELETE events carry the last value and its revision, live and replayed', async () => {
      const start = await store().currentRevision();
      const live = recordWatch(store(), key('pods/'), start);
      const created = await store().create(key('pods/a'), 'v1');
      const updated = await store().update(key('pods/a'), 'v2', created.modRevision);
      const deleted = await store().delete(key('pods/a'));
      await live.reach(deleted.modRevision);
      const replayed = recordWatch(store(), key('pods/'), start);
      await replayed.reach(deleted.modRevision);
      for (const events of [live.events, replayed.events]) {
        const event = events.at(-1)!;
        assert.equal(event.type, 'DELETE');
        assert.equal(event.value, 'v2');
        assert.equal(event.prevValue, 'v2');
        assert.equal(event.prevRevision, updated.modRevision);
        assert.equal(event.revision, deleted.modRevision);
        assert.equal(event.createRevision, created.createRevision);
      }
      assert.deepEqual(replayed.events, live.events);
      live.watcher.stop();
      replayed.watcher.stop();
    });

    it('a stopped watcher receives nothing more', async () => {
      const start = await store().currentRevision();
      const recorded = recordWatch(store(), key('pods/'), start);
      const first = await store().create(key('pods/a'), 'v1');
      await recorded.reach(first.modRevision);
      recorded.watcher.stop();
      await store().create(key('pods/b'), 'v1');
      await settle();
      assert.equal(recorded.events.length, 1);
    });

    it('concurrent writers: a watcher sees every event once, in order, and rebuilds the listed state', async () => {
      const prefix = key('counters/');
      const start = await store().currentRevision();
      const recorded = recordWatch(store(), prefix, start);
      const increment = async (target: string): Promise<void> => {
        for (;;) {
          const current = await store().get(target);
          try {
            if (!current) await store().create(target, JSON.stringify({ count: 1 }));
            else await store().update(target, JSON.stringify({ count: JSON.parse(current.value).count + 1 }), current.modRevision);
            return;
          } catch (error) {
            if (!(error instanceof KeyExistsError || error instanceof ConflictError)) throw error;
          }
        }
      };
      await Promise.all(Array.from({ length: 200 }, (_, index) => increment(`${prefix}k${index % 20}`)));
      const end = await store().currentRevision();
      await recorded.reach(end);
      const revisions = recorded.events.map((event) => event.revision);
      assert.equal(revisions.length, 200, 'one event per successful write');
      for (let index = 1; index < revisions.length; index++) assert.ok(revisions[index] > revisions[index - 1]);
      const listed = await store().list(prefix);
      assert.deepEqual(replayState(recorded.events), listed.items);
      const total = listed.items.reduce((sum, item: KeyValue) => sum + JSON.parse(item.value).count, 0);
      assert.equal(total, 200, 'no increment was lost');
      assert.deepEqual(recorded.errors, []);
      recorded.watcher.stop();
    });

    if (options.progress) {
      it('a watcher of a quiet prefix is told that the store moved on', async () => {
        const start = await store().currentRevision();
        const recorded = recordWatch(store(), key('quiet/'), start);
        const elsewhere = await store().create(key('busy/a'), 'v');
        await waitUntil(
          () => (recorded.progress.at(-1) ?? 0) >= elsewhere.modRevision,
          () => `progress ${recorded.progress.join(',')} never reached ${elsewhere.modRevision}`,
        );
        assert.deepEqual(recorded.events, []);
        recorded.watcher.stop();
      });
    }
  });
}

export function describeCompactionConformance({ storage: store, key }: ConformanceContext): void {
  describe('compaction', () => {
    it('after compact(r), reads and watches below r fail with CompactedError while r and later stay intact', async () => {
      const a1 = await store().create(key('pods/a'), 'a1');
      const b1 = await store().create(key('pods/b'), 'b1');
      const a2 = await store().update(key('pods/a'), 'a2', a1.modRevision);
      const r = a2.modRevision;
      const bGone = await store().delete(key('pods/b'));
      const c1 = await store().create(key('pods/c'), 'c1');
      await store().compact(r);
      assert.equal(await store().compactedRevision(), r);

      await assert.rejects(store().get(key('pods/a'), b1.modRevision), CompactedError);
      await assert.rejects(store().list(key('pods/'), { revision: b1.modRevision }), CompactedError);
      assert.throws(() => store().watch(key('pods/'), b1.modRevision, { onEvent: () => {} }), CompactedError);

      assert.deepEqual(await store().get(key('pods/a'), r), a2);
      assert.deepEqual(await store().get(key('pods/b'), r), b1);
      const atR = await store().list(key('pods/'), { revision: r });
      assert.deepEqual(atR.items, [a2, b1]);
      assert.deepEqual(keysOf((await store().list(key('pods/'))).items), [key('pods/a'), key('pods/c')]);

      const recorded = recordWatch(store(), key('pods/'), r);
      await recorded.reach(c1.modRevision);
      assert.deepEqual(recorded.events.map((event) => [event.type, event.key, event.value, event.prevRevision]), [
        ['DELETE', key('pods/b'), 'b1', b1.modRevision],
        ['PUT', key('pods/c'), 'c1', undefined],
      ]);
      recorded.watcher.stop();
    });

    it('compacting to a revision at or below the current compaction changes nothing', async () => {
      const a = await store().create(key('pods/a'), 'a1');
      const a2 = await store().update(key('pods/a'), 'a2', a.modRevision);
      await store().compact(a2.modRevision);
      await store().compact(a.modRevision);
      await store().compact(a2.modRevision);
      assert.equal(await store().compactedRevision(), a2.modRevision);
      assert.deepEqual(await store().get(key('pods/a'), a2.modRevision), a2);
    });

    it('compacting to a future revision fails', async () => {
      const current = await store().currentRevision();
      await assert.rejects(store().compact(current + 1000), StorageError);
    });

    it('compaction keeps old untouched values, keeps deleted keys deleted, and later events keep their previous values', async () => {
      const stable = await store().create(key('pods/stable'), 'stable');
      const doomed = await store().create(key('pods/doomed'), 'doomed');
      let churn = await store().create(key('pods/churn'), '0');
      for (let index = 1; index <= 20; index++) churn = await store().update(key('pods/churn'), String(index), churn.modRevision);
      await store().delete(key('pods/doomed'));
      const floor = await store().currentRevision();
      await store().compact(floor);
      const recorded = recordWatch(store(), key('pods/'), floor);
      const stable2 = await store().update(key('pods/stable'), 'stable2', stable.modRevision);
      const churnGone = await store().delete(key('pods/churn'));
      await recorded.reach(churnGone.modRevision);
      assert.equal(await store().get(key('pods/doomed')), undefined);
      assert.equal(await store().get(key('pods/doomed'), floor), undefined);
      assert.deepEqual((await store().list(key('pods/'), { revision: floor })).items, [churn, stable]);
      assert.deepEqual((await store().list(key('pods/'))).items, [stable2]);
      assert.ok(doomed.modRevision < floor);
      // Replayed after compaction: the previous values come from rows the compaction had to keep.
      const replayed = recordWatch(store(), key('pods/'), floor);
      await replayed.reach(churnGone.modRevision);
      for (const events of [recorded.events, replayed.events]) {
        assert.deepEqual(events.map((event) => [event.type, event.value, event.prevValue, event.prevRevision]), [
          ['PUT', 'stable2', 'stable', stable.modRevision],
          ['DELETE', '20', '20', churn.modRevision],
        ]);
      }
      recorded.watcher.stop();
      replayed.watcher.stop();
    });
  });
}
