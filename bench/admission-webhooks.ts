// What a no-op admission webhook adds to a create: sequential creates (one at a time, so each latency is a
// request's own) without webhooks, then with a validating webhook that allows everything, served by this
// process over keep-alive HTTPS. The goal is ≤ 2 ms added at p50 on loopback.

import https from 'node:https';
import type { Cluster } from '../test/harness.js';
import type { Target } from './load.js';
import { startAdmissionWebhookServer } from '../test/admission-webhook-server.js';

export interface WebhookBenchResult {
  withoutP50Ms: number;
  withP50Ms: number;
  requests: number;
}

const REQUESTS = Number(process.env.BENCH_WEBHOOK_REQUESTS ?? 300);

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))];
}

async function sequentialCreates(target: Target, prefix: string, count: number): Promise<number[]> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: target.ca, cert: target.cert, key: target.key });
  const latencies: number[] = [];
  try {
    for (let index = 0; index < count; index++) {
      const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${prefix}-${index}`, labels: { bench: 'webhook' } }, data: { a: 'b' } });
      const started = process.hrtime.bigint();
      const status = await new Promise<number>((resolve, reject) => {
        const request = https.request({ host: '127.0.0.1', port: target.port, method: 'POST', path: '/api/v1/namespaces/default/configmaps', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        });
        request.on('error', reject);
        request.end(body);
      });
      if (status !== 201) throw new Error(`create ${prefix}-${index}: ${status}`);
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  } finally {
    agent.destroy();
  }
  return latencies;
}

export async function benchAdmissionWebhooks(cluster: Cluster, target: Target): Promise<WebhookBenchResult> {
  const server = await startAdmissionWebhookServer();
  try {
    server.handlers.set('/noop', () => ({ allowed: true }));
    // Warm-up, then the baseline.
    await sequentialCreates(target, 'webhook-warmup', 30);
    const without = await sequentialCreates(target, 'webhook-without', REQUESTS);
    const configuration = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'bench-noop' },
      webhooks: [
        {
          name: 'noop.bench.example.com',
          clientConfig: { url: server.url('/noop'), caBundle: server.caBundle },
          rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }],
          objectSelector: { matchLabels: { bench: 'webhook' } },
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
        },
      ],
    };
    const created = await cluster.request('POST', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', { body: JSON.stringify(configuration), headers: { 'Content-Type': 'application/json' } });
    if (created.status !== 201) throw new Error(`webhook configuration: ${created.status} ${created.body}`);
    // Wait until the webhook is called (the configuration reaches core's cache), then measure.
    const deadline = Date.now() + 10_000;
    while ((server.reviews.get('/noop') ?? []).length === 0) {
      if (Date.now() > deadline) throw new Error('the bench webhook was never called');
      await sequentialCreates(target, `webhook-probe-${Date.now()}`, 1);
    }
    await sequentialCreates(target, 'webhook-warmup-2', 30);
    const calledBefore = server.reviews.get('/noop')!.length;
    const withWebhook = await sequentialCreates(target, 'webhook-with', REQUESTS);
    if (server.reviews.get('/noop')!.length - calledBefore !== REQUESTS) throw new Error('the bench webhook missed requests');
    await cluster.request('DELETE', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/bench-noop');
    return { withoutP50Ms: percentile(without, 0.5), withP50Ms: percentile(withWebhook, 0.5), requests: REQUESTS };
  } finally {
    await server.close();
  }
}
