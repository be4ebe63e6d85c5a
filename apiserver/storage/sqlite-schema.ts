// The SQLite layout behind SqliteStorage, and every statement it runs, prepared once.
//
// `log` is the revision log: one row per write, its id IS the revision. A row stores its value once;
// a watch event's previous value is read from the row named by prev_revision, which compaction never
// removes while a newer event still points at it (it only drops rows superseded at or below the
// compacted revision). Deletions are rows with deleted = 1 and no value of their own.
// `current` maps each live key to the log row of its value, so reads at the current revision are two
// primary-key lookups instead of kine's MAX(id) GROUP BY over the whole log.
// `meta` holds the compacted revision and how far the compaction sweep got.

import Database from 'better-sqlite3';

const SCHEMA_VERSION = 1;

export type Synchronous = 'FULL' | 'NORMAL';

export function openDatabase(path: string): Database.Database {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    // SQLite itself never syncs on commit here: with FULL durability (the default) SqliteStorage syncs
    // the WAL with an asynchronous fdatasync before acknowledging, so the event loop never blocks on the
    // disk. A commit survives the process being killed either way.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_size_limit = 67108864');
    db.pragma('cache_size = -16384');
    db.pragma('temp_store = MEMORY');
    db.exec(`
      CREATE TABLE IF NOT EXISTS log (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL,
        deleted INTEGER NOT NULL,
        create_revision INTEGER NOT NULL,
        prev_revision INTEGER,
        value TEXT
      );
      CREATE INDEX IF NOT EXISTS log_key_id ON log (key, id);
      CREATE TABLE IF NOT EXISTS current (
        key TEXT PRIMARY KEY,
        id INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS meta (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      ) WITHOUT ROWID;
    `);
    const version = db.prepare<[], { value: number }>(`SELECT value FROM meta WHERE name = 'schema_version'`).get();
    if (version === undefined) {
      db.prepare(`INSERT INTO meta (name, value) VALUES ('schema_version', ?)`).run(SCHEMA_VERSION);
    } else if (version.value !== SCHEMA_VERSION) {
      throw new Error(`${path}: unsupported storage schema version ${version.value} (expected ${SCHEMA_VERSION})`);
    }
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** A live value, as read through `current`. */
export interface CurrentRow {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
}

/** The newest log row of a key at some revision; a deletion when `deleted` is 1. */
export interface VersionRow extends CurrentRow {
  deleted: number;
}

export interface EventRow {
  revision: number;
  key: string;
  deleted: number;
  createRevision: number;
  prevRevision: number | null;
  value: string | null;
  prevValue: string | null;
}

export interface SweepRow {
  id: number;
  key: string;
  deleted: number;
}

export type MetaName = 'compact_revision' | 'compact_swept';

const currentColumns = `c.key AS key, l.value AS value, l.create_revision AS createRevision, l.id AS modRevision`;

// The newest row per key at or below a revision, a page of keys at a time. The inner query walks the
// covering (key, id) index in key order; only the page's winning rows are then fetched.
function versionsPage(lowerBound: '>=' | '>'): string {
  return `
    SELECT l.key AS key, l.value AS value, l.create_revision AS createRevision, l.id AS modRevision, l.deleted AS deleted
    FROM (
      SELECT MAX(id) AS id FROM log
      WHERE key ${lowerBound} ? AND key < ? AND id <= ?
      GROUP BY key ORDER BY key LIMIT ?
    ) AS latest
    JOIN log l ON l.id = latest.id
    ORDER BY l.key`;
}

export function prepareStatements(db: Database.Database) {
  return {
    // Reads at the current revision.
    current: db.prepare<[string], CurrentRow>(
      `SELECT ${currentColumns} FROM current c JOIN log l ON l.id = c.id WHERE c.key = ?`,
    ),
    currentPageFrom: db.prepare<[string, string, number], CurrentRow>(
      `SELECT ${currentColumns} FROM current c JOIN log l ON l.id = c.id
       WHERE c.key >= ? AND c.key < ? ORDER BY c.key LIMIT ?`,
    ),
    currentPageAfter: db.prepare<[string, string, number], CurrentRow>(
      `SELECT ${currentColumns} FROM current c JOIN log l ON l.id = c.id
       WHERE c.key > ? AND c.key < ? ORDER BY c.key LIMIT ?`,
    ),
    count: db.prepare<[string, string], number>(`SELECT COUNT(*) FROM current WHERE key >= ? AND key < ?`).pluck(),

    // Reads at an older revision.
    versionAt: db.prepare<[string, number], VersionRow>(
      `SELECT key, value, create_revision AS createRevision, id AS modRevision, deleted
       FROM log WHERE key = ? AND id <= ? ORDER BY id DESC LIMIT 1`,
    ),
    versionsPageFrom: db.prepare<[string, string, number, number], VersionRow>(versionsPage('>=')),
    versionsPageAfter: db.prepare<[string, string, number, number], VersionRow>(versionsPage('>')),

    // Watch replay: a window of revisions, filtered by key. The unary + keeps SQLite on the id range
    // (bounded work per window) rather than the key index.
    events: db.prepare<[number, number, string, string], EventRow>(
      `SELECT l.id AS revision, l.key AS key, l.deleted AS deleted, l.create_revision AS createRevision,
              l.prev_revision AS prevRevision, l.value AS value, p.value AS prevValue
       FROM log l LEFT JOIN log p ON p.id = l.prev_revision
       WHERE l.id > ? AND l.id <= ? AND +l.key >= ? AND +l.key < ?
       ORDER BY l.id`,
    ),

    // Writes.
    insertLog: db.prepare<[number, string, number, number, number | null, string | null]>(
      `INSERT INTO log (id, key, deleted, create_revision, prev_revision, value) VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    insertCurrent: db.prepare<[string, number]>(`INSERT INTO current (key, id) VALUES (?, ?)`),
    updateCurrent: db.prepare<[number, string]>(`UPDATE current SET id = ? WHERE key = ?`),
    deleteCurrent: db.prepare<[string]>(`DELETE FROM current WHERE key = ?`),

    // Compaction.
    sweepRows: db.prepare<[number, number, number], SweepRow>(
      `SELECT id, key, deleted FROM log WHERE id >= ? AND id <= ? ORDER BY id LIMIT ?`,
    ),
    deleteOlder: db.prepare<[string, number]>(`DELETE FROM log WHERE key = ? AND id < ?`),
    deleteRow: db.prepare<[number]>(`DELETE FROM log WHERE id = ?`),

    // Bookkeeping.
    newestRevision: db.prepare<[], number | null>(`SELECT MAX(id) FROM log`).pluck(),
    logRowCount: db.prepare<[], number>(`SELECT COUNT(*) FROM log`).pluck(),
    readMeta: db.prepare<[MetaName], number>(`SELECT value FROM meta WHERE name = ?`).pluck(),
    writeMeta: db.prepare<[MetaName, number]>(
      `INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
    ),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
