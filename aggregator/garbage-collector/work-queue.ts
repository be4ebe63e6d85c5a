// A deduplicating work queue with a fixed number of concurrent workers (client-go's workqueue, minimal):
// an item added while queued is queued once; added while being worked on, it is worked on again after;
// a failed item comes back after an exponential backoff of its own.

const BASE_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 30_000;

export type WorkResult = 'done' | 'retry';

export class WorkQueue<T> {
  private readonly pending = new Set<T>();
  private readonly active = new Set<T>();
  private readonly again = new Set<T>();
  private readonly failures = new Map<T, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private paused = false;

  constructor(
    private readonly handler: (item: T) => Promise<WorkResult>,
    private readonly concurrency: number,
    private readonly onError: (item: T, error: Error) => void = () => undefined,
  ) {}

  get length(): number {
    return this.pending.size + this.active.size;
  }

  add(item: T): void {
    if (this.stopped) return;
    if (this.active.has(item)) this.again.add(item);
    else this.pending.add(item);
    this.pump();
  }

  /** Holds the workers (e.g. until the caches they rely on are synced); added items wait. */
  pause(paused: boolean): void {
    this.paused = paused;
    this.pump();
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.pending.clear();
  }

  private retryLater(item: T): void {
    const failures = (this.failures.get(item) ?? 0) + 1;
    this.failures.set(item, failures);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.add(item);
    }, Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (failures - 1)));
    timer.unref();
    this.timers.add(timer);
  }

  private pump(): void {
    while (!this.stopped && !this.paused && this.active.size < this.concurrency && this.pending.size > 0) {
      const item = this.pending.values().next().value as T;
      this.pending.delete(item);
      this.active.add(item);
      void this.handler(item)
        .then(
          (result) => {
            if (result === 'retry') this.retryLater(item);
            else this.failures.delete(item);
          },
          (error: Error) => {
            this.onError(item, error);
            this.retryLater(item);
          },
        )
        .finally(() => {
          this.active.delete(item);
          if (this.again.delete(item)) this.pending.add(item);
          this.pump();
        });
    }
  }
}
