// The CRD controller inside one ApiServer on memory storage, over HTTP: status, serving, deletion.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiServer } from '../apiserver/server/api-server.js';
import { MemoryStorage } from '../apiserver/storage/memory.js';
import { request } from '../apiserver/server/test-server.js';
import { createApiextensionsServer } from './server.js';

const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const CR_PATH = '/apis/stable.example.com/v1/namespaces/default/crontabs';
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

function crontabCrd(plural = 'crontabs', kind = 'CronTab', shortNames = ['ct']): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.stable.example.com` },
    spec: {
      group: 'stable.example.com',
      scope: 'Namespaced',
      names: { plural, kind, shortNames },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { cronSpec: { type: 'string' }, replicas: { type: 'integer', default: 1 } } }, status: { type: 'object', properties: { phase: { type: 'string' } } } } } },
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Spec', type: 'string', jsonPath: '.spec.cronSpec' },
            { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
        },
      ],
    },
  };
}

let port: number;
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

function condition(crd: { status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] } }, type: string) {
  return crd.status?.conditions?.find((item) => item.type === type);
}

before(async () => {
  const server = new ApiServer({ name: 'apiextensions-test', authentication: { clientCa: [], untrustedIdentityHeaders: 'strip' }, authorizer: async () => ({ allowed: true }) });
  apiextensions = createApiextensionsServer({ server, storage: new MemoryStorage(), values: {} });
  await apiextensions.start();
  httpServer = http.createServer(server.callback());
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  port = (httpServer.address() as AddressInfo).port;
});

after(async () => {
  apiextensions.stop();
  await new Promise((resolve) => httpServer.close(resolve));
});

describe('the CRD controller', () => {
  it('defaults a new CRD, then accepts its names and establishes it through status', async () => {
    const created = await request(port, 'POST', CRD_PATH, { body: crontabCrd() });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.spec.names.listKind, 'CronTabList');
    assert.equal(created.json.spec.conversion.strategy, 'None');
    const crd = await eventually(async () => {
      const got = (await request(port, 'GET', `${CRD_PATH}/crontabs.stable.example.com`)).json;
      return condition(got, 'Established')?.status === 'True' ? got : undefined;
    }, 'Established');
    assert.deepEqual(condition(crd, 'NamesAccepted'), { ...condition(crd, 'NamesAccepted'), status: 'True', reason: 'NoConflicts', message: 'no conflicts found' });
    assert.equal(condition(crd, 'Established')?.reason, 'InitialNamesAccepted');
    assert.deepEqual(crd.status.acceptedNames, { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList', shortNames: ['ct'] });
    assert.deepEqual(crd.status.storedVersions, ['v1']);
  });

  it('rejects a CRD whose root schema has no type', async () => {
    const bad = crontabCrd('badcrons', 'BadCron', []);
    (bad.spec as { versions: { schema: unknown }[] }).versions[0].schema = { openAPIV3Schema: { properties: {} } };
    const response = await request(port, 'POST', CRD_PATH, { body: bad });
    assert.equal(response.status, 422);
    // One version: upstream reports its schema at the internal version's spec.validation.
    assert.match(response.json.message, /spec\.validation\.openAPIV3Schema\.type: Required value: must not be empty at the root/);
  });

  it('serves the custom resources: discovery, create, table, pruning, strict, status', async () => {
    const discovery = await request(port, 'GET', '/apis/stable.example.com/v1');
    assert.equal(discovery.status, 200);
    const resources = discovery.json.resources.map((resource: { name: string }) => resource.name);
    assert.deepEqual(resources.sort(), ['crontabs', 'crontabs/status']);

    const created = await request(port, 'POST', CR_PATH, { body: { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'my-cron' }, spec: { cronSpec: '* * * * */5', replicas: 1, extra: true }, status: { phase: 'x' } } });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.json.spec, { cronSpec: '* * * * */5', replicas: 1 }, 'unknown fields are pruned');
    assert.equal(created.json.status, undefined, 'status is reset on create');
    assert.equal(created.json.metadata.generation, 1);
    const defaulted = await request(port, 'POST', CR_PATH, { body: { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'defaulted' }, spec: { cronSpec: 'x' } } });
    assert.equal(defaulted.json.spec.replicas, 1, 'schema defaults apply to present parents');

    const strict = await request(port, 'POST', `${CR_PATH}?fieldValidation=Strict`, { body: { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'strict' }, spec: { bogus: 1 } } });
    assert.equal(strict.status, 400);
    assert.match(strict.json.message, /unknown field "spec.bogus"/);

    const table = await request(port, 'GET', CR_PATH, { headers: { Accept: TABLE } });
    assert.deepEqual(table.json.columnDefinitions.map((column: { name: string }) => column.name), ['Name', 'Spec', 'Replicas', 'Age']);
    assert.deepEqual(table.json.rows.map((row: { cells: unknown[] }) => row.cells.slice(0, 3)), [['defaulted', 'x', 1], ['my-cron', '* * * * */5', 1]]);

    const status = await request(port, 'PUT', `${CR_PATH}/my-cron/status`, { body: { ...created.json, status: { phase: 'Running' } } });
    assert.equal(status.status, 200, status.text);
    assert.equal(status.json.status.phase, 'Running');

    const smp = await request(port, 'PATCH', `${CR_PATH}/my-cron`, { body: '{"spec":{"replicas":2}}', headers: { 'Content-Type': 'application/strategic-merge-patch+json' } });
    assert.equal(smp.status, 415);
    const merge = await request(port, 'PATCH', `${CR_PATH}/my-cron`, { body: '{"spec":{"replicas":2}}', headers: { 'Content-Type': 'application/merge-patch+json' } });
    assert.equal(merge.status, 200, merge.text);
    assert.equal(merge.json.metadata.generation, 2);
  });

  it('offers no strategic merge patch in the OpenAPI v3 of the group-version', async () => {
    const document = (await request(port, 'GET', '/openapi/v3/apis/stable.example.com/v1')).json;
    const patch = document.paths['/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}'].patch;
    assert.ok(!('application/strategic-merge-patch+json' in patch.requestBody.content));
    assert.ok('application/apply-patch+yaml' in patch.requestBody.content);
    assert.ok(patch.parameters.some((parameter: { name: string }) => parameter.name === 'fieldValidation'));
    assert.ok(document.components.schemas['com.example.stable.v1.CronTab']);
  });

  it('refuses names another CRD of the group has accepted', async () => {
    const crons = crontabCrd('crons', 'CronTab', []);
    (crons.spec as { names: Record<string, unknown> }).names.singular = 'cron';
    const created = await request(port, 'POST', CRD_PATH, { body: crons });
    assert.equal(created.status, 201, created.text);
    const crd = await eventually(async () => {
      const got = (await request(port, 'GET', `${CRD_PATH}/crons.stable.example.com`)).json;
      return condition(got, 'NamesAccepted') ? got : undefined;
    }, 'NamesAccepted');
    assert.equal(condition(crd, 'NamesAccepted')?.status, 'False');
    // Kind and listKind both conflict; upstream's naming controller reports the last conflict it found.
    assert.equal(condition(crd, 'NamesAccepted')?.reason, 'ListKindConflict');
    assert.equal(condition(crd, 'NamesAccepted')?.message, '"CronTabList" is already in use');
    assert.equal(condition(crd, 'Established')?.status, 'False');
    assert.equal((await request(port, 'GET', '/apis/stable.example.com/v1/crons')).status, 404);
    assert.equal((await request(port, 'DELETE', `${CRD_PATH}/crons.stable.example.com`)).status, 200);
  });

  it('deletes a CRD through its cleanup finalizer, instances first', async () => {
    const first = await request(port, 'DELETE', `${CRD_PATH}/crontabs.stable.example.com`);
    assert.equal(first.status, 200, first.text);
    assert.ok(first.json.metadata.finalizers.includes('customresourcecleanup.apiextensions.k8s.io'));
    assert.ok(first.json.metadata.deletionTimestamp);
    await eventually(async () => ((await request(port, 'GET', `${CRD_PATH}/crontabs.stable.example.com`)).status === 404 ? true : undefined), 'the CRD to disappear');
    // The controller learns of the deletion from the watch cache, a moment after storage.
    await eventually(async () => ((await request(port, 'GET', CR_PATH)).status === 404 ? true : undefined), 'the custom resources to be unserved');
    await apiextensions.controller.idle();
    assert.equal((await request(port, 'GET', '/apis/stable.example.com/v1')).status, 404);
    // Recreating the CRD shows no leftover instances.
    assert.equal((await request(port, 'POST', CRD_PATH, { body: crontabCrd() })).status, 201);
    const list = await eventually(async () => {
      const response = await request(port, 'GET', CR_PATH);
      return response.status === 200 ? response.json : undefined;
    }, 'the recreated CRD to be served');
    assert.deepEqual(list.items, []);
  });
});
