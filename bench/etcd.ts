// The chain on etcd, against etcd itself as the floor, in the same run: creates per second through the
// aggregator vs raw etcd3 create transactions from Node at the same concurrency, GETs through the chain,
// and watch latency from an etcd commit to the event at a client watching through the chain vs a raw etcd
// watch of the same kind of put (plus, for information, a POST through the chain until its event arrives).

import https from 'node:https';
import { randomUUID } from 'node:crypto';
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

/** Watches ConfigMaps labelled bench=latency through the chain, kubectl-style; `arrived(name)` resolves on its ADDED event. */
async function chainWatcher(target: Target): Promise<{ arrived(name: string): Promise<void>; close(): void }> {
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
  return {
    arrived: (name) => new Promise<void>((resolve) => waiters.set(name, resolve)),
    close() {
      watch.destroy();
      agent.destroy();
    },
  };
}

/**
 * Commit → client through the chain: the same etcd put as the raw figure (a ConfigMap as another replica
 * would store it, written straight into etcd) until its ADDED event reaches a client watching through the
 * aggregator: etcd → core's watch cache → core's watch stream → the aggregator → the client.
 */
async function chainCommitWatchLatency(target: Target, endpoints: string[], rounds: number): Promise<number> {
  const writer = new Etcd3({ hosts: endpoints });
  const watcher = await chainWatcher(target);
  const samples: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const name = `committed-${round}`;
    const object = { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: '', name, namespace: 'default', uid: randomUUID(), creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), labels: { bench: 'latency' } } };
    const arrived = watcher.arrived(name);
    const started = process.hrtime.bigint();
    await writer.put(`/registry/configmaps/default/${name}`).value(JSON.stringify(object));
    await arrived;
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  watcher.close();
  writer.close();
  return median(samples);
}

/** Request → client: POST a ConfigMap through the aggregator until its ADDED event arrives on the watch (write path included). */
async function chainRequestWatchLatency(cluster: Cluster, target: Target, rounds: number): Promise<number> {
  const watcher = await chainWatcher(target);
  const samples: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const name = `latency-${round}`;
    const arrived = watcher.arrived(name);
    const started = process.hrtime.bigint();
    const created = await cluster.request('POST', '/api/v1/namespaces/default/configmaps', {
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { bench: 'latency' } } }),
      headers: { 'Content-Type': 'application/json' },
    });
    if (created.status !== 201) throw new Error(`latency create failed: ${created.status}`);
    await arrived;
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  watcher.close();
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
    const chainLatencyMs = await chainCommitWatchLatency(target, etcd.endpoints, 50);
    const requestLatencyMs = await chainRequestWatchLatency(cluster, target, 50);
    const ratio = (name: string, value: number, goal: number, higherIsBetter = true) =>
      `${name.padEnd(52)} ${value.toFixed(2).padStart(6)}×   goal ${higherIsBetter ? '≥' : '≤'} ${goal}×  ${(higherIsBetter ? value >= goal : value <= goal) ? 'met' : 'NOT met'}`;
    return [
      `etcd: raw etcd3 create txns ${rawPerSecond.toFixed(0)}/s; creates through the chain ${creates.perSecond.toFixed(0)}/s (errors ${creates.errors}); GET through the chain ${gets.perSecond.toFixed(0)}/s`,
      `etcd: watch latency commit → event, median: raw etcd watch ${rawLatencyMs.toFixed(2)} ms, client watching through the chain ${chainLatencyMs.toFixed(2)} ms; POST through the chain → event ${requestLatencyMs.toFixed(2)} ms`,
      ratio('etcd: creates through the chain / raw etcd3 txns', creates.perSecond / rawPerSecond, 0.6),
      // The ceiling of the create ratio on this machine: a GET through the same chain does strictly less work
      // than a create (the same two HTTPS hops, authentication, authorization, no admission, no write).
      `${'etcd: GET through the chain / raw etcd3 txns'.padEnd(52)} ${(gets.perSecond / rawPerSecond).toFixed(2).padStart(6)}×   (a create cannot beat a GET through the same chain)`,
      ratio('etcd: watch latency commit → client, chain / raw', chainLatencyMs / rawLatencyMs, 2, false),
    ];
  } finally {
    await cluster?.stop();
    cluster?.cleanup();
    raw.close();
    await etcd.stop();
  }
}
