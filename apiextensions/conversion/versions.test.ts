// A CRD in two versions served by one ApiServer on memory storage: objects are stored in the storage
// version and every read and write answers in the version asked for (None: apiVersion only; Webhook: the
// webhook's conversion), deprecated versions warn, storedVersions follow the storage version.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiServer } from '../../apiserver/server/api-server.js';
import { MemoryStorage } from '../../apiserver/storage/memory.js';
import { request, watch } from '../../apiserver/server/test-server.js';
import { createApiextensionsServer } from '../server.js';
import { startTestWebhook, type TestWebhook } from './test-webhook.js';

const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const path = (version: string, name = '') => `/apis/stable.example.com/${version}/namespaces/default/crontabs${name ? `/${name}` : ''}`;

function specSchema(field: string): Record<string, unknown> {
  return { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { [field]: { type: 'string' }, color: { type: 'string' }, size: { type: 'integer' } } } } } };
}

function crontabCrd(conversion: Record<string, unknown>, fields: [string, string] = ['cronSpec', 'cronSpec']): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'crontabs.stable.example.com' },
    spec: {
      group: 'stable.example.com',
      scope: 'Namespaced',
      names: { plural: 'crontabs', kind: 'CronTab' },
      conversion,
      versions: [
        { name: 'v1beta1', served: true, storage: false, deprecated: true, schema: specSchema(fields[0]), selectableFields: [{ jsonPath: '.spec.color' }] },
        { name: 'v1', served: true, storage: true, schema: specSchema(fields[1]), selectableFields: [{ jsonPath: '.spec.color' }, { jsonPath: '.spec.size' }] },
      ],
    },
  };
}

let port: number;
let storage: MemoryStorage;
let httpServer: http.Server;
let apiextensions: ReturnType<typeof createApiextensionsServer>;

async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function servedVersions(versions: string[]): Promise<void> {
  for (const version of versions) await eventually(async () => ((await request(port, 'GET', path(version))).status === 200 ? true : undefined), `${version} served`);
}

async function storedApiVersion(name: string): Promise<string> {
  const stored = await storage.get(`/registry/stable.example.com/crontabs/default/${name}`);
  return (JSON.parse(stored!.value) as { apiVersion: string }).apiVersion;
}

before(async () => {
  const server = new ApiServer({ name: 'apiextensions-test', authentication: { clientCa: [], untrustedIdentityHeaders: 'strip' }, authorizer: async () => ({ allowed: true }) });
  storage = new MemoryStorage();
  apiextensions = createApiextensionsServer({ server, storage, values: {} });
  await apiextensions.start();
  httpServer = http.createServer(server.callback());
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  port = (httpServer.address() as AddressInfo).port;
});

after(async () => {
  apiextensions.stop();
  await new Promise((resolve) => httpServer.close(resolve));
});

describe('a CRD with conversion strategy None', () => {
  it('is created with storedVersions [storage version]', async () => {
    const created = await request(port, 'POST', CRD_PATH, { body: crontabCrd({ strategy: 'None' }) });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.json.status.storedVersions, ['v1']);
    await servedVersions(['v1beta1', 'v1']);
  });

  it('stores objects created through the deprecated version in the storage version, with a warning', async () => {
    const created = await request(port, 'POST', path('v1beta1'), { body: { apiVersion: 'stable.example.com/v1beta1', kind: 'CronTab', metadata: { name: 'a' }, spec: { cronSpec: '* * * * *', color: 'red', size: 1 } } });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.apiVersion, 'stable.example.com/v1beta1');
    assert.equal(created.headers.warning, '299 - "stable.example.com/v1beta1 CronTab is deprecated; use stable.example.com/v1 CronTab"');
    assert.equal(await storedApiVersion('a'), 'stable.example.com/v1');
    assert.equal(created.json.metadata.managedFields[0].apiVersion, 'stable.example.com/v1beta1');
  });

  it('answers get, list, update and delete in the version asked for', async () => {
    const v1 = await request(port, 'GET', path('v1', 'a'));
    assert.equal(v1.json.apiVersion, 'stable.example.com/v1');
    assert.equal(v1.headers.warning, undefined);
    const beta = await request(port, 'GET', path('v1beta1', 'a'));
    assert.equal(beta.json.apiVersion, 'stable.example.com/v1beta1');
    const list = await request(port, 'GET', path('v1beta1'));
    assert.deepEqual(list.json.items.map((item: { apiVersion: string }) => item.apiVersion), ['stable.example.com/v1beta1']);
    const patched = await request(port, 'PATCH', path('v1', 'a'), { body: { spec: { size: 2 } }, headers: { 'Content-Type': 'application/merge-patch+json' } });
    assert.equal(patched.json.apiVersion, 'stable.example.com/v1');
    assert.equal(patched.json.spec.size, 2);
    const updated = await request(port, 'PUT', path('v1beta1', 'a'), { body: { ...beta.json, spec: { ...beta.json.spec, size: 3 }, metadata: { ...beta.json.metadata, resourceVersion: patched.json.metadata.resourceVersion } } });
    assert.equal(updated.status, 200, updated.text);
    assert.equal(updated.json.apiVersion, 'stable.example.com/v1beta1');
    assert.equal(await storedApiVersion('a'), 'stable.example.com/v1');
  });

  it('watches in the version asked for', async () => {
    const stream = await watch(port, `${path('v1beta1')}?watch=true`);
    assert.equal(stream.headers.warning, '299 - "stable.example.com/v1beta1 CronTab is deprecated; use stable.example.com/v1 CronTab"');
    const first = await stream.next();
    assert.deepEqual([first.type, first.object.apiVersion], ['ADDED', 'stable.example.com/v1beta1']);
    await request(port, 'POST', path('v1'), { body: { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'b' }, spec: { color: 'blue', size: 5 } } });
    const second = await stream.next();
    assert.deepEqual([second.type, second.object.metadata.name, second.object.apiVersion], ['ADDED', 'b', 'stable.example.com/v1beta1']);
    stream.close();
  });

  it('selects by selectableFields (and only those of the version asked for)', async () => {
    const blue = await request(port, 'GET', `${path('v1')}?fieldSelector=spec.color%3Dblue`);
    assert.deepEqual(blue.json.items.map((item: { metadata: { name: string } }) => item.metadata.name), ['b']);
    const big = await request(port, 'GET', `${path('v1')}?fieldSelector=spec.size%3D5,metadata.namespace%3Ddefault`);
    assert.deepEqual(big.json.items.map((item: { metadata: { name: string } }) => item.metadata.name), ['b']);
    const notSelectable = await request(port, 'GET', `${path('v1beta1')}?fieldSelector=spec.size%3D5`);
    assert.equal(notSelectable.status, 400, notSelectable.text);
    assert.match(notSelectable.json.message, /field label not supported: spec\.size/);
  });

  it('adds a new storage version to storedVersions and refuses to drop a stored version', async () => {
    const current = (await request(port, 'GET', `${CRD_PATH}/crontabs.stable.example.com`)).json;
    current.spec.versions[0].storage = true;
    current.spec.versions[1].storage = false;
    const switched = await request(port, 'PUT', `${CRD_PATH}/crontabs.stable.example.com`, { body: current });
    assert.equal(switched.status, 200, switched.text);
    assert.deepEqual(switched.json.status.storedVersions, ['v1', 'v1beta1']);
    switched.json.spec.versions = [switched.json.spec.versions[0]];
    const dropped = await request(port, 'PUT', `${CRD_PATH}/crontabs.stable.example.com`, { body: switched.json });
    assert.equal(dropped.status, 422);
    assert.match(dropped.json.message, /status\.storedVersions\[0\]: Invalid value: "v1": must appear in spec\.versions/);
  });

  it('is deleted with its objects', async () => {
    const deleted = await request(port, 'DELETE', `${CRD_PATH}/crontabs.stable.example.com`);
    assert.equal(deleted.status, 200, deleted.text);
    await eventually(async () => ((await request(port, 'GET', `${CRD_PATH}/crontabs.stable.example.com`)).status === 404 ? true : undefined), 'CRD gone', 10_000);
  });
});

describe('a CRD with a conversion webhook', () => {
  let webhook: TestWebhook;
  before(async () => {
    webhook = await startTestWebhook();
  });
  after(async () => {
    await webhook.close();
  });

  it('converts every way through the webhook', async () => {
    await eventually(async () => ((await request(port, 'GET', path('v1'))).status === 404 ? true : undefined), 'old CRD unserved', 10_000);
    const crd = crontabCrd({ strategy: 'Webhook', webhook: { clientConfig: { url: webhook.url, caBundle: webhook.caBundle }, conversionReviewVersions: ['v1'] } }, ['cronSpec', 'schedule']);
    const created = await request(port, 'POST', CRD_PATH, { body: crd });
    assert.equal(created.status, 201, created.text);
    await servedVersions(['v1beta1', 'v1']);
    const cr = await request(port, 'POST', path('v1beta1'), { body: { apiVersion: 'stable.example.com/v1beta1', kind: 'CronTab', metadata: { name: 'w' }, spec: { cronSpec: '*/5 * * * *' } } });
    assert.equal(cr.status, 201, cr.text);
    assert.deepEqual(cr.json.spec, { cronSpec: '*/5 * * * *' });
    const stored = JSON.parse((await storage.get('/registry/stable.example.com/crontabs/default/w'))!.value);
    assert.deepEqual([stored.apiVersion, stored.spec], ['stable.example.com/v1', { schedule: '*/5 * * * *' }]);
    const v1 = await request(port, 'GET', path('v1', 'w'));
    assert.deepEqual(v1.json.spec, { schedule: '*/5 * * * *' });
    const list = await request(port, 'GET', path('v1beta1'));
    assert.deepEqual(list.json.items.map((item: { spec: unknown }) => item.spec), [{ cronSpec: '*/5 * * * *' }]);
  });

  it('fails the request with upstream 500 when the webhook fails', async () => {
    webhook.answer = (review) => ({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'ConversionReview', response: { uid: review.uid, result: { status: 'Failure', message: 'webhook is broken' } } });
    const got = await request(port, 'GET', path('v1beta1', 'w'));
    assert.equal(got.status, 500);
    assert.equal(got.json.message, 'conversion webhook for stable.example.com/v1, Kind=CronTab failed: webhook is broken');
    const created = await request(port, 'POST', path('v1beta1'), { body: { apiVersion: 'stable.example.com/v1beta1', kind: 'CronTab', metadata: { name: 'x' }, spec: {} } });
    assert.equal(created.status, 500);
    assert.equal(created.json.message, 'conversion webhook for stable.example.com/v1beta1, Kind=CronTab failed: webhook is broken');
    assert.equal((await request(port, 'GET', path('v1', 'x'))).status, 404, 'nothing was stored');
  });
});
