// Defaulting and static validation of CustomResourceDefinition objects (upstream's
// apiextensions/validation ValidateCustomResourceDefinitionSpec, the subset kubectl users hit).

import type { KubeObject } from '../apiserver/registry/object.js';
import { isObject } from '../apiserver/registry/object.js';
import type { FieldError } from '../apiserver/request/status.js';
import { compileSchemaRules } from './cel/compile.js';

export const CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

export interface CrdNames {
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  shortNames?: string[];
  categories?: string[];
}

export interface CrdColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
  schema?: { openAPIV3Schema?: Record<string, unknown> };
  subresources?: { status?: Record<string, unknown>; scale?: Record<string, unknown> };
  additionalPrinterColumns?: CrdColumn[];
}

export interface CrdSpec {
  group: string;
  scope: string;
  names: CrdNames;
  versions: CrdVersion[];
  conversion?: { strategy?: string };
}

export function crdSpec(crd: KubeObject): CrdSpec {
  return crd.spec as CrdSpec;
}

/** Upstream's SetDefaults_CustomResourceDefinitionSpec plus the create-time storedVersions. */
export function defaultCrd(crd: KubeObject): void {
  if (!isObject(crd.spec)) return;
  const spec = crd.spec as Partial<CrdSpec>;
  if (isObject(spec.names)) {
    const names = spec.names as Partial<CrdNames>;
    if (typeof names.kind === 'string' && names.kind) {
      names.singular ||= names.kind.toLowerCase();
      names.listKind ||= `${names.kind}List`;
    }
  }
  if (!isObject(spec.conversion)) spec.conversion = { strategy: 'None' };
  else spec.conversion.strategy ||= 'None';
}

/** On create the status is reset (the store already cleared it) except for the storage version. */
export function initialStatus(crd: KubeObject): void {
  const storage = Array.isArray(crd.spec?.versions) ? (crd.spec.versions as CrdVersion[]).find((version) => version?.storage) : undefined;
  crd.status = { conditions: [], acceptedNames: { plural: '', kind: '' }, storedVersions: storage ? [storage.name] : [] };
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const COLUMN_TYPES = ['boolean', 'date', 'integer', 'number', 'string'];

function dns1035(value: string): string | undefined {
  if (value.length > 63) return 'must be no more than 63 characters';
  return DNS1035_LABEL.test(value)
    ? undefined
    : "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
}

function validateName(crd: KubeObject): FieldError[] {
  const plural = crd.spec?.names?.plural;
  const group = crd.spec?.group;
  if (typeof plural !== 'string' || typeof group !== 'string') return [];
  const expected = `${plural}.${group}`;
  return crd.metadata.name === expected ? [] : [{ field: 'metadata.name', type: 'FieldValueInvalid', value: crd.metadata.name, detail: `must be spec.names.plural+"."+spec.group` }];
}

export function validateCrd(crd: KubeObject): FieldError[] {
  const errors = validateName(crd);
  if (!isObject(crd.spec)) return [...errors, { field: 'spec', type: 'FieldValueRequired' }];
  const spec = crd.spec as Partial<CrdSpec>;

  const group = typeof spec.group === 'string' ? spec.group : '';
  if (!group) errors.push({ field: 'spec.group', type: 'FieldValueRequired' });
  else if (!DNS1123_SUBDOMAIN.test(group)) errors.push({ field: 'spec.group', type: 'FieldValueInvalid', value: group, detail: "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character" });
  else if (!group.includes('.')) errors.push({ field: 'spec.group', type: 'FieldValueInvalid', value: group, detail: 'should be a domain with at least one dot' });

  if (!spec.scope) errors.push({ field: 'spec.scope', type: 'FieldValueRequired' });
  else if (spec.scope !== 'Cluster' && spec.scope !== 'Namespaced') errors.push({ field: 'spec.scope', type: 'FieldValueNotSupported', value: spec.scope, supported: ['Cluster', 'Namespaced'] });

  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  if (versions.length === 0) errors.push({ field: 'spec.versions', type: 'FieldValueInvalid', value: '[]', detail: 'must have exactly one version marked as storage version' });
  const seen = new Set<string>();
  let storage = 0;
  let served = 0;
  versions.forEach((version, index) => {
    const path = `spec.versions[${index}]`;
    if (!isObject(version)) return;
    if (version.storage) storage++;
    if (version.served) served++;
    const nameProblem = typeof version.name === 'string' ? dns1035(version.name) : 'must be a string';
    if (nameProblem) errors.push({ field: `${path}.name`, type: 'FieldValueInvalid', value: version.name, detail: nameProblem });
    if (seen.has(version.name)) errors.push({ field: 'spec.versions', type: 'FieldValueInvalid', value: version.name, detail: 'must contain unique version names' });
    seen.add(version.name);
    errors.push(...validateVersionSchema(version, `${path}.schema.openAPIV3Schema`));
    (version.additionalPrinterColumns ?? []).forEach((column, columnIndex) => errors.push(...validateColumn(column, `${path}.additionalPrinterColumns[${columnIndex}]`)));
  });
  if (versions.length > 0 && storage !== 1) errors.push({ field: 'spec.versions', type: 'FieldValueInvalid', value: versions.map((version) => version?.name), detail: 'must have exactly one version marked as storage version' });
  if (versions.length > 0 && served === 0) errors.push({ field: 'spec.versions', type: 'FieldValueInvalid', value: versions.map((version) => version?.name), detail: 'must have at least one served version' });

  const names = isObject(spec.names) ? (spec.names as Partial<CrdNames>) : {};
  for (const key of ['plural', 'singular', 'kind', 'listKind'] as const) {
    if (!names[key]) errors.push({ field: `spec.names.${key}`, type: 'FieldValueRequired' });
  }
  for (const key of ['plural', 'singular'] as const) {
    const problem = names[key] ? dns1035(names[key]!) : undefined;
    if (problem) errors.push({ field: `spec.names.${key}`, type: 'FieldValueInvalid', value: names[key], detail: problem });
  }
  for (const key of ['kind', 'listKind'] as const) {
    const problem = names[key] ? dns1035(names[key]!.toLowerCase()) : undefined;
    if (problem) errors.push({ field: `spec.names.${key}`, type: 'FieldValueInvalid', value: names[key], detail: `may have mixed case, but should otherwise match: ${problem}` });
  }
  if (names.kind && names.kind === names.listKind) errors.push({ field: 'spec.names.listKind', type: 'FieldValueInvalid', value: names.listKind, detail: 'kind and listKind may not be the same' });
  (names.shortNames ?? []).forEach((shortName, index) => {
    const problem = dns1035(String(shortName));
    if (problem) errors.push({ field: `spec.names.shortNames[${index}]`, type: 'FieldValueInvalid', value: shortName, detail: problem });
  });
  const strategy = spec.conversion?.strategy;
  if (strategy !== undefined && strategy !== 'None' && strategy !== 'Webhook') errors.push({ field: 'spec.conversion.strategy', type: 'FieldValueNotSupported', value: strategy, supported: ['None', 'Webhook'] });
  return errors;
}

/** Upstream's v1 rule: every version has a schema, whose root is `type: object`. */
function validateVersionSchema(version: CrdVersion, path: string): FieldError[] {
  const schema = version.schema?.openAPIV3Schema;
  if (!isObject(schema)) return [{ field: path, type: 'FieldValueRequired', detail: 'schemas are required' }];
  if (schema.type === undefined || schema.type === '') return [{ field: `${path}.type`, type: 'FieldValueRequired', detail: 'must not be empty at the root' }];
  if (schema.type !== 'object') return [{ field: `${path}.type`, type: 'FieldValueInvalid', value: schema.type, detail: 'must be object at the root' }];
  return compileSchemaRules(schema, path).errors;
}

function validateColumn(column: CrdColumn, path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (!column?.name) errors.push({ field: `${path}.name`, type: 'FieldValueRequired' });
  if (!column?.type) errors.push({ field: `${path}.type`, type: 'FieldValueRequired', detail: `must be one of ${COLUMN_TYPES.join(',')}` });
  else if (!COLUMN_TYPES.includes(column.type)) errors.push({ field: `${path}.type`, type: 'FieldValueInvalid', value: column.type, detail: `must be one of ${COLUMN_TYPES.join(',')}` });
  if (!column?.jsonPath) errors.push({ field: `${path}.jsonPath`, type: 'FieldValueRequired' });
  return errors;
}

/** Upstream's ValidateCustomResourceDefinitionSpecUpdate: the identity of the resource cannot change. */
export function validateCrdUpdate(crd: KubeObject, old: KubeObject): FieldError[] {
  const errors = validateCrd(crd);
  const immutable = (field: string, next: unknown, previous: unknown) => {
    if (next !== previous) errors.push({ field, type: 'FieldValueInvalid', value: next, detail: 'field is immutable' });
  };
  immutable('spec.group', crd.spec?.group, old.spec?.group);
  immutable('spec.names.plural', crd.spec?.names?.plural, old.spec?.names?.plural);
  const established = (old.status?.conditions ?? []).some((condition: { type?: string; status?: string }) => condition?.type === 'Established' && condition.status === 'True');
  if (established) {
    immutable('spec.scope', crd.spec?.scope, old.spec?.scope);
    immutable('spec.names.kind', crd.spec?.names?.kind, old.spec?.names?.kind);
  }
  return errors;
}

/**
 * Upstream's CRD REST Delete: the first DELETE adds the cleanup finalizer (the store then sets
 * deletionTimestamp); once the finalizer controller removed it, the object really goes.
 */
export function beforeCrdDelete(crd: KubeObject): 'delete' | 'keep' {
  if (crd.metadata.deletionTimestamp) return 'delete';
  crd.metadata.finalizers = [...(crd.metadata.finalizers ?? []), CLEANUP_FINALIZER];
  return 'keep';
}
