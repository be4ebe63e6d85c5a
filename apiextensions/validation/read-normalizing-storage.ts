// Storage as a served CRD version reads it: every value under the resource's prefix passes through the
// version's pruning and defaulting on get, list and watch (upstream's storage decoder does the same), so
// objects written before a schema change read as the current schema says. Writes pass through untouched.

import type { KeyValue, ListOptions, ListResult, Storage, StorageEvent, WatchHandlers, Watcher } from '../../apiserver/storage/interface.js';

export class ReadNormalizingStorage implements Storage {
  constructor(
    private readonly inner: Storage,
    private readonly prefix: string,
    private readonly normalize: (value: string) => string,
  ) {}

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

  create(key: string, value: string): Promise<KeyValue> {
    return this.inner.create(key, value);
  }

  update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    return this.inner.update(key, value, expectedModRevision);
  }

  delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    return this.inner.delete(key, expectedModRevision);
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher {
    return this.inner.watch(prefix, fromRevision, {
      onProgress: handlers.onProgress?.bind(handlers),
      onError: handlers.onError?.bind(handlers),
      onEvent: (event: StorageEvent) =>
        handlers.onEvent({
          ...event,
          value: this.value(event.key, event.value),
          prevValue: event.prevValue === undefined ? undefined : this.value(event.key, event.prevValue),
        }),
    });
  }

  currentRevision(): Promise<number> {
    return this.inner.currentRevision();
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
