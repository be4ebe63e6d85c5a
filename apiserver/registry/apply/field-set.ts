// Field sets as structured-merge-diff models them: a tree of path elements where a node may itself be a
// member (owned) and may have children. `f:<field>` names a map field, `k:{…}` a list-map element by its
// keys, `v:<json>` a set element, `i:<n>` an atomic-list index; `.` in FieldsV1 marks a node that is a member
// and also has children. Serialization order is upstream's (kubectl and clients compare the bytes).

import { isObject } from '../object.js';

export type PathElement =
  | { type: 'f'; name: string; id: string }
  | { type: 'k'; key: [string, unknown][]; id: string }
  | { type: 'v'; value: unknown; id: string }
  | { type: 'i'; index: number; id: string };

export type Path = PathElement[];

/** JSON as Go's encoder writes it (HTML characters and line separators escaped, object keys sorted). */
export function goJson(value: unknown): string {
  // Names and key values are nearly always plain strings: no object keys to sort, usually nothing to escape.
  if (typeof value === 'string') {
    const plain = JSON.stringify(value);
    return GO_ESCAPED.test(plain) ? plain.replace(GO_ESCAPED_ALL, goEscape) : plain;
  }
  const text = JSON.stringify(value, (_key, item: unknown) =>
    isObject(item) ? Object.fromEntries(Object.keys(item).sort().map((key) => [key, item[key]])) : item,
  );
  return text.replace(GO_ESCAPED_ALL, goEscape);
}

const GO_ESCAPED = /[<>&\u2028\u2029]/;
const GO_ESCAPED_ALL = /[<>&\u2028\u2029]/g;

function goEscape(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

export function fieldElement(name: string): PathElement {
  return { type: 'f', name, id: `f:${name}` };
}

/** A list-map element; key fields are sorted by name, as upstream's FieldList. */
export function keyElement(key: [string, unknown][]): PathElement {
  const sorted = [...key].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { type: 'k', key: sorted, id: `k:{${sorted.map(([name, value]) => `${goJson(name)}:${goJson(value)}`).join(',')}}` };
}

export function valueElement(value: unknown): PathElement {
  return { type: 'v', value, id: `v:${goJson(value)}` };
}

export function indexElement(index: number): PathElement {
  return { type: 'i', index, id: `i:${index}` };
}

/** Parses a FieldsV1 key; undefined for an unknown prefix (upstream skips those). */
export function parseElement(text: string): PathElement | undefined {
  if (text.length < 2 || text[1] !== ':') throw new Error(`missing colon: ${text}`);
  const body = text.slice(2);
  switch (text[0]) {
    case 'f':
      return fieldElement(body);
    case 'v':
      return valueElement(JSON.parse(body));
    case 'i':
      if (!/^-?\d+$/.test(body)) throw new Error(`invalid index: ${text}`);
      return indexElement(Number(body));
    case 'k': {
      const parsed: unknown = JSON.parse(body);
      if (!isObject(parsed)) throw new Error(`invalid key: ${text}`);
      return keyElement(Object.entries(parsed));
    }
    default:
      return undefined;
  }
}

const TYPE_RANK = { f: 0, k: 1, v: 2, i: 3 } as const;

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** upstream's value.Compare: numbers < strings < booleans < lists < maps. */
export function compareValues(a: unknown, b: unknown): number {
  const rank = (value: unknown) => (typeof value === 'number' ? 0 : typeof value === 'string' ? 1 : typeof value === 'boolean' ? 2 : Array.isArray(value) ? 3 : isObject(value) ? 4 : 5);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === 'number') return a < (b as number) ? -1 : a > (b as number) ? 1 : 0;
  if (typeof a === 'string') return compareStrings(a, b as string);
  if (typeof a === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    for (let index = 0; index < Math.min(a.length, other.length); index++) {
      const c = compareValues(a[index], other[index]);
      if (c !== 0) return c;
    }
    return a.length - other.length;
  }
  return compareStrings(goJson(a), goJson(b));
}

export function compareElements(a: PathElement, b: PathElement): number {
  if (a.type !== b.type) return TYPE_RANK[a.type] - TYPE_RANK[b.type];
  switch (a.type) {
    case 'f':
      return compareStrings(a.name, (b as typeof a).name);
    case 'k': {
      const other = (b as typeof a).key;
      for (let index = 0; ; index++) {
        if (index >= a.key.length && index >= other.length) return 0;
        if (index >= a.key.length) return -1;
        if (index >= other.length) return 1;
        const byName = compareStrings(a.key[index][0], other[index][0]);
        if (byName !== 0) return byName;
        const byValue = compareValues(a.key[index][1], other[index][1]);
        if (byValue !== 0) return byValue;
      }
    }
    case 'v':
      return compareValues(a.value, (b as typeof a).value);
    case 'i':
      return a.index - (b as typeof a).index;
  }
}

/** How upstream prints a value in a path (Go's %q for strings). */
function valueString(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(valueString).join(',')}]`;
  if (isObject(value)) return Object.entries(value).map(([key, item]) => `${key}=${valueString(item)}`).join('');
  return String(value);
}

export function elementString(element: PathElement): string {
  switch (element.type) {
    case 'f':
      return `.${element.name}`;
    case 'k':
      return `[${element.key.map(([name, value]) => `${name}=${valueString(value)}`).join(',')}]`;
    case 'v':
      return `[=${valueString(element.value)}]`;
    case 'i':
      return `[${element.index}]`;
  }
}

/** `.spec.containers[name="app"].image`, as conflicts name fields. */
export function pathString(path: Path): string {
  return path.map(elementString).join('');
}

interface Child {
  element: PathElement;
  set: FieldSet;
}

/** Built by insert/descend, then never changed: the set operations share the subtrees they leave alone. */
export class FieldSet {
  readonly members = new Map<string, PathElement>();
  readonly children = new Map<string, Child>();

  static of(...paths: Path[]): FieldSet {
    const set = new FieldSet();
    for (const path of paths) set.insert(path);
    return set;
  }

  empty(): boolean {
    return this.members.size === 0 && this.children.size === 0;
  }

  insert(path: Path): void {
    if (path.length === 0) return;
    let node: FieldSet = this;
    for (let index = 0; index < path.length - 1; index++) node = node.descend(path[index]);
    node.members.set(path[path.length - 1].id, path[path.length - 1]);
  }

  /** The child set at `element`, created when missing. */
  descend(element: PathElement): FieldSet {
    let child = this.children.get(element.id);
    if (!child) {
      child = { element, set: new FieldSet() };
      this.children.set(element.id, child);
    }
    return child.set;
  }

  has(path: Path): boolean {
    let node: FieldSet | undefined = this;
    for (let index = 0; index < path.length - 1 && node; index++) node = node.children.get(path[index].id)?.set;
    return !!node && path.length > 0 && node.members.has(path[path.length - 1].id);
  }

  withPrefix(element: PathElement): FieldSet {
    return this.children.get(element.id)?.set ?? new FieldSet();
  }

  union(other: FieldSet): FieldSet {
    const result = new FieldSet();
    for (const [id, element] of this.members) result.members.set(id, element);
    for (const [id, element] of other.members) result.members.set(id, element);
    for (const [id, child] of this.children) {
      const theirs = other.children.get(id);
      result.children.set(id, theirs ? { element: child.element, set: child.set.union(theirs.set) } : child);
    }
    for (const [id, child] of other.children) if (!this.children.has(id)) result.children.set(id, child);
    return result;
  }

  intersection(other: FieldSet): FieldSet {
    const result = new FieldSet();
    for (const [id, element] of this.members) if (other.members.has(id)) result.members.set(id, element);
    for (const [id, child] of this.children) {
      const theirs = other.children.get(id);
      if (!theirs) continue;
      const both = child.set.intersection(theirs.set);
      if (!both.empty()) result.children.set(id, { element: child.element, set: both });
    }
    return result;
  }

  /** Leaf-wise difference: a parent minus its child stays; children of a removed member stay too. */
  difference(other: FieldSet): FieldSet {
    const result = new FieldSet();
    for (const [id, element] of this.members) if (!other.members.has(id)) result.members.set(id, element);
    for (const [id, child] of this.children) {
      const theirs = other.children.get(id);
      if (!theirs) {
        if (!child.set.empty()) result.children.set(id, child);
      } else {
        const rest = child.set.difference(theirs.set);
        if (!rest.empty()) result.children.set(id, { element: child.element, set: rest });
      }
    }
    return result;
  }

  /** Removes every path of `other` together with everything below it. */
  recursiveDifference(other: FieldSet): FieldSet {
    const result = new FieldSet();
    for (const [id, element] of this.members) if (!other.members.has(id)) result.members.set(id, element);
    for (const [id, child] of this.children) {
      if (other.members.has(id)) continue;
      const theirs = other.children.get(id);
      if (!theirs) {
        if (!child.set.empty()) result.children.set(id, child);
      } else {
        const rest = child.set.recursiveDifference(theirs.set);
        if (!rest.empty()) result.children.set(id, { element: child.element, set: rest });
      }
    }
    return result;
  }

  /** Every member path, members of a node before its children, each level in upstream's order. */
  paths(prefix: Path = []): Path[] {
    const result: Path[] = [];
    for (const element of [...this.members.values()].sort(compareElements)) result.push([...prefix, element]);
    for (const child of [...this.children.values()].sort((a, b) => compareElements(a.element, b.element))) {
      result.push(...child.set.paths([...prefix, child.element]));
    }
    return result;
  }

  /** The FieldsV1 object. */
  toFields(): Record<string, unknown> {
    return this.emit(false);
  }

  private emit(includeSelf: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (includeSelf && !this.empty()) out['.'] = {};
    const ids = new Map<string, PathElement>();
    for (const [id, element] of this.members) ids.set(id, element);
    for (const [id, child] of this.children) ids.set(id, child.element);
    for (const element of [...ids.values()].sort(compareElements)) {
      const child = this.children.get(element.id);
      out[element.id] = child ? child.set.emit(this.members.has(element.id)) : {};
    }
    return out;
  }

  /** Reads FieldsV1; throws on malformed input. */
  static fromFields(fields: unknown): FieldSet {
    if (!isObject(fields)) throw new Error('FieldsV1 must be a JSON object');
    return FieldSet.read(fields).set ?? new FieldSet();
  }

  private static read(fields: Record<string, unknown>): { set?: FieldSet; member: boolean } {
    let set: FieldSet | undefined;
    let member = false;
    for (const [key, value] of Object.entries(fields)) {
      if (key === '.') {
        member = true;
        continue;
      }
      const element = parseElement(key);
      if (!element) continue;
      if (!isObject(value)) throw new Error(`the value of ${key} must be a JSON object`);
      const inner = FieldSet.read(value);
      set ??= new FieldSet();
      if (inner.member) set.members.set(element.id, element);
      if (inner.set) {
        const existing = set.children.get(element.id);
        set.children.set(element.id, { element, set: existing ? existing.set.union(inner.set) : inner.set });
      }
    }
    if (!set) member = true;
    return { set, member };
  }
}
