// Value validation of a custom resource against its schema, as kube-openapi's SchemaValidator does it for
// apiextensions-apiserver: the same validators in the same order per node (type, allOf/anyOf/oneOf/not,
// string, format, number, array, enum, object), the same messages ("spec.replicas in body should be less
// than or equal to 10") and the same conversion into field errors (Invalid, TypeInvalid, TooLong, TooMany,
// Required, NotSupported). On update, ratcheting (CRDValidationRatcheting, on by default since 1.30) drops
// the errors of every node whose value equals the old one, correlating old and new by property name and,
// for list-type=map lists, by key (sets by value).

import type { FieldError } from '../request/status.js';
import { RenderedValue } from '../request/status.js';
import { deepEqual } from '../registry/managed-fields.js';
import { matchesFormat } from './formats.js';
import { formatGoFloat, goQuote, goSyntax, isGoInteger, MAX_RENDERED_VALUE } from './go-values.js';
import type { SchemaNode } from './structural.js';
import { Correlation } from './correlation.js';

type ErrorCode =
  | 'type'
  | 'required'
  | 'tooLong'
  | 'tooShort'
  | 'pattern'
  | 'enum'
  | 'multipleOf'
  | 'maximum'
  | 'minimum'
  | 'unique'
  | 'maxItems'
  | 'minItems'
  | 'tooFewProperties'
  | 'tooManyProperties'
  | 'unallowedProperty'
  | 'multipleOfMustBePositive'
  | 'composite';

interface OpenAPIError {
  code: ErrorCode;
  /** kube-openapi's path: `spec.replicas`, `spec.items[0]`, `.spec` for a required root property. */
  name: string;
  message: string;
  value?: unknown;
  valid?: number;
  values?: unknown[];
}

class Result {
  errors: OpenAPIError[] = [];
  matchCount = 0;

  add(error: OpenAPIError): void {
    // kube-openapi keeps one error per distinct message.
    if (!this.errors.some((existing) => existing.message === error.message)) this.errors.push(error);
  }

  merge(other: Result | undefined): this {
    if (!other) return this;
    for (const error of other.errors) this.add(error);
    this.matchCount += other.matchCount;
    return this;
  }

  get valid(): boolean {
    return this.errors.length === 0;
  }
}

function single(error: OpenAPIError): Result {
  const result = new Result();
  result.errors.push(error);
  return result;
}

// ---- the validator ------------------------------------------------------------------------------

const IN = 'body';

function kindOf(data: unknown): 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object' {
  if (typeof data === 'string') return 'string';
  if (typeof data === 'number') return isGoInteger(data) ? 'integer' : 'number';
  if (typeof data === 'boolean') return 'boolean';
  return Array.isArray(data) ? 'array' : 'object';
}

/** kube-openapi's InvalidType message: the actual type is quoted when it is a string. */
function invalidType(name: string, typeName: string, actual: string): OpenAPIError {
  return { code: 'type', name, value: actual, message: `${name} in ${IN} must be of type ${typeName}: ${JSON.stringify(actual)}` };
}

function validateNode(data: unknown, node: SchemaNode, path: string, correlation: Correlation | undefined): Result {
  const result = new Result();
  if (data === null || data === undefined) {
    result.merge(typeCheck(null, node, path));
    result.merge(enumCheck(null, node, path));
    return ratchet(result, correlation);
  }
  const kind = kindOf(data);
  const run = (validator: () => Result | undefined) => {
    result.merge(validator());
    result.matchCount++;
  };
  if (node.types.length > 0 || node.format !== '') run(() => typeCheck(data, node, path));
  if (node.allOf || node.anyOf || node.oneOf || node.not) run(() => junctorCheck(data, node, path, correlation));
  else result.matchCount += 2; // what an empty junctor check counts, without building its result
  if (kind === 'string') run(() => stringCheck(data as string, node, path));
  if (kind === 'string' && node.format !== '') run(() => formatCheck(data as string, node, path));
  if (kind === 'integer' || kind === 'number') run(() => numberCheck(data as number, node, path));
  if (kind === 'array') run(() => arrayCheck(data as unknown[], node, path, correlation));
  run(() => enumCheck(data, node, path));
  if (kind === 'object') run(() => objectCheck(data as Record<string, unknown>, node, path, correlation));
  result.matchCount++;
  return ratchet(result, correlation);
}

/** Errors of an unchanged value do not block an update (upstream turns them into warnings nobody sees). */
function ratchet(result: Result, correlation: Correlation | undefined): Result {
  if (result.valid || !correlation || !correlation.deepEqual()) return result;
  const ratcheted = new Result();
  ratcheted.matchCount = result.matchCount;
  return ratcheted;
}

function typeCheck(data: unknown, node: SchemaNode, path: string): Result | undefined {
  const typeName = node.types.join(',');
  if (data === null) {
    if (node.types.length > 0 && !node.nullable) return single(invalidType(path, typeName, 'null'));
    return undefined;
  }
  const kind = kindOf(data);
  const types = node.types;
  const contains = (type: string) => types.includes(type);
  const isIntFloat = kind === 'integer' && contains('number');
  if (kind !== 'string' && kind !== 'array' && node.format !== '' && !(contains(kind) || isIntFloat)) {
    const valueFormat = kind === 'integer' ? 'int64' : kind === 'number' ? 'float64' : '';
    if (valueFormat !== node.format) return single(invalidType(path, node.format, valueFormat));
  }
  // A string or list with a format passes the type check whatever the type says (kube-openapi's shortcut).
  if (!(contains('number') || contains('integer')) && node.format !== '' && (kind === 'string' || kind === 'array')) return undefined;
  if (types.length > 0 && !(contains(kind) || isIntFloat)) return single(invalidType(path, typeName, kind));
  const passed = new Result();
  passed.matchCount = 1;
  return passed;
}

function junctorCheck(data: unknown, node: SchemaNode, path: string, correlation: Correlation | undefined): Result {
  const main = new Result();
  const quoted = JSON.stringify(path);
  if (node.anyOf) {
    let best: Result | undefined;
    let firstSuccess: Result | undefined;
    for (const member of node.anyOf) {
      const result = validateNode(data, member, path, correlation);
      if (result.valid) {
        best = undefined;
        firstSuccess = result;
        break;
      }
      if (!best || result.matchCount > best.matchCount) best = result;
    }
    if (!firstSuccess) main.add({ code: 'composite', name: path, message: `${quoted} must validate at least one schema (anyOf)` });
    main.merge(best ?? firstSuccess);
  }
  if (node.oneOf) {
    let best: Result | undefined;
    let firstSuccess: Result | undefined;
    let validated = 0;
    for (const member of node.oneOf) {
      const result = validateNode(data, member, path, correlation);
      if (result.valid) {
        validated++;
        best = undefined;
        firstSuccess ??= result;
        continue;
      }
      if (validated === 0 && (!best || result.matchCount > best.matchCount)) best = result;
    }
    if (validated !== 1) {
      const detail = validated === 0 ? 'Found none valid' : `Found ${validated} valid alternatives`;
      main.add({ code: 'composite', name: path, message: `${quoted} must validate one and only one schema (oneOf). ${detail}` });
      main.merge(best);
    } else {
      main.merge(firstSuccess);
    }
  }
  if (node.allOf) {
    let validated = 0;
    for (const member of node.allOf) {
      const result = validateNode(data, member, path, correlation);
      if (result.valid) validated++;
      main.merge(result);
    }
    if (validated !== node.allOf.length) {
      main.add({ code: 'composite', name: path, message: `${quoted} must validate all the schemas (allOf)${validated === 0 ? '. None validated' : ''}` });
    }
  }
  if (node.not && validateNode(data, node.not, path, correlation).valid) {
    main.add({ code: 'composite', name: path, message: `${quoted} must not validate the schema (not)` });
  }
  main.matchCount++;
  return main;
}

function stringCheck(data: string, node: SchemaNode, path: string): Result | undefined {
  // Go counts runes (code points), not UTF-16 units; kube-openapi reports only the first failing check.
  const length = node.maxLength !== undefined || node.minLength !== undefined ? countCodePoints(data) : 0;
  if (node.maxLength !== undefined && length > node.maxLength) {
    return single({ code: 'tooLong', name: path, value: data, valid: node.maxLength, message: `${path} in ${IN} should be at most ${node.maxLength} chars long` });
  }
  if (node.minLength !== undefined && length < node.minLength) {
    return single({ code: 'tooShort', name: path, value: data, valid: node.minLength, message: `${path} in ${IN} should be at least ${node.minLength} chars long` });
  }
  if (node.pattern) {
    const { source, regexp, error } = node.pattern;
    if (error) return single({ code: 'pattern', name: path, value: data, message: `${path} in ${IN} should match '${source}, but pattern is invalid: ${error}'` });
    if (!regexp!.test(data)) return single({ code: 'pattern', name: path, value: data, message: `${path} in ${IN} should match '${source}'` });
  }
  return undefined;
}

function countCodePoints(text: string): number {
  let count = 0;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) index++;
    }
    count++;
  }
  return count;
}

function formatCheck(data: string, node: SchemaNode, path: string): Result | undefined {
  if (matchesFormat(node.format, data)) return undefined;
  return single(invalidTypeWithData(path, node.format, data));
}

function invalidTypeWithData(path: string, typeName: string, data: string): OpenAPIError {
  return { code: 'type', name: path, value: data, message: `${path} in ${IN} must be of type ${typeName}: ${goQuote(data)}` };
}

/** `%v` of a bound: an int64 bound for integer data (Go truncates the float), a float64 one otherwise. */
function bound(value: number, integerData: boolean): string {
  return integerData ? String(Math.trunc(value)) : formatGoFloat(value);
}

function numberCheck(data: number, node: SchemaNode, path: string): Result {
  const result = new Result();
  const integer = isGoInteger(data);
  if (node.multipleOf !== undefined) {
    const factor = integer ? Math.trunc(node.multipleOf) : node.multipleOf;
    if (factor <= 0) {
      result.add({ code: 'multipleOfMustBePositive', name: path, value: factor, message: `factor MultipleOf declared for ${path} must be positive: ${bound(factor, integer)}` });
    } else if (integer ? data % factor !== 0 : !isFloatAnInteger(factor < 1 ? (1 / factor) * data : data / factor)) {
      result.add({ code: 'multipleOf', name: path, value: data, message: `${path} in ${IN} should be a multiple of ${bound(factor, integer)}` });
    }
  }
  if (node.minimum !== undefined) {
    const minimum = integer ? Math.trunc(node.minimum) : node.minimum;
    if (node.exclusiveMinimum ? data <= minimum : data < minimum) {
      const relation = node.exclusiveMinimum ? 'greater than' : 'greater than or equal to';
      result.add({ code: 'minimum', name: path, value: data, message: `${path} in ${IN} should be ${relation} ${bound(node.minimum, integer)}` });
    }
  }
  if (node.maximum !== undefined) {
    const maximum = integer ? Math.trunc(node.maximum) : node.maximum;
    if (node.exclusiveMaximum ? data >= maximum : data > maximum) {
      const relation = node.exclusiveMaximum ? 'less than' : 'less than or equal to';
      result.add({ code: 'maximum', name: path, value: data, message: `${path} in ${IN} should be ${relation} ${bound(node.maximum, integer)}` });
    }
  }
  result.matchCount++;
  return result;
}

/** swag.IsFloat64AJSONInteger: whole, or within a relative 1e-9 of a whole number. */
function isFloatAnInteger(value: number): boolean {
  if (!Number.isFinite(value)) return false;
  if (Number.isInteger(value)) return true;
  const whole = Math.trunc(value);
  return Math.abs(value - whole) / Math.min(Math.abs(value) + Math.abs(whole), Number.MAX_VALUE) < 1e-9;
}

function arrayCheck(data: unknown[], node: SchemaNode, path: string, correlation: Correlation | undefined): Result {
  const result = new Result();
  if (node.items) {
    for (let index = 0; index < data.length; index++) {
      result.merge(validateNode(data[index], node.items, `${path}[${index}]`, correlation?.index(index)));
    }
  }
  if (node.minItems !== undefined && data.length < node.minItems) {
    result.add({ code: 'minItems', name: path, value: data.length, valid: node.minItems, message: `${path} in ${IN} should have at least ${node.minItems} items` });
  }
  if (node.maxItems !== undefined && data.length > node.maxItems) {
    result.add({ code: 'maxItems', name: path, value: data.length, valid: node.maxItems, message: `${path} in ${IN} should have at most ${node.maxItems} items` });
  }
  if (node.uniqueItems && hasDuplicates(data)) {
    result.add({ code: 'unique', name: path, message: `${path} in ${IN} shouldn't contain duplicates` });
  }
  result.matchCount++;
  return result;
}

function hasDuplicates(data: unknown[]): boolean {
  const seen = new Set<string>();
  for (const item of data) {
    const key = typeof item === 'object' && item !== null ? `o${stableJson(item)}` : `${typeof item}:${String(item)}`;
    if (seen.has(key)) return true;
    seen.add(key);
  }
  return false;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (isPlainObject(item) ? Object.fromEntries(Object.keys(item).sort().map((key) => [key, item[key]])) : item));
}

/** kube-openapi's enum check: equal after Go's type conversion, so an integer matches the string of its rune. */
function enumCheck(data: unknown, node: SchemaNode, path: string): Result | undefined {
  if (!node.enum || node.enum.length === 0) return undefined;
  if (data !== null && data !== undefined) {
    for (const allowed of node.enum) {
      if (allowed === null || allowed === undefined) continue;
      if (deepEqual(data, allowed)) return undefined;
      if (typeof data === 'number' && isGoInteger(data) && typeof allowed === 'string' && runeString(data) === allowed) return undefined;
    }
  }
  return single({ code: 'enum', name: path, value: data, values: node.enum, message: `${path} in ${IN} should be one of ${JSON.stringify(node.enum)}` });
}

function runeString(value: number): string {
  return value >= 0 && value <= 0x10ffff && !(value >= 0xd800 && value <= 0xdfff) ? String.fromCodePoint(value) : '\uFFFD';
}

function objectCheck(data: Record<string, unknown>, node: SchemaNode, path: string, correlation: Correlation | undefined): Result {
  const result = new Result();
  const keys = Object.keys(data);
  if (node.minProperties !== undefined && keys.length < node.minProperties) {
    result.add({ code: 'tooFewProperties', name: path, value: keys.length, valid: node.minProperties, message: `${path} in ${IN} should have at least ${node.minProperties} properties` });
  }
  if (node.maxProperties !== undefined && keys.length > node.maxProperties) {
    result.add({ code: 'tooManyProperties', name: path, value: keys.length, valid: node.maxProperties, message: `${path} in ${IN} should have at most ${node.maxProperties} properties` });
  }
  const root = path === '';
  if (node.additionalPropertiesForbidden) {
    for (const key of keys) {
      if (!node.properties?.has(key)) result.add({ code: 'unallowedProperty', name: path, value: key, message: `${path}.${key} in ${IN} is a forbidden property` });
    }
  } else if (node.additionalProperties) {
    for (const key of keys) {
      if (node.properties?.has(key)) continue;
      result.merge(validateNode(data[key], node.additionalProperties, `${path}.${key}`, childCorrelation(correlation, key, root)));
    }
  }
  if (node.properties) {
    for (const key of keys) {
      const property = node.properties.get(key);
      if (!property) continue;
      result.merge(validateNode(data[key], property, root ? key : `${path}.${key}`, childCorrelation(correlation, key, root)));
    }
  }
  for (const name of node.required) {
    if (!Object.hasOwn(data, name)) result.add({ code: 'required', name: `${path}.${name}`, message: `${path}.${name} in ${IN} is required` });
  }
  return result;
}

/** apiVersion and kind are never ratcheted at the root: both objects show the same converted values. */
function childCorrelation(correlation: Correlation | undefined, key: string, root: boolean): Correlation | undefined {
  if (!correlation || (root && (key === 'apiVersion' || key === 'kind'))) return undefined;
  return correlation.key(key);
}

// ---- field errors ---------------------------------------------------------------------------------

/** A bad value for a message: strings and integers as they are, anything else rendered as Go would. */
function badValue(value: unknown): unknown {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number' && !isGoInteger(value)) return new RenderedValue(formatGoFloat(value));
  if (typeof value === 'object') return new RenderedValue(goSyntax(value));
  if (typeof value === 'string' && value.length > MAX_RENDERED_VALUE) return new RenderedValue(goQuote(value));
  return value;
}

/** apiextensions' kubeOpenAPIResultToFieldErrors. */
function toFieldErrors(errors: OpenAPIError[], prefix: string): FieldError[] {
  const fieldErrors: FieldError[] = [];
  for (const error of errors) {
    const relative = error.name === '.' ? '' : error.name.replace(/^\./, '');
    // A nil field.Path prints as "<nil>": junctor errors at the root of a custom resource are reported there.
    const field = (error.code === 'composite' ? prefix : prefix && relative ? `${prefix}.${relative}` : prefix || relative) || '<nil>';
    switch (error.code) {
      case 'required':
        fieldErrors.push({ field, type: 'FieldValueRequired' });
        break;
      case 'enum':
        fieldErrors.push({
          field,
          type: 'FieldValueNotSupported',
          // field.NotSupported shows a nil value as the string "null".
          value: error.value === null || error.value === undefined ? 'null' : badValue(error.value),
          supported: (error.values ?? []).map((allowed) => (typeof allowed === 'string' ? allowed : JSON.stringify(allowed))),
        });
        break;
      case 'tooLong':
        fieldErrors.push({ field, type: 'FieldValueTooLong', detail: `may not be more than ${error.valid} bytes` });
        break;
      case 'maxItems':
      case 'tooManyProperties':
        fieldErrors.push({ field, type: 'FieldValueTooMany', value: error.value, detail: `must have at most ${error.valid} items` });
        break;
      case 'type':
        fieldErrors.push({ field, type: 'FieldValueTypeInvalid', value: badValue(error.value), detail: error.message });
        break;
      case 'composite':
        fieldErrors.push({ field, type: 'FieldValueInvalid', value: '', detail: error.message });
        break;
      default:
        fieldErrors.push({ field, type: 'FieldValueInvalid', value: badValue(error.value), detail: error.message });
    }
  }
  return fieldErrors;
}

/** Validates a whole custom resource (or, with `prefix`, one subtree such as `status`). */
export function validateValue(value: unknown, schema: SchemaNode, options: { old?: unknown; ratchet?: boolean; prefix?: string } = {}): FieldError[] {
  const correlation = options.ratchet && options.old !== undefined ? new Correlation(value, options.old, schema) : undefined;
  const result = validateNode(value, schema, '', correlation);
  return toFieldErrors(result.errors, options.prefix ?? '');
}
