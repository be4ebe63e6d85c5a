// Storage as a served CRD version reads it: every value under the resource's prefix passes through the
// version's pruning and defaulting on get, list and watch (upstream's storage decoder does the same), so
// objects written before a schema change read as the current schema says. Writes pass through untouched.
//
// With `trustOwnWrites` (the store of the storage version, whose write pipeline prunes and defaults with this
// very schema and converts nothing) a watch event carrying exactly the bytes this instance just wrote skips
// normalizing: it would return them unchanged. Anything else — older objects, other versions' writes — is
// normalized as before.

import type { KeyValue, ListOptions, ListResult, Storage, StorageEvent, WatchHandlers, Watcher } from '../../apiserver/storage/interface.js';

/** Own writes remembered until their watch event; a bound in case a watch never delivers them. */
const MAX_OWN_WRITES = 4096;

export class ReadNormalizingStorage implements Storage {
  /** key → value this instance wrote whose watch event has not come yet. */
  private readonly ownWrites = new Map<string, string>();

  constructor(
    private readonly inner: Storage,
    private readonly prefix: string,
    private readonly normalize: (value: string) => string,
    private readonly trustOwnWrites = false,
  ) {}

  private remember(key: string, value: string): void {
    if (!this.trustOwnWrites) return;
    this.ownWrites.delete(key);
    this.ownWrites.set(key, value);
    if (this.ownWrites.size > MAX_OWN_WRITES) this.ownWrites.delete(this.ownWrites.keys().next().value!);
  }

  /** The event's value as the schema reads it: our own fresh write as it is, anything else normalized. */
  private eventValue(key: string, value: string): string {
    const own = this.ownWrites.get(key);
    if (own !== undefined) {
      this.ownWrites.delete(key);
      if (own === value) return value;
    }
    return this.value(key, value);
  }

  get name(): string {
    return this.inner.name;
  }

  get notifiesSynchronously(): boolean | undefined {
    return this.inner.notifiesSynchronously;
  }

  private value(key: string, value: string): string {
    return key.startsWith(this.prefix) ? this.normalize(value) : value;
  }

  async get(key: string, revision?: number): Promise<KeyValue | undefined> {
    const found = await this.inner.get(key, revision);
    return found ? { ...found, value: this.value(key, found.value) } : found;
  }

  async list(prefix: string, options?: ListOptions): Promise<ListResult> {
    const result = await this.inner.list(prefix, options);
    return { ...result, items: result.items.map((item) => ({ ...item, value: this.value(item.key, item.value) })) };
  }

  count(prefix: string): Promise<number> {
    return this.inner.count(prefix);
  }

  // Remembered before the write: an in-process store delivers the watch event before the write returns.
  async create(key: string, value: string): Promise<KeyValue> {
    this.remember(key, value);
    try {
      return await this.inner.create(key, value);
    } catch (error) {
      this.forget(key, value);
      throw error;
    }
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    this.remember(key, value);
    try {
      return await this.inner.update(key, value, expectedModRevision);
    } catch (error) {
      this.forget(key, value);
      throw error;
    }
  }

  private forget(key: string, value: string): void {
    if (this.ownWrites.get(key) === value) this.ownWrites.delete(key);
  }

  delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    return this.inner.delete(key, expectedModRevision);
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher {
    return this.inner.watch(prefix, fromRevision, {
      onProgress: handlers.onProgress?.bind(handlers),
      wantsProgress: handlers.wantsProgress?.bind(handlers),
      onError: handlers.onError?.bind(handlers),
      onEvent: (event: StorageEvent) =>
        handlers.onEvent({
          ...event,
          value: event.type === 'DELETE' ? this.value(event.key, event.value) : this.eventValue(event.key, event.value),
          prevValue: event.prevValue === undefined ? undefined : this.value(event.key, event.prevValue),
        }),
    });
  }

  currentRevision(): Promise<number> {
    return this.inner.currentRevision();
  }

  /** Forwarded: a watch cache that waits to be fresh asks the backend (etcd) for progress now, not at its next tick. */
  requestProgress(): void {
    this.inner.requestProgress?.();
  }

  compact(revision: number): Promise<void> {
    return this.inner.compact(revision);
  }

  compactedRevision(): Promise<number> {
    return this.inner.compactedRevision();
  }

  /** The shared storage outlives any one served version: closing it is its owner's business. */
  async close(): Promise<void> {}
}
