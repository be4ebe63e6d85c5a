// Upstream's checks of a version's fields beside its schema: printer columns
// (ValidateCustomResourceColumnDefinition), subresources (ValidateCustomResourceDefinitionSubresources),
// selectable fields (ValidateCustomResourceSelectableFields) and the deprecation warning
// (validateDeprecationWarning). `path` is where the field sits in the internal version
// (`spec.additionalPrinterColumns` when hoisted, `spec.versions[1].additionalPrinterColumns` when not).

import { isObject } from '../apiserver/registry/object.js';
import type { FieldError } from '../apiserver/request/status.js';

const COLUMN_TYPES = ['boolean', 'date', 'integer', 'number', 'string'];
const COLUMN_FORMATS = ['byte', 'date', 'date-time', 'double', 'float', 'int32', 'int64', 'password'];
export const MAX_SELECTABLE_FIELDS = 8;

const text = (value: unknown) => (typeof value === 'string' ? value : '');

export function validateColumns(columns: unknown, path: string): FieldError[] {
  if (!Array.isArray(columns)) return [];
  return columns.flatMap((column, index) => validateColumn(isObject(column) ? column : {}, `${path}[${index}]`));
}

function validateColumn(column: Record<string, unknown>, path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (!text(column.name)) errors.push({ field: `${path}.name`, type: 'FieldValueRequired' });
  const type = text(column.type);
  if (!type) errors.push({ field: `${path}.type`, type: 'FieldValueRequired', detail: `must be one of ${COLUMN_TYPES.join(',')}` });
  else if (!COLUMN_TYPES.includes(type)) errors.push({ field: `${path}.type`, type: 'FieldValueInvalid', value: type, detail: `must be one of ${COLUMN_TYPES.join(',')}` });
  const format = text(column.format);
  if (format && !COLUMN_FORMATS.includes(format)) errors.push({ field: `${path}.format`, type: 'FieldValueInvalid', value: format, detail: `must be one of ${COLUMN_FORMATS.join(',')}` });
  // The internal type's field is JSONPath, and so is upstream's error path.
  const jsonPath = text(column.jsonPath);
  if (!jsonPath) errors.push({ field: `${path}.JSONPath`, type: 'FieldValueRequired' });
  else errors.push(...validateSimpleJsonPath(jsonPath, `${path}.JSONPath`));
  return errors;
}

/** Upstream's validateSimpleJSONPath. */
export function validateSimpleJsonPath(value: string, path: string): FieldError[] {
  if (value.length === 0) return [{ field: path, type: 'FieldValueInvalid', value, detail: 'must not be empty' }];
  if (!value.startsWith('.')) return [{ field: path, type: 'FieldValueInvalid', value, detail: 'must be a simple json path starting with .' }];
  return [];
}

export function validateSubresources(subresources: unknown, path: string): FieldError[] {
  if (!isObject(subresources) || !isObject(subresources.scale)) return [];
  const scale = subresources.scale;
  const errors: FieldError[] = [];
  const under = (field: string, value: unknown, prefixes: string[], detail: string) => {
    const at = `${path}.scale.${field}`;
    const pathErrors = validateSimpleJsonPath(text(value), at);
    if (pathErrors.length > 0) errors.push(...pathErrors);
    else if (!prefixes.some((prefix) => text(value).startsWith(prefix))) errors.push({ field: at, type: 'FieldValueInvalid', value: text(value), detail });
  };
  if (!text(scale.specReplicasPath)) errors.push({ field: `${path}.scale.specReplicasPath`, type: 'FieldValueRequired' });
  else under('specReplicasPath', scale.specReplicasPath, ['.spec.'], 'should be a json path under .spec');
  if (!text(scale.statusReplicasPath)) errors.push({ field: `${path}.scale.statusReplicasPath`, type: 'FieldValueRequired' });
  else under('statusReplicasPath', scale.statusReplicasPath, ['.status.'], 'should be a json path under .status');
  if (text(scale.labelSelectorPath)) under('labelSelectorPath', scale.labelSelectorPath, ['.spec.', '.status.'], 'should be a json path under either .spec or .status');
  return errors;
}

export function validateDeprecationWarning(version: Record<string, unknown>, path: string): FieldError[] {
  const warning = version.deprecationWarning;
  if (warning === undefined || warning === null) return [];
  const field = `${path}.deprecationWarning`;
  if (version.deprecated !== true) return [{ field, type: 'FieldValueInvalid', value: warning, detail: 'can only be set for deprecated versions' }];
  const value = String(warning);
  const problems: string[] = [];
  if (Buffer.byteLength(value) > 256) problems.push('must be <= 256 characters long');
  if (value.length === 0) problems.push('must not be an empty string');
  let offset = 0;
  for (const character of value) {
    // Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space (upstream
    // tests it before IsControl, so a control character is reported as non-printable).
    if (character !== ' ' && !/[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(character)) {
      problems.push(`must only contain printable UTF-8 characters; non-printable character found at index ${offset}`);
      break;
    }
    offset += Buffer.byteLength(character);
  }
  return problems.map((detail) => ({ field, type: 'FieldValueInvalid' as const, value, detail }));
}

/**
 * Upstream's ValidateCustomResourceSelectableFields: each path must name, in the (structural) schema, a
 * string, boolean or integer field outside metadata, without array notation.
 */
export function validateSelectableFields(fields: unknown, schema: unknown, path: string): FieldError[] {
  if (!Array.isArray(fields) || fields.length === 0) return [];
  const errors: FieldError[] = [];
  const unique = new Set<string>();
  fields.forEach((selectable, index) => {
    const field = `${path}[${index}].jsonPath`;
    const jsonPath = isObject(selectable) ? text(selectable.jsonPath) : '';
    if (!jsonPath) {
      errors.push({ field, type: 'FieldValueRequired' });
      return;
    }
    const found = fieldAt(jsonPath, schema);
    if ('problem' in found) {
      errors.push({ field, type: 'FieldValueInvalid', value: jsonPath, detail: `is an invalid path: ${found.problem}` });
      return;
    }
    if (found.path.split(/[.[]/)[0] === 'metadata') errors.push({ field, type: 'FieldValueInvalid', value: jsonPath, detail: 'must not point to fields in metadata' });
    if (!['string', 'boolean', 'integer'].includes(found.schema.type as string)) {
      errors.push({ field, type: 'FieldValueInvalid', value: jsonPath, detail: 'must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed.' });
    }
    if (unique.has(found.path)) errors.push({ field, type: 'FieldValueDuplicate', value: jsonPath });
    else unique.add(found.path);
  });
  if (unique.size > MAX_SELECTABLE_FIELDS) errors.push({ field: path, type: 'FieldValueTooMany', value: unique.size, detail: `must have at most ${MAX_SELECTABLE_FIELDS} items` });
  return errors;
}

/** Upstream's cel.ValidFieldPath without array notation: `.a.b` through properties and map values. */
function fieldAt(jsonPath: string, schema: unknown): { path: string; schema: Record<string, unknown> } | { problem: string } {
  const tokens = jsonPath.match(/[.[\]]|[^.[\]]+/g) ?? [];
  let current: Record<string, unknown> = isObject(schema) ? schema : {};
  let normalized = '';
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index];
    if (token === '[') return { problem: 'array notation is not allowed' };
    if (token !== '.') return { problem: `expected [ or . but got: ${token}` };
    const name = tokens[++index];
    if (name === undefined) return { problem: 'unexpected end of JSON path' };
    if (isObject(current.properties)) {
      const next = current.properties[name];
      normalized += normalized ? `.${name}` : name;
      if (!isObject(next)) return { problem: 'does not refer to a valid field' };
      current = next;
    } else if (isObject(current.additionalProperties)) {
      normalized += `[${JSON.stringify(name)}]`;
      current = current.additionalProperties;
    } else {
      return { problem: 'does not refer to a valid field' };
    }
  }
  return { path: normalized, schema: current };
}
