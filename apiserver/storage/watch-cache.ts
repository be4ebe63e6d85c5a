// The watch cache (upstream's cacher): one per resource. It mirrors the resource's keys from storage via
// list + watch, keeps every object as serialized bytes plus the few attributes selectors need, and keeps a
// window of recent events so watches can start at a recent resourceVersion. Each event's bytes are shared
// by all watchers: nothing is re-serialized per watcher.

import type { KeyValue, Storage, StorageEvent, Watcher } from './interface.js';
import { CompactedError } from './interface.js';
import { stampResourceVersion } from '../registry/encode.js';
import { expired, StatusError } from '../request/status.js';

export interface ObjectAttributes {
  namespace: string;
  name: string;
  labels: Record<string, string> | undefined;
  /** Selectable fields (metadata.name, metadata.namespace and per-resource ones). */
  fields: Record<string, string>;
}

export interface CachedObject extends ObjectAttributes {
  key: string;
  /** Serialized object with metadata.resourceVersion stamped. */
  bytes: string;
  revision: number;
}

export type CacheEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface CacheEvent {
  type: CacheEventType;
  revision: number;
  object: CachedObject;
  /** The object before this event (MODIFIED and DELETED). */
  previous?: CachedObject;
}

export interface CacheWatchOptions {
  /** Deliver events with revision > fromRevision; 0 means "start now with the current state as ADDED". */
  fromRevision: number;
  /** Only keys with this prefix (namespace scoping). */
  prefix: string;
  filter: (object: CachedObject) => boolean;
  onEvent: (type: CacheEventType, object: CachedObject, revision: number) => void;
}

export interface CacheWatch {
  stop(): void;
}

export interface WatchCacheOptions {
  /** Events kept for watches that start in the past. */
  capacity?: number;
  /** Extracts selector attributes from the decoded object. */
  attributes: (object: Record<string, unknown>, key: string) => ObjectAttributes;
}

interface Subscriber extends CacheWatchOptions {
  stopped: boolean;
}

const FRESHNESS_TIMEOUT_MS = 3000;

export class WatchCache {
  private readonly objects = new Map<string, CachedObject>();
  private sortedKeys: string[] | undefined;
  private readonly events: CacheEvent[] = [];
  private eventsStart = 0; // index of the oldest event in the ring (events array used as a deque)
  private readonly capacity: number;
  private readonly subscribers = new Set<Subscriber>();
  private readonly freshnessWaiters: { revision: number; resolve: () => void }[] = [];
  private storageWatcher: Watcher | undefined;
  /** Newest revision this cache reflects. */
  revision = 0;
  /** Revision of the newest event on this cache's keys (the state is unchanged since). */
  lastEventRevision = 0;
  /** Every event with revision > oldestAvailable is in the window. */
  private oldestAvailable = 0;
  private startPromise: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly storage: Storage,
    readonly prefix: string,
    private readonly options: WatchCacheOptions,
  ) {
    this.capacity = options.capacity ?? 2000;
  }

  start(): Promise<void> {
    this.startPromise ??= this.initialize();
    return this.startPromise;
  }

  private async initialize(): Promise<void> {
    let after: string | undefined;
    let revision = 0;
    for (;;) {
      const page = await this.storage.list(this.prefix, { limit: 1000, after, revision: revision || undefined });
      revision = page.revision;
      for (const item of page.items) this.objects.set(item.key, this.cached(item.key, item.value, item.modRevision));
      if (!page.more || page.items.length === 0) break;
      after = page.items[page.items.length - 1].key;
    }
    this.revision = revision;
    this.oldestAvailable = revision;
    this.watchFrom(revision);
  }

  private watchFrom(revision: number): void {
    this.storageWatcher = this.storage.watch(this.prefix, revision, {
      onEvent: (event) => this.apply(event),
      onProgress: (progress) => this.advance(progress),
      wantsProgress: () => this.freshnessWaiters.length > 0,
      onError: (error) => void this.relist(error),
    });
  }

  /**
   * The storage watch ended (history compacted while a remote store was unreachable, say): read the whole
   * state again and turn the differences into events at the new revision, as an informer's relist does,
   * so subscribers stay consistent; watches from before the gap get 410 Expired.
   */
  private async relist(error: Error): Promise<void> {
    // A closed store ends every watch on purpose: the server is shutting down.
    if (this.stopped || /storage is closed/.test(error.message)) return;
    console.error(`[watch-cache ${this.prefix}] storage watch ended (${error.message}); relisting`);
    for (;;) {
      try {
        const fresh = new Map<string, KeyValue>();
        let after: string | undefined;
        let revision = 0;
        for (;;) {
          const page = await this.storage.list(this.prefix, { limit: 1000, after, revision: revision || undefined });
          revision = page.revision;
          for (const item of page.items) fresh.set(item.key, item);
          if (!page.more || page.items.length === 0) break;
          after = page.items[page.items.length - 1].key;
        }
        if (this.stopped) return;
        this.oldestAvailable = revision;
        // Whatever changed in the gap has a newer modRevision than the cache had seen: in that order, then
        // the deletions at the relist revision, keeps the events' revisions increasing.
        const changed = [...fresh.values()].filter((item) => this.objects.get(item.key)?.revision !== item.modRevision);
        for (const item of changed.sort((left, right) => left.modRevision - right.modRevision)) {
          this.apply({ type: 'PUT', key: item.key, value: item.value, revision: item.modRevision, createRevision: item.createRevision });
        }
        for (const [key, previous] of [...this.objects]) {
          if (!fresh.has(key)) this.apply({ type: 'DELETE', key, value: previous.bytes, revision, createRevision: 0 });
        }
        this.advance(revision);
        this.watchFrom(revision);
        return;
      } catch (failure) {
        if (this.stopped || /storage is closed/.test((failure as Error).message)) return;
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.storageWatcher?.stop();
    for (const subscriber of this.subscribers) subscriber.stopped = true;
    this.subscribers.clear();
  }

  private cached(key: string, value: string, revision: number): CachedObject {
    const bytes = stampResourceVersion(value, revision);
    const attributes = this.options.attributes(JSON.parse(value) as Record<string, unknown>, key);
    return { key, bytes, revision, ...attributes };
  }

  private apply(event: StorageEvent): void {
    const previous = this.objects.get(event.key);
    let cacheEvent: CacheEvent;
    if (event.type === 'PUT') {
      const object = this.cached(event.key, event.value, event.revision);
      if (!previous) this.sortedKeys = undefined;
      this.objects.set(event.key, object);
      cacheEvent = { type: previous ? 'MODIFIED' : 'ADDED', revision: event.revision, object, previous };
    } else {
      const last = previous ?? this.cached(event.key, event.value, event.revision);
      const object: CachedObject = { ...last, bytes: stampResourceVersion(last.bytes, event.revision), revision: event.revision };
      this.objects.delete(event.key);
      this.sortedKeys = undefined;
      cacheEvent = { type: 'DELETED', revision: event.revision, object, previous };
    }
    this.record(cacheEvent);
    this.revision = event.revision;
    this.lastEventRevision = event.revision;
    for (const subscriber of this.subscribers) this.deliver(subscriber, cacheEvent);
    this.releaseWaiters();
  }

  private advance(revision: number): void {
    if (revision > this.revision) {
      this.revision = revision;
      this.releaseWaiters();
    }
  }

  private record(event: CacheEvent): void {
    this.events.push(event);
    if (this.events.length - this.eventsStart > this.capacity) {
      this.oldestAvailable = this.events[this.eventsStart].revision;
      this.eventsStart++;
      // Compact the backing array now and then instead of shifting on every event.
      if (this.eventsStart > this.capacity) {
        this.events.splice(0, this.eventsStart);
        this.eventsStart = 0;
      }
    }
  }

  private deliver(subscriber: Subscriber, event: CacheEvent): void {
    // A watch from a revision the cache has not reached yet gets only the events after it (upstream's cacheWatcher).
    if (subscriber.stopped || event.revision <= subscriber.fromRevision || !event.object.key.startsWith(subscriber.prefix)) return;
    const matchesNow = event.type !== 'DELETED' && subscriber.filter(event.object);
    const matchedBefore = event.previous !== undefined && subscriber.filter(event.previous);
    if (event.type === 'ADDED') {
      if (matchesNow) subscriber.onEvent('ADDED', event.object, event.revision);
    } else if (event.type === 'MODIFIED') {
      if (matchesNow && matchedBefore) subscriber.onEvent('MODIFIED', event.object, event.revision);
      else if (matchesNow) subscriber.onEvent('ADDED', event.object, event.revision);
      else if (matchedBefore && event.previous) {
        // Leaving the selector: a DELETED carrying the previous content at this event's revision.
        const left = { ...event.previous, bytes: stampResourceVersion(event.previous.bytes, event.revision), revision: event.revision };
        subscriber.onEvent('DELETED', left, event.revision);
      }
    } else if (subscriber.filter(event.object)) {
      subscriber.onEvent('DELETED', event.object, event.revision);
    }
  }

  /** Resolves once the cache reflects `revision`; 504 when it does not within 3 s (upstream's "Too large resource version"). */
  async waitUntilFresh(revision: number): Promise<void> {
    await this.start();
    if (revision <= this.revision) return;
    if (this.storage.notifiesSynchronously) {
      const current = await this.storage.currentRevision();
      // In-process stores deliver synchronously: every event up to `current` has been applied already.
      this.advance(current);
      if (revision <= this.revision) return;
    } else {
      this.storage.requestProgress?.();
    }
    await new Promise<void>((resolve, reject) => {
      const waiter = { revision, resolve };
      this.freshnessWaiters.push(waiter);
      const timer = setTimeout(() => {
        const index = this.freshnessWaiters.indexOf(waiter);
        if (index >= 0) this.freshnessWaiters.splice(index, 1);
        reject(
          new StatusError(504, 'Timeout', `Too large resource version: ${revision}, current: ${this.revision}`, {
            causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
            retryAfterSeconds: 1,
          }),
        );
      }, FRESHNESS_TIMEOUT_MS);
      timer.unref();
      waiter.resolve = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Makes the cache current with storage (a consistent read) and returns the revision it reflects. */
  async syncToLatest(): Promise<number> {
    await this.start();
    const current = await this.storage.currentRevision();
    await this.waitUntilFresh(current);
    return Math.max(this.revision, current);
  }

  private releaseWaiters(): void {
    if (this.freshnessWaiters.length === 0) return;
    for (let index = this.freshnessWaiters.length - 1; index >= 0; index--) {
      const waiter = this.freshnessWaiters[index];
      if (waiter.revision <= this.revision) {
        this.freshnessWaiters.splice(index, 1);
        waiter.resolve();
      }
    }
  }

  get(key: string): CachedObject | undefined {
    return this.objects.get(key);
  }

  get size(): number {
    return this.objects.size;
  }

  /** Objects under the prefix in ascending key order, optionally strictly after a key. */
  list(prefix: string, after?: string): CachedObject[] {
    const keys = this.keys();
    let index = lowerBound(keys, after !== undefined && after >= prefix ? after : prefix);
    if (after !== undefined && keys[index] === after) index++;
    const result: CachedObject[] = [];
    for (; index < keys.length; index++) {
      const key = keys[index];
      if (!key.startsWith(prefix)) break;
      result.push(this.objects.get(key)!);
    }
    return result;
  }

  private keys(): string[] {
    if (!this.sortedKeys) this.sortedKeys = [...this.objects.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return this.sortedKeys;
  }

  /**
   * Starts a watch. With fromRevision 0 the current matching objects are sent as ADDED first. A revision
   * older than the event window fails with 410 Expired, as the upstream cacher does.
   */
  watch(options: CacheWatchOptions): CacheWatch {
    const subscriber: Subscriber = { ...options, stopped: false };
    if (options.fromRevision === 0) {
      for (const object of this.list(options.prefix)) {
        if (options.filter(object)) options.onEvent('ADDED', object, object.revision);
      }
    } else {
      if (options.fromRevision < this.oldestAvailable) {
        // Upstream names the newest revision it cannot serve from (oldest deliverable event - 1).
        throw expired(`too old resource version: ${options.fromRevision} (${this.oldestAvailable})`);
      }
      for (let index = this.eventsStart; index < this.events.length; index++) {
        const event = this.events[index];
        if (event.revision > options.fromRevision) this.deliver(subscriber, event);
      }
    }
    this.subscribers.add(subscriber);
    return {
      stop: () => {
        subscriber.stopped = true;
        this.subscribers.delete(subscriber);
      },
    };
  }

  get watcherCount(): number {
    return this.subscribers.size;
  }
}

function lowerBound(keys: string[], target: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (keys[middle] < target) low = middle + 1;
    else high = middle;
  }
  return low;
}

export function isCompacted(error: unknown): error is CompactedError {
  return error instanceof CompactedError;
}

const decodedObjects = new WeakMap<CachedObject, Record<string, unknown>>();

/**
 * The object a cache entry holds, parsed once per revision and shared: controllers that read every object
 * on every event (APIService routing, CRD name checks) must not parse the world each time. Never mutate it.
 */
export function decodedObject<T = Record<string, unknown>>(cached: CachedObject): T {
  let object = decodedObjects.get(cached);
  if (!object) {
    object = JSON.parse(cached.bytes) as Record<string, unknown>;
    decodedObjects.set(cached, object);
  }
  return object as T;
}
