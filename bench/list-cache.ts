// LIST of 10k pods served from the watch cache, inside this process so that only the server's own work is
// timed (no socket, no client): the response is written into a sink. The floor is what no server can beat
// for the same answer: joining the cached bytes of the same items into one list document. Memory is the
// V8 heap the cache adds for 10k pods, against the size of their JSON.

import http from 'node:http';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServer } from '../apiserver/server/api-server.js';
import { SqliteStorage } from '../apiserver/storage/sqlite.js';
import { pods } from '../core-apiserver/resources/corev1/pods.js';
import type { UserInfo } from '../apiserver/registry/object.js';
import type { GenericStore } from '../apiserver/registry/store.js';

const ADMIN: UserInfo = { username: 'bench', groups: ['system:masters', 'system:authenticated'], extra: {} };

export interface ListCacheResult {
  count: number;
  jsonBytes: number;
  concatMs: number;
  listJsonMs: number;
  listTableMs: number;
  cacheHeapBytes: number;
  /** The same after Table lists, with the cached rows. */
  cacheWithRowsHeapBytes: number;
}

function pod(index: number): string {
  const name = `pod-${String(index).padStart(5, '0')}`;
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'bench', uid: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`, labels: { app: `app-${index % 50}`, tier: 'web' }, creationTimestamp: '2026-11-22T00:00:00Z' },
    spec: {
      containers: [{ name: 'main', image: 'registry.example.com/team/app:1.2.3', ports: [{ containerPort: 8080, protocol: 'TCP' }], resources: { requests: { cpu: '100m', memory: '128Mi' } }, imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' }],
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      schedulerName: 'default-scheduler',
      serviceAccountName: 'default',
      terminationGracePeriodSeconds: 30,
      nodeName: `node-${index % 20}`,
    },
    status: { phase: 'Running', podIP: `10.0.${(index >> 8) & 255}.${index & 255}`, qosClass: 'Burstable', conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-11-22T00:00:01Z' }], containerStatuses: [{ name: 'main', ready: true, restartCount: 0, image: 'registry.example.com/team/app:1.2.3', imageID: '', started: true, state: { running: { startedAt: '2026-11-22T00:00:01Z' } } }] },
  });
}

/** Serves one request in-process and resolves with the time until the last byte reached the sink. */
function serveOnce(server: ApiServer, path: string, accept: string): Promise<{ ms: number; bytes: number; status: number }> {
  const req = new http.IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = path;
  req.headers = { accept, host: 'bench' };
  req.push(null);
  const res = new http.ServerResponse(req);
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback();
    },
  });
  res.assignSocket(sink as unknown as Socket);
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    res.on('finish', () => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, bytes, status: res.statusCode }));
    server.serveAuthenticated(req, res, ADMIN).catch(reject);
  });
}

/** The floor: the list document joined from the cached bytes and encoded, with nothing else done. */
function concatenationMs(store: GenericStore): number {
  const started = process.hrtime.bigint();
  const items = store.cache.list('/registry/pods/bench/', undefined);
  const document = `{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"${store.cache.revision}"},"items":[${items.map((item) => item.bytes).join(',')}]}`;
  Buffer.from(document);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) for (let round = 0; round < 3; round++) gc();
  return process.memoryUsage().heapUsed;
}

export async function benchListCache(count = 10_000, rounds = 9): Promise<ListCacheResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kdc-bench-list-'));
  const storage = new SqliteStorage(join(dir, 'state.db'), { synchronous: 'NORMAL' });
  try {
    let jsonBytes = 0;
    for (let start = 0; start < count; start += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, count - start) }, (_, offset) => {
          const value = pod(start + offset);
          jsonBytes += Buffer.byteLength(value);
          return storage.create(`/registry/pods/bench/pod-${String(start + offset).padStart(5, '0')}`, value);
        }),
      );
    }
    const server = new ApiServer({ name: 'bench', authentication: { clientCa: [], untrustedIdentityHeaders: 'strip' }, authorizer: async () => ({ allowed: true }) });
    const store = server.addResource({ definition: pods, storage })!;
    const before = heapAfterGc();
    await server.startCaches();
    await store.cache.start();
    const cacheHeapBytes = heapAfterGc() - before;

    const concat: number[] = [];
    const listJson: number[] = [];
    const listTable: number[] = [];
    for (let round = 0; round < rounds; round++) {
      concat.push(concatenationMs(store));
      const json = await serveOnce(server, '/api/v1/namespaces/bench/pods', 'application/json');
      if (json.status !== 200 || json.bytes < jsonBytes) throw new Error(`list failed: ${json.status}, ${json.bytes} bytes`);
      listJson.push(json.ms);
      const table = await serveOnce(server, '/api/v1/namespaces/bench/pods', 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json');
      if (table.status !== 200) throw new Error(`table list failed: ${table.status}`);
      listTable.push(table.ms);
    }
    // A small request last, so that nothing left from the big responses (e.g. a last-match cache) is counted.
    await serveOnce(server, '/api/v1/namespaces/bench/pods/pod-00000', 'application/json');
    const cacheWithRowsHeapBytes = heapAfterGc() - before;
    await server.shutdown(1000);
    return { count, jsonBytes, concatMs: median(concat), listJsonMs: median(listJson), listTableMs: median(listTable), cacheHeapBytes, cacheWithRowsHeapBytes };
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// `node --expose-gc dist/bench/list-cache.js` runs this part alone.
if (process.argv[1]?.endsWith('list-cache.js')) {
  const result = await benchListCache(Number(process.env.BENCH_PODS ?? 10_000));
  console.log(JSON.stringify(result));
}
