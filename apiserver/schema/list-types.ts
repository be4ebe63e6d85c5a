// The x-kubernetes-list-type invariants (apiextensions' listtype validation): items of a `set` are unique,
// keys of a `map` list are unique, and a `map` list holds objects. Duplicates are reported at the index of
// their second appearance as `Duplicate value: <the item or its key>`, the way upstream renders them.

import type { FieldError } from '../request/status.js';
import { RenderedValue } from '../request/status.js';
import { formatGoFloat, goSyntax, isGoInteger } from './go-values.js';
import type { SchemaNode } from './structural.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** field.Path rendering: `.name` for properties, `[key]` for map keys, `[i]` for items. */
export function validateListTypes(object: unknown, node: SchemaNode): FieldError[] {
  const errors: FieldError[] = [];
  if (isObject(object) && node.listTypesBelow) walkObject(object, node, '', errors);
  return errors;
}

function walkObject(object: Record<string, unknown>, node: SchemaNode, path: string, errors: FieldError[]): void {
  if (node.additionalProperties) {
    for (const key of Object.keys(object)) walk(object[key], node.additionalProperties, `${path}[${key}]`, errors);
  }
  if (node.properties) {
    for (const key of Object.keys(object)) {
      const property = node.properties.get(key);
      if (property) walk(object[key], property, path ? `${path}.${key}` : key, errors);
    }
  }
}

function walk(value: unknown, node: SchemaNode, path: string, errors: FieldError[]): void {
  if (!node.listTypesBelow) return;
  if (Array.isArray(value)) walkList(value, node, path, errors);
  else if (isObject(value)) walkObject(value, node, path, errors);
}

function walkList(list: unknown[], node: SchemaNode, path: string, errors: FieldError[]): void {
  if (node.listType === 'set') {
    for (const index of secondAppearances(list)) errors.push({ field: `${path}[${index}]`, type: 'FieldValueDuplicate', value: rendered(list[index]) });
  } else if (node.listType === 'map') {
    errors.push(...validateMapList(list, node, path));
  }
  if (node.items) list.forEach((item, index) => walk(item, node.items!, `${path}[${index}]`, errors));
}

const UNSPECIFIED = Symbol('unspecified key');

function validateMapList(list: unknown[], node: SchemaNode, path: string): FieldError[] {
  for (let index = 0; index < list.length; index++) {
    const item = list[index];
    if (item !== null && !isObject(item)) {
      return [{ field: `${path}[${index}]`, type: 'FieldValueInvalid', value: rendered(item), detail: 'must be an object for an array of list-type map' }];
    }
  }
  if (list.length <= 1) return [];
  const keys = node.listMapKeys;
  if (keys.length === 1) {
    const field = keys[0];
    const values = list.map((item) => (isObject(item) && Object.hasOwn(item, field) ? item[field] : UNSPECIFIED));
    return secondAppearances(values).map((index) => ({
      field: `${path}[${index}]`,
      type: 'FieldValueDuplicate' as const,
      value: rendered(values[index] === UNSPECIFIED ? {} : { [field]: values[index] }),
    }));
  }
  const composite = list.map((item) => {
    const key: Record<string, unknown> = {};
    if (isObject(item)) for (const field of keys) if (Object.hasOwn(item, field)) key[field] = item[field];
    return key;
  });
  return secondAppearances(composite).map((index) => ({ field: `${path}[${index}]`, type: 'FieldValueDuplicate' as const, value: rendered(composite[index]) }));
}

/** Indexes where an item is seen for the second time (later repeats are not reported again). */
function secondAppearances(items: unknown[]): number[] {
  const counts = new Map<string, number>();
  const result: number[] = [];
  items.forEach((item, index) => {
    const key = identity(item);
    const seen = counts.get(key) ?? 0;
    if (seen === 1) result.push(index);
    counts.set(key, seen + 1);
  });
  return result;
}

function identity(value: unknown): string {
  if (value === UNSPECIFIED) return 'unspecified';
  if (typeof value === 'object' && value !== null) return `json:${sortedJson(value)}`;
  return `${typeof value}:${String(value)}`;
}

function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (isObject(item) ? Object.fromEntries(Object.keys(item).sort().map((key) => [key, item[key]])) : item));
}

/** field.Duplicate renders with %v/%#v: strings quoted, numbers bare, maps as Go literals. */
function rendered(value: unknown): unknown {
  if (typeof value === 'number' && !isGoInteger(value)) return new RenderedValue(formatGoFloat(value));
  if (value === null) return new RenderedValue('null');
  if (typeof value === 'object') return new RenderedValue(goSyntax(value));
  return value;
}
