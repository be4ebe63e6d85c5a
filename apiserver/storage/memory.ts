// An in-memory MVCC store for tests and throwaway servers. It keeps the current state plus the log of
// events since the compacted revision; a read at an older revision starts from the current state and
// undoes the newer events, which every event can do because it carries the value it replaced.

import {
  CompactedError,
  ConflictError,
  KeyExistsError,
  NotFoundError,
  StorageError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Storage,
  type StorageEvent,
  type WatchHandlers,
  type Watcher,
} from './interface.js';
import { WatchFanout } from './watch-fanout.js';

/** An empty store is at revision 1, as etcd is, so that 0 keeps meaning "current" / "any". */
const INITIAL_REVISION = 1;
/** Revisions a watch replays per synchronous step. */
const REPLAY_STEP = 1000;

export class MemoryStorage implements Storage {
  readonly name = 'memory';
  readonly notifiesSynchronously = true;
  private revision = INITIAL_REVISION;
  private compacted = 0;
  private closed = false;
  private readonly current = new Map<string, KeyValue>();
  /** Events with revision > compacted, in revision order. */
  private readonly log: StorageEvent[] = [];
  private readonly fanout = new WatchFanout({
    currentRevision: () => this.revision,
    compactedRevision: () => this.compacted,
    readEvents: (prefix, afterRevision, throughRevision) => {
      const scannedThrough = Math.min(throughRevision, afterRevision + REPLAY_STEP);
      const window = this.log.slice(this.firstEventAfter(afterRevision), this.firstEventAfter(scannedThrough));
      return { events: window.filter((event) => event.key.startsWith(prefix)), scannedThrough };
    },
  });

  async get(key: string, revision?: number): Promise<KeyValue | undefined> {
    const readRevision = this.readRevision(revision);
    if (readRevision === this.revision) return copy(this.current.get(key));
    // The oldest event on the key after the read revision knows what the key held at it.
    let oldest: StorageEvent | undefined;
    for (let index = this.log.length - 1; index >= 0 && this.log[index].revision > readRevision; index--) {
      if (this.log[index].key === key) oldest = this.log[index];
    }
    return oldest ? valueBefore(oldest) : copy(this.current.get(key));
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const readRevision = this.readRevision(options.revision);
    const state = this.stateAt(prefix, readRevision);
    const after = options.after;
    const keys = [...state.keys()].filter((key) => after === undefined || key > after).sort();
    const limit = options.limit && options.limit > 0 ? options.limit : keys.length;
    const page = keys.slice(0, limit);
    const remaining = keys.length - page.length;
    return {
      items: page.map((key) => ({ ...state.get(key)! })),
      revision: readRevision,
      more: remaining > 0,
      remaining,
    };
  }

  async count(prefix: string): Promise<number> {
    this.assertOpen();
    let count = 0;
    for (const key of this.current.keys()) if (key.startsWith(prefix)) count++;
    return count;
  }

  async create(key: string, value: string): Promise<KeyValue> {
    this.assertOpen();
    if (this.current.has(key)) throw new KeyExistsError(key);
    const revision = this.revision + 1;
    const created: KeyValue = { key, value, createRevision: revision, modRevision: revision };
    this.current.set(key, created);
    this.commit({ type: 'PUT', key, value, revision, createRevision: revision });
    return { ...created };
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    this.assertOpen();
    const existing = this.current.get(key);
    if (!existing) throw new NotFoundError(key);
    if (existing.modRevision !== expectedModRevision) throw new ConflictError(key, { ...existing });
    const revision = this.revision + 1;
    const updated: KeyValue = { key, value, createRevision: existing.createRevision, modRevision: revision };
    this.current.set(key, updated);
    this.commit({
      type: 'PUT',
      key,
      value,
      revision,
      createRevision: existing.createRevision,
      prevValue: existing.value,
      prevRevision: existing.modRevision,
    });
    return { ...updated };
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    this.assertOpen();
    const existing = this.current.get(key);
    if (!existing) throw new NotFoundError(key);
    if (expectedModRevision !== undefined && existing.modRevision !== expectedModRevision) {
      throw new ConflictError(key, { ...existing });
    }
    const revision = this.revision + 1;
    this.current.delete(key);
    this.commit({
      type: 'DELETE',
      key,
      value: existing.value,
      revision,
      createRevision: existing.createRevision,
      prevValue: existing.value,
      prevRevision: existing.modRevision,
    });
    return { ...existing, modRevision: revision };
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher {
    this.assertOpen();
    return this.fanout.watch(prefix, fromRevision, handlers);
  }

  async currentRevision(): Promise<number> {
    this.assertOpen();
    return this.revision;
  }

  async compact(revision: number): Promise<void> {
    this.assertOpen();
    if (revision <= this.compacted) return;
    if (revision > this.revision) {
      throw new StorageError(`cannot compact to revision ${revision}: it is in the future (current ${this.revision})`);
    }
    this.compacted = revision;
    // Events at or below the compacted revision are no longer needed to read at or after it.
    this.log.splice(0, this.firstEventAfter(revision));
  }

  async compactedRevision(): Promise<number> {
    this.assertOpen();
    return this.compacted;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fanout.closeAll(new StorageError('storage is closed'));
  }

  private commit(event: StorageEvent): void {
    this.revision = event.revision;
    this.log.push(event);
    this.fanout.publish([event]);
  }

  /** Validates a requested read revision and resolves 0/undefined to the current one. */
  private readRevision(revision: number | undefined): number {
    this.assertOpen();
    if (!revision) return this.revision;
    if (revision < this.compacted) throw new CompactedError(revision, this.compacted);
    if (revision > this.revision) {
      throw new StorageError(`revision ${revision} is in the future (current ${this.revision})`);
    }
    return revision;
  }

  /** The keys with `prefix` as they were at `revision`, by undoing the newer events newest first. */
  private stateAt(prefix: string, revision: number): Map<string, KeyValue> {
    const state = new Map<string, KeyValue>();
    for (const [key, keyValue] of this.current) if (key.startsWith(prefix)) state.set(key, keyValue);
    for (let index = this.log.length - 1; index >= 0 && this.log[index].revision > revision; index--) {
      const event = this.log[index];
      if (!event.key.startsWith(prefix)) continue;
      const before = valueBefore(event);
      if (before) state.set(event.key, before);
      else state.delete(event.key);
    }
    return state;
  }

  /** Index of the first log event with a revision greater than `revision` (binary search). */
  private firstEventAfter(revision: number): number {
    let low = 0;
    let high = this.log.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.log[middle].revision <= revision) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageError('storage is closed');
  }
}

/** What the key held just before `event`, or undefined when the event created it. */
function valueBefore(event: StorageEvent): KeyValue | undefined {
  if (event.prevValue === undefined || event.prevRevision === undefined) return undefined;
  return { key: event.key, value: event.prevValue, createRevision: event.createRevision, modRevision: event.prevRevision };
}

function copy(keyValue: KeyValue | undefined): KeyValue | undefined {
  return keyValue && { ...keyValue };
}
