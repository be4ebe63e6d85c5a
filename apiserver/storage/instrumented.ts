// A Storage decorator that times every call into the backend as etcd_request_duration_seconds
// {operation, type} (upstream's etcd3 store metrics), whatever the backend: memory, SQLite or etcd.
// `type` is the resource the key belongs to ("configmaps", "deployments.apps").

import type { KeyValue, ListOptions, ListResult, Storage, WatchHandlers, Watcher } from './interface.js';
import { StorageError } from './interface.js';
import { storageMetrics } from '../metrics/registry.js';
import { storageTypeOf } from '../metrics/storage-objects.js';

async function timed<T>(operation: string, key: string, call: () => Promise<T>): Promise<T> {
  const started = process.hrtime.bigint();
  const type = storageTypeOf(key);
  try {
    return await call();
  } catch (error) {
    // Expected outcomes (not found, conflict, exists) are answers, not failures of the store.
    if (!(error instanceof StorageError)) storageMetrics.requestErrors.inc({ operation, type });
    throw error;
  } finally {
    storageMetrics.requestDuration.observe({ operation, type }, Number(process.hrtime.bigint() - started) / 1e9);
  }
}

export function instrumentStorage(storage: Storage): Storage {
  return new InstrumentedStorage(storage);
}

class InstrumentedStorage implements Storage {
  constructor(private readonly inner: Storage) {}

  get name(): string {
    return this.inner.name;
  }

  get notifiesSynchronously(): boolean | undefined {
    return this.inner.notifiesSynchronously;
  }

  get(key: string, revision?: number): Promise<KeyValue | undefined> {
    return timed('get', key, () => this.inner.get(key, revision));
  }

  list(prefix: string, options?: ListOptions): Promise<ListResult> {
    return timed('list', prefix, () => this.inner.list(prefix, options));
  }

  count(prefix: string): Promise<number> {
    return timed('count', prefix, () => this.inner.count(prefix));
  }

  create(key: string, value: string): Promise<KeyValue> {
    return timed('create', key, () => this.inner.create(key, value));
  }

  update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    return timed('update', key, () => this.inner.update(key, value, expectedModRevision));
  }

  delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    return timed('delete', key, () => this.inner.delete(key, expectedModRevision));
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher {
    return this.inner.watch(prefix, fromRevision, handlers);
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
