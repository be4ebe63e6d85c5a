import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { openApiV2FromV3 } from './v2.js';

// Fixtures and results are walked freely; the converter itself is what is typed.
type Json = Record<string, any>;

const REF = '#/components/schemas/';
const gvk = { group: '', version: 'v1', kind: 'Widget' };
const query = (name: string, type = 'string') => ({ name, in: 'query', description: `${name} parameter`, schema: { type, uniqueItems: true } });

/** A v3 document in the shape buildOpenApiV3 writes, cut down to one kind. */
function widgetDocument(): Json {
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.4' },
    paths: {
      '/api/v1/namespaces/{namespace}/widgets/{name}': {
        parameters: [{ name: 'namespace', in: 'path', description: 'namespace', schema: { type: 'string', uniqueItems: true } }, query('pretty')],
        get: {
          operationId: 'readCoreV1NamespacedWidget',
          'x-kubernetes-action': 'get',
          'x-kubernetes-group-version-kind': gvk,
          responses: { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: `${REF}core.v1.Widget` } } } }, '401': { description: 'Unauthorized' } },
        },
        patch: {
          operationId: 'patchCoreV1NamespacedWidget',
          'x-kubernetes-action': 'patch',
          'x-kubernetes-group-version-kind': gvk,
          parameters: [query('dryRun'), query('fieldValidation'), query('force', 'boolean')],
          requestBody: {
            required: true,
            content: {
              'application/merge-patch+json': { schema: { $ref: `${REF}io.k8s.apimachinery.pkg.apis.meta.v1.Patch` } },
              'application/apply-patch+yaml': { schema: { $ref: `${REF}io.k8s.apimachinery.pkg.apis.meta.v1.Patch` } },
            },
          },
          responses: { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: `${REF}core.v1.Widget` } }, 'application/yaml': { schema: { $ref: `${REF}core.v1.Widget` } } } } },
        },
        trace: { operationId: 'nope', responses: {} },
      },
    },
    components: {
      schemas: {
        'core.v1.Widget': {
          type: 'object',
          description: 'A widget.',
          required: ['spec'],
          properties: {
            spec: { type: 'object', properties: { size: { type: 'integer', format: 'int32', minimum: 1 } } },
            metadata: { default: {}, description: 'Standard object metadata.', allOf: [{ $ref: `${REF}io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta` }] },
          },
          'x-kubernetes-group-version-kind': [gvk],
        },
        'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': { type: 'object', properties: { name: { type: 'string' } } },
        'io.k8s.apimachinery.pkg.apis.meta.v1.Patch': { type: 'object', description: 'Patch body.' },
        'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions': {
          type: 'object',
          properties: { dryRun: { type: 'array', items: { type: 'string' } } },
          'x-kubernetes-group-version-kind': [{ group: '', version: 'v1', kind: 'DeleteOptions' }],
        },
      },
    },
  };
}

describe('openApiV2FromV3', () => {
  it('writes a swagger 2.0 document with the first document info and bearer-token security', () => {
    const document = openApiV2FromV3([widgetDocument()]);
    assert.equal(document.swagger, '2.0');
    assert.deepEqual(document.info, { title: 'Kubernetes', version: 'v1.32.4' });
    assert.deepEqual(document.security, [{ BearerToken: [] }]);
    assert.equal((document.securityDefinitions as Json).BearerToken.type, 'apiKey');
  });

  it('turns the request body into a leading body parameter and flattens query parameter schemas', () => {
    const patch = (openApiV2FromV3([widgetDocument()]).paths as Json)['/api/v1/namespaces/{namespace}/widgets/{name}'].patch;
    assert.deepEqual(patch.parameters[0], { in: 'body', name: 'body', required: true, schema: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } });
    assert.deepEqual(patch.parameters[2], { description: 'fieldValidation parameter', in: 'query', name: 'fieldValidation', type: 'string', uniqueItems: true });
    assert.equal(patch.parameters[3].type, 'boolean');
    assert.deepEqual(patch.consumes, ['application/merge-patch+json', 'application/apply-patch+yaml']);
    assert.deepEqual(patch.produces, ['application/json', 'application/yaml']);
    assert.deepEqual(patch.schemes, ['https']);
  });

  it('keeps the kubernetes vendor extensions on operations', () => {
    const patch = (openApiV2FromV3([widgetDocument()]).paths as Json)['/api/v1/namespaces/{namespace}/widgets/{name}'].patch;
    assert.equal(patch['x-kubernetes-action'], 'patch');
    assert.deepEqual(patch['x-kubernetes-group-version-kind'], gvk);
    assert.equal(patch.operationId, 'patchCoreV1NamespacedWidget');
  });

  it('rewrites response schemas to definitions and keeps responses without content bare', () => {
    const get = (openApiV2FromV3([widgetDocument()]).paths as Json)['/api/v1/namespaces/{namespace}/widgets/{name}'].get;
    assert.deepEqual(get.responses, { '200': { description: 'OK', schema: { $ref: '#/definitions/core.v1.Widget' } }, '401': { description: 'Unauthorized' } });
    assert.equal(get.consumes, undefined);
  });

  it('marks path parameters required and drops methods swagger 2.0 lacks', () => {
    const item = (openApiV2FromV3([widgetDocument()]).paths as Json)['/api/v1/namespaces/{namespace}/widgets/{name}'];
    assert.deepEqual(item.parameters[0], { description: 'namespace', in: 'path', name: 'namespace', required: true, type: 'string', uniqueItems: true });
    assert.equal(item.trace, undefined);
  });

  it('simplifies allOf wrappers around a reference into a $ref that keeps its description and default', () => {
    const widget = (openApiV2FromV3([widgetDocument()]).definitions as Json)['core.v1.Widget'];
    assert.deepEqual(widget.properties.metadata, { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', default: {}, description: 'Standard object metadata.' });
    assert.deepEqual(widget['x-kubernetes-group-version-kind'], [gvk]);
    assert.deepEqual(widget.required, ['spec']);
    assert.deepEqual(widget.properties.spec.properties.size, { format: 'int32', minimum: 1, type: 'integer' });
  });

  it('drops a type or properties written beside a reference, which kubectl models reject', () => {
    const source = widgetDocument();
    source.components.schemas['core.v1.Widget'].properties.owner = { type: 'object', properties: { x: {} }, allOf: [{ $ref: `${REF}io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta` }] };
    const owner = (openApiV2FromV3([source]).definitions as Json)['core.v1.Widget'].properties.owner;
    assert.deepEqual(owner, { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' });
  });

  it('leaves a reference to a missing definition as an untyped value', () => {
    const source = widgetDocument();
    source.components.schemas['core.v1.Widget'].properties.ghost = { description: 'gone', allOf: [{ $ref: `${REF}no.such.Thing` }] };
    const ghost = (openApiV2FromV3([source]).definitions as Json)['core.v1.Widget'].properties.ghost;
    assert.deepEqual(ghost, { description: 'gone' });
  });

  it('removes v3-only keywords and makes nullable fields untyped and optional', () => {
    const source = widgetDocument();
    source.components.schemas['thing.v1.Thing'] = {
      type: 'object',
      required: ['maybe', 'always'],
      properties: {
        maybe: { type: 'object', nullable: true, properties: { a: { type: 'string' } } },
        always: { type: 'string', oneOf: [{ pattern: 'a' }], anyOf: [{ pattern: 'b' }], not: { pattern: 'c' }, writeOnly: true, deprecated: true },
        either: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { a: { type: 'string' } } },
        list: { type: 'array' },
        pair: { type: ['string', 'null'] },
        bounded: { type: 'number', exclusiveMinimum: 0 },
      },
    };
    const thing = (openApiV2FromV3([source]).definitions as Json)['thing.v1.Thing'];
    assert.deepEqual(thing.required, ['always']);
    assert.deepEqual(thing.properties.maybe, {});
    assert.deepEqual(thing.properties.always, { type: 'string' });
    assert.deepEqual(thing.properties.either, { 'x-kubernetes-int-or-string': true });
    assert.deepEqual(thing.properties.free, { type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
    assert.deepEqual(thing.properties.list, {});
    assert.deepEqual(thing.properties.pair, { type: 'string' });
    assert.deepEqual(thing.properties.bounded, { exclusiveMinimum: true, minimum: 0, type: 'number' });
  });

  it('publishes a kind that preserves unknown fields at its root as a bare object', () => {
    const source = widgetDocument();
    source.components.schemas['thing.v1.Open'] = {
      type: 'object',
      description: 'anything goes',
      'x-kubernetes-preserve-unknown-fields': true,
      properties: { apiVersion: { type: 'string' }, metadata: { allOf: [{ $ref: `${REF}io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta` }] } },
      'x-kubernetes-group-version-kind': [{ group: 'thing', version: 'v1', kind: 'Open' }],
    };
    const open = (openApiV2FromV3([source]).definitions as Json)['thing.v1.Open'];
    assert.deepEqual(open, { type: 'object', 'x-kubernetes-group-version-kind': [{ group: 'thing', version: 'v1', kind: 'Open' }] });
  });

  it('drops required entirely when map values may be null', () => {
    const source = widgetDocument();
    source.components.schemas['thing.v1.Map'] = { type: 'object', required: ['a'], additionalProperties: { type: 'string', nullable: true } };
    const map = (openApiV2FromV3([source]).definitions as Json)['thing.v1.Map'];
    assert.deepEqual(map, { additionalProperties: {}, type: 'object' });
  });

  it('merges several documents, uniting the group-version-kinds of shared definitions', () => {
    const apps = widgetDocument();
    apps.paths = { '/apis/apps/v1/gadgets': { get: { operationId: 'listGadgets', responses: { '200': { description: 'OK' } } } } };
    apps.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions']['x-kubernetes-group-version-kind'] = [{ group: 'apps', version: 'v1', kind: 'DeleteOptions' }];
    const document = openApiV2FromV3([widgetDocument(), apps]);
    assert.deepEqual(Object.keys(document.paths as Json), ['/api/v1/namespaces/{namespace}/widgets/{name}', '/apis/apps/v1/gadgets']);
    assert.deepEqual((document.definitions as Json)['io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions']['x-kubernetes-group-version-kind'], [
      { group: '', kind: 'DeleteOptions', version: 'v1' },
      { group: 'apps', kind: 'DeleteOptions', version: 'v1' },
    ]);
  });

  it('produces byte-identical output for the same input, with definitions and keys sorted', () => {
    const first = JSON.stringify(openApiV2FromV3([widgetDocument()]));
    assert.equal(JSON.stringify(openApiV2FromV3([widgetDocument()])), first);
    const definitions = Object.keys(openApiV2FromV3([widgetDocument()]).definitions as Json);
    assert.deepEqual(definitions, [...definitions].sort());
    const widget = (openApiV2FromV3([widgetDocument()]).definitions as Json)['core.v1.Widget'];
    assert.deepEqual(Object.keys(widget), ['description', 'properties', 'required', 'type', 'x-kubernetes-group-version-kind']);
  });

  it('does not modify the v3 documents it reads', () => {
    const source = widgetDocument();
    const before = JSON.stringify(source);
    openApiV2FromV3([source]);
    assert.equal(JSON.stringify(source), before);
  });
});
