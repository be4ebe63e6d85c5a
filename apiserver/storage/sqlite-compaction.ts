// Removes the log rows that no read at or after the compacted revision can need, in small
// transactions with a turn of the event loop between them so writes and reads keep flowing.
//
// Only rows written since the previous sweep can supersede anything new, so the sweep walks those
// (ids from `compact_swept` up to the target), not the whole log. For each such row it drops the
// older rows of the same key; a deletion row below the target goes too, in the same transaction as
// the rows it buried so a key never reappears. The target's own row is left alone and revisited by
// the next sweep, because a deletion at the target must stay until the target is passed.

import type Database from 'better-sqlite3';
import type { Statements, SweepRow } from './sqlite-schema.js';

export interface SweepOptions {
  db: Database.Database;
  statements: Statements;
  /** The compacted revision: rows superseded at or below it are dropped. */
  target: number;
  /** Rows examined per transaction. */
  batchRows: number;
  /** Polled between transactions: the store is closing. */
  shouldStop(): boolean;
  /** Called after each transaction with the number of rows it deleted. */
  onDeleted(rows: number): void;
}

export async function sweepCompactedRows(options: SweepOptions): Promise<void> {
  const { db, statements, target, batchRows } = options;
  const sweepBatch = db.transaction((rows: SweepRow[]): number => {
    // Ids ascend, so the last row seen per key is its newest in this batch and covers the rest.
    const newestPerKey = new Map<string, SweepRow>();
    for (const row of rows) newestPerKey.set(row.key, row);
    let deleted = 0;
    for (const newest of newestPerKey.values()) {
      deleted += statements.deleteOlder.run(newest.key, newest.id).changes;
      if (newest.deleted && newest.id < target) deleted += statements.deleteRow.run(newest.id).changes;
    }
    statements.writeMeta.run('compact_swept', Math.min(rows[rows.length - 1].id + 1, target));
    return deleted;
  });

  let cursor = statements.readMeta.get('compact_swept') ?? 0;
  while (cursor <= target) {
    if (options.shouldStop()) return;
    const rows = statements.sweepRows.all(cursor, target, batchRows);
    if (rows.length === 0) break;
    options.onDeleted(sweepBatch.immediate(rows));
    cursor = rows[rows.length - 1].id + 1;
    if (cursor <= target) await new Promise((resolve) => setImmediate(resolve));
  }
  if (!options.shouldStop()) statements.writeMeta.run('compact_swept', target);
}
