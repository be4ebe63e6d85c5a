// The request pipeline and the non-resource endpoints over real HTTP: errors from handlers, in-flight
// limits, timeouts, body limits and decoding, content negotiation, health, version, discovery and OpenAPI.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { TestServer } from './test-server.js';
import { WIDGETS, request, startTestServer, watch, widget } from './test-server.js';
import { defineResource } from '../registry/resource.js';
import { MemoryStorage } from '../storage/memory.js';

let t: TestServer;
const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => request(t.port, method, path, { body, headers });
const AGGREGATED = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

before(async () => {
  t = await startTestServer({ maxBodyBytes: 4096 });
  // A kind whose strategy fails with a plain Error: a bug, not a client problem.
  t.server.addResource({
    definition: defineResource({
      group: 'example.com',
      version: 'v1',
      kind: 'Broken',
      plural: 'brokens',
      namespaced: true,
      strategy: {
        validate: () => {
          throw new Error('boom');
        },
      },
    }),
    storage: t.storage,
  });
});
after(async () => {
  await t.close();
});

async function quietly<T>(work: () => Promise<T>): Promise<T> {
  const original = console.error;
  console.error = () => undefined;
  try {
    return await work();
  } finally {
    console.error = original;
  }
}

describe('errors from handlers', () => {
  it('a non-Status error is a 500 InternalError Status and the server keeps answering', async () => {
    const response = await quietly(() => call('POST', '/apis/example.com/v1/namespaces/default/brokens', { metadata: { name: 'b' } }));
    assert.equal(response.status, 500);
    assert.deepEqual(response.json, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Internal error occurred: boom',
      reason: 'InternalError',
      details: { causes: [{ message: 'boom' }] },
      code: 500,
    });
    assert.equal((await call('GET', WIDGETS)).status, 200);
  });

  it('an unknown path is 404 with a Status body', async () => {
    const response = await call('GET', '/nothing/here');
    assert.equal(response.status, 404);
    assert.equal(response.headers['content-type'], 'application/json');
    assert.equal(response.json.reason, 'NotFound');
    assert.equal(response.json.message, 'the server could not find the requested resource');
  });

  it('an unsupported verb on a resource is 405', async () => {
    const response = await call('OPTIONS', WIDGETS);
    assert.equal(response.status, 405);
  });
});

describe('request bodies', () => {
  it('a body over the limit is 413', async () => {
    const response = await call('POST', WIDGETS, widget('big', { color: 'x'.repeat(5000) }));
    assert.equal(response.status, 413);
    assert.deepEqual(response.json, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Request entity too large: limit is 4096',
      reason: 'RequestEntityTooLarge',
      code: 413,
    });
    assert.equal((await call('GET', `${WIDGETS}/big`)).status, 404);
  });

  it('a body over the limit without Content-Length is 413 too', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: t.port, method: 'POST', path: WIDGETS, headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write(JSON.stringify(widget('chunked', { color: 'y'.repeat(3000) })).slice(0, 2500));
      req.end('y'.repeat(3000));
    });
    assert.equal(status, 413);
  });

  it('malformed JSON is 400 BadRequest', async () => {
    const response = await call('POST', WIDGETS, '{"metadata": {"name": "x"', { 'Content-Type': 'application/json' });
    assert.equal(response.status, 400);
    assert.equal(response.json.reason, 'BadRequest');
  });

  it('a JSON body that is not an object is 400', async () => {
    const response = await call('POST', WIDGETS, '[1,2]', { 'Content-Type': 'application/json' });
    assert.equal(response.status, 400);
  });

  it('an unknown content type is 415 listing the accepted ones', async () => {
    const response = await call('POST', WIDGETS, 'name: x', { 'Content-Type': 'text/plain' });
    assert.equal(response.status, 415);
    assert.equal(response.json.reason, 'UnsupportedMediaType');
    assert.match(response.json.message, /^the body of the request was in an unknown format - accepted media types include: application\/json, application\/yaml/);
  });

  it('an Accept the server cannot produce is 406', async () => {
    const response = await call('GET', WIDGETS, undefined, { Accept: 'text/html' });
    assert.equal(response.status, 406);
    assert.equal(response.json.reason, 'NotAcceptable');
    assert.match(response.json.message, /^only the following media types are accepted: application\/json/);
  });

  it('a protobuf-or-JSON Accept is answered in JSON', async () => {
    const response = await call('GET', WIDGETS, undefined, { Accept: 'application/vnd.kubernetes.protobuf, */*' });
    assert.equal(response.status, 200);
    assert.equal(response.json.kind, 'WidgetList');
  });
});

describe('limits', () => {
  it('past max in-flight requests the server answers 429 with Retry-After, and serves again once they finish', async () => {
    const limited = await startTestServer({ maxRequestsInflight: 1, maxMutatingRequestsInflight: 1 }, new MemoryStorage());
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    limited.server.addRoute(async (req, res) => {
      if (!req.url?.startsWith('/slow')) return false;
      await held;
      res.end('done');
      return true;
    });
    try {
      const slow = request(limited.port, 'GET', '/slow');
      await new Promise((resolve) => setTimeout(resolve, 50));
      const rejected = await request(limited.port, 'GET', WIDGETS);
      assert.equal(rejected.status, 429);
      assert.equal(rejected.headers['retry-after'], '1');
      assert.deepEqual(rejected.json, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Too many requests, please try again later.',
        reason: 'TooManyRequests',
        details: { retryAfterSeconds: 1 },
        code: 429,
      });
      const mutating = await request(limited.port, 'POST', WIDGETS, { body: widget('m') });
      assert.equal(mutating.status, 201, 'mutating requests have their own limit');
      const stream = await watch(limited.port, `${WIDGETS}?watch=true`);
      assert.equal(stream.status, 200, 'watches are not counted');
      stream.close();
      release();
      assert.equal((await slow).text, 'done');
      assert.equal((await request(limited.port, 'GET', WIDGETS)).status, 200);
    } finally {
      release();
      await limited.close();
    }
  });

  it('a request past the request timeout is a 504 Timeout Status', async () => {
    const slowServer = await startTestServer({ requestTimeoutMs: 100 }, new MemoryStorage());
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    slowServer.server.addRoute(async (req, res) => {
      if (!req.url?.startsWith('/slow')) return false;
      await held;
      if (!res.headersSent) res.end('late');
      return true;
    });
    try {
      const response = await request(slowServer.port, 'GET', '/slow');
      assert.equal(response.status, 504);
      assert.deepEqual(response.json, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Timeout: request did not complete within the allotted timeout',
        reason: 'Timeout',
        code: 504,
      });
      release();
      assert.equal((await request(slowServer.port, 'GET', '/version')).status, 200);
    } finally {
      release();
      await slowServer.close();
    }
  });
});

describe('health', () => {
  it('/healthz answers ok as text', async () => {
    const response = await call('GET', '/healthz');
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assert.equal(response.text, 'ok');
  });

  it('/readyz?verbose lists every check', async () => {
    const response = await call('GET', '/readyz?verbose');
    assert.equal(response.status, 200);
    assert.equal(response.text, '[+]ping ok\n[+]log ok\n[+]shutdown ok\nreadyz check passed\n');
    assert.equal((await call('GET', '/readyz?verbose=')).text, response.text, 'kubectl sends verbose=');
  });

  it('/livez/ping runs one check', async () => {
    const response = await call('GET', '/livez/ping');
    assert.equal(response.status, 200);
    assert.equal(response.text, 'ok');
    assert.equal((await call('GET', '/livez/nothing')).status, 404);
  });

  it('?exclude= skips a check in place and warns about names that match nothing', async () => {
    const response = await call('GET', '/readyz?verbose&exclude=log&exclude=nope');
    assert.equal(response.status, 200);
    assert.equal(response.text, '[+]ping ok\n[+]log excluded: ok\n[+]shutdown ok\nwarn: some health checks cannot be excluded: no matches for "nope"\nreadyz check passed\n');
  });

  it('a failing check is a 500 with the verbose report and the reason withheld', async () => {
    const sick = await startTestServer({}, new MemoryStorage());
    sick.server.health.add('database', () => {
      throw new Error('disk on fire');
    });
    try {
      const response = await quietly(() => request(sick.port, 'GET', '/healthz'));
      assert.equal(response.status, 500);
      assert.equal(response.text, '[+]ping ok\n[+]log ok\n[-]database failed: reason withheld\nhealthz check failed\n');
      assert.equal((await quietly(() => request(sick.port, 'GET', '/healthz?exclude=database'))).status, 200);
      const one = await request(sick.port, 'GET', '/healthz/database');
      assert.equal(one.status, 500);
      assert.equal(one.text, 'internal server error: disk on fire\n');
    } finally {
      await sick.close();
    }
  });
});

describe('version', () => {
  it('/version reports 1.32 by default', async () => {
    const response = await call('GET', '/version');
    assert.equal(response.status, 200);
    assert.equal(response.json.major, '1');
    assert.equal(response.json.minor, '32');
    assert.match(response.json.gitVersion, /^v1\.32\./);
    assert.ok(response.json.platform);
  });
});

describe('discovery', () => {
  it('/apis lists the group (legacy)', async () => {
    const response = await call('GET', '/apis', undefined, { Accept: 'application/json, */*' });
    assert.equal(response.status, 200);
    assert.deepEqual(response.json, {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [{ name: 'example.com', versions: [{ groupVersion: 'example.com/v1', version: 'v1' }], preferredVersion: { groupVersion: 'example.com/v1', version: 'v1' } }],
    });
  });

  it('/apis/<group> is an APIGroup', async () => {
    const response = await call('GET', '/apis/example.com');
    assert.equal(response.json.kind, 'APIGroup');
    assert.equal(response.json.name, 'example.com');
    assert.deepEqual(response.json.preferredVersion, { groupVersion: 'example.com/v1', version: 'v1' });
  });

  it('/apis/<group>/<version> lists resources and subresources', async () => {
    const response = await call('GET', '/apis/example.com/v1');
    assert.equal(response.status, 200);
    assert.equal(response.json.kind, 'APIResourceList');
    assert.equal(response.json.groupVersion, 'example.com/v1');
    const byName = Object.fromEntries(response.json.resources.map((resource: { name: string }) => [resource.name, resource]));
    assert.deepEqual(Object.keys(byName), ['brokens', 'gadgets', 'widgets', 'widgets/status']);
    const { storageVersionHash, ...widgetsEntry } = byName.widgets;
    assert.match(storageVersionHash, /^[A-Za-z0-9+/=]{12}$/);
    assert.deepEqual(widgetsEntry, {
      name: 'widgets',
      singularName: 'widget',
      namespaced: true,
      kind: 'Widget',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['wd'],
      categories: ['all'],
    });
    assert.deepEqual(byName['widgets/status'], { name: 'widgets/status', singularName: '', namespaced: true, kind: 'Widget', verbs: ['get', 'patch', 'update'] });
    assert.equal(byName.gadgets.namespaced, false);
  });

  it('an unknown group-version is 404', async () => {
    assert.equal((await call('GET', '/apis/example.com/v2')).status, 404);
    assert.equal((await call('GET', '/apis/nothing.io')).status, 404);
  });

  it('aggregated discovery has the exact Content-Type, an ETag and answers 304 to If-None-Match', async () => {
    const accept = `${AGGREGATED},application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json`;
    const response = await call('GET', '/apis', undefined, { Accept: accept });
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], AGGREGATED);
    assert.match(response.headers.etag ?? '', /^"[0-9A-F]+"$/);
    assert.equal(response.json.kind, 'APIGroupDiscoveryList');
    assert.equal(response.json.apiVersion, 'apidiscovery.k8s.io/v2');
    const [group] = response.json.items;
    assert.equal(group.metadata.name, 'example.com');
    assert.equal(group.versions[0].version, 'v1');
    assert.equal(group.versions[0].freshness, 'Current');
    const widgetsEntry = group.versions[0].resources.find((resource: { resource: string }) => resource.resource === 'widgets');
    assert.deepEqual(widgetsEntry, {
      resource: 'widgets',
      responseKind: { group: 'example.com', version: 'v1', kind: 'Widget' },
      scope: 'Namespaced',
      singularResource: 'widget',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['wd'],
      categories: ['all'],
      subresources: [{ subresource: 'status', responseKind: { group: 'example.com', version: 'v1', kind: 'Widget' }, verbs: ['get', 'patch', 'update'] }],
    });
    const cached = await call('GET', '/apis', undefined, { Accept: accept, 'If-None-Match': response.headers.etag! });
    assert.equal(cached.status, 304);
    assert.equal(cached.text, '');
    const legacy = await call('GET', '/apis', undefined, { Accept: 'application/json', 'If-None-Match': response.headers.etag! });
    assert.equal(legacy.status, 200, 'the legacy document has its own ETag');
    assert.equal(legacy.json.kind, 'APIGroupList');
  });

  it('the ETag changes when a resource is added', async () => {
    const before = await call('GET', '/apis', undefined, { Accept: AGGREGATED });
    t.server.addResource({ definition: defineResource({ group: 'later.example.com', version: 'v1', kind: 'Late', plural: 'lates', namespaced: true }), storage: t.storage });
    const after = await call('GET', '/apis', undefined, { Accept: AGGREGATED, 'If-None-Match': before.headers.etag! });
    assert.equal(after.status, 200);
    assert.notEqual(after.headers.etag, before.headers.etag);
    assert.deepEqual(after.json.items.map((item: { metadata: { name: string } }) => item.metadata.name), ['example.com', 'later.example.com']);
    t.server.removeResource('later.example.com', 'v1', 'lates');
  });
});

describe('openapi v3', () => {
  it('the index points at each group-version with a hash, and the document offers fieldValidation on PATCH', async () => {
    const index = await call('GET', '/openapi/v3');
    assert.equal(index.status, 200);
    const entry = index.json.paths['apis/example.com/v1'];
    assert.match(entry.serverRelativeURL, /^\/openapi\/v3\/apis\/example.com\/v1\?hash=[0-9A-F]+$/);
    const document = await call('GET', entry.serverRelativeURL, undefined, { Accept: 'application/json' });
    assert.equal(document.status, 200);
    assert.equal(document.headers['content-type'], 'application/json');
    assert.match(document.headers['cache-control'] ?? '', /immutable/);
    const item = document.json.paths['/apis/example.com/v1/namespaces/{namespace}/widgets/{name}'];
    const parameters = item.patch.parameters.map((parameter: { name: string }) => parameter.name);
    assert.ok(parameters.includes('fieldValidation'));
    assert.deepEqual(Object.keys(item.patch.requestBody.content).sort(), ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json']);
    assert.ok(document.json.paths['/apis/example.com/v1/namespaces/{namespace}/widgets/{name}/status'].patch);
    assert.ok(document.json.paths['/apis/example.com/v1/gadgets/{name}'].patch.parameters.some((parameter: { name: string }) => parameter.name === 'fieldValidation'));
    const schema = document.json.components.schemas['com.example.v1.Widget'];
    assert.deepEqual(schema['x-kubernetes-group-version-kind'], [{ group: 'example.com', version: 'v1', kind: 'Widget' }]);
    assert.deepEqual(Object.keys(schema.properties.spec.properties), ['color', 'size']);
  });

  it('a stale hash redirects to the current one (301) and If-None-Match gives 304', async () => {
    const index = await call('GET', '/openapi/v3');
    const current = index.json.paths['apis/example.com/v1'].serverRelativeURL;
    const stale = await call('GET', '/openapi/v3/apis/example.com/v1?hash=0123');
    assert.equal(stale.status, 301);
    assert.equal(stale.headers.location, current);
    const first = await call('GET', current);
    const again = await call('GET', current, undefined, { 'If-None-Match': first.headers.etag! });
    assert.equal(again.status, 304);
  });

  it('the hash changes when the group-version changes', async () => {
    const before = (await call('GET', '/openapi/v3')).json.paths['apis/example.com/v1'].serverRelativeURL;
    t.server.addResource({ definition: defineResource({ group: 'example.com', version: 'v1', kind: 'Extra', plural: 'extras', namespaced: true }), storage: t.storage });
    const after = (await call('GET', '/openapi/v3')).json.paths['apis/example.com/v1'].serverRelativeURL;
    assert.notEqual(after, before);
    t.server.removeResource('example.com', 'v1', 'extras');
  });

  it('an unknown group-version is 404', async () => {
    assert.equal((await call('GET', '/openapi/v3/apis/nothing.io/v1')).status, 404);
  });
});
