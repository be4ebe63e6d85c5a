// A CRD's OpenAPI schema compiled once into the tree every step of the custom-resource write pipeline
// walks: the structural skeleton (properties, items, additionalProperties, defaults, nullable and the
// x-kubernetes extensions) that pruning and defaulting follow, plus the value validations (type, format,
// enum, pattern, bounds, junctors) the validator checks. Patterns are compiled here, so a CRD generation
// compiles each one once.

import { isSupportedFormat } from './formats.js';
import { compileGoRegexp, GoRegexpError, type GoRegexp } from './pattern.js';
import type { JSONSchema } from './types.js';

export interface SchemaNode {
  /** `type` as written ('' when absent); int-or-string nodes check `integer,string`. */
  types: string[];
  nullable: boolean;
  /** `format` after upstream's stripping of formats it does not support. */
  format: string;
  hasDefault: boolean;
  default?: unknown;
  preserveUnknownFields: boolean;
  embeddedResource: boolean;
  intOrString: boolean;
  listType?: 'atomic' | 'set' | 'map';
  listMapKeys: string[];
  mapType?: 'granular' | 'atomic';
  properties?: Map<string, SchemaNode>;
  /** additionalProperties as a schema. */
  additionalProperties?: SchemaNode;
  /** additionalProperties: false. */
  additionalPropertiesForbidden: boolean;
  items?: SchemaNode;

  enum?: unknown[];
  /** The pattern, or the reason it does not compile (reported like upstream: "but pattern is invalid"). */
  pattern?: { source: string; regexp?: GoRegexp; error?: string };
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum: boolean;
  exclusiveMaximum: boolean;
  multipleOf?: number;
  minItems?: number;
  maxItems?: number;
  uniqueItems: boolean;
  minProperties?: number;
  maxProperties?: number;
  required: string[];
  allOf?: SchemaNode[];
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  not?: SchemaNode;
  /** Whether any default sits at or below this node (lets defaulting skip whole subtrees). */
  defaultsBelow: boolean;
  /** Whether an embedded resource sits at or below this node (its checks skip the rest). */
  embeddedBelow: boolean;
  /** Whether a set or map list sits at or below this node (its uniqueness checks skip the rest). */
  listTypesBelow: boolean;
}

/** Compiles a CRD version's openAPIV3Schema (already checked by CRD validation to be structural). */
export function compileStructural(schema: JSONSchema): SchemaNode {
  return compileNode(schema, 0);
}

const MAX_DEPTH = 500;

const number = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const isSchema = (value: unknown): value is JSONSchema => typeof value === 'object' && value !== null && !Array.isArray(value);
const schemas = (value: unknown): JSONSchema[] | undefined => (Array.isArray(value) && value.length > 0 ? value.filter(isSchema) : undefined);
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);

function inheritBelow(node: SchemaNode, child: SchemaNode): void {
  if (child.defaultsBelow) node.defaultsBelow = true;
  if (child.embeddedBelow) node.embeddedBelow = true;
  if (child.listTypesBelow) node.listTypesBelow = true;
}

// Keywords are read defensively: CRD validation should have refused a malformed schema, but a keyword of
// the wrong JSON type must never turn into a crash on every write.
function compileNode(schema: JSONSchema, depth: number): SchemaNode {
  if (depth > MAX_DEPTH) throw new Error('schema nests too deeply');
  const intOrString = schema['x-kubernetes-int-or-string'] === true;
  const listType = schema['x-kubernetes-list-type'];
  const mapType = schema['x-kubernetes-map-type'];
  const node: SchemaNode = {
    types: intOrString ? ['integer', 'string'] : typeof schema.type === 'string' && schema.type ? [schema.type] : [],
    nullable: schema.nullable === true,
    format: typeof schema.format === 'string' && isSupportedFormat(schema.format) ? schema.format : '',
    hasDefault: schema.default !== undefined,
    default: schema.default,
    preserveUnknownFields: schema['x-kubernetes-preserve-unknown-fields'] === true,
    embeddedResource: schema['x-kubernetes-embedded-resource'] === true,
    intOrString,
    listType: listType === 'atomic' || listType === 'set' || listType === 'map' ? listType : undefined,
    listMapKeys: strings(schema['x-kubernetes-list-map-keys']),
    mapType: mapType === 'granular' || mapType === 'atomic' ? mapType : undefined,
    additionalPropertiesForbidden: schema.additionalProperties === false,
    enum: Array.isArray(schema.enum) ? schema.enum : undefined,
    minLength: number(schema.minLength),
    maxLength: number(schema.maxLength),
    minimum: number(schema.minimum),
    maximum: number(schema.maximum),
    exclusiveMinimum: schema.exclusiveMinimum === true,
    exclusiveMaximum: schema.exclusiveMaximum === true,
    multipleOf: number(schema.multipleOf),
    minItems: number(schema.minItems),
    maxItems: number(schema.maxItems),
    uniqueItems: schema.uniqueItems === true,
    minProperties: number(schema.minProperties),
    maxProperties: number(schema.maxProperties),
    required: strings(schema.required),
    defaultsBelow: schema.default !== undefined,
    embeddedBelow: schema['x-kubernetes-embedded-resource'] === true,
    listTypesBelow: listType === 'set' || listType === 'map',
  };
  if (typeof schema.pattern === 'string') {
    try {
      node.pattern = { source: schema.pattern, regexp: compileGoRegexp(schema.pattern) };
    } catch (error) {
      if (!(error instanceof GoRegexpError)) throw error;
      node.pattern = { source: schema.pattern, error: error.message };
    }
  }
  if (isSchema(schema.properties)) {
    node.properties = new Map();
    for (const [name, property] of Object.entries(schema.properties)) {
      if (!isSchema(property)) continue;
      const child = compileNode(property, depth + 1);
      node.properties.set(name, child);
      inheritBelow(node, child);
    }
  }
  if (isSchema(schema.additionalProperties)) {
    node.additionalProperties = compileNode(schema.additionalProperties, depth + 1);
    inheritBelow(node, node.additionalProperties);
  }
  if (isSchema(schema.items)) {
    node.items = compileNode(schema.items, depth + 1);
    inheritBelow(node, node.items);
  }
  node.allOf = schemas(schema.allOf)?.map((member) => compileNode(member, depth + 1));
  node.anyOf = schemas(schema.anyOf)?.map((member) => compileNode(member, depth + 1));
  node.oneOf = schemas(schema.oneOf)?.map((member) => compileNode(member, depth + 1));
  if (isSchema(schema.not)) node.not = compileNode(schema.not, depth + 1);
  return node;
}

/** The schema of a map key or property below an object node (properties first, then additionalProperties). */
export function fieldSchema(node: SchemaNode | undefined, key: string): SchemaNode | undefined {
  if (!node) return undefined;
  return node.properties?.get(key) ?? node.additionalProperties;
}
