import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DiscoveryEndpoints } from './discovery-endpoints.js';
import { defineResource, statusSubresource } from '../registry/resource.js';
import { aggregatedDiscoveryList, aggregatedResources, orderGroups, type GroupVersionResources } from '../discovery/documents.js';
import { AGGREGATED_DISCOVERY_V2, AGGREGATED_DISCOVERY_V2BETA1 } from '../request/negotiation.js';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function get(discovery: DiscoveryEndpoints, path: string, headers: Record<string, string> = {}): Answer | undefined {
  const answer: Answer = { status: 0, headers: {}, body: '' };
  const res = {
    set statusCode(code: number) {
      answer.status = code;
    },
    setHeader(name: string, value: string) {
      answer.headers[name.toLowerCase()] = String(value);
    },
    end(body?: string | Buffer) {
      answer.body = body === undefined ? '' : body.toString();
    },
  } as unknown as ServerResponse;
  const req = { method: 'GET', headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value])) } as IncomingMessage;
  return discovery.serve(req, res, path) ? answer : undefined;
}

const widget = (group: string, version = 'v1', plural = 'widgets') => defineResource({ group, version, kind: 'Widget', plural, namespaced: true, subresources: { status: statusSubresource } });

/** The aggregated list as it was always built: every group-version rendered from scratch. */
function fromScratch(discovery: DiscoveryEndpoints, format: 'v2' | 'v2beta1'): string {
  const gvs: GroupVersionResources[] = discovery.groupVersions().filter((gv) => gv.group !== '');
  const groups = orderGroups(gvs).map((summary) => ({
    name: summary.name,
    versions: summary.versions.map((version) => ({ version, resources: aggregatedResources(gvs.find((gv) => gv.group === summary.name && gv.version === version)!) })),
  }));
  return JSON.stringify(aggregatedDiscoveryList(groups, format));
}

test('the aggregated list kept per group is byte for byte what rendering everything gives, through adds and removes', () => {
  const discovery = new DiscoveryEndpoints(() => '127.0.0.1:6443');
  discovery.priorities.set('apps/v1', { group: 17800, version: 15 });
  discovery.add(defineResource({ group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true }));
  for (let index = 0; index < 5; index++) discovery.add(widget(`g${index}.example.com`));
  const etags = new Set<string>();
  const check = () => {
    for (const [format, accept] of [['v2', AGGREGATED_DISCOVERY_V2], ['v2beta1', AGGREGATED_DISCOVERY_V2BETA1]] as const) {
      const answer = get(discovery, '/apis', { Accept: accept })!;
      assert.equal(answer.body, fromScratch(discovery, format));
      assert.equal(answer.headers['content-type'], accept);
      etags.add(answer.headers.etag);
    }
  };
  check();
  discovery.add(widget('g2.example.com', 'v2beta1'));
  check();
  discovery.add(widget('g3.example.com', 'v1', 'gadgets'));
  check();
  discovery.remove('g1.example.com', 'v1', 'widgets');
  check();
  discovery.remove('g3.example.com', 'v1', 'widgets');
  check();
  assert.equal(etags.size, 10, 'every change gives each format a new ETag');
  assert.equal(get(discovery, '/apis/g1.example.com'), undefined);
  assert.deepEqual(JSON.parse(get(discovery, '/apis/g2.example.com')!.body).versions, [
    { groupVersion: 'g2.example.com/v1', version: 'v1' },
    { groupVersion: 'g2.example.com/v2beta1', version: 'v2beta1' },
  ]);
  assert.deepEqual(JSON.parse(get(discovery, '/apis/g3.example.com/v1')!.body).resources.map((resource: { name: string }) => resource.name), ['gadgets', 'gadgets/status']);
});

test('an unchanged document answers 304 to its ETag, and a change anywhere gives a new one', () => {
  const discovery = new DiscoveryEndpoints(() => '127.0.0.1:6443');
  discovery.add(widget('a.example.com'));
  const first = get(discovery, '/apis', { Accept: AGGREGATED_DISCOVERY_V2 })!;
  assert.equal(get(discovery, '/apis', { Accept: AGGREGATED_DISCOVERY_V2, 'If-None-Match': first.headers.etag })!.status, 304);
  discovery.add(widget('b.example.com'));
  const second = get(discovery, '/apis', { Accept: AGGREGATED_DISCOVERY_V2, 'If-None-Match': first.headers.etag })!;
  assert.equal(second.status, 200);
  assert.notEqual(second.headers.etag, first.headers.etag);
  assert.match(second.headers.etag, /^"[0-9A-F]{128}"$/);
});
