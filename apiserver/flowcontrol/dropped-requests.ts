// The Retry-After of a 429 (upstream's droppedRequestsTracker): per priority level, it starts at 1 s,
// doubles (up to 32 s) when the level dropped at least 3 × Retry-After requests in the last Retry-After
// seconds, at most once per Retry-After seconds, and shrinks by one second when it dropped fewer than
// Retry-After — TCP's backoff, so that clients of an overloaded level come back more slowly.

const MAX_RETRY_AFTER = 32;

class LevelDrops {
  private history: { second: number; count: number }[] = [];
  private currentSecond = 0;
  private currentCount = 0;
  private retryAfterUpdated = 0;
  retryAfter = 1;

  record(second: number): void {
    if (second === this.currentSecond) {
      this.currentCount++;
      return;
    }
    this.remember(this.currentSecond, this.currentCount);
    this.currentSecond = second;
    this.currentCount = 1;
    // Only when a new second starts, from the seconds before it.
    this.adjust(second);
  }

  private remember(second: number, count: number): void {
    this.history.push({ second, count });
    const keep = Math.min(2 * this.retryAfter, MAX_RETRY_AFTER);
    let start = 0;
    while (start < this.history.length && second - this.history[start].second > keep) start++;
    if (start > 0) this.history = this.history.slice(start);
  }

  private adjust(now: number): void {
    let dropped = 0;
    for (let index = this.history.length - 1; index >= 0; index--) {
      const entry = this.history[index];
      if (now - entry.second > this.retryAfter) break;
      if (entry.second < now) dropped += entry.count;
    }
    if (now - this.retryAfterUpdated >= this.retryAfter && dropped >= 3 * this.retryAfter) {
      this.retryAfter = Math.min(2 * this.retryAfter, MAX_RETRY_AFTER);
      this.retryAfterUpdated = now;
      return;
    }
    if (dropped < this.retryAfter && this.retryAfter > 1) this.retryAfter--;
  }
}

export class DroppedRequests {
  private readonly levels = new Map<string, LevelDrops>();

  constructor(private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000)) {}

  /** Notes a 429 of the level and returns the Retry-After to send with it. */
  record(level: string): number {
    let drops = this.levels.get(level);
    if (!drops) {
      drops = new LevelDrops();
      this.levels.set(level, drops);
    }
    drops.record(this.nowSeconds());
    return drops.retryAfter;
  }
}
