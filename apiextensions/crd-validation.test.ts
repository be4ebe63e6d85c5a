import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../apiserver/registry/object.js';
import { fieldErrorMessage } from '../apiserver/request/status.js';
import { beforeCrdDelete, CLEANUP_FINALIZER, defaultCrd, initialStatus, validateCrd, validateCrdUpdate } from './crd-validation.js';

function crontab(): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'crontabs.stable.example.com' },
    spec: {
      group: 'stable.example.com',
      scope: 'Namespaced',
      names: { plural: 'crontabs', kind: 'CronTab', shortNames: ['ct'] },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }],
    },
  };
}

function messages(crd: KubeObject): string[] {
  defaultCrd(crd);
  return validateCrd(crd).map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
}

describe('CRD defaulting', () => {
  it('defaults singular, listKind and the conversion strategy', () => {
    const crd = crontab();
    defaultCrd(crd);
    assert.equal(crd.spec.names.singular, 'crontab');
    assert.equal(crd.spec.names.listKind, 'CronTabList');
    assert.deepEqual(crd.spec.conversion, { strategy: 'None' });
  });

  it('starts storedVersions with the storage version', () => {
    const crd = crontab();
    initialStatus(crd);
    assert.deepEqual(crd.status.storedVersions, ['v1']);
    assert.deepEqual(crd.status.conditions, []);
  });
});

describe('CRD validation', () => {
  it('accepts a well-formed CRD', () => {
    assert.deepEqual(messages(crontab()), []);
  });

  it('requires a dot in the group', () => {
    const crd = crontab();
    crd.spec.group = 'example';
    crd.metadata.name = 'crontabs.example';
    assert.deepEqual(messages(crd), ['spec.group: Invalid value: "example": should be a domain with at least one dot']);
  });

  it('requires exactly one storage version and one served version', () => {
    const crd = crontab();
    crd.spec.versions.push({ name: 'v2', served: false, storage: true, schema: { openAPIV3Schema: { type: 'object' } } });
    assert.ok(messages(crd).some((message) => message.endsWith('must have exactly one version marked as storage version')));
    const unserved = crontab();
    unserved.spec.versions[0].served = false;
    assert.ok(messages(unserved).some((message) => message.endsWith('must have at least one served version')));
  });

  it('rejects an unknown scope', () => {
    const crd = crontab();
    crd.spec.scope = 'Global';
    assert.deepEqual(messages(crd), ['spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"']);
  });

  it('requires a root schema of type object', () => {
    const crd = crontab();
    crd.spec.versions[0].schema.openAPIV3Schema = { properties: {} };
    assert.deepEqual(messages(crd), ['spec.versions[0].schema.openAPIV3Schema.type: Required value: must not be empty at the root — fix: add "type: object" at the root of openAPIV3Schema']);
    crd.spec.versions[0].schema.openAPIV3Schema = { type: 'string' };
    assert.deepEqual(messages(crd), ['spec.versions[0].schema.openAPIV3Schema.type: Invalid value: "string": must be object at the root — fix: make the root of openAPIV3Schema "type: object"']);
    delete crd.spec.versions[0].schema;
    assert.deepEqual(messages(crd), ['spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required']);
  });

  it('keeps the name check: metadata.name must be plural.group', () => {
    const crd = crontab();
    crd.metadata.name = 'other.stable.example.com';
    assert.deepEqual(messages(crd), ['metadata.name: Invalid value: "other.stable.example.com": must be spec.names.plural+"."+spec.group']);
  });

  it('makes the group and plural immutable on update', () => {
    const old = crontab();
    const next = crontab();
    next.spec.names.plural = 'crons';
    next.metadata.name = 'crons.stable.example.com';
    defaultCrd(old);
    defaultCrd(next);
    assert.ok(validateCrdUpdate(next, old).some((error) => error.field === 'spec.names.plural' && error.detail === 'field is immutable'));
  });
});

describe('CRD deletion', () => {
  it('adds the cleanup finalizer on the first delete and lets the second one through', () => {
    const crd = crontab();
    assert.equal(beforeCrdDelete(crd), 'keep');
    assert.deepEqual(crd.metadata.finalizers, [CLEANUP_FINALIZER]);
    crd.metadata.deletionTimestamp = new Date().toISOString();
    crd.metadata.finalizers = [];
    assert.equal(beforeCrdDelete(crd), 'delete');
  });
});
