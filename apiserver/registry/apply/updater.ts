// structured-merge-diff's Updater: how an update or an apply changes the field sets of every manager.
// An update takes the changed fields away from everyone else and gives them to its manager; an apply
// merges the configuration, removes what the manager applied before and no longer applies (unless someone
// else owns it), and fails on fields other managers own with a different value unless forced.

import type { Path } from './field-set.js';
import { FieldSet } from './field-set.js';
import type { TypeNode } from './schema-types.js';
import { compare, ensureNamedFieldsAreMembers, removeItems, toFieldSet } from './typed.js';
import { merge } from './merge.js';
import { deepEqual } from './json-equal.js';

export interface ManagerSet {
  set: FieldSet;
  apiVersion: string;
  /** Owned through apply (operation Apply) rather than updates. */
  applied: boolean;
}

/** Manager identifier → its fields (the identifier is upstream's JSON-encoded manager entry). */
export type Managers = Map<string, ManagerSet>;

/** Drops fields no manager may own here (upstream's reset fields: status on the main resource, …). */
export type FieldFilter = (set: FieldSet) => FieldSet;

export interface Conflict {
  manager: string;
  path: Path;
}

export class ConflictsError extends Error {
  constructor(readonly conflicts: Conflict[]) {
    super(`${conflicts.length} apply conflicts`);
  }
}

function changes(live: unknown, next: unknown, type: TypeNode, filter: FieldFilter) {
  const comparison = compare(live, next, type);
  return { added: filter(comparison.added), modified: filter(comparison.modified), removed: filter(comparison.removed) };
}

/** Moves changed fields away from every manager but `workflow`; throws on conflicts unless `force`. */
function reassign(live: unknown, next: unknown, type: TypeNode, managers: Managers, workflow: string, force: boolean, filter: FieldFilter) {
  const changed = changes(live, next, type, filter);
  let others = false;
  for (const manager of managers.keys()) {
    if (manager === workflow) continue;
    others = true;
    break;
  }
  if (!others) return changed;
  const touched = changed.modified.union(changed.added);
  const conflicts: Conflict[] = [];
  const conflictSets = new Map<string, FieldSet>();
  for (const [manager, owned] of managers) {
    if (manager === workflow) continue;
    const overlap = owned.set.intersection(touched);
    if (!overlap.empty()) {
      conflictSets.set(manager, overlap);
      for (const path of overlap.paths()) conflicts.push({ manager, path });
    }
  }
  if (!force && conflicts.length > 0) throw new ConflictsError(conflicts);
  for (const [manager, owned] of managers) {
    if (manager === workflow) continue;
    let set = owned.set;
    const overlap = conflictSets.get(manager);
    if (overlap) set = set.difference(overlap);
    if (!changed.removed.empty()) set = set.difference(changed.removed);
    if (set.empty()) managers.delete(manager);
    else managers.set(manager, { ...owned, set });
  }
  return changed;
}

/** A non-apply write by `manager` from `live` to `next`. */
export function update(live: unknown, next: unknown, type: TypeNode, apiVersion: string, managers: Managers, manager: string, filter: FieldFilter): Managers {
  const changed = reassign(live, next, type, managers, manager, true, filter);
  const previous = managers.get(manager)?.set;
  const touched = changed.modified.empty() ? changed.added : changed.modified.union(changed.added);
  // The changes are filtered already; only what the manager owned before may hold filtered-out fields.
  const set = previous ? filter(previous.difference(changed.removed).union(touched)) : touched;
  if (set.empty()) managers.delete(manager);
  else managers.set(manager, { set, apiVersion, applied: false });
  return managers;
}

export interface ApplyResult {
  /** The merged object; undefined when applying changed nothing. */
  object: unknown;
  managers: Managers;
}

/** An apply of `config` by `manager` onto `live`. */
export function apply(live: unknown, config: unknown, type: TypeNode, apiVersion: string, managers: Managers, manager: string, force: boolean, filter: FieldFilter): ApplyResult {
  let next = merge(live, config, type);
  const last = managers.get(manager);
  managers.set(manager, { set: filter(toFieldSet(config, type)), apiVersion, applied: true });
  if (last && !last.set.empty()) next = prune(next, managers, last.set, type);
  reassign(live, next, type, managers, manager, force, filter);
  return { object: deepEqual(live, next) ? undefined : next, managers };
}

/** Removes what the manager applied last time and omits now, unless another manager still owns it. */
function prune(merged: unknown, managers: Managers, lastSet: FieldSet, type: TypeNode): unknown {
  const named = (set: FieldSet) => ensureNamedFieldsAreMembers(set, type);
  const orEmpty = (value: unknown) => value ?? {};
  let pruned = orEmpty(removeItems(merged, named(lastSet), type));
  let owned = new FieldSet();
  for (const { set } of managers.values()) owned = owned.union(set);
  const mergedSet = named(toFieldSet(merged, type));
  pruned = orEmpty(removeItems(merged, mergedSet.difference(named(toFieldSet(pruned, type)).union(named(owned))), type));
  // Items dropped only because their parent went away come back unless the manager applied them last time.
  const dangling = mergedSet.difference(named(toFieldSet(pruned, type))).intersection(named(lastSet));
  return orEmpty(removeItems(merged, dangling, type));
}
