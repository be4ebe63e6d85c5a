// The embedded default store: a revision log in SQLite (see sqlite-schema.ts for the layout).
//
// better-sqlite3 is synchronous, so the shape of the work matters more than usual:
// - writes issued in the same turn of the event loop are committed together in one transaction
//   (group commit) and each promise settles only after COMMIT; every write keeps its own checks,
//   made inside the transaction so they see the batch's earlier writes;
// - watchers are notified in-process right after COMMIT, never by polling;
// - scans, watch replays and compaction run in bounded steps with a turn of the loop in between;
// - the WAL is checkpointed by a worker thread (sqlite-checkpointer.ts).

import type Database from 'better-sqlite3';
import { closeSync, fdatasync, openSync } from 'node:fs';
import {
  CompactedError,
  ConflictError,
  KeyExistsError,
  NotFoundError,
  StorageError,
  prefixEnd,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Storage,
  type StorageEvent,
  type WatchHandlers,
  type Watcher,
} from './interface.js';
import { startCheckpointer, type Checkpointer } from './sqlite-checkpointer.js';
import { sweepCompactedRows } from './sqlite-compaction.js';
import { openDatabase, prepareStatements, type CurrentRow, type EventRow, type Statements, type Synchronous } from './sqlite-schema.js';
import { WatchFanout } from './watch-fanout.js';

export interface SqliteStorageOptions {
  /**
   * FULL (default): a write is acknowledged, and its event published, only after the WAL is synced to disk
   * (an asynchronous fdatasync shared by every batch committed meanwhile): durable across power loss.
   * NORMAL: acknowledged at commit: durable across process crashes only.
   */
  synchronous?: Synchronous;
  /** Log rows examined per compaction transaction (default 500). */
  compactBatch?: number;
  /** Rows read per synchronous step of a list or a watch replay (default 1000). */
  scanChunk?: number;
  /** Most writes committed in one transaction (default 1000); the rest go in the next turn. */
  maxBatch?: number;
  /** Idle interval of the background WAL checkpointer (default 250 ms; 0: SQLite checkpoints inline). */
  checkpointIntervalMs?: number;
}

/** An empty store is at revision 1, as etcd is, so that 0 keeps meaning "current" / "any". */
const INITIAL_REVISION = 1;

type WriteOperation =
  | { kind: 'create'; key: string; value: string }
  | { kind: 'update'; key: string; value: string; expectedModRevision: number }
  | { kind: 'delete'; key: string; expectedModRevision?: number };

interface QueuedWrite {
  operation: WriteOperation;
  resolve(keyValue: KeyValue): void;
  reject(error: unknown): void;
}

type WriteOutcome = { result: KeyValue; event: StorageEvent } | { error: StorageError };

/** An unexpected (non-StorageError) failure of one write, which forces its batch to be retried without it. */
class WriteFailure extends Error {
  constructor(
    readonly index: number,
    override readonly cause: unknown,
  ) {
    super('write failed');
  }
}

export class SqliteStorage implements Storage {
  readonly name = 'sqlite';
  readonly notifiesSynchronously = true;
  /** Counters for tests and metrics. */
  readonly stats = { transactions: 0, writes: 0, compactedRows: 0 };

  private readonly db: Database.Database;
  private readonly statements: Statements;
  private readonly fanout: WatchFanout;
  private readonly checkpointer: Checkpointer | undefined;
  private readonly compactBatch: number;
  private readonly scanChunk: number;
  private readonly maxBatch: number;
  private readonly writeBatch: Database.Transaction<(writes: QueuedWrite[], outcomes: WriteOutcome[]) => void>;
  private revision: number;
  /** Committed and published; with FULL durability it lags `revision` while a sync is in flight. */
  private publishedRevision: number;
  private readonly walPath: string | undefined;
  private walFd: number | undefined;
  private unsynced: (() => void)[] = [];
  private syncing = false;
  private syncIdle: Promise<void> = Promise.resolve();
  private markSyncIdle: (() => void) | undefined;
  private compacted: number;
  private queue: QueuedWrite[] = [];
  private flushScheduled = false;
  private compaction: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(path: string, options: SqliteStorageOptions = {}) {
    this.compactBatch = options.compactBatch ?? 500;
    this.scanChunk = options.scanChunk ?? 1000;
    this.maxBatch = options.maxBatch ?? 1000;
    const checkpointIntervalMs = options.checkpointIntervalMs ?? 250;
    const inMemory = path === ':memory:' || path === '';
    const backgroundCheckpoint = !inMemory && checkpointIntervalMs > 0;
    this.db = openDatabase(path);
    this.walPath = inMemory || options.synchronous === 'NORMAL' ? undefined : `${path}-wal`;
    this.statements = prepareStatements(this.db);
    this.compacted = this.statements.readMeta.get('compact_revision') ?? 0;
    this.revision = Math.max(INITIAL_REVISION, this.statements.newestRevision.get() ?? 0, this.compacted);
    this.publishedRevision = this.revision;
    this.writeBatch = this.db.transaction((writes: QueuedWrite[], outcomes: WriteOutcome[]) => {
      writes.forEach((write, index) => {
        try {
          outcomes.push(this.apply(write.operation));
        } catch (error) {
          if (!(error instanceof StorageError)) throw new WriteFailure(index, error);
          outcomes.push({ error });
        }
      });
    });
    this.fanout = new WatchFanout({
      currentRevision: () => this.publishedRevision,
      compactedRevision: () => this.compacted,
      readEvents: (prefix, afterRevision, throughRevision) => this.readEvents(prefix, afterRevision, throughRevision),
    });
    this.checkpointer = backgroundCheckpoint ? startCheckpointer(path, checkpointIntervalMs) : undefined;
  }

  async get(key: string, revision?: number): Promise<KeyValue | undefined> {
    const readRevision = this.readRevision(revision);
    if (readRevision === this.revision) return this.statements.current.get(key);
    const row = this.statements.versionAt.get(key, readRevision);
    return row && !row.deleted ? toKeyValue(row) : undefined;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const revision = this.readRevision(options.revision);
    const limit = options.limit && options.limit > 0 ? options.limit : Infinity;
    const end = rangeEnd(prefix);
    const afterWithin = options.after !== undefined && options.after >= prefix;
    let lowerBound = afterWithin ? options.after! : prefix;
    let inclusive = !afterWithin;
    const items: KeyValue[] = [];
    for (let firstChunk = true; ; firstChunk = false) {
      if (!firstChunk) {
        await new Promise((resolve) => setImmediate(resolve));
        this.assertOpen();
        if (revision < this.compacted) throw new CompactedError(revision, this.compacted);
      }
      // One more than still wanted, to learn whether the page is the last one.
      const wanted = Math.min(limit - items.length + 1, this.scanChunk);
      const chunk = this.readChunk(revision, lowerBound, inclusive, end, wanted);
      for (const item of chunk.items) {
        if (items.length === limit) return { items, revision, more: true };
        items.push(item);
      }
      if (chunk.exhausted) return { items, revision, more: false };
      lowerBound = chunk.lastKey;
      inclusive = false;
    }
  }

  async count(prefix: string): Promise<number> {
    this.assertOpen();
    return this.statements.count.get(prefix, rangeEnd(prefix)) ?? 0;
  }

  create(key: string, value: string): Promise<KeyValue> {
    return this.enqueue({ kind: 'create', key, value });
  }

  update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    return this.enqueue({ kind: 'update', key, value, expectedModRevision });
  }

  delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    return this.enqueue({ kind: 'delete', key, expectedModRevision });
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher {
    this.assertOpen();
    return this.fanout.watch(prefix, fromRevision, handlers);
  }

  /** The newest revision whose events have been published (and, with FULL durability, synced). */
  async currentRevision(): Promise<number> {
    this.assertOpen();
    return this.publishedRevision;
  }

  compact(revision: number): Promise<void> {
    // Serialized: each sweep starts where the previous one stopped.
    const run = this.compaction.then(() => this.compactTo(revision));
    this.compaction = run.catch(() => {});
    return run;
  }

  async compactedRevision(): Promise<number> {
    this.assertOpen();
    return this.compacted;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flushAll();
    this.closed = true;
    await this.syncIdle;
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.fanout.closeAll(new StorageError('storage is closed'));
    await this.compaction;
    await this.checkpointer?.stop();
    this.db.close();
  }

  /** Rows in the revision log (live values, superseded values and deletions not yet compacted). */
  logRowCount(): number {
    this.assertOpen();
    return this.statements.logRowCount.get() ?? 0;
  }

  // ---- writes ----

  private enqueue(operation: WriteOperation): Promise<KeyValue> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new StorageError('storage is closed'));
        return;
      }
      this.queue.push({ operation, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate rather than nextTick: it runs after the whole I/O phase, so writes from
        // every request that arrived together share one commit.
        setImmediate(() => this.flushSome());
      }
    });
  }

  private flushSome(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    this.commitBatch(this.queue.splice(0, this.maxBatch));
    if (this.queue.length > 0) {
      this.flushScheduled = true;
      setImmediate(() => this.flushSome());
    }
  }

  private flushAll(): void {
    while (this.queue.length > 0) this.commitBatch(this.queue.splice(0, this.maxBatch));
  }

  private commitBatch(batch: QueuedWrite[]): void {
    let writes = batch;
    while (writes.length > 0) {
      const startRevision = this.revision;
      const outcomes: WriteOutcome[] = [];
      try {
        this.writeBatch.immediate(writes, outcomes);
      } catch (error) {
        this.revision = startRevision;
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        if (error instanceof WriteFailure) {
          // Nothing was committed: run the others again without the write that broke.
          writes[error.index].reject(error.cause);
          writes = writes.filter((_, index) => index !== error.index);
          continue;
        }
        for (const write of writes) write.reject(error);
        return;
      }
      this.stats.transactions++;
      const events: StorageEvent[] = [];
      for (const outcome of outcomes) if ('event' in outcome) events.push(outcome.event);
      this.stats.writes += events.length;
      const committed = this.revision;
      const settle = () => {
        this.publishedRevision = Math.max(this.publishedRevision, committed);
        this.fanout.publish(events);
        outcomes.forEach((outcome, index) => {
          if ('error' in outcome) writes[index].reject(outcome.error);
          else writes[index].resolve(outcome.result);
        });
      };
      if (this.walPath && events.length > 0) this.afterSync(settle);
      else if (this.syncing || this.unsynced.length > 0) this.afterSync(settle); // keep acknowledgements in order
      else settle();
      return;
    }
  }

  /**
   * Runs `settle` once the WAL holding everything committed so far is on disk. One fdatasync covers every
   * batch committed before it started; it runs on libuv's thread pool, so requests keep flowing (and the
   * next batch keeps growing) while the disk works.
   */
  private afterSync(settle: () => void): void {
    this.unsynced.push(settle);
    if (!this.syncing) this.startSync();
  }

  private startSync(): void {
    const waiting = this.unsynced;
    this.unsynced = [];
    if (waiting.length === 0) {
      this.markSyncIdle?.();
      this.markSyncIdle = undefined;
      return;
    }
    if (!this.syncing) {
      this.syncing = true;
      this.syncIdle = new Promise((resolve) => (this.markSyncIdle = resolve));
    }
    const done = (error: NodeJS.ErrnoException | null) => {
      if (error) {
        // The disk refused: nothing after this point can be called durable.
        console.error(`[sqlite] fdatasync of ${this.walPath} failed: ${error.message}; exiting`);
        process.exit(70);
      }
      for (const settle of waiting) settle();
      if (this.unsynced.length > 0) {
        this.startSync();
      } else {
        this.syncing = false;
        this.markSyncIdle?.();
        this.markSyncIdle = undefined;
      }
    };
    try {
      this.walFd ??= openSync(this.walPath!, 'r+');
    } catch (error) {
      done(error as NodeJS.ErrnoException);
      return;
    }
    fdatasync(this.walFd, done);
  }

  /** One write inside the batch transaction. Its checks read through the transaction. */
  private apply(operation: WriteOperation): WriteOutcome {
    const { key } = operation;
    const existing = this.statements.current.get(key);
    const revision = this.revision + 1;
    if (operation.kind === 'create') {
      if (existing) throw new KeyExistsError(key);
      this.statements.insertLog.run(revision, key, 0, revision, null, operation.value);
      this.statements.insertCurrent.run(key, revision);
      this.revision = revision;
      const result = { key, value: operation.value, createRevision: revision, modRevision: revision };
      return { result, event: { type: 'PUT', key, value: operation.value, revision, createRevision: revision } };
    }
    if (!existing) throw new NotFoundError(key);
    if (operation.expectedModRevision !== undefined && existing.modRevision !== operation.expectedModRevision) {
      throw new ConflictError(key, existing);
    }
    const previous = { prevValue: existing.value, prevRevision: existing.modRevision };
    const createRevision = existing.createRevision;
    if (operation.kind === 'update') {
      this.statements.insertLog.run(revision, key, 0, createRevision, existing.modRevision, operation.value);
      this.statements.updateCurrent.run(revision, key);
      this.revision = revision;
      const result = { key, value: operation.value, createRevision, modRevision: revision };
      return { result, event: { type: 'PUT', key, value: operation.value, revision, createRevision, ...previous } };
    }
    this.statements.insertLog.run(revision, key, 1, createRevision, existing.modRevision, null);
    this.statements.deleteCurrent.run(key);
    this.revision = revision;
    const result = { key, value: existing.value, createRevision, modRevision: revision };
    return { result, event: { type: 'DELETE', key, value: existing.value, revision, createRevision, ...previous } };
  }

  // ---- reads ----

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

  /**
   * Up to `wanted` keys from the lower bound, as of `revision`: from `current` while nothing has been
   * written since, otherwise from the log, so a paged scan stays one consistent snapshot.
   */
  private readChunk(
    revision: number,
    lowerBound: string,
    inclusive: boolean,
    end: string,
    wanted: number,
  ): { items: KeyValue[]; lastKey: string; exhausted: boolean } {
    if (revision === this.revision) {
      const statement = inclusive ? this.statements.currentPageFrom : this.statements.currentPageAfter;
      const items = statement.all(lowerBound, end, wanted);
      return { items, lastKey: items.at(-1)?.key ?? lowerBound, exhausted: items.length < wanted };
    }
    const statement = inclusive ? this.statements.versionsPageFrom : this.statements.versionsPageAfter;
    const versions = statement.all(lowerBound, end, revision, wanted);
    return {
      items: versions.filter((row) => !row.deleted).map(toKeyValue),
      lastKey: versions.at(-1)?.key ?? lowerBound,
      exhausted: versions.length < wanted,
    };
  }

  /** A bounded window of the log for a watch replay. */
  private readEvents(prefix: string, afterRevision: number, throughRevision: number) {
    const scannedThrough = Math.min(throughRevision, afterRevision + this.scanChunk);
    const rows = this.statements.events.all(afterRevision, scannedThrough, prefix, rangeEnd(prefix));
    return { events: rows.map(toEvent), scannedThrough };
  }

  // ---- compaction ----

  private async compactTo(revision: number): Promise<void> {
    this.assertOpen();
    if (revision <= this.compacted) return;
    if (revision > this.revision) {
      throw new StorageError(`cannot compact to revision ${revision}: it is in the future (current ${this.revision})`);
    }
    // The floor moves first: from now on nothing reads below it, whatever the sweep has reached.
    this.statements.writeMeta.run('compact_revision', revision);
    this.compacted = revision;
    await sweepCompactedRows({
      db: this.db,
      statements: this.statements,
      target: revision,
      batchRows: this.compactBatch,
      shouldStop: () => this.closed,
      onDeleted: (rows) => (this.stats.compactedRows += rows),
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageError('storage is closed');
  }
}

/** The exclusive end of the keys under `prefix`; the empty prefix spans every key. */
function rangeEnd(prefix: string): string {
  return prefix === '' ? '\u{10FFFF}' : prefixEnd(prefix);
}

function toKeyValue(row: CurrentRow): KeyValue {
  return { key: row.key, value: row.value, createRevision: row.createRevision, modRevision: row.modRevision };
}

function toEvent(row: EventRow): StorageEvent {
  // A deletion row has no value of its own: the event carries the value it removed.
  const event: StorageEvent = {
    type: row.deleted ? 'DELETE' : 'PUT',
    key: row.key,
    value: (row.deleted ? row.prevValue : row.value) ?? '',
    revision: row.revision,
    createRevision: row.createRevision,
  };
  if (row.prevRevision !== null) {
    event.prevRevision = row.prevRevision;
    event.prevValue = row.prevValue ?? '';
  }
  return event;
}
