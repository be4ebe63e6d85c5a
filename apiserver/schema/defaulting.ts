// Structural defaulting of custom resources (apiextensions' defaulting package): nulls of non-nullable
// fields without a default are dropped first, then every missing field with a `default` (and every
// non-nullable null) gets a copy of it, recursively, but only inside objects that exist or were
// themselves defaulted. Upstream applies nothing under an absent parent and says nothing; `absentParents`
// finds those parents in a defaulted object, so a write can be answered with a Warning about them.

import type { SchemaNode } from './structural.js';

type JsonObject = Record<string, unknown>;

/** A missing object whose subtree declares defaults, which therefore were not applied. */
export interface AbsentParent {
  parent: string;
  defaults: string[];
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** PruneNonNullableNullsWithoutDefaults; returns how many nulls it dropped. */
export function dropNonNullableNulls(value: unknown, node: SchemaNode | undefined): number {
  let dropped = 0;
  if (Array.isArray(value)) {
    for (const item of value) dropped += dropNonNullableNulls(item, node?.items);
    return dropped;
  }
  if (!isObject(value)) return 0;
  for (const key of Object.keys(value)) {
    const schema = node?.properties?.get(key) ?? node?.additionalProperties;
    if (value[key] === null && schema && !schema.nullable && !schema.hasDefault) {
      delete value[key];
      dropped++;
    } else dropped += dropNonNullableNulls(value[key], schema);
  }
  return dropped;
}

/** Default; returns how many defaults it applied. */
export function applyStructuralDefaults(value: unknown, node: SchemaNode | undefined): number {
  if (!node || !node.defaultsBelow) return 0;
  let applied = 0;
  if (Array.isArray(value)) {
    const items = node.items;
    if (!items) return 0;
    value.forEach((item, index) => {
      if (item === null && !items.nullable && items.hasDefault) {
        value[index] = structuredClone(items.default);
        applied++;
      }
      applied += applyStructuralDefaults(value[index], items);
    });
    return applied;
  }
  if (!isObject(value)) return 0;
  if (node.properties) {
    for (const [key, property] of node.properties) {
      if (!property.hasDefault) continue;
      if (!Object.hasOwn(value, key) || (value[key] === null && !property.nullable)) {
        value[key] = structuredClone(property.default);
        applied++;
      }
    }
  }
  for (const key of Object.keys(value)) {
    const property = node.properties?.get(key);
    if (property) applied += applyStructuralDefaults(value[key], property);
    else if (node.additionalProperties) {
      const additional = node.additionalProperties;
      if (value[key] === null && !additional.nullable && additional.hasDefault) {
        value[key] = structuredClone(additional.default);
        applied++;
      }
      applied += applyStructuralDefaults(value[key], additional);
    }
  }
  return applied;
}

/** Paths of the defaults reachable through properties alone (list items and map values need entries first). */
function propertyDefaults(node: SchemaNode, path: string): string[] {
  const found: string[] = [];
  for (const [key, property] of node.properties ?? []) {
    const childPath = `${path}.${key}`;
    if (property.hasDefault) found.push(childPath);
    else if (property.defaultsBelow) found.push(...propertyDefaults(property, childPath));
  }
  return found;
}

/** The missing objects of a (defaulted) object whose subtrees declare defaults, outermost only. */
export function absentParents(value: unknown, node: SchemaNode | undefined, path = '', found: AbsentParent[] = []): AbsentParent[] {
  if (!node || !node.defaultsBelow) return found;
  if (Array.isArray(value)) {
    value.forEach((item, index) => absentParents(item, node.items, `${path}[${index}]`, found));
    return found;
  }
  if (!isObject(value)) return found;
  for (const [key, property] of node.properties ?? []) {
    if (!property.defaultsBelow) continue;
    const childPath = path ? `${path}.${key}` : key;
    if (Object.hasOwn(value, key)) {
      absentParents(value[key], property, childPath, found);
      continue;
    }
    // A missing status is the normal state of a new object (and its writer is a controller), not a mistake.
    if (property.hasDefault || (path === '' && (key === 'status' || key === 'metadata'))) continue;
    const hidden = propertyDefaults(property, childPath);
    if (hidden.length > 0) found.push({ parent: childPath, defaults: hidden });
  }
  if (node.additionalProperties) {
    for (const key of Object.keys(value)) {
      if (!node.properties?.has(key)) absentParents(value[key], node.additionalProperties, path ? `${path}.${key}` : key, found);
    }
  }
  return found;
}

/**
 * One Warning per request, however many parents are missing: the first default that did not apply, and
 * how many more did not, e.g. `spec.template.replicas: default not applied because parent spec.template
 * is absent (and 2 more defaults under absent parents)`.
 */
export function absentParentWarning(absentParents: AbsentParent[]): string | undefined {
  if (absentParents.length === 0) return undefined;
  const [first] = absentParents;
  const more = absentParents.reduce((count, absent) => count + absent.defaults.length, 0) - 1;
  const suffix = more === 0 ? '' : ` (and ${more} more ${more === 1 ? 'default' : 'defaults'} under absent parents)`;
  return `${first.defaults[0]}: default not applied because parent ${first.parent} is absent${suffix}`;
}
