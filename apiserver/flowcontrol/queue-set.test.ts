import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QueueSet, RejectedError } from './queue-set.js';
import { dealHand, flowHash } from './shuffle-sharding.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Two flows whose hands share no queue (found by dealing, as the set itself does). */
function disjointFlows(queues: number, handSize: number): [number, number] {
  const first = flowHash('fs', 'heavy');
  const hand = new Set(dealHand(first, queues, handSize));
  for (let index = 0; ; index++) {
    const other = flowHash('fs', `light-${index}`);
    if (dealHand(other, queues, handSize).every((card) => !hand.has(card))) return [first, other];
  }
}

test('runs at once below the limit, queues past it, and hands the freed seat on', async () => {
  const set = new QueueSet({ concurrencyLimit: 1, queuing: { queues: 4, handSize: 2, queueLengthLimit: 5 }, maxWaitMs: 10_000 });
  const first = set.acquire(1);
  assert.equal(typeof first, 'function');
  let started = false;
  const second = (set.acquire(1) as Promise<() => void>).then((release) => {
    started = true;
    return release;
  });
  await tick();
  assert.equal(started, false);
  assert.deepEqual(set.stats, { executing: 1, waiting: 1, concurrencyLimit: 1 });
  (first as () => void)();
  (await second)();
  assert.equal(started, true);
  assert.deepEqual(set.stats, { executing: 0, waiting: 0, concurrencyLimit: 1 });
});

test('a full queue rejects, a Reject level rejects past its limit, a long wait times out', async () => {
  const queued = new QueueSet({ concurrencyLimit: 1, queuing: { queues: 1, handSize: 1, queueLengthLimit: 2 }, maxWaitMs: 50 });
  queued.acquire(7);
  const waiting = [queued.acquire(7), queued.acquire(7)] as Promise<() => void>[];
  assert.throws(() => queued.acquire(7), (error: unknown) => error instanceof RejectedError && error.why === 'queue-full');
  for (const promise of waiting) await assert.rejects(promise, (error: unknown) => error instanceof RejectedError && error.why === 'time-out');
  const rejecting = new QueueSet({ concurrencyLimit: 2, maxWaitMs: 50 });
  rejecting.acquire(1);
  rejecting.acquire(2);
  assert.throws(() => rejecting.acquire(3), (error: unknown) => error instanceof RejectedError && error.why === 'concurrency-limit');
});

test('a cancelled waiter leaves its queue', async () => {
  const set = new QueueSet({ concurrencyLimit: 1, queuing: { queues: 2, handSize: 1, queueLengthLimit: 5 }, maxWaitMs: 10_000 });
  set.acquire(1);
  let cancel: () => void = () => undefined;
  const waiting = set.acquire(1, (fn) => (cancel = fn)) as Promise<() => void>;
  cancel();
  await assert.rejects(waiting, (error: unknown) => error instanceof RejectedError && error.why === 'cancelled');
  assert.equal(set.stats.waiting, 0);
});

test('fair dispatch: a light flow is served next to a heavy one, not after its backlog', async () => {
  const [heavy, light] = disjointFlows(8, 2);
  const set = new QueueSet({ concurrencyLimit: 1, queuing: { queues: 8, handSize: 2, queueLengthLimit: 50 }, maxWaitMs: 10_000 });
  const order: string[] = [];
  let release = set.acquire(heavy) as () => void;
  const pending: Promise<void>[] = [];
  const enqueue = (flow: number, label: string) =>
    pending.push(
      Promise.resolve(set.acquire(flow)).then((done) => {
        order.push(label);
        release = done;
      }),
    );
  for (let index = 0; index < 20; index++) enqueue(heavy, 'heavy');
  enqueue(light, 'light');
  enqueue(light, 'light');
  for (let served = 0; served < 22; served++) {
    release();
    await tick();
  }
  await Promise.all(pending);
  release();
  // The heavy flow's backlog is in (at most) two queues; the light flow's queue takes turns with them.
  assert.ok(order.indexOf('light') <= 2, order.join(' '));
  assert.ok(order.lastIndexOf('light') <= 5, order.join(' '));
});

test('the heavy flow cannot fill a light flow\'s queue: its hand is all it can use', () => {
  const [heavy, light] = disjointFlows(8, 2);
  const set = new QueueSet({ concurrencyLimit: 1, queuing: { queues: 8, handSize: 2, queueLengthLimit: 3 }, maxWaitMs: 10_000 });
  set.acquire(heavy);
  let rejected = 0;
  const waiting: Promise<unknown>[] = [];
  for (let index = 0; index < 20; index++) {
    try {
      waiting.push(Promise.resolve(set.acquire(heavy)).catch(() => undefined));
    } catch {
      rejected++;
    }
  }
  assert.equal(rejected, 20 - 6, 'two queues of three hold the heavy flow');
  const lightWait = set.acquire(light);
  assert.ok(lightWait instanceof Promise, 'the light flow waits instead of being rejected');
  lightWait.catch(() => undefined);
  set.reconfigure({ concurrencyLimit: 1, queuing: undefined, maxWaitMs: 0 });
});
