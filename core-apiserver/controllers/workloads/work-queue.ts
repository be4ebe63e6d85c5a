// A keyed work queue as kube-controller-manager's controllers use: a key queued several times while waiting
// is synced once; a key is never synced by two workers at once; a failed sync is retried with backoff.
// One worker is plenty here: every sync works on in-memory caches and a few local writes.

const MAX_BACKOFF_MS = 5_000;

export class WorkQueue {
  private readonly queued = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, NodeJS.Timeout>();
  private running = false;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly sync: (key: string) => Promise<void>,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    this.queued.add(key);
    if (!this.running) {
      this.running = true;
      setImmediate(() => void this.drain());
    }
  }

  /** Queue the key again after `ms` (e.g. when minReadySeconds will have passed). */
  addAfter(key: string, ms: number): void {
    if (this.stopped || this.delayed.has(key)) return;
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.delayed.set(key, timer);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    this.queued.clear();
  }

  private async drain(): Promise<void> {
    while (!this.stopped && this.queued.size > 0) {
      const [key] = this.queued;
      this.queued.delete(key);
      try {
        await this.sync(key);
        this.failures.delete(key);
      } catch (error) {
        const failures = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, failures);
        const delay = Math.min(MAX_BACKOFF_MS, 50 * 2 ** failures);
        if (failures > 3) console.error(`[${this.name}] syncing ${key} failed (${failures} times): ${(error as Error).message}`);
        this.addAfter(key, delay);
      }
    }
    this.running = false;
  }
}
