import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QueueSet, RejectedError } from './queue-set.js';
import type { WorkEstimate } from './work-estimate.js';
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
  assert.deepEqual([set.stats.executing, set.stats.waiting, set.stats.concurrencyLimit], [1, 1, 1]);
  (first as () => void)();
  (await second)();
  assert.equal(started, true);
  assert.deepEqual([set.stats.executing, set.stats.waiting, set.stats.seatsInUse], [0, 0, 0]);
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
  const waiting = set.acquire(1, undefined, undefined, (fn) => (cancel = fn)) as Promise<() => void>;
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
  const set = new QueueSet({ concurrencyLimit: 1, queuing: { queues: 8, handSize: 2, queueLengthLimit: 3 }, maxWaitMs: 200 });
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

const seats = (initialSeats: number, finalSeats = 0, additionalLatencyMs = 0): WorkEstimate => ({ initialSeats, finalSeats, additionalLatencyMs });

test('seats: a wide request waits until enough seats are free, and nothing jumps the queue by running at once', async () => {
  const set = new QueueSet({ concurrencyLimit: 10, queuing: { queues: 8, handSize: 2, queueLengthLimit: 10 }, maxWaitMs: 10_000 });
  const narrow = Array.from({ length: 8 }, (_, index) => set.acquire(index + 100) as () => void);
  assert.equal(set.stats.seatsInUse, 8);
  let wideStarted = false;
  const wide = (set.acquire(1, seats(4)) as Promise<() => void>).then((release) => ((wideStarted = true), release));
  const queued = set.acquire(2);
  assert.ok(queued instanceof Promise, 'with a request waiting, a new one queues even though a seat is free');
  await tick();
  assert.equal(wideStarted, false);
  narrow[0]();
  await tick();
  // The narrow request finishes earlier in virtual time, so it goes first; the wide one still does not fit.
  const narrowRelease = await queued;
  assert.equal(wideStarted, false, '8 + 4 > 10');
  narrow[1]();
  await tick();
  assert.equal(wideStarted, false, '7 + 4 > 10');
  narrow[2]();
  await tick();
  assert.equal(wideStarted, true);
  assert.equal(set.stats.seatsInUse, 10, '6 narrow + 4 wide');
  narrowRelease();
  for (const release of narrow) release();
  (await wide)();
});

test('seats: a request wider than the whole limit runs alone once the level is empty', async () => {
  const set = new QueueSet({ concurrencyLimit: 3, queuing: { queues: 4, handSize: 1, queueLengthLimit: 10 }, maxWaitMs: 10_000 });
  const first = set.acquire(1) as () => void;
  let started = false;
  const wide = (set.acquire(2, seats(10)) as Promise<() => void>).then((release) => ((started = true), release));
  await tick();
  assert.equal(started, false);
  first();
  await tick();
  assert.equal(started, true);
  assert.equal(set.stats.seatsInUse, 10);
  (await wide)();
  // A level that rejects takes a too-wide request only when idle, else turns it away.
  const rejecting = new QueueSet({ concurrencyLimit: 3, maxWaitMs: 0 });
  const release = rejecting.acquire(0, seats(5)) as () => void;
  assert.throws(() => rejecting.acquire(0), (error: unknown) => error instanceof RejectedError && error.why === 'concurrency-limit');
  release();
  assert.equal(typeof rejecting.acquire(0), 'function');
});

test('seats: final seats stay taken for the additional latency after the request answered', async () => {
  const set = new QueueSet({ concurrencyLimit: 4, maxWaitMs: 0 });
  const release = set.acquire(0, seats(1, 3, 30)) as () => void;
  assert.equal(set.stats.seatsInUse, 3);
  release();
  assert.deepEqual([set.stats.executing, set.stats.seatsInUse], [0, 3]);
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.equal(set.stats.seatsInUse, 0);
});

test('fair queuing by work: a flow of 4-seat requests gets as many seat-seconds as a flow of 1-seat requests, not as many requests', async () => {
  let clock = 0;
  const [wideFlow, narrowFlow] = disjointFlows(8, 1);
  const set = new QueueSet<string>({ concurrencyLimit: 4, queuing: { queues: 8, handSize: 1, queueLengthLimit: 200 }, maxWaitMs: 100_000 }, { now: () => clock });
  // Every request runs exactly the estimated 3 ms from its start.
  const running: { label: string; release: () => void; seats: number; endsAt: number }[] = [];
  const pending: Promise<unknown>[] = [];
  const enqueue = (flow: number, label: string, width: number) => {
    const admitted = set.acquire(flow, seats(width), label);
    const started = (release: () => void) => void running.push({ label, release, seats: width, endsAt: clock + 3 });
    if (typeof admitted === 'function') started(admitted);
    else pending.push(admitted.then(started, () => undefined));
  };
  for (let index = 0; index < 30; index++) enqueue(wideFlow, 'wide', 4);
  for (let index = 0; index < 120; index++) enqueue(narrowFlow, 'narrow', 1);
  const served: Record<string, { seats: number; requests: number }> = { wide: { seats: 0, requests: 0 }, narrow: { seats: 0, requests: 0 } };
  for (let step = 0; step < 60; step++) {
    clock = Math.min(...running.map((request) => request.endsAt));
    for (const done of running.filter((request) => request.endsAt <= clock)) {
      running.splice(running.indexOf(done), 1);
      served[done.label].seats += done.seats;
      served[done.label].requests++;
      done.release();
    }
    await tick();
  }
  // Seats served per flow are close; counted in requests, the narrow flow got about four times as many.
  assert.ok(Math.abs(served.wide.seats - served.narrow.seats) <= 8, JSON.stringify(served));
  assert.ok(served.narrow.requests >= 3 * served.wide.requests, JSON.stringify(served));
  set.reconfigure({ concurrencyLimit: 1000, queuing: { queues: 8, handSize: 1, queueLengthLimit: 100 }, maxWaitMs: 0 });
  await Promise.all(pending);
  for (const request of running) request.release();
});

test('a removed queue layout keeps its waiters until they are served', async () => {
  const set = new QueueSet({ concurrencyLimit: 1, queuing: { queues: 8, handSize: 2, queueLengthLimit: 5 }, maxWaitMs: 10_000 });
  const first = set.acquire(1) as () => void;
  const waiting = set.acquire(1) as Promise<() => void>;
  set.reconfigure({ concurrencyLimit: 1, queuing: undefined, maxWaitMs: 10_000 });
  first();
  (await waiting)();
  assert.deepEqual([set.stats.executing, set.stats.waiting], [0, 0]);
});
