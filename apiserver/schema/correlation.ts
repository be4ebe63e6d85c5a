// Old and new values of an update, matched node by node for ratcheting (apiserver's CorrelatedObject):
// a property or map key with the old value of the same name, a list-type=map item with the old item of the
// same key, a set item with an equal old item (upstream matches no set or atomic-list items; an equal
// item is unchanged whatever its index). deepEqual is computed once per node and reused by its parents.

import { deepEqual } from '../registry/managed-fields.js';
import type { SchemaNode } from './structural.js';

export class Correlation {
  private equal?: boolean;
  private readonly children = new Map<string | number, Correlation | undefined>();
  private oldMapList?: Map<string, unknown>;

  constructor(
    readonly value: unknown,
    readonly old: unknown,
    readonly node: SchemaNode | undefined,
  ) {}

  /** The old value of a property or map key, when both objects have it. */
  key(field: string): Correlation | undefined {
    if (this.children.has(field)) return this.children.get(field);
    let child: Correlation | undefined;
    if (isPlainObject(this.value) && isPlainObject(this.old) && Object.hasOwn(this.value, field) && Object.hasOwn(this.old, field)) {
      const schema = this.node?.properties?.get(field) ?? this.node?.additionalProperties;
      if (schema) child = new Correlation(this.value[field], this.old[field], schema);
    }
    this.children.set(field, child);
    return child;
  }

  /** The old item a new list item corresponds to: by key in list-type=map, by value in sets, none in atomic lists. */
  index(index: number): Correlation | undefined {
    if (this.children.has(index)) return this.children.get(index);
    let child: Correlation | undefined;
    const items = this.node?.items;
    if (Array.isArray(this.value) && Array.isArray(this.old) && index < this.value.length && items) {
      const item = this.value[index];
      if (this.node?.listType === 'map' && isPlainObject(item)) {
        this.oldMapList ??= new Map(this.old.filter(isPlainObject).map((old) => [mapListKey(this.node!.listMapKeys, old), old]));
        const key = mapListKey(this.node.listMapKeys, item);
        if (this.oldMapList.has(key)) child = new Correlation(item, this.oldMapList.get(key), items);
      } else if (this.node?.listType === 'set') {
        const same = this.old.find((old) => deepEqual(old, item));
        if (same !== undefined) child = new Correlation(item, same, items);
      }
    }
    this.children.set(index, child);
    return child;
  }

  deepEqual(): boolean {
    if (this.equal === undefined) this.equal = this.compare();
    return this.equal;
  }

  private compare(): boolean {
    const { value, old } = this;
    if (value === null || value === undefined || old === null || old === undefined) return (value ?? null) === (old ?? null);
    if (Array.isArray(value) !== Array.isArray(old) || isPlainObject(value) !== isPlainObject(old)) return false;
    if (Array.isArray(value)) {
      const oldList = old as unknown[];
      if (value.length !== oldList.length) return false;
      if (this.node?.listType !== 'map') return deepEqual(value, old);
      for (let index = 0; index < value.length; index++) {
        const child = this.index(index);
        if (!child || !child.deepEqual()) return false;
      }
      return true;
    }
    if (isPlainObject(value)) {
      const keys = Object.keys(value);
      if (keys.length !== Object.keys(old as object).length) return false;
      for (const key of keys) {
        const child = this.key(key);
        if (!(child ? child.deepEqual() : deepEqual(value[key], (old as Record<string, unknown>)[key]))) return false;
      }
      return true;
    }
    return value === old;
  }
}

function mapListKey(keys: string[], item: Record<string, unknown>): string {
  return JSON.stringify(keys.map((key) => (Object.hasOwn(item, key) ? item[key] : undefined)));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
