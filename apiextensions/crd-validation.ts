// Defaulting and static validation of CustomResourceDefinition objects: upstream's
// apiextensions/validation ValidateCustomResourceDefinition and …Update, at the field paths of the
// internal version (crd-internal-view.ts), with upstream's error types and wording.

import type { KubeObject } from '../apiserver/registry/object.js';
import { isObject } from '../apiserver/registry/object.js';
import { fieldErrorMessage, RenderedValue, type FieldError } from '../apiserver/request/status.js';
import { isDns1035Label, isDns1123Subdomain } from '../apiserver/registry/names.js';
import { compileSchemaRules } from './cel/compile.js';
import { invalidPatterns } from '../apiserver/schema/pattern.js';
import {
  groupByCause,
  hasDefaults,
  hasInvalidMapListKeysMapSet,
  hasInvalidTypes,
  hasKubernetesExtensions,
  hasNonAtomicSetType,
  hasUnprunedDefaults,
  isNonStructural,
  schemaViolationsByKind,
  schemaWarnings,
  STRICT_SCHEMA_OPTIONS,
  type SchemaOptions,
  type SchemaViolation,
} from './structural-schema.js';
import { internalView, semanticEqual, subresourcesFor } from './crd-internal-view.js';
import { caBundleProblem, hasRecognizedReviewVersionOrEmpty, validateConversion, type ConversionOptions } from './crd-conversion-validation.js';
import { validateColumns, validateDeprecationWarning, validateSelectableFields, validateSubresources } from './crd-version-fields.js';
import { API_APPROVED_ANNOTATION, apiApprovalState, isProtectedCommunityGroup } from './crd-api-approval.js';

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

/** Upstream's SetDefaults_CustomResourceDefinitionSpec and SetDefaults_ServiceReference (v1). */
export function defaultCrd(crd: KubeObject): void {
  if (!isObject(crd.spec)) return;
  const spec = crd.spec as Partial<CrdSpec>;
  if (isObject(spec.names)) {
    const names = spec.names as Partial<CrdNames>;
    const kind = typeof names.kind === 'string' ? names.kind : '';
    if (!names.singular) names.singular = kind.toLowerCase();
    if (!names.listKind && kind) names.listKind = `${kind}List`;
  }
  // Only an absent conversion is defaulted: `conversion: {}` keeps its empty strategy (and is refused).
  if (!isObject(spec.conversion)) spec.conversion = { strategy: 'None' };
  const service = spec.conversion.webhook?.clientConfig?.service;
  if (isObject(service) && (service.port === undefined || service.port === null)) service.port = 443;
}

/**
 * Upstream's PrepareForCreate: the status is reset (the store already cleared it) and the first storage
 * version is stored. Conditions are omitted while empty, as upstream serializes them.
 */
export function initialStatus(crd: KubeObject): void {
  const storage = Array.isArray(crd.spec?.versions) ? (crd.spec.versions as CrdVersion[]).find((version) => isObject(version) && version.storage === true) : undefined;
  crd.status = { acceptedNames: { plural: '', kind: '' }, storedVersions: storage ? [storage.name] : [] };
}

/**
 * Upstream's validationOptions for one write. On create every rule applies; on update a rule the stored
 * CRD already broke is relaxed, so that a CRD accepted by an earlier server stays updatable.
 */
export interface CrdValidationOptions extends SchemaOptions, ConversionOptions {
  requireOpenAPISchema: boolean;
  /** Scope and kind are fixed once the CRD was Established. */
  requireImmutableNames: boolean;
  /**
   * Versions whose schema the update leaves as it was: their rules are not held to the per-expression
   * cost limit again (upstream's versionsWithUnchangedSchemas; cost estimates may grow between releases).
   */
  unchangedSchemaVersions?: Set<string>;
}

const CREATE_OPTIONS: CrdValidationOptions = {
  ...STRICT_SCHEMA_OPTIONS,
  requireOpenAPISchema: true,
  requireImmutableNames: false,
  requireRecognizedConversionReviewVersion: true,
  // The CRD is not established yet, so nothing has called the webhook with this bundle.
  allowInvalidCABundle: true,
};

/** Every openAPIV3Schema of a CRD, however they are laid out. */
function schemasOf(spec: Partial<CrdSpec>): unknown[] {
  return (Array.isArray(spec.versions) ? spec.versions : []).filter(isObject).map((version) => version.schema?.openAPIV3Schema).filter(isObject);
}

function isEstablished(crd: KubeObject): boolean {
  return (Array.isArray(crd.status?.conditions) ? crd.status.conditions : []).some((condition: { type?: string; status?: string }) => condition?.type === 'Established' && condition.status === 'True');
}

/** Upstream's ValidateCustomResourceDefinitionUpdate options, read off the stored CRD. */
export function updateOptions(old: KubeObject, next?: KubeObject): CrdValidationOptions {
  const spec = (isObject(old.spec) ? old.spec : {}) as Partial<CrdSpec>;
  const schemas = schemasOf(spec);
  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  const established = isEstablished(old);
  return {
    requireOpenAPISchema: versions.every((version) => isObject(version) && isObject(version.schema?.openAPIV3Schema)),
    requireImmutableNames: established,
    requireValidPropertyType: !schemas.some(hasInvalidTypes),
    requireStructuralSchema: !schemas.some(isNonStructural),
    requirePrunedDefaults: !schemas.some(hasUnprunedDefaults),
    requireAtomicSetType: !schemas.some(hasNonAtomicSetType),
    requireMapListKeysMapSetValidation: !schemas.some(hasInvalidMapListKeysMapSet),
    requireRecognizedConversionReviewVersion: !isObject(spec.conversion) || hasRecognizedReviewVersionOrEmpty(spec.conversion),
    allowInvalidCABundle: !established || caBundleProblem(spec.conversion) !== undefined,
    unchangedSchemaVersions: unchangedSchemaVersions(next, old),
  };
}

function unchangedSchemaVersions(next: KubeObject | undefined, old: KubeObject): Set<string> {
  const schemaOf = (object: KubeObject | undefined, name: unknown) => {
    const versions: unknown[] = Array.isArray(object?.spec?.versions) ? object.spec.versions : [];
    const version = versions.find((item) => isObject(item) && item.name === name) as CrdVersion | undefined;
    return version ? { found: true, schema: version.schema?.openAPIV3Schema } : { found: false, schema: undefined };
  };
  const unchanged = new Set<string>();
  for (const version of (Array.isArray(next?.spec?.versions) ? next.spec.versions : []).filter(isObject) as CrdVersion[]) {
    const before = schemaOf(old, version.name);
    if (before.found && semanticEqual(version.schema?.openAPIV3Schema, before.schema)) unchanged.add(version.name);
  }
  return unchanged;
}

/** Upstream's metadata.name rule for CRDs: a DNS subdomain that is plural.group. */
function validateName(crd: KubeObject): FieldError[] {
  const plural = typeof crd.spec?.names?.plural === 'string' ? crd.spec.names.plural : '';
  const group = typeof crd.spec?.group === 'string' ? crd.spec.group : '';
  const name = crd.metadata.name ?? '';
  // The generic metadata check already reports a name that is no DNS subdomain.
  return name === `${plural}.${group}` ? [] : [{ field: 'metadata.name', type: 'FieldValueInvalid', value: name, detail: `must be spec.names.plural+"."+spec.group` }];
}

/** Upstream's ValidateCustomResourceDefinition (create) and, with `old`, ValidateCustomResourceDefinitionUpdate. */
export function validateCrd(crd: KubeObject, old?: KubeObject): FieldError[] {
  const options = old ? updateOptions(old, crd) : CREATE_OPTIONS;
  try {
    return [
      ...validateName(crd),
      ...validateSpec(crd, options),
      ...(old ? validateSpecUpdate(crd, old, options) : []),
      ...validateAcceptedNames(crd),
      ...validateStoredVersions(crd),
      ...validateApiApproval(crd, old),
      ...validatePreserveUnknownFields(crd, old),
    ];
  } catch (error) {
    // Whatever shape the input has, the answer is a 422 naming the spec, never a 500.
    if (!(error instanceof RangeError || error instanceof TypeError)) throw error;
    return [{ field: 'spec', type: 'FieldValueInvalid', value: new RenderedValue('"object"'), detail: `could not be validated: ${error.message}` }];
  }
}

function validateSpec(crd: KubeObject, baseOptions: CrdValidationOptions): FieldError[] {
  if (!isObject(crd.spec)) return [{ field: 'spec', type: 'FieldValueRequired' }];
  const spec = crd.spec as Partial<CrdSpec>;
  const options = { ...baseOptions };
  const errors: FieldError[] = [];
  const group = typeof spec.group === 'string' ? spec.group : '';
  if (!group) errors.push({ field: 'spec.group', type: 'FieldValueRequired' });
  else if (isDns1123Subdomain(group).length > 0) errors.push({ field: 'spec.group', type: 'FieldValueInvalid', value: group, detail: isDns1123Subdomain(group).join(',') });
  else if (!group.includes('.')) errors.push({ field: 'spec.group', type: 'FieldValueInvalid', value: group, detail: 'should be a domain with at least one dot' });

  if (spec.scope === undefined || spec.scope === '') errors.push({ field: 'spec.scope', type: 'FieldValueRequired' });
  else if (spec.scope !== 'Cluster' && spec.scope !== 'Namespaced') errors.push({ field: 'spec.scope', type: 'FieldValueNotSupported', value: spec.scope, supported: ['Cluster', 'Namespaced'] });

  const preserveUnknownFields = spec.preserveUnknownFields === true;
  // Pruning needs a structural schema.
  if (!preserveUnknownFields) options.requireStructuralSchema = true;
  const view = internalView(spec);
  const topLevelSchema = isObject(view.validation?.openAPIV3Schema);
  if (!topLevelSchema) {
    for (const entry of view.versions) {
      if (isObject(entry.schema?.openAPIV3Schema)) continue;
      const field = `spec.versions[${entry.index}].schema.openAPIV3Schema`;
      if (options.requireOpenAPISchema) errors.push({ field, type: 'FieldValueRequired', detail: 'schemas are required' });
      else if (!preserveUnknownFields && entry.version.served) errors.push({ field, type: 'FieldValueRequired', detail: 'because otherwise all fields are pruned' });
    }
  }
  const schemas = schemasOf(spec);
  if (schemas.some(hasDefaults)) {
    options.requireStructuralSchema = true;
    if (preserveUnknownFields) errors.push({ field: 'spec.preserveUnknownFields', type: 'FieldValueInvalid', value: true, detail: 'must be false in order to use defaults in the schema' });
  }
  if (schemas.some(hasKubernetesExtensions)) options.requireStructuralSchema = true;

  let storage = 0;
  const seen = new Set<unknown>();
  let unique = true;
  const violations: SchemaViolation[] = [];
  const schemaErrors: FieldError[] = [];
  const anyStatus = isObject(view.subresources?.status) || view.versions.some((entry) => isObject(entry.subresources?.status));
  for (const entry of view.versions) {
    const { version, index } = entry;
    const path = `spec.versions[${index}]`;
    if (version.storage === true) storage++;
    if (seen.has(version.name)) unique = false;
    seen.add(version.name);
    const nameProblems = isDns1035Label(typeof version.name === 'string' ? version.name : '');
    if (nameProblems.length > 0) errors.push({ field: `${path}.name`, type: 'FieldValueInvalid', value: version.name ?? '', detail: nameProblems.join(',') });
    errors.push(...validateDeprecationWarning(version as unknown as Record<string, unknown>, path));
    const statusEnabled = isObject(subresourcesFor(view, entry)?.status);
    errors.push(...validateSchemaAt(entry.schema, `${path}.schema`, statusEnabled, withCostSuppression(options, version.name), violations, schemaErrors));
    errors.push(...validateSubresources(entry.subresources, `${path}.subresources`));
    errors.push(...validateColumns(entry.additionalPrinterColumns, `${path}.additionalPrinterColumns`));
    if (Array.isArray(entry.selectableFields) && entry.selectableFields.length > 0) {
      const schema = view.validation?.openAPIV3Schema ?? entry.schema?.openAPIV3Schema;
      if (!isObject(schema)) errors.push({ field: `${path}.selectableFields`, type: 'FieldValueInvalid', value: '', detail: 'selectableFields may only be set when version.schema.openAPIV3Schema is not included' });
      else errors.push(...validateSelectableFields(entry.selectableFields, schema, `${path}.selectableFields`));
    }
  }
  const versionNames = () => view.versions.map((entry) => String(entry.version.name ?? ''));
  if (!unique) errors.push({ field: 'spec.versions', type: 'FieldValueInvalid', value: versionNames(), detail: 'must contain unique version names' });
  if (storage !== 1) errors.push({ field: 'spec.versions', type: 'FieldValueInvalid', value: versionNames(), detail: 'must have exactly one version marked as storage version' });

  const names = (isObject(spec.names) ? spec.names : {}) as Partial<CrdNames>;
  for (const key of ['plural', 'singular', 'kind', 'listKind'] as const) {
    if (!names[key]) errors.push({ field: `spec.names.${key}`, type: 'FieldValueRequired' });
  }
  errors.push(...validateNames(names, 'spec.names'));

  errors.push(...validateSchemaAt(view.validation, 'spec.validation', anyStatus, withCostSuppression(options, view.versions[0]?.version.name), violations, schemaErrors));
  // Schema violations of every version together, grouped by cause: one missing type in three versions is one problem.
  errors.push(...groupByCause(violations), ...schemaErrors);
  errors.push(...validateSubresources(view.subresources, 'spec.subresources'));
  errors.push(...validateColumns(view.additionalPrinterColumns, 'spec.additionalPrinterColumns'));
  if (Array.isArray(view.selectableFields) && view.selectableFields.length > 0) {
    if (view.validation) {
      errors.push(...validateSelectableFields(view.selectableFields, view.validation.openAPIV3Schema, 'spec.selectableFields'));
    } else if (view.versions.every((entry) => isObject(entry.schema?.openAPIV3Schema))) {
      // Deliberately not upstream: the same selectableFields in every version with per-version schemas is
      // refused there ("may only be set when validations.schema is included") only because conversion
      // hoisted the fields and not the schemas. Each version's fields are checked against its own schema.
      const seen = new Set<string>();
      for (const entry of view.versions) {
        for (const error of validateSelectableFields(view.selectableFields, entry.schema?.openAPIV3Schema, 'spec.selectableFields')) {
          const key = `${error.field}\u0000${fieldErrorMessage(error)}`;
          if (!seen.has(key)) errors.push(error);
          seen.add(key);
        }
      }
    } else {
      errors.push({ field: 'spec.selectableFields', type: 'FieldValueInvalid', value: '', detail: 'selectableFields may only be set when validations.schema is included' });
    }
  }
  const strategy = isObject(spec.conversion) ? spec.conversion.strategy : undefined;
  if (isObject(spec.conversion) && strategy !== 'None' && preserveUnknownFields) {
    errors.push({ field: 'spec.conversion.strategy', type: 'FieldValueInvalid', value: strategy ?? '', detail: 'must be None if spec.preserveUnknownFields is true' });
  }
  errors.push(...validateConversion(spec.conversion, options));
  return errors;
}

interface SchemaCheckOptions extends CrdValidationOptions {
  suppressPerExpressionCost?: boolean;
}

function withCostSuppression(options: CrdValidationOptions, version: unknown): SchemaCheckOptions {
  return { ...options, suppressPerExpressionCost: options.unchangedSchemaVersions?.has(version as string) === true };
}

const PER_EXPRESSION_COST = /^estimated (rule|messageExpression) cost exceeds budget/;

/** The fields a schema may have at its root when the status subresource is on, in upstream's struct order. */
const ROOT_FIELDS_IN_ORDER: [string, string][] = [
  ['id', 'ID'], ['$schema', 'Schema'], ['$ref', 'Ref'], ['description', 'Description'], ['type', 'Type'], ['format', 'Format'], ['title', 'Title'],
  ['default', 'Default'], ['maximum', 'Maximum'], ['exclusiveMaximum', 'ExclusiveMaximum'], ['minimum', 'Minimum'], ['exclusiveMinimum', 'ExclusiveMinimum'],
  ['maxLength', 'MaxLength'], ['minLength', 'MinLength'], ['pattern', 'Pattern'], ['maxItems', 'MaxItems'], ['minItems', 'MinItems'], ['uniqueItems', 'UniqueItems'],
  ['multipleOf', 'MultipleOf'], ['enum', 'Enum'], ['maxProperties', 'MaxProperties'], ['minProperties', 'MinProperties'], ['required', 'Required'], ['items', 'Items'],
  ['allOf', 'AllOf'], ['oneOf', 'OneOf'], ['anyOf', 'AnyOf'], ['not', 'Not'], ['properties', 'Properties'], ['additionalProperties', 'AdditionalProperties'],
  ['patternProperties', 'PatternProperties'], ['dependencies', 'Dependencies'], ['additionalItems', 'AdditionalItems'], ['definitions', 'Definitions'],
  ['externalDocs', 'ExternalDocs'], ['example', 'Example'], ['nullable', 'Nullable'], ['x-kubernetes-preserve-unknown-fields', 'XPreserveUnknownFields'],
  ['x-kubernetes-embedded-resource', 'XEmbeddedResource'], ['x-kubernetes-int-or-string', 'XIntOrString'], ['x-kubernetes-list-map-keys', 'XListMapKeys'],
  ['x-kubernetes-list-type', 'XListType'], ['x-kubernetes-map-type', 'XMapType'], ['x-kubernetes-validations', 'XValidations'],
];
const ALLOWED_AT_STATUS_ROOT = ['Description', 'Type', 'Format', 'Title', 'Maximum', 'ExclusiveMaximum', 'Minimum', 'ExclusiveMinimum', 'MaxLength', 'MinLength', 'Pattern', 'MaxItems', 'MinItems', 'UniqueItems', 'MultipleOf', 'Required', 'Items', 'Properties', 'ExternalDocs', 'Example', 'XPreserveUnknownFields', 'XValidations'];

/**
 * Upstream's validateCustomResourceDefinitionValidation for one `schema` holder at `path`
 * (`spec.validation` or `spec.versions[i].schema`). Schema violations go to `violations` (grouped later);
 * other errors are returned, and rule-compilation errors go to `ruleErrors` (reported after the schema's).
 */
function validateSchemaAt(holder: CrdVersion['schema'], path: string, statusEnabled: boolean, options: SchemaCheckOptions, violations: SchemaViolation[], ruleErrors: FieldError[]): FieldError[] {
  const schema = holder?.openAPIV3Schema;
  if (!isObject(schema)) return [];
  const errors: FieldError[] = [];
  const root = `${path}.openAPIV3Schema`;
  if (statusEnabled) {
    for (const [key, goName] of ROOT_FIELDS_IN_ORDER) {
      const value = schema[key];
      if (value === undefined || value === null || value === false || value === '' || value === 0) continue;
      if (goName === 'Type') {
        if (value === 'object') continue;
        errors.push({ field: `${root}.type`, type: 'FieldValueInvalid', value, detail: 'only "object" is allowed as the type at the root of the schema if the status subresource is enabled' });
        break;
      }
      if (!ALLOWED_AT_STATUS_ROOT.includes(goName)) {
        errors.push({ field: root, type: 'FieldValueInvalid', value: new RenderedValue('"object"'), detail: `only [${ALLOWED_AT_STATUS_ROOT.join(' ')}] fields are allowed at the root of the schema if the status subresource is enabled` });
        break;
      }
    }
  }
  if (schema.nullable === true) errors.push({ field: `${root}.nullable`, type: 'FieldValueForbidden', detail: 'nullable cannot be true at the root' });
  const { generic, structural, defaults } = schemaViolationsByKind(schema, root, options);
  violations.push(...generic, ...structural, ...defaults);
  // Patterns are RE2 upstream: one that Go cannot compile is rejected here, not at the first write.
  errors.push(...invalidPatterns(schema, root));
  // CEL rules are typed by the schema: only a valid structural schema is compiled against.
  // As upstream, a rule is only compiled when what it can see is valid: the whole schema structural with
  // valid defaults, and no other violation at or below the rule's own node.
  if (options.requireStructuralSchema && structural.length === 0 && defaults.length === 0) {
    const compiled = compileSchemaRules(schema, root).errors.filter((error) => {
      if (options.suppressPerExpressionCost && error.type === 'FieldValueForbidden' && PER_EXPRESSION_COST.test(error.detail ?? '')) return false;
      const node = /^(.*)\.x-kubernetes-validations(\[\d+\])?(\.[A-Za-z]+)?$/.exec(error.field)?.[1];
      return node === undefined || !generic.some((violation) => violation.error.field.startsWith(`${node}.`));
    });
    ruleErrors.push(...compiled);
  }
  return errors;
}

/** Upstream's ValidateCustomResourceDefinitionNames (for spec.names and status.acceptedNames). */
function validateNames(names: Partial<CrdNames>, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  for (const key of ['plural', 'singular'] as const) {
    const problems = text(names[key]) ? isDns1035Label(text(names[key])) : [];
    if (problems.length > 0) errors.push({ field: `${path}.${key}`, type: 'FieldValueInvalid', value: names[key], detail: problems.join(',') });
  }
  for (const key of ['kind', 'listKind'] as const) {
    const problems = text(names[key]) ? isDns1035Label(text(names[key]).toLowerCase()) : [];
    if (problems.length > 0) errors.push({ field: `${path}.${key}`, type: 'FieldValueInvalid', value: names[key], detail: `may have mixed case, but should otherwise match: ${problems.join(',')}` });
  }
  (Array.isArray(names.shortNames) ? names.shortNames : []).forEach((shortName, index) => {
    const problems = isDns1035Label(text(shortName));
    if (problems.length > 0) errors.push({ field: `${path}.shortNames[${index}]`, type: 'FieldValueInvalid', value: shortName, detail: problems.join(',') });
  });
  if (text(names.kind) && names.kind === names.listKind) errors.push({ field: `${path}.listKind`, type: 'FieldValueInvalid', value: names.listKind, detail: 'kind and listKind may not be the same' });
  (Array.isArray(names.categories) ? names.categories : []).forEach((category, index) => {
    const problems = isDns1035Label(text(category));
    if (problems.length > 0) errors.push({ field: `${path}.categories[${index}]`, type: 'FieldValueInvalid', value: category, detail: problems.join(',') });
  });
  return errors;
}

function validateAcceptedNames(crd: KubeObject): FieldError[] {
  const accepted = isObject(crd.status) && isObject(crd.status.acceptedNames) ? (crd.status.acceptedNames as Partial<CrdNames>) : {};
  return validateNames(accepted, 'status.acceptedNames');
}

/** Upstream's status strategy: a write through /status checks the accepted names only. */
export function validateCrdStatusUpdate(crd: KubeObject): FieldError[] {
  return validateAcceptedNames(crd);
}

/** Upstream's ValidateCustomResourceDefinitionStoredVersions. */
function validateStoredVersions(crd: KubeObject): FieldError[] {
  const stored: unknown[] = Array.isArray(crd.status?.storedVersions) ? crd.status.storedVersions : [];
  if (stored.length === 0) return [{ field: 'status.storedVersions', type: 'FieldValueInvalid', value: stored, detail: 'must have at least one stored version' }];
  const remaining = new Map<unknown, number>();
  stored.forEach((version, index) => remaining.set(version, index));
  const errors: FieldError[] = [];
  for (const version of (Array.isArray(crd.spec?.versions) ? crd.spec.versions : []).filter(isObject) as CrdVersion[]) {
    const found = remaining.has(version.name);
    if (version.storage === true && !found) errors.push({ field: 'status.storedVersions', type: 'FieldValueInvalid', value: stored, detail: `must have the storage version ${version.name}` });
    if (found) remaining.delete(version.name);
  }
  // Upstream's text first; the way out after it (the most asked-about CRD error, see k/k#87691).
  const name = crd.metadata.name ?? '';
  for (const [version, index] of remaining) {
    const fix = `rewrite the objects stored as ${String(version)} in the storage version, then drop it with: kubectl patch crd ${name} --subresource=status --type=json -p '[{"op":"remove","path":"/status/storedVersions/${index}"}]'`;
    errors.push({ field: `status.storedVersions[${index}]`, type: 'FieldValueInvalid', value: version, detail: `must appear in spec.versions — fix: ${fix}` });
  }
  return errors;
}

/** Upstream's validateAPIApproval: an unchanged approval state never fails an update. */
function validateApiApproval(crd: KubeObject, old: KubeObject | undefined): FieldError[] {
  const group = typeof crd.spec?.group === 'string' ? crd.spec.group : '';
  if (!isProtectedCommunityGroup(group)) return [];
  const next = apiApprovalState(crd.metadata.annotations);
  if (old && apiApprovalState(old.metadata.annotations).state === next.state) return [];
  const field = `metadata.annotations[${API_APPROVED_ANNOTATION}]`;
  const value = crd.metadata.annotations?.[API_APPROVED_ANNOTATION] ?? '';
  if (next.state === 'Missing') return [{ field, type: 'FieldValueRequired', detail: next.reason }];
  if (next.state === 'Invalid') return [{ field, type: 'FieldValueInvalid', value, detail: next.reason }];
  return [];
}

/** Upstream's validatePreserveUnknownFields: v1 cannot turn pruning off, but a stored CRD that has it keeps it. */
function validatePreserveUnknownFields(crd: KubeObject, old: KubeObject | undefined): FieldError[] {
  if (old?.spec?.preserveUnknownFields === true) return [];
  if (crd.spec?.preserveUnknownFields !== true) return [];
  return [{ field: 'spec.preserveUnknownFields', type: 'FieldValueInvalid', value: true, detail: 'cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead' }];
}

/** Warnings for schema parts that are accepted but have no effect (upstream says nothing about them). */
export function crdWarnings(crd: KubeObject): string[] {
  if (!isObject(crd.spec)) return [];
  // At the same paths as the errors: a schema shared by every version is spec.validation's.
  const view = internalView(crd.spec as Partial<CrdSpec>);
  return [
    ...schemaWarnings(view.validation?.openAPIV3Schema, 'spec.validation.openAPIV3Schema'),
    ...view.versions.flatMap((entry) => schemaWarnings(entry.schema?.openAPIV3Schema, `spec.versions[${entry.index}].schema.openAPIV3Schema`)),
  ];
}

/** Upstream's PrepareForUpdate: a new storage version joins status.storedVersions. */
export function recordStorageVersion(crd: KubeObject): void {
  const storage = Array.isArray(crd.spec?.versions) ? (crd.spec.versions as CrdVersion[]).find((version) => isObject(version) && version.storage === true) : undefined;
  if (!storage || !isObject(crd.status)) return;
  const stored = Array.isArray(crd.status.storedVersions) ? (crd.status.storedVersions as string[]) : [];
  if (!stored.includes(storage.name)) crd.status.storedVersions = [...stored, storage.name];
}

/** Upstream's validateCustomResourceDefinitionSpecUpdate: what identifies the resource cannot change. */
function validateSpecUpdate(crd: KubeObject, old: KubeObject, options: CrdValidationOptions): FieldError[] {
  const errors: FieldError[] = [];
  const immutable = (field: string, next: unknown, previous: unknown) => {
    if (next !== previous) errors.push({ field, type: 'FieldValueInvalid', value: next ?? '', detail: 'field is immutable' });
  };
  if (options.requireImmutableNames) {
    immutable('spec.scope', crd.spec?.scope, old.spec?.scope);
    immutable('spec.names.kind', crd.spec?.names?.kind, old.spec?.names?.kind);
  }
  immutable('spec.group', crd.spec?.group, old.spec?.group);
  immutable('spec.names.plural', crd.spec?.names?.plural, old.spec?.names?.plural);
  return errors;
}

/** Kept for callers that validate an update: ValidateCustomResourceDefinitionUpdate. */
export function validateCrdUpdate(crd: KubeObject, old: KubeObject): FieldError[] {
  return validateCrd(crd, old);
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
