// Structured-merge-diff's operations on JSON values with a schema: the field set a value sets, the
// comparison of two values and the removal of fields (merge.ts merges, validate.ts checks an applied
// configuration). `undefined` means absent; `null` is a value.

import { isObject } from '../object.js';
import { deepEqual } from './json-equal.js';
import type { Atom, ListAtom, MapAtom, TypeNode } from './schema-types.js';
import type { Path, PathElement } from './field-set.js';
import { fieldElement, FieldSet, keyElement, valueElement } from './field-set.js';

type Kind = 'map' | 'list' | 'scalar';

export function isScalar(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** upstream's deduceAtom + handleAtom: which facet of the type handles this value. */
export function kindOf(atom: Atom, value: unknown): Kind {
  if (value !== undefined && value !== null) {
    if (isScalar(value) && atom.scalar) return 'scalar';
    if (Array.isArray(value) && atom.list) return 'list';
    if (isObject(value) && atom.map) return 'map';
  }
  return atom.map ? 'map' : atom.scalar ? 'scalar' : 'list';
}

export function fieldType(map: MapAtom, name: string): TypeNode | undefined {
  return map.field(name) ?? map.element;
}

/** The path element of a list item (errors as upstream words them). */
export function listItemElement(list: ListAtom, item: unknown): PathElement {
  if (list.keys.length > 0) {
    if (item === null) throw new Error('associative list with keys may not have a null element');
    if (!isObject(item)) throw new Error('associative list with keys may not have non-map elements');
    const elementMap = list.element.atom().map;
    const key: [string, unknown][] = [];
    for (const name of list.keys) {
      if (item[name] !== undefined) key.push([name, item[name]]);
      else {
        const fallback = elementMap?.fieldDefault(name);
        if (fallback !== undefined) key.push([name, fallback]);
      }
    }
    if (key.length === 0) {
      throw new Error(`associative list with keys has an element that omits all key fields ${goQuotedList(list.keys)} (and doesn't have default values for any key fields)`);
    }
    return keyElement(key);
  }
  if (isObject(item)) throw new Error("associative list without keys has an element that's a map type");
  if (Array.isArray(item)) throw new Error('not supported: associative list with lists as elements');
  if (item === null) throw new Error("associative list without keys has an element that's an explicit null");
  return valueElement(item);
}

function goQuotedList(values: string[]): string {
  return `[${values.map((value) => JSON.stringify(value)).join(' ')}]`;
}

/** Path elements of a list's items; items that cannot be keyed are skipped (they were validated earlier). */
export function indexItems(list: ListAtom, items: unknown[]): { element: PathElement; item: unknown }[] {
  const result: { element: PathElement; item: unknown }[] = [];
  for (const item of items) {
    try {
      result.push({ element: listItemElement(list, item), item });
    } catch {
      // invalid items of a live object are left out of ownership, as upstream's walkers do
    }
  }
  return result;
}

// ---- field sets ------------------------------------------------------------------------------

export function toFieldSet(value: unknown, type: TypeNode): FieldSet {
  const set = new FieldSet();
  collect(value, type, [], set);
  return set;
}

function collect(value: unknown, type: TypeNode, path: Path, set: FieldSet): void {
  const atom = type.atom();
  switch (kindOf(atom, value)) {
    case 'scalar':
      set.insert(path);
      return;
    case 'list': {
      const list = atom.list!;
      if (list.atomic) {
        set.insert(path);
        return;
      }
      if (!Array.isArray(value)) return;
      const seen = new Map<string, number>();
      const items = indexItems(list, value);
      for (const { element } of items) seen.set(element.id, (seen.get(element.id) ?? 0) + 1);
      const emitted = new Set<string>();
      for (const { element, item } of items) {
        const childPath = [...path, element];
        if ((seen.get(element.id) ?? 0) > 1) {
          // Duplicated items are owned as a whole (upstream keeps them atomic).
          if (!emitted.has(element.id)) set.insert(childPath);
          emitted.add(element.id);
          continue;
        }
        collect(item, list.element, childPath, set);
        set.insert(childPath);
      }
      return;
    }
    case 'map': {
      const map = atom.map!;
      if (map.atomic) {
        set.insert(path);
        return;
      }
      if (!isObject(value)) return;
      for (const [key, child] of Object.entries(value)) {
        if (child === undefined) continue;
        const childType = fieldType(map, key);
        const childPath = [...path, fieldElement(key)];
        if (childType) collect(child, childType, childPath, set);
        if (child === null || (isObject(child) && Object.keys(child).length === 0) || !map.field(key)) set.insert(childPath);
      }
      return;
    }
  }
}

// ---- comparison ------------------------------------------------------------------------------

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

export function compare(lhs: unknown, rhs: unknown, type: TypeNode): Comparison {
  const result = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  compareAt(lhs, rhs, type, [], result);
  return result;
}

function compareAt(lhs: unknown, rhs: unknown, type: TypeNode, path: Path, result: Comparison): void {
  if (lhs === undefined && path.length > 0) return addedAt(rhs, type, path, result.added);
  const atom = type.atom();
  const kind = kindOf(atom, rhs !== undefined ? rhs : lhs);
  if (lhs !== undefined && rhs !== undefined && kindOf(atom, lhs) !== kind) {
    result.modified.insert(path);
    compareAt(undefined, rhs, type, path, result);
    return;
  }
  const leaf = () => {
    if (lhs === undefined) result.added.insert(path);
    else if (rhs === undefined) result.removed.insert(path);
    else if (!deepEqual(lhs, rhs)) result.modified.insert(path);
  };
  if (kind === 'scalar') return leaf();
  if (kind === 'list') {
    const list = atom.list!;
    const left = Array.isArray(lhs) ? lhs : [];
    const right = Array.isArray(rhs) ? rhs : [];
    if (list.atomic || (left.length === 0 && right.length === 0)) return leaf();
    const lValues = new Map<string, { element: PathElement; values: unknown[] }>();
    const rValues = new Map<string, { element: PathElement; values: unknown[] }>();
    const order: PathElement[] = [];
    for (const { element, item } of indexItems(list, left)) {
      const entry = lValues.get(element.id);
      if (entry) entry.values.push(item);
      else {
        lValues.set(element.id, { element, values: [item] });
        order.push(element);
      }
    }
    for (const { element, item } of indexItems(list, right)) {
      const entry = rValues.get(element.id);
      if (entry) entry.values.push(item);
      else {
        rValues.set(element.id, { element, values: [item] });
        if (!lValues.has(element.id)) order.push(element);
      }
    }
    for (const element of order) {
      const l = lValues.get(element.id)?.values ?? [];
      const r = rValues.get(element.id)?.values ?? [];
      const childPath = [...path, element];
      if (l.length <= 1 && r.length <= 1) compareAt(l[0], r[0], list.element, childPath, result);
      else if (l.length >= 2 && r.length >= 2) {
        if (!deepEqual(l, r)) result.modified.insert(childPath);
      } else if (l.length >= 2) {
        if (r.length) compareAt(undefined, r[0], list.element, childPath, result);
        result.removed.insert(childPath);
      } else {
        if (l.length) compareAt(l[0], undefined, list.element, childPath, result);
        result.added.insert(childPath);
      }
    }
  } else {
    const map = atom.map!;
    const left = isObject(lhs) ? lhs : {};
    const right = isObject(rhs) ? rhs : {};
    if (map.atomic || (Object.keys(left).length === 0 && Object.keys(right).length === 0)) return leaf();
    for (const key of new Set([...Object.keys(left), ...Object.keys(right)])) {
      const childType = fieldType(map, key);
      if (!childType) continue;
      compareAt(left[key], right[key], childType, [...path, fieldElement(key)], result);
    }
  }
  // A map or list that appears or disappears as a whole is itself added or removed.
  if (lhs === undefined) result.added.insert(path);
  else if (rhs === undefined) result.removed.insert(path);
}

/**
 * compareAt with nothing on the left, the whole of a create: everything at and below `path` is added. Walks
 * the set's nodes directly instead of copying a path per field, since every write pays for it.
 */
function addedAt(value: unknown, type: TypeNode, path: Path, added: FieldSet): void {
  let parent = added;
  for (let index = 0; index < path.length - 1; index++) parent = parent.descend(path[index]);
  addAll(value, type, parent, path[path.length - 1]);
}

/** Inserts `element` into `parent` as a member, with everything `value` sets below it. */
function addAll(value: unknown, type: TypeNode, parent: FieldSet, element: PathElement): void {
  const atom = type.atom();
  const kind = kindOf(atom, value);
  parent.members.set(element.id, element);
  if (kind === 'scalar') return;
  const below = new FieldSet();
  if (kind === 'list') {
    const list = atom.list!;
    if (list.atomic || !Array.isArray(value) || value.length === 0) return;
    const items = new Map<string, { element: PathElement; item: unknown; count: number }>();
    for (const { element: itemElement, item } of indexItems(list, value)) {
      const entry = items.get(itemElement.id);
      if (entry) entry.count++;
      else items.set(itemElement.id, { element: itemElement, item, count: 1 });
    }
    for (const entry of items.values()) {
      // Duplicated items are added as a whole, as compareAt does.
      if (entry.count > 1) below.members.set(entry.element.id, entry.element);
      else addAll(entry.item, list.element, below, entry.element);
    }
  } else {
    const map = atom.map!;
    if (map.atomic || !isObject(value)) return;
    for (const key in value) {
      const childType = fieldType(map, key);
      if (childType) addAll(value[key], childType, below, fieldElement(key));
    }
  }
  if (below.empty()) return;
  const existing = parent.children.get(element.id);
  parent.children.set(element.id, { element, set: existing ? existing.set.union(below) : below });
}

// ---- removal ---------------------------------------------------------------------------------

/** Removes the paths of `toRemove` from `value`; maps and lists emptied by it disappear (upstream nulls them). */
export function removeItems(value: unknown, toRemove: FieldSet, type: TypeNode): unknown {
  const atom = type.atom();
  const kind = kindOf(atom, value);
  if (kind === 'scalar') return value;
  if (kind === 'list') {
    const list = atom.list!;
    if (!Array.isArray(value) || value.length === 0 || list.atomic) return value;
    const out: unknown[] = [];
    for (const item of value) {
      let element: PathElement;
      try {
        element = listItemElement(list, item);
      } catch {
        out.push(item);
        continue;
      }
      if (toRemove.has([element])) continue;
      const below = toRemove.withPrefix(element);
      out.push(below.empty() ? item : removeItems(item, below, list.element));
    }
    return out.length > 0 ? out : undefined;
  }
  const map = atom.map!;
  if (!isObject(value) || Object.keys(value).length === 0 || map.atomic) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const element = fieldElement(key);
    if (toRemove.has([element])) continue;
    const below = toRemove.withPrefix(element);
    const childType = fieldType(map, key);
    const kept = below.empty() || !childType ? child : removeItems(child, below, childType);
    if (kept !== undefined) out[key] = kept;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Adds to a set the declared struct fields that lead to its members (upstream's EnsureNamedFieldsAreMembers). */
export function ensureNamedFieldsAreMembers(set: FieldSet, type: TypeNode | undefined): FieldSet {
  const result = new FieldSet();
  const atom = type?.atom();
  for (const [id, element] of set.members) result.members.set(id, element);
  for (const [id, child] of set.children) {
    let childType: TypeNode | undefined;
    if (child.element.type === 'f' && atom?.map) {
      const declared = atom.map.field(child.element.name);
      if (declared) result.members.set(id, child.element);
      childType = declared ?? atom.map.element;
    } else if (child.element.type === 'k' && atom?.list) {
      childType = atom.list.element;
    }
    result.children.set(id, { element: child.element, set: ensureNamedFieldsAreMembers(child.set, childType) });
  }
  return result;
}

