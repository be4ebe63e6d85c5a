// `npm run bench`: every figure is a ratio against a floor measured in the same run on this machine.
// GET of one 2 KB object: raw Node https server (floor) vs directly on core-apiserver vs through the
// aggregator; creates through the chain vs raw SQLite single-row commits in this process.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Cluster } from '../test/harness.js';
import { runLoad, type LoadResult, type Target } from './load.js';
import { freePort } from '../launcher/ports.js';
import { ensurePki, issueCertificate } from '../launcher/pki.js';
import { benchCrds } from './crds.js';
import { benchMetrics } from './metrics.js';
import { benchAudit } from './audit.js';
import type { ListCacheResult } from './list-cache.js';
import { benchEtcd } from './etcd.js';
import { ETCD_MISSING, etcdAvailable } from '../apiserver/storage/etcd-test-server.js';
import { benchAdmissionWebhooks } from './admission-webhooks.js';
import { benchAdmission } from './admission.js';
import { benchFlowControl } from './flowcontrol.js';

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

async function startNginx(cluster: Cluster, corePort: number): Promise<{ port: number; pids: number[]; stop(): void } | undefined> {
  const binary = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((candidate) => existsSync(candidate));
  if (!binary) {
    console.log('(nginx not installed: `apt-get install nginx-light` adds the reference proxy)');
    return undefined;
  }
  const dir = join(cluster.dataDir, 'nginx');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const pki = cluster.pki;
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off; worker_processes 1; error_log ${dir}/error.log; pid ${dir}/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off; client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  upstream core { server 127.0.0.1:${corePort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${pki.serving.aggregator.cert}; ssl_certificate_key ${pki.serving.aggregator.key};
    ssl_client_certificate ${pki.caCert}; ssl_verify_client optional;
    location / {
      proxy_pass https://core; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_ssl_certificate ${pki.frontProxyClientCert}; proxy_ssl_certificate_key ${pki.frontProxyClientKey}; proxy_ssl_session_reuse on;
      proxy_set_header Authorization ""; proxy_set_header X-Remote-User admin; proxy_set_header X-Remote-Group system:masters;
    }
  }
}
`,
  );
  const child = spawn(binary, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  await new Promise((resolve) => setTimeout(resolve, 500));
  if (child.exitCode !== null) {
    console.log(`(nginx did not start: ${errors.trim()})`);
    return undefined;
  }
  const workers = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('nginx') && readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[3] === String(child.pid);
    } catch {
      return false;
    }
  });
  const corePid = pidOf('dist/core-apiserver/main.js', cluster.dataDir);
  return { port, pids: [child.pid!, ...workers, corePid], stop: () => child.kill('SIGQUIT') };
}

async function startInProcess(): Promise<{ port: number; pid: number; target: Target; stop(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kdc-bench-aio-'));
  const port = await freePort();
  const launcher = fileURLToPath(new URL('../launcher/main.js', import.meta.url));
  const child = spawn(process.execPath, [launcher, '--all-in-one', `--data-dir=${dataDir}`, `--secure-port=${port}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => createInterface({ input: child.stdout! }).on('line', (text) => text.includes('[launcher] ready') && resolve()));
  const pki = await ensurePki(dataDir, ['aggregator', 'core-apiserver', 'apiextensions', 'sample-extension']);
  await new Promise((resolve) => setTimeout(resolve, 1500)); // first discovery poll
  const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bench' }, data: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`key-${i}`, 'v'.repeat(100)])) });
  await new Promise<void>((resolve, reject) => {
    const request = https.request(`https://127.0.0.1:${port}/api/v1/namespaces/default/configmaps`, { method: 'POST', ca: readFileSync(pki.caCert), cert: readFileSync(pki.adminCert), key: readFileSync(pki.adminKey), headers: { 'Content-Type': 'application/json' } }, (response) => {
      response.resume();
      response.on('end', () => (response.statusCode === 201 ? resolve() : reject(new Error(`all-in-one setup: ${response.statusCode}`))));
    });
    request.on('error', reject);
    request.end(body);
  });
  return {
    port,
    pid: child.pid!,
    target: { port, ca: readFileSync(pki.caCert), cert: readFileSync(pki.adminCert), key: readFileSync(pki.adminKey) },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
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
  // Each server gets a short unmeasured run first: the ratios compare steady states, not whose code the JIT
  // happened to reach first (a cold first run swings the CPU per request by 10–20 %).
  const warm = (port: number) => runLoad(target(port), get, { ...load, seconds: 2, pids: [] });
  for (const port of [rawPort, corePort, cluster.port]) await warm(port);
  const rawResult = await runLoad(target(rawPort), get, { ...load, pids: [raw.pid!] });
  const direct = await runLoad(target(corePort), get, { ...load, pids: [corePid] });
  const proxied = await runLoad(target(cluster.port), get, { ...load, pids: [aggregatorPid, corePid] });
  const proxiedAggregatorOnly = await runLoad(target(cluster.port), get, { ...load, pids: [aggregatorPid] });
  // RBAC on the hot path: the same GET as a ServiceAccount allowed by a RoleBinding (evaluated in memory by
  // the aggregator and again by core) instead of system:masters (allowed before RBAC is consulted).
  const reader = await issueCertificate({
    caCertPem: ca.toString(),
    caKeyPem: readFileSync(cluster.pki.caKey, 'utf8'),
    commonName: 'system:serviceaccount:default:bench-reader',
    organizations: ['system:serviceaccounts', 'system:serviceaccounts:default'],
    usage: 'client',
  });
  for (const args of [['create', 'serviceaccount', 'bench-reader'], ['create', 'role', 'bench-reader', '--verb=get', '--resource=configmaps'], ['create', 'rolebinding', 'bench-reader', '--role=bench-reader', '--serviceaccount=default:bench-reader']]) {
    const result = await cluster.kubectl(args);
    if (result.code !== 0) throw new Error(`setup failed: kubectl ${args.join(' ')}: ${result.stderr}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 500)); // the aggregator's RBAC informers follow
  // Alternated twice, best of each: on a shared machine one run alone is mostly noise.
  const serviceAccountTarget = { port: cluster.port, ca, cert: Buffer.from(reader.certPem), key: Buffer.from(reader.keyPem) };
  const best = (a: LoadResult, b: LoadResult) => (a.perSecond >= b.perSecond ? a : b);
  let asServiceAccount = await runLoad(serviceAccountTarget, get, { ...load, pids: [aggregatorPid, corePid] });
  let asMasters = await runLoad(target(cluster.port), get, { ...load, pids: [aggregatorPid, corePid] });
  asServiceAccount = best(asServiceAccount, await runLoad(serviceAccountTarget, get, { ...load, pids: [aggregatorPid, corePid] }));
  asMasters = best(asMasters, await runLoad(target(cluster.port), get, { ...load, pids: [aggregatorPid, corePid] }));
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
  // A remote APIService (the metrics extension, registered through Service + Endpoints): through the
  // aggregator vs directly on the extension.
  const metricsPort = Number(/\[sample-extension\] \{"component":"sample-extension","listening":"https:\/\/127\.0\.0\.1:(\d+)"\}/.exec(cluster.output)?.[1]);
  const metricsPid = pidOf('dist/sample-extension/main.js', cluster.dataDir);
  const metricsGet = () => ({ method: 'GET', path: '/apis/metrics.k8s.io/v1beta1/nodes', headers: { Accept: 'application/json' } });
  const remoteDirect = await runLoad(target(metricsPort), metricsGet, { ...load, pids: [metricsPid] });
  const remoteProxied = await runLoad(target(cluster.port), metricsGet, { ...load, pids: [aggregatorPid, metricsPid] });

  // nginx from Debian as a reference proxy in front of core-apiserver (same TLS on both sides).
  const nginx = await startNginx(cluster, corePort);
  const nginxProxied = nginx ? await runLoad(target(nginx.port), get, { ...load, pids: nginx.pids }) : undefined;
  const nginxOnly = nginx ? await runLoad(target(nginx.port), get, { ...load, pids: nginx.pids.filter((pid) => pid !== corePid) }) : undefined;
  nginx?.stop();

  // The whole chain in one process: the aggregator hands requests to core in-process.
  const inProcess = await startInProcess();
  await runLoad(inProcess.target, get, { ...load, seconds: 2, pids: [] });
  const inProcessGet = await runLoad(inProcess.target, get, { ...load, pids: [inProcess.pid] });
  await inProcess.stop();

  // LIST of 10k pods from the watch cache, in a process of its own so that its heap is measured alone.
  const listScript = fileURLToPath(new URL('./list-cache.js', import.meta.url));
  const listing = spawn(process.execPath, ['--expose-gc', listScript], { stdio: ['ignore', 'pipe', 'inherit'] });
  const listCache = await new Promise<ListCacheResult>((resolve) => createInterface({ input: listing.stdout! }).once('line', (text) => resolve(JSON.parse(text) as ListCacheResult)));

  const apiextensionsPid = pidOf('dist/apiextensions/main.js', cluster.dataDir);
  const crds = await benchCrds(cluster, target(cluster.port), { aggregator: aggregatorPid, apiextensions: apiextensionsPid, core: corePid }, load);

  const commitsFull = rawSqliteCommits('FULL', cluster.dataDir);
  const commitsNormal = rawSqliteCommits('NORMAL', cluster.dataDir);

  console.log(line('GET raw node https (floor)', rawResult));
  console.log(line('GET direct on core-apiserver', direct));
  console.log(line('GET through the aggregator', proxied));
  console.log(line('GET through, ServiceAccount (RBAC)', asServiceAccount));
  console.log(line('GET through, system:masters', asMasters));
  console.log(line('create through the chain', creates));
  console.log(line('GET remote APIService, direct', remoteDirect));
  console.log(line('GET remote APIService, through', remoteProxied));
  if (nginxProxied) console.log(line('GET through nginx (reference proxy)', nginxProxied));
  console.log(line('GET through the all-in-one process', inProcessGet));
  console.log(line('create custom resources (validated)', crds.crCreates));
  console.log(line('create ConfigMaps, same content', crds.configMapCreates));
  console.log(`LIST ${listCache.count} pods (${(listCache.jsonBytes / 1e6).toFixed(1)} MB): concatenating cached bytes ${listCache.concatMs.toFixed(1)} ms, JSON ${listCache.listJsonMs.toFixed(1)} ms, Table ${listCache.listTableMs.toFixed(1)} ms; cache heap ${(listCache.cacheHeapBytes / 1e6).toFixed(1)} MB (${(listCache.cacheWithRowsHeapBytes / 1e6).toFixed(1)} MB with Table rows cached)`);
  console.log(`CRD created → first CR accepted: p50 ${crds.establishP50Ms.toFixed(0)} ms, p90 ${crds.establishP90Ms.toFixed(0)} ms; ${crds.crdCount} CRDs: ${crds.rssPerCrdKiB.toFixed(0)} KiB RSS each in apiextensions; CPU per added CRD ${crds.cpuMsPerCrdFew.toFixed(0)} ms (few) vs ${crds.cpuMsPerCrdMany.toFixed(0)} ms (${crds.crdCount})`);
  console.log(`raw SQLite single-row commits        ${commitsFull.toFixed(0).padStart(7)} /s (synchronous=FULL)  ${commitsNormal.toFixed(0)} /s (NORMAL)`);
  console.log('');
  const ratio = (name: string, value: number, goal: number, higherIsBetter = true) =>
    console.log(`${name.padEnd(52)} ${value.toFixed(2).padStart(6)}×   goal ${higherIsBetter ? '≥' : '≤'} ${goal}×  ${(higherIsBetter ? value >= goal : value <= goal) ? 'met' : 'NOT met'}`);
  ratio('direct GET / raw server (req/s)', direct.perSecond / rawResult.perSecond, 0.35);
  ratio('proxied GET / direct GET (req/s)', proxied.perSecond / direct.perSecond, 0.45);
  ratio('extra CPU per proxied GET / raw request CPU', (proxied.cpuMsPerRequest - direct.cpuMsPerRequest) / rawResult.cpuMsPerRequest, 3.5, false);
  console.log(`${'  of which in the aggregator process'.padEnd(52)} ${(proxiedAggregatorOnly.cpuMsPerRequest / rawResult.cpuMsPerRequest).toFixed(2).padStart(6)}×`);
  ratio('GET as a ServiceAccount via RBAC / system:masters', asServiceAccount.perSecond / asMasters.perSecond, 0.9);
  console.log(`${'  CPU per GET: system:masters / ServiceAccount'.padEnd(52)} ${(asMasters.cpuMsPerRequest / asServiceAccount.cpuMsPerRequest).toFixed(2).padStart(6)}×`);
  ratio('creates through the chain / raw commits (FULL)', creates.perSecond / commitsFull, 0.6);
  ratio('remote APIService: proxied / direct GET (req/s)', remoteProxied.perSecond / remoteDirect.perSecond, 0.45);
  ratio('remote APIService: extra CPU per request / raw', (remoteProxied.cpuMsPerRequest - remoteDirect.cpuMsPerRequest) / rawResult.cpuMsPerRequest, 3.5, false);
  if (nginxProxied && nginxOnly) {
    console.log(`${'nginx: proxied / direct GET (req/s)'.padEnd(52)} ${(nginxProxied.perSecond / direct.perSecond).toFixed(2).padStart(6)}×`);
    console.log(`${'nginx: CPU per proxied request / raw'.padEnd(52)} ${(nginxOnly.cpuMsPerRequest / rawResult.cpuMsPerRequest).toFixed(2).padStart(6)}×  (ours, aggregator process only: ${(proxiedAggregatorOnly.cpuMsPerRequest / rawResult.cpuMsPerRequest).toFixed(2)}×)`);
  }
  const flowControl = benchFlowControl();
  ratio('APF classify+seat (non-exempt user) / aggregator CPU per GET', (flowControl.apfMicroseconds - flowControl.inFlightMicroseconds) / (proxiedAggregatorOnly.cpuMsPerRequest * 1000), 0.05, false);
  ratio('all-in-one GET / direct GET on core (req/s)', inProcessGet.perSecond / direct.perSecond, 0.9);
  console.log(`${'all-in-one CPU per GET / direct core CPU per GET'.padEnd(52)} ${(inProcessGet.cpuMsPerRequest / direct.cpuMsPerRequest).toFixed(2).padStart(6)}×`);
  ratio('LIST 10k pods JSON / concatenating cached bytes', listCache.listJsonMs / listCache.concatMs, 1.3, false);
  ratio('LIST 10k pods Table / concatenating cached bytes', listCache.listTableMs / listCache.concatMs, 1.3, false);
  ratio('watch-cache heap for 10k pods / their JSON size', listCache.cacheHeapBytes / listCache.jsonBytes, 1.5, false);
  ratio('CRD created → first CR accepted, p50 (ms)', crds.establishP50Ms, 100, false);
  ratio('CR creates / ConfigMap creates (req/s)', crds.crCreates.perSecond / crds.configMapCreates.perSecond, 0.9);
  ratio(`memory per CRD with ${crds.crdCount} CRDs (KiB)`, crds.rssPerCrdKiB, 200, false);
  ratio(`CPU per added CRD at ${crds.crdCount} / at 20 CRDs`, crds.cpuMsPerCrdMany / Math.max(1, crds.cpuMsPerCrdFew), 1.5, false);
  console.log(`${'creates through the chain / raw commits (NORMAL)'.padEnd(52)} ${(creates.perSecond / commitsNormal).toFixed(2).padStart(6)}×`);
  // Last on this cluster: the webhook would slow every create after it.
  const webhook = await benchAdmissionWebhooks(cluster, target(cluster.port));
  const added = webhook.withP50Ms - webhook.withoutP50Ms;
  console.log(`${'no-op validating webhook: added create latency, p50'.padEnd(52)} ${added.toFixed(2).padStart(6)} ms  goal ≤ 2 ms  ${added <= 2 ? 'met' : 'NOT met'}  (${webhook.withoutP50Ms.toFixed(2)} → ${webhook.withP50Ms.toFixed(2)} ms, ${webhook.requests} sequential creates)`);
  // What admission costs a create with no webhooks configured: core's built-in plugins measured in this
  // process (alternating rounds with and without them), against the CPU a ConfigMap create through the chain took.
  const admission = await benchAdmission();
  for (const [name, micros] of admission.rows) console.log(`${`in-process ${name}`.padEnd(52)} ${micros.toFixed(1).padStart(6)} µs`);
  const [configMapBase, configMapWith] = ['no plugins', 'built-in plugins'].map((variant) => admission.rows.find(([name]) => name === `ConfigMap create, ${variant}`)![1]);
  const admissionShare = Math.max(0, configMapWith - configMapBase) / (creates.cpuMsPerRequest * 1000);
  ratio('admission, no webhooks / CPU of a create (chain)', admissionShare, 0.05, false);
  console.log(`${'  in-process: admission / store create'.padEnd(52)} ConfigMap ${(admission.overhead.configMap * 100).toFixed(1)} %, Pod ${(admission.overhead.pod * 100).toFixed(1)} % (with a quota to charge: ${(admission.withQuota.configMap * 100).toFixed(1)} %, ${(admission.withQuota.pod * 100).toFixed(1)} %)`);
} finally {
  await cluster.stop();
  cluster.cleanup();
}

// The chain on etcd vs etcd itself (only where an etcd binary is installed).
if (etcdAvailable()) {
  for (const text of await benchEtcd({ seconds: SECONDS, concurrency: CONCURRENCY })) console.log(text);
} else {
  console.log(`(etcd figures skipped: ${ETCD_MISSING})`);
}
// Audit at Metadata level into files vs no audit, on two clusters measured alternately.
const audit = await benchAudit(SECONDS, CONCURRENCY);
console.log('');
console.log(line('GET through the chain, no audit', audit.plain));
console.log(line('GET through the chain, audited', audit.audited));
console.log(`${'audit log written per GET (aggregator + core)'.padEnd(52)} ${audit.logBytesPerRequest.toFixed(0).padStart(6)} bytes`);
const auditCost = 1 - audit.audited.perSecond / audit.plain.perSecond;
console.log(`${'throughput lost to Metadata-level audit'.padEnd(52)} ${(auditCost * 100).toFixed(1).padStart(6)} %   goal ≤ 10 %  ${auditCost <= 0.1 ? 'met' : 'NOT met'}`);
console.log(`${'CPU per GET, audited / not audited'.padEnd(52)} ${(audit.audited.cpuMsPerRequest / audit.plain.cpuMsPerRequest).toFixed(2).padStart(6)}×`);

// kubectl top at scale, on a cluster of its own.
const metrics = await benchMetrics(SECONDS);
console.log('');
console.log(`kubectl top: ${metrics.nodes} simulated nodes × ${metrics.pods / metrics.nodes} pods: one scrape round of every kubelet ${metrics.scrapeRoundMs} ms (resolution ${metrics.resolutionSeconds} s)`);
console.log(`${'scrape round / resolution period'.padEnd(52)} ${(metrics.scrapeRoundMs / (metrics.resolutionSeconds * 1000)).toFixed(2).padStart(6)}×   goal ≤ 1×  ${metrics.scrapeRoundMs <= metrics.resolutionSeconds * 1000 ? 'met' : 'NOT met'}`);
console.log(`${'top pods -A (list of all pod metrics) latency'.padEnd(52)} ${metrics.listAllMs.toFixed(1).padStart(6)} ms  vs direct GET floor ${metrics.getFloorMs.toFixed(1)} ms (${(metrics.listAllMs / metrics.getFloorMs).toFixed(1)}×)`);
