import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupName, listBackups, LogBackend } from './log-backend.js';

describe('audit log backend', () => {
  it('writes every line in order, batched, and flushes on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-log-'));
    try {
      const backend = new LogBackend({ path: join(dir, 'audit.log') });
      for (let index = 0; index < 5000; index++) backend.write(`{"n":${index}}\n`);
      await backend.close();
      const lines = readFileSync(join(dir, 'audit.log'), 'utf8').trim().split('\n');
      assert.equal(lines.length, 5000);
      assert.deepEqual(lines.map((line) => JSON.parse(line).n), [...Array(5000).keys()]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rotates by size with lumberjack names and keeps at most maxbackup files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-log-'));
    try {
      const path = join(dir, 'audit.log');
      const backend = new LogBackend({ path, maxSizeMB: 1, maxBackups: 2 });
      const line = `${JSON.stringify({ pad: 'x'.repeat(1000) })}\n`;
      for (let round = 0; round < 4; round++) {
        for (let index = 0; index < 800; index++) backend.write(line);
        // Rotation names have millisecond resolution: let each batch land in its own millisecond.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await backend.close();
      const files = readdirSync(dir).sort();
      assert.ok(files.includes('audit.log'));
      const backups = files.filter((file) => /^audit-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}\.log$/.test(file));
      assert.equal(backups.length, 2, files.join(' '));
      for (const file of files) assert.ok(readFileSync(join(dir, file)).length <= 1024 * 1024, `${file} is over 1 MB`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('removes backups older than maxage days', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-log-'));
    try {
      const path = join(dir, 'audit.log');
      const old = backupName(path, new Date(Date.now() - 3 * 24 * 3600 * 1000));
      writeFileSync(old, 'old\n');
      writeFileSync(path, 'x'.repeat(1024 * 1024));
      const backend = new LogBackend({ path, maxSizeMB: 1, maxAgeDays: 2 });
      backend.write('{"new":true}\n');
      await backend.close();
      const backups = listBackups(path);
      assert.equal(backups.length, 1, 'the rotated file stays, the 3-day-old one is gone');
      assert.notEqual(backups[0].path, old);
      assert.equal(readFileSync(path, 'utf8'), '{"new":true}\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names backups as lumberjack does', () => {
    assert.equal(backupName('/var/log/audit.log', new Date('2026-11-23T00:01:02.345Z')), '/var/log/audit-2026-11-23T00-01-02.345.log');
  });
});
