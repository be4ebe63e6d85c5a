// structured-merge-diff's merge of an applied configuration into a live object: the configuration wins at
// every leaf (scalars, atomic lists and maps), granular maps merge key by key, and associative lists merge
// item by item in an order that keeps the live order and places the applied items as the configuration
// orders them.

import { isObject } from '../object.js';
import type { ListAtom, TypeNode } from './schema-types.js';
import { fieldType, indexItems, kindOf } from './typed.js';

/** Merges `rhs` (an applied configuration) into `lhs` (the live object), as upstream's merge with keep-rhs. */
export function merge(lhs: unknown, rhs: unknown, type: TypeNode): unknown {
  if (rhs === undefined) return lhs;
  if (lhs === undefined) return rhs;
  const atom = type.atom();
  const kind = kindOf(atom, rhs);
  if (kindOf(atom, lhs) !== kind) return rhs;
  if (kind === 'scalar') return rhs;
  if (kind === 'list') {
    const list = atom.list!;
    const left = Array.isArray(lhs) ? lhs : [];
    const right = Array.isArray(rhs) ? rhs : [];
    if (list.atomic || (left.length === 0 && right.length === 0)) return rhs;
    return mergeLists(left, right, list);
  }
  const map = atom.map!;
  const left = isObject(lhs) ? lhs : {};
  const right = isObject(rhs) ? rhs : {};
  if (map.atomic || (Object.keys(left).length === 0 && Object.keys(right).length === 0)) return rhs;
  const out: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(left), ...Object.keys(right)])) {
    const childType = fieldType(map, key);
    const value = childType ? merge(left[key], right[key], childType) : right[key] !== undefined ? right[key] : left[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** upstream's list merge: the live order, with applied items placed where the applied order puts them. */
function mergeLists(left: unknown[], right: unknown[], list: ListAtom): unknown[] {
  const lhs = indexItems(list, left);
  const rhs = indexItems(list, right);
  const observedLeft = new Map<string, unknown>();
  for (const { element, item } of lhs) if (!observedLeft.has(element.id)) observedLeft.set(element.id, item);
  const observedRight = new Map<string, unknown>();
  for (const { element, item } of rhs) if (!observedRight.has(element.id)) observedRight.set(element.id, item);
  const shared = rhs.filter(({ element }) => observedLeft.has(element.id)).map(({ element }) => element.id);
  let nextShared = shared.shift();
  const merged = new Set<string>();
  const out: unknown[] = [];
  const mergeItem = (id: string, lChild: unknown, rChild: unknown) => {
    const value = merge(lChild, rChild, list.element);
    if (value !== undefined) out.push(value);
    merged.add(id);
  };
  let l = 0;
  let r = 0;
  while (l < lhs.length || r < rhs.length) {
    if (l < lhs.length && r < rhs.length) {
      const id = lhs[l].element.id;
      if (id === rhs[r].element.id) {
        mergeItem(id, observedLeft.get(id), observedRight.get(id));
        l++;
        r++;
        nextShared = shared.shift();
        continue;
      }
      if (observedRight.has(id) && nextShared !== undefined && nextShared !== id) {
        l++;
        continue;
      }
    }
    if (l < lhs.length) {
      const id = lhs[l].element.id;
      if (!observedRight.has(id)) {
        const value = merge(lhs[l].item, undefined, list.element);
        if (value !== undefined) out.push(value);
        l++;
        continue;
      } else if (merged.has(id)) {
        l++;
      }
    }
    if (r < rhs.length) {
      const id = rhs[r].element.id;
      mergeItem(id, observedLeft.get(id), observedRight.get(id));
      r++;
      if (nextShared === id) nextShared = shared.shift();
    }
  }
  return out;
}

