// The storage contract every backend (memory, SQLite, etcd) fulfils. It is shaped after etcd's
// semantics because resourceVersions are storage revisions: one global, monotonic counter per store,
// compare-and-swap on the modification revision, watch from a revision, and compaction that makes
// old revisions unreadable ("too old").
//
// Values are opaque serialized bytes (JSON text). The store never parses them: the layers above keep
// objects serialized on read paths and decode only to write or to match a selector.

export interface KeyValue {
  key: string;
  /** Serialized object as it was written. */
  value: string;
  /** Revision at which this key was created (etcd's create_revision). */
  createRevision: number;
  /** Revision of the write that produced this value (etcd's mod_revision): the object's resourceVersion. */
  modRevision: number;
  /**
   * Set by encryption at rest when the value was not written by the current write provider: an update
   * must rewrite it even when the object is unchanged (upstream's "stale" read), so keys rotate.
   */
  stale?: boolean;
}

export type WatchEventType = 'PUT' | 'DELETE';

export interface StorageEvent {
  type: WatchEventType;
  key: string;
  /** For PUT: the new value. For DELETE: the last value before deletion. */
  value: string;
  /** Revision of this event: the write's revision (for DELETE, the deletion revision). */
  revision: number;
  createRevision: number;
  /** For PUT of an existing key and for DELETE: the previous value. Absent on create. */
  prevValue?: string;
  /** modRevision of prevValue. */
  prevRevision?: number;
}

export interface ListOptions {
  /** Read as of this revision (0 or undefined: the current revision). Below the compacted revision → CompactedError. */
  revision?: number;
  /** Return at most this many items (0 or undefined: no limit). */
  limit?: number;
  /** Only keys strictly greater than this key (pagination). */
  after?: string;
}

export interface ListResult {
  items: KeyValue[];
  /** The revision the list was read at. */
  revision: number;
  /** True when more keys exist after the last returned one (at the same revision). */
  more: boolean;
  /** Number of keys remaining after this page, when cheaply known. */
  remaining?: number;
}

export interface Watcher {
  stop(): void;
}

export interface WatchHandlers {
  /** Called once per event, in strictly increasing revision order, never twice for one revision. */
  onEvent(event: StorageEvent): void;
  /**
   * Called when the store has advanced to `revision` with no further events for this prefix so far.
   * Lets caches know they are fresh without waiting for a write to their own prefix.
   */
  onProgress?(revision: number): void;
  /**
   * Whether a progress notification is wanted now (e.g. a reader waits for the cache to be fresh). A backend
   * that must pay to prove a progress revision (etcd before 3.4.26 may announce one ahead of undelivered
   * events) asks this first; without it, progress is always wanted.
   */
  wantsProgress?(): boolean;
  /** Called when the watch cannot continue (e.g. the backend connection was lost for good). */
  onError?(error: Error): void;
}

export interface Storage {
  /** Human-readable backend name ("memory", "sqlite", "etcd"). */
  readonly name: string;

  /**
   * True for in-process backends that deliver every event to watchers synchronously inside the commit,
   * before the write's promise settles: a cache on such a store is fresh up to currentRevision() as soon
   * as that call returns. Remote backends (etcd) leave it unset and prove freshness with progress events.
   */
  readonly notifiesSynchronously?: boolean;

  get(key: string, revision?: number): Promise<KeyValue | undefined>;

  /** Keys with the given prefix, in ascending key order. */
  list(prefix: string, options?: ListOptions): Promise<ListResult>;

  count(prefix: string): Promise<number>;

  /** Fails with KeyExistsError when the key exists. */
  create(key: string, value: string): Promise<KeyValue>;

  /**
   * Compare-and-swap on modRevision. Fails with NotFoundError when the key does not exist and with
   * ConflictError (carrying the current KeyValue) when its modRevision differs.
   */
  update(key: string, value: string, expectedModRevision: number): Promise<KeyValue>;

  /**
   * Deletes the key; when expectedModRevision is given, only if it matches (ConflictError otherwise).
   * Returns the deleted value with modRevision set to the deletion revision.
   */
  delete(key: string, expectedModRevision?: number): Promise<KeyValue>;

  /**
   * Streams every event on keys with the prefix whose revision is strictly greater than fromRevision,
   * first those already in the log, then live ones. A fromRevision below the compacted revision
   * fails synchronously with CompactedError (the events after it are gone).
   */
  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher;

  /**
   * Optional, for backends that do not notify synchronously: ask for onProgress to reach every watcher
   * soon, so a cache waiting to be fresh at a revision need not wait for the next periodic notification.
   */
  requestProgress?(): void;

  /** The newest revision of the whole store. */
  currentRevision(): Promise<number>;

  /**
   * Drops history older than `revision`, as etcd's compaction does: afterwards get/list at a revision
   * below it and watch from a revision below it fail with CompactedError; the state at `revision`
   * itself stays readable. Compacting to a revision at or below the current compaction is a no-op.
   */
  compact(revision: number): Promise<void>;

  /** The revision passed to the latest effective compact() (0 when never compacted). */
  compactedRevision(): Promise<number>;

  close(): Promise<void>;
}

export class StorageError extends Error {}

export class KeyExistsError extends StorageError {
  constructor(readonly key: string) {
    super(`key exists: ${key}`);
  }
}

export class NotFoundError extends StorageError {
  constructor(readonly key: string) {
    super(`key not found: ${key}`);
  }
}

export class ConflictError extends StorageError {
  constructor(
    readonly key: string,
    readonly current: KeyValue,
  ) {
    super(`revision conflict on ${key}: current modRevision ${current.modRevision}`);
  }
}

export class CompactedError extends StorageError {
  constructor(
    readonly requested: number,
    readonly compacted: number,
  ) {
    super(`revision ${requested} has been compacted (oldest available ${compacted + 1})`);
  }
}

/** The end of the key range that has `prefix` as prefix (exclusive), as etcd computes it. */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
