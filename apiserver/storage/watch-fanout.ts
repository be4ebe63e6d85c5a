// Delivers a store's committed events to its in-process watchers. Shared by the backends that own
// their log (memory, SQLite): a watcher first replays the log from its revision in bounded steps,
// buffering live events meanwhile, then switches to live delivery, so no event is lost or repeated.
// Live events are delivered synchronously by publish(), which the backend calls right after commit.
// Watches are indexed by prefix: with a store per custom resource type, a commit reaches the watches of
// its own keys without a look at every other type's.

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
    /** Creation order: a commit reaches its watches in this order. */
    readonly sequence: number,
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

/** Above this many watches, progress is sent at most every PROGRESS_INTERVAL_MS (see scheduleProgress). */
const MANY_WATCHES = 32;
const PROGRESS_INTERVAL_MS = 100;

/** Whether a prefix is found by walking a key's '/'-separated prefixes (see WatchFanout.matching). */
function indexable(prefix: string): boolean {
  return prefix === '' || prefix.endsWith('/');
}

export class WatchFanout {
  private readonly watches = new Set<ActiveWatch>();
  /** Watches by prefix, for prefixes that end at a '/' (every store's are such). */
  private readonly byPrefix = new Map<string, Set<ActiveWatch>>();
  /** Watches on any other prefix, checked one by one. */
  private readonly unindexed = new Set<ActiveWatch>();
  private sequence = 0;
  private progressScheduled = false;
  private lastProgress = 0;

  constructor(private readonly log: EventLog) {}

  /** Throws CompactedError synchronously when fromRevision is below the compacted revision. */
  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher {
    const compacted = this.log.compactedRevision();
    if (fromRevision < compacted) throw new CompactedError(fromRevision, compacted);
    const watch = new ActiveWatch(prefix, this.sequence++, fromRevision, handlers, (stopped) => this.forget(stopped));
    this.watches.add(watch);
    if (indexable(prefix)) {
      let watches = this.byPrefix.get(prefix);
      if (!watches) this.byPrefix.set(prefix, (watches = new Set()));
      watches.add(watch);
    } else {
      this.unindexed.add(watch);
    }
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

  private forget(watch: ActiveWatch): void {
    this.watches.delete(watch);
    this.unindexed.delete(watch);
    const watches = this.byPrefix.get(watch.prefix);
    if (watches?.delete(watch) && watches.size === 0) this.byPrefix.delete(watch.prefix);
  }

  /** The watches whose prefix the key starts with: the key's prefixes up to each '/', then the unindexed. */
  private matching(key: string, into: ActiveWatch[]): void {
    const add = (watches: Set<ActiveWatch> | undefined) => {
      if (watches) for (const watch of watches) into.push(watch);
    };
    add(this.byPrefix.get(''));
    for (let slash = key.indexOf('/'); slash >= 0; slash = key.indexOf('/', slash + 1)) add(this.byPrefix.get(key.slice(0, slash + 1)));
    for (const watch of this.unindexed) if (key.startsWith(watch.prefix)) into.push(watch);
  }

  /** Called by the backend right after a commit, with that commit's events in revision order. */
  publish(events: readonly StorageEvent[]): void {
    if (events.length === 0) return;
    if (events.length === 1) {
      const watches: ActiveWatch[] = [];
      this.matching(events[0].key, watches);
      if (watches.length > 1) watches.sort((left, right) => left.sequence - right.sequence);
      for (const watch of watches) this.offer(watch, events[0]);
    } else {
      // Each watch gets its events in revision order, the watches in the order they were made.
      const byWatch = new Map<ActiveWatch, StorageEvent[]>();
      const watches: ActiveWatch[] = [];
      for (const event of events) {
        watches.length = 0;
        this.matching(event.key, watches);
        for (const watch of watches) {
          const list = byWatch.get(watch);
          if (list) list.push(event);
          else byWatch.set(watch, [event]);
        }
      }
      const ordered = [...byWatch.keys()].sort((left, right) => left.sequence - right.sequence);
      for (const watch of ordered) {
        for (const event of byWatch.get(watch)!) {
          if (watch.stopped) break;
          this.offer(watch, event);
        }
      }
    }
    this.scheduleProgress();
  }

  private offer(watch: ActiveWatch, event: StorageEvent): void {
    if (watch.stopped) return;
    if (watch.pending) watch.pending.push(event);
    else watch.deliver(event);
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

  /**
   * Progress goes out once per loop turn, not once per commit, to keep its cost flat under load; with
   * hundreds of watches (a store per custom resource type) at most every PROGRESS_INTERVAL_MS, so a busy
   * store does not pay a call per quiet watch on every turn. Nothing waits on it here: a reader that must
   * be fresh asks the store's revision (notifiesSynchronously), progress only moves quiet caches along.
   */
  private scheduleProgress(): void {
    if (this.progressScheduled) return;
    this.progressScheduled = true;
    const send = () => {
      this.progressScheduled = false;
      this.lastProgress = performance.now();
      const revision = this.log.currentRevision();
      for (const watch of [...this.watches]) watch.progress(revision);
    };
    const wait = this.watches.size > MANY_WATCHES ? PROGRESS_INTERVAL_MS - (performance.now() - this.lastProgress) : 0;
    if (wait > 0) setTimeout(send, wait).unref();
    else setImmediate(send);
  }
}
