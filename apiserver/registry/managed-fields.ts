// metadata.managedFields bookkeeping for non-apply writes (operation "Update"): the writing manager owns
// the fields it set or changed; other managers lose ownership of those fields. Field sets use the FieldsV1
// encoding (`f:<name>` for map fields, `.` for the element itself); lists are owned atomically here.

import type { KubeObject, ManagedFieldsEntry } from './object.js';
import { isObject, nowTimestamp } from './object.js';

type FieldSet = Record<string, unknown>;

const IGNORED_METADATA = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink', 'generateName']);

/** The set of leaf fields present in `value` (restricted to those differing from `old` when given). */
export function changedFieldSet(value: unknown, old: unknown, top = true): FieldSet | undefined {
  if (!isObject(value)) return deepEqual(value, old) ? undefined : {};
  const result: FieldSet = {};
  for (const [key, child] of Object.entries(value)) {
    if (top && (key === 'apiVersion' || key === 'kind')) continue;
    if (top && key === 'metadata' && isObject(child)) {
      const oldMeta = isObject(old) && isObject(old.metadata) ? old.metadata : undefined;
      const metaSet: FieldSet = {};
      for (const [metaKey, metaValue] of Object.entries(child)) {
        if (IGNORED_METADATA.has(metaKey)) continue;
        const sub = changedFieldSet(metaValue, oldMeta?.[metaKey], false);
        if (sub) metaSet[`f:${metaKey}`] = isObject(metaValue) ? { '.': {}, ...sub } : sub;
      }
      if (Object.keys(metaSet).length) result['f:metadata'] = metaSet;
      continue;
    }
    const oldChild = isObject(old) ? old[key] : undefined;
    const sub = changedFieldSet(child, oldChild, false);
    if (sub === undefined) continue;
    result[`f:${key}`] = isObject(child) && Object.keys(sub).length ? { '.': {}, ...sub } : sub;
  }
  return Object.keys(result).length || !isObject(old) ? result : undefined;
}

function mergeSets(a: FieldSet, b: FieldSet): FieldSet {
  const result: FieldSet = { ...a };
  for (const [key, value] of Object.entries(b)) {
    result[key] = isObject(result[key]) && isObject(value) ? mergeSets(result[key] as FieldSet, value) : value;
  }
  return result;
}

function subtractSets(a: FieldSet, b: FieldSet): FieldSet {
  const result: FieldSet = {};
  for (const [key, value] of Object.entries(a)) {
    if (!(key in b)) {
      result[key] = value;
      continue;
    }
    const other = b[key];
    if (isObject(value) && isObject(other) && Object.keys(other).length > 0) {
      const rest = subtractSets(value, other);
      if (Object.keys(rest).some((k) => k !== '.')) result[key] = rest;
    }
  }
  return result;
}

/** Records an Update by `manager` producing `object` from `old` (undefined on create). */
export function recordUpdate(object: KubeObject, old: KubeObject | undefined, manager: string, apiVersion: string, subresource?: string): void {
  const changed = changedFieldSet(object, old) ?? {};
  const previous: ManagedFieldsEntry[] = Array.isArray(old?.metadata.managedFields) ? old!.metadata.managedFields! : [];
  const entries: ManagedFieldsEntry[] = [];
  let mine: ManagedFieldsEntry | undefined;
  for (const entry of previous) {
    if (entry.manager === manager && entry.operation === 'Update' && (entry.subresource ?? '') === (subresource ?? '')) {
      mine = entry;
      continue;
    }
    const remaining = subtractSets((entry.fieldsV1 as FieldSet) ?? {}, changed);
    if (Object.keys(remaining).length > 0) entries.push({ ...entry, fieldsV1: remaining });
  }
  const owned = mergeSets((mine?.fieldsV1 as FieldSet) ?? {}, changed);
  if (Object.keys(owned).length > 0 || !mine) {
    const entry: ManagedFieldsEntry = { manager, operation: 'Update', apiVersion, time: nowTimestamp(), fieldsType: 'FieldsV1', fieldsV1: owned };
    if (subresource) entry.subresource = subresource;
    if (Object.keys(changed).length === 0 && mine) entry.time = mine.time;
    entries.push(entry);
  }
  object.metadata.managedFields = entries;
}

/** Upstream derives a missing fieldManager from the User-Agent's product token ("kubectl/v1.32 ..." → "kubectl"). */
export function managerFromUserAgent(userAgent: string | undefined): string {
  if (!userAgent) return 'unknown';
  const product = userAgent.split('/')[0].trim();
  return product.slice(0, 128) || 'unknown';
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let index = 0; index < a.length; index++) if (!deepEqual(a[index], b[index])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const aKeys = Object.keys(a as object);
  const bKeys = Object.keys(b as object);
  if (aKeys.length !== bKeys.length) return false;
  for (const key of aKeys) {
    if (!Object.prototype.hasOwnProperty.call(b, key)) return false;
    if (!deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}
