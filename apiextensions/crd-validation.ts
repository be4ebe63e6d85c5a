// Defaulting and static validation of CustomResourceDefinition objects (upstream's
// apiextensions/validation ValidateCustomResourceDefinitionSpec, the subset kubectl users hit).

import type { KubeObject } from '../apiserver/registry/object.js';
import { isObject } from '../apiserver/registry/object.js';
import type { FieldError } from '../apiserver/request/status.js';
import { compileSchemaRules } from './cel/compile.js';
import { invalidPatterns } from '../apiserver/schema/pattern.js';
import { groupByCause, schemaViolations, schemaWarnings, type SchemaViolation } from './structural-schema.js';
import { parseSimpleJsonPath } from './custom-resource.js';

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
  selectableFields?: { jsonPath: string }[];
}

export interface CrdSpec {
  group: string;
  scope: string;
  names: CrdNames;
  versions: CrdVersion[];
  conversion?: { strategy?: string; webhook?: { clientConfig?: Record<string, unknown>; conversionReviewVersions?: unknown } };
  preserveUnknownFields?: boolean;
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
  const violations: SchemaViolation[] = [];
  versions.forEach((version, index) => {
    const path = `spec.versions[${index}]`;
    if (!isObject(version)) return;
    if (version.storage) storage++;
    if (version.served) served++;
    const nameProblem = typeof version.name === 'string' ? dns1035(version.name) : 'must be a string';
    if (nameProblem) errors.push({ field: `${path}.name`, type: 'FieldValueInvalid', value: version.name, detail: nameProblem });
    if (seen.has(version.name)) errors.push({ field: 'spec.versions', type: 'FieldValueInvalid', value: version.name, detail: 'must contain unique version names' });
    seen.add(version.name);
    errors.push(...validateVersionSchema(version, `${path}.schema.openAPIV3Schema`, violations));
    (version.additionalPrinterColumns ?? []).forEach((column, columnIndex) => errors.push(...validateColumn(column, `${path}.additionalPrinterColumns[${columnIndex}]`)));
    errors.push(...validateSelectableFields(version, `${path}.selectableFields`));
  });
  // Schema violations of every version together, grouped by cause: one missing type in three versions is one problem.
  errors.push(...groupByCause(violations));
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
  errors.push(...validateConversion(spec));
  if (spec.preserveUnknownFields === true) {
    errors.push({ field: 'spec.preserveUnknownFields', type: 'FieldValueInvalid', value: true, detail: 'cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead' });
  }
  errors.push(...validateStoredVersions(crd));
  return errors;
}

/** Upstream's v1 rule: every version has a schema; and the schema must be structural (structural-schema.ts). */
function validateVersionSchema(version: CrdVersion, path: string, violations: SchemaViolation[]): FieldError[] {
  const schema = version.schema?.openAPIV3Schema;
  if (!isObject(schema)) return [{ field: path, type: 'FieldValueRequired', detail: 'schemas are required' }];
  const structural = schemaViolations(schema, path);
  violations.push(...structural);
  if (schema.nullable === true) return [{ field: `${path}.nullable`, type: 'FieldValueForbidden', detail: 'nullable cannot be true at the root' }];
  // CEL rules are typed by the schema: only a structural schema can be compiled against.
  // Patterns are RE2 upstream: one that Go cannot compile is rejected here, not at the first write.
  const patterns = invalidPatterns(schema, path);
  return structural.length > 0 ? patterns : [...patterns, ...compileSchemaRules(schema, path).errors];
}

/** Upstream's validateSimpleJSONPath: a dotted path from the object root. */
function validateSimpleJsonPath(path: string, field: string): FieldError[] {
  if (path.length === 0) return [{ field, type: 'FieldValueInvalid', value: path, detail: 'must not be empty' }];
  if (!path.startsWith('.')) return [{ field, type: 'FieldValueInvalid', value: path, detail: 'must be a simple json path starting with .' }];
  return [];
}

const MAX_SELECTABLE_FIELDS = 8;
const SELECTABLE_TYPES = ['string', 'integer', 'boolean'];

/** The schema a simple JSONPath points to, or a reason why there is none. */
function schemaAt(schema: unknown, jsonPath: string): { schema?: Record<string, unknown>; problem?: string } {
  const segments = parseSimpleJsonPath(jsonPath);
  if (!segments || segments.length === 0) return { problem: 'is an invalid path' };
  let current: unknown = schema;
  for (const segment of segments) {
    if (typeof segment === 'number') return { problem: 'must not point into an array' };
    const properties = isObject(current) && isObject(current.properties) ? current.properties : undefined;
    const next = properties?.[segment];
    if (!isObject(next)) return { problem: `is an invalid path: does not refer to a valid field: ${segment} not found` };
    current = next;
  }
  return { schema: current as Record<string, unknown> };
}

/** Upstream's ValidateCustomResourceDefinitionVersion selectableFields rules. */
function validateSelectableFields(version: CrdVersion, path: string): FieldError[] {
  const fields = version.selectableFields;
  if (fields === undefined) return [];
  if (!Array.isArray(fields)) return [{ field: path, type: 'FieldValueInvalid', value: fields, detail: 'must be a list' }];
  const errors: FieldError[] = [];
  if (fields.length > MAX_SELECTABLE_FIELDS) errors.push({ field: path, type: 'FieldValueTooMany', detail: `${fields.length}: must have at most ${MAX_SELECTABLE_FIELDS} items` });
  const seen = new Set<string>();
  fields.forEach((selectable, index) => {
    const field = `${path}[${index}].jsonPath`;
    const jsonPath = isObject(selectable) && typeof selectable.jsonPath === 'string' ? selectable.jsonPath : '';
    if (!jsonPath) {
      errors.push({ field, type: 'FieldValueRequired' });
      return;
    }
    const pathErrors = validateSimpleJsonPath(jsonPath, field);
    if (pathErrors.length > 0) {
      errors.push(...pathErrors);
      return;
    }
    if (seen.has(jsonPath)) errors.push({ field, type: 'FieldValueDuplicate', value: jsonPath });
    seen.add(jsonPath);
    if (jsonPath === '.metadata' || jsonPath.startsWith('.metadata.')) {
      errors.push({ field, type: 'FieldValueInvalid', value: jsonPath, detail: 'must not point to fields in metadata' });
      return;
    }
    const found = schemaAt(version.schema?.openAPIV3Schema, jsonPath);
    if (found.problem) {
      errors.push({ field, type: 'FieldValueInvalid', value: jsonPath, detail: found.problem });
      return;
    }
    if (!SELECTABLE_TYPES.includes(found.schema?.type as string)) {
      errors.push({ field, type: 'FieldValueInvalid', value: jsonPath, detail: 'must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed.' });
    }
  });
  return errors;
}

const CONVERSION_REVIEW_VERSIONS = ['v1', 'v1beta1'];

/** Upstream's ValidateCustomResourceConversion (reported at upstream's internal field paths). */
function validateConversion(spec: Partial<CrdSpec>): FieldError[] {
  const conversion = spec.conversion;
  if (!isObject(conversion)) return [];
  const errors: FieldError[] = [];
  const strategy = conversion.strategy;
  if (strategy !== undefined && strategy !== 'None' && strategy !== 'Webhook') {
    errors.push({ field: 'spec.conversion.strategy', type: 'FieldValueNotSupported', value: strategy, supported: ['None', 'Webhook'] });
    return errors;
  }
  const webhook = isObject(conversion.webhook) ? conversion.webhook : undefined;
  const clientConfig = webhook && isObject(webhook.clientConfig) ? webhook.clientConfig : undefined;
  if (strategy !== 'Webhook') {
    if (clientConfig) errors.push({ field: 'spec.conversion.webhookClientConfig', type: 'FieldValueForbidden', detail: 'should not be set when strategy is not set to Webhook' });
    return errors;
  }
  if (!clientConfig) {
    errors.push({ field: 'spec.conversion.webhookClientConfig', type: 'FieldValueRequired', detail: 'required when strategy is set to Webhook' });
  } else {
    errors.push(...validateWebhookClientConfig(clientConfig, 'spec.conversion.webhookClientConfig'));
  }
  const reviewVersions = webhook?.conversionReviewVersions;
  const field = 'spec.conversion.conversionReviewVersions';
  if (!Array.isArray(reviewVersions) || reviewVersions.length === 0) {
    errors.push({ field, type: 'FieldValueRequired' });
  } else {
    const seen = new Set<unknown>();
    reviewVersions.forEach((version, index) => {
      const problem = typeof version === 'string' ? dns1035(version) : 'must be a string';
      if (problem) errors.push({ field: `${field}[${index}]`, type: 'FieldValueInvalid', value: version, detail: problem });
      if (seen.has(version)) errors.push({ field: `${field}[${index}]`, type: 'FieldValueInvalid', value: version, detail: 'duplicate version' });
      seen.add(version);
    });
    if (!reviewVersions.some((version) => CONVERSION_REVIEW_VERSIONS.includes(version as string))) {
      errors.push({ field, type: 'FieldValueInvalid', value: reviewVersions, detail: `must include at least one of ${CONVERSION_REVIEW_VERSIONS.join(', ')}` });
    }
  }
  return errors;
}

/** Upstream's webhook.ValidateWebhookClientConfig. */
function validateWebhookClientConfig(config: Record<string, unknown>, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const hasUrl = typeof config.url === 'string' && config.url !== '';
  const service = isObject(config.service) ? config.service : undefined;
  if (hasUrl === Boolean(service)) {
    errors.push({ field: path, type: 'FieldValueRequired', detail: 'exactly one of url or service is required' });
    return errors;
  }
  if (hasUrl) {
    let url: URL | undefined;
    try {
      url = new URL(config.url as string);
    } catch {
      errors.push({ field: `${path}.url`, type: 'FieldValueInvalid', value: config.url, detail: 'must be a valid URL' });
    }
    if (url) {
      if (url.protocol !== 'https:') errors.push({ field: `${path}.url`, type: 'FieldValueInvalid', value: config.url, detail: "'https' is the only allowed URL scheme" });
      if (!url.hostname) errors.push({ field: `${path}.url`, type: 'FieldValueInvalid', value: config.url, detail: 'host must be specified' });
      if (url.username || url.password) errors.push({ field: `${path}.url`, type: 'FieldValueInvalid', value: config.url, detail: 'user information is not permitted in the URL' });
      if (url.hash) errors.push({ field: `${path}.url`, type: 'FieldValueInvalid', value: config.url, detail: 'fragments are not permitted in the URL' });
      if (url.search) errors.push({ field: `${path}.url`, type: 'FieldValueInvalid', value: config.url, detail: 'query parameters are not permitted in the URL' });
    }
  }
  if (service) {
    if (!service.name) errors.push({ field: `${path}.service.name`, type: 'FieldValueRequired', detail: 'service name is required' });
    if (!service.namespace) errors.push({ field: `${path}.service.namespace`, type: 'FieldValueRequired', detail: 'service namespace is required' });
    const port = service.port ?? 443;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      errors.push({ field: `${path}.service.port`, type: 'FieldValueInvalid', value: port, detail: 'port is not valid: must be between 1 and 65535, inclusive' });
    }
    if (service.path !== undefined && (typeof service.path !== 'string' || !service.path.startsWith('/'))) {
      errors.push({ field: `${path}.service.path`, type: 'FieldValueInvalid', value: service.path, detail: "must start with a '/'" });
    }
  }
  return errors;
}

/** Upstream's ValidateCustomResourceDefinitionStoredVersions. */
function validateStoredVersions(crd: KubeObject): FieldError[] {
  const stored = crd.status?.storedVersions;
  if (!Array.isArray(stored) || !Array.isArray(crd.spec?.versions)) return [];
  const versions = (crd.spec.versions as CrdVersion[]).filter(isObject);
  const names = new Set(versions.map((version) => version.name));
  const errors: FieldError[] = [];
  if (stored.length === 0) errors.push({ field: 'status.storedVersions', type: 'FieldValueInvalid', value: stored, detail: 'must have at least one stored version' });
  stored.forEach((version: unknown, index: number) => {
    if (!names.has(version as string)) errors.push({ field: `status.storedVersions[${index}]`, type: 'FieldValueInvalid', value: version, detail: 'must appear in spec.versions' });
  });
  const storage = versions.find((version) => version.storage)?.name;
  if (storage && stored.length > 0 && !stored.includes(storage)) errors.push({ field: 'status.storedVersions', type: 'FieldValueInvalid', value: stored, detail: `must have the storage version ${storage}` });
  return errors;
}

/** Warnings for schema parts that are accepted but have no effect (upstream says nothing about them). */
export function crdWarnings(crd: KubeObject): string[] {
  const versions = Array.isArray(crd.spec?.versions) ? (crd.spec.versions as CrdVersion[]) : [];
  return versions.flatMap((version, index) => (isObject(version) ? schemaWarnings(version.schema?.openAPIV3Schema, `spec.versions[${index}].schema.openAPIV3Schema`) : []));
}

/** Upstream's strategy: a new storage version joins status.storedVersions when the spec changes it. */
export function recordStorageVersion(crd: KubeObject): void {
  const storage = Array.isArray(crd.spec?.versions) ? (crd.spec.versions as CrdVersion[]).find((version) => isObject(version) && version.storage) : undefined;
  if (!storage || !isObject(crd.status)) return;
  const stored = Array.isArray(crd.status.storedVersions) ? (crd.status.storedVersions as string[]) : [];
  if (!stored.includes(storage.name)) crd.status.storedVersions = [...stored, storage.name];
}

function validateColumn(column: CrdColumn, path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (!column?.name) errors.push({ field: `${path}.name`, type: 'FieldValueRequired' });
  if (!column?.type) errors.push({ field: `${path}.type`, type: 'FieldValueRequired', detail: `must be one of ${COLUMN_TYPES.join(',')}` });
  else if (!COLUMN_TYPES.includes(column.type)) errors.push({ field: `${path}.type`, type: 'FieldValueInvalid', value: column.type, detail: `must be one of ${COLUMN_TYPES.join(',')}` });
  if (!column?.jsonPath) errors.push({ field: `${path}.jsonPath`, type: 'FieldValueRequired' });
  else errors.push(...validateSimpleJsonPath(column.jsonPath, `${path}.jsonPath`));
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
