// Strategic merge patch (application/strategic-merge-patch+json) as kubectl sends it for built-in kinds:
// lists merge by their merge key where the schema says so, and the directives $patch, $retainKeys,
// $setElementOrder/<list> and $deleteFromPrimitiveList/<list> are honoured. Patch metadata comes from the
// schema (x-kubernetes-patch-strategy / x-kubernetes-patch-merge-key), whose single source is one table.

import { badRequest } from '../request/status.js';
import { isObject } from './object.js';

export interface PatchMeta {
  /** The schema node of a map field. */
  field(name: string): PatchMeta | undefined;
  /** The schema node of list items / map values. */
  items(): PatchMeta | undefined;
  strategy?: string;
  mergeKey?: string;
}

type Json = unknown;
type JsonMap = Record<string, unknown>;

const SET_ORDER = '$setElementOrder/';
const DELETE_FROM_PRIMITIVE = '$deleteFromPrimitiveList/';

export function strategicMerge(original: Json, patch: Json, meta: PatchMeta | undefined): Json {
  if (!isObject(patch)) throw badRequest('strategic merge patch: the patch must be a JSON object');
  return mergeMap(isObject(original) ? original : {}, patch, meta);
}

function mergeMap(original: JsonMap, patch: JsonMap, meta: PatchMeta | undefined): JsonMap | undefined {
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  if (directive === 'replace') {
    const { $patch: _directive, ...rest } = patch;
    return stripDirectives(rest) as JsonMap;
  }
  if (directive !== undefined && directive !== 'merge') throw badRequest(`strategic merge patch: unknown patch directive "${String(directive)}"`);

  const result: JsonMap = { ...original };
  const orders: [string, unknown[]][] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith(SET_ORDER)) {
      if (Array.isArray(value)) orders.push([key.slice(SET_ORDER.length), value]);
      continue;
    }
    if (key.startsWith(DELETE_FROM_PRIMITIVE)) {
      const field = key.slice(DELETE_FROM_PRIMITIVE.length);
      if (Array.isArray(result[field]) && Array.isArray(value)) {
        const remove = new Set(value.map((item) => JSON.stringify(item)));
        result[field] = (result[field] as unknown[]).filter((item) => !remove.has(JSON.stringify(item)));
      }
      continue;
    }
    if (value === null) {
      delete result[key];
      continue;
    }
    const fieldMeta = meta?.field(key);
    const current = result[key];
    if (isObject(value)) {
      if (isObject(current)) {
        const merged = mergeMap(current, value, fieldMeta);
        if (merged === undefined) delete result[key];
        else result[key] = merged;
      } else {
        const merged = mergeMap({}, value, fieldMeta);
        if (merged === undefined) delete result[key];
        else result[key] = merged;
      }
      continue;
    }
    if (Array.isArray(value)) {
      result[key] = mergeList(Array.isArray(current) ? current : [], value, fieldMeta);
      continue;
    }
    result[key] = value;
  }
  for (const [field, order] of orders) {
    if (Array.isArray(result[field])) result[field] = applyOrder(result[field] as unknown[], order, meta?.field(field)?.mergeKey);
  }
  const retain = patch.$retainKeys;
  if (Array.isArray(retain)) {
    const keep = new Set(retain.map(String));
    for (const key of Object.keys(result)) if (!keep.has(key)) delete result[key];
  }
  return result;
}

function mergeList(original: unknown[], patch: unknown[], meta: PatchMeta | undefined): unknown[] {
  const strategies = (meta?.strategy ?? '').split(',');
  const replaceDirective = patch.some((item) => isObject(item) && item.$patch === 'replace' && Object.keys(item).length === 1);
  if (replaceDirective) return patch.filter((item) => !(isObject(item) && item.$patch === 'replace')).map(stripDirectives);
  if (!strategies.includes('merge')) return patch.map(stripDirectives);
  const mergeKey = meta?.mergeKey;
  if (!mergeKey || patch.every((item) => !isObject(item))) {
    // Primitive list with strategy merge: a union keeping the original order.
    const seen = new Set(original.map((item) => JSON.stringify(item)));
    const result = [...original];
    for (const item of patch) {
      if (!seen.has(JSON.stringify(item))) {
        result.push(item);
        seen.add(JSON.stringify(item));
      }
    }
    return result;
  }
  const result = [...original];
  const itemMeta = meta?.items();
  for (const item of patch) {
    if (!isObject(item)) throw badRequest(`strategic merge patch: list items merged by "${mergeKey}" must be objects`);
    const keyValue = item[mergeKey];
    const index = result.findIndex((existing) => isObject(existing) && existing[mergeKey] === keyValue);
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
      continue;
    }
    if (index >= 0) {
      const merged = mergeMap(result[index] as JsonMap, item, itemMeta);
      if (merged === undefined) result.splice(index, 1);
      else result[index] = merged;
    } else {
      const merged = mergeMap({}, item, itemMeta);
      if (merged !== undefined) result.push(merged);
    }
  }
  return result;
}

function applyOrder(list: unknown[], order: unknown[], mergeKey: string | undefined): unknown[] {
  const identity = (item: unknown) => JSON.stringify(mergeKey && isObject(item) ? item[mergeKey] : item);
  const position = new Map<string, number>();
  order.forEach((entry, index) => position.set(identity(entry), index));
  const named = list.filter((item) => position.has(identity(item)));
  const unnamed = list.filter((item) => !position.has(identity(item)));
  named.sort((a, b) => position.get(identity(a))! - position.get(identity(b))!);
  return [...named, ...unnamed];
}

function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObject(value)) return value;
  const result: JsonMap = {};
  for (const [key, child] of Object.entries(value)) {
    if (key.startsWith('$')) continue;
    result[key] = stripDirectives(child);
  }
  return result;
}

/** RFC 7386 JSON merge patch. */
export function jsonMergePatch(original: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const result: JsonMap = isObject(original) ? { ...original } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = jsonMergePatch(result[key], value);
  }
  return result;
}
