// Delivers a store's committed events to its in-process watchers. Shared by the backends that own
// their log (memory, SQLite): a watcher first replays the log from its revision in bounded steps,
// buffering live events meanwhile, then switches to live delivery, so no event is lost or repeated.
// Live events are delivered synchronously by publish(), which the backend calls right after commit.

import { CompactedError, type StorageEvent, type WatchHandlers, type Watcher } from './interface.js';

/** What a backend exposes so the fanout can replay history; every call is synchronous. */
export interface EventLog {
  currentRevision(): number;
  compactedRevision(): number;
  /**
   * Events on keys with `prefix` whose revision is in (afterRevision, throughRevision], in revision
   * order. May stop early to bound the work of one call: `scannedThrough` says how far it got.
   */
  readEvents(prefix: string, afterRevision: number, throughRevision: number): { events: StorageEvent[]; scannedThrough: number };
}

class ActiveWatch implements Watcher {
  /** Revision up to which this watcher is known to be complete: events at or below it are not sent again. */
  position: number;
  /** Live events that arrived while the log was still being replayed; undefined once live. */
  pending: StorageEvent[] | undefined = [];
  stopped = false;

  constructor(
    readonly prefix: string,
    fromRevision: number,
    readonly handlers: WatchHandlers,
    private readonly onStop: (watch: ActiveWatch) => void,
  ) {
    this.position = fromRevision;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.pending = undefined;
    this.onStop(this);
  }

  deliver(event: StorageEvent): void {
    if (this.stopped || event.revision <= this.position) return;
    this.position = event.revision;
    try {
      this.handlers.onEvent(event);
    } catch (error) {
      // A consumer that failed mid-event may have lost state: end its watch so it re-lists.
      this.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  progress(revision: number): void {
    if (this.stopped || this.pending || revision <= this.position || !this.handlers.onProgress) return;
    this.position = revision;
    try {
      this.handlers.onProgress(revision);
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  fail(error: Error): void {
    if (this.stopped) return;
    this.stop();
    try {
      this.handlers.onError?.(error);
    } catch {
      // The watch is already over; nothing is left to report to.
    }
  }
}

export class WatchFanout {
  private readonly watches = new Set<ActiveWatch>();
  private progressScheduled = false;

  constructor(private readonly log: EventLog) {}

  /** Throws CompactedError synchronously when fromRevision is below the compacted revision. */
  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher {
    const compacted = this.log.compactedRevision();
    if (fromRevision < compacted) throw new CompactedError(fromRevision, compacted);
    const watch = new ActiveWatch(prefix, fromRevision, handlers, (stopped) => this.watches.delete(stopped));
    this.watches.add(watch);
    // Every event committed from now on reaches `pending` through publish(); the log covers the rest.
    const liveFrom = this.log.currentRevision();
    if (fromRevision >= liveFrom) {
      watch.pending = undefined;
    } else {
      // The first step runs inside watch(): a consumer that lists and then watches from the list's
      // revision (a cache) is caught up when watch() returns, which is what lets a store claim
      // notifiesSynchronously. Only a replay longer than one step continues in later turns.
      this.replay(watch, fromRevision, liveFrom);
    }
    return watch;
  }

  /** Called by the backend right after a commit, with that commit's events in revision order. */
  publish(events: readonly StorageEvent[]): void {
    if (events.length === 0) return;
    for (const watch of [...this.watches]) {
      for (const event of events) {
        if (watch.stopped) break;
        if (!event.key.startsWith(watch.prefix)) continue;
        if (watch.pending) watch.pending.push(event);
        else watch.deliver(event);
      }
    }
    this.scheduleProgress();
  }

  /** Ends every watch with `error` (the store is closing). */
  closeAll(error: Error): void {
    for (const watch of [...this.watches]) watch.fail(error);
  }

  private replay(watch: ActiveWatch, scanned: number, liveFrom: number): void {
    if (watch.stopped) return;
    // Compaction may have started since the previous step; rows after the compacted revision stay intact.
    const compacted = this.log.compactedRevision();
    if (scanned < compacted) {
      watch.fail(new CompactedError(scanned, compacted));
      return;
    }
    let step: { events: StorageEvent[]; scannedThrough: number };
    try {
      step = this.log.readEvents(watch.prefix, scanned, liveFrom);
    } catch (error) {
      watch.fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    for (const event of step.events) watch.deliver(event);
    if (watch.stopped) return;
    if (step.scannedThrough < liveFrom) {
      setImmediate(() => this.replay(watch, step.scannedThrough, liveFrom));
      return;
    }
    const buffered = watch.pending ?? [];
    watch.pending = undefined;
    for (const event of buffered) watch.deliver(event);
    if (!watch.stopped) watch.progress(this.log.currentRevision());
  }

  /** Progress goes out once per loop turn, not once per commit, to keep its cost flat under load. */
  private scheduleProgress(): void {
    if (this.progressScheduled) return;
    this.progressScheduled = true;
    setImmediate(() => {
      this.progressScheduled = false;
      const revision = this.log.currentRevision();
      for (const watch of [...this.watches]) watch.progress(revision);
    });
  }
}
