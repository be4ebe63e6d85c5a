// The CEL type of a schema node (upstream's SchemaDeclType): objects with declared properties become
// object types with those fields, additionalProperties maps, items lists, int-or-string dyn, string
// formats date/date-time/duration/byte become timestamp/duration/bytes. Each type also carries the
// size bounds the cost estimator needs (maxLength/maxItems/maxProperties, or what fits in a request).

import type { JSONSchema } from '../../apiserver/schema/types.js';

/** Upstream's MaxRequestSizeBytes: the bound for anything the schema leaves unbounded. */
export const MAX_REQUEST_SIZE_BYTES = 3 * 1024 * 1024;

export type CelDecl =
  | { kind: 'object'; typeName: string; ctor: new () => object; fields: Map<string, { property: string; decl: CelDecl }>; minSize: number; maxElements: number }
  | { kind: 'map'; value: CelDecl; minSize: number; maxElements: number }
  | { kind: 'list'; item: CelDecl; minSize: number; maxElements: number }
  | { kind: 'string' | 'bytes' | 'timestamp' | 'duration' | 'dyn' | 'int' | 'double' | 'bool'; minSize: number; maxElements: number };

const RESERVED = new Set(['true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while']);

/**
 * Upstream's property-name escaping: reserved words become `__word__`, `__` `.` `-` `/` become
 * `__underscores__` `__dot__` `__dash__` `__slash__`; any other non-identifier character (or a leading
 * digit) makes the property invisible to CEL.
 */
export function escapePropertyName(name: string): string | undefined {
  if (name.length === 0 || /^[0-9]/.test(name)) return undefined;
  if (RESERVED.has(name)) return `__${name}__`;
  let ok = true;
  const escaped = name.replace(/__|[-./]|[^a-zA-Z0-9\-./_]/g, (match) => {
    switch (match) {
      case '__':
        return '__underscores__';
      case '.':
        return '__dot__';
      case '-':
        return '__dash__';
      case '/':
        return '__slash__';
      default:
        ok = false;
        return '';
    }
  });
  return ok ? escaped : undefined;
}

/** At the root of a resource (and of embedded resources) apiVersion, kind and metadata.name/generateName are visible. */
export function withTypeAndObjectMeta(schema: JSONSchema): JSONSchema {
  const string: JSONSchema = { type: 'string' };
  return {
    ...schema,
    properties: {
      ...(schema.properties ?? {}),
      apiVersion: string,
      kind: string,
      metadata: { type: 'object', properties: { name: string, generateName: string } },
    },
  };
}

const unboundedString = MAX_REQUEST_SIZE_BYTES - 2;

/** Builds CEL types for a schema tree; object types get unique names so one environment can hold them all. */
export class DeclBuilder {
  readonly objects: Extract<CelDecl, { kind: 'object' }>[] = [];
  private counter = 0;

  constructor(private readonly prefix: string) {}

  declFor(schema: JSONSchema | undefined, isResourceRoot: boolean): CelDecl | undefined {
    if (!schema) return undefined;
    if (schema['x-kubernetes-int-or-string']) {
      return { kind: 'dyn', minSize: 1, maxElements: schema.maxLength !== undefined ? Math.max(0, schema.maxLength) * 4 : unboundedString };
    }
    const effective = isResourceRoot ? withTypeAndObjectMeta(schema) : schema;
    switch (effective.type) {
      case 'array': {
        const item = this.declFor(effective.items, Boolean(effective.items?.['x-kubernetes-embedded-resource']));
        if (!item) return undefined;
        const maxElements = effective.maxItems !== undefined ? Math.max(0, effective.maxItems) : Math.floor((MAX_REQUEST_SIZE_BYTES - 2) / (item.minSize + 1));
        return { kind: 'list', item, minSize: 2, maxElements };
      }
      case 'object': {
        const additional = effective.additionalProperties;
        if (additional && typeof additional === 'object') {
          const value = this.declFor(additional, Boolean(additional['x-kubernetes-embedded-resource']));
          if (!value) return undefined;
          const maxElements = effective.maxProperties !== undefined ? Math.max(0, effective.maxProperties) : Math.floor((MAX_REQUEST_SIZE_BYTES - 2) / (value.minSize + 6));
          return { kind: 'map', value, minSize: 2, maxElements };
        }
        const required = new Set(effective.required ?? []);
        const fields = new Map<string, { property: string; decl: CelDecl }>();
        let minSize = 2;
        for (const [property, propertySchema] of Object.entries(effective.properties ?? {})) {
          const decl = this.declFor(propertySchema, Boolean(propertySchema['x-kubernetes-embedded-resource']));
          if (!decl) continue;
          const escaped = escapePropertyName(property);
          if (escaped) fields.set(escaped, { property, decl });
          if (required.has(property) && propertySchema.default === undefined) minSize += property.length + decl.minSize + 4;
        }
        const typeName = `${this.prefix}${this.counter++}`;
        // cel-js tells object types apart by constructor, so every type gets a class of its own.
        const ctor = { [typeName]: class {} }[typeName];
        const object = { kind: 'object' as const, typeName, ctor, fields, minSize, maxElements: fields.size };
        this.objects.push(object);
        return object;
      }
      case 'string': {
        switch (effective.format) {
          case 'byte':
            return { kind: 'bytes', minSize: 2, maxElements: effective.maxLength !== undefined ? Math.max(0, effective.maxLength) : unboundedString };
          case 'duration':
            return { kind: 'duration', minSize: 3, maxElements: 32 };
          case 'date':
            return { kind: 'timestamp', minSize: 12, maxElements: 12 };
          case 'date-time':
            return { kind: 'timestamp', minSize: 21, maxElements: 32 };
        }
        let maxElements = unboundedString;
        if (effective.maxLength !== undefined) maxElements = Math.max(0, effective.maxLength) * 4;
        else if (effective.enum?.length) maxElements = Math.max(...effective.enum.map((value) => (typeof value === 'string' ? value.length : 0)));
        return { kind: 'string', minSize: 2, maxElements };
      }
      case 'boolean':
        return { kind: 'bool', minSize: 4, maxElements: 0 };
      case 'number':
        return { kind: 'double', minSize: 1, maxElements: 0 };
      case 'integer':
        return { kind: 'int', minSize: 1, maxElements: 0 };
    }
    return undefined;
  }
}

/** The type as cel-js spells it in declarations. */
export function celTypeName(decl: CelDecl): string {
  switch (decl.kind) {
    case 'object':
      return decl.typeName;
    case 'map':
      return `map<string, ${celTypeName(decl.value)}>`;
    case 'list':
      return `list<${celTypeName(decl.item)}>`;
    case 'timestamp':
      return 'google.protobuf.Timestamp';
    case 'duration':
      return 'google.protobuf.Duration';
    default:
      return decl.kind;
  }
}

/** The field types of an object type, for registering it. */
export function objectFields(decl: Extract<CelDecl, { kind: 'object' }>): Record<string, string> {
  return Object.fromEntries([...decl.fields].map(([name, field]) => [name, celTypeName(field.decl)]));
}
