// `npm run bench`: every figure is a ratio against a floor measured in the same run on this machine.
// GET of one 2 KB object: raw Node https server (floor) vs directly on core-apiserver vs through the
// aggregator; creates through the chain vs raw SQLite single-row commits in this process.

import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Cluster } from '../test/harness.js';
import { runLoad, type LoadResult, type Target } from './load.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

function pidOf(script: string, dataDir: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(script) && cmdline.includes(dataDir)) return Number(entry);
    } catch {
      // the process went away
    }
  }
  throw new Error(`no process for ${script}`);
}

function rawSqliteCommits(synchronous: 'NORMAL' | 'FULL', dir: string): number {
  const file = join(dir, `raw-${synchronous}.db`);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec('CREATE TABLE kv (id INTEGER PRIMARY KEY, key TEXT, value TEXT)');
  const insert = db.prepare('INSERT INTO kv (key, value) VALUES (?, ?)');
  const value = 'x'.repeat(2048);
  let count = 0;
  const started = process.hrtime.bigint();
  const end = Date.now() + 2000;
  while (Date.now() < end) insert.run(`/registry/configmaps/default/c${count++}`, value);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  db.close();
  rmSync(file, { force: true });
  return count / seconds;
}

function line(name: string, result: LoadResult): string {
  return `${name.padEnd(34)} ${result.perSecond.toFixed(0).padStart(7)} req/s  ${(result.cpuMsPerRequest * 1000).toFixed(0).padStart(6)} µs CPU/req  (errors ${result.errors})`;
}

const cluster = await Cluster.start();
try {
  const ca = readFileSync(cluster.pki.caCert);
  const cert = readFileSync(cluster.pki.adminCert);
  const key = readFileSync(cluster.pki.adminKey);
  const aggregatorPid = pidOf('dist/aggregator/main.js', cluster.dataDir);
  const corePid = pidOf('dist/core-apiserver/main.js', cluster.dataDir);
  const corePort = Number(/\[core-apiserver\] \{"component":"core-apiserver","listening":"https:\/\/127\.0\.0\.1:(\d+)"\}/.exec(cluster.output)?.[1]);

  // One 2 KB object.
  const data: Record<string, string> = {};
  for (let index = 0; index < 16; index++) data[`key-${index}`] = 'v'.repeat(100);
  const created = await cluster.request('POST', '/api/v1/namespaces/default/configmaps', {
    body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bench', labels: { app: 'bench' } }, data }),
    headers: { 'Content-Type': 'application/json' },
  });
  if (created.status !== 201) throw new Error(`setup failed: ${created.status} ${created.body}`);
  const objectPath = '/api/v1/namespaces/default/configmaps/bench';
  const bytes = (await cluster.request('GET', objectPath)).body;
  const bodyFile = join(cluster.dataDir, 'bench-object.json');
  writeFileSync(bodyFile, bytes);

  const rawScript = fileURLToPath(new URL('./raw-server.js', import.meta.url));
  const raw = spawn(process.execPath, [rawScript, cluster.pki.serving['core-apiserver'].cert, cluster.pki.serving['core-apiserver'].key, cluster.pki.caCert, bodyFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  const rawPort = await new Promise<number>((resolve) => createInterface({ input: raw.stdout! }).once('line', (text) => resolve((JSON.parse(text) as { port: number }).port)));

  const target = (port: number): Target => ({ port, ca, cert, key });
  const get = () => ({ method: 'GET', path: objectPath, headers: { Accept: 'application/json' } });
  const load = { seconds: SECONDS, concurrency: CONCURRENCY, expect: 200 };

  console.log(`object: ${Buffer.byteLength(bytes)} bytes; ${SECONDS}s per run, concurrency ${CONCURRENCY}; CPU counts the server processes only`);
  const rawResult = await runLoad(target(rawPort), get, { ...load, pids: [raw.pid!] });
  const direct = await runLoad(target(corePort), get, { ...load, pids: [corePid] });
  const proxied = await runLoad(target(cluster.port), get, { ...load, pids: [aggregatorPid, corePid] });
  const proxiedAggregatorOnly = await runLoad(target(cluster.port), get, { ...load, pids: [aggregatorPid] });
  raw.kill('SIGTERM');

  const creates = await runLoad(
    target(cluster.port),
    (index) => ({
      method: 'POST',
      path: '/api/v1/namespaces/default/configmaps',
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `bench-${index}` }, data: { a: 'b' } }),
      headers: { 'Content-Type': 'application/json' },
    }),
    { ...load, expect: 201, pids: [aggregatorPid, corePid] },
  );
  const commitsFull = rawSqliteCommits('FULL', cluster.dataDir);
  const commitsNormal = rawSqliteCommits('NORMAL', cluster.dataDir);

  console.log(line('GET raw node https (floor)', rawResult));
  console.log(line('GET direct on core-apiserver', direct));
  console.log(line('GET through the aggregator', proxied));
  console.log(line('create through the chain', creates));
  console.log(`raw SQLite single-row commits        ${commitsFull.toFixed(0).padStart(7)} /s (synchronous=FULL)  ${commitsNormal.toFixed(0)} /s (NORMAL)`);
  console.log('');
  const ratio = (name: string, value: number, goal: number, higherIsBetter = true) =>
    console.log(`${name.padEnd(52)} ${value.toFixed(2).padStart(6)}×   goal ${higherIsBetter ? '≥' : '≤'} ${goal}×  ${(higherIsBetter ? value >= goal : value <= goal) ? 'met' : 'NOT met'}`);
  ratio('direct GET / raw server (req/s)', direct.perSecond / rawResult.perSecond, 0.35);
  ratio('proxied GET / direct GET (req/s)', proxied.perSecond / direct.perSecond, 0.45);
  ratio('extra CPU per proxied GET / raw request CPU', (proxied.cpuMsPerRequest - direct.cpuMsPerRequest) / rawResult.cpuMsPerRequest, 3.5, false);
  console.log(`${'  of which in the aggregator process'.padEnd(52)} ${(proxiedAggregatorOnly.cpuMsPerRequest / rawResult.cpuMsPerRequest).toFixed(2).padStart(6)}×`);
  ratio('creates through the chain / raw commits (FULL)', creates.perSecond / commitsFull, 0.6);
  console.log(`${'creates through the chain / raw commits (NORMAL)'.padEnd(52)} ${(creates.perSecond / commitsNormal).toFixed(2).padStart(6)}×`);
} finally {
  await cluster.stop();
  cluster.cleanup();
}
