// The log backend (--audit-log-path) and its modes (--audit-log-mode), as upstream's:
//  - blocking (the default): nothing is dropped and the request path does the writing. Lines from one turn
//    of the event loop are joined and written synchronously at its end (setImmediate), before the loop
//    takes new I/O: one write(2) for many events, no thread-pool round trip (which costs several times a
//    small synchronous write on a busy machine).
//  - blocking-strict: each line is written at once; a request whose RequestReceived event cannot be
//    written fails (the caller sees write() return false), as upstream's strict mode.
//  - batch: lines are queued (at most --audit-log-batch-buffer-size; more are dropped and counted) and
//    written asynchronously, off the event loop, once --audit-log-batch-max-size are waiting or
//    --audit-log-batch-max-wait has passed since the first.
// Rotation follows lumberjack, which kube-apiserver uses: when the next line would take the file past
// --audit-log-maxsize megabytes it is renamed to <name>-<UTC time>.<ext> (gzipped afterwards with
// --audit-log-compress) and a new file started; old files beyond --audit-log-maxbackup or older than
// --audit-log-maxage days are removed.

import { closeSync, createReadStream, existsSync, createWriteStream, fstatSync, mkdirSync, openSync, readdirSync, renameSync, unlinkSync, write as writeAsync, writeSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { auditMetrics } from '../metrics/registry.js';

export const LOG_MODES = ['batch', 'blocking', 'blocking-strict'] as const;
export type LogMode = (typeof LOG_MODES)[number];

export interface BatchOptions {
  /** Lines queued before new ones are dropped. */
  bufferSize: number;
  /** Lines that start a write at once. */
  maxSize: number;
  /** Milliseconds a line waits at most for others to join its write. */
  maxWaitMs: number;
}

export interface LogBackendOptions {
  /** File path, or "-" for standard output. */
  path: string;
  /** Megabytes before rotation (0: lumberjack's default of 100). */
  maxSizeMB?: number;
  /** Rotated files kept (0: all). */
  maxBackups?: number;
  /** Days rotated files are kept (0: no limit). */
  maxAgeDays?: number;
  /** Gzip rotated files. */
  compress?: boolean;
  mode?: LogMode;
  /** Batch mode only (upstream's defaults for the log backend: 10000 lines, a batch of 1, no wait). */
  batch?: Partial<BatchOptions>;
}

export interface AuditBackend {
  /** A line that cannot be written at RequestReceived fails the request (blocking-strict). */
  readonly failsRequests?: boolean;
  /** Takes one line; false when it could not be stored (only blocking-strict knows at once). */
  write(line: string): boolean;
  /** Writes everything queued; resolves once it is in the file (on shutdown). */
  close(): Promise<void>;
}

const MEGABYTE = 1024 * 1024;

// A process that exits without closing its backends still leaves their last lines in the files.
const openBackends = new Set<LogBackend>();
process.once('exit', () => {
  for (const backend of openBackends) backend.flushSync();
});
const errorCounter = auditMetrics.errors.labels({ plugin: 'log' });

export class LogBackend implements AuditBackend {
  readonly mode: LogMode;
  private readonly batch: BatchOptions;
  private pending: string[] = [];
  /** Events since the events counter was last brought up to date (it is updated per write, not per line). */
  private uncounted = 0;
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private writing = false;
  private closed = false;
  private fd: number | undefined;
  private size = 0;
  private readonly maxBytes: number;
  private readonly idle: (() => void)[] = [];
  private readonly compressions = new Set<Promise<void>>();
  private readonly flushNow = () => this.flush();

  constructor(private readonly options: LogBackendOptions) {
    this.mode = options.mode ?? 'blocking';
    this.batch = { bufferSize: 10_000, maxSize: 1, maxWaitMs: 0, ...options.batch };
    this.maxBytes = (options.maxSizeMB || 100) * MEGABYTE;
    if (options.path !== '-') {
      mkdirSync(dirname(options.path), { recursive: true });
      this.open();
    }
    openBackends.add(this);
  }

  get failsRequests(): boolean {
    return this.mode === 'blocking-strict';
  }

  write(line: string): boolean {
    if (this.closed) return false;
    this.uncounted++;
    if (this.mode === 'blocking-strict') {
      this.pending.push(line);
      return this.flushSync();
    }
    if (this.mode === 'batch' && this.pending.length >= this.batch.bufferSize) {
      errorCounter.inc();
      return false;
    }
    this.pending.push(line);
    if (this.mode === 'blocking') {
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flushNow);
      }
    } else if (!this.writing) {
      if (this.pending.length >= this.batch.maxSize) this.flush();
      else this.timer ??= setTimeout(this.flushNow, this.batch.maxWaitMs);
    }
    return true;
  }

  private flush(): void {
    this.scheduled = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.mode !== 'batch' || this.options.path === '-') {
      this.flushSync();
      this.notifyIdle();
      return;
    }
    if (this.writing) return;
    if (!this.pending.length) return this.notifyIdle();
    const lines = this.takePending();
    this.writing = true;
    this.writeAsync(lines, () => {
      this.writing = false;
      // What arrived meanwhile is written now if it is a full batch (or the wait is over), else it waits.
      if (this.pending.length >= this.batch.maxSize || this.closed || this.idle.length) this.flush();
      else if (this.pending.length) this.timer ??= setTimeout(this.flushNow, this.batch.maxWaitMs);
      else this.notifyIdle();
    });
  }

  private takePending(): string[] {
    const lines = this.pending;
    this.pending = [];
    auditMetrics.events.inc(this.uncounted);
    this.uncounted = 0;
    return lines;
  }

  /** Writes every pending line now; false if any could not be written. */
  flushSync(): boolean {
    if (!this.pending.length) return true;
    const lines = this.takePending();
    if (this.options.path === '-') {
      process.stdout.write(lines.join(''));
      return true;
    }
    if (this.fd === undefined) return this.failed(lines.length, new Error('the log is closed'));
    let ok = true;
    const chunks = this.chunksBetweenRotations(lines);
    for (let index = 0; index < chunks.length; index++) {
      try {
        if (index > 0) this.rotate();
        this.writeTextSync(chunks[index]);
      } catch (error) {
        ok = this.failed(1, error as Error);
      }
    }
    return ok;
  }

  /** Writes text whole; a string goes to write(2) without a Buffer of ours unless the write was partial. */
  private writeTextSync(text: string): void {
    if (!text) return;
    const total = Buffer.byteLength(text);
    let written = writeSync(this.fd!, text);
    if (written < total) {
      const bytes = Buffer.from(text);
      while (written < total) written += writeSync(this.fd!, bytes, written);
    }
    this.size += total;
  }

  private writeAsync(lines: string[], done: () => void): void {
    const chunks = this.chunksBetweenRotations(lines);
    const next = (index: number): void => {
      if (index === chunks.length) return done();
      // A rotation is due before every chunk but the first.
      try {
        if (index > 0) this.rotate();
      } catch (error) {
        this.failed(1, error as Error);
        return next(chunks.length);
      }
      const bytes = Buffer.from(chunks[index]);
      if (!bytes.length) return next(index + 1);
      const writeFrom = (offset: number): void => {
        writeAsync(this.fd!, bytes, offset, bytes.length - offset, null, (error, written) => {
          if (error) {
            this.failed(1, error);
            return next(index + 1);
          }
          this.size += written;
          if (offset + written < bytes.length) return writeFrom(offset + written);
          next(index + 1);
        });
      };
      writeFrom(0);
    };
    next(0);
  }

  /**
   * The lines as text to write, split where lumberjack would rotate, so that a file never grows past the
   * maximum (unless one line alone is larger): the caller rotates between chunks (the first one, possibly
   * empty, goes to the current file).
   */
  private chunksBetweenRotations(lines: string[]): string[] {
    const text = lines.join('');
    // Lines are mostly ASCII: three bytes a character bounds the size without counting them.
    if (this.size + text.length * 3 <= this.maxBytes || this.size + Buffer.byteLength(text) <= this.maxBytes) return [text];
    const chunks: string[] = [];
    let size = this.size;
    let current: string[] = [];
    for (const line of lines) {
      const bytes = Buffer.byteLength(line);
      if (size > 0 && size + bytes > this.maxBytes) {
        chunks.push(current.join(''));
        current = [];
        size = 0;
      }
      current.push(line);
      size += bytes;
    }
    chunks.push(current.join(''));
    return chunks;
  }

  private failed(lines: number, error: Error): boolean {
    errorCounter.inc(lines);
    process.stderr.write(`[audit] writing ${this.options.path}: ${error.message}\n`);
    return false;
  }

  private notifyIdle(): void {
    if (this.writing || this.pending.length) return;
    for (const resolve of this.idle.splice(0)) resolve();
  }

  private open(): void {
    this.fd = openSync(this.options.path, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  private rotate(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    // Names have millisecond resolution: a second rotation within the same millisecond takes the next one.
    let when = Date.now();
    while (existsSync(backupName(this.options.path, new Date(when))) || existsSync(`${backupName(this.options.path, new Date(when))}.gz`)) when++;
    const backup = backupName(this.options.path, new Date(when));
    try {
      renameSync(this.options.path, backup);
    } finally {
      this.open(); // the new file, or the old one again if it could not be renamed
    }
    if (this.options.compress) this.compress(backup);
    this.removeOldBackups();
  }

  /** Gzips a rotated file beside itself (<backup>.gz, as lumberjack) off the request path. */
  private compress(backup: string): void {
    const done = pipeline(createReadStream(backup), createGzip(), createWriteStream(`${backup}.gz`, { mode: 0o600 }))
      .then(() => unlinkSync(backup))
      .catch((error: Error) => {
        errorCounter.inc();
        process.stderr.write(`[audit] compressing ${backup}: ${error.message}\n`);
      })
      .finally(() => this.compressions.delete(done));
    this.compressions.add(done);
  }

  private removeOldBackups(): void {
    const { maxBackups = 0, maxAgeDays = 0 } = this.options;
    if (!maxBackups && !maxAgeDays) return;
    const backups = listBackups(this.options.path).sort((a, b) => b.time - a.time);
    const cutoff = maxAgeDays ? Date.now() - maxAgeDays * 24 * 3600 * 1000 : -Infinity;
    backups.forEach((backup, index) => {
      if ((maxBackups && index >= maxBackups) || backup.time < cutoff) {
        try {
          unlinkSync(backup.path);
        } catch {
          // already gone, or still being compressed (its .gz is removed on the next rotation)
        }
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    openBackends.delete(this);
    if (this.writing) await new Promise<void>((resolve) => this.idle.push(resolve));
    if (this.timer) clearTimeout(this.timer);
    this.flushSync();
    await Promise.all(this.compressions);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** lumberjack's backup name: audit.log → audit-2006-01-02T15-04-05.000.log (UTC). */
export function backupName(path: string, when: Date): string {
  const extension = extname(path);
  const prefix = basename(path, extension);
  const stamp = when.toISOString().replace(/:/g, '-').replace(/Z$/, '');
  return join(dirname(path), `${prefix}-${stamp}${extension}`);
}

/** Rotated files of a log, compressed ones (<backup>.gz) included. */
export function listBackups(path: string): { path: string; time: number }[] {
  const extension = extname(path);
  const prefix = `${basename(path, extension)}-`;
  const backups: { path: string; time: number }[] = [];
  for (const entry of readdirSync(dirname(path))) {
    const name = entry.endsWith('.gz') ? entry.slice(0, -3) : entry;
    if (!name.startsWith(prefix) || !name.endsWith(extension)) continue;
    const stamp = name.slice(prefix.length, name.length - extension.length);
    const match = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})\.(\d{3})$/.exec(stamp);
    if (!match) continue;
    backups.push({ path: join(dirname(path), entry), time: Date.parse(`${match[1]}T${match[2]}:${match[3]}:${match[4]}.${match[5]}Z`) });
  }
  return backups;
}
