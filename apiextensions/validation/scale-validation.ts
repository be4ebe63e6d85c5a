// The scale subresource's invariants on a custom resource (apiextensions' ValidateScaleSpec and
// ValidateScaleStatus): the replicas at specReplicasPath and statusReplicasPath, where present, are
// integers between 0 and MaxInt32, and the selector at labelSelectorPath is a string. The field is the
// JSONPath as written in the CRD (`.spec.replicas`), as upstream reports it.

import type { FieldError } from '../../apiserver/request/status.js';
import { goPlain, goTypeName } from '../../apiserver/schema/go-values.js';

const MAX_INT32 = 2147483647;

export interface ScalePaths {
  specReplicasPath?: string;
  statusReplicasPath?: string;
  labelSelectorPath?: string;
}

/** unstructured.NestedFieldNoCopy: the value at a dotted path, whether it is there, or why it cannot be. */
function nested(object: unknown, jsonPath: string): { found: boolean; value?: unknown; error?: string } {
  const fields = jsonPath.replace(/^\./, '').split('.');
  let current = object;
  for (let index = 0; index < fields.length; index++) {
    if (current === null || current === undefined) return { found: false };
    if (typeof current !== 'object' || Array.isArray(current)) {
      const at = `.${fields.slice(0, index + 1).join('.')}`;
      return { found: false, error: `${at} accessor error: ${goPlain(current)} is of the type ${goTypeName(current)}, expected map[string]interface{}` };
    }
    if (!Object.hasOwn(current, fields[index])) return { found: false };
    current = (current as Record<string, unknown>)[fields[index]];
  }
  return { found: true, value: current };
}

function replicas(object: unknown, jsonPath: string): FieldError[] {
  const { found, value, error } = nested(object, jsonPath);
  const fields = `.${jsonPath.replace(/^\./, '')}`;
  if (error) return [{ field: jsonPath, type: 'FieldValueInvalid', value: 0, detail: error }];
  if (!found) return [];
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    return [{ field: jsonPath, type: 'FieldValueInvalid', value: 0, detail: `${fields} accessor error: ${goPlain(value)} is of the type ${goTypeName(value)}, expected int64` }];
  }
  if (value < 0) return [{ field: jsonPath, type: 'FieldValueInvalid', value, detail: 'should be a non-negative integer' }];
  if (value > MAX_INT32) return [{ field: jsonPath, type: 'FieldValueInvalid', value, detail: `should be less than or equal to ${MAX_INT32}` }];
  return [];
}

export function validateScaleSpec(object: unknown, scale: ScalePaths | undefined): FieldError[] {
  return scale?.specReplicasPath ? replicas(object, scale.specReplicasPath) : [];
}

export function validateScaleStatus(object: unknown, scale: ScalePaths | undefined): FieldError[] {
  if (!scale) return [];
  const errors = scale.statusReplicasPath ? replicas(object, scale.statusReplicasPath) : [];
  if (scale.labelSelectorPath) {
    const { found, value, error } = nested(object, scale.labelSelectorPath);
    const fields = `.${scale.labelSelectorPath.replace(/^\./, '')}`;
    if (error) errors.push({ field: scale.labelSelectorPath, type: 'FieldValueInvalid', value: '', detail: error });
    else if (found && typeof value !== 'string') {
      errors.push({ field: scale.labelSelectorPath, type: 'FieldValueInvalid', value: '', detail: `${fields} accessor error: ${goPlain(value)} is of the type ${goTypeName(value)}, expected string` });
    }
  }
  return errors;
}
