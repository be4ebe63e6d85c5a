// Structural validation of a decoded object against an OpenAPI schema, as every write goes through it:
// JSON types (with upstream's wording), required fields, formats the Go decoder would reject, and
// pruning of fields the schema does not know. Unknown fields are removed in place and reported by path;
// the caller turns them into a 400 (fieldValidation=Strict), Warning headers (Warn) or nothing (Ignore).
//
// Paths follow field.Path: `spec.containers[0].name` for list items, `data[key]` for map values (the key
// in brackets, so that keys with dots stay readable), `spec.bogus` for unknown fields.
import type { FieldError } from '../request/status.js';
import {
  additionalNode,
  compileSchema,
  itemsNode,
  propertyNode,
  TYPE_ARRAY,
  TYPE_BOOLEAN,
  TYPE_INTEGER,
  TYPE_NUMBER,
  TYPE_OBJECT,
  TYPE_STRING,
  type CompiledNode,
} from './compile.js';
import type { JSONSchema } from './types.js';

export interface StructuralResult {
  errors: FieldError[];
  unknownFields: string[];
  /** Never set here: duplicates are gone once JSON.parse has run, so only the decoder can see them. */
  duplicateFields?: string[];
}

export interface StructuralOptions {
  /**
   * Subtrees left alone: neither validated nor pruned, e.g. `status` when a strategy resets it anyway.
   * Written as paths are reported; `[*]` matches any list index or map key (`spec.containers[*].env`).
   */
  ignorePaths?: string[];
}

export function validateStructure(
  object: unknown,
  schema: JSONSchema,
  definitions: Record<string, JSONSchema>,
  options: StructuralOptions = {},
): StructuralResult {
  const walker = new StructureWalker(options.ignorePaths);
  walker.visit(object, compileSchema(schema, definitions), '', '');
  return { errors: walker.errors, unknownFields: walker.unknownFields };
}

const gvkIndexes = new WeakMap<Record<string, JSONSchema>, Map<string, string>>();

/** The definition whose x-kubernetes-group-version-kind names this kind, e.g. `io.k8s.api.apps.v1.Deployment`. */
export function findSchemaForGVK(
  definitions: Record<string, JSONSchema>,
  group: string,
  version: string,
  kind: string,
): string | undefined {
  let index = gvkIndexes.get(definitions);
  if (!index) {
    index = new Map();
    for (const name of Object.keys(definitions).sort()) {
      for (const gvk of definitions[name]['x-kubernetes-group-version-kind'] ?? []) {
        const key = `${gvk.group}/${gvk.version}/${gvk.kind}`;
        if (!index.has(key)) index.set(key, name);
      }
    }
    gvkIndexes.set(definitions, index);
  }
  return index.get(`${group}/${version}/${kind}`);
}

// Upstream's own expression (resource.ParseQuantity), quoted in its error message.
const QUANTITY_PATTERN = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
const QUANTITY = new RegExp(QUANTITY_PATTERN);
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

function typeBitOf(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return TYPE_STRING;
    case 'number':
      return Number.isInteger(value) ? TYPE_INTEGER : TYPE_NUMBER;
    case 'boolean':
      return TYPE_BOOLEAN;
    case 'object':
      return value === null ? 0 : Array.isArray(value) ? TYPE_ARRAY : TYPE_OBJECT;
    default:
      return 0;
  }
}

/** The value's type as kube-openapi names it in "must be of type X: \"<actual>\"". */
function typeNameOfValue(value: unknown): string {
  switch (typeBitOf(value)) {
    case TYPE_STRING:
      return 'string';
    case TYPE_INTEGER:
      return 'integer';
    case TYPE_NUMBER:
      return 'number';
    case TYPE_BOOLEAN:
      return 'boolean';
    case TYPE_ARRAY:
      return 'array';
    case TYPE_OBJECT:
      return 'object';
    default:
      return value === null ? 'null' : typeof value;
  }
}

function inBody(path: string): string {
  return path ? `${path} in body` : 'body';
}

class StructureWalker {
  readonly errors: FieldError[] = [];
  readonly unknownFields: string[] = [];
  private readonly ignored?: Set<string>;

  constructor(ignorePaths: string[] | undefined) {
    if (ignorePaths && ignorePaths.length > 0) this.ignored = new Set(ignorePaths);
  }

  /** `pattern` is the path with `[*]` for every index and key; only tracked when something is ignored. */
  visit(value: unknown, node: CompiledNode, path: string, pattern: string): void {
    const actual = typeBitOf(value);
    if (node.types !== 0 && !(node.types & actual) && !(actual === TYPE_INTEGER && node.types & TYPE_NUMBER)) {
      this.typeMismatch(value, node, path);
      return;
    }
    if (node.enumValues && actual !== TYPE_OBJECT && actual !== TYPE_ARRAY && !node.enumValues.includes(value)) {
      this.errors.push({
        field: path,
        type: 'FieldValueNotSupported',
        value,
        supported: node.enumValues.map((allowed) => (typeof allowed === 'string' ? allowed : JSON.stringify(allowed))),
      });
      return;
    }
    switch (actual) {
      case TYPE_OBJECT:
        this.visitObject(value as Record<string, unknown>, node, path, pattern);
        break;
      case TYPE_ARRAY:
        this.visitArray(value as unknown[], node, path, pattern);
        break;
      case TYPE_STRING:
        this.checkString(value as string, node, path);
        break;
      case TYPE_INTEGER:
        if (node.format === 'int32' && ((value as number) < INT32_MIN || (value as number) > INT32_MAX)) {
          const bound = (value as number) < INT32_MIN ? `greater than or equal to ${INT32_MIN}` : `less than or equal to ${INT32_MAX}`;
          this.errors.push({ field: path, type: 'FieldValueInvalid', value, detail: `${inBody(path)} should be ${bound}` });
        }
        break;
    }
  }

  private visitObject(object: Record<string, unknown>, node: CompiledNode, path: string, pattern: string): void {
    const hasProperties = node.propertySchemas.size > 0;
    if (node.preserveUnknown && !hasProperties && !node.additionalSchema) return;
    const additional = additionalNode(node);
    for (const key in object) {
      const child = object[key];
      const property = hasProperties ? propertyNode(node, key) : undefined;
      const isMapValue = !property && additional !== undefined;
      const childPath = isMapValue ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      const childPattern = this.ignored ? (isMapValue ? `${pattern}[*]` : pattern ? `${pattern}.${key}` : key) : '';
      if (this.ignored && (this.ignored.has(childPath) || this.ignored.has(childPattern))) continue;
      if (property) {
        // Go decodes null into an absent field; dropping it here keeps the stored object the same.
        if (child === null && !property.nullable) delete object[key];
        else if (child !== undefined && child !== null) this.visit(child, property, childPath, childPattern);
      } else if (additional) {
        if (child !== null || !additional.nullable) this.visit(child, additional, childPath, childPattern);
      } else if (node.prunesUnknown) {
        this.unknownFields.push(childPath);
        delete object[key];
      }
    }
    for (const name of node.required) {
      if (object[name] !== undefined) continue;
      const childPath = path ? `${path}.${name}` : name;
      if (this.ignored && (this.ignored.has(childPath) || this.ignored.has(pattern ? `${pattern}.${name}` : name))) continue;
      this.errors.push({ field: childPath, type: 'FieldValueRequired' });
    }
  }

  private visitArray(array: unknown[], node: CompiledNode, path: string, pattern: string): void {
    const items = itemsNode(node);
    if (!items) return;
    const childPattern = this.ignored ? `${pattern}[*]` : '';
    for (let index = 0; index < array.length; index++) {
      const childPath = `${path}[${index}]`;
      if (this.ignored && (this.ignored.has(childPath) || this.ignored.has(childPattern))) continue;
      const item = array[index];
      if (item === null && items.nullable) continue;
      this.visit(item, items, childPath, childPattern);
    }
  }

  private checkString(value: string, node: CompiledNode, path: string): void {
    if (node.isQuantity) {
      if (!QUANTITY.test(value)) {
        this.errors.push({
          field: path,
          type: 'FieldValueInvalid',
          value,
          detail: `quantities must match the regular expression '${QUANTITY_PATTERN}'`,
        });
      }
      return;
    }
    const malformed =
      (node.format === 'date-time' && !DATE_TIME.test(value)) || (node.format === 'byte' && !BASE64.test(value));
    if (malformed) {
      this.errors.push({
        field: path,
        type: 'FieldValueTypeInvalid',
        value,
        detail: `${inBody(path)} must be of type ${node.format}: ${JSON.stringify(value)}`,
      });
    }
  }

  private typeMismatch(value: unknown, node: CompiledNode, path: string): void {
    const actual = typeNameOfValue(value);
    this.errors.push({
      field: path,
      type: 'FieldValueTypeInvalid',
      value: actual,
      detail: `${inBody(path)} must be of type ${node.typeName}: ${JSON.stringify(actual)}`,
    });
  }
}
