// metadata.managedFields entries and the field sets they hold, as upstream's field manager keys them: one
// per manager identifier (the entry without fields and time, and without apiVersion for appliers), sorted
// for output by operation, time, manager, apiVersion and subresource.

import type { ManagedFieldsEntry } from '../object.js';
import { isObject } from '../object.js';
import { fieldElement, FieldSet, goJson } from './field-set.js';
import type { Managers } from './updater.js';

const MAX_UPDATE_MANAGERS = 10;

/** Paths no manager owns (upstream's stripMetaManager); removed as members only, not their children. */
export const STRIPPED = FieldSet.of(
  [fieldElement('apiVersion')],
  [fieldElement('kind')],
  [fieldElement('metadata')],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map((name) => [fieldElement('metadata'), fieldElement(name)]),
);

export interface Managed {
  managers: Managers;
  times: Map<string, string | undefined>;
}

/** upstream's BuildManagerIdentifier: the entry without fields and time (and without apiVersion for appliers). */
export function identifier(manager: string, operation: string, apiVersion: string, subresource: string): string {
  let id = `{"manager":${goJson(manager)},"operation":${goJson(operation)}`;
  if (operation !== 'Apply' && apiVersion) id += `,"apiVersion":${goJson(apiVersion)}`;
  if (subresource) id += `,"subresource":${goJson(subresource)}`;
  return `${id}}`;
}

export function parseIdentifier(id: string): { manager: string; operation: string; apiVersion?: string; subresource?: string } {
  return JSON.parse(id) as { manager: string; operation: string; apiVersion?: string; subresource?: string };
}

export function decode(entries: ManagedFieldsEntry[] | undefined): Managed {
  const managed: Managed = { managers: new Map(), times: new Map() };
  (entries ?? []).forEach((entry, index) => {
    if (!isObject(entry as unknown)) throw new Error(`managed fields entry ${index} is not an object`);
    if (entry.operation !== 'Apply' && entry.operation !== 'Update') throw new Error('operation must be `Apply` or `Update`');
    if (!entry.apiVersion) throw new Error('apiVersion must not be empty');
    if (!entry.fieldsType) throw new Error(`missing fieldsType in managed fields entry ${index}`);
    if (entry.fieldsType !== 'FieldsV1') throw new Error(`invalid fieldsType "${entry.fieldsType}" in managed fields entry ${index}`);
    const id = identifier(entry.manager ?? '', entry.operation, entry.apiVersion, entry.subresource ?? '');
    const set = entry.fieldsV1 === undefined || entry.fieldsV1 === null ? new FieldSet() : FieldSet.fromFields(entry.fieldsV1);
    managed.managers.set(id, { set, apiVersion: entry.apiVersion, applied: entry.operation === 'Apply' });
    managed.times.set(id, entry.time);
  });
  return managed;
}

function seconds(time: string | undefined): number {
  return time ? Math.floor(Date.parse(time) / 1000) : 0;
}

export function encode(managed: Managed): ManagedFieldsEntry[] | undefined {
  if (managed.managers.size === 0) return undefined;
  const entries: ManagedFieldsEntry[] = [];
  for (const [id, owned] of managed.managers) {
    const parsed = parseIdentifier(id);
    const entry: ManagedFieldsEntry = { manager: parsed.manager, operation: owned.applied ? 'Apply' : 'Update', apiVersion: owned.apiVersion };
    const time = managed.times.get(id);
    if (time) entry.time = time;
    entry.fieldsType = 'FieldsV1';
    entry.fieldsV1 = owned.set.toFields();
    if (parsed.subresource) entry.subresource = parsed.subresource;
    entries.push(entry);
  }
  const text = (value: string | undefined) => value ?? '';
  return entries.sort(
    (p, q) =>
      text(p.operation).localeCompare(text(q.operation), 'en') ||
      seconds(p.time) - seconds(q.time) ||
      (text(p.manager) < text(q.manager) ? -1 : text(p.manager) > text(q.manager) ? 1 : 0) ||
      (text(p.apiVersion) < text(q.apiVersion) ? -1 : text(p.apiVersion) > text(q.apiVersion) ? 1 : 0) ||
      (text(p.subresource) < text(q.subresource) ? -1 : text(p.subresource) > text(q.subresource) ? 1 : 0),
  );
}

/** upstream's isResetManagedFields: an empty list, or one empty entry, clears the field. */
export function isReset(entries: unknown): boolean {
  if (!Array.isArray(entries)) return false;
  if (entries.length === 0) return true;
  return entries.length === 1 && isObject(entries[0]) && Object.values(entries[0]).every((value) => value === undefined || value === '' || value === null);
}

export function strip(managed: Managed, id: string): void {
  const owned = managed.managers.get(id);
  if (!owned) return;
  const set = owned.set.difference(STRIPPED);
  if (set.empty()) managed.managers.delete(id);
  else managed.managers.set(id, { ...owned, set });
}

/** Folds the oldest Update owners into "ancient-changes" once there are more than ten. */
export function capUpdateManagers(managed: Managed): void {
  const updaters = [...managed.managers].filter(([, owned]) => !owned.applied).map(([id]) => id);
  if (updaters.length <= MAX_UPDATE_MANAGERS) return;
  updaters.sort((a, b) => seconds(managed.times.get(a)) - seconds(managed.times.get(b)) || (a < b ? -1 : a > b ? 1 : 0));
  const firstByVersion = new Map<string, string>();
  let length = updaters.length;
  for (let index = 0; index < updaters.length && length > MAX_UPDATE_MANAGERS; index++) {
    const id = updaters[index];
    const owned = managed.managers.get(id)!;
    const time = managed.times.get(id);
    const bucket = identifier('ancient-changes', 'Update', owned.apiVersion, '');
    const first = firstByVersion.get(owned.apiVersion);
    if (first === undefined) {
      firstByVersion.set(owned.apiVersion, id);
      continue;
    }
    if (!managed.managers.has(bucket)) {
      managed.managers.set(bucket, managed.managers.get(first)!);
      managed.managers.delete(first);
    }
    managed.managers.set(bucket, { ...owned, set: owned.set.union(managed.managers.get(bucket)!.set) });
    managed.managers.delete(id);
    managed.times.set(bucket, time);
    length--;
  }
}

