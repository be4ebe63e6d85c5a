// Validation of embedded resources (x-kubernetes-embedded-resource, apiextensions' objectmeta validation):
// apiVersion and kind are required strings (a kind must be a DNS-1035 label in any case), and metadata
// is validated as ObjectMeta with path-segment names; a missing name is fine.

import type { FieldError } from '../request/status.js';
import { isDns1035Label, isValidPathSegmentName } from '../registry/names.js';
import type { ObjectMeta } from '../registry/object.js';
import { validateObjectMeta } from '../registry/validate-meta.js';
import type { SchemaNode } from './structural.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function validateEmbeddedResources(object: unknown, node: SchemaNode): FieldError[] {
  const errors: FieldError[] = [];
  walk(object, node, '', errors);
  return errors;
}

function walk(value: unknown, node: SchemaNode | undefined, path: string, errors: FieldError[]): void {
  if (!node?.embeddedBelow) return;
  if (Array.isArray(value)) {
    value.forEach((item, index) => walk(item, node.items, `${path}[${index}]`, errors));
    return;
  }
  if (!isObject(value)) return;
  if (node.embeddedResource) errors.push(...validateEmbedded(value, path));
  for (const key of Object.keys(value)) {
    const property = node.properties?.get(key);
    if (property) walk(value[key], property, path ? `${path}.${key}` : key, errors);
    else if (node.additionalProperties) walk(value[key], node.additionalProperties, `${path}[${key}]`, errors);
  }
}

/** schema.ParseGroupVersion fails only on more than one slash ("a/", "/v1" and "/" parse). */
const parsesAsGroupVersion = (value: string) => value === '/' || value.split('/').length <= 2;

function validateEmbedded(object: Record<string, unknown>, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const child = (name: string) => (path ? `${path}.${name}` : name);
  if (!Object.hasOwn(object, 'apiVersion')) errors.push({ field: child('apiVersion'), type: 'FieldValueRequired', detail: 'must not be empty' });
  if (!Object.hasOwn(object, 'kind')) errors.push({ field: child('kind'), type: 'FieldValueRequired', detail: 'must not be empty' });
  for (const key of Object.keys(object)) {
    const value = object[key];
    if (key === 'apiVersion') {
      if (typeof value !== 'string') errors.push({ field: child('apiVersion'), type: 'FieldValueInvalid', value, detail: 'must be a string' });
      else if (value === '') errors.push({ field: child('apiVersion'), type: 'FieldValueInvalid', value, detail: 'must not be empty' });
      else if (!parsesAsGroupVersion(value)) errors.push({ field: child('apiVersion'), type: 'FieldValueInvalid', value, detail: `unexpected GroupVersion string: ${value}` });
    } else if (key === 'kind') {
      if (typeof value !== 'string') errors.push({ field: child('kind'), type: 'FieldValueInvalid', value, detail: 'must be a string' });
      else if (value === '') errors.push({ field: child('kind'), type: 'FieldValueInvalid', value, detail: 'must not be empty' });
      else {
        const problems = isDns1035Label(value.toLowerCase());
        if (problems.length > 0) errors.push({ field: child('kind'), type: 'FieldValueInvalid', value, detail: `may have mixed case, but should otherwise match: ${problems.join(',')}` });
      }
    } else if (key === 'metadata' && isObject(value)) {
      const meta = { ...(value as ObjectMeta) };
      if (!meta.name) meta.name = 'fakename';
      const prefix = child('metadata');
      for (const error of validateObjectMeta(meta, Boolean(meta.namespace), (name) => isValidPathSegmentName(name))) {
        errors.push({ ...error, field: error.field.replace(/^metadata/, prefix) });
      }
    }
  }
  return errors;
}
