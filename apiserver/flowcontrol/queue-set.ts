// One priority level's seats and queues (upstream's fairqueuing QueueSet, with every request one seat):
// a request runs at once while fewer than `concurrencyLimit` run; otherwise its flow's hand of queues
// (shuffle sharding) picks the shortest queue to wait in, or it is rejected when that queue is full. A
// freed seat goes to the queue whose head has the smallest virtual start (start-time fair queuing:
// each queue advances by one unit per dispatched request and an idle queue restarts at the current
// virtual time), so every busy queue gets an equal share of the level however hard one flow pushes.

import { dealHand } from './shuffle-sharding.js';
import type { QueuingConfiguration } from './types.js';

export class RejectedError extends Error {
  constructor(readonly why: 'queue-full' | 'concurrency-limit' | 'time-out' | 'cancelled') {
    super(`request rejected: ${why}`);
  }
}

interface Waiter {
  resolve: () => void;
  reject: (error: RejectedError) => void;
  timer: NodeJS.Timeout | undefined;
  queue: Queue;
}

interface Queue {
  index: number;
  waiting: Waiter[];
  executing: number;
  /** Virtual time at which this queue's next request starts. */
  virtualStart: number;
}

export interface QueueSetConfig {
  concurrencyLimit: number;
  /** Absent: the level rejects instead of queuing (limitResponse.type Reject). */
  queuing?: QueuingConfiguration;
  /** How long a request may wait in a queue before it is rejected. */
  maxWaitMs: number;
}

export class QueueSet {
  private queues: Queue[] = [];
  private executing = 0;
  private waitingCount = 0;
  private virtualTime = 0;
  private readonly hands = new Map<number, number[]>();

  constructor(private config: QueueSetConfig) {
    this.rebuildQueues();
  }

  get stats(): { executing: number; waiting: number; concurrencyLimit: number } {
    return { executing: this.executing, waiting: this.waitingCount, concurrencyLimit: this.config.concurrencyLimit };
  }

  /** New parameters take effect at once; waiting requests move to their flow's queues in the new layout. */
  reconfigure(config: QueueSetConfig): void {
    const reshape = JSON.stringify(config.queuing) !== JSON.stringify(this.config.queuing);
    this.config = config;
    if (reshape) {
      const waiting = this.queues.flatMap((queue) => queue.waiting);
      this.hands.clear();
      this.rebuildQueues();
      for (const waiter of waiting) {
        // The queue they wait in no longer exists: queue 0 of the new layout keeps them in order.
        waiter.queue = this.queues[0] ?? waiter.queue;
        waiter.queue.waiting.push(waiter);
      }
      if (this.queues.length === 0) for (const waiter of waiting) this.rejectWaiter(waiter, 'queue-full');
    }
    this.dispatch();
  }

  private rebuildQueues(): void {
    const count = this.config.queuing?.queues ?? 0;
    this.queues = Array.from({ length: count }, (_, index) => ({ index, waiting: [], executing: 0, virtualStart: this.virtualTime }));
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

  /**
   * Waits for a seat. Resolves with the release function; rejects with RejectedError when the level is
   * full and cannot queue, the chosen queue is full, the wait times out or `cancel` fires first.
   */
  acquire(flowHash: number, onCancel?: (cancel: () => void) => void): Promise<() => void> | (() => void) {
    const queuing = this.config.queuing;
    if (this.executing < this.config.concurrencyLimit && this.waitingCount === 0) return this.start(queuing ? this.shortestQueue(flowHash) : undefined);
    if (!queuing || this.queues.length === 0) throw new RejectedError('concurrency-limit');
    const queue = this.shortestQueue(flowHash);
    if (queue.waiting.length >= queuing.queueLengthLimit) throw new RejectedError('queue-full');
    return new Promise<() => void>((resolve, reject) => {
      const waiter: Waiter = { queue, timer: undefined, reject, resolve: () => resolve(this.start(waiter.queue)) };
      if (queue.waiting.length === 0) queue.virtualStart = Math.max(queue.virtualStart, this.virtualTime);
      queue.waiting.push(waiter);
      this.waitingCount++;
      waiter.timer = setTimeout(() => this.rejectWaiter(waiter, 'time-out'), this.config.maxWaitMs);
      onCancel?.(() => this.rejectWaiter(waiter, 'cancelled'));
    });
  }

  /** The queue of the hand with the fewest requests waiting and running (upstream's choice). */
  private shortestQueue(flowHash: number): Queue {
    let best: Queue | undefined;
    for (const index of this.handFor(flowHash)) {
      const queue = this.queues[index];
      if (!best || queue.waiting.length + queue.executing < best.waiting.length + best.executing) best = queue;
    }
    return best!;
  }

  private start(queue: Queue | undefined): () => void {
    this.executing++;
    if (queue) queue.executing++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.executing--;
      if (queue) queue.executing--;
      this.dispatch();
    };
  }

  private rejectWaiter(waiter: Waiter, why: RejectedError['why']): void {
    const position = waiter.queue.waiting.indexOf(waiter);
    if (position < 0) return;
    waiter.queue.waiting.splice(position, 1);
    this.waitingCount--;
    clearTimeout(waiter.timer);
    waiter.reject(new RejectedError(why));
  }

  private dispatch(): void {
    while (this.waitingCount > 0 && this.executing < this.config.concurrencyLimit) {
      let next: Queue | undefined;
      for (const queue of this.queues) if (queue.waiting.length > 0 && (!next || queue.virtualStart < next.virtualStart)) next = queue;
      if (!next) return;
      const waiter = next.waiting.shift()!;
      this.waitingCount--;
      clearTimeout(waiter.timer);
      this.virtualTime = Math.max(this.virtualTime, next.virtualStart);
      next.virtualStart += 1;
      waiter.resolve();
    }
  }
}
