// Upstream's rules for a CRD version's openAPIV3Schema (ValidateCustomResourceDefinitionOpenAPISchema and
// the structural-schema invariants of ValidateStructural), with upstream's field paths and wording, and
// one thing more: each violation names the fix, and violations come grouped by root cause, so a schema
// with forty untyped fields reads as one problem with forty places rather than forty problems.

import type { FieldError } from '../apiserver/request/status.js';
import { isObject } from '../apiserver/registry/object.js';
import type { JSONSchema } from '../apiserver/schema/types.js';
import { validateStructure } from '../apiserver/schema/validate.js';

type Schema = Record<string, unknown>;
type Level = 'root' | 'item' | 'field';

/** A violation with the root cause it belongs to (the grouping key) and how to fix it. */
export interface SchemaViolation {
  error: FieldError;
  cause: string;
  fix: string;
}

const OPENAPI_TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const LIST_TYPES = ['atomic', 'map', 'set'];

/** Root causes in the order they are reported (the first ones usually explain the later ones). */
const CAUSES = [
  'unsupported-keyword',
  'missing-type',
  'wrong-type',
  'items',
  'properties-and-additionalProperties',
  'value-validation',
  'metadata',
  'embedded-resource',
  'int-or-string',
  'preserve-unknown-fields',
  'list-type',
  'default',
] as const;

/**
 * Upstream's validationOptions that a schema check reads. On create all are true; on update each is
 * false when the stored CRD already broke the rule (upstream's ratcheting: a CRD accepted by an older
 * server can still be updated).
 */
export interface SchemaOptions {
  requireValidPropertyType: boolean;
  requireStructuralSchema: boolean;
  requirePrunedDefaults: boolean;
  requireAtomicSetType: boolean;
  requireMapListKeysMapSetValidation: boolean;
}

export const STRICT_SCHEMA_OPTIONS: SchemaOptions = {
  requireValidPropertyType: true,
  requireStructuralSchema: true,
  requirePrunedDefaults: true,
  requireAtomicSetType: true,
  requireMapListKeysMapSetValidation: true,
};

/** Deeper schemas are refused rather than walked (each level is a stack frame in every walker). */
export const MAX_SCHEMA_DEPTH = 500;

/**
 * Every violation of one version's schema; `path` is the schema's field path
 * (`spec.validation.openAPIV3Schema` or `spec.versions[0].schema.openAPIV3Schema`).
 */
export function validateCrdSchema(schema: unknown, path: string, options: SchemaOptions = STRICT_SCHEMA_OPTIONS): FieldError[] {
  return groupByCause(schemaViolations(schema, path, options));
}

/**
 * The violations of one schema, ungrouped (a CRD groups those of all its versions together). As
 * upstream: the generic OpenAPI rules always apply; defaults are checked only against a structural schema.
 */
export function schemaViolations(schema: unknown, path: string, options: SchemaOptions = STRICT_SCHEMA_OPTIONS): SchemaViolation[] {
  const { generic, structural, defaults } = schemaViolationsByKind(schema, path, options);
  return [...generic, ...structural, ...defaults];
}

/**
 * The violations by the rule set that found them: the generic OpenAPI rules (ValidateCustomResourceDefinitionOpenAPISchema),
 * ValidateStructural, and (only for a structural schema) the defaults. CEL rules compile only when the
 * last two are clean, and a rule only when no generic violation sits at or below its node.
 */
export function schemaViolationsByKind(schema: unknown, path: string, options: SchemaOptions = STRICT_SCHEMA_OPTIONS): { generic: SchemaViolation[]; structural: SchemaViolation[]; defaults: SchemaViolation[] } {
  const none = { generic: [], structural: [], defaults: [] };
  if (!isObject(schema)) return none;
  if (schemaDepth(schema, MAX_SCHEMA_DEPTH) > MAX_SCHEMA_DEPTH) {
    // Reported as structural: nothing else (defaults, rules) is attempted on such a schema.
    return { ...none, structural: [{ cause: 'unsupported-keyword', error: { field: path, type: 'FieldValueForbidden', detail: `must not nest more than ${MAX_SCHEMA_DEPTH} levels deep` }, fix: 'flatten the schema' }] };
  }
  const generic: SchemaViolation[] = [];
  new SchemaWalker(path, generic, options).generic(schema, path, { isRoot: true, insideMeta: false, defaultsForbidden: undefined });
  if (!options.requireStructuralSchema) return { ...none, generic };
  const structural = structuralViolations(schema, path);
  if (structural.length > 0) return { ...none, generic, structural };
  const defaults: SchemaViolation[] = [];
  new SchemaWalker(path, defaults, options).defaults(schema, path, false);
  return { generic, structural, defaults };
}

/** Upstream's ValidateStructural alone (the NonStructuralSchema condition reports these). */
export function structuralViolations(schema: unknown, path: string): SchemaViolation[] {
  if (!isObject(schema)) return [];
  if (schemaDepth(schema, MAX_SCHEMA_DEPTH) > MAX_SCHEMA_DEPTH) return [];
  const violations: SchemaViolation[] = [];
  new SchemaWalker(path, violations, STRICT_SCHEMA_OPTIONS).structural(schema, 'root', path, '');
  return violations;
}

/** How deep a schema nests, counted up to `limit` + 1 (iteratively, so a hostile schema cannot overflow the stack). */
export function schemaDepth(schema: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[schema, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (!isObject(node)) continue;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    const children: unknown[] = [node.items, node.additionalProperties, node.not, node.additionalItems];
    if (Array.isArray(node.items)) children.push(...node.items);
    for (const key of ['properties', 'patternProperties', 'definitions', 'dependencies']) if (isObject(node[key])) children.push(...Object.values(node[key] as Schema));
    for (const key of ['allOf', 'anyOf', 'oneOf']) if (Array.isArray(node[key])) children.push(...(node[key] as unknown[]));
    for (const child of children) if (isObject(child)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Whether any schema node matches (upstream's SchemaHas, over every sub-schema). */
export function schemaHas(schema: unknown, predicate: (node: Schema) => boolean): boolean {
  const stack: unknown[] = [schema];
  while (stack.length > 0) {
    const node = stack.pop();
    if (!isObject(node)) continue;
    if (predicate(node)) return true;
    stack.push(node.items, node.additionalProperties, node.not, node.additionalItems);
    if (Array.isArray(node.items)) stack.push(...node.items);
    for (const key of ['properties', 'patternProperties', 'definitions', 'dependencies']) if (isObject(node[key])) stack.push(...Object.values(node[key] as Schema));
    for (const key of ['allOf', 'anyOf', 'oneOf']) if (Array.isArray(node[key])) stack.push(...(node[key] as unknown[]));
  }
  return false;
}

/** Sorted by root cause, then by path; each detail ends with its fix. */
export function groupByCause(violations: SchemaViolation[]): FieldError[] {
  const rank = (cause: string) => {
    const index = (CAUSES as readonly string[]).indexOf(cause);
    return index < 0 ? CAUSES.length : index;
  };
  const seen = new Set<string>();
  return [...violations]
    .sort((a, b) => rank(a.cause) - rank(b.cause) || (a.error.field < b.error.field ? -1 : a.error.field > b.error.field ? 1 : 0))
    .filter((violation) => {
      const key = `${violation.error.field}\u0000${violation.error.type}\u0000${violation.error.detail ?? ''}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .map((violation) => ({ ...violation.error, detail: `${violation.error.detail ?? ''} — fix: ${violation.fix}`.replace(/^ — /, '') }));
}

interface GenericContext {
  isRoot: boolean;
  insideMeta: boolean;
  /** Why defaults are forbidden here (undefined: allowed). */
  defaultsForbidden: string | undefined;
}

/** `properties.spec.properties.replicas`: where, relative to openAPIV3Schema, a fix applies. */
function schemaLocation(relative: string): string {
  return relative === '' ? 'the root of openAPIV3Schema' : relative.replace(/^\./, '');
}

function suggestedType(schema: Schema): string {
  if (isObject(schema.properties) || schema.additionalProperties !== undefined) return 'object';
  if (schema.items !== undefined) return 'array';
  return '';
}

class SchemaWalker {
  constructor(
    private readonly rootPath: string,
    private readonly violations: SchemaViolation[],
    private readonly options: SchemaOptions,
  ) {}

  private add(cause: string, error: FieldError, fix: string): void {
    this.violations.push({ cause, error, fix });
  }

  /** Path relative to openAPIV3Schema, as the error paths spell it. */
  private inSchema(path: string): string {
    return path.slice(this.rootPath.length).replace(/^\./, '');
  }

  /** Path relative to openAPIV3Schema, in the dotted form a fix names. */
  private relative(path: string): string {
    return path.slice(this.rootPath.length).replace(/\[([^\]]+)\]/g, '.$1');
  }

  // ---- ValidateCustomResourceDefinitionOpenAPISchema ------------------------------------------

  generic(schema: Schema, path: string, context: GenericContext): void {
    const where = schemaLocation(this.relative(path));
    if (schema.type !== undefined && schema.type !== '') {
      // Upstream reports both for "null": it is no OpenAPI type, and nullable is the way to allow null.
      if (this.options.requireValidPropertyType && (typeof schema.type !== 'string' || !OPENAPI_TYPES.includes(schema.type))) {
        this.add('wrong-type', { field: `${path}.type`, type: 'FieldValueNotSupported', value: schema.type, supported: OPENAPI_TYPES }, `use one of ${OPENAPI_TYPES.join(', ')} as the type at ${where}`);
      }
      if (schema.type === 'null') this.add('wrong-type', { field: `${path}.type`, type: 'FieldValueForbidden', detail: 'type cannot be set to null, use nullable as an alternative' }, `replace "type: null" at ${where} by the value's type and "nullable: true"`);
    }
    const unsupported: [string, string][] = [
      ['$ref', '$ref is not supported'],
      ['id', 'id is not supported'],
      ['additionalItems', 'additionalItems is not supported'],
      ['patternProperties', 'patternProperties is not supported'],
      ['definitions', 'definitions is not supported'],
      ['dependencies', 'dependencies is not supported'],
    ];
    for (const [keyword, detail] of unsupported) {
      if (schema[keyword] === undefined || (keyword === 'id' && schema.id === '')) continue;
      const fix = keyword === '$ref' ? `inline the referenced schema at ${where} (CRD schemas are self-contained)` : `remove "${keyword}" at ${where}`;
      this.add('unsupported-keyword', { field: `${path}.${keyword}`, type: 'FieldValueForbidden', detail }, fix);
    }
    if (Array.isArray(schema.items)) this.add('items', { field: `${path}.items`, type: 'FieldValueForbidden', detail: 'items must be a schema object and not an array' }, `make "items" at ${where} one schema`);
    if (schema.uniqueItems === true) {
      this.add('value-validation', { field: `${path}.uniqueItems`, type: 'FieldValueForbidden', detail: 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic' }, `remove "uniqueItems" at ${where}; use "x-kubernetes-list-type: set" for unique items`);
    }
    if (context.insideMeta && schema['x-kubernetes-embedded-resource'] === true) {
      this.add('embedded-resource', { field: `${path}.x-kubernetes-embedded-resource`, type: 'FieldValueForbidden', detail: 'must not be used inside of resource meta' }, `remove "x-kubernetes-embedded-resource" at ${where}`);
    }
    if (schema.default !== undefined && context.defaultsForbidden !== undefined) {
      this.add('default', { field: `${path}.default`, type: 'FieldValueForbidden', detail: `must not be set${context.defaultsForbidden ? ` ${context.defaultsForbidden}` : ''}` }, `remove "default" at ${where}`);
    }
    if (schema.additionalProperties !== undefined && schema.additionalProperties !== true) {
      if (isObject(schema.properties) && Object.keys(schema.properties).length > 0) {
        this.add('properties-and-additionalProperties', { field: `${path}.additionalProperties`, type: 'FieldValueForbidden', detail: 'additionalProperties and properties are mutual exclusive' }, `keep either "properties" (a struct) or "additionalProperties" (a map) at ${where}; unknown fields are pruned anyway, so "additionalProperties: false" is not needed`);
      }
      if (isObject(schema.additionalProperties)) {
        const sub = context.insideMeta ? { ...context, isRoot: false, defaultsForbidden: 'inside additionalProperties applying to object metadata' } : { ...context, isRoot: false };
        this.generic(schema.additionalProperties, `${path}.additionalProperties`, sub);
      }
    }
    if (isObject(schema.properties)) {
      for (const [name, property] of Object.entries(schema.properties)) {
        if (!isObject(property)) continue;
        let sub: GenericContext = { ...context, isRoot: false };
        if ((context.isRoot || schema['x-kubernetes-embedded-resource'] === true) && ['metadata', 'apiVersion', 'kind'].includes(name)) {
          sub = { ...sub, insideMeta: true };
          if (context.isRoot) sub.defaultsForbidden = `in top-level ${name}`;
        }
        this.generic(property, `${path}.properties[${name}]`, sub);
      }
    }
    if (isObject(schema.not)) this.generic(schema.not, `${path}.not`, { ...context, isRoot: false });
    for (const junctor of ['allOf', 'oneOf', 'anyOf']) {
      const list = schema[junctor];
      if (Array.isArray(list)) list.forEach((item, index) => isObject(item) && this.generic(item, `${path}.${junctor}[${index}]`, { ...context, isRoot: false }));
    }
    if (isObject(schema.items)) this.generic(schema.items, `${path}.items`, { ...context, isRoot: false });
    if (schema['x-kubernetes-preserve-unknown-fields'] === false) {
      this.add('preserve-unknown-fields', { field: `${path}.x-kubernetes-preserve-unknown-fields`, type: 'FieldValueInvalid', value: false, detail: 'must be true or undefined' }, `remove "x-kubernetes-preserve-unknown-fields: false" at ${where} (pruning is the default)`);
    }
    this.listType(schema, path, where);
    this.mapType(schema, path, where);
  }

  private mapType(schema: Schema, path: string, where: string): void {
    const mapType = schema['x-kubernetes-map-type'];
    if (mapType === undefined) return;
    if (schema.type !== 'object') {
      const fix = `add "type: object" at ${where}, or remove x-kubernetes-map-type`;
      if (schema.type === undefined || schema.type === '') this.add('list-type', { field: `${path}.type`, type: 'FieldValueRequired', detail: 'must be object if x-kubernetes-map-type is specified' }, fix);
      else this.add('list-type', { field: `${path}.type`, type: 'FieldValueInvalid', value: schema.type, detail: 'must be object if x-kubernetes-map-type is specified' }, fix);
    }
    if (mapType !== 'granular' && mapType !== 'atomic') {
      this.add('list-type', { field: `${path}.x-kubernetes-map-type`, type: 'FieldValueNotSupported', value: mapType, supported: ['atomic', 'granular'] }, `use granular or atomic as x-kubernetes-map-type at ${where}`);
    }
  }

  private listType(schema: Schema, path: string, where: string): void {
    const listType = schema['x-kubernetes-list-type'];
    const keys = schema['x-kubernetes-list-map-keys'];
    const items = schema.items;
    if (listType !== undefined && schema.type !== 'array') {
      const fix = `add "type: array" at ${where}, or remove x-kubernetes-list-type`;
      if (schema.type === undefined || schema.type === '') this.add('list-type', { field: `${path}.type`, type: 'FieldValueRequired', detail: 'must be array if x-kubernetes-list-type is specified' }, fix);
      else this.add('list-type', { field: `${path}.type`, type: 'FieldValueInvalid', value: schema.type, detail: 'must be array if x-kubernetes-list-type is specified' }, fix);
    } else if (this.options.requireAtomicSetType && listType === 'set' && isObject(items)) {
      // Set items are compared whole: nested lists and maps must be atomic for that to be well defined.
      if (items.type === 'array' && items['x-kubernetes-list-type'] !== undefined && items['x-kubernetes-list-type'] !== 'atomic') {
        this.add('list-type', { field: `${path}.items.x-kubernetes-list-type`, type: 'FieldValueInvalid', value: items['x-kubernetes-list-type'], detail: 'must be atomic as item of a list with x-kubernetes-list-type=set' }, `set "x-kubernetes-list-type: atomic" on the items at ${where}`);
      } else if (items.type === 'object' && items['x-kubernetes-map-type'] !== 'atomic') {
        // Upstream reports the items' list type here (nil for an object), so the value reads null.
        this.add('list-type', { field: `${path}.items.x-kubernetes-map-type`, type: 'FieldValueInvalid', value: items['x-kubernetes-list-type'] ?? null, detail: 'must be atomic as item of a list with x-kubernetes-list-type=set' }, `set "x-kubernetes-map-type: atomic" on the items at ${where}, or make the list "x-kubernetes-list-type: map" with keys`);
      }
    }
    if (listType !== undefined && !LIST_TYPES.includes(listType as string)) {
      this.add('list-type', { field: `${path}.x-kubernetes-list-type`, type: 'FieldValueNotSupported', value: listType, supported: LIST_TYPES }, `use atomic, set or map as x-kubernetes-list-type at ${where}`);
    }
    if (Array.isArray(keys) && keys.length > 0) {
      const fix = `add "x-kubernetes-list-type: map" at ${where}, or remove x-kubernetes-list-map-keys`;
      if (listType === undefined) this.add('list-type', { field: `${path}.x-kubernetes-list-type`, type: 'FieldValueRequired', detail: 'must be map if x-kubernetes-list-map-keys is non-empty' }, fix);
      else if (listType !== 'map') this.add('list-type', { field: `${path}.x-kubernetes-list-type`, type: 'FieldValueInvalid', value: listType, detail: 'must be map if x-kubernetes-list-map-keys is non-empty' }, fix);
    }
    if (listType === 'map') {
      if (!Array.isArray(keys) || keys.length === 0) {
        this.add('list-type', { field: `${path}.x-kubernetes-list-map-keys`, type: 'FieldValueRequired', detail: 'must not be empty if x-kubernetes-list-type is map' }, `name the key fields of the items in x-kubernetes-list-map-keys at ${where}`);
      }
      if (items === undefined) {
        this.add('list-type', { field: `${path}.items`, type: 'FieldValueRequired', detail: 'must have a schema if x-kubernetes-list-type is map' }, `add an "items" schema of type object at ${where}`);
      } else if (!isObject(items)) {
        this.add('list-type', { field: `${path}.items`, type: 'FieldValueInvalid', value: items, detail: 'must only have a single schema if x-kubernetes-list-type is map' }, `make "items" at ${where} one schema`);
      } else if (items.type !== 'object') {
        this.add('list-type', { field: `${path}.items.type`, type: 'FieldValueInvalid', value: items.type ?? '', detail: "must be object if parent array's x-kubernetes-list-type is map" }, `make the items at ${where} "type: object"`);
      } else {
        const properties = isObject(items.properties) ? items.properties : {};
        const seen = new Set<unknown>();
        for (const key of Array.isArray(keys) ? keys : []) {
          const property = properties[key as string];
          if (!isObject(property)) {
            this.add('list-type', { field: `${path}.x-kubernetes-list-map-keys`, type: 'FieldValueInvalid', value: keys, detail: 'entries must all be names of item properties' }, `declare "${String(key)}" under items.properties at ${where}`);
          } else if (property.type === 'array' || property.type === 'object') {
            this.add('list-type', { field: `${path}.items.properties[${String(key)}].type`, type: 'FieldValueInvalid', value: items.type, detail: "must be a scalar type if parent array's x-kubernetes-list-type is map" }, `make the key "${String(key)}" a string, integer, number or boolean`);
          }
          if (seen.has(key)) this.add('list-type', { field: `${path}.x-kubernetes-list-map-keys`, type: 'FieldValueInvalid', value: keys, detail: 'must not contain duplicate entries' }, `list "${String(key)}" once`);
          seen.add(key);
        }
      }
    }
    if (this.options.requireMapListKeysMapSetValidation) this.mapListKeysMapSet(schema, path, where);
  }

  /** Upstream's validateMapListKeysMapSet: items of sets and maps, and map keys, must always be present. */
  mapListKeysMapSet(schema: Schema, path: string, where: string): void {
    const listType = schema['x-kubernetes-list-type'];
    const items = schema.items;
    if (!isObject(items) || (listType !== 'set' && listType !== 'map')) return;
    if (items.nullable === true) {
      this.add('list-type', { field: `${path}.items.nullable`, type: 'FieldValueForbidden', detail: `cannot be nullable when x-kubernetes-list-type is ${listType}` }, `remove "nullable" from the items at ${where}`);
    }
    if (listType !== 'map') return;
    const required = Array.isArray(items.required) ? items.required : [];
    const properties = isObject(items.properties) ? items.properties : {};
    const keys = schema['x-kubernetes-list-map-keys'];
    for (const key of Array.isArray(keys) ? keys : []) {
      const property = properties[key as string];
      if (!isObject(property)) continue;
      if (!required.includes(key) && property.default === undefined) {
        this.add('list-type', { field: `${path}.items.properties[${String(key)}].default`, type: 'FieldValueRequired', detail: 'this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property' }, `add "${String(key)}" to items.required at ${where}, or give it a default`);
      }
      if (property.nullable === true) {
        this.add('list-type', { field: `${path}.items.properties[${String(key)}].nullable`, type: 'FieldValueForbidden', detail: 'this property is in x-kubernetes-list-map-keys, so it cannot be nullable' }, `remove "nullable" from the key "${String(key)}" at ${where}`);
      }
    }
  }

  /**
   * Upstream's structural defaulting check (ValidateDefaults), run once the schema is structural: every
   * default must be valid for its schema and carry nothing pruning would drop.
   */
  defaults(schema: Schema, path: string, rootMeta: boolean): void {
    if (schema.default !== undefined && !rootMeta) this.checkDefault(schema, path, schemaLocation(this.relative(path)));
    const isRoot = path === this.rootPath;
    if (isObject(schema.properties)) {
      for (const [name, property] of Object.entries(schema.properties)) {
        if (isObject(property)) this.defaults(property, `${path}.properties[${name}]`, rootMeta || (isRoot && ['metadata', 'apiVersion', 'kind'].includes(name)));
      }
    }
    if (isObject(schema.items)) this.defaults(schema.items, `${path}.items`, rootMeta);
    if (isObject(schema.additionalProperties)) this.defaults(schema.additionalProperties, `${path}.additionalProperties`, rootMeta);
  }

  /** A default must be valid for its schema and must not carry fields pruning would drop. */
  private checkDefault(schema: Schema, path: string, where: string): void {
    const { default: value, ...withoutDefault } = schema;
    const holder = { type: 'object', properties: { default: withoutDefault } } as unknown as JSONSchema;
    const document = { default: structuredClone(value) };
    const result = validateStructure(document as never, holder, {});
    for (const error of result.errors) {
      this.add('default', { ...error, field: `${path}.${error.field}` }, `make the default at ${where} match its schema`);
    }
    if (result.unknownFields.length > 0 && this.options.requirePrunedDefaults) {
      this.add('default', { field: `${path}.default`, type: 'FieldValueInvalid', value, detail: 'must not have unknown fields' }, `remove ${result.unknownFields.map((field) => `"${field.replace(/^default\.?/, '')}"`).join(', ')} from the default at ${where}, or declare them in the schema`);
    }
  }

  // ---- ValidateStructural -------------------------------------------------------------------------

  structural(schema: Schema, level: Level, path: string, relative: string): void {
    const where = schemaLocation(relative);
    const type = typeof schema.type === 'string' ? schema.type : '';
    const embedded = schema['x-kubernetes-embedded-resource'] === true;
    const intOrString = schema['x-kubernetes-int-or-string'] === true;
    const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
    if (type === 'array' && schema.items === undefined) {
      this.add('items', { field: `${path}.items`, type: 'FieldValueRequired', detail: 'must be specified' }, `add an "items" schema at ${where}`);
    }
    if (isObject(schema.items)) this.structural(schema.items, 'item', `${path}.items`, `${relative}.items`);
    if (isObject(schema.properties)) {
      for (const [name, property] of Object.entries(schema.properties)) {
        if (isObject(property)) this.structural(property, 'field', `${path}.properties[${name}]`, `${relative}.properties.${name}`);
      }
    }
    if (schema.additionalProperties !== undefined) {
      if (level === 'root') this.add('properties-and-additionalProperties', { field: `${path}.additionalProperties`, type: 'FieldValueForbidden', detail: 'must not be used at the root' }, 'remove "additionalProperties" at the root of openAPIV3Schema; put the map under a property such as spec');
      if (isObject(schema.additionalProperties)) this.structural(schema.additionalProperties, 'field', `${path}.additionalProperties`, `${relative}.additionalProperties`);
    }
    if (intOrString && preserve) this.add('int-or-string', { field: `${path}.x-kubernetes-preserve-unknown-fields`, type: 'FieldValueInvalid', value: true, detail: 'must be false if x-kubernetes-int-or-string is true' }, `remove "x-kubernetes-preserve-unknown-fields" at ${where}`);
    if (intOrString && embedded) this.add('int-or-string', { field: `${path}.x-kubernetes-embedded-resource`, type: 'FieldValueInvalid', value: true, detail: 'must be false if x-kubernetes-int-or-string is true' }, `remove "x-kubernetes-embedded-resource" at ${where}`);
    if (intOrString && type !== '') this.add('int-or-string', { field: `${path}.type`, type: 'FieldValueInvalid', value: type, detail: 'must be empty if x-kubernetes-int-or-string is true' }, `remove "type" at ${where}; x-kubernetes-int-or-string already allows integers and strings`);
    this.valueValidation(schema, level, path, relative);
    if (embedded && type !== 'object') {
      if (type === '') this.add('embedded-resource', { field: `${path}.type`, type: 'FieldValueRequired', detail: 'must be object if x-kubernetes-embedded-resource is true' }, `add "type: object" at ${where}`);
      else this.add('embedded-resource', { field: `${path}.type`, type: 'FieldValueInvalid', value: type, detail: 'must be object if x-kubernetes-embedded-resource is true' }, `make the type at ${where} object`);
    } else if (type === '' && !intOrString && !preserve) {
      const suggestion = suggestedType(schema);
      const fix = suggestion ? `add "type: ${suggestion}" at ${where}` : `add a type (string, integer, number, boolean, object or array) at ${where}, or "x-kubernetes-preserve-unknown-fields: true" for free-form data`;
      const detail = level === 'root' ? 'must not be empty at the root' : level === 'item' ? 'must not be empty for specified array items' : 'must not be empty for specified object fields';
      this.add('missing-type', { field: `${path}.type`, type: 'FieldValueRequired', detail }, fix);
    }
    if (embedded && schema.additionalProperties !== undefined) {
      this.add('embedded-resource', { field: `${path}.additionalProperties`, type: 'FieldValueForbidden', detail: 'must not be used if x-kubernetes-embedded-resource is set' }, `remove "additionalProperties" at ${where}`);
    }
    if (level === 'root' && type !== '' && type !== 'object') {
      this.add('wrong-type', { field: `${path}.type`, type: 'FieldValueInvalid', value: type, detail: 'must be object at the root' }, 'make the root of openAPIV3Schema "type: object"');
    }
    const properties = isObject(schema.properties) ? schema.properties : {};
    const checkMetadata = level === 'root' || embedded;
    for (const name of ['kind', 'apiVersion'] as const) {
      const property = properties[name];
      if (checkMetadata && isObject(property) && property.type !== 'string') {
        this.add('metadata', { field: `${path}.properties[${name}].type`, type: 'FieldValueInvalid', value: property.type ?? '', detail: 'must be string' }, `make ${name} at ${where} "type: string" (or leave it out: it is implicit)`);
      }
    }
    const metadata = properties.metadata;
    if (checkMetadata && isObject(metadata) && metadata.type !== 'object') {
      this.add('metadata', { field: `${path}.properties[metadata].type`, type: 'FieldValueInvalid', value: metadata.type ?? '', detail: 'must be object' }, `make metadata at ${where} "type: object"`);
    }
    if (level === 'root' && isObject(metadata) && !restrictsOnlyNames(metadata)) {
      this.add('metadata', { field: `${path}.properties[metadata]`, type: 'FieldValueForbidden', detail: 'must not specify anything other than name and generateName, but metadata is implicitly specified' }, 'remove everything under properties.metadata except "type: object" and the name/generateName properties (metadata is always the standard ObjectMeta)');
    }
    if (embedded && !preserve && Object.keys(properties).length === 0) {
      this.add('embedded-resource', { field: `${path}.properties`, type: 'FieldValueRequired', detail: 'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields' }, `declare the embedded object's properties at ${where}, or add "x-kubernetes-preserve-unknown-fields: true"`);
    }
  }

  /** Inside anyOf/allOf/oneOf/not only value validations are allowed; what they name must exist outside. */
  private valueValidation(schema: Schema, level: Level, path: string, relative: string): void {
    const skipAnyOf = isIntOrStringAnyOf(schema.anyOf);
    const skipFirstAllOfAnyOf = Array.isArray(schema.allOf) && isObject(schema.allOf[0]) && isIntOrStringAnyOf(schema.allOf[0].anyOf);
    const junctors: [string, unknown][] = [['anyOf', skipAnyOf ? undefined : schema.anyOf], ['allOf', schema.allOf], ['oneOf', schema.oneOf]];
    for (const [junctor, list] of junctors) {
      if (!Array.isArray(list)) continue;
      list.forEach((item, index) => {
        if (!isObject(item)) return;
        const skip = junctor === 'allOf' && index === 0 && skipFirstAllOfAnyOf;
        this.nested(item, level, `${path}.${junctor}[${index}]`, schema, path, relative, skip);
      });
    }
    if (isObject(schema.not)) this.nested(schema.not, level, `${path}.not`, schema, path, relative, false);
  }

  private nested(value: Schema, level: Level, path: string, structural: Schema | undefined, structuralPath: string, relative: string, skipAnyOf: boolean): void {
    const where = schemaLocation(relative);
    const forbidden: [string, string, (value: unknown) => boolean][] = [
      ['type', 'must be empty to be structural', (item) => item !== undefined && item !== ''],
      ['additionalProperties', 'must be undefined to be structural', (item) => item !== undefined],
      ['default', 'must be undefined to be structural', (item) => item !== undefined],
      ['title', 'must be empty to be structural', (item) => item !== undefined && item !== ''],
      ['description', 'must be empty to be structural', (item) => item !== undefined && item !== ''],
      ['nullable', 'must be false to be structural', (item) => item === true],
      ['x-kubernetes-preserve-unknown-fields', 'must be false to be structural', (item) => item === true],
      ['x-kubernetes-embedded-resource', 'must be false to be structural', (item) => item === true],
      ['x-kubernetes-int-or-string', 'must be false to be structural', (item) => item === true],
      ['x-kubernetes-list-map-keys', 'must be empty to be structural', (item) => Array.isArray(item) && item.length > 0],
      ['x-kubernetes-list-type', 'must be undefined to be structural', (item) => item !== undefined],
      ['x-kubernetes-map-type', 'must be undefined to be structural', (item) => item !== undefined],
      ['x-kubernetes-validations', 'must be empty to be structural', (item) => Array.isArray(item) && item.length > 0],
    ];
    for (const [keyword, detail, present] of forbidden) {
      if (!present(value[keyword])) continue;
      this.add('value-validation', { field: `${path}.${keyword}`, type: 'FieldValueForbidden', detail }, `move "${keyword}" out of ${this.inSchema(path)} to the schema at ${where} (anyOf/allOf/oneOf/not may only hold value validations)`);
    }
    if (isObject(value.properties) && value.properties.metadata !== undefined) {
      this.add('value-validation', { field: `${path}.properties[metadata]`, type: 'FieldValueForbidden', detail: 'must not be specified in a nested context' }, `remove metadata from ${this.inSchema(path)}`);
    }
    // Completeness (upstream's validateStructuralCompleteness): a field or items named here must be
    // specified in the structural schema too; below a missing one nothing more is reported.
    const structuralProperties = structural && isObject(structural.properties) ? structural.properties : {};
    if (isObject(value.properties)) {
      for (const [name, property] of Object.entries(value.properties)) {
        const counterpart = structural ? structuralProperties[name] : undefined;
        if (structural && !isObject(counterpart)) {
          this.add('value-validation', { field: `${structuralPath}.properties[${name}]`, type: 'FieldValueRequired', detail: `because it is defined in ${path}.properties[${name}]` }, `declare "${name}" with its type under properties at ${where}`);
        }
        if (isObject(property)) this.nested(property, 'field', `${path}.properties[${name}]`, isObject(counterpart) ? counterpart : undefined, `${structuralPath}.properties[${name}]`, `${relative}.properties.${name}`, false);
      }
    }
    if (isObject(value.items)) {
      const counterpart = structural && isObject(structural.items) ? structural.items : undefined;
      if (structural && !counterpart) this.add('value-validation', { field: `${structuralPath}.items`, type: 'FieldValueRequired', detail: `because it is defined in ${path}.items` }, `declare "items" at ${where}`);
      this.nested(value.items, 'item', `${path}.items`, counterpart, `${structuralPath}.items`, `${relative}.items`, false);
    }
    const junctors: [string, unknown][] = [['anyOf', skipAnyOf ? undefined : value.anyOf], ['allOf', value.allOf], ['oneOf', value.oneOf]];
    for (const [junctor, list] of junctors) {
      if (!Array.isArray(list)) continue;
      list.forEach((item, index) => isObject(item) && this.nested(item, level, `${path}.${junctor}[${index}]`, structural, structuralPath, relative, false));
    }
    if (isObject(value.not)) this.nested(value.not, level, `${path}.not`, structural, structuralPath, relative, false);
  }
}

/**
 * What upstream accepts but ignores: `properties` on a non-object and `items` on a non-array are never
 * used for validation or pruning, which is nearly always a mistake in the schema. Returned as warnings.
 */
export function schemaWarnings(schema: unknown, path: string): string[] {
  const warnings: string[] = [];
  if (schemaDepth(schema, MAX_SCHEMA_DEPTH) > MAX_SCHEMA_DEPTH) return warnings;
  const visit = (node: unknown, at: string) => {
    if (!isObject(node)) return;
    const type = typeof node.type === 'string' ? node.type : '';
    if (type && type !== 'object' && isObject(node.properties)) warnings.push(`${at}.properties: ignored because the type is ${type}, not object; add "type: object" or remove the properties`);
    if (type && type !== 'array' && node.items !== undefined) warnings.push(`${at}.items: ignored because the type is ${type}, not array; add "type: array" or remove the items`);
    if (isObject(node.properties)) for (const [name, property] of Object.entries(node.properties)) visit(property, `${at}.properties[${name}]`);
    if (isObject(node.items)) visit(node.items, `${at}.items`);
    if (isObject(node.additionalProperties)) visit(node.additionalProperties, `${at}.additionalProperties`);
  };
  visit(schema, path);
  return warnings;
}

function isIntOrStringAnyOf(list: unknown): boolean {
  if (!Array.isArray(list) || list.length !== 2) return false;
  const [first, second] = list;
  const only = (item: unknown, type: string) => isObject(item) && Object.keys(item).length === 1 && item.type === type;
  return only(first, 'integer') && only(second, 'string');
}

/** metadata at the root may say it is an object and restrict name and generateName, nothing else. */
function restrictsOnlyNames(metadata: Schema): boolean {
  for (const [key, value] of Object.entries(metadata)) {
    // The type is checked on its own; a default there is refused by the generic rules.
    if (key === 'type' || key === 'default') continue;
    if (key === 'properties' && isObject(value) && Object.keys(value).every((name) => name === 'name' || name === 'generateName')) continue;
    if (key === 'properties' && isObject(value) && Object.keys(value).length === 0) continue;
    return false;
  }
  return true;
}

// ---- What a stored CRD already breaks (upstream relaxes those rules on update, see SchemaOptions) ----

export function hasInvalidTypes(schema: unknown): boolean {
  return schemaHas(schema, (node) => node.type !== undefined && node.type !== '' && !OPENAPI_TYPES.includes(node.type as string));
}

export function hasDefaults(schema: unknown): boolean {
  return schemaHas(schema, (node) => node.default !== undefined);
}

export function hasKubernetesExtensions(schema: unknown): boolean {
  return schemaHas(
    schema,
    (node) =>
      node['x-kubernetes-embedded-resource'] === true ||
      (node['x-kubernetes-preserve-unknown-fields'] !== undefined && node['x-kubernetes-preserve-unknown-fields'] !== null) ||
      node['x-kubernetes-int-or-string'] === true ||
      (Array.isArray(node['x-kubernetes-list-map-keys']) && node['x-kubernetes-list-map-keys'].length > 0) ||
      (node['x-kubernetes-list-type'] !== undefined && node['x-kubernetes-list-type'] !== null) ||
      (Array.isArray(node['x-kubernetes-validations']) && node['x-kubernetes-validations'].length > 0),
  );
}

export function isNonStructural(schema: unknown): boolean {
  return isObject(schema) && (schemaDepth(schema, MAX_SCHEMA_DEPTH) > MAX_SCHEMA_DEPTH || structuralViolations(schema, '').length > 0);
}

/** A structural schema with a default carrying fields pruning would drop (upstream's schemaHasUnprunedDefaults). */
export function hasUnprunedDefaults(schema: unknown): boolean {
  if (!isObject(schema) || !hasDefaults(schema) || isNonStructural(schema)) return false;
  const violations: SchemaViolation[] = [];
  new SchemaWalker('', violations, STRICT_SCHEMA_OPTIONS).defaults(schema, '', false);
  return violations.some((violation) => violation.error.detail === 'must not have unknown fields');
}

export function hasNonAtomicSetType(schema: unknown): boolean {
  return schemaHas(schema, (node) => {
    const items = node.items;
    if (node['x-kubernetes-list-type'] !== 'set' || !isObject(items)) return false;
    if (items.type === 'array') return items['x-kubernetes-list-type'] !== undefined && items['x-kubernetes-list-type'] !== 'atomic';
    if (items.type === 'object') return items['x-kubernetes-map-type'] !== 'atomic';
    return false;
  });
}

export function hasInvalidMapListKeysMapSet(schema: unknown): boolean {
  return schemaHas(schema, (node) => {
    const violations: SchemaViolation[] = [];
    new SchemaWalker('', violations, STRICT_SCHEMA_OPTIONS).mapListKeysMapSet(node, '', '');
    return violations.length > 0;
  });
}
