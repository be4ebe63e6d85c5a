// kubectl top at scale: 100 simulated nodes with 30 pods each. How long one scrape round of every kubelet
// endpoint takes (goal: within one resolution period), and how long `kubectl top pods -A` (a list of all
// pod metrics, answered from memory) takes against the floor of a direct GET of one object.

import { readFileSync } from 'node:fs';
import { Cluster } from '../test/harness.js';
import { runLoad, type Target } from './load.js';

export interface MetricsBenchResult {
  nodes: number;
  pods: number;
  resolutionSeconds: number;
  scrapeRoundMs: number;
  listAllMs: number;
  getFloorMs: number;
}

const NODES = 100;
const PODS_PER_NODE = 30;
const RESOLUTION_SECONDS = 15;

export async function benchMetrics(seconds: number): Promise<MetricsBenchResult> {
  const cluster = await Cluster.start(['--node-agent', '--node-name=bench-host', `--simulated-nodes=${NODES}`, `--metric-resolution=${RESOLUTION_SECONDS}`]);
  try {
    const headers = { 'Content-Type': 'application/json' };
    const created = await cluster.request('POST', '/api/v1/namespaces', { body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'load' } }), headers });
    if (created.status !== 201) throw new Error(`namespace: ${created.status} ${created.body}`);
    const pods: Promise<void>[] = [];
    for (let node = 1; node <= NODES; node++) {
      for (let index = 0; index < PODS_PER_NODE; index++) {
        const body = JSON.stringify({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `p-${node}-${index}`, namespace: 'load', labels: { app: `app-${index % 5}` } },
          spec: { nodeName: `sim-node-${node}`, containers: [{ name: 'main', image: 'app:1', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
        });
        pods.push(cluster.request('POST', '/api/v1/namespaces/load/pods', { body, headers }).then((response) => {
          if (response.status !== 201) throw new Error(`pod: ${response.status} ${response.body}`);
        }));
        if (pods.length >= 64) await Promise.all(pods.splice(0));
      }
    }
    await Promise.all(pods);
    const port = Number(/\[sample-extension\] \{"component":"sample-extension","listening":"https:\/\/127\.0\.0\.1:(\d+)"\}/.exec(cluster.output)?.[1]);
    // Wait until every pod is running and has metrics, then read the duration of the last full round.
    const deadline = Date.now() + 180_000;
    let scrapeRoundMs = -1;
    while (Date.now() < deadline) {
      const readyz = await cluster.request('GET', '/readyz?verbose', { port });
      const match = /metric-storage-ready ok: (\d+)\/(\d+) nodes scraped in (\d+) ms, (\d+) pods/.exec(readyz.body);
      if (match && Number(match[4]) >= NODES * PODS_PER_NODE && Number(match[1]) === NODES + 1) {
        scrapeRoundMs = Number(match[3]);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    if (scrapeRoundMs < 0) throw new Error('metrics for every pod did not appear within 3 minutes');
    const target: Target = { port: cluster.port, ca: readFileSync(cluster.pki.caCert), cert: readFileSync(cluster.pki.adminCert), key: readFileSync(cluster.pki.adminKey) };
    const list = await runLoad(target, () => ({ method: 'GET', path: '/apis/metrics.k8s.io/v1beta1/pods', headers: { Accept: 'application/json' } }), { seconds, concurrency: 1, expect: 200, pids: [] });
    const get = await runLoad(target, () => ({ method: 'GET', path: '/api/v1/namespaces/default/services/kubernetes', headers: { Accept: 'application/json' } }), { seconds, concurrency: 1, expect: 200, pids: [] });
    return { nodes: NODES, pods: NODES * PODS_PER_NODE, resolutionSeconds: RESOLUTION_SECONDS, scrapeRoundMs, listAllMs: 1000 / list.perSecond, getFloorMs: 1000 / get.perSecond };
  } finally {
    await cluster.stop();
    cluster.cleanup();
  }
}
