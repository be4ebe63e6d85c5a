import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';

import { createCertificateAuthority, issueCertificate } from '../../launcher/pki.js';
import { writeBuiltinSchemas } from '../../scripts/gen-builtin-schemas.js';
import { defineResource } from '../registry/resource.js';
import { BUILTIN_SCHEMAS_PATH, builtinSchemas } from '../schema/builtin.js';
import { encodeOpenApiV2Protobuf } from './v2-protobuf.js';
import { openApiV2FromV3 } from './v2.js';
import { buildOpenApiV3 } from './v3.js';

// ---- a tiny protobuf reader, enough to walk the messages back by field number ------------------------

interface Field {
  wireType: number;
  value: bigint | Buffer;
}

function decode(buffer: Buffer): Map<number, Field[]> {
  const fields = new Map<number, Field[]>();
  let offset = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = buffer[offset++];
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
    }
  };
  while (offset < buffer.length) {
    const key = Number(varint());
    const wireType = key & 7;
    let value: bigint | Buffer;
    if (wireType === 0) value = varint();
    else if (wireType === 1) value = buffer.subarray(offset, (offset += 8));
    else if (wireType === 2) {
      const length = Number(varint());
      value = buffer.subarray(offset, (offset += length));
    } else throw new Error(`unexpected wire type ${wireType} at ${offset}`);
    const list = fields.get(key >> 3) ?? [];
    list.push({ wireType, value });
    fields.set(key >> 3, list);
  }
  return fields;
}

const all = (buffer: Buffer, field: number): Field[] => decode(buffer).get(field) ?? [];
function message(buffer: Buffer, field: number): Buffer {
  const found = all(buffer, field);
  assert.equal(found.length, 1, `expected one field ${field}, found ${found.length}`);
  assert.equal(found[0].wireType, 2);
  return found[0].value as Buffer;
}
const messages = (buffer: Buffer, field: number): Buffer[] => all(buffer, field).map((entry) => entry.value as Buffer);
const text = (buffer: Buffer, field: number): string => messages(buffer, field).map((value) => value.toString('utf8')).join('');
const texts = (buffer: Buffer, field: number): string[] => messages(buffer, field).map((value) => value.toString('utf8'));
const number = (buffer: Buffer, field: number): bigint | undefined => all(buffer, field)[0]?.value as bigint | undefined;
/** Named* entries ({ name = 1; value = 2; }) as a record. */
const namedEntries = (buffer: Buffer, field: number): Record<string, Buffer> =>
  Object.fromEntries(messages(buffer, field).map((entry) => [text(entry, 1), message(entry, 2)]));
/** Vendor extensions, their Any.yaml parsed the way kubectl does (YAML 1.1). */
const extensions = (buffer: Buffer, field: number): Record<string, unknown> =>
  Object.fromEntries(Object.entries(namedEntries(buffer, field)).map(([name, value]) => [name, parse(text(value, 2), { version: '1.1' })]));

// ---- fixtures --------------------------------------------------------------------------------------------

const cmGvk = { group: '', version: 'v1', kind: 'ConfigMap' };
const configMaps = defineResource({ group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true, shortNames: ['cm'], schemaName: 'io.k8s.api.core.v1.ConfigMap' });

function swaggerFixture(): Record<string, unknown> {
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: 'v1.32.4' },
    paths: {
      '/api/v1/namespaces/{namespace}/configmaps/{name}': {
        parameters: [{ in: 'path', name: 'namespace', required: true, type: 'string', uniqueItems: true }],
        patch: {
          consumes: ['application/merge-patch+json'],
          operationId: 'patchCoreV1NamespacedConfigMap',
          parameters: [
            { in: 'body', name: 'body', required: true, schema: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } },
            { description: 'validation', in: 'query', name: 'fieldValidation', type: 'string', uniqueItems: true },
          ],
          responses: { '200': { description: 'OK', schema: { $ref: '#/definitions/io.k8s.api.core.v1.ConfigMap' } } },
          schemes: ['https'],
          'x-kubernetes-action': 'patch',
          'x-kubernetes-group-version-kind': cmGvk,
        },
      },
    },
    definitions: {
      'io.k8s.api.core.v1.ConfigMap': {
        properties: {
          data: { additionalProperties: { type: 'string' }, type: 'object' },
          immutable: { default: false, type: 'boolean' },
          mode: { enum: ['on', 'off', 'yes'], maxLength: 3, type: 'string' },
          ratio: { maximum: 2.5, minimum: -1, type: 'number' },
          closed: { additionalProperties: false, properties: {}, type: 'object' },
          tags: { items: { type: 'string' }, type: 'array' },
        },
        required: ['data'],
        type: 'object',
        'x-kubernetes-group-version-kind': [cmGvk],
      },
      'io.k8s.apimachinery.pkg.apis.meta.v1.Patch': { type: 'object' },
    },
    security: [{ BearerToken: [] }],
    securityDefinitions: { BearerToken: { in: 'header', name: 'authorization', type: 'apiKey' } },
  };
}

// ---- tests -------------------------------------------------------------------------------------------

describe('encodeOpenApiV2Protobuf', () => {
  const bytes = encodeOpenApiV2Protobuf(swaggerFixture());
  const definition = (name: string): Buffer => namedEntries(message(bytes, 9), 1)[name];
  const property = (name: string): Buffer => namedEntries(message(definition('io.k8s.api.core.v1.ConfigMap'), 25), 1)[name];

  it('writes the swagger version and info as Document fields 1 and 2', () => {
    assert.equal(text(bytes, 1), '2.0');
    const info = message(bytes, 2);
    assert.equal(text(info, 1), 'Kubernetes');
    assert.equal(text(info, 2), 'v1.32.4');
  });

  it('writes paths as Paths.path entries with the operation under PathItem.patch (field 8)', () => {
    const item = namedEntries(message(bytes, 8), 2)['/api/v1/namespaces/{namespace}/configmaps/{name}'];
    assert.ok(item);
    const patch = message(item, 8);
    assert.equal(text(patch, 5), 'patchCoreV1NamespacedConfigMap');
    assert.deepEqual(texts(patch, 7), ['application/merge-patch+json']);
    assert.deepEqual(texts(patch, 10), ['https']);
  });

  it('encodes operation vendor extensions as NamedAny with YAML that kubectl reads the GVK from', () => {
    const patch = message(namedEntries(message(bytes, 8), 2)['/api/v1/namespaces/{namespace}/configmaps/{name}'], 8);
    assert.deepEqual(extensions(patch, 13), { 'x-kubernetes-action': 'patch', 'x-kubernetes-group-version-kind': cmGvk });
  });

  it('encodes a query parameter as Parameter → NonBodyParameter → QueryParameterSubSchema', () => {
    const patch = message(namedEntries(message(bytes, 8), 2)['/api/v1/namespaces/{namespace}/configmaps/{name}'], 8);
    const [body, fieldValidation] = messages(patch, 8).map((item) => message(item, 1));
    const query = message(message(fieldValidation, 2), 3);
    assert.equal(text(query, 4), 'fieldValidation');
    assert.equal(text(query, 2), 'query');
    assert.equal(text(query, 6), 'string');
    assert.equal(number(query, 20), 1n);
    const bodyParameter = message(body, 1);
    assert.equal(text(bodyParameter, 2), 'body');
    assert.equal(number(bodyParameter, 4), 1n);
    assert.equal(text(message(bodyParameter, 5), 1), '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch');
  });

  it('encodes a path parameter as PathParameterSubSchema (oneof field 4) with required set', () => {
    const item = namedEntries(message(bytes, 8), 2)['/api/v1/namespaces/{namespace}/configmaps/{name}'];
    const path = message(message(message(messages(item, 9)[0], 1), 2), 4);
    assert.equal(number(path, 1), 1n);
    assert.equal(text(path, 4), 'namespace');
    assert.equal(text(path, 5), 'string');
  });

  it('encodes responses as NamedResponseValue → ResponseValue.response → SchemaItem.schema', () => {
    const patch = message(namedEntries(message(bytes, 8), 2)['/api/v1/namespaces/{namespace}/configmaps/{name}'], 8);
    const ok = message(namedEntries(message(patch, 9), 1)['200'], 1);
    assert.equal(text(ok, 1), 'OK');
    assert.equal(text(message(message(ok, 2), 1), 1), '#/definitions/io.k8s.api.core.v1.ConfigMap');
  });

  it('encodes definitions with TypeItem, required, properties and the GVK list extension', () => {
    const configMap = definition('io.k8s.api.core.v1.ConfigMap');
    assert.deepEqual(texts(message(configMap, 22), 1), ['object']);
    assert.deepEqual(texts(configMap, 19), ['data']);
    assert.deepEqual(extensions(configMap, 31), { 'x-kubernetes-group-version-kind': [cmGvk] });
    assert.deepEqual(Object.keys(namedEntries(message(configMap, 25), 1)), ['data', 'immutable', 'mode', 'ratio', 'closed', 'tags']);
  });

  it('encodes additionalProperties as a schema, and false as the oneof boolean that is still present', () => {
    assert.deepEqual(texts(message(message(message(property('data'), 21), 1), 22), 1), ['string']);
    const closed = message(property('closed'), 21);
    assert.deepEqual(all(closed, 2), [{ wireType: 0, value: 0n }]);
    // An empty properties object stays present: kubectl tells a struct from a map by it.
    assert.equal(message(property('closed'), 25).length, 0);
  });

  it('encodes items, enum, default, int64 and double keywords with their wire types', () => {
    assert.deepEqual(texts(message(messages(message(property('tags'), 23), 1)[0], 22), 1), ['string']);
    const mode = property('mode');
    assert.deepEqual(messages(mode, 20).map((value) => parse(text(value, 2), { version: '1.1' })), ['on', 'off', 'yes']);
    assert.equal(number(mode, 11), 3n);
    assert.equal(parse(text(message(property('immutable'), 5), 2)), false);
    const ratio = property('ratio');
    assert.equal((all(ratio, 7)[0].value as Buffer).readDoubleLE(), 2.5);
    assert.equal((all(ratio, 9)[0].value as Buffer).readDoubleLE(), -1);
    assert.equal(all(ratio, 9)[0].wireType, 1);
  });

  it('encodes security requirements and the apiKey security definition', () => {
    const requirement = namedEntries(messages(bytes, 12)[0], 1);
    assert.deepEqual(Object.keys(requirement), ['BearerToken']);
    const apiKey = message(namedEntries(message(bytes, 13), 1).BearerToken, 2);
    assert.deepEqual([text(apiKey, 1), text(apiKey, 2), text(apiKey, 3)], ['apiKey', 'authorization', 'header']);
  });

  it('leaves out proto3 zero values outside oneofs', () => {
    const empty = encodeOpenApiV2Protobuf({ swagger: '', info: { title: '', version: '' }, definitions: { x: { uniqueItems: false, minimum: 0, maxLength: 0 } } });
    assert.equal(message(empty, 2).length, 0);
    assert.equal(namedEntries(message(empty, 9), 1).x.length, 0);
    assert.equal(all(empty, 1).length, 0);
  });
});

// ---- the real kubectl 1.27 --------------------------------------------------------------------------

const KUBECTL_127 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.27';
const run = promisify(execFile);

interface Recorded {
  method: string;
  url: string;
  body: string;
}

function configMapDocument(): Record<string, unknown> {
  return buildOpenApiV3({ group: '', version: 'v1', resources: [configMaps], definitions: builtinSchemas(), strategicMerge: () => true });
}

/** Just enough of an API server for kubectl's create: discovery, /openapi/v2 and the collection POST. */
async function startServer(served: { protobuf: Buffer }, recorded: Recorded[]): Promise<Server> {
  const authority = await createCertificateAuthority('openapi-v2-test-ca');
  const serving = await issueCertificate({ caCertPem: authority.certPem, caKeyPem: authority.keyPem, commonName: '127.0.0.1', usage: 'server', ipAddresses: ['127.0.0.1'] });
  const server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      recorded.push({ method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
      const path = (req.url ?? '').split('?')[0];
      const json = (code: number, body: unknown) => {
        res.writeHead(code, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (path === '/version') return json(200, { major: '1', minor: '27', gitVersion: 'v1.27.0', platform: 'linux/amd64' });
      if (path === '/api') return json(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] });
      if (path === '/apis') return json(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
      if (path === '/api/v1') {
        return json(200, {
          kind: 'APIResourceList',
          groupVersion: 'v1',
          resources: [{ name: 'configmaps', singularName: 'configmap', namespaced: true, kind: 'ConfigMap', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['cm'] }],
        });
      }
      if (path === '/openapi/v2') {
        res.writeHead(200, { 'Content-Type': 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf' });
        return res.end(served.protobuf);
      }
      if (req.method === 'POST' && path === '/api/v1/namespaces/default/configmaps') {
        const object = JSON.parse(recorded[recorded.length - 1].body) as { metadata?: Record<string, unknown> };
        object.metadata = { ...object.metadata, namespace: 'default', uid: 'b6d1c5a4-0000-4000-8000-000000000001', resourceVersion: '1', creationTimestamp: '2024-01-01T00:00:00Z' };
        return json(201, object);
      }
      // No /openapi/v3: kubectl must manage with v2 alone, as against a server that only has v2.
      json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'the server could not find the requested resource' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe('kubectl 1.27 against the v2 protobuf document', { skip: !existsSync(KUBECTL_127) && `${KUBECTL_127} is not installed` }, () => {
  const recorded: Recorded[] = [];
  const served: { protobuf: Buffer } = { protobuf: Buffer.alloc(0) };
  let server: Server;
  let directory: string;
  let kubeconfig: string;

  const kubectl = (...args: string[]) =>
    run(KUBECTL_127, [`--kubeconfig=${kubeconfig}`, `--cache-dir=${join(directory, 'cache')}`, ...args], { cwd: directory, env: { ...process.env, HOME: directory }, timeout: 60_000 });

  before(async () => {
    if (!existsSync(BUILTIN_SCHEMAS_PATH)) await writeBuiltinSchemas(BUILTIN_SCHEMAS_PATH);
    served.protobuf = encodeOpenApiV2Protobuf(openApiV2FromV3([configMapDocument()]));
    server = await startServer(served, recorded);
    directory = await mkdtemp(join(tmpdir(), 'openapi-v2-kubectl-'));
    kubeconfig = join(directory, 'kubeconfig');
    const { port } = server.address() as AddressInfo;
    await writeFile(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: test, cluster: {server: "https://127.0.0.1:' + port + '", insecure-skip-tls-verify: true}}]',
        'users: [{name: test, user: {token: test-token}}]',
        'contexts: [{name: test, context: {cluster: test, user: test, namespace: default}}]',
        'current-context: test',
        '',
      ].join('\n'),
    );
    await writeFile(join(directory, 'unknown-field.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\nbogus: true\ndata:\n  key: value\n');
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(directory, { recursive: true, force: true });
  });

  it('leaves strict validation to the server once the verifier finds fieldValidation on the PATCH operation', async () => {
    // An unknown field: had the verifier said no, kubectl would have rejected it itself, without a POST.
    const { stdout } = await kubectl('create', '-f', join(directory, 'unknown-field.yaml'));
    assert.match(stdout, /configmap\/demo created/);
    assert.ok(recorded.some((request) => request.url.startsWith('/openapi/v2')), 'kubectl fetched /openapi/v2');
    const post = recorded.find((request) => request.method === 'POST');
    assert.ok(post, 'the create reached the server');
    assert.equal(new URL(post.url, 'https://x').searchParams.get('fieldValidation'), 'Strict');
    assert.match(post.body, /"bogus"/);
  });

  it('validates against the v2 models itself when the PATCH operation lacks fieldValidation', async () => {
    const swagger = openApiV2FromV3([configMapDocument()]) as { paths: Record<string, { patch?: { parameters: { name: string }[] } }> };
    for (const item of Object.values(swagger.paths)) {
      if (item.patch) item.patch.parameters = item.patch.parameters.filter((parameter) => parameter.name !== 'fieldValidation');
    }
    served.protobuf = encodeOpenApiV2Protobuf(swagger);
    recorded.length = 0;
    try {
      await assert.rejects(kubectl('create', '-f', join(directory, 'unknown-field.yaml')), (error: { stderr: string }) => {
        assert.match(error.stderr, /unknown field "bogus" in io\.k8s\.api\.core\.v1\.ConfigMap/);
        return true;
      });
      assert.equal(recorded.filter((request) => request.method === 'POST').length, 0);
    } finally {
      served.protobuf = encodeOpenApiV2Protobuf(openApiV2FromV3([configMapDocument()]));
    }
  });

  it('explains a kind from the v2 models when the server has no OpenAPI v3', async () => {
    const { stdout } = await kubectl('explain', 'configmap.metadata.labels');
    assert.match(stdout, /KIND:\s+ConfigMap/);
    assert.match(stdout, /labels\s+<map\[string\]string>/);
  });
});
