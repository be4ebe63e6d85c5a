// CRD object validation, table-driven with cases from upstream's validation_test.go
// (TestValidateCustomResourceDefinition, …Update, …StoredVersions, Test_validateDeprecationWarning,
// TestSelectableFields), written as v1 objects: as on a real server, a schema shared by every version
// is reported at spec.validation.openAPIV3Schema (the internal version's path).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../apiserver/registry/object.js';
import { fieldErrorMessage, type FieldError } from '../apiserver/request/status.js';
import { beforeCrdDelete, CLEANUP_FINALIZER, defaultCrd, initialStatus, recordStorageVersion, validateCrd, validateCrdStatusUpdate } from './crd-validation.js';

const required = (field: string) => `Required ${field}`;
const invalid = (field: string) => `Invalid ${field}`;
const forbidden = (field: string) => `Forbidden ${field}`;
const unsupported = (field: string) => `Unsupported ${field}`;
const duplicate = (field: string) => `Duplicate ${field}`;
const tooMany = (field: string) => `TooMany ${field}`;

const TYPE_NAMES: Record<string, string> = {
  FieldValueRequired: 'Required',
  FieldValueInvalid: 'Invalid',
  FieldValueForbidden: 'Forbidden',
  FieldValueNotSupported: 'Unsupported',
  FieldValueDuplicate: 'Duplicate',
  FieldValueTooMany: 'TooMany',
};

const objectSchema = (properties?: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ openAPIV3Schema: { type: 'object', ...(properties ? { properties } : {}), ...extra } });

type Spec = Record<string, unknown>;

function crd(spec: Spec = {}, metadata: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'plural.group.com', ...metadata },
    spec: {
      group: 'group.com',
      scope: 'Cluster',
      names: { plural: 'plural', singular: 'singular', kind: 'Plural', listKind: 'PluralList' },
      versions: [{ name: 'version', served: true, storage: true, schema: objectSchema() }],
      ...spec,
    },
  };
}

/** What the store does before validating a create: defaults, then the strategy's status reset. */
function created(object: KubeObject): KubeObject {
  defaultCrd(object);
  initialStatus(object);
  return object;
}

function established(object: KubeObject): KubeObject {
  object.status = { ...object.status, conditions: [{ type: 'Established', status: 'True' }] };
  return object;
}

function summary(errors: FieldError[]): string[] {
  return errors.map((error) => `${TYPE_NAMES[error.type] ?? error.type} ${error.field}`).sort();
}

function messages(errors: FieldError[]): string[] {
  return errors.map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
}

const webhook = (clientConfig: Record<string, unknown>, conversionReviewVersions: unknown = ['v1beta1']) => ({ strategy: 'Webhook', webhook: { clientConfig, conversionReviewVersions } });
const service = (extra: Record<string, unknown> = {}) => ({ service: { name: 'n', namespace: 'ns', ...extra } });
// A self-signed test certificate (no key is kept anywhere).
const CA_BUNDLE = Buffer.from(
  '-----BEGIN CERTIFICATE-----\nMIIBezCCASGgAwIBAgIUeDsuHDLn1IEPCbzjFibfZascXQIwCgYIKoZIzj0EAwIw\nEjEQMA4GA1UEAwwHdGVzdC1jYTAgFw0yNjExMjMwNDI4MjZaGA8yMTI2MTAzMDA0\nMjgyNlowEjEQMA4GA1UEAwwHdGVzdC1jYTBZMBMGByqGSM49AgEGCCqGSM49AwEH\nA0IABAMOx4Nt3dIWZZKN8BIfbCsD1eyelddoGmQHvm+eUm2S/FDzyRRM0jO87QvI\nq6Hyk5PKR59Hb2Fcj5lVAKeYEo+jUzBRMB0GA1UdDgQWBBRlnRTYg+85u9BqfrLi\nZW6nXlzsuDAfBgNVHSMEGDAWgBRlnRTYg+85u9BqfrLiZW6nXlzsuDAPBgNVHRMB\nAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQCDxHMJBysPavTQiJV+9KOfTHRc\n9b8hNZNROxMdSPf3OAIgbVVXxrU8CBEYi+52Wa9ugXrGMFKL33IjMU75/OLlJQ8=\n-----END CERTIFICATE-----\n',
).toString('base64');

describe('CRD validation on create (upstream TestValidateCustomResourceDefinition)', () => {
  const table: { name: string; object: KubeObject; expected: string[] }[] = [
    { name: 'a well-formed CRD', object: crd(), expected: [] },
    {
      name: 'invalid types disallowed',
      object: crd({ versions: [{ name: 'version', served: true, storage: true, schema: objectSchema({ foo: { type: 'bar' } }) }] }),
      expected: [unsupported('spec.validation.openAPIV3Schema.properties[foo].type')],
    },
    { name: 'webhookconfig: invalid port 0', object: crd({ conversion: webhook(service({ port: 0 })) }), expected: [invalid('spec.conversion.webhookClientConfig.service.port')] },
    { name: 'webhookconfig: invalid port 65536', object: crd({ conversion: webhook(service({ port: 65536 })) }), expected: [invalid('spec.conversion.webhookClientConfig.service.port')] },
    { name: 'webhookconfig: invalid CABundle should be allowed on Create', object: crd({ conversion: webhook({ ...service(), caBundle: Buffer.from('foo').toString('base64') }) }), expected: [] },
    { name: 'webhookconfig: both service and URL provided', object: crd({ conversion: webhook({ ...service(), url: 'https://example.com/webhook' }) }), expected: [required('spec.conversion.webhookClientConfig')] },
    { name: 'webhookconfig: blank URL', object: crd({ conversion: webhook({ url: '' }) }), expected: [invalid('spec.conversion.webhookClientConfig.url'), invalid('spec.conversion.webhookClientConfig.url')] },
    {
      name: 'webhookconfig_should_not_be_set',
      object: crd({ conversion: { strategy: 'None', webhook: { clientConfig: { url: 'https://example.com/webhook' } } } }),
      expected: [forbidden('spec.conversion.webhookClientConfig')],
    },
    { name: 'ConversionReviewVersions_should_not_be_set', object: crd({ conversion: { strategy: 'None', webhook: { conversionReviewVersions: ['v1beta1'] } } }), expected: [forbidden('spec.conversion.conversionReviewVersions')] },
    { name: 'webhookconfig: invalid ConversionReviewVersion', object: crd({ conversion: webhook(service(), ['invalid-version']) }), expected: [invalid('spec.conversion.conversionReviewVersions')] },
    {
      name: 'webhookconfig: invalid ConversionReviewVersion version string',
      object: crd({ conversion: webhook(service(), ['0v']) }),
      expected: [invalid('spec.conversion.conversionReviewVersions[0]'), invalid('spec.conversion.conversionReviewVersions')],
    },
    { name: 'webhookconfig: at least one valid ConversionReviewVersion', object: crd({ conversion: webhook(service(), ['invalid-version', 'v1beta1']) }), expected: [] },
    { name: 'webhookconfig: duplicate ConversionReviewVersion', object: crd({ conversion: webhook(service(), ['v1beta1', 'v1beta1']) }), expected: [invalid('spec.conversion.conversionReviewVersions[1]')] },
    { name: 'missing_webhookconfig', object: crd({ conversion: { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'] } } }), expected: [required('spec.conversion.webhookClientConfig')] },
    { name: 'invalid_conversion_strategy', object: crd({ conversion: { strategy: 'non_existing_conversion' } }), expected: [unsupported('spec.conversion.strategy')] },
    { name: 'an empty conversion is not defaulted', object: crd({ conversion: {} }), expected: [required('spec.conversion.strategy')] },
    {
      name: 'no_storage_version',
      object: crd({ versions: [{ name: 'version', served: true, storage: false, schema: objectSchema() }] }),
      expected: [invalid('spec.versions'), invalid('status.storedVersions')],
    },
    {
      name: 'multiple_storage_version',
      object: crd({ versions: [{ name: 'version', served: true, storage: true, schema: objectSchema() }, { name: 'version2', served: true, storage: true, schema: objectSchema() }] }),
      expected: [invalid('spec.versions'), invalid('status.storedVersions')],
    },
    { name: 'a CRD need not serve any version', object: crd({ versions: [{ name: 'version', served: false, storage: true, schema: objectSchema() }] }), expected: [] },
    {
      name: 'mismatched name',
      object: crd({ group: 'group.com', scope: '', names: { plural: 'plural' }, versions: [] }, { name: 'something.group.com' }),
      expected: [invalid('status.storedVersions'), invalid('metadata.name'), invalid('spec.versions'), required('spec.scope'), required('spec.names.singular'), required('spec.names.kind'), required('spec.names.listKind')],
    },
    {
      name: 'missing values',
      object: crd({ group: '', scope: '', names: {}, versions: [] }),
      expected: [
        invalid('status.storedVersions'),
        invalid('metadata.name'),
        invalid('spec.versions'),
        required('spec.group'),
        required('spec.scope'),
        required('spec.names.plural'),
        required('spec.names.singular'),
        required('spec.names.kind'),
        required('spec.names.listKind'),
      ],
    },
    {
      name: 'bad names 01',
      object: crd({ group: 'group', scope: 'foo', names: { plural: 'pLural', singular: 'value()', kind: 'value()', listKind: 'value()' } }, { name: 'plural.group' }),
      expected: [
        invalid('metadata.name'),
        invalid('spec.group'),
        unsupported('spec.scope'),
        invalid('spec.names.plural'),
        invalid('spec.names.singular'),
        invalid('spec.names.kind'),
        invalid('spec.names.listKind'),
        invalid('spec.names.listKind'),
      ],
    },
    {
      name: 'bad names 02',
      object: crd({ group: 'group.c(*&om', scope: '', names: { plural: 'plural', singular: 'singular', kind: 'matching', listKind: 'matching' } }, { name: 'plural.group' }),
      expected: [invalid('metadata.name'), invalid('spec.group'), required('spec.scope'), invalid('spec.names.listKind')],
    },
    {
      name: 'additionalProperties and properties forbidden',
      object: crd({ versions: [{ name: 'version', served: true, storage: true, schema: objectSchema({ foo: { type: 'object', properties: { bar: { type: 'object' } }, additionalProperties: false } }) }] }),
      expected: [forbidden('spec.validation.openAPIV3Schema.properties[foo].additionalProperties')],
    },
    {
      name: 'additionalProperties without properties allowed (map[string]string)',
      object: crd({ versions: [{ name: 'version', served: true, storage: true, schema: objectSchema({ foo: { type: 'object', additionalProperties: { type: 'string' } } }) }] }),
      expected: [],
    },
    {
      name: 'x-kubernetes-preserve-unknown-field: false',
      object: crd({ versions: [{ name: 'version', served: true, storage: true, schema: objectSchema(undefined, { 'x-kubernetes-preserve-unknown-fields': false }) }] }),
      expected: [invalid('spec.validation.openAPIV3Schema.x-kubernetes-preserve-unknown-fields')],
    },
    {
      name: 'schema is required',
      object: crd({ versions: [{ name: 'version', served: true, storage: true }, { name: 'version2', served: false, storage: false }] }),
      expected: [required('spec.versions[0].schema.openAPIV3Schema'), required('spec.versions[1].schema.openAPIV3Schema')],
    },
    { name: 'preserveUnknownFields: true', object: crd({ preserveUnknownFields: true }), expected: [invalid('spec.preserveUnknownFields')] },
    {
      name: 'labelSelectorPath outside of .spec and .status',
      object: crd({
        versions: [
          { name: 'version0', served: true, storage: true, schema: objectSchema(), subresources: { scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.spec.labelSelector' } } },
          { name: 'version1', served: true, storage: false, schema: objectSchema(), subresources: { scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.labelSelector' } } },
          { name: 'version2', served: true, storage: false, schema: objectSchema(), subresources: { scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } } },
          { name: 'version3', served: true, storage: false, schema: objectSchema(), subresources: { scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.labelSelector' } } },
        ],
      }),
      expected: [invalid('spec.versions[3].subresources.scale.labelSelectorPath')],
    },
    {
      name: 'x-kubernetes-embedded-resource with pruning and empty properties',
      object: crd({
        versions: [
          {
            name: 'version',
            served: true,
            storage: true,
            schema: objectSchema({
              nil: { type: 'object', 'x-kubernetes-embedded-resource': true },
              empty: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: {} },
              nonEmpty: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' } } },
              preserve: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
            }),
          },
        ],
      }),
      expected: [required('spec.validation.openAPIV3Schema.properties[nil].properties'), required('spec.validation.openAPIV3Schema.properties[empty].properties')],
    },
    {
      name: 'defaults in value validation, structural schema',
      object: crd({
        versions: [
          {
            name: 'version',
            served: true,
            storage: true,
            schema: objectSchema({
              a: { type: 'number', not: { default: 42 }, allOf: [{ default: 42 }], anyOf: [{ default: 42 }], oneOf: [{ default: 42 }] },
            }),
          },
        ],
      }),
      expected: [
        forbidden('spec.validation.openAPIV3Schema.properties[a].not.default'),
        forbidden('spec.validation.openAPIV3Schema.properties[a].allOf[0].default'),
        forbidden('spec.validation.openAPIV3Schema.properties[a].anyOf[0].default'),
        forbidden('spec.validation.openAPIV3Schema.properties[a].oneOf[0].default'),
      ],
    },
    {
      name: 'additionalProperties at resource root',
      object: crd({
        versions: [
          {
            name: 'version',
            served: true,
            storage: true,
            schema: objectSchema({
              embedded1: { type: 'object', 'x-kubernetes-embedded-resource': true, additionalProperties: { type: 'string' } },
              embedded2: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true, additionalProperties: { type: 'string' } },
            }),
          },
        ],
      }),
      expected: [
        forbidden('spec.validation.openAPIV3Schema.properties[embedded1].additionalProperties'),
        required('spec.validation.openAPIV3Schema.properties[embedded1].properties'),
        forbidden('spec.validation.openAPIV3Schema.properties[embedded2].additionalProperties'),
      ],
    },
    {
      name: 'top-level metadata default',
      object: crd({ versions: [{ name: 'version', served: true, storage: true, schema: objectSchema({ metadata: { type: 'object', default: { name: 'foo' } } }) }] }),
      expected: [forbidden('spec.validation.openAPIV3Schema.properties[metadata].default')],
    },
    {
      name: 'contradicting meta field types',
      object: crd({
        versions: [
          {
            name: 'version',
            served: true,
            storage: true,
            schema: objectSchema({
              apiVersion: { type: 'number' },
              kind: { type: 'number' },
              metadata: { type: 'number', properties: { name: { type: 'string', pattern: 'abc' }, generateName: { type: 'string', pattern: 'abc' }, generation: { type: 'integer' } } },
              valid: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' } } },
              invalid: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { apiVersion: { type: 'number' }, kind: { type: 'number' }, metadata: { type: 'number' } } },
              nested: {
                type: 'object',
                'x-kubernetes-embedded-resource': true,
                properties: {
                  invalid: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { apiVersion: { type: 'number' }, kind: { type: 'number' }, metadata: { type: 'number' } } },
                },
              },
              noEmbeddedObject: { type: 'object', properties: { apiVersion: { type: 'number' }, kind: { type: 'number' }, metadata: { type: 'number' } } },
            }),
          },
        ],
      }),
      expected: [
        forbidden('spec.validation.openAPIV3Schema.properties[metadata]'),
        invalid('spec.validation.openAPIV3Schema.properties[apiVersion].type'),
        invalid('spec.validation.openAPIV3Schema.properties[kind].type'),
        invalid('spec.validation.openAPIV3Schema.properties[metadata].type'),
        invalid('spec.validation.openAPIV3Schema.properties[invalid].properties[apiVersion].type'),
        invalid('spec.validation.openAPIV3Schema.properties[invalid].properties[kind].type'),
        invalid('spec.validation.openAPIV3Schema.properties[invalid].properties[metadata].type'),
        invalid('spec.validation.openAPIV3Schema.properties[nested].properties[invalid].properties[apiVersion].type'),
        invalid('spec.validation.openAPIV3Schema.properties[nested].properties[invalid].properties[kind].type'),
        invalid('spec.validation.openAPIV3Schema.properties[nested].properties[invalid].properties[metadata].type'),
      ],
    },
    {
      name: 'x-kubernetes-validations should be forbidden under oneOf/anyOf/allOf/not, structural schema',
      object: crd({
        versions: [
          {
            name: 'version',
            served: true,
            storage: true,
            schema: objectSchema({
              a: {
                type: 'number',
                not: { 'x-kubernetes-validations': [{ rule: 'should be forbidden' }] },
                anyOf: [{ 'x-kubernetes-validations': [{ rule: 'should be forbidden' }] }],
                allOf: [{ 'x-kubernetes-validations': [{ rule: 'should be forbidden' }] }],
                oneOf: [{ 'x-kubernetes-validations': [{ rule: 'should be forbidden' }] }],
              },
            }),
          },
        ],
      }),
      expected: [
        forbidden('spec.validation.openAPIV3Schema.properties[a].not.x-kubernetes-validations'),
        forbidden('spec.validation.openAPIV3Schema.properties[a].allOf[0].x-kubernetes-validations'),
        forbidden('spec.validation.openAPIV3Schema.properties[a].anyOf[0].x-kubernetes-validations'),
        forbidden('spec.validation.openAPIV3Schema.properties[a].oneOf[0].x-kubernetes-validations'),
      ],
    },
    {
      name: 'x-kubernetes-map-type is forbidden under oneOf/anyOf/allOf/not too',
      object: crd({ versions: [{ name: 'version', served: true, storage: true, schema: objectSchema({ a: { type: 'object', anyOf: [{ 'x-kubernetes-map-type': 'atomic' }] } }) }] }),
      // The generic OpenAPI rules run inside anyOf too, so the missing object type is reported there as well.
      expected: [forbidden('spec.validation.openAPIV3Schema.properties[a].anyOf[0].x-kubernetes-map-type'), required('spec.validation.openAPIV3Schema.properties[a].anyOf[0].type')],
    },
    {
      name: 'completeness: a property named only in a value validation is missing from the structural schema, even with x-kubernetes-preserve-unknown-fields',
      object: crd({ versions: [{ name: 'version', served: true, storage: true, schema: objectSchema({ a: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, anyOf: [{ properties: { b: { properties: { c: {} } } } }] } }) }] }),
      expected: [required('spec.validation.openAPIV3Schema.properties[a].properties[b]')],
    },
    {
      name: 'x-kubernetes-validations should have valid reason',
      object: crd({ versions: [{ name: 'version', served: true, storage: true, schema: objectSchema(undefined, { 'x-kubernetes-validations': [{ rule: 'true', reason: 'InternalError' }] }) }] }),
      expected: [unsupported('spec.validation.openAPIV3Schema.x-kubernetes-validations[0].reason')],
    },
    {
      name: 'list-map-keys without list-type map (internal: Required/Invalid at x-kubernetes-list-type)',
      object: crd({
        versions: [
          {
            name: 'version',
            served: true,
            storage: true,
            schema: objectSchema({
              a: { type: 'array', 'x-kubernetes-list-map-keys': ['k'], items: { type: 'object', required: ['k'], properties: { k: { type: 'string' } } } },
              b: { type: 'array', 'x-kubernetes-list-type': 'set', 'x-kubernetes-list-map-keys': ['k'], items: { type: 'string' } },
            }),
          },
        ],
      }),
      expected: [required('spec.validation.openAPIV3Schema.properties[a].x-kubernetes-list-type'), invalid('spec.validation.openAPIV3Schema.properties[b].x-kubernetes-list-type')],
    },
    {
      name: 'map and set lists: nullable items and keys, keys neither required nor defaulted',
      object: crd({
        versions: [
          {
            name: 'version',
            served: true,
            storage: true,
            schema: objectSchema({
              m: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['key'], items: { type: 'object', nullable: true, properties: { key: { type: 'string', nullable: true } } } },
              s: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string', nullable: true } },
              o: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'object' } },
            }),
          },
        ],
      }),
      expected: [
        forbidden('spec.validation.openAPIV3Schema.properties[m].items.nullable'),
        required('spec.validation.openAPIV3Schema.properties[m].items.properties[key].default'),
        forbidden('spec.validation.openAPIV3Schema.properties[m].items.properties[key].nullable'),
        forbidden('spec.validation.openAPIV3Schema.properties[s].items.nullable'),
        invalid('spec.validation.openAPIV3Schema.properties[o].items.x-kubernetes-map-type'),
      ],
    },
    {
      name: 'per-version schemas that differ are reported per version; shared printer columns at the spec',
      object: crd({
        versions: [
          { name: 'v1', served: true, storage: true, schema: objectSchema({ a: {} }), additionalPrinterColumns: [{ name: 'A', type: 'int', jsonPath: 'a' }] },
          { name: 'v2', served: true, storage: false, schema: objectSchema({ b: { type: 'string' } }), additionalPrinterColumns: [{ name: 'A', type: 'int', jsonPath: 'a' }] },
        ],
      }),
      expected: [required('spec.versions[0].schema.openAPIV3Schema.properties[a].type'), invalid('spec.additionalPrinterColumns[0].type'), invalid('spec.additionalPrinterColumns[0].JSONPath')],
    },
    {
      name: 'status subresource: the root may only hold fields that survive extracting properties[status]',
      object: crd({ versions: [{ name: 'version', served: true, storage: true, subresources: { status: {} }, schema: objectSchema(undefined, { minProperties: 1 }) }] }),
      expected: [invalid('spec.validation.openAPIV3Schema')],
    },
    {
      name: 'printer columns: required fields and formats',
      object: crd({ versions: [{ name: 'version', served: true, storage: true, schema: objectSchema(), additionalPrinterColumns: [{ type: '', format: 'weird', jsonPath: '' }] }] }),
      expected: [required('spec.additionalPrinterColumns[0].name'), required('spec.additionalPrinterColumns[0].type'), invalid('spec.additionalPrinterColumns[0].format'), required('spec.additionalPrinterColumns[0].JSONPath')],
    },
    {
      name: 'scale paths: required, simple, under .spec/.status',
      object: crd({ versions: [{ name: 'version', served: true, storage: true, schema: objectSchema(), subresources: { scale: { specReplicasPath: '.status.x', statusReplicasPath: '' } } }] }),
      expected: [invalid('spec.subresources.scale.specReplicasPath'), required('spec.subresources.scale.statusReplicasPath')],
    },
    {
      name: 'a protected group needs the api-approved.kubernetes.io annotation',
      object: crd({ group: 'sigs.k8s.io' }, { name: 'plural.sigs.k8s.io' }),
      expected: [required('metadata.annotations[api-approved.kubernetes.io]')],
    },
    {
      name: 'the approval annotation must be a URL or start with "unapproved"',
      object: crd({ group: 'sigs.k8s.io' }, { name: 'plural.sigs.k8s.io', annotations: { 'api-approved.kubernetes.io': 'yes' } }),
      expected: [invalid('metadata.annotations[api-approved.kubernetes.io]')],
    },
    { name: 'an approved protected group', object: crd({ group: 'sigs.k8s.io' }, { name: 'plural.sigs.k8s.io', annotations: { 'api-approved.kubernetes.io': 'https://github.com/kubernetes/kubernetes/pull/78458' } }), expected: [] },
    {
      name: 'skip CEL expression validation when OpenAPIv3 schema is an invalid structural schema',
      object: crd({ versions: [{ name: 'version', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { field: { type: 'integer' } }, additionalProperties: { type: 'string' }, 'x-kubernetes-validations': [{ rule: 'self.invalidFieldName > 50' }] } } }] }),
      expected: [forbidden('spec.validation.openAPIV3Schema.additionalProperties'), forbidden('spec.validation.openAPIV3Schema.additionalProperties')],
    },
    {
      name: 'skip CEL expression validation when OpenAPIv3 schema is an invalid structural schema at level below',
      object: crd({
        versions: [
          {
            name: 'version',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', properties: { field: { type: 'object', properties: { field: { type: 'integer' } }, additionalProperties: { type: 'string' } } }, 'x-kubernetes-validations': [{ rule: 'self.invalidFieldName > 50' }] } },
          },
        ],
      }),
      expected: [forbidden('spec.validation.openAPIV3Schema.properties[field].additionalProperties')],
    },
    {
      name: 'do not skip when OpenAPIv3 schema is an invalid structural schema in a separate part of the schema tree',
      object: crd({
        versions: [
          {
            name: 'version',
            served: true,
            storage: true,
            schema: objectSchema({
              a: { type: 'object', properties: { field: { type: 'integer' } }, additionalProperties: { type: 'string' } },
              b: { type: 'object', properties: { field: { type: 'integer' } }, 'x-kubernetes-validations': [{ rule: 'self.invalidFieldName > 50' }] },
            }),
          },
        ],
      }),
      expected: [forbidden('spec.validation.openAPIV3Schema.properties[a].additionalProperties'), invalid('spec.validation.openAPIV3Schema.properties[b].x-kubernetes-validations[0].rule')],
    },
    {
      name: 'do not skip CEL expression validation when OpenAPIv3 schema is an invalid structural schema at level above',
      object: crd({
        versions: [
          {
            name: 'version',
            served: true,
            storage: true,
            schema: objectSchema({ a: { type: 'object', properties: { b: { type: 'integer', 'x-kubernetes-validations': [{ rule: "self == 'abc'" }] } }, additionalProperties: { type: 'string' } } }),
          },
        ],
      }),
      expected: [forbidden('spec.validation.openAPIV3Schema.properties[a].additionalProperties'), invalid('spec.validation.openAPIV3Schema.properties[a].properties[b].x-kubernetes-validations[0].rule')],
    },
    {
      name: 'require valid types, invalid: a null type is unsupported and forbidden, and not an object at the root',
      object: crd({ versions: [{ name: 'version', served: true, storage: true, schema: { openAPIV3Schema: { type: 'null' } } }] }),
      expected: [unsupported('spec.validation.openAPIV3Schema.type'), forbidden('spec.validation.openAPIV3Schema.type'), invalid('spec.validation.openAPIV3Schema.type')],
    },
    {
      name: 'multiple schema items with list type extension map',
      object: crd({ versions: [{ name: 'version', served: true, storage: true, schema: objectSchema({ l: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['k'], items: [{ type: 'object' }, { type: 'object' }] } }) }] }),
      expected: [forbidden('spec.validation.openAPIV3Schema.properties[l].items'), invalid('spec.validation.openAPIV3Schema.properties[l].items')],
    },
    {
      name: 'empty list map keys extension with list type extension map',
      object: crd({ versions: [{ name: 'version', served: true, storage: true, schema: objectSchema({ l: { type: 'array', 'x-kubernetes-list-type': 'map' } }) }] }),
      expected: [required('spec.validation.openAPIV3Schema.properties[l].x-kubernetes-list-map-keys'), required('spec.validation.openAPIV3Schema.properties[l].items'), required('spec.validation.openAPIV3Schema.properties[l].items')],
    },
    { name: 'a bypassed protected group', object: crd({ group: 'x.kubernetes.io' }, { name: 'plural.x.kubernetes.io', annotations: { 'api-approved.kubernetes.io': 'unapproved, experimental-only' } }), expected: [] },
  ];
  for (const { name, object, expected } of table) {
    it(name, () => assert.deepEqual(summary(validateCrd(created(object))), [...expected].sort()));
  }

  it('keeps upstream wording, with the fix after it', () => {
    const object = created(crd({ versions: [{ name: 'version', served: true, storage: true, schema: objectSchema({ spec: { properties: { a: { type: 'string' } } } }) }] }));
    assert.deepEqual(messages(validateCrd(object)), [
      'spec.validation.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields — fix: add "type: object" at properties.spec',
    ]);
    const conversion = created(crd({ conversion: webhook({ url: 'http://user@host/path?q=1' }, ['v3']) }));
    assert.deepEqual(messages(validateCrd(conversion)), [
      `spec.conversion.webhookClientConfig.url: Invalid value: "http": 'https' is the only allowed URL scheme; desired format: https://host[/path]`,
      'spec.conversion.webhookClientConfig.url: Invalid value: "user": user information is not permitted in the URL',
      'spec.conversion.webhookClientConfig.url: Invalid value: "q=1": query parameters are not permitted in the URL',
      'spec.conversion.conversionReviewVersions: Invalid value: []string{"v3"}: must include at least one of v1, v1beta1',
    ]);
    const protectedGroup = created(crd({ group: 'sigs.k8s.io' }, { name: 'plural.sigs.k8s.io' }));
    assert.deepEqual(messages(validateCrd(protectedGroup)), [
      'metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation "api-approved.kubernetes.io", see https://github.com/kubernetes/enhancements/pull/1111',
    ]);
  });

  it('answers a hostile schema with a 422 error, not a crash', () => {
    let node: Record<string, unknown> = { type: 'object' };
    const root = node;
    for (let depth = 0; depth < 20000; depth++) {
      const child = { type: 'object' };
      node.properties = { a: child };
      node = child;
    }
    const errors = validateCrd(created(crd({ versions: [{ name: 'version', served: true, storage: true, schema: { openAPIV3Schema: root } }] })));
    assert.deepEqual(messages(errors), ['spec.validation.openAPIV3Schema: Forbidden: must not nest more than 500 levels deep — fix: flatten the schema']);
    const garbage = created({ metadata: { name: 'plural.group.com' }, spec: { group: 5, names: 'x', versions: { a: 1 }, conversion: 'Webhook', scope: ['Cluster'] } } as unknown as KubeObject);
    assert.ok(validateCrd(garbage).length > 0);
  });
});

describe('CRD validation on update (upstream TestValidateCustomResourceDefinitionUpdate)', () => {
  const withSchema = (schema: Record<string, unknown>, spec: Spec = {}) => crd({ versions: [{ name: 'version', served: true, storage: true, schema: { openAPIV3Schema: schema } }], ...spec });
  const stored = (object: KubeObject, status: Record<string, unknown> = {}) => {
    defaultCrd(object);
    object.status = { storedVersions: ['version'], acceptedNames: { plural: '', kind: '' }, ...status };
    return object;
  };
  const update = (next: KubeObject, old: KubeObject) => {
    defaultCrd(next);
    next.status = structuredClone(old.status);
    recordStorageVersion(next);
    return summary(validateCrd(next, old));
  };
  const invalidTypes = { type: 'object', properties: { foo: { type: 'bar' } } };
  const nonStructural = { type: 'object', properties: { foo: {} } };
  const nonAtomicSet = { type: 'object', properties: { bar: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'object' } } } };

  it('invalid types: refused unless the stored CRD had them', () => {
    assert.deepEqual(update(withSchema(invalidTypes), stored(withSchema({ type: 'object' }))), [unsupported('spec.validation.openAPIV3Schema.properties[foo].type')]);
    assert.deepEqual(update(withSchema(invalidTypes), stored(withSchema(invalidTypes))), []);
  });

  it('non-atomic set items: refused unless pre-existing', () => {
    assert.deepEqual(update(withSchema(nonAtomicSet), stored(withSchema({ type: 'object' }))), [invalid('spec.validation.openAPIV3Schema.properties[bar].items.x-kubernetes-map-type')]);
    assert.deepEqual(update(withSchema(nonAtomicSet), stored(withSchema(nonAtomicSet))), []);
  });

  it('structural to non-structural refused; non-structural updates allowed when the stored schema was non-structural', () => {
    assert.deepEqual(update(withSchema(nonStructural), stored(withSchema({ type: 'object' }))), [required('spec.validation.openAPIV3Schema.properties[foo].type')]);
    assert.deepEqual(update(withSchema(nonStructural), stored(crd({ versions: [{ name: 'version', served: true, storage: true }] }))), [required('spec.validation.openAPIV3Schema.properties[foo].type')]);
    // Upstream's case keeps pruning off: with pruning on, a structural schema is required whatever was stored.
    const preserving = (schema: Record<string, unknown>) => withSchema(schema, { preserveUnknownFields: true });
    assert.deepEqual(update(preserving({ ...nonStructural, description: 'changed' }), stored(preserving(nonStructural))), []);
    assert.deepEqual(update(withSchema({ ...nonStructural, description: 'changed' }), stored(withSchema(nonStructural))), [required('spec.validation.openAPIV3Schema.properties[foo].type')]);
  });

  it('map list keys without default or required: refused unless pre-existing', () => {
    const mapList = { type: 'object', properties: { bar: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['key'], items: { type: 'object', properties: { key: { type: 'string' } } } } } };
    assert.deepEqual(update(withSchema(mapList), stored(withSchema({ type: 'object' }))), [required('spec.validation.openAPIV3Schema.properties[bar].items.properties[key].default')]);
    assert.deepEqual(update(withSchema(mapList), stored(withSchema(mapList))), []);
  });

  it('schemas: not required if the stored CRD lacked one, required if it had them all', () => {
    const noSchema = (spec: Spec = {}) => crd({ versions: [{ name: 'version', served: true, storage: true }], ...spec });
    assert.deepEqual(update(noSchema({ preserveUnknownFields: true }), stored(noSchema({ preserveUnknownFields: true }))), []);
    assert.deepEqual(update(noSchema({ preserveUnknownFields: true }), stored(crd({ preserveUnknownFields: true }))), [required('spec.versions[0].schema.openAPIV3Schema')]);
    // With pruning on, a served version without a schema would lose every field.
    assert.deepEqual(update(noSchema(), stored(noSchema())), [required('spec.versions[0].schema.openAPIV3Schema')]);
    assert.deepEqual(messages(validateCrd(noSchema(), stored(noSchema()))).filter((line) => line.startsWith('spec.')), ['spec.versions[0].schema.openAPIV3Schema: Required value: because otherwise all fields are pruned']);
  });

  it('conversion review versions: an invalid list passes only when the stored one was invalid too', () => {
    const conv = (versions: string[]) => crd({ conversion: webhook(service(), versions) });
    assert.deepEqual(update(conv(['invalid']), stored(conv(['invalid']))), []);
    assert.deepEqual(update(conv(['invalid']), stored(conv(['v1']))), [invalid('spec.conversion.conversionReviewVersions')]);
    assert.deepEqual(update(conv(['invalid']), stored(crd())), [invalid('spec.conversion.conversionReviewVersions')]);
  });

  it('caBundle: a valid bundle of an established CRD cannot become invalid; before that it can', () => {
    const conv = (caBundle: string) => crd({ conversion: webhook({ ...service(), caBundle }) });
    const bad = Buffer.from('foo').toString('base64');
    assert.deepEqual(update(conv(bad), stored(conv(CA_BUNDLE), { conditions: [{ type: 'Established', status: 'True' }] })), [invalid('spec.conversion.webhookClientConfig.caBundle')]);
    assert.deepEqual(update(conv(bad), stored(conv(CA_BUNDLE))), []);
    assert.deepEqual(update(conv(bad), stored(conv(bad), { conditions: [{ type: 'Established', status: 'True' }] })), []);
  });

  it('group and plural never change; scope and kind not once established', () => {
    const changed = crd({ group: 'abc.com', scope: 'Namespaced', names: { plural: 'plural2', singular: 'singular', kind: 'Plural2', listKind: 'PluralList' } }, { name: 'plural2.abc.com' });
    const old = () => stored(crd());
    assert.deepEqual(update(structuredClone(changed), old()), [invalid('spec.group'), invalid('spec.names.plural')].sort());
    assert.deepEqual(update(structuredClone(changed), established(old())), [invalid('spec.group'), invalid('spec.names.kind'), invalid('spec.names.plural'), invalid('spec.scope')].sort());
    assert.deepEqual(update(crd(), established(old())), []);
  });

  it('version-deleted: a stored version must stay in spec.versions', () => {
    const old = stored(crd({ versions: [{ name: 'version', served: true, storage: true, schema: objectSchema() }, { name: 'version2', served: true, storage: false, schema: objectSchema() }] }), { storedVersions: ['version', 'version2'] });
    assert.deepEqual(update(crd(), old), [invalid('status.storedVersions[1]')]);
    const next = crd();
    defaultCrd(next);
    next.status = structuredClone(old.status);
    assert.deepEqual(messages(validateCrd(next, old)), [
      `status.storedVersions[1]: Invalid value: "version2": must appear in spec.versions — fix: rewrite the objects stored as version2 in the storage version, then drop it with: kubectl patch crd plural.group.com --subresource=status --type=json -p '[{"op":"remove","path":"/status/storedVersions/1"}]'`,
    ]);
  });

  it('preserveUnknownFields: switching to true is refused, keeping it is allowed', () => {
    assert.deepEqual(update(crd({ preserveUnknownFields: true }), stored(crd())), [invalid('spec.preserveUnknownFields')]);
    assert.deepEqual(update(crd({ preserveUnknownFields: true }), stored(crd({ preserveUnknownFields: true }))), []);
    const withDefault = withSchema({ type: 'object', properties: { a: { type: 'string', default: 'x' } } }, { preserveUnknownFields: true });
    assert.deepEqual(update(withDefault, stored(crd({ preserveUnknownFields: true }))), [invalid('spec.preserveUnknownFields')]);
  });

  it('API approval: an unchanged state never fails an update, a new missing one does', () => {
    const protectedCrd = () => crd({ group: 'sigs.k8s.io' }, { name: 'plural.sigs.k8s.io' });
    assert.deepEqual(update(protectedCrd(), stored(protectedCrd())), []);
    const approved = stored(crd({ group: 'sigs.k8s.io' }, { name: 'plural.sigs.k8s.io', annotations: { 'api-approved.kubernetes.io': 'https://example.com/pr/1' } }));
    assert.deepEqual(update(protectedCrd(), approved), [required('metadata.annotations[api-approved.kubernetes.io]')]);
  });

  it('per-expression cost limits are not applied again to versions whose schema is unchanged', () => {
    const expensive = (rule: string) => ({ type: 'object', properties: { f: { type: 'array', items: { type: 'string' }, 'x-kubernetes-validations': [{ rule, messageExpression: 'self[0] + self[1] + self[2] + self[3] + self[4] + self[5] + self[6] + self[7]' }] } } });
    const twoVersions = (v1Rule: string, v2Rule: string) =>
      crd({ versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: expensive(v1Rule) } }, { name: 'v2', served: true, storage: false, schema: { openAPIV3Schema: expensive(v2Rule) } }] });
    const old = stored(twoVersions('true', '1 == 1'));
    old.status.storedVersions = ['v1'];
    const created = messages(validateCrd(Object.assign(twoVersions('true', '1 == 1'), { status: { storedVersions: ['v1'] } })));
    assert.ok(created.some((line) => line.startsWith('spec.versions[0].schema.openAPIV3Schema.properties[f].x-kubernetes-validations[0].messageExpression: Forbidden: estimated messageExpression cost exceeds budget')), created.join('\n'));
    assert.deepEqual(update(twoVersions('true', '2 == 2'), old), [forbidden('spec.versions[1].schema.openAPIV3Schema.properties[f].x-kubernetes-validations[0].messageExpression')]);
  });

  it('status writes check the accepted names only (upstream status strategy)', () => {
    const object = stored(crd(), { storedVersions: [], acceptedNames: { plural: 'Bad_Plural', kind: 'Plural', listKind: 'Plural' } });
    assert.deepEqual(summary(validateCrdStatusUpdate(object)), [invalid('status.acceptedNames.listKind'), invalid('status.acceptedNames.plural')]);
  });
});

describe('stored versions (upstream TestValidateCustomResourceDefinitionStoredVersions)', () => {
  const withStored = (versions: { name: string; storage: boolean }[], storedVersions: string[]) => {
    const object = crd({ versions: versions.map((version) => ({ ...version, served: true, schema: objectSchema() })) });
    defaultCrd(object);
    object.status = { storedVersions, acceptedNames: { plural: '', kind: '' } };
    return summary(validateCrd(object)).filter((line) => line.includes('status.'));
  };
  it('accepts a storage version that is stored', () => assert.deepEqual(withStored([{ name: 'v1', storage: true }, { name: 'v2', storage: false }], ['v1']), []));
  it('accepts old stored versions still listed', () => assert.deepEqual(withStored([{ name: 'v1', storage: false }, { name: 'v2', storage: true }], ['v1', 'v2']), []));
  it('requires the storage version', () => assert.deepEqual(withStored([{ name: 'v1', storage: false }, { name: 'v2', storage: true }], ['v1']), [invalid('status.storedVersions')]));
  it('requires stored versions to be listed', () => assert.deepEqual(withStored([{ name: 'v2', storage: true }], ['v1', 'v2']), [invalid('status.storedVersions[0]')]));
  it('requires at least one', () => assert.deepEqual(withStored([{ name: 'v1', storage: true }], []), [invalid('status.storedVersions')]));
});

describe('deprecation warnings (upstream Test_validateDeprecationWarning)', () => {
  const warningErrors = (deprecated: boolean, deprecationWarning: unknown) =>
    messages(validateCrd(created(crd({ versions: [{ name: 'version', served: true, storage: true, deprecated, deprecationWarning, schema: objectSchema() }] })))).map((line) => line.replace(/^spec\.versions\[0\]\.deprecationWarning: Invalid value: "[^"]*": /, ''));
  it('not deprecated, no warning', () => assert.deepEqual(warningErrors(false, undefined), []));
  it('not deprecated, with a warning', () => assert.deepEqual(warningErrors(false, 'foo'), ['can only be set for deprecated versions']));
  it('deprecated, empty', () => assert.deepEqual(warningErrors(true, ''), ['must not be an empty string']));
  it('deprecated, too long', () => assert.deepEqual(warningErrors(true, 'x'.repeat(257)), ['must be <= 256 characters long']));
  it('deprecated, non-printable', () => assert.deepEqual(warningErrors(true, 'a\tb'), ['must only contain printable UTF-8 characters; non-printable character found at index 1']));
  it('deprecated, printable unicode', () => assert.deepEqual(warningErrors(true, 'ünïcödé warning'), []));
});

describe('selectable fields (upstream TestSelectableFields)', () => {
  const schema = objectSchema({ spec: { type: 'object', properties: { foo: { type: 'string' }, obj: { type: 'object' }, bool: { type: 'boolean' }, labels: { type: 'object', additionalProperties: { type: 'string' } }, tags: { type: 'array', items: { type: 'string' } } } }, status: { type: 'object', properties: { phase: { type: 'string' } } } });
  const check = (selectableFields: unknown[]) => summary(validateCrd(created(crd({ versions: [{ name: 'version', served: true, storage: true, schema, selectableFields }] }))));
  it('valid paths', () => assert.deepEqual(check([{ jsonPath: '.spec.foo' }, { jsonPath: '.spec.bool' }, { jsonPath: '.status.phase' }, { jsonPath: '.spec.labels.app' }]), []));
  it('paths that do not refer to a field', () => assert.deepEqual(check([{ jsonPath: '.spec.missing' }, { jsonPath: '.metadata.name' }, { jsonPath: 'spec.foo' }, { jsonPath: '.spec.tags[0]' }]), [0, 1, 2, 3].map((index) => invalid(`spec.selectableFields[${index}].jsonPath`))));
  it('fields of other types', () => assert.deepEqual(check([{ jsonPath: '.spec.obj' }, { jsonPath: '.spec.tags' }]), [invalid('spec.selectableFields[0].jsonPath'), invalid('spec.selectableFields[1].jsonPath')]));
  it('duplicates', () => assert.deepEqual(check([{ jsonPath: '.spec.foo' }, { jsonPath: '.spec.foo' }]), [duplicate('spec.selectableFields[1].jsonPath')]));
  it('at most 8', () => {
    const many = objectSchema(Object.fromEntries(Array.from({ length: 9 }, (_, index) => [`a${index}`, { type: 'string' }])));
    const errors = validateCrd(created(crd({ versions: [{ name: 'version', served: true, storage: true, schema: many, selectableFields: Array.from({ length: 9 }, (_, index) => ({ jsonPath: `.a${index}` })) }] })));
    assert.deepEqual(summary(errors), [tooMany('spec.selectableFields')]);
    assert.deepEqual(messages(errors), ['spec.selectableFields: Too many: 9: must have at most 8 items']);
  });
  it('reads the messages upstream gives', () => {
    const errors = validateCrd(created(crd({ versions: [{ name: 'version', served: true, storage: true, schema, selectableFields: [{ jsonPath: '.spec.missing' }, { jsonPath: '.spec.tags[0]' }, { jsonPath: '.spec.obj' }] }] })));
    assert.deepEqual(messages(errors), [
      'spec.selectableFields[0].jsonPath: Invalid value: ".spec.missing": is an invalid path: does not refer to a valid field',
      'spec.selectableFields[1].jsonPath: Invalid value: ".spec.tags[0]": is an invalid path: array notation is not allowed',
      'spec.selectableFields[2].jsonPath: Invalid value: ".spec.obj": must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed.',
    ]);
  });
});

describe('CRD defaulting (upstream SetDefaults_CustomResourceDefinition)', () => {
  it('defaults singular, listKind, the conversion strategy and a service port', () => {
    const object = crd({ names: { plural: 'crontabs', kind: 'CronTab' } });
    defaultCrd(object);
    assert.equal(object.spec.names.singular, 'crontab');
    assert.equal(object.spec.names.listKind, 'CronTabList');
    assert.deepEqual(object.spec.conversion, { strategy: 'None' });
    const withService = crd({ conversion: webhook(service()) });
    defaultCrd(withService);
    assert.equal(withService.spec.conversion.webhook.clientConfig.service.port, 443);
  });

  it('starts storedVersions with the first storage version, without empty conditions', () => {
    const object = created(crd());
    assert.deepEqual(object.status, { acceptedNames: { plural: '', kind: '' }, storedVersions: ['version'] });
  });
});

describe('CRD deletion', () => {
  it('adds the cleanup finalizer on the first delete and lets the second one through', () => {
    const object = crd();
    assert.equal(beforeCrdDelete(object), 'keep');
    assert.deepEqual(object.metadata.finalizers, [CLEANUP_FINALIZER]);
    object.metadata.deletionTimestamp = new Date().toISOString();
    object.metadata.finalizers = [];
    assert.equal(beforeCrdDelete(object), 'delete');
  });
});
