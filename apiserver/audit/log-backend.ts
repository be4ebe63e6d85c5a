// The log backend (--audit-log-path): events are queued in memory and written in batches by one
// asynchronous write at a time, so a request never waits for the disk. While a write is under way new
// events gather into the next batch. A queue that grows past its bound (a disk that cannot keep up) drops
// events rather than holding memory or slowing requests, and counts them, as upstream's batch backend does.
// Rotation follows lumberjack, which kube-apiserver uses: when the next write would take the file past
// --audit-log-maxsize megabytes it is renamed to <name>-<UTC time>.<ext> and a new file started; old files
// beyond --audit-log-maxbackup or older than --audit-log-maxage days are removed.

import { closeSync, openSync, fstatSync, renameSync, readdirSync, unlinkSync, mkdirSync, writeSync } from 'node:fs';
import { write as writeAsync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { auditMetrics } from '../metrics/registry.js';

export interface LogBackendOptions {
  /** File path, or "-" for standard output. */
  path: string;
  /** Megabytes before rotation (0: lumberjack's default of 100). */
  maxSizeMB?: number;
  /** Rotated files kept (0: all). */
  maxBackups?: number;
  /** Days rotated files are kept (0: no limit). */
  maxAgeDays?: number;
  /** Events queued before new ones are dropped. */
  bufferSize?: number;
}

export interface AuditBackend {
  write(line: string): void;
  /** Writes everything queued; resolves once it is on disk (on shutdown). */
  close(): Promise<void>;
}

const MEGABYTE = 1024 * 1024;

export class LogBackend implements AuditBackend {
  private queue: string[] = [];
  private writing = false;
  private scheduled = false;
  private closed = false;
  private fd: number | undefined;
  private size = 0;
  private readonly maxBytes: number;
  private readonly idle: (() => void)[] = [];

  constructor(private readonly options: LogBackendOptions) {
    this.maxBytes = (options.maxSizeMB || 100) * MEGABYTE;
    if (options.path !== '-') {
      mkdirSync(dirname(options.path), { recursive: true });
      this.open();
    }
  }

  write(line: string): void {
    if (this.closed) return;
    if (this.queue.length >= (this.options.bufferSize ?? 10_000)) {
      auditMetrics.errors.inc({ plugin: 'log' });
      return;
    }
    auditMetrics.events.inc();
    this.queue.push(line);
    if (!this.writing && !this.scheduled) {
      this.scheduled = true;
      // Let the events of this turn of the event loop join the same batch.
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    if (this.writing || !this.queue.length) {
      if (!this.writing) this.notifyIdle();
      return;
    }
    const batch = Buffer.from(this.queue.join(''));
    this.queue = [];
    if (this.options.path === '-') {
      process.stdout.write(batch);
      return this.flush();
    }
    this.rotateIfNeeded(batch.length);
    this.writing = true;
    this.writeAll(batch, 0, () => {
      this.writing = false;
      this.flush();
    });
  }

  private writeAll(batch: Buffer, offset: number, done: () => void): void {
    writeAsync(this.fd!, batch, offset, batch.length - offset, null, (error, written) => {
      if (error) {
        auditMetrics.errors.inc({ plugin: 'log' });
        process.stderr.write(`[audit] writing ${this.options.path}: ${error.message}\n`);
        return done();
      }
      this.size += written;
      if (offset + written < batch.length) return this.writeAll(batch, offset + written, done);
      done();
    });
  }

  private notifyIdle(): void {
    for (const resolve of this.idle.splice(0)) resolve();
  }

  private open(): void {
    this.fd = openSync(this.options.path, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  private rotateIfNeeded(incoming: number): void {
    if (this.size === 0 || this.size + incoming <= this.maxBytes) return;
    closeSync(this.fd!);
    renameSync(this.options.path, backupName(this.options.path, new Date()));
    this.open();
    this.removeOldBackups();
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
          // already gone
        }
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      this.idle.push(resolve);
      if (!this.writing && !this.scheduled) this.flush();
    });
    this.closed = true;
    if (this.fd !== undefined) {
      // Anything queued while the last batch was written.
      if (this.queue.length) writeSync(this.fd, this.queue.join(''));
      closeSync(this.fd);
    }
  }
}

/** lumberjack's backup name: audit.log → audit-2006-01-02T15-04-05.000.log (UTC). */
export function backupName(path: string, when: Date): string {
  const extension = extname(path);
  const prefix = basename(path, extension);
  const stamp = when.toISOString().replace(/:/g, '-').replace(/Z$/, '');
  return join(dirname(path), `${prefix}-${stamp}${extension}`);
}

export function listBackups(path: string): { path: string; time: number }[] {
  const extension = extname(path);
  const prefix = `${basename(path, extension)}-`;
  const backups: { path: string; time: number }[] = [];
  for (const entry of readdirSync(dirname(path))) {
    if (!entry.startsWith(prefix) || !entry.endsWith(extension)) continue;
    const stamp = entry.slice(prefix.length, entry.length - extension.length);
    const match = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})\.(\d{3})$/.exec(stamp);
    if (!match) continue;
    backups.push({ path: join(dirname(path), entry), time: Date.parse(`${match[1]}T${match[2]}:${match[3]}:${match[4]}.${match[5]}Z`) });
  }
  return backups;
}
