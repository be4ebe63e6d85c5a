// /metrics end to end: `kubectl get --raw /metrics` through the aggregator (the aggregator's own metrics)
// and directly on core-apiserver, with upstream's metric names and labels, authorized like any
// non-resource URL.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './harness.js';

let cluster: Cluster;
let coreServer: string;

before(async () => {
  cluster = await Cluster.start();
  const port = /\[core-apiserver\] \{"component":"core-apiserver","listening":"https:\/\/127\.0\.0\.1:(\d+)"\}/.exec(cluster.output)?.[1];
  assert.ok(port, 'the launcher reports core-apiserver\'s port');
  coreServer = `https://127.0.0.1:${port}`;
});

after(async () => {
  await cluster?.stop();
  cluster?.cleanup();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `not a sample line of text format 0.0.4: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

function find(samples: Sample[], name: string, labels: Record<string, string>): Sample | undefined {
  return samples.find((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
}

async function metrics(server?: string): Promise<Sample[]> {
  const result = await cluster.kubectl(['get', '--raw', '/metrics', ...(server ? [`--server=${server}`] : [])]);
  assert.equal(result.code, 0, result.stderr);
  return parse(result.stdout);
}

async function ok(args: string[]): Promise<string> {
  const result = await cluster.kubectl(args);
  assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

describe('/metrics', () => {
  it('through the aggregator: apiserver_request_total with upstream\'s labels after kubectl requests', async () => {
    await ok(['create', 'configmap', 'counted', '--from-literal=a=b']);
    await ok(['get', 'configmaps']);
    await ok(['create', 'configmap', 'dry', '--dry-run=server']);
    const samples = await metrics();
    const created = find(samples, 'apiserver_request_total', { verb: 'POST', dry_run: '', group: '', version: 'v1', resource: 'configmaps', subresource: '', scope: 'resource', component: 'apiserver', code: '201' });
    assert.ok(created && created.value >= 1, 'the create is counted');
    assert.ok(find(samples, 'apiserver_request_total', { verb: 'POST', dry_run: 'All', resource: 'configmaps', code: '201' }), 'the dry run is counted apart');
    assert.ok(find(samples, 'apiserver_request_total', { verb: 'LIST', resource: 'configmaps', scope: 'namespace', code: '200' }));
    assert.ok(find(samples, 'apiserver_request_duration_seconds_count', { verb: 'POST', resource: 'configmaps', scope: 'resource' }));
    assert.ok(find(samples, 'apiserver_request_duration_seconds_bucket', { verb: 'LIST', resource: 'configmaps', le: '60' }));
    assert.equal(find(samples, 'apiserver_request_duration_seconds_count', { verb: 'WATCH' }), undefined, 'watches have no latency');
    assert.equal(find(samples, 'aggregator_unavailable_apiservice', { name: 'v1beta1.metrics.k8s.io' })?.value, 0);
    assert.equal(find(samples, 'aggregator_unavailable_apiservice', { name: 'v1.' })?.value, 0);
    assert.ok(find(samples, 'apiserver_current_inflight_requests', { request_kind: 'readOnly' }));
    assert.ok(find(samples, 'apiserver_current_inflight_requests', { request_kind: 'mutating' }));
    assert.ok(find(samples, 'apiserver_storage_objects', { resource: 'apiservices.apiregistration.k8s.io' }), 'the aggregator\'s own resources');
    assert.ok(find(samples, 'process_resident_memory_bytes', {}), 'default process metrics');
  });

  it('directly on core-apiserver: its requests, its storage and its watch events', async () => {
    // A first object shows up in kubectl's initial list: once it is printed the watch is open, so the
    // second one can only arrive as a watch event (otherwise a slow start would list it instead).
    await ok(['create', 'configmap', 'listed', '--namespace=kube-public']);
    const watcher = cluster.spawnKubectl(['get', 'configmaps', '-w', '--namespace=kube-public', '--output-watch-events']);
    try {
      let output = '';
      watcher.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const listed = Date.now() + 20_000;
      while (!output.includes('listed') && Date.now() < listed) await new Promise((resolve) => setTimeout(resolve, 100));
      await new Promise((resolve) => setTimeout(resolve, 500)); // kubectl opens the watch right after printing the list
      await ok(['create', 'configmap', 'watched', '--namespace=kube-public']);
      const deadline = Date.now() + 20_000;
      while (!output.includes('watched') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.match(output, /watched/);
      const during = await metrics(coreServer);
      assert.ok((find(during, 'apiserver_longrunning_requests', { verb: 'WATCH', resource: 'configmaps', scope: 'namespace' })?.value ?? 0) >= 1, 'the watch is long-running while it lasts');
    } finally {
      watcher.kill('SIGTERM');
    }
    const samples = await metrics(coreServer);
    assert.ok(find(samples, 'apiserver_request_total', { verb: 'POST', resource: 'configmaps', scope: 'resource', code: '201', component: 'apiserver' }));
    assert.ok((find(samples, 'etcd_request_duration_seconds_count', { operation: 'create', type: 'configmaps' })?.value ?? 0) >= 2);
    assert.ok((find(samples, 'apiserver_storage_objects', { resource: 'configmaps' })?.value ?? 0) >= 2);
    assert.ok((find(samples, 'apiserver_watch_events_total', { group: '', version: 'v1', kind: 'ConfigMap' })?.value ?? 0) >= 1);
    // The aggregator's metrics are its own: it stores no configmaps.
    assert.equal(find(await metrics(), 'apiserver_storage_objects', { resource: 'configmaps' }), undefined);
  });

  it('is authorized like any non-resource URL', async () => {
    const result = await cluster.kubectl(['get', '--raw', '/metrics', '--as=bob']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /Error from server \(Forbidden\): forbidden: User "bob" cannot get path "\/metrics"/);
  });
});
