// Encryption at rest as a Storage decorator: it wraps any backend (memory, SQLite, etcd) and transforms
// values by the resource their key belongs to — sealed with the rule's first provider on write, opened
// with whichever provider wrote them on read — so everything above (the generic store, watch caches,
// watches) sees plaintext and the backend only ever holds ciphertext for the configured resources.
//
// A value that cannot be opened (its key was removed from the configuration, the data is corrupt) fails
// a read of that object by name with upstream's 500 "Internal error occurred: unable to transform key …".
// Lists and watches leave such an object out and log it, so one bad object cannot take down every list
// and watch cache of its resource (upstream's cacher would keep retrying the whole list instead).

import type { KeyValue, ListOptions, ListResult, Storage, StorageEvent, WatchHandlers, Watcher } from '../interface.js';
import { ConflictError } from '../interface.js';
import { internalError } from '../../request/status.js';
import type { EncryptionRule } from './config.js';
import { ruleFor } from './config.js';
import type { PrefixTransformers } from './providers.js';

/** Groups without a dot that name their own key segment (`/registry/apps/deployments/…`). */
const DOTLESS_GROUPS = new Set(['apps', 'batch', 'policy', 'autoscaling', 'extensions']);

/** `/registry/secrets/ns/a` → ['', 'secrets']; `/registry/apps/deployments/ns/a` → ['apps', 'deployments']. */
export function groupResourceOfKey(key: string): [string, string] | undefined {
  if (!key.startsWith('/registry/')) return undefined;
  const [first = '', second = ''] = key.slice('/registry/'.length).split('/');
  return first.includes('.') || DOTLESS_GROUPS.has(first) ? [first, second] : ['', first];
}

export class EncryptedStorage implements Storage {
  readonly name: string;
  private readonly byResource = new Map<string, PrefixTransformers | null>();
  private readonly reported = new Set<string>();

  constructor(
    private readonly inner: Storage,
    private readonly rules: EncryptionRule[],
  ) {
    this.name = inner.name;
  }

  get notifiesSynchronously(): boolean | undefined {
    return this.inner.notifiesSynchronously;
  }

  private transformersFor(key: string): PrefixTransformers | undefined {
    const groupResource = groupResourceOfKey(key);
    if (!groupResource) return undefined;
    const cacheKey = groupResource.join('/');
    let transformers = this.byResource.get(cacheKey);
    if (transformers === undefined) {
      transformers = ruleFor(this.rules, groupResource[0], groupResource[1])?.transformers ?? null;
      this.byResource.set(cacheKey, transformers);
    }
    return transformers ?? undefined;
  }

  private seal(key: string, value: string): string {
    return this.transformersFor(key)?.seal(value, key) ?? value;
  }

  /** Throws upstream's InternalError when the value cannot be opened. */
  private open(key: string, value: string): { value: string; stale: boolean } {
    const transformers = this.transformersFor(key);
    if (!transformers) return { value, stale: false };
    try {
      return transformers.open(value, key);
    } catch (error) {
      throw internalError(`unable to transform key "${key}": ${(error as Error).message}`);
    }
  }

  private openKeyValue(kv: KeyValue): KeyValue {
    const opened = this.open(kv.key, kv.value);
    return opened.stale ? { ...kv, value: opened.value, stale: true } : { ...kv, value: opened.value };
  }

  /** For lists and watches: undefined (and one log line) when the value cannot be opened. */
  private tryOpen(key: string, value: string): string | undefined {
    try {
      return this.open(key, value).value;
    } catch (error) {
      if (!this.reported.has(key)) {
        this.reported.add(key);
        process.stderr.write(`[encryption] leaving ${key} out of lists and watches: ${(error as Error).message}\n`);
      }
      return undefined;
    }
  }

  private async writing<T>(operation: Promise<T>): Promise<T> {
    try {
      return await operation;
    } catch (error) {
      if (error instanceof ConflictError) throw new ConflictError(error.key, this.openKeyValue(error.current));
      throw error;
    }
  }

  async get(key: string, revision?: number): Promise<KeyValue | undefined> {
    const kv = await this.inner.get(key, revision);
    return kv && this.openKeyValue(kv);
  }

  async list(prefix: string, options?: ListOptions): Promise<ListResult> {
    let result = await this.inner.list(prefix, options);
    const items: KeyValue[] = [];
    for (;;) {
      for (const item of result.items) {
        const value = this.tryOpen(item.key, item.value);
        if (value !== undefined) items.push(value === item.value ? item : { ...item, value });
      }
      // A page of only unreadable objects would look like the end of the list: read on past it.
      if (items.length > 0 || !result.more || result.items.length === 0) return { ...result, items };
      result = await this.inner.list(prefix, { ...options, revision: result.revision, after: result.items[result.items.length - 1].key });
    }
  }

  count(prefix: string): Promise<number> {
    return this.inner.count(prefix);
  }

  async create(key: string, value: string): Promise<KeyValue> {
    const kv = await this.writing(this.inner.create(key, this.seal(key, value)));
    return { ...kv, value };
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    const kv = await this.writing(this.inner.update(key, this.seal(key, value), expectedModRevision));
    return { ...kv, value };
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    const kv = await this.writing(this.inner.delete(key, expectedModRevision));
    return this.openKeyValue(kv);
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher {
    return this.inner.watch(prefix, fromRevision, {
      ...handlers,
      onEvent: (event: StorageEvent) => {
        const value = this.tryOpen(event.key, event.value);
        if (value === undefined) {
          // The revision still passed: watchers must know they are fresh up to it.
          handlers.onProgress?.(event.revision);
          return;
        }
        const prevValue = event.prevValue === undefined ? undefined : this.tryOpen(event.key, event.prevValue);
        handlers.onEvent({ ...event, value, prevValue: prevValue ?? undefined, prevRevision: prevValue === undefined ? undefined : event.prevRevision });
      },
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

  close(): Promise<void> {
    return this.inner.close();
  }
}
