// Whether a custom resource's `metadata` decodes into metav1.ObjectMeta, and if not, Go's encoding/json
// error for it: upstream's CR decoder round-trips metadata through ObjectMeta and fails the request with
// that error (a 400 "cannot be handled as"), e.g. `json: cannot unmarshal number into Go struct field
// ObjectMeta.labels of type string`. Like Go, the first wrongly typed value in document order is reported.

import { goQuote } from './go-values.js';

type GoType = 'string' | 'int64' | 'bool' | 'map[string]string' | '[]string' | 'v1.Time' | 'struct' | 'any';

interface StructField {
  type: GoType;
  /** For []struct fields: the element struct's Go name and fields. */
  element?: { name: string; fields: Record<string, GoType> };
}

const OWNER_REFERENCE: Record<string, GoType> = { apiVersion: 'string', kind: 'string', name: 'string', uid: 'string', controller: 'bool', blockOwnerDeletion: 'bool' };

const OBJECT_META: Record<string, StructField> = {
  name: { type: 'string' },
  generateName: { type: 'string' },
  namespace: { type: 'string' },
  selfLink: { type: 'string' },
  uid: { type: 'string' },
  resourceVersion: { type: 'string' },
  generation: { type: 'int64' },
  creationTimestamp: { type: 'v1.Time' },
  deletionTimestamp: { type: 'v1.Time' },
  deletionGracePeriodSeconds: { type: 'int64' },
  labels: { type: 'map[string]string' },
  annotations: { type: 'map[string]string' },
  ownerReferences: { type: 'struct', element: { name: 'OwnerReference', fields: OWNER_REFERENCE } },
  finalizers: { type: '[]string' },
  managedFields: { type: 'any' },
};

/** encoding/json's name for the JSON value in "cannot unmarshal X": `number 1.5` for a fraction into an int. */
function jsonKind(value: unknown, intoInteger = false): string {
  if (typeof value === 'number') return intoInteger && !Number.isInteger(value) ? `number ${value}` : 'number';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  return Array.isArray(value) ? 'array' : 'object';
}

function typeError(value: unknown, struct: string, field: string, goType: string, intoInteger = false): string {
  return `json: cannot unmarshal ${jsonKind(value, intoInteger)} into Go struct field ${struct}.${field} of type ${goType}`;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function checkScalar(value: unknown, type: GoType, struct: string, field: string): string | undefined {
  if (value === null) return undefined;
  switch (type) {
    case 'string':
      return typeof value === 'string' ? undefined : typeError(value, struct, field, 'string');
    case 'bool':
      return typeof value === 'boolean' ? undefined : typeError(value, struct, field, 'bool');
    case 'int64':
      return typeof value === 'number' && Number.isInteger(value) ? undefined : typeError(value, struct, field, 'int64', true);
    case 'v1.Time':
      // metav1.Time unmarshals a string itself: other JSON is a plain decode error, a bad string time.Parse's.
      if (typeof value !== 'string') return `json: cannot unmarshal ${jsonKind(value)} into Go value of type string`;
      return RFC3339.test(value) ? undefined : `parsing time ${goQuote(value)} as "2006-01-02T15:04:05Z07:00": cannot parse ${goQuote(value)} as "2006"`;
    default:
      return undefined;
  }
}

/**
 * Whether `metadata` holds only ObjectMeta fields that have no fields of their own (no ownerReferences):
 * such metadata, once it decodes, has no unknown field anywhere to find.
 */
export function onlyFlatObjectMetaFields(metadata: unknown): boolean {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) return false;
  for (const key in metadata) {
    const field = OBJECT_META[key];
    if (!field || field.type === 'struct') return false;
  }
  return true;
}

/** The decode error of `metadata`, or undefined when ObjectMeta accepts it (unknown fields are not errors). */
export function objectMetaDecodeError(metadata: unknown): string | undefined {
  if (metadata === null || metadata === undefined) return undefined;
  if (typeof metadata !== 'object' || Array.isArray(metadata)) return `json: cannot unmarshal ${jsonKind(metadata)} into Go value of type v1.ObjectMeta`;
  for (const [key, value] of Object.entries(metadata as Record<string, unknown>)) {
    const field = OBJECT_META[key];
    if (!field || value === null) continue;
    let error: string | undefined;
    switch (field.type) {
      case 'map[string]string':
        if (typeof value !== 'object' || Array.isArray(value)) error = typeError(value, 'ObjectMeta', key, 'map[string]string');
        else for (const item of Object.values(value as Record<string, unknown>)) error ??= checkScalar(item, 'string', 'ObjectMeta', key);
        break;
      case '[]string':
        if (!Array.isArray(value)) error = typeError(value, 'ObjectMeta', key, '[]string');
        else for (const item of value) error ??= checkScalar(item, 'string', 'ObjectMeta', key);
        break;
      case 'struct': {
        const element = field.element!;
        if (!Array.isArray(value)) {
          error = typeError(value, 'ObjectMeta', key, `[]v1.${element.name}`);
          break;
        }
        for (const item of value) {
          if (error) break;
          if (item === null) continue;
          if (typeof item !== 'object' || Array.isArray(item)) {
            error = typeError(item, 'ObjectMeta', key, `v1.${element.name}`);
            continue;
          }
          for (const [name, fieldValue] of Object.entries(item as Record<string, unknown>)) {
            const type = element.fields[name];
            if (type) error ??= checkScalar(fieldValue, type, element.name, `${key}.${name}`);
          }
        }
        break;
      }
      case 'any':
        break;
      default:
        error = checkScalar(value, field.type, 'ObjectMeta', key);
    }
    if (error) return error;
  }
  return undefined;
}
