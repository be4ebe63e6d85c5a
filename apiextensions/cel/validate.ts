// Running compiled rules on a custom resource (upstream's schema/cel Validator): every node with a value
// runs its rules with `self` (and `oldSelf` when correlated), failures become field errors at the node
// or its rule's fieldPath, and on update an unchanged node's failures are only warnings (ratcheting).

import { Optional } from '@marcbachmann/cel-js';
import type { FieldError } from '../../apiserver/request/status.js';
import { fieldErrorMessage } from '../../apiserver/request/status.js';
import type { ValidationRule } from '../../apiserver/schema/types.js';
import { deepEqual } from '../../apiserver/registry/managed-fields.js';
import type { CompiledRule, NodeValidator, Program } from './compile.js';
import { COST_LIMIT_EXCEEDED, CostMeter, metered, PER_CALL_LIMIT, RUNTIME_COST_BUDGET } from './cost.js';
import { goDurationError, parseGoDuration, toCelValue } from './values.js';

const MAX_MESSAGE_EXPRESSION_SIZE = 5 * 1024;

export interface RuleResult {
  errors: FieldError[];
  /** Failures of unchanged values on update: reported, not enforced. */
  warnings: string[];
}

interface State {
  errors: FieldError[];
  warnings: string[];
  /** Remaining runtime budget for the whole object; negative once exhausted. */
  budget: number;
  /** An update: ratcheting applies. */
  update: boolean;
}

/** Validates `object` (and `old` on update) against the rules; the root is the custom resource. */
export function runRules(validator: NodeValidator, object: unknown, old?: unknown): RuleResult {
  const state: State = { errors: [], warnings: [], budget: RUNTIME_COST_BUDGET, update: old !== undefined };
  validateNode(validator, '', object, old, old !== undefined && deepEqual(object, old), state);
  return { errors: state.errors, warnings: state.warnings };
}

function child(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

/**
 * `old` is the correlated old value (undefined when there is none); `unchanged` whether the nearest
 * correlated node, this one or an ancestor, equals its old value (upstream's ratcheting rule).
 */
function validateNode(node: NodeValidator, path: string, value: unknown, old: unknown, unchanged: boolean, state: State): void {
  if (value === null || value === undefined || state.budget < 0) return;
  if (node.rules.length > 0) runNodeRules(node, path, value, old, unchanged, state);
  if (state.budget < 0) return;
  if (Array.isArray(value)) {
    if (!node.items) return;
    const oldItems = correlatedItems(node, old);
    value.forEach((item, index) => {
      if (state.budget < 0) return;
      const oldItem = oldItems?.(item);
      // Items of other lists are not correlatable: they ratchet with the list itself.
      const itemUnchanged = !oldItems ? unchanged : oldItem !== undefined && deepEqual(item, oldItem);
      validateNode(node.items!, `${path}[${index}]`, item, oldItem, itemUnchanged, state);
    });
    return;
  }
  if (typeof value !== 'object') return;
  const object = value as Record<string, unknown>;
  const oldObject = old !== null && typeof old === 'object' && !Array.isArray(old) ? (old as Record<string, unknown>) : undefined;
  for (const [key, item] of Object.entries(object)) {
    if (state.budget < 0) return;
    const property = node.properties.get(key);
    const target = property ?? (node.schema.properties?.[key] === undefined ? node.additionalProperties : undefined);
    if (!target) continue;
    const oldItem = oldObject?.[key];
    const itemPath = property ? child(path, key) : `${path}[${key}]`;
    // A field without an old value ratchets with the nearest correlated ancestor, which changed if it had an old value.
    const itemUnchanged = oldItem !== undefined ? deepEqual(item, oldItem) : old === undefined && unchanged;
    validateNode(target, itemPath, item, oldItem, itemUnchanged, state);
  }
}

/** Only list-type=map lists correlate their items with old ones, by their keys. */
function correlatedItems(node: NodeValidator, old: unknown): ((item: unknown) => unknown) | undefined {
  if (node.schema['x-kubernetes-list-type'] !== 'map' || !Array.isArray(old)) return undefined;
  const keys = node.schema['x-kubernetes-list-map-keys'] ?? [];
  const identity = (item: unknown) => (item !== null && typeof item === 'object' ? JSON.stringify(keys.map((key) => (item as Record<string, unknown>)[key] ?? null)) : undefined);
  const byKey = new Map<string, unknown>();
  for (const item of old) {
    const id = identity(item);
    if (id !== undefined && !byKey.has(id)) byKey.set(id, item);
  }
  return (item) => {
    const id = identity(item);
    return id === undefined ? undefined : byKey.get(id);
  };
}

function ruleErrorString(rule: ValidationRule): string {
  return rule.message?.trim() ? rule.message.trim() : rule.rule.trim();
}

function runNodeRules(node: NodeValidator, path: string, value: unknown, old: unknown, unchanged: boolean, state: State): void {
  const typeName = node.schema.type ?? '';
  const at = path || '<nil>';
  if (state.budget <= 0) {
    state.errors.push({ field: at, type: 'FieldValueInvalid', value: typeName, detail: 'validation failed due to running out of cost budget, no further validation rules will be run' });
    state.budget = -1;
    return;
  }
  const self = toCelValue(value, node.decl);
  const hasOld = old !== undefined && old !== null;
  const oldSelf = hasOld && node.rules.some((rule) => rule.usesOldSelf) ? toCelValue(old, node.decl) : undefined;
  for (const compiled of node.rules) {
    if (compiled.usesOldSelf && !hasOld && compiled.rule.optionalOldSelf !== true) continue;
    const activation = { self, oldSelf: compiled.rule.optionalOldSelf === true ? (hasOld ? Optional.of(oldSelf) : Optional.none()) : oldSelf };
    const outcome = evaluate(compiled.program, activation, state);
    if (outcome.kind === 'budget') {
      state.errors.push({ field: at, type: 'FieldValueInvalid', value: typeName, detail: 'validation failed due to running out of cost budget, no further validation rules will be run' });
      return;
    }
    if (outcome.kind === 'limit') {
      state.errors.push({ field: at, type: 'FieldValueInvalid', value: typeName, detail: `'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: ${ruleErrorString(compiled.rule)}` });
      state.budget = -1;
      return;
    }
    if (outcome.kind === 'error') {
      const detail = outcome.message.startsWith('no such overload')
        ? `'${outcome.message}': call arguments did not match a supported operator, function or macro signature for rule: ${ruleErrorString(compiled.rule)}`
        : `${outcome.message} evaluating rule: ${ruleErrorString(compiled.rule)}`;
      state.errors.push({ field: at, type: 'FieldValueInvalid', value: typeName, detail });
      continue;
    }
    if (outcome.value === true) continue;
    const errorPath = compiled.fieldPath ? child(path, compiled.fieldPath) : at;
    // Upstream ratchets every error of a failed rule, its messageExpression's budget errors included.
    const report = (error: FieldError) => {
      if (!compiled.usesOldSelf && state.update && unchanged) state.warnings.push(`${error.field}: ${fieldErrorMessage(error)}`);
      else state.errors.push(error);
    };
    const message = failureDetail(compiled, activation, state);
    if (message.fatal) {
      report({ field: errorPath, type: 'FieldValueInvalid', value: typeName, detail: message.fatal });
      state.budget = -1;
      return;
    }
    const detail = message.detail ?? (compiled.rule.message?.trim() ? compiled.rule.message.trim() : `failed rule: ${ruleErrorString(compiled.rule)}`);
    report(errorForReason(compiled.rule, errorPath, typeName, detail));
  }
}

type Outcome = { kind: 'value'; value: unknown } | { kind: 'error'; message: string } | { kind: 'limit' } | { kind: 'budget' };

function evaluate(program: Program, activation: Record<string, unknown>, state: State): Outcome {
  const meter = new CostMeter(PER_CALL_LIMIT);
  try {
    const value = metered(meter, () => program(activation));
    state.budget -= meter.used;
    if (state.budget < 0) return { kind: 'budget' };
    return { kind: 'value', value };
  } catch (error) {
    state.budget -= Math.min(meter.used, PER_CALL_LIMIT);
    if (error === COST_LIMIT_EXCEEDED) return { kind: 'limit' };
    if (state.budget < 0) return { kind: 'budget' };
    return { kind: 'error', message: runtimeMessage(error) };
  }
}

/** cel-js runtime errors in cel-go's words ("no such key: x"). */
function runtimeMessage(error: unknown): string {
  const summary = (error as { summary?: string })?.summary ?? (error instanceof Error ? error.message.split('\n')[0] : String(error));
  return summary
    .replace(/^No such key: index out of bounds, index (\d+) .*$/, 'index out of bounds: $1')
    .replace(/^No such key: /, 'no such key: ')
    .replace(/^integer overflow: .*$/, 'integer overflow')
    .replace(/^Invalid duration string: (.*)$/, (match, text: string) => (parseGoDuration(text) === undefined ? goDurationError(text) : match));
}

/**
 * The evaluated messageExpression (`detail`), nothing to fall back to `message` (upstream logs why), or
 * an error that ends validation (`fatal`: the budget or the per-call limit ran out).
 */
function failureDetail(compiled: CompiledRule, activation: Record<string, unknown>, state: State): { detail?: string; fatal?: string } {
  if (!compiled.messageExpression) return {};
  const outcome = evaluate(compiled.messageExpression, activation, state);
  if (outcome.kind === 'budget') return { fatal: 'messageExpression evaluation failed due to running out of cost budget, no further validation rules will be run' };
  if (outcome.kind === 'limit') return { fatal: `no further validation rules will be run due to call cost exceeds limit for messageExpression: ${JSON.stringify(compiled.rule.messageExpression)}` };
  if (outcome.kind !== 'value' || typeof outcome.value !== 'string') return {};
  const message = outcome.value.trim();
  if (message.length === 0 || message.length > MAX_MESSAGE_EXPRESSION_SIZE || /\n/.test(message)) return {};
  return { detail: message };
}

function errorForReason(rule: ValidationRule, field: string, typeName: string, detail: string): FieldError {
  switch (rule.reason) {
    case 'FieldValueForbidden':
      return { field, type: 'FieldValueForbidden', detail };
    case 'FieldValueRequired':
      return { field, type: 'FieldValueRequired', detail };
    case 'FieldValueDuplicate':
      return { field, type: 'FieldValueDuplicate', value: typeName };
    default:
      return { field, type: 'FieldValueInvalid', value: typeName, detail };
  }
}
