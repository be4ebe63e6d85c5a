// Build step: writes dist/generated/builtin-schemas.json, the OpenAPI v3 definitions of every built-in
// type, from the models of the official JavaScript client (@kubernetes/client-node, a devDependency).
// The core server validates, prunes, serves OpenAPI and computes strategic-merge patches from it.
//
// Run after tsc: `node dist/scripts/gen-builtin-schemas.js`. Deterministic: same client, same bytes.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { patchStrategies, patchStrategyFor } from '../apiserver/schema/patch-strategies.js';
import { schemaRef, type JSONSchema } from '../apiserver/schema/types.js';
import { resolveDefinitionNames, type DefinitionName } from './builtin-definition-names.js';
import { loadClientModels, locateClientPackage, type ClientModel, type ClientModelField } from './client-node-models.js';

export interface BuiltinSchemaDocument {
  schemas: Record<string, JSONSchema>;
}

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const APIEXTENSIONS = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const TIME = `${META}.Time`;
const MICRO_TIME = `${META}.MicroTime`;
const RAW_EXTENSION = 'io.k8s.apimachinery.pkg.runtime.RawExtension';
const ANY_JSON = `${APIEXTENSIONS}.JSON`;

const anyValue = (description: string): JSONSchema => ({ description, 'x-kubernetes-preserve-unknown-fields': true });
const freeObject = (description: string): JSONSchema => ({
  description,
  type: 'object',
  'x-kubernetes-preserve-unknown-fields': true,
});

/**
 * Definitions the client has no class for: it flattens them into `string`, `Date`, `IntOrString` or
 * `any`. Upstream keeps them as definitions of their own, and `kubectl explain` shows their names.
 */
const SPECIAL_DEFINITIONS: Record<string, JSONSchema> = {
  [QUANTITY]: {
    description:
      'Quantity is a fixed-point representation of a number, such as 100m, 1.5Gi or 2, written as a string or a number.',
    oneOf: [{ type: 'string' }, { type: 'number' }],
    'x-kubernetes-int-or-string': true,
  },
  [INT_OR_STRING]: {
    description: 'IntOrString is a type that can hold an int32 or a string.',
    format: 'int-or-string',
    oneOf: [{ type: 'integer' }, { type: 'string' }],
    'x-kubernetes-int-or-string': true,
  },
  [TIME]: { description: 'Time is a timestamp in RFC 3339 form, with second precision.', type: 'string', format: 'date-time' },
  [MICRO_TIME]: {
    description: 'MicroTime is a timestamp in RFC 3339 form, with microsecond precision.',
    type: 'string',
    format: 'date-time',
  },
  [RAW_EXTENSION]: freeObject('RawExtension holds an embedded object of any kind, serialized as JSON.'),
  [`${META}.FieldsV1`]: freeObject('FieldsV1 stores a set of fields in a trie-like JSON structure.'),
  [`${META}.Patch`]: { description: 'Patch is the body of a PATCH request.', type: 'object' },
  [ANY_JSON]: anyValue('JSON represents any valid JSON value.'),
  [`${APIEXTENSIONS}.JSONSchemaPropsOrArray`]: anyValue('A schema or an array of schemas.'),
  [`${APIEXTENSIONS}.JSONSchemaPropsOrBool`]: anyValue('A schema or a boolean; false forbids additional properties.'),
  [`${APIEXTENSIONS}.JSONSchemaPropsOrStringArray`]: anyValue('A schema or an array of property names.'),
  [`${APIEXTENSIONS}.CustomResourceSubresourceStatus`]: {
    description: 'Enables the status subresource; it has no fields.',
    type: 'object',
  },
  ['io.k8s.api.apiserverinternal.v1alpha1.StorageVersionSpec']: {
    description: 'StorageVersionSpec is an empty spec.',
    type: 'object',
  },
};

/**
 * What each `any` field of the client really is. The schema fields of JSONSchemaProps hold any JSON
 * value; every other `any` is an embedded object.
 */
const ANY_FIELD_DEFINITIONS: Record<string, string> = {
  'V1JSONSchemaProps.default': ANY_JSON,
  'V1JSONSchemaProps.example': ANY_JSON,
  'V1JSONSchemaProps.enum': ANY_JSON,
  'V1JSONSchemaProps.items': `${APIEXTENSIONS}.JSONSchemaPropsOrArray`,
  'V1JSONSchemaProps.additionalProperties': `${APIEXTENSIONS}.JSONSchemaPropsOrBool`,
  'V1JSONSchemaProps.additionalItems': `${APIEXTENSIONS}.JSONSchemaPropsOrBool`,
  'V1JSONSchemaProps.dependencies': `${APIEXTENSIONS}.JSONSchemaPropsOrStringArray`,
  'V1ManagedFieldsEntry.fieldsV1': `${META}.FieldsV1`,
  'V1CustomResourceSubresources.status': `${APIEXTENSIONS}.CustomResourceSubresourceStatus`,
  'V1alpha1StorageVersion.spec': 'io.k8s.api.apiserverinternal.v1alpha1.StorageVersionSpec',
};

/**
 * Quantity fields, which the client types as plain strings, so that nothing else tells them apart.
 * Keyed by kind without version prefix: the same Go field keeps its type across versions.
 */
const QUANTITY_FIELDS = new Set([
  'CSIStorageCapacity.capacity', 'CSIStorageCapacity.maximumVolumeSize',
  'CapacityRequestPolicy.default', 'CapacityRequestPolicy.validValues',
  'CapacityRequestPolicyRange.max', 'CapacityRequestPolicyRange.min', 'CapacityRequestPolicyRange.step',
  'CapacityRequirements.requests', 'ContainerStatus.allocatedResources', 'Counter.value', 'DeviceCapacity.value',
  'DeviceRequestAllocationResult.consumedCapacity', 'EmptyDirVolumeSource.sizeLimit',
  'LimitRangeItem.default', 'LimitRangeItem.defaultRequest', 'LimitRangeItem.max',
  'LimitRangeItem.maxLimitRequestRatio', 'LimitRangeItem.min',
  'NodeStatus.allocatable', 'NodeStatus.capacity', 'Overhead.podFixed',
  'PersistentVolumeClaimStatus.allocatedResources', 'PersistentVolumeClaimStatus.capacity',
  'PersistentVolumeSpec.capacity', 'PodSpec.overhead', 'ResourceFieldSelector.divisor',
  'ResourceQuotaSpec.hard', 'ResourceQuotaStatus.hard', 'ResourceQuotaStatus.used',
  'ResourceRequirements.limits', 'ResourceRequirements.requests',
  'VolumeResourceRequirements.limits', 'VolumeResourceRequirements.requests',
  'MetricTarget.averageValue', 'MetricTarget.value', 'MetricValueStatus.averageValue', 'MetricValueStatus.value',
]);

const CONVENTIONS = 'https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md';

/** The client drops descriptions of fields that point at another type; these three matter to explain. */
function standardDescription(field: string, kind: string, isList: boolean): string | undefined {
  switch (field) {
    case 'metadata':
      return isList
        ? `Standard list metadata. More info: ${CONVENTIONS}#types-kinds`
        : `Standard object's metadata. More info: ${CONVENTIONS}#metadata`;
    case 'spec':
      return `Spec defines the desired behavior of the ${kind}. More info: ${CONVENTIONS}#spec-and-status`;
    case 'status':
      return `Status is the most recently observed status of the ${kind}. Populated by the system. Read-only. More info: ${CONVENTIONS}#spec-and-status`;
    default:
      return undefined;
  }
}

class SchemaBuilder {
  private readonly usedPatchEntries = new Set<string>();
  private readonly usedQuantityFields = new Set<string>();

  constructor(private readonly names: Map<string, DefinitionName>) {}

  build(models: ClientModel[]): BuiltinSchemaDocument {
    const schemas: Record<string, JSONSchema> = { ...SPECIAL_DEFINITIONS };
    for (const model of models) schemas[this.definitionOf(model.className)] = this.modelSchema(model);
    this.checkTablesWereUsed();
    const sorted: Record<string, JSONSchema> = {};
    for (const name of Object.keys(schemas).sort()) sorted[name] = schemas[name];
    return { schemas: sorted };
  }

  private definitionOf(className: string): string {
    const name = this.names.get(className);
    if (!name) throw new Error(`no definition name for ${className}`);
    return name.definition;
  }

  private modelSchema(model: ClientModel): JSONSchema {
    const name = this.names.get(model.className)!;
    const kind = name.groupVersionKind?.kind ?? '';
    const schema: JSONSchema = { description: model.description, type: 'object' };
    if (!schema.description) delete schema.description;
    const properties: Record<string, JSONSchema> = {};
    for (const field of model.fields) {
      const property = this.fieldSchema(model, field);
      const description =
        field.description && !field.description.startsWith('IntOrString is a type')
          ? field.description
          : name.groupVersionKind
            ? standardDescription(field.jsonName, kind, kind.endsWith('List'))
            : undefined;
      properties[field.jsonName] = description ? { description, ...property } : property;
      this.addPatchMetadata(name.definition, field.jsonName, properties[field.jsonName]);
    }
    if (model.fields.length > 0) schema.properties = properties;
    const required = model.fields.filter((field) => field.required).map((field) => field.jsonName);
    if (required.length > 0) schema.required = required;
    if (name.groupVersionKind) schema['x-kubernetes-group-version-kind'] = [name.groupVersionKind];
    return schema;
  }

  private fieldSchema(model: ClientModel, field: ClientModelField): JSONSchema {
    const withoutVersion = model.className.replace(/^([A-Z][a-z]+)?V\d+(?:(?:alpha|beta)\d+)?/, '');
    const quantityKey = `${withoutVersion}.${field.jsonName}`;
    const isQuantity = QUANTITY_FIELDS.has(quantityKey);
    if (isQuantity) this.usedQuantityFields.add(quantityKey);
    const anyDefinition = ANY_FIELD_DEFINITIONS[`${model.className}.${field.jsonName}`] ?? RAW_EXTENSION;
    const schema = this.typeSchema(field.type.trim(), field.format, { isQuantity, anyDefinition });
    // Object-valued fields wrap the $ref in allOf so that a description can sit beside it (upstream v3 style).
    return schema.$ref ? { allOf: [schema] } : schema;
  }

  private typeSchema(type: string, format: string, context: { isQuantity: boolean; anyDefinition: string }): JSONSchema {
    const array = /^Array<(.+)>$/.exec(type);
    if (array) return { type: 'array', items: this.typeSchema(array[1].trim(), format, context) };
    const map = /^\{\s*\[key: string\]:\s*(.+?);?\s*\}$/.exec(type);
    if (map) return { type: 'object', additionalProperties: this.typeSchema(map[1].trim(), format, context) };
    switch (type) {
      case 'string':
        if (context.isQuantity) return { $ref: schemaRef(QUANTITY) };
        return format === 'byte' ? { type: 'string', format: 'byte' } : { type: 'string' };
      case 'number':
        if (format === 'int32' || format === 'int64') return { type: 'integer', format };
        return format ? { type: 'number', format } : { type: 'number' };
      case 'boolean':
        return { type: 'boolean' };
      case 'Date':
      case 'V1MicroTime':
        return { $ref: schemaRef(format === 'date-time-micro' ? MICRO_TIME : TIME) };
      case 'IntOrString':
        return { $ref: schemaRef(INT_OR_STRING) };
      case 'any':
        return { $ref: schemaRef(context.anyDefinition) };
      default:
        return { $ref: schemaRef(this.definitionOf(type)) };
    }
  }

  private addPatchMetadata(definition: string, field: string, property: JSONSchema): void {
    const entry = patchStrategyFor(definition, field);
    if (!entry) return;
    this.usedPatchEntries.add(`${definition}.${field}`);
    // Upstream never writes `replace`: a list without a strategy is replaced already.
    if (entry.mergeKey) property['x-kubernetes-patch-merge-key'] = entry.mergeKey;
    if (entry.strategy !== 'replace') property['x-kubernetes-patch-strategy'] = entry.strategy;
    if (entry.listType) property['x-kubernetes-list-type'] = entry.listType;
    if (entry.listMapKeys) property['x-kubernetes-list-map-keys'] = [...entry.listMapKeys];
  }

  /** A table entry that matches no field is a typo or an upstream rename: fail the build, not silently. */
  private checkTablesWereUsed(): void {
    const unusedPatches = Object.keys(patchStrategies).filter((key) => !this.usedPatchEntries.has(key));
    const unusedQuantities = [...QUANTITY_FIELDS].filter((key) => !this.usedQuantityFields.has(key));
    if (unusedPatches.length > 0 || unusedQuantities.length > 0) {
      throw new Error(`schema tables name fields that do not exist: ${[...unusedPatches, ...unusedQuantities].join(', ')}`);
    }
  }
}

export async function generateBuiltinSchemas(): Promise<BuiltinSchemaDocument> {
  const clientPackage = locateClientPackage(import.meta.url);
  const models = await loadClientModels(clientPackage);
  const names = resolveDefinitionNames(models, clientPackage);
  return new SchemaBuilder(names).build(models);
}

/** dist/scripts/gen-builtin-schemas.js → dist/generated/builtin-schemas.json */
export function builtinSchemasOutputPath(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', 'generated', 'builtin-schemas.json');
}

export async function writeBuiltinSchemas(outputPath = builtinSchemasOutputPath()): Promise<string> {
  const document = await generateBuiltinSchemas();
  mkdirSync(dirname(outputPath), { recursive: true });
  // Rename into place so that a server starting meanwhile never reads half a file.
  const temporaryPath = `${outputPath}.${process.pid}.tmp`;
  writeFileSync(temporaryPath, JSON.stringify(document));
  renameSync(temporaryPath, outputPath);
  return outputPath;
}

const runDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (runDirectly) {
  const started = performance.now();
  const outputPath = await writeBuiltinSchemas();
  console.log(`wrote ${outputPath} in ${Math.round(performance.now() - started)} ms`);
}
