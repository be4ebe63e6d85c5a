// One swagger 2.0 document for the whole server, derived from the per-group-version OpenAPI v3 documents.
// Only kubectl up to 1.27 needs it: it parses every definition into its client-side models
// (kube-openapi pkg/util/proto) before `create`/`apply`/`replace` with validation, and its fieldValidation
// check walks the PATCH operations here. Those models are strict, so the conversion keeps every schema
// inside what they accept: `$ref` only to existing definitions and with no type or properties beside it,
// arrays always with one items schema, a single known type, no v3-only keywords.

import { refTarget } from '../schema/types.js';

type Json = Record<string, unknown>;

const DEFINITIONS_REF = '#/definitions/';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;
const PRIMITIVE_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object']);
// Keywords a swagger 2.0 schema may carry besides the vendor extensions (gnostic rejects any other key).
const PASSTHROUGH_SCHEMA_KEYS = [
  'format', 'title', 'description', 'default', 'multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum',
  'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'maxProperties', 'minProperties', 'enum',
  'readOnly', 'xml', 'externalDocs', 'example',
];
// What a $ref may keep beside it: kubectl's models reject a type or properties next to a reference.
const REFERENCE_SIBLING_KEYS = new Set(['$ref', 'description', 'default', 'title', 'readOnly', 'example']);
// Non-body parameters are flat in v2: these come up out of the v3 parameter's `schema`.
const PARAMETER_SCHEMA_KEYS = [
  'type', 'format', 'default', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength',
  'pattern', 'maxItems', 'minItems', 'uniqueItems', 'enum', 'multipleOf',
];

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const isExtension = (key: string): boolean => key.startsWith('x-');

export function openApiV2FromV3(documents: Record<string, unknown>[]): Record<string, unknown> {
  const rawDefinitions = mergeDefinitions(documents);
  const known = new Set(Object.keys(rawDefinitions));
  const convert = new SchemaConverter(known);

  const definitions: Json = {};
  for (const [name, schema] of Object.entries(rawDefinitions)) definitions[name] = openKind(schema) ?? convert.schema(schema);

  const parameters: Json = {};
  const paths: Json = {};
  for (const document of documents) {
    const components = isObject(document.components) ? document.components : {};
    for (const [name, parameter] of Object.entries(isObject(components.parameters) ? components.parameters : {})) {
      parameters[name] ??= convertParameter(parameter, convert);
    }
    for (const [path, item] of Object.entries(isObject(document.paths) ? document.paths : {})) {
      if (isObject(item)) paths[path] ??= convertPathItem(item, convert);
    }
  }

  const firstInfo = documents.map((document) => document.info).find(isObject) ?? {};
  const document: Json = {
    swagger: '2.0',
    info: { title: typeof firstInfo.title === 'string' ? firstInfo.title : 'Kubernetes', version: typeof firstInfo.version === 'string' ? firstInfo.version : 'unversioned' },
    paths: sortDeep(paths),
    definitions: sortDeep(definitions),
  };
  if (Object.keys(parameters).length) document.parameters = sortDeep(parameters);
  // kube-apiserver advertises bearer tokens this way; clients that generate code from the document read it.
  document.securityDefinitions = { BearerToken: { description: 'Bearer Token authentication', in: 'header', name: 'authorization', type: 'apiKey' } };
  document.security = [{ BearerToken: [] }];
  return document;
}

/**
 * Every document carries its own copy of the shared definitions (meta.k8s.io ones above all). They are the
 * same schema, except that kinds served in several groups (DeleteOptions, WatchEvent) list each group's
 * GVK only in that group's document: upstream's single document lists them all.
 */
function mergeDefinitions(documents: Json[]): Record<string, Json> {
  const merged: Record<string, Json> = {};
  for (const document of documents) {
    const components = isObject(document.components) ? document.components : {};
    for (const [name, schema] of Object.entries(isObject(components.schemas) ? components.schemas : {})) {
      if (!isObject(schema)) continue;
      const existing = merged[name];
      if (!existing) {
        merged[name] = schema;
        continue;
      }
      const kinds = [existing['x-kubernetes-group-version-kind'], schema['x-kubernetes-group-version-kind']];
      if (!kinds.every(Array.isArray)) continue;
      const union = new Map<string, unknown>();
      for (const gvk of (kinds as unknown[][]).flat()) union.set(JSON.stringify(sortDeep(gvk)), gvk);
      merged[name] = { ...existing, 'x-kubernetes-group-version-kind': [...union.values()] };
    }
  }
  return Object.fromEntries(Object.entries(merged).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * A kind whose whole object preserves unknown fields is published as a bare object (apiextensions' v2
 * builder): kubectl 1.27 would take any property listed, even apiVersion or metadata, as the only ones allowed.
 */
function openKind(schema: Json): Json | undefined {
  const kinds = schema['x-kubernetes-group-version-kind'];
  if (schema['x-kubernetes-preserve-unknown-fields'] !== true || !Array.isArray(kinds)) return undefined;
  return { type: 'object', 'x-kubernetes-group-version-kind': kinds };
}

class SchemaConverter {
  constructor(private readonly known: Set<string>) {}

  schema(input: unknown): Json {
    if (!isObject(input)) return {};
    const source: Json = { ...input };
    // Upstream's v2 has no allOf wrappers: a property that refers to a definition is a plain $ref.
    if (source.$ref === undefined && Array.isArray(source.allOf) && source.allOf.length === 1 && isObject(source.allOf[0]) && typeof source.allOf[0].$ref === 'string') {
      source.$ref = source.allOf[0].$ref;
      delete source.allOf;
    }
    if (typeof source.$ref === 'string') {
      const target = refTarget(source.$ref);
      // A reference kubectl cannot resolve would make it reject the whole document; an untyped value is harmless.
      if (this.known.has(target)) return this.reference(source, target);
      delete source.$ref;
    }
    // v2 cannot say "T or null"; kubectl would refuse the null, so the value goes untyped (as upstream's CRD conversion does).
    if (source.nullable === true) {
      delete source.type;
      delete source.items;
      delete source.properties;
    }
    // kubectl treats declared properties or items as closed; unknown fields must stay possible.
    if (source['x-kubernetes-preserve-unknown-fields'] === true) {
      delete source.items;
      delete source.properties;
    }

    const output: Json = {};
    for (const key of PASSTHROUGH_SCHEMA_KEYS) if (source[key] !== undefined) output[key] = source[key];
    this.exclusiveBounds(source, output);
    if (typeof source.discriminator === 'string') output.discriminator = source.discriminator;

    const type = singleType(source.type);
    if (type !== undefined) output.type = type;
    if (isObject(source.items)) output.items = this.schema(source.items);
    else if (Array.isArray(source.items)) output.items = source.items.map((item) => this.schema(item));
    // kubectl's models need exactly one items schema for an array.
    if (output.type === 'array' && !isObject(output.items)) {
      delete output.type;
      delete output.items;
    }

    let nullableValues = false;
    if (isObject(source.properties)) {
      const properties: Json = {};
      for (const [name, property] of Object.entries(source.properties)) properties[name] = this.schema(property);
      output.properties = properties;
    }
    if (typeof source.additionalProperties === 'boolean') output.additionalProperties = source.additionalProperties;
    else if (isObject(source.additionalProperties)) {
      output.additionalProperties = this.schema(source.additionalProperties);
      nullableValues = source.additionalProperties.nullable === true;
    }
    if (Array.isArray(source.required) && !nullableValues) {
      // A nullable field may be sent as null, which v2 can only express by not requiring it.
      const properties = isObject(source.properties) ? source.properties : {};
      const required = source.required.filter((name) => typeof name === 'string' && !(isObject(properties[name]) && properties[name].nullable === true));
      if (required.length) output.required = required;
    }
    for (const [key, value] of Object.entries(source)) if (isExtension(key)) output[key] = value;
    return output;
  }

  private reference(source: Json, target: string): Json {
    const output: Json = {};
    for (const [key, value] of Object.entries(source)) {
      if (REFERENCE_SIBLING_KEYS.has(key) || isExtension(key)) output[key] = value;
    }
    output.$ref = DEFINITIONS_REF + target;
    return output;
  }

  /** OpenAPI 3.1 writes exclusive bounds as numbers; v2 (like 3.0) as flags qualifying minimum/maximum. */
  private exclusiveBounds(source: Json, output: Json): void {
    if (typeof source.exclusiveMinimum === 'number') {
      output.minimum = source.exclusiveMinimum;
      output.exclusiveMinimum = true;
    }
    if (typeof source.exclusiveMaximum === 'number') {
      output.maximum = source.exclusiveMaximum;
      output.exclusiveMaximum = true;
    }
  }
}

function singleType(type: unknown): string | undefined {
  const types = (Array.isArray(type) ? type : [type]).filter((candidate): candidate is string => typeof candidate === 'string' && candidate !== 'null');
  return types.length === 1 && PRIMITIVE_TYPES.has(types[0]) ? types[0] : undefined;
}

function convertPathItem(item: Json, convert: SchemaConverter): Json {
  const output: Json = {};
  for (const method of HTTP_METHODS) {
    if (isObject(item[method])) output[method] = convertOperation(item[method], convert);
  }
  if (Array.isArray(item.parameters)) output.parameters = item.parameters.map((parameter) => convertParameter(parameter, convert));
  for (const [key, value] of Object.entries(item)) if (isExtension(key)) output[key] = value;
  return output;
}

function convertOperation(operation: Json, convert: SchemaConverter): Json {
  const output: Json = {};
  for (const key of ['tags', 'summary', 'description', 'externalDocs', 'operationId', 'deprecated', 'security']) {
    if (operation[key] !== undefined) output[key] = operation[key];
  }
  const parameters: Json[] = [];
  const body = isObject(operation.requestBody) ? operation.requestBody : undefined;
  if (body) {
    const content = isObject(body.content) ? body.content : {};
    output.consumes = Object.keys(content);
    const bodyParameter: Json = { name: 'body', in: 'body', schema: convert.schema(firstSchema(content)) };
    if (typeof body.description === 'string') bodyParameter.description = body.description;
    if (body.required === true) bodyParameter.required = true;
    parameters.push(bodyParameter);
  }
  if (Array.isArray(operation.parameters)) parameters.push(...operation.parameters.map((parameter) => convertParameter(parameter, convert)));
  if (parameters.length) output.parameters = parameters;

  const produces = new Set<string>();
  const responses: Json = {};
  for (const [code, response] of Object.entries(isObject(operation.responses) ? operation.responses : {})) {
    if (!isObject(response)) continue;
    if (typeof response.$ref === 'string') {
      responses[code] = { $ref: `#/responses/${refTarget(response.$ref)}` };
      continue;
    }
    const converted: Json = { description: typeof response.description === 'string' ? response.description : '' };
    const content = isObject(response.content) ? response.content : undefined;
    if (content && Object.keys(content).length) {
      for (const type of Object.keys(content)) produces.add(type);
      converted.schema = convert.schema(firstSchema(content));
    }
    responses[code] = converted;
  }
  if (produces.size) output.produces = [...produces];
  output.responses = responses;
  output.schemes = ['https'];
  for (const [key, value] of Object.entries(operation)) if (isExtension(key)) output[key] = value;
  return output;
}

function firstSchema(content: Json): unknown {
  const first = Object.values(content).find(isObject);
  return first?.schema;
}

function convertParameter(input: unknown, convert: SchemaConverter): Json {
  if (!isObject(input)) return {};
  if (typeof input.$ref === 'string') return { $ref: `#/parameters/${refTarget(input.$ref)}` };
  const location = typeof input.in === 'string' ? input.in : 'query';
  const output: Json = { name: input.name, in: location };
  if (typeof input.description === 'string') output.description = input.description;
  // Swagger 2.0 insists that a path parameter says it is required.
  if (input.required === true || location === 'path') output.required = true;
  const schema = isObject(input.schema) ? input.schema : {};
  if (location === 'body') {
    output.schema = convert.schema(schema);
    return output;
  }
  for (const key of PARAMETER_SCHEMA_KEYS) if (schema[key] !== undefined) output[key] = schema[key];
  // Non-body parameters are primitives (or arrays of them); anything else travels as a string.
  if (typeof output.type !== 'string' || output.type === 'object') output.type = 'string';
  if (output.type === 'array') output.items = primitiveItems(schema.items);
  if (location === 'query' && input.allowEmptyValue === true) output.allowEmptyValue = true;
  for (const [key, value] of Object.entries(input)) if (isExtension(key)) output[key] = value;
  return output;
}

function primitiveItems(items: unknown): Json {
  const source = isObject(items) ? items : {};
  const output: Json = {};
  for (const key of PARAMETER_SCHEMA_KEYS) if (source[key] !== undefined) output[key] = source[key];
  if (typeof output.type !== 'string' || output.type === 'object') output.type = 'string';
  if (output.type === 'array') output.items = primitiveItems(source.items);
  return output;
}

/** Key order like upstream's (Go marshals maps sorted), so equal documents serialize to equal bytes. */
function sortDeep<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortDeep) as T;
  if (!isObject(value)) return value;
  const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([key, item]) => [key, sortDeep(item)])) as T;
}
