// /metrics through the real pipeline: upstream's names and labels after some requests.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../server/test-server.js';
import { request, startTestServer } from '../server/test-server.js';

let test: TestServer;

before(async () => {
  test = await startTestServer({ authorizer: async (_user, info) => ({ allowed: info.path !== '/metrics' || info.verb === 'get' }) });
});
after(async () => {
  await test.close();
});

/** The samples of a metric: label maps with values. */
export function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const found: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const match = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    found.push({ labels, value: Number(match[2]) });
  }
  return found;
}

describe('/metrics', () => {
  it('counts requests with upstream\'s labels, in Go\'s (alphabetical) order', async () => {
    const body = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'm1' } };
    assert.equal((await request(test.port, 'POST', '/apis/example.com/v1/namespaces/default/widgets', { body })).status, 201);
    assert.equal((await request(test.port, 'POST', '/apis/example.com/v1/namespaces/default/widgets?dryRun=All', { body: { ...body, metadata: { name: 'dry' } } })).status, 201);
    assert.equal((await request(test.port, 'GET', '/apis/example.com/v1/namespaces/default/widgets')).status, 200);
    assert.equal((await request(test.port, 'GET', '/apis/example.com/v1/widgets/nope')).status, 404);
    const response = await request(test.port, 'GET', '/metrics');
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    const text = response.text;
    assert.match(text, /^apiserver_request_total\{code="201",component="apiserver",dry_run="",group="example.com",resource="widgets",scope="resource",subresource="",verb="POST",version="v1"\} \d+$/m);
    const total = samples(text, 'apiserver_request_total');
    const find = (labels: Record<string, string>) => total.find((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
    assert.ok(find({ verb: 'POST', dry_run: 'All', code: '201' }), 'dry runs are labelled');
    assert.ok(find({ verb: 'LIST', resource: 'widgets', scope: 'namespace', code: '200' }));
    assert.ok(find({ verb: 'GET', resource: 'widgets', scope: 'resource', code: '404' }));
    const buckets = samples(text, 'apiserver_request_duration_seconds_bucket').filter((sample) => sample.labels.verb === 'LIST' && sample.labels.resource === 'widgets');
    assert.deepEqual(buckets.map((sample) => sample.labels.le), ['0.005', '0.025', '0.05', '0.1', '0.2', '0.4', '0.6', '0.8', '1', '1.25', '1.5', '2', '3', '4', '5', '6', '8', '10', '15', '20', '30', '45', '60', '+Inf']);
    assert.ok(samples(text, 'apiserver_storage_objects').some((sample) => sample.labels.resource === 'widgets.example.com' && sample.value === 1));
    assert.deepEqual(samples(text, 'apiserver_current_inflight_requests').map((sample) => sample.labels.request_kind).sort(), ['mutating', 'readOnly']);
    assert.ok(samples(text, 'process_cpu_seconds_total').length === 1, 'default process metrics');
  });

  it('is authorized like any non-resource URL', async () => {
    const denied = await request(test.port, 'POST', '/metrics');
    assert.equal(denied.status, 403);
    assert.equal(denied.json.message, 'forbidden: User "system:anonymous" cannot post path "/metrics"');
  });
});
