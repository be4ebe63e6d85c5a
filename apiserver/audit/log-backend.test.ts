import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogMode } from './log-backend.js';
import { backupName, listBackups, LogBackend } from './log-backend.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

  it('blocking (the default): a turn of the event loop\'s lines are in the file at its end, in one write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-log-'));
    try {
      const path = join(dir, 'audit.log');
      const backend = new LogBackend({ path });
      assert.equal(backend.mode, 'blocking');
      for (let index = 0; index < 3; index++) assert.equal(backend.write(`{"n":${index}}\n`), true);
      assert.equal(readFileSync(path, 'utf8'), '', 'not yet: the turn is not over');
      await turn();
      assert.equal(readFileSync(path, 'utf8'), '{"n":0}\n{"n":1}\n{"n":2}\n');
      backend.write('{"n":3}\n');
      await backend.close();
      assert.equal(readFileSync(path, 'utf8').split('\n').length, 5, 'close writes what the turn left');
      assert.equal(backend.write('{"late":true}\n'), false, 'a closed log takes nothing');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('batch: writes once max-size lines wait or max-wait has passed, drops past the buffer, flushes on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-log-'));
    try {
      const path = join(dir, 'audit.log');
      const backend = new LogBackend({ path, mode: 'batch', batch: { bufferSize: 6, maxSize: 3, maxWaitMs: 150 } });
      backend.write('1\n');
      backend.write('2\n');
      await sleep(40);
      assert.equal(readFileSync(path, 'utf8'), '', 'two lines wait for a third or for max-wait');
      backend.write('3\n');
      for (let wait = 0; wait < 100 && readFileSync(path, 'utf8') !== '1\n2\n3\n'; wait++) await sleep(10);
      assert.equal(readFileSync(path, 'utf8'), '1\n2\n3\n', 'a full batch is written at once');
      backend.write('4\n');
      await sleep(40);
      assert.equal(readFileSync(path, 'utf8'), '1\n2\n3\n');
      for (let wait = 0; wait < 100 && !readFileSync(path, 'utf8').endsWith('4\n'); wait++) await sleep(10);
      assert.equal(readFileSync(path, 'utf8'), '1\n2\n3\n4\n', 'a lone line is written after max-wait');

      const full = new LogBackend({ path: join(dir, 'full.log'), mode: 'batch', batch: { bufferSize: 2, maxSize: 100, maxWaitMs: 60_000 } });
      assert.deepEqual(['a\n', 'b\n', 'c\n'].map((line) => full.write(line)), [true, true, false], 'past the buffer, lines are dropped');
      await full.close();
      assert.equal(readFileSync(join(dir, 'full.log'), 'utf8'), 'a\nb\n', 'close writes what waits, without waiting for max-wait');
      await backend.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const mode of ['batch', 'blocking'] as LogMode[]) {
    it(`${mode}: rotation keeps every line, in order, and no file over the maximum`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'audit-log-'));
      try {
        const path = join(dir, 'audit.log');
        const backend = new LogBackend({ path, maxSizeMB: 1, mode, batch: { maxSize: 500 } });
        const pad = 'x'.repeat(900);
        // One large batch that must be split across files, then lines in later batches.
        for (let index = 0; index < 2500; index++) backend.write(`{"n":${index},"pad":"${pad}"}\n`);
        await sleep(5);
        for (let index = 2500; index < 3500; index++) backend.write(`{"n":${index},"pad":"${pad}"}\n`);
        await backend.close();
        const files = [...listBackups(path).sort((a, b) => a.time - b.time || a.path.localeCompare(b.path)).map((backup) => backup.path), path];
        assert.ok(files.length >= 4, files.join(' '));
        const numbers: number[] = [];
        for (const file of files) {
          const text = readFileSync(file, 'utf8');
          assert.ok(Buffer.byteLength(text) <= 1024 * 1024, `${file} is over 1 MB`);
          for (const line of text.split('\n').filter(Boolean)) numbers.push(JSON.parse(line).n);
        }
        assert.deepEqual(numbers, [...Array(3500).keys()]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('--audit-log-compress gzips rotated files beside themselves, as lumberjack', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-log-'));
    try {
      const path = join(dir, 'audit.log');
      writeFileSync(path, `${'{"old":true}\n'.repeat(90_000)}`);
      const backend = new LogBackend({ path, maxSizeMB: 1, compress: true });
      backend.write('{"new":true}\n');
      await backend.close();
      const [backup] = listBackups(path);
      assert.match(backup.path, /audit-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}\.log\.gz$/);
      assert.equal(existsSync(backup.path.slice(0, -3)), false, 'the uncompressed file is gone');
      assert.equal(gunzipSync(readFileSync(backup.path)).toString(), '{"old":true}\n'.repeat(90_000));
      assert.equal(readFileSync(path, 'utf8'), '{"new":true}\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('blocking-strict: a line that cannot be written says so at once', async () => {
    const backend = new LogBackend({ path: '/dev/full', mode: 'blocking-strict' });
    const originalWrite = process.stderr.write;
    process.stderr.write = () => true; // the backend reports the failure there
    try {
      assert.equal(backend.failsRequests, true);
      assert.equal(backend.write('{"n":1}\n'), false);
    } finally {
      process.stderr.write = originalWrite;
      await backend.close();
    }
    const blocking = new LogBackend({ path: '/dev/null' });
    assert.equal(blocking.failsRequests, false);
    await blocking.close();
  });

  it('a process that exits without closing its log still leaves every line in it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-log-'));
    try {
      const module = new URL('./log-backend.js', import.meta.url).href;
      for (const mode of ['blocking', 'batch']) {
        const path = join(dir, `${mode}.log`);
        const script = `import { LogBackend } from ${JSON.stringify(module)};
const backend = new LogBackend({ path: ${JSON.stringify(path)}, mode: ${JSON.stringify(mode)}, batch: { maxSize: 1000, maxWaitMs: 60000 } });
for (let n = 0; n < 100; n++) backend.write(JSON.stringify({ n }) + '\\n');
process.exit(0);`;
        execFileSync(process.execPath, ['--input-type=module', '-e', script]);
        assert.equal(readFileSync(path, 'utf8').split('\n').filter(Boolean).length, 100, mode);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
