// The kubelet's /metrics/resource endpoint, in Prometheus text format with kubelet's metric names and
// labels, over TLS with x509 client authentication against the cluster CA (as kubelet's
// --client-ca-file): what metrics-server, or our metrics extension, scrapes.

import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { containerUsage, type ContainerUsage } from './usage.js';
import type { KubeObject } from '../apiserver/registry/object.js';
import { serveKubeletEndpoint } from './kubelet-endpoints.js';

export interface NodeUsageSource {
  /** Cumulative CPU core-seconds of the node and its working-set memory. */
  node(now: number, containers: ContainerUsage[]): { cpuSeconds: number; memoryBytes: number };
  pods(): KubeObject[];
  /** Every pod bound to the node, running or not (the kubelet's /pods, logs, exec). */
  boundPods?(): KubeObject[];
}

function labels(usage: ContainerUsage): string {
  const quote = (value: string) => JSON.stringify(value);
  return `{container=${quote(usage.container)},namespace=${quote(usage.namespace)},pod=${quote(usage.pod)}}`;
}

export function renderResourceMetrics(source: NodeUsageSource, now = Date.now()): string {
  const containers = source.pods().flatMap((pod) => containerUsage(pod, now));
  const node = source.node(now, containers);
  const lines: string[] = [
    '# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds',
    '# TYPE container_cpu_usage_seconds_total counter',
    ...containers.map((usage) => `container_cpu_usage_seconds_total${labels(usage)} ${usage.cpuSeconds.toFixed(9)} ${now}`),
    '# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes',
    '# TYPE container_memory_working_set_bytes gauge',
    ...containers.map((usage) => `container_memory_working_set_bytes${labels(usage)} ${usage.memoryBytes} ${now}`),
    '# HELP container_start_time_seconds [STABLE] Start time of the container since unix epoch in seconds',
    '# TYPE container_start_time_seconds gauge',
    ...containers.map((usage) => `container_start_time_seconds${labels(usage)} ${usage.startSeconds} ${now}`),
    '# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds',
    '# TYPE node_cpu_usage_seconds_total counter',
    `node_cpu_usage_seconds_total ${node.cpuSeconds.toFixed(9)} ${now}`,
    '# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes',
    '# TYPE node_memory_working_set_bytes gauge',
    `node_memory_working_set_bytes ${node.memoryBytes} ${now}`,
    '# HELP scrape_error [ALPHA] 1 if there was an error while getting container metrics, 0 otherwise',
    '# TYPE scrape_error gauge',
    'scrape_error 0',
  ];
  return `${lines.join('\n')}\n`;
}

export async function serveResourceMetrics(options: { port: number; cert: string; key: string; clientCa: string }, source: NodeUsageSource): Promise<{ port: number; close(): void }> {
  const server = https.createServer({ cert: options.cert, key: options.key, ca: options.clientCa, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const socket = req.socket as import('node:tls').TLSSocket;
    if (!socket.authorized) {
      res.writeHead(401, { 'Content-Type': 'text/plain' });
      res.end('Unauthorized\n');
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics/resource' && path !== '/healthz' && serveKubeletEndpoint(req, res, () => source.boundPods?.() ?? source.pods())) return;
    if (req.method !== 'GET' || (path !== '/metrics/resource' && path !== '/healthz')) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('404 page not found\n');
      return;
    }
    const body = path === '/healthz' ? 'ok' : renderResourceMetrics(source);
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}
