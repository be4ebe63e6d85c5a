// The chain on etcd, against etcd itself as the floor, in the same run: creates per second through the
// aggregator vs raw etcd3 create transactions from Node at the same concurrency, GETs through the chain,
// and watch latency (write sent → event received) through the chain vs a raw etcd watch.

import https from 'node:https';
import { readFileSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import { Cluster } from '../test/harness.js';
import { EtcdTestCluster } from '../apiserver/storage/etcd-test-server.js';
import { runLoad, type Target } from './load.js';

export interface EtcdBenchOptions {
  seconds: number;
  concurrency: number;
}

async function rawCreates(client: Etcd3, options: EtcdBenchOptions): Promise<number> {
  const value = Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', data: { a: 'b' } }));
  let index = 0;
  let count = 0;
  const create = async () => {
    const key = Buffer.from(`/bench/raw/c${index++}`);
    await client.kv.txn({ compare: [{ key, target: 'Version', result: 'Equal', version: 0 }], success: [{ request_put: { key, value } }], failure: [] });
  };
  const warm = Date.now() + 500;
  await Promise.all(Array.from({ length: options.concurrency }, async () => {
    while (Date.now() < warm) await create();
  }));
  const started = process.hrtime.bigint();
  const end = Date.now() + options.seconds * 1000;
  await Promise.all(Array.from({ length: options.concurrency }, async () => {
    while (Date.now() < end) {
      await create();
      count++;
    }
  }));
  return count / (Number(process.hrtime.bigint() - started) / 1e9);
}

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Raw: put → the watch event arrives on a second client. */
async function rawWatchLatency(endpoints: string[], rounds: number): Promise<number> {
  const writer = new Etcd3({ hosts: endpoints });
  const reader = new Etcd3({ hosts: endpoints });
  const watcher = await reader.watch().prefix('/bench/latency/').create();
  const samples: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const arrived = new Promise<void>((resolve) => watcher.once('put', () => resolve()));
    const started = process.hrtime.bigint();
    await writer.put(`/bench/latency/k${round}`).value('v');
    await arrived;
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  await watcher.cancel();
  writer.close();
  reader.close();
  return median(samples);
}

/** Through the chain: POST a ConfigMap → its ADDED event arrives on a kubectl-style watch. */
async function chainWatchLatency(cluster: Cluster, target: Target, rounds: number): Promise<number> {
  const agent = new https.Agent({ keepAlive: true, ca: target.ca, cert: target.cert, key: target.key });
  let buffered = '';
  const waiters = new Map<string, () => void>();
  const watch = https.request({ host: '127.0.0.1', port: target.port, path: '/api/v1/namespaces/default/configmaps?watch=1&labelSelector=bench%3Dlatency', agent, headers: { Accept: 'application/json' } });
  watch.on('response', (response) => {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        const event = JSON.parse(line) as { type: string; object: { metadata: { name: string } } };
        if (event.type === 'ADDED') waiters.get(event.object.metadata.name)?.();
      }
    });
  });
  watch.end();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const samples: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const name = `latency-${round}`;
    const arrived = new Promise<void>((resolve) => waiters.set(name, resolve));
    const started = process.hrtime.bigint();
    const created = await cluster.request('POST', '/api/v1/namespaces/default/configmaps', {
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { bench: 'latency' } } }),
      headers: { 'Content-Type': 'application/json' },
    });
    if (created.status !== 201) throw new Error(`latency create failed: ${created.status}`);
    await arrived;
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  watch.destroy();
  agent.destroy();
  return median(samples);
}

export async function benchEtcd(options: EtcdBenchOptions): Promise<string[]> {
  const etcd = await EtcdTestCluster.start();
  const raw = new Etcd3({ hosts: etcd.endpoints });
  let cluster: Cluster | undefined;
  try {
    const rawPerSecond = await rawCreates(raw, options);
    const rawLatencyMs = await rawWatchLatency(etcd.endpoints, 50);
    cluster = await Cluster.start([`--etcd-servers=${etcd.endpoints.join(',')}`]);
    const target: Target = { port: cluster.port, ca: readFileSync(cluster.pki.caCert), cert: readFileSync(cluster.pki.adminCert), key: readFileSync(cluster.pki.adminKey) };
    const load = { seconds: options.seconds, concurrency: options.concurrency, pids: [] };
    const creates = await runLoad(
      target,
      (index) => ({
        method: 'POST',
        path: '/api/v1/namespaces/default/configmaps',
        body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `bench-${index}` }, data: { a: 'b' } }),
        headers: { 'Content-Type': 'application/json' },
      }),
      { ...load, expect: 201 },
    );
    const gets = await runLoad(target, () => ({ method: 'GET', path: '/api/v1/namespaces/default/configmaps/bench-1', headers: { Accept: 'application/json' } }), { ...load, expect: 200 });
    const chainLatencyMs = await chainWatchLatency(cluster, target, 50);
    const ratio = (name: string, value: number, goal: number, higherIsBetter = true) =>
      `${name.padEnd(52)} ${value.toFixed(2).padStart(6)}×   goal ${higherIsBetter ? '≥' : '≤'} ${goal}×  ${(higherIsBetter ? value >= goal : value <= goal) ? 'met' : 'NOT met'}`;
    return [
      `etcd: raw etcd3 create txns ${rawPerSecond.toFixed(0)}/s; creates through the chain ${creates.perSecond.toFixed(0)}/s (errors ${creates.errors}); GET through the chain ${gets.perSecond.toFixed(0)}/s`,
      `etcd: watch latency write → event, median: raw ${rawLatencyMs.toFixed(1)} ms, through the chain ${chainLatencyMs.toFixed(1)} ms`,
      ratio('etcd: creates through the chain / raw etcd3 txns', creates.perSecond / rawPerSecond, 0.6),
      ratio('etcd: watch latency chain / raw etcd watch', chainLatencyMs / rawLatencyMs, 2, false),
    ];
  } finally {
    await cluster?.stop();
    cluster?.cleanup();
    raw.close();
    await etcd.stop();
  }
}
