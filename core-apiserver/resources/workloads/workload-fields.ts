// What the workload kinds share: spec access, label selectors (validation, matching against the pod
// template, printing), int-or-percent fields, and immutability checks — with apps/batch validation's
// paths and texts.

import type { KubeObject } from '../../../apiserver/registry/object.js';
import { isObject } from '../../../apiserver/registry/object.js';
import type { FieldError } from '../../../apiserver/request/status.js';
import { isQualifiedName } from '../../../apiserver/registry/names.js';
import { validateLabels } from '../../../apiserver/registry/validate-meta.js';
import { labelSelectorFromMatch, type LabelSelectorSpec } from '../../../apiserver/registry/labels.js';
import { fieldDoc } from '../field-docs.js';
import { templateLabels } from './pod-template.js';

export type Json = Record<string, unknown>;

export const CONTAINERS_DESCRIPTION = 'Names of each container in the template.';
export const IMAGES_DESCRIPTION = 'Images referenced by each container in the template.';
export const READY_DESCRIPTION = 'Number of the pod with ready state';

/** The spec, created when missing (Go decodes an absent spec as the zero value, which defaulting fills). */
export function mutableSpec(object: KubeObject): Json {
  if (!isObject(object.spec)) object.spec = {};
  return object.spec as Json;
}

export function specOf(object: KubeObject): Json {
  return isObject(object.spec) ? object.spec : {};
}

export function statusOf(object: KubeObject): Json {
  return isObject(object.status) ? object.status : {};
}

/** An int32 counter as the printers show it: absent is 0. */
export function count(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}

/** The spec-side template of a kind, created when missing. */
export function mutableTemplate(spec: Json): Json {
  if (!isObject(spec.template)) spec.template = {};
  return spec.template as Json;
}

export function doc(definition: string, property: string): string {
  return fieldDoc(definition, property);
}

/** ValidateLabelSelector: keys, values and expression operators. */
export function validateLabelSelector(selector: Json, path: string): FieldError[] {
  const errors = validateLabels(selector.matchLabels, `${path}.matchLabels`);
  const expressions = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  expressions.forEach((expression: unknown, index) => {
    const at = `${path}.matchExpressions[${index}]`;
    if (!isObject(expression)) return;
    const values = Array.isArray(expression.values) ? expression.values : [];
    switch (expression.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errors.push({ field: `${at}.values`, type: 'FieldValueRequired', detail: "must be specified when `operator` is 'In' or 'NotIn'" });
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errors.push({ field: `${at}.values`, type: 'FieldValueForbidden', detail: "may not be specified when `operator` is 'Exists' or 'DoesNotExist'" });
        break;
      default:
        errors.push({ field: `${at}.operator`, type: 'FieldValueInvalid', value: expression.operator, detail: 'not a valid selector operator' });
    }
    const key = typeof expression.key === 'string' ? expression.key : '';
    for (const detail of isQualifiedName(key)) errors.push({ field: `${at}.key`, type: 'FieldValueInvalid', value: key, detail });
  });
  return errors;
}

/** Whether a structurally valid selector is empty (selects everything). */
export function selectorIsEmpty(selector: Json): boolean {
  const labels = isObject(selector.matchLabels) ? Object.keys(selector.matchLabels) : [];
  const expressions = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  return labels.length === 0 && expressions.length === 0;
}

/** Whether the selector matches the labels; an unparsable selector matches nothing (validation reports it). */
export function selectorMatches(selector: Json, labels: Record<string, string>): boolean {
  try {
    return labelSelectorFromMatch(selector as LabelSelectorSpec).matches(labels);
  } catch {
    return false;
  }
}

/**
 * The selector must select the template's pods (ValidatePodTemplateSpecForReplicaSet and the Job
 * equivalent). The value is the template's labels, which upstream prints as a Go map.
 */
export function validateSelectorMatchesTemplate(selector: Json, template: unknown, templatePath: string): FieldError[] {
  if (selectorIsEmpty(selector)) return [];
  const labels = templateLabels(template);
  if (selectorMatches(selector, labels)) return [];
  return [{ field: `${templatePath}.metadata.labels`, type: 'FieldValueInvalid', value: labels, detail: '`selector` does not match template `labels`' }];
}

/**
 * spec.selector of apps kinds: required, valid, non-empty, and matching the template. `kindWord` is the
 * word in upstream's "empty selector is invalid for <kind>" (deployment, daemonset, ...).
 */
export function validateAppsSelector(spec: Json, kindWord: string): FieldError[] {
  if (!isObject(spec.selector)) return [{ field: 'spec.selector', type: 'FieldValueRequired' }];
  const errors = validateLabelSelector(spec.selector, 'spec.selector');
  if (selectorIsEmpty(spec.selector)) errors.push({ field: 'spec.selector', type: 'FieldValueInvalid', value: spec.selector, detail: `empty selector is invalid for ${kindWord}` });
  errors.push(...validateSelectorMatchesTemplate(spec.selector, spec.template, 'spec.template'));
  return errors;
}

/** The wide SELECTOR cell (metav1.FormatLabelSelector): the canonical string, `<none>` when empty. */
export function formatSelector(selector: unknown): string {
  if (!isObject(selector)) return '<none>';
  try {
    const text = labelSelectorFromMatch(selector as LabelSelectorSpec).toString();
    return text || '<none>';
  } catch {
    return '<error>';
  }
}

export function validateNonNegative(value: unknown, field: string): FieldError[] {
  return typeof value === 'number' && value < 0 ? [{ field, type: 'FieldValueInvalid', value, detail: 'must be greater than or equal to 0' }] : [];
}

/** Structural equality of JSON values (key order does not matter). */
export function sameJson(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (Array.isArray(left) || Array.isArray(right)) {
    return Array.isArray(left) && Array.isArray(right) && left.length === right.length && left.every((item, index) => sameJson(item, right[index]));
  }
  if (!isObject(left) || !isObject(right)) return false;
  const keys = Object.keys(left).filter((key) => left[key] !== undefined);
  const otherKeys = Object.keys(right).filter((key) => right[key] !== undefined);
  return keys.length === otherKeys.length && keys.every((key) => sameJson(left[key], right[key]));
}

export function validateImmutable(value: unknown, old: unknown, field: string): FieldError[] {
  return sameJson(value, old) ? [] : [{ field, type: 'FieldValueInvalid', value, detail: 'field is immutable' }];
}

/** ValidatePositiveIntOrPercent: a non-negative int or a `<digits>%` string. */
export function validateIntOrPercent(value: unknown, field: string): FieldError[] {
  if (value === undefined) return [];
  if (typeof value === 'string') {
    if (/^[0-9]+%$/.test(value)) return [];
    return [{ field, type: 'FieldValueInvalid', value, detail: "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')" }];
  }
  return validateNonNegative(value, field);
}

/** IsNotMoreThan100Percent. */
export function validateNotOver100Percent(value: unknown, field: string): FieldError[] {
  return typeof value === 'string' && /^[0-9]+%$/.test(value) && Number(value.slice(0, -1)) > 100 ? [{ field, type: 'FieldValueInvalid', value, detail: 'must not be greater than 100%' }] : [];
}

/** The numeric part of an int-or-percent, to compare against 0. */
export function intOrPercentValue(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.endsWith('%')) return Number(value.slice(0, -1));
  return 0;
}

/** intstr's String(): ints as decimals, strings as they are. */
export function intOrStringText(value: unknown): string {
  return typeof value === 'number' ? String(value) : String(value ?? '');
}
