// ObjectMeta validation shared by every kind (apimachinery's ValidateObjectMeta), on create and update.

import type { FieldError } from '../request/status.js';
import type { NameValidation } from './resource.js';
import type { KubeObject, ObjectMeta } from './object.js';
import { isObject } from './object.js';
import { isDns1123Label, isDns1123Subdomain, isQualifiedName, isValidLabelValue, isValidPathSegmentName } from './names.js';

export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

export function nameValidator(validation: NameValidation): (name: string) => string[] {
  if (typeof validation === 'function') return validation;
  switch (validation) {
    case 'dns1123-label':
      return isDns1123Label;
    case 'dns1123-subdomain':
      return isDns1123Subdomain;
    case 'path-segment':
      return isValidPathSegmentName;
  }
}

export function validateObjectMeta(meta: ObjectMeta, namespaced: boolean, validation: NameValidation): FieldError[] {
  const errors: FieldError[] = [];
  const validateName = nameValidator(validation);
  if (meta.generateName && !meta.name) {
    // generateName gets a random suffix; validate what we can of the prefix (upstream masks trailing '-').
    for (const message of validateName(meta.generateName.replace(/-$/, 'a'))) {
      errors.push({ field: 'metadata.generateName', type: 'FieldValueInvalid', value: meta.generateName, detail: message });
    }
  }
  if (!meta.name) {
    errors.push({ field: 'metadata.name', type: 'FieldValueRequired', detail: 'name or generateName is required' });
  } else {
    for (const message of validateName(meta.name)) {
      errors.push({ field: 'metadata.name', type: 'FieldValueInvalid', value: meta.name, detail: message });
    }
  }
  if (namespaced) {
    if (!meta.namespace) {
      errors.push({ field: 'metadata.namespace', type: 'FieldValueRequired' });
    } else {
      for (const message of isDns1123Label(meta.namespace)) {
        errors.push({ field: 'metadata.namespace', type: 'FieldValueInvalid', value: meta.namespace, detail: message });
      }
    }
  } else if (meta.namespace) {
    errors.push({ field: 'metadata.namespace', type: 'FieldValueForbidden', detail: 'not allowed on this type' });
  }
  errors.push(...validateLabels(meta.labels, 'metadata.labels'));
  errors.push(...validateAnnotations(meta.annotations, 'metadata.annotations'));
  if (meta.finalizers !== undefined) {
    if (!Array.isArray(meta.finalizers)) {
      errors.push({ field: 'metadata.finalizers', type: 'FieldValueTypeInvalid', value: meta.finalizers, detail: 'must be a list of strings' });
    } else {
      const seen = new Set<string>();
      meta.finalizers.forEach((finalizer, index) => {
        if (typeof finalizer !== 'string') {
          errors.push({ field: `metadata.finalizers[${index}]`, type: 'FieldValueTypeInvalid', value: finalizer, detail: 'must be a string' });
          return;
        }
        for (const message of isQualifiedName(finalizer)) {
          errors.push({ field: `metadata.finalizers[${index}]`, type: 'FieldValueInvalid', value: finalizer, detail: message });
        }
        if (seen.has(finalizer)) errors.push({ field: `metadata.finalizers[${index}]`, type: 'FieldValueDuplicate', value: finalizer });
        seen.add(finalizer);
      });
    }
  }
  if (meta.ownerReferences !== undefined) {
    if (!Array.isArray(meta.ownerReferences)) {
      errors.push({ field: 'metadata.ownerReferences', type: 'FieldValueTypeInvalid', value: meta.ownerReferences, detail: 'must be a list' });
    } else {
      meta.ownerReferences.forEach((reference, index) => {
        const path = `metadata.ownerReferences[${index}]`;
        if (!isObject(reference)) {
          errors.push({ field: path, type: 'FieldValueTypeInvalid', value: reference, detail: 'must be an object' });
          return;
        }
        for (const key of ['apiVersion', 'kind', 'name', 'uid'] as const) {
          if (!reference[key]) errors.push({ field: `${path}.${key}`, type: 'FieldValueRequired', detail: `${key} must not be empty` });
        }
      });
      const controllers = meta.ownerReferences.filter((reference) => isObject(reference) && reference.controller === true);
      if (controllers.length > 1) {
        errors.push({ field: 'metadata.ownerReferences', type: 'FieldValueInvalid', value: meta.ownerReferences, detail: 'Only one reference can have Controller set to true' });
      }
    }
  }
  if (meta.generation !== undefined && (typeof meta.generation !== 'number' || meta.generation < 0)) {
    errors.push({ field: 'metadata.generation', type: 'FieldValueInvalid', value: meta.generation, detail: 'must be greater than or equal to 0' });
  }
  return errors;
}

export function validateLabels(labels: unknown, path: string): FieldError[] {
  if (labels === undefined || labels === null) return [];
  if (!isObject(labels)) return [{ field: path, type: 'FieldValueTypeInvalid', value: labels, detail: 'must be a map of strings' }];
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(labels)) {
    for (const message of isQualifiedName(key)) errors.push({ field: path, type: 'FieldValueInvalid', value: key, detail: message });
    if (typeof value !== 'string') {
      errors.push({ field: `${path}[${key}]`, type: 'FieldValueTypeInvalid', value, detail: 'must be a string' });
      continue;
    }
    for (const message of isValidLabelValue(value)) errors.push({ field: path, type: 'FieldValueInvalid', value, detail: message });
  }
  return errors;
}

export function validateAnnotations(annotations: unknown, path: string): FieldError[] {
  if (annotations === undefined || annotations === null) return [];
  if (!isObject(annotations)) return [{ field: path, type: 'FieldValueTypeInvalid', value: annotations, detail: 'must be a map of strings' }];
  const errors: FieldError[] = [];
  let total = 0;
  let largest: { key: string; size: number } | undefined;
  for (const [key, value] of Object.entries(annotations)) {
    for (const message of isQualifiedName(key.toLowerCase())) errors.push({ field: path, type: 'FieldValueInvalid', value: key, detail: message });
    if (typeof value !== 'string') {
      errors.push({ field: `${path}[${key}]`, type: 'FieldValueTypeInvalid', value, detail: 'must be a string' });
      continue;
    }
    const size = Buffer.byteLength(key) + Buffer.byteLength(value);
    total += size;
    if (!largest || size > largest.size) largest = { key, size };
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT) {
    // Better than upstream: name the annotation responsible (usually kubectl's last-applied-configuration).
    let hint = '';
    if (largest) {
      hint = ` (the largest is "${largest.key}", ${largest.size} bytes`;
      hint += largest.key === 'kubectl.kubernetes.io/last-applied-configuration' ? '; use `kubectl apply --server-side` or `kubectl create` to avoid it)' : ')';
    }
    errors.push({ field: path, type: 'FieldValueTooLong', detail: `must have at most ${TOTAL_ANNOTATION_SIZE_LIMIT} bytes${hint}` });
  }
  return errors;
}

/** Fields of metadata a client may not change on update (upstream ValidateObjectMetaUpdate). */
export function validateObjectMetaUpdate(meta: ObjectMeta, old: ObjectMeta): FieldError[] {
  const errors: FieldError[] = [];
  if (meta.name !== old.name) errors.push({ field: 'metadata.name', type: 'FieldValueInvalid', value: meta.name, detail: 'field is immutable' });
  if ((meta.namespace ?? '') !== (old.namespace ?? '')) {
    errors.push({ field: 'metadata.namespace', type: 'FieldValueInvalid', value: meta.namespace, detail: 'field is immutable' });
  }
  if (meta.uid !== old.uid) errors.push({ field: 'metadata.uid', type: 'FieldValueInvalid', value: meta.uid, detail: 'field is immutable' });
  if (meta.creationTimestamp !== old.creationTimestamp) {
    errors.push({ field: 'metadata.creationTimestamp', type: 'FieldValueInvalid', value: meta.creationTimestamp, detail: 'field is immutable' });
  }
  return errors;
}

export function metaOf(object: KubeObject): ObjectMeta {
  return object.metadata;
}
