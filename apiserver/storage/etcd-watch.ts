// Watches on etcd: every watcher of one EtcdStorage shares one gRPC Watch stream, as clientv3 does. We run
// the stream ourselves rather than through the etcd3 package's WatchManager because that one resumes after
// a reconnect from the revision in the *created* response (skipping a replay that had not arrived yet) and
// throws on the broadcast progress responses (watch_id -1) that etcd 3.4 sends for progress requests.
//
// Each watcher remembers the next revision it needs; after a broken stream (a member died, the network
// blinked) it is re-created from there on whichever endpoint answers, and events it already saw are
// dropped, so consumers get every event exactly once and in order across failovers.

import type { Etcd3, IDuplexStream, IEvent, IWatchRequest, IWatchResponse } from 'etcd3';
import { CompactedError, StorageError, type StorageEvent, type WatchHandlers, type Watcher } from './interface.js';

/** How often idle watchers are told the store's current revision (lets caches prove freshness). */
const PROGRESS_INTERVAL_MS = 1000;
/**
 * etcd 3.4 answers a progress request with the store revision even for a watcher still replaying history
 * (fixed upstream in 3.4.26/3.5.8), so a watcher created in the past trusts broadcast progress only after
 * etcd's unsynced-watcher loop (every 100 ms) has certainly sent it its backlog.
 */
const UNSYNCED_SETTLE_MS = 600;
const MAX_RECONNECT_DELAY_MS = 5000;

interface ActiveWatch {
  id: number;
  key: Buffer;
  rangeEnd: Buffer;
  /** The next revision this watcher needs: events below it were delivered already (or proven absent). */
  next: number;
  /** The newest progress revision etcd announced that is not proven yet. */
  announced: number;
  verifying: boolean;
  handlers: WatchHandlers;
  /** Created on the current stream. */
  created: boolean;
  /** Broadcast progress is trusted from this time on (see UNSYNCED_SETTLE_MS). */
  trustProgressAfter: number;
}

export interface EtcdWatchOptions {
  /** Our key for an etcd key (the storage strips its prefix). */
  decodeKey(key: Buffer): string;
  /** Told when etcd reports a compaction, so the store learns the compacted revision. */
  onCompacted(revision: number): void;
  /** Whether no key in [key, rangeEnd) changed in the revisions (from, to] (see offerProgress). */
  unchangedBetween(key: Buffer, rangeEnd: Buffer, from: number, to: number): Promise<boolean>;
}

export class EtcdWatchStreams {
  private readonly watches = new Map<number, ActiveWatch>();
  private nextId = 1;
  private stream: IDuplexStream<IWatchRequest, IWatchResponse> | undefined;
  private connecting = false;
  private reconnectDelayMs = 100;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private progressQueued = false;
  private closed = false;

  constructor(
    private readonly client: Etcd3,
    private readonly options: EtcdWatchOptions,
  ) {}

  watch(key: Buffer, rangeEnd: Buffer, fromRevision: number, handlers: WatchHandlers): Watcher {
    if (this.closed) throw new StorageError('storage is closed');
    const watch: ActiveWatch = { id: this.nextId++, key, rangeEnd, next: fromRevision + 1, announced: 0, verifying: false, handlers, created: false, trustProgressAfter: Infinity };
    this.watches.set(watch.id, watch);
    if (this.stream) this.create(watch);
    else this.connect();
    this.startProgressTimer();
    return { stop: () => this.cancel(watch) };
  }

  /** Asks etcd to tell every watcher the current revision now (answered on the stream, not here). */
  requestProgress(): void {
    if (this.progressQueued || !this.stream) return;
    this.progressQueued = true;
    setImmediate(() => {
      this.progressQueued = false;
      this.write({ progress_request: {} });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.progressTimer);
    const stream = this.stream;
    this.stream = undefined;
    stream?.cancel();
    const watches = [...this.watches.values()];
    this.watches.clear();
    for (const watch of watches) watch.handlers.onError?.(new StorageError('storage is closed'));
  }

  private cancel(watch: ActiveWatch): void {
    if (!this.watches.delete(watch.id)) return;
    if (watch.created) this.write({ cancel_request: { watch_id: watch.id } });
    if (this.watches.size === 0) {
      clearInterval(this.progressTimer);
      this.progressTimer = undefined;
    }
  }

  private connect(): void {
    if (this.connecting || this.stream || this.closed || this.reconnectTimer) return;
    this.connecting = true;
    this.client.watchClient
      .watch()
      .then((stream) => {
        this.connecting = false;
        if (this.closed) {
          stream.cancel();
          return;
        }
        this.stream = stream;
        stream.on('data', (response: IWatchResponse) => this.receive(stream, response));
        stream.on('error', (error: Error) => this.broken(stream, error));
        stream.on('end', () => this.broken(stream, new StorageError('etcd watch stream ended')));
        for (const watch of this.watches.values()) this.create(watch);
      })
      .catch((error: Error) => {
        this.connecting = false;
        this.broken(undefined, error);
      });
  }

  private broken(stream: IDuplexStream<IWatchRequest, IWatchResponse> | undefined, error: Error): void {
    if (stream && stream !== this.stream) return;
    if (stream) stream.cancel();
    this.stream = undefined;
    for (const watch of this.watches.values()) {
      watch.created = false;
      watch.trustProgressAfter = Infinity;
    }
    if (this.closed || this.watches.size === 0) return;
    if (this.reconnectDelayMs >= 1000) console.error(`etcd watch stream lost (${error.message}); reconnecting in ${this.reconnectDelayMs} ms`);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, this.reconnectDelayMs);
    this.reconnectTimer.unref();
    this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, MAX_RECONNECT_DELAY_MS);
  }

  private create(watch: ActiveWatch): void {
    this.write({
      create_request: { key: watch.key, range_end: watch.rangeEnd, start_revision: watch.next, prev_kv: true, progress_notify: true, watch_id: watch.id },
    });
  }

  private write(request: IWatchRequest): void {
    try {
      this.stream?.write(request);
    } catch (error) {
      this.broken(this.stream, error as Error);
    }
  }

  private startProgressTimer(): void {
    if (this.progressTimer) return;
    this.progressTimer = setInterval(() => this.requestProgress(), PROGRESS_INTERVAL_MS);
    this.progressTimer.unref();
  }

  private receive(stream: IDuplexStream<IWatchRequest, IWatchResponse>, response: IWatchResponse): void {
    if (stream !== this.stream) return;
    this.reconnectDelayMs = 100;
    const revision = Number(response.header.revision);
    const id = Number(response.watch_id);
    if (id === -1) {
      // The answer to a progress request, for every watcher on the stream.
      const now = Date.now();
      for (const watch of [...this.watches.values()]) if (watch.created && now >= watch.trustProgressAfter) this.offerProgress(watch, revision);
      return;
    }
    const watch = this.watches.get(id);
    if (!watch) {
      // Stopped before etcd confirmed it: cancel it there too, or its events would keep coming.
      if (response.created && !response.canceled) this.write({ cancel_request: { watch_id: id } });
      return;
    }
    if (response.created) {
      watch.created = true;
      // Starting beyond the current revision means etcd treats the watcher as synced at once.
      watch.trustProgressAfter = watch.next > revision ? 0 : Date.now() + UNSYNCED_SETTLE_MS;
    }
    if (response.canceled) {
      this.watches.delete(id);
      const compacted = Number(response.compact_revision);
      if (compacted > 0) {
        this.options.onCompacted(compacted);
        watch.handlers.onError?.(new CompactedError(watch.next - 1, compacted));
      } else {
        watch.handlers.onError?.(new StorageError(`etcd canceled the watch: ${response.cancel_reason || 'no reason given'}`));
      }
      return;
    }
    if (response.events.length === 0) {
      // A per-watcher progress notification: etcd sends those only to watchers that are synced.
      if (!response.created) this.offerProgress(watch, revision);
      return;
    }
    for (const event of response.events) {
      const eventRevision = Number(event.kv.mod_revision);
      if (eventRevision < watch.next) continue; // seen before the stream broke
      try {
        watch.handlers.onEvent(this.toStorageEvent(event));
      } catch (error) {
        this.cancel(watch);
        watch.handlers.onError?.(error as Error);
        return;
      }
      if (!this.watches.has(id)) return; // the handler stopped the watch
      watch.next = eventRevision + 1;
    }
  }

  /**
   * etcd before 3.4.26/3.5.8 may announce a progress revision to a watcher whose events up to it are still
   * queued (a slow watcher's "victims"): trusting it would drop those events as already seen. So a progress
   * revision is proven first — no key of the range changed between the last delivered revision and it (the
   * same count at both revisions, none modified after) — and only when the consumer wants progress now.
   */
  private offerProgress(watch: ActiveWatch, revision: number): void {
    if (revision < watch.next) return;
    if (watch.handlers.wantsProgress && !watch.handlers.wantsProgress()) return;
    watch.announced = Math.max(watch.announced, revision);
    if (watch.verifying) return;
    watch.verifying = true;
    void this.verifyProgress(watch).finally(() => (watch.verifying = false));
  }

  private async verifyProgress(watch: ActiveWatch): Promise<void> {
    while (this.watches.has(watch.id) && watch.announced >= watch.next) {
      const from = watch.next - 1;
      const to = watch.announced;
      let unchanged: boolean;
      try {
        unchanged = from > 0 && (await this.options.unchangedBetween(watch.key, watch.rangeEnd, from, to));
      } catch {
        return; // compacted or unreachable: events (or a later progress) will move the watcher on
      }
      if (!this.watches.has(watch.id)) return;
      if (watch.next - 1 !== from) continue; // events arrived meanwhile: prove the rest from there
      if (!unchanged) return; // events are on their way; they move the watcher on
      this.progress(watch, to);
    }
  }

  private progress(watch: ActiveWatch, revision: number): void {
    if (revision < watch.next) return;
    watch.next = revision + 1;
    try {
      watch.handlers.onProgress?.(revision);
    } catch (error) {
      this.cancel(watch);
      watch.handlers.onError?.(error as Error);
    }
  }

  private toStorageEvent(event: IEvent): StorageEvent {
    const key = this.options.decodeKey(event.kv.key);
    const revision = Number(event.kv.mod_revision);
    const previous = event.prev_kv;
    if (event.type === 'Delete') {
      // etcd's delete event carries only the key; the last value comes from prev_kv.
      const value = previous ? previous.value.toString('utf8') : '';
      return {
        type: 'DELETE',
        key,
        value,
        revision,
        createRevision: previous ? Number(previous.create_revision) : 0,
        prevValue: previous ? value : undefined,
        prevRevision: previous ? Number(previous.mod_revision) : undefined,
      };
    }
    const created = Number(event.kv.version) === 1;
    return {
      type: 'PUT',
      key,
      value: event.kv.value.toString('utf8'),
      revision,
      createRevision: Number(event.kv.create_revision),
      prevValue: !created && previous ? previous.value.toString('utf8') : undefined,
      prevRevision: !created && previous ? Number(previous.mod_revision) : undefined,
    };
  }
}
