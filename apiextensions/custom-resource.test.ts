import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../apiserver/registry/object.js';
import { columnDefinitions, tableRow } from '../apiserver/registry/table.js';
import { applyStructuralDefaults } from '../apiserver/schema/defaulting.js';
import { compileStructural } from '../apiserver/schema/structural.js';
import { customResourceDefinitionFor, parseSimpleJsonPath, printerColumnsFor } from './custom-resource.js';
import type { CrdSpec } from './crd-validation.js';
import { CustomResourceValidation } from './validation/custom-resource-validation.js';

const spec: CrdSpec = {
  group: 'stable.example.com',
  scope: 'Namespaced',
  names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList', shortNames: ['ct'] },
  versions: [
    {
      name: 'v1',
      served: true,
      storage: true,
      schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { cronSpec: { type: 'string' }, replicas: { type: 'integer' } } } } } },
      subresources: { status: {} },
      additionalPrinterColumns: [
        { name: 'Spec', type: 'string', jsonPath: '.spec.cronSpec' },
        { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
    },
  ],
};

const object: KubeObject = {
  apiVersion: 'stable.example.com/v1',
  kind: 'CronTab',
  metadata: { name: 'my-cron', namespace: 'default', creationTimestamp: new Date(Date.now() - 300_000).toISOString() },
  spec: { cronSpec: '* * * * */5', replicas: 1.7 },
};

describe('custom resource declaration', () => {
  const definition = customResourceDefinitionFor(spec, spec.names, spec.versions[0], () => false);

  it('takes names, scope, status subresource and storage prefix from the CRD', () => {
    assert.equal(definition.kind, 'CronTab');
    assert.equal(definition.listKind, 'CronTabList');
    assert.equal(definition.namespaced, true);
    assert.deepEqual(definition.shortNames, ['ct']);
    assert.deepEqual(definition.subresources.status.updates, ['status']);
    assert.equal(definition.storagePrefix, '/registry/stable.example.com/crontabs/');
    assert.equal(definition.generation, true);
  });

  it('prints Name, the declared columns (integers truncated) and an age', () => {
    const columns = definition.printerColumns!;
    assert.deepEqual(columnDefinitions(columns).map((column) => column.name), ['Name', 'Spec', 'Replicas', 'Age']);
    assert.deepEqual(tableRow(columns, object, 'None').cells, ['my-cron', '* * * * */5', 1, '5m']);
    assert.equal(columnDefinitions(columns)[1].description, 'Custom resource definition column (in JSONPath format): .spec.cronSpec');
  });

  it('prints a null cell for a missing or wrong-typed value', () => {
    const columns = definition.printerColumns!;
    assert.deepEqual((tableRow(columns, { ...object, spec: { replicas: 'x' } }, 'None').cells as unknown[]).slice(1, 3), [null, null]);
  });

  it('prints a list or a map in a string column as fmt %v, as upstream table_test expects ("[1 2 3]")', () => {
    const columns = printerColumnsFor([
      { name: 'Epsilon', type: 'string', jsonPath: '.spec.epsilon' },
      { name: 'Eta', type: 'string', jsonPath: '.spec.eta' },
      { name: 'Theta', type: 'string', jsonPath: '.spec.theta' },
    ]);
    const row = tableRow(columns, { ...object, spec: { epsilon: [1, 2, 3], eta: { b: 'x', a: [1.5, true] }, theta: 7 } }, 'None');
    assert.deepEqual((row.cells as unknown[]).slice(1), ['[1 2 3]', 'map[a:[1.5 true] b:x]', '7']);
  });

  it('prints Name and Age when no columns are declared', () => {
    assert.deepEqual(columnDefinitions(printerColumnsFor(undefined)).map((column) => `${column.name}/${column.type}`), ['Name/string', 'Age/date']);
  });

  it('prunes unknown fields and reports them, keeping standard metadata', () => {
    const check = new CustomResourceValidation(spec.versions[0].schema!.openAPIV3Schema as never).structuralCheck;
    const body: KubeObject = { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'x', labels: { a: 'b' } }, spec: { cronSpec: 'x', bogus: 1 } };
    const result = check(body);
    assert.deepEqual(result.unknownFields, ['spec.bogus']);
    assert.deepEqual(body.spec, { cronSpec: 'x' });
    assert.deepEqual(body.metadata.labels, { a: 'b' });
  });

  it('refuses creates while the CRD is terminating', () => {
    const terminating = customResourceDefinitionFor(spec, spec.names, spec.versions[0], () => true);
    assert.throws(() => terminating.strategy.prepareForCreate!(object, { user: { username: 'u', groups: [] }, warnings: [], dryRun: false }), /create not allowed while custom resource definition is terminating/);
  });
});

describe('simple JSONPath', () => {
  it('parses dotted fields, indexes and quoted keys', () => {
    assert.deepEqual(parseSimpleJsonPath('.status.conditions[0].type'), ['status', 'conditions', 0, 'type']);
    assert.deepEqual(parseSimpleJsonPath(".metadata.labels['app.kubernetes.io/name']"), ['metadata', 'labels', 'app.kubernetes.io/name']);
    assert.equal(parseSimpleJsonPath('.status.conditions[?(@.type=="Ready")].status'), undefined);
  });
});

describe('schema defaulting', () => {
  const schema = compileStructural({
    type: 'object' as const,
    properties: {
      spec: {
        type: 'object' as const,
        properties: {
          replicas: { type: 'integer' as const, default: 1 },
          policy: { type: 'object' as const, default: {}, properties: { mode: { type: 'string' as const, default: 'Allow' } } },
          ports: { type: 'array' as const, items: { type: 'object' as const, properties: { protocol: { type: 'string' as const, default: 'TCP' } } } },
        },
      },
      status: { type: 'object' as const, properties: { phase: { type: 'string' as const, default: 'Pending' } } },
    },
  });

  it('fills missing fields of present objects, defaulted parents and list items, but not absent parents', () => {
    const object: Record<string, unknown> = { spec: { ports: [{}, { protocol: 'UDP' }] } };
    applyStructuralDefaults(object, schema);
    assert.deepEqual(object, { spec: { replicas: 1, policy: { mode: 'Allow' }, ports: [{ protocol: 'TCP' }, { protocol: 'UDP' }] } });
  });

  it('keeps values that are set', () => {
    const object: Record<string, unknown> = { spec: { replicas: 3, policy: { mode: 'Deny' } } };
    applyStructuralDefaults(object, schema);
    assert.deepEqual(object, { spec: { replicas: 3, policy: { mode: 'Deny' } } });
  });
});
