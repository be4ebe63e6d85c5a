// Rules shared by ConfigMap and Secret: key syntax and the `immutable` flag.

import type { FieldError } from '../../apiserver/request/status.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';
import { deepEqual } from '../../apiserver/registry/managed-fields.js';

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

export function validateConfigKeys(map: unknown, path: string): FieldError[] {
  if (map === undefined || map === null || !isObject(map)) return [];
  const errors: FieldError[] = [];
  for (const key of Object.keys(map)) {
    if (key.length > 253) errors.push({ field: `${path}[${key}]`, type: 'FieldValueInvalid', value: key, detail: 'must be no more than 253 characters' });
    if (!CONFIG_KEY.test(key)) {
      errors.push({ field: `${path}[${key}]`, type: 'FieldValueInvalid', value: key, detail: "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')" });
    } else if (key === '.' || key === '..' || key.startsWith('..')) {
      errors.push({ field: `${path}[${key}]`, type: 'FieldValueInvalid', value: key, detail: `must not be '.' or '..' or start with '..'` });
    }
  }
  return errors;
}

export function validateImmutableData(object: KubeObject, old: KubeObject, fields: string[]): FieldError[] {
  if (old.immutable !== true) return [];
  const errors: FieldError[] = [];
  if (object.immutable !== true) errors.push({ field: 'immutable', type: 'FieldValueForbidden', detail: 'field is immutable when `immutable` is set' });
  for (const field of fields) {
    if (!deepEqual(object[field] ?? {}, old[field] ?? {})) errors.push({ field, type: 'FieldValueForbidden', detail: 'field is immutable when `immutable` is set' });
  }
  return errors;
}
