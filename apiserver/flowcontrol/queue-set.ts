// One priority level's seats and queues (upstream's fairqueuing QueueSet, by work rather than by count):
// - a request occupies `seats` (the larger of its initial and final seats) while it runs, and its final
//   seats for a while after it answered (the cost of fanning its change out to watches);
// - a level that queues deals each flow a hand of queues (shuffle sharding); a request joins the queue of
//   its hand with the least waiting work, and is rejected only when every seat is taken and that queue
//   holds `queueLengthLimit` requests;
// - fair queuing by work: the progress meter R (seat-seconds per active queue) advances at
//   min(seats wanted, seats available) / active queues per second; a queue's next request is due at R =
//   its `nextDispatchR`, which grows by each dispatched request's work (seats × an estimated 3 ms, plus
//   final seats × their time) and shrinks back by what a request did not use of those 3 ms. The waiting
//   request with the earliest virtual finish goes first, once enough seats are free for it (nothing else
//   overtakes it meanwhile); a request wider than the whole limit runs alone;
// - a level that rejects instead of queuing runs a request when its seats fit, else rejects it; the exempt
//   level runs everything and only counts.

import { dealHand } from './shuffle-sharding.js';
import type { QueuingConfiguration } from './types.js';
import type { WorkEstimate } from './work-estimate.js';

export type RejectReason = 'queue-full' | 'concurrency-limit' | 'time-out' | 'cancelled';

export class RejectedError extends Error {
  constructor(readonly why: RejectReason) {
    super(`request rejected: ${why}`);
  }
}

/** Upstream's estimatedServiceDuration: the work a seat is assumed to do per request before it ends. */
const ESTIMATED_SERVICE_SECONDS = 0.003;

/** Hooks for metrics: `tag` is what the caller gave `acquire` (its flow schema). */
export interface QueueSetObserver<T> {
  queued(tag: T, requests: number, seats: number): void;
  executing(tag: T, requests: number, seats: number): void;
  dispatched(tag: T, waitedMs: number, fromQueue: boolean): void;
  rejected(tag: T, reason: RejectReason, waitedMs: number): void;
}

interface Request<T> {
  tag: T;
  estimate: WorkEstimate;
  /** max(initialSeats, finalSeats), possibly clamped at dispatch. */
  seats: number;
  totalWork: number;
  queue: Queue<T> | undefined;
  arrivalR: number;
  arrivalMs: number;
  startMs: number;
  resolve?: (release: () => void) => void;
  reject?: (error: RejectedError) => void;
  timer?: NodeJS.Timeout;
}

interface Queue<T> {
  index: number;
  waiting: Request<T>[];
  waitingSeats: number;
  waitingWork: number;
  executing: number;
  seatsInUse: number;
  nextDispatchR: number;
}

export interface QueueSetConfig {
  /** Seats this level may use now (its CurrentCL). */
  concurrencyLimit: number;
  /** Absent: the level rejects instead of queuing (limitResponse.type Reject). */
  queuing?: QueuingConfiguration;
  /** The exempt level: never holds or rejects anything, only counts. */
  exempt?: boolean;
  /** How long a request may wait in a queue before it is rejected. */
  maxWaitMs: number;
}

export interface QueueSetStats {
  executing: number;
  seatsInUse: number;
  waiting: number;
  seatsWaiting: number;
  concurrencyLimit: number;
  activeQueues: number;
  dispatched: number;
  rejected: number;
  timedOut: number;
  cancelled: number;
}

const ONE_SEAT: WorkEstimate = { initialSeats: 1, finalSeats: 0, additionalLatencyMs: 0 };

export class QueueSet<T = undefined> {
  private queues: Queue<T>[] = [];
  private readonly hands = new Map<number, number[]>();
  private executingRequests = 0;
  private seatsInUse = 0;
  private waitingRequests = 0;
  private seatsWaiting = 0;
  /** Queues with a request waiting or running, and the seats they hold or wait for. */
  private activeQueues = 0;
  private seatsRequested = 0;
  private currentR = 0;
  private lastMs: number;
  private robinIndex = -1;
  private enqueues = 0;
  private dispatched = 0;
  private rejected = 0;
  private timedOut = 0;
  private cancelled = 0;

  constructor(
    private config: QueueSetConfig,
    private readonly options: { now?: () => number; observer?: QueueSetObserver<T>; onDemand?: (seats: number, atMs: number) => void } = {},
  ) {
    this.lastMs = this.now();
    this.addQueues();
  }

  private now(): number {
    return this.options.now ? this.options.now() : performance.now();
  }

  get stats(): QueueSetStats {
    return {
      executing: this.executingRequests,
      seatsInUse: this.seatsInUse,
      waiting: this.waitingRequests,
      seatsWaiting: this.seatsWaiting,
      concurrencyLimit: this.config.concurrencyLimit,
      activeQueues: this.queues.filter((queue) => queue.waiting.length > 0).length,
      dispatched: this.dispatched,
      rejected: this.rejected,
      timedOut: this.timedOut,
      cancelled: this.cancelled,
    };
  }

  get idle(): boolean {
    return this.executingRequests === 0 && this.waitingRequests === 0;
  }

  /** New parameters take effect at once: more queues are added now, excess ones go when they empty. */
  reconfigure(config: QueueSetConfig): void {
    this.syncTime();
    const old = this.config.queuing;
    this.config = config;
    if (old?.queues !== config.queuing?.queues || old?.handSize !== config.queuing?.handSize) this.hands.clear();
    this.addQueues();
    this.trimQueues();
    this.dispatchAsMuchAsPossible();
  }

  private addQueues(): void {
    const wanted = this.config.queuing?.queues ?? 0;
    while (this.queues.length < wanted) this.queues.push({ index: this.queues.length, waiting: [], waitingSeats: 0, waitingWork: 0, executing: 0, seatsInUse: 0, nextDispatchR: 0 });
  }

  /** Queues past the configured number are dropped once nothing waits or runs in them. */
  private trimQueues(): void {
    const wanted = this.config.queuing?.queues ?? 0;
    while (this.queues.length > wanted) {
      const last = this.queues[this.queues.length - 1];
      if (last.waiting.length > 0 || last.executing > 0) return;
      this.queues.pop();
      if (this.robinIndex >= this.queues.length) this.robinIndex = this.queues.length - 1;
    }
  }

  /** Advances R by the time since the last change, at the rate the current state implies. */
  private syncTime(): void {
    const now = this.now();
    const elapsedSeconds = (now - this.lastMs) / 1000;
    this.lastMs = now;
    if (elapsedSeconds > 0 && this.activeQueues > 0) this.currentR += (Math.min(this.seatsRequested, this.config.concurrencyLimit) / this.activeQueues) * elapsedSeconds;
  }

  private noteDemand(): void {
    this.options.onDemand?.(this.seatsInUse + this.seatsWaiting, this.lastMs);
  }

  private handFor(hash: number): number[] {
    let hand = this.hands.get(hash);
    if (!hand) {
      const queuing = this.config.queuing!;
      hand = dealHand(hash, queuing.queues, Math.min(queuing.handSize, queuing.queues));
      if (this.hands.size >= 10_000) this.hands.clear();
      this.hands.set(hash, hand);
    }
    return hand;
  }

  /** The queue of the hand with the least waiting work, starting the scan at a rotating offset (upstream). */
  private chooseQueue(flowHash: number): Queue<T> {
    const hand = this.handFor(flowHash);
    const offset = this.enqueues++ % hand.length;
    let best: Queue<T> | undefined;
    for (let index = 0; index < hand.length; index++) {
      const queue = this.queues[hand[(offset + index) % hand.length]];
      if (!best || queue.waitingWork < best.waitingWork) best = queue;
    }
    return best!;
  }

  private canAccommodate(seats: number): boolean {
    if (this.config.exempt) return true;
    // Wider than the whole limit: it runs alone, once everything else has finished.
    if (seats > this.config.concurrencyLimit) return this.executingRequests === 0;
    return this.seatsInUse + seats <= this.config.concurrencyLimit;
  }

  /**
   * Waits for seats. Resolves with the release function (returned directly when the request runs at
   * once); throws or rejects with RejectedError when the level cannot take it, its queue is full, the wait
   * times out or `onCancel`'s callback fires first.
   */
  acquire(flowHash: number, estimate: WorkEstimate = ONE_SEAT, tag?: T, onCancel?: (cancel: () => void) => void): Promise<() => void> | (() => void) {
    this.syncTime();
    const seats = Math.max(estimate.initialSeats, estimate.finalSeats);
    const request: Request<T> = {
      tag: tag as T,
      estimate,
      seats,
      totalWork: (estimate.initialSeats * ESTIMATED_SERVICE_SECONDS) + (estimate.finalSeats * estimate.additionalLatencyMs) / 1000,
      queue: undefined,
      arrivalR: this.currentR,
      arrivalMs: this.lastMs,
      startMs: 0,
    };
    const queuing = this.config.queuing;
    if (this.config.exempt || !queuing || queuing.queues === 0) {
      if (!this.canAccommodate(seats)) {
        this.rejected++;
        this.options.observer?.rejected(request.tag, 'concurrency-limit', 0);
        throw new RejectedError('concurrency-limit');
      }
      return this.start(request, false);
    }
    const queue = this.chooseQueue(flowHash);
    request.queue = queue;
    if (queue.waiting.length === 0 && queue.executing === 0) queue.nextDispatchR = this.currentR;
    // Nobody waits and the seats are free: it would be dispatched the moment it was queued.
    if (this.waitingRequests === 0 && this.canAccommodate(seats)) {
      this.activate(queue, seats);
      return this.start(request, false);
    }
    if (this.seatsInUse >= this.config.concurrencyLimit && queue.waiting.length >= queuing.queueLengthLimit) {
      this.rejected++;
      this.options.observer?.rejected(request.tag, 'queue-full', 0);
      throw new RejectedError('queue-full');
    }
    const promise = new Promise<() => void>((resolve, reject) => {
      request.resolve = resolve;
      request.reject = reject;
    });
    this.activate(queue, seats);
    queue.waiting.push(request);
    queue.waitingSeats += seats;
    queue.waitingWork += request.totalWork;
    this.waitingRequests++;
    this.seatsWaiting += seats;
    this.options.observer?.queued(request.tag, 1, seats);
    this.noteDemand();
    request.timer = setTimeout(() => this.eject(request, 'time-out'), this.config.maxWaitMs);
    onCancel?.(() => this.eject(request, 'cancelled'));
    this.boundNextDispatch(queue);
    this.dispatchAsMuchAsPossible();
    return promise;
  }

  /** Counts seats a queue holds or waits for in the virtual-time rate. */
  private activate(queue: Queue<T>, seats: number): void {
    if (queue.waiting.length === 0 && queue.executing === 0) this.activeQueues++;
    this.seatsRequested += seats;
  }

  /** After a request left a queue or finished: an idle queue no longer shares R, an excess one goes. */
  private deactivateIfIdle(queue: Queue<T>): void {
    if (queue.waiting.length > 0 || queue.executing > 0) return;
    this.activeQueues--;
    if (queue.index >= (this.config.queuing?.queues ?? 0)) this.trimQueues();
  }

  /** The caller has just synced the time. */
  private start(request: Request<T>, fromQueue: boolean): () => void {
    request.startMs = this.lastMs;
    this.executingRequests++;
    this.seatsInUse += request.seats;
    this.dispatched++;
    const queue = request.queue;
    if (queue) {
      queue.executing++;
      queue.seatsInUse += request.seats;
      queue.nextDispatchR += request.totalWork;
    }
    this.options.observer?.executing(request.tag, 1, request.seats);
    this.options.observer?.dispatched(request.tag, request.startMs - request.arrivalMs, fromQueue);
    this.noteDemand();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.finish(request);
    };
  }

  private finish(request: Request<T>): void {
    this.syncTime();
    this.executingRequests--;
    this.options.observer?.executing(request.tag, -1, 0);
    const queue = request.queue;
    if (queue) {
      queue.executing--;
      // The request was charged the estimated service time up front; give back what it did not use (or
      // charge what it used beyond it).
      const servedSeconds = (this.lastMs - request.startMs) / 1000;
      queue.nextDispatchR -= request.estimate.initialSeats * (ESTIMATED_SERVICE_SECONDS - servedSeconds);
      this.boundNextDispatch(queue);
      this.deactivateIfIdle(queue);
    }
    if (request.estimate.additionalLatencyMs > 0 && request.estimate.finalSeats > 0) {
      // Its final seats stay taken a while after the answer, without delaying the answer.
      setTimeout(() => {
        this.syncTime();
        this.releaseSeats(request);
        this.dispatchAsMuchAsPossible();
      }, request.estimate.additionalLatencyMs).unref();
    } else {
      this.releaseSeats(request);
    }
    this.dispatchAsMuchAsPossible();
  }

  private releaseSeats(request: Request<T>): void {
    this.seatsInUse -= request.seats;
    this.options.observer?.executing(request.tag, 0, -request.seats);
    const queue = request.queue;
    if (queue) {
      queue.seatsInUse -= request.seats;
      this.seatsRequested -= request.seats;
    }
    this.noteDemand();
  }

  /** Removes a waiting request (timed out or its client went away). */
  private eject(request: Request<T>, why: 'time-out' | 'cancelled'): void {
    const queue = request.queue!;
    const position = queue.waiting.indexOf(request);
    if (position < 0) return;
    this.syncTime();
    this.unqueue(queue, position);
    this.seatsRequested -= request.seats;
    this.deactivateIfIdle(queue);
    this.rejected++;
    if (why === 'time-out') this.timedOut++;
    else this.cancelled++;
    this.options.observer?.rejected(request.tag, why, this.lastMs - request.arrivalMs);
    this.noteDemand();
    this.boundNextDispatch(queue);
    request.reject!(new RejectedError(why));
    this.dispatchAsMuchAsPossible();
  }

  private unqueue(queue: Queue<T>, position: number): Request<T> {
    const [request] = queue.waiting.splice(position, 1);
    clearTimeout(request.timer);
    queue.waitingSeats -= request.seats;
    queue.waitingWork -= request.totalWork;
    this.waitingRequests--;
    this.seatsWaiting -= request.seats;
    this.options.observer?.queued(request.tag, -1, -request.seats);
    return request;
  }

  /** Upstream's anti-windup: a queue is never due before its oldest request arrived. */
  private boundNextDispatch(queue: Queue<T>): void {
    const head = queue.waiting[0];
    if (head && queue.nextDispatchR < head.arrivalR) queue.nextDispatchR = head.arrivalR;
  }

  private dispatchAsMuchAsPossible(): void {
    while (this.waitingRequests > 0 && this.seatsInUse < this.config.concurrencyLimit && this.dispatchOne());
  }

  /** Dispatches the head of the queue with the earliest virtual finish, if its seats are free. */
  private dispatchOne(): boolean {
    const count = this.queues.length;
    let best: Queue<T> | undefined;
    let bestFinish = Infinity;
    let bestIndex = this.robinIndex;
    for (let step = 1; step <= count; step++) {
      const index = (this.robinIndex + step) % count;
      const queue = this.queues[index];
      const head = queue.waiting[0];
      if (!head) continue;
      const finish = queue.nextDispatchR + head.totalWork;
      if (finish < bestFinish) {
        bestFinish = finish;
        best = queue;
        bestIndex = index;
      }
    }
    if (!best) return false;
    const head = best.waiting[0];
    if (!this.canAccommodate(head.seats)) return false;
    this.unqueue(best, 0);
    // Final seats wider than the whole limit are narrowed and held longer: the same work.
    const limit = this.config.concurrencyLimit;
    if (head.estimate.finalSeats > limit && limit > 0) {
      const finalWork = head.estimate.finalSeats * head.estimate.additionalLatencyMs;
      head.estimate = { ...head.estimate, finalSeats: limit, additionalLatencyMs: finalWork / limit };
      const seats = Math.max(head.estimate.initialSeats, limit);
      this.seatsRequested += seats - head.seats;
      head.seats = seats;
    }
    this.robinIndex = bestIndex;
    const release = this.start(head, true);
    this.boundNextDispatch(best);
    head.resolve!(release);
    return true;
  }
}
