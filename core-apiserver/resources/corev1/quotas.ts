// v1 LimitRange and ResourceQuota: limit defaults cascade (max → default → defaultRequest, min →
// defaultRequest) as upstream's scheme defaults them; quotas print their usage as `used/hard` pairs.

import { defineResource, statusSubresource } from '../../../apiserver/registry/resource.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import { isObject } from '../../../apiserver/registry/object.js';
import type { FieldError } from '../../../apiserver/request/status.js';
import { ageColumn, nameColumn } from '../../../apiserver/registry/table.js';
import type { Json } from './pod-defaults.js';
import { objectsOf } from './pod-defaults.js';
import { parseQuantity, quantityString } from '../../../apiserver/registry/quantity.js';

function record(value: unknown): Json {
  return isObject(value) ? value : {};
}

function fillMissing(target: Json, from: unknown): void {
  for (const [key, value] of Object.entries(record(from))) if (!(key in target)) target[key] = value;
}

function applyLimitRangeDefaults(limitRange: KubeObject): void {
  for (const item of objectsOf(record(limitRange.spec).limits)) {
    if (item.type !== 'Container') continue;
    const defaults: Json = { ...record(item.default) };
    fillMissing(defaults, item.max);
    const requests: Json = { ...record(item.defaultRequest) };
    fillMissing(requests, defaults);
    fillMissing(requests, item.min);
    // Empty lists are omitted, as Go's omitempty would.
    if (Object.keys(defaults).length > 0) item.default = defaults;
    if (Object.keys(requests).length > 0) item.defaultRequest = requests;
  }
}

function validateQuantities(values: unknown, path: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const [name, value] of Object.entries(record(values))) {
    const quantity = parseQuantity(value);
    if (quantity !== undefined && quantity < 0) errors.push({ field: `${path}[${name}]`, type: 'FieldValueInvalid', value: String(value), detail: 'must be greater than or equal to 0' });
  }
  return errors;
}

function validateLimitRange(limitRange: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  objectsOf(record(limitRange.spec).limits).forEach((item, index) => {
    const path = `spec.limits[${index}]`;
    if (!item.type) errors.push({ field: `${path}.type`, type: 'FieldValueRequired' });
    for (const kind of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) errors.push(...validateQuantities(item[kind], `${path}.${kind}`));
    const min = record(item.min);
    for (const [name, value] of Object.entries(record(item.max))) {
      const low = parseQuantity(min[name]);
      const high = parseQuantity(value);
      if (low !== undefined && high !== undefined && low > high) {
        errors.push({ field: `${path}.min[${name}]`, type: 'FieldValueInvalid', value: String(min[name]), detail: `min value ${String(min[name])} is greater than max value ${String(value)}` });
      }
    }
  });
  return errors;
}

export const limitRanges = defineResource({
  group: '',
  version: 'v1',
  kind: 'LimitRange',
  plural: 'limitranges',
  namespaced: true,
  shortNames: ['limits'],
  schemaName: 'io.k8s.api.core.v1.LimitRange',
  // Upstream's printer is Name and Created At: the default columns.
  strategy: {
    prepareForCreate: applyLimitRangeDefaults,
    prepareForUpdate: applyLimitRangeDefaults,
    validate: validateLimitRange,
    validateUpdate: validateLimitRange,
  },
});

/** The REQUEST and LIMIT cells: `name: used/hard` pairs by resource name, `limits.*` in the second. */
export function quotaCells(quota: KubeObject): { request: string; limit: string } {
  const status = record(quota.status);
  const hard = record(status.hard);
  const used = record(status.used);
  const request: string[] = [];
  const limit: string[] = [];
  for (const name of Object.keys(hard).sort()) {
    const pair = `${name}: ${quantityString(used[name])}/${quantityString(hard[name])}`;
    const pieces = name.split('.');
    (pieces.length > 1 && pieces[0] === 'limits' ? limit : request).push(pair);
  }
  return { request: request.join(', '), limit: limit.join(', ') };
}

function validateQuota(quota: KubeObject): FieldError[] {
  return validateQuantities(record(quota.spec).hard, 'spec.hard');
}

export const resourceQuotas = defineResource({
  group: '',
  version: 'v1',
  kind: 'ResourceQuota',
  plural: 'resourcequotas',
  namespaced: true,
  returnDeletedObject: true,
  shortNames: ['quota'],
  schemaName: 'io.k8s.api.core.v1.ResourceQuota',
  subresources: { status: statusSubresource },
  // Upstream's PrepareForCreate resets the status to an empty struct: a new quota shows `status: {}`.
  strategy: { prepareForCreate: (quota) => void (quota.status = {}), validate: validateQuota, validateUpdate: validateQuota },
  printerColumns: [
    nameColumn,
    ageColumn,
    { name: 'Request', type: 'string', description: 'Request represents a minimum amount of cpu/memory that a container may consume.', value: (quota) => quotaCells(quota).request },
    {
      name: 'Limit',
      type: 'string',
      description: 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.',
      value: (quota) => quotaCells(quota).limit,
    },
  ],
});
