import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../apiserver/registry/object.js';
import { fieldErrorMessage } from '../apiserver/request/status.js';
import { defaultCrd, initialStatus, recordStorageVersion, validateCrd } from './crd-validation.js';
import { schemaWarnings, validateCrdSchema } from './structural-schema.js';

const ROOT = 'spec.versions[0].schema.openAPIV3Schema';

function schemaMessages(schema: Record<string, unknown>): string[] {
  return validateCrdSchema(schema, ROOT).map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
}

function crd(versions: Record<string, unknown>[], extra: Record<string, unknown> = {}): KubeObject {
  const object: KubeObject = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'crontabs.stable.example.com' },
    spec: { group: 'stable.example.com', scope: 'Namespaced', names: { plural: 'crontabs', kind: 'CronTab' }, versions, ...extra },
  };
  defaultCrd(object);
  initialStatus(object);
  return object;
}

const objectSchema = (properties: Record<string, unknown> = {}) => ({ openAPIV3Schema: { type: 'object', properties } });
const version = (name: string, fields: Record<string, unknown> = {}) => ({ name, served: true, storage: false, schema: objectSchema({ spec: { type: 'object', properties: { color: { type: 'string' }, size: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } } } } }), ...fields });

function messages(object: KubeObject): string[] {
  return validateCrd(object).map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
}

describe('structural schema violations (upstream wording, grouped by cause, with the fix)', () => {
  const table: { name: string; schema: Record<string, unknown>; expected: string[] }[] = [
    {
      name: 'a property without type',
      schema: { type: 'object', properties: { spec: { properties: { replicas: { type: 'integer' } } } } },
      expected: [`${ROOT}.properties[spec].type: Required value: must not be empty for specified object fields — fix: add "type: object" at properties.spec`],
    },
    {
      name: 'array items without type and an array without items',
      schema: { type: 'object', properties: { list: { type: 'array', items: { description: 'x' } }, other: { type: 'array' } } },
      expected: [
        `${ROOT}.properties[list].items.type: Required value: must not be empty for specified array items — fix: add a type (string, integer, number, boolean, object or array) at properties.list.items, or "x-kubernetes-preserve-unknown-fields: true" for free-form data`,
        `${ROOT}.properties[other].items: Required value: must be specified — fix: add an "items" schema at properties.other`,
      ],
    },
    {
      name: '$ref and additionalProperties with properties',
      schema: { type: 'object', properties: { spec: { type: 'object', $ref: '#/definitions/Spec', properties: { a: { type: 'string' } }, additionalProperties: false } } },
      expected: [
        `${ROOT}.properties[spec].$ref: Forbidden: $ref is not supported — fix: inline the referenced schema at properties.spec (CRD schemas are self-contained)`,
        `${ROOT}.properties[spec].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive — fix: keep either "properties" (a struct) or "additionalProperties" (a map) at properties.spec; unknown fields are pruned anyway, so "additionalProperties: false" is not needed`,
      ],
    },
    {
      name: 'metadata restricting more than name',
      schema: { type: 'object', properties: { metadata: { type: 'object', properties: { labels: { type: 'object' } } } } },
      expected: [
        `${ROOT}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified — fix: remove everything under properties.metadata except "type: object" and the name/generateName properties (metadata is always the standard ObjectMeta)`,
      ],
    },
    {
      name: 'type and description inside anyOf, and a field only known there',
      schema: { type: 'object', properties: { spec: { type: 'object', anyOf: [{ type: 'object', properties: { ghost: { description: 'd' } } }] } } },
      expected: [
        `${ROOT}.properties[spec].anyOf[0].properties[ghost].description: Forbidden: must be empty to be structural — fix: move "description" out of properties[spec].anyOf[0].properties[ghost] to the schema at properties.spec.properties.ghost (anyOf/allOf/oneOf/not may only hold value validations)`,
        `${ROOT}.properties[spec].anyOf[0].type: Forbidden: must be empty to be structural — fix: move "type" out of properties[spec].anyOf[0] to the schema at properties.spec (anyOf/allOf/oneOf/not may only hold value validations)`,
        `${ROOT}.properties[spec].properties[ghost]: Required value: because it is defined in ${ROOT}.properties[spec].anyOf[0].properties[ghost] — fix: declare "ghost" with its type under properties at properties.spec`,
      ],
    },
    {
      name: 'int-or-string with a type and embedded resource without object type',
      schema: { type: 'object', properties: { port: { type: 'string', 'x-kubernetes-int-or-string': true }, template: { 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true } } },
      expected: [
        `${ROOT}.properties[template].type: Required value: must be object if x-kubernetes-embedded-resource is true — fix: add "type: object" at properties.template`,
        `${ROOT}.properties[port].type: Invalid value: "string": must be empty if x-kubernetes-int-or-string is true — fix: remove "type" at properties.port; x-kubernetes-int-or-string already allows integers and strings`,
      ],
    },
    {
      name: 'map list keys that are neither required nor defaulted',
      schema: { type: 'object', properties: { ports: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', properties: { name: { type: 'string' } } } } } },
      expected: [
        `${ROOT}.properties[ports].items.properties[name].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property — fix: add "name" to items.required at properties.ports, or give it a default`,
      ],
    },
    {
      name: 'defaults that do not validate or carry unknown fields',
      schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer', default: 'big' }, nested: { type: 'object', properties: { a: { type: 'string' } }, default: { a: 'x', b: 'y' } } } } } },
      expected: [
        `${ROOT}.properties[spec].properties[nested].default: Invalid value: map[string]string{"a":"x", "b":"y"}: must not have unknown fields — fix: remove "b" from the default at properties.spec.properties.nested, or declare them in the schema`,
        `${ROOT}.properties[spec].properties[size].default: Invalid value: "string": default in body must be of type integer: "string" — fix: make the default at properties.spec.properties.size match its schema`,
      ],
    },
    {
      name: 'preserve-unknown-fields false',
      schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': false },
      expected: [`${ROOT}.x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined — fix: remove "x-kubernetes-preserve-unknown-fields: false" at the root of openAPIV3Schema (pruning is the default)`],
    },
  ];
  for (const { name, schema, expected } of table) {
    it(name, () => assert.deepEqual(schemaMessages(schema), expected));
  }

  it('accepts the int-or-string anyOf pattern, preserve-unknown-fields without type and metadata.name restrictions', () => {
    assert.deepEqual(
      schemaMessages({
        type: 'object',
        properties: {
          metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 20 } } },
          port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
          free: { 'x-kubernetes-preserve-unknown-fields': true },
        },
      }),
      [],
    );
  });

  it('warns about properties on a non-object and items on a non-array (accepted, but ignored)', () => {
    assert.deepEqual(schemaWarnings({ type: 'object', properties: { name: { type: 'string', properties: { a: { type: 'string' } } }, list: { type: 'object', items: { type: 'string' } } } }, ROOT), [
      `${ROOT}.properties[name].properties: ignored because the type is string, not object; add "type: object" or remove the properties`,
      `${ROOT}.properties[list].items: ignored because the type is object, not array; add "type: array" or remove the items`,
    ]);
  });

  it('checks x-kubernetes-map-type', () => {
    assert.deepEqual(schemaMessages({ type: 'object', properties: { m: { type: 'string', 'x-kubernetes-map-type': 'weird' } } }), [
      `${ROOT}.properties[m].type: Invalid value: "string": must be object if x-kubernetes-map-type is specified — fix: add "type: object" at properties.m, or remove x-kubernetes-map-type`,
      `${ROOT}.properties[m].x-kubernetes-map-type: Unsupported value: "weird": supported values: "atomic", "granular": fix: use granular or atomic as x-kubernetes-map-type at properties.m`,
    ]);
  });

  it('groups violations by cause: every missing type first, then the rest', () => {
    const result = schemaMessages({ type: 'object', properties: { b: { properties: {} }, a: { items: { type: 'string' } }, c: { type: 'object', $ref: 'x' } } });
    assert.deepEqual(
      result.map((message) => message.split(':')[0]),
      [`${ROOT}.properties[c].$ref`, `${ROOT}.properties[a].type`, `${ROOT}.properties[b].type`],
    );
    assert.match(result[1], /fix: add "type: array" at properties\.a$/);
  });
});

describe('CRD versions', () => {
  it('requires exactly one storage version', () => {
    assert.ok(messages(crd([version('v1'), version('v2')])).includes('spec.versions: Invalid value: []string{"v1", "v2"}: must have exactly one version marked as storage version'));
  });

  it('rejects a version name that is not a DNS-1035 label', () => {
    assert.ok(messages(crd([version('V1', { storage: true })])).some((message) => message.startsWith('spec.versions[0].name: Invalid value: "V1": a DNS-1035 label')));
  });

  it('rejects removing a version that is still in storedVersions', () => {
    const object = crd([version('v1', { storage: true })]);
    object.status = { storedVersions: ['v1beta1', 'v1'] };
    const lines = messages(object);
    assert.equal(lines.length, 1);
    assert.ok(lines[0].startsWith('status.storedVersions[0]: Invalid value: "v1beta1": must appear in spec.versions — fix: '), lines[0]);
  });

  it('adds a new storage version to storedVersions on update', () => {
    const object = crd([version('v1beta1'), version('v1', { storage: true })]);
    object.status = { storedVersions: ['v1beta1'] };
    recordStorageVersion(object);
    assert.deepEqual(object.status.storedVersions, ['v1beta1', 'v1']);
    assert.deepEqual(messages(object), []);
  });

  it('checks the conversion strategy fields', () => {
    const webhookWithoutConfig = crd([version('v1', { storage: true })], { conversion: { strategy: 'Webhook' } });
    assert.deepEqual(messages(webhookWithoutConfig), ['spec.conversion.webhookClientConfig: Required value: required when strategy is set to Webhook', 'spec.conversion.conversionReviewVersions: Required value']);
    const noneWithConfig = crd([version('v1', { storage: true })], { conversion: { strategy: 'None', webhook: { clientConfig: { url: 'https://x' }, conversionReviewVersions: ['v1'] } } });
    assert.deepEqual(messages(noneWithConfig), [
      'spec.conversion.webhookClientConfig: Forbidden: should not be set when strategy is not set to Webhook',
      'spec.conversion.conversionReviewVersions: Forbidden: should not be set when strategy is not set to Webhook',
    ]);
    const bad = crd([version('v1', { storage: true })], { conversion: { strategy: 'Webhook', webhook: { clientConfig: { url: 'http://example.com/convert' }, conversionReviewVersions: ['v2'] } } });
    assert.deepEqual(messages(bad), [
      `spec.conversion.webhookClientConfig.url: Invalid value: "http": 'https' is the only allowed URL scheme; desired format: https://host[/path]`,
      'spec.conversion.conversionReviewVersions: Invalid value: []string{"v2"}: must include at least one of v1, v1beta1',
    ]);
    const both = crd([version('v1', { storage: true })], { conversion: { strategy: 'Webhook', webhook: { clientConfig: { url: 'https://x', service: { name: 'a', namespace: 'b' } }, conversionReviewVersions: ['v1'] } } });
    assert.deepEqual(messages(both), ['spec.conversion.webhookClientConfig: Required value: exactly one of url or service is required']);
  });

  it('validates selectableFields and printer column paths', () => {
    const fields = (paths: string[]) => paths.map((jsonPath) => ({ jsonPath }));
    const object = crd([
      version('v1', {
        storage: true,
        selectableFields: fields(['.spec.color', '.spec.size', '.spec.tags', '.spec.missing', '.metadata.name', 'spec.color', '.spec.color']),
        additionalPrinterColumns: [{ name: 'Color', type: 'string', jsonPath: 'spec.color' }],
      }),
    ]);
    // One version: upstream's internal version holds its columns and selectable fields at the spec.
    assert.deepEqual(messages(object), [
      'spec.additionalPrinterColumns[0].JSONPath: Invalid value: "spec.color": must be a simple json path starting with .',
      'spec.selectableFields[2].jsonPath: Invalid value: ".spec.tags": must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed.',
      'spec.selectableFields[3].jsonPath: Invalid value: ".spec.missing": is an invalid path: does not refer to a valid field',
      'spec.selectableFields[4].jsonPath: Invalid value: ".metadata.name": is an invalid path: does not refer to a valid field',
      'spec.selectableFields[5].jsonPath: Invalid value: "spec.color": is an invalid path: expected [ or . but got: spec',
      'spec.selectableFields[6].jsonPath: Duplicate value: ".spec.color"',
    ]);
    // Two versions with different fields: each at its own version.
    const two = crd([version('v1', { storage: true, selectableFields: fields(['.spec.tags']) }), version('v2', { selectableFields: fields(['.spec.color']) })]);
    assert.deepEqual(messages(two), ['spec.versions[0].selectableFields[0].jsonPath: Invalid value: ".spec.tags": must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed.']);
  });
});
