// Turns an OpenAPI schema into the small node tree the structural validator walks: `$ref`s resolved,
// `allOf` parts merged, the allowed JSON types as one bit set. Nodes are cached per schema object (and
// per definitions object, which the refs resolve against), so every schema is compiled once; children
// compile on first use, which keeps recursive definitions (JSONSchemaProps) finite and leaves the
// hundreds of definitions no write ever reaches uncompiled.
import { refTarget, type JSONSchema } from './types.js';

export const TYPE_STRING = 1;
export const TYPE_INTEGER = 2;
export const TYPE_NUMBER = 4;
export const TYPE_BOOLEAN = 8;
export const TYPE_OBJECT = 16;
export const TYPE_ARRAY = 32;

// In the order messages list them.
const TYPE_BITS: Record<string, number> = {
  integer: TYPE_INTEGER,
  number: TYPE_NUMBER,
  string: TYPE_STRING,
  boolean: TYPE_BOOLEAN,
  object: TYPE_OBJECT,
  array: TYPE_ARRAY,
};

export const QUANTITY_DEFINITION = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

export interface CompiledNode {
  /** Allowed JSON types; 0 accepts any value. */
  types: number;
  /** The schema's type as messages name it (`integer`, `integer or string`). */
  typeName: string;
  format?: string;
  isQuantity: boolean;
  nullable: boolean;
  /** A free-form subtree: nothing below is checked or pruned. */
  preserveUnknown: boolean;
  /** Whether keys not declared anywhere are pruned (the node describes an object's shape). */
  prunesUnknown: boolean;
  required: string[];
  enumValues?: unknown[];
  /** Child lookups; use `propertyNode`, `additionalNode` and `itemsNode`. */
  propertySchemas: Map<string, JSONSchema[]>;
  additionalSchema?: JSONSchema;
  additionalAllowed: boolean;
  itemsSchema?: JSONSchema;
  compiledProperties: Map<string, CompiledNode>;
  compiledAdditional?: CompiledNode;
  compiledItems?: CompiledNode;
  definitions: Record<string, JSONSchema>;
}

/** Keywords that change what a value may be; a schema with none of them beside its $ref is just the ref. */
const STRUCTURAL_KEYWORDS = [
  'type', 'format', 'properties', 'additionalProperties', 'items', 'required', 'nullable', 'enum', 'oneOf', 'anyOf',
  'x-kubernetes-int-or-string', 'x-kubernetes-preserve-unknown-fields',
] as const;

const cache = new WeakMap<Record<string, JSONSchema>, WeakMap<JSONSchema, CompiledNode>>();

/** Pass the same definitions object every time (builtinSchemas() does): the cache is keyed by it. */
export function compileSchema(schema: JSONSchema, definitions: Record<string, JSONSchema>): CompiledNode {
  let perDefinitions = cache.get(definitions);
  if (!perDefinitions) {
    perDefinitions = new WeakMap();
    cache.set(definitions, perDefinitions);
  }
  const cached = perDefinitions.get(schema);
  if (cached) return cached;
  const delegate = soleReference(schema);
  const node = delegate
    ? compileSchema(resolveReference(delegate, definitions), definitions)
    : buildNode(schema, definitions);
  perDefinitions.set(schema, node);
  return node;
}

export function propertyNode(node: CompiledNode, key: string): CompiledNode | undefined {
  const compiled = node.compiledProperties.get(key);
  if (compiled) return compiled;
  const schemas = node.propertySchemas.get(key);
  if (!schemas) return undefined;
  const child = compileSchema(schemas.length === 1 ? schemas[0] : { allOf: schemas }, node.definitions);
  node.compiledProperties.set(key, child);
  return child;
}

export function additionalNode(node: CompiledNode): CompiledNode | undefined {
  if (!node.compiledAdditional && node.additionalSchema) {
    node.compiledAdditional = compileSchema(node.additionalSchema, node.definitions);
  }
  return node.compiledAdditional;
}

export function itemsNode(node: CompiledNode): CompiledNode | undefined {
  if (!node.compiledItems && node.itemsSchema) node.compiledItems = compileSchema(node.itemsSchema, node.definitions);
  return node.compiledItems;
}

/** `{ $ref }` or `{ description, allOf: [{ $ref }] }` (upstream's wrapping): the ref, if that is all there is. */
function soleReference(schema: JSONSchema): string | undefined {
  if (STRUCTURAL_KEYWORDS.some((keyword) => schema[keyword] !== undefined)) return undefined;
  if (schema.$ref && !schema.allOf) return schema.$ref;
  if (!schema.$ref && schema.allOf?.length === 1 && schema.allOf[0].$ref && soleReference(schema.allOf[0])) {
    return schema.allOf[0].$ref;
  }
  return undefined;
}

function resolveReference(ref: string, definitions: Record<string, JSONSchema>): JSONSchema {
  const name = refTarget(ref);
  if (!Object.hasOwn(definitions, name)) throw new Error(`schema reference ${ref} names no known definition`);
  return definitions[name];
}

/** The schema itself and everything it pulls in through $ref and allOf, depth first. */
function flattenParts(schema: JSONSchema, definitions: Record<string, JSONSchema>, seen = new Set<JSONSchema>()): JSONSchema[] {
  if (seen.has(schema)) return [];
  seen.add(schema);
  const parts = [schema];
  if (schema.$ref) parts.push(...flattenParts(resolveReference(schema.$ref, definitions), definitions, seen));
  for (const member of schema.allOf ?? []) parts.push(...flattenParts(member, definitions, seen));
  return parts;
}

/** Types named by `oneOf`/`anyOf` members that say nothing but a type (Quantity, int-or-string). */
function junctorTypes(members: JSONSchema[] | undefined): number {
  if (!members) return 0;
  let bits = 0;
  for (const member of members) {
    if (!member.type || Object.keys(member).length !== 1) return 0;
    bits |= TYPE_BITS[member.type] ?? 0;
  }
  return bits;
}

function typeNameOf(bits: number): string {
  const names = Object.entries(TYPE_BITS)
    .filter(([, bit]) => bits & bit)
    .map(([name]) => name);
  // Integer is a kind of number: name only the wider one when both are allowed.
  const shown = bits & TYPE_NUMBER ? names.filter((name) => name !== 'integer') : names;
  return shown.join(' or ');
}

function buildNode(schema: JSONSchema, definitions: Record<string, JSONSchema>): CompiledNode {
  const node: CompiledNode = {
    types: 0,
    typeName: '',
    isQuantity: false,
    nullable: false,
    preserveUnknown: false,
    prunesUnknown: false,
    required: [],
    propertySchemas: new Map(),
    additionalAllowed: false,
    compiledProperties: new Map(),
    definitions,
  };
  let declaredType = 0;
  let unionTypes = 0;
  const required = new Set<string>();
  const quantity = definitions[QUANTITY_DEFINITION];
  for (const part of flattenParts(schema, definitions)) {
    // Quantity strings have a grammar of their own, which no schema keyword expresses.
    if (part === quantity) node.isQuantity = true;
    if (part.type && !declaredType) declaredType = TYPE_BITS[part.type] ?? 0;
    if (part['x-kubernetes-int-or-string']) unionTypes |= TYPE_INTEGER | TYPE_STRING;
    unionTypes |= junctorTypes(part.oneOf) | junctorTypes(part.anyOf);
    if (part.format && node.format === undefined) node.format = part.format;
    if (part.nullable) node.nullable = true;
    if (part['x-kubernetes-preserve-unknown-fields']) node.preserveUnknown = true;
    if (part.enum && !node.enumValues) node.enumValues = part.enum;
    for (const name of part.required ?? []) required.add(name);
    for (const [name, propertySchema] of Object.entries(part.properties ?? {})) {
      const existing = node.propertySchemas.get(name);
      if (existing) existing.push(propertySchema);
      else node.propertySchemas.set(name, [propertySchema]);
    }
    if (part.additionalProperties !== undefined && !node.additionalSchema && !node.additionalAllowed) {
      if (typeof part.additionalProperties === 'object') node.additionalSchema = part.additionalProperties;
      else node.additionalAllowed = part.additionalProperties;
    }
    if (part.items && !node.itemsSchema) node.itemsSchema = part.items;
  }
  // int-or-string and the Quantity oneOf stand in for `type`, and win over a `type` written beside them.
  node.types = unionTypes || declaredType;
  node.typeName = typeNameOf(node.types);
  node.required = [...required];
  const describesObject = declaredType === TYPE_OBJECT || node.propertySchemas.size > 0;
  node.prunesUnknown = describesObject && !node.preserveUnknown && !node.additionalAllowed && !node.additionalSchema;
  return node;
}
