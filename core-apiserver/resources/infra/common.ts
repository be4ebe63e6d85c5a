// Small helpers the infra kinds share: reading decoded (untrusted) bodies and the recurring field errors.

import type { KubeObject } from '../../../apiserver/registry/object.js';
import type { FieldError } from '../../../apiserver/request/status.js';
import { labelSelectorFromMatch, type LabelSelectorSpec } from '../../../apiserver/registry/labels.js';

/** A JSON object; typed loosely because these are decoded request bodies read field by field. */
export function isObject(value: unknown): value is Record<string, any> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The object items of a list field; anything else reads as empty (structural validation reports it). */
export function objectsOf(value: unknown): Record<string, any>[] {
  return Array.isArray(value) ? value.filter((item) => isObject(item)) : [];
}

export function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

export function specOf(object: KubeObject): Record<string, any> {
  return isObject(object.spec) ? object.spec : {};
}

/** Ensures object.spec is an object and returns it, for defaulting. */
export function ensureSpec(object: KubeObject): Record<string, any> {
  if (!isObject(object.spec)) object.spec = {};
  return object.spec;
}

/** apimachinery's ValidateImmutableField: deep equality, `field is immutable`. */
export function immutable(next: unknown, old: unknown, field: string): FieldError[] {
  return JSON.stringify(next) === JSON.stringify(old) ? [] : [{ field, type: 'FieldValueInvalid', value: next, detail: 'field is immutable' }];
}

export function notSupported(field: string, value: unknown, supported: string[]): FieldError {
  return { field, type: 'FieldValueNotSupported', value, supported };
}

export function required(field: string, detail?: string): FieldError {
  return detail ? { field, type: 'FieldValueRequired', detail } : { field, type: 'FieldValueRequired' };
}

/** The messages of a name validator as Invalid errors on one field. */
export function invalidEach(field: string, value: string, messages: string[]): FieldError[] {
  return messages.map((detail) => ({ field, type: 'FieldValueInvalid', value, detail }));
}

/** metav1.FormatLabelSelector: canonical string, `<none>` when it selects everything, `<error>` when invalid. */
export function formatLabelSelector(selector: unknown): string {
  if (!isObject(selector)) return '<none>';
  try {
    const text = labelSelectorFromMatch(selector as LabelSelectorSpec).toString();
    return text === '' ? '<none>' : text;
  } catch {
    return '<error>';
  }
}

/** A label selector in a spec, as a field error instead of the 400 the parser raises. */
export function validateLabelSelector(selector: unknown, field: string): FieldError[] {
  if (selector === undefined || selector === null) return [];
  try {
    labelSelectorFromMatch(selector as LabelSelectorSpec);
    return [];
  } catch (error) {
    return [{ field, type: 'FieldValueInvalid', value: selector, detail: error instanceof Error ? error.message : String(error) }];
  }
}
