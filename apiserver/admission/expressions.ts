// CEL for admission (upstream's admission/plugin/cel): webhook matchConditions and ValidatingAdmissionPolicy
// expressions, on the Kubernetes CEL library of apiextensions/cel. Upstream type-checks `object` against the
// resource's schema; here the admission variables are dynamic maps, so a field a policy names that the
// object lacks is a runtime "no such key" rather than a compile error — the same outcome for well-formed
// policies, since upstream also only warns about type-check failures (status.typeChecking).

import type { Environment } from '@marcbachmann/cel-js';
import { kubernetesEnvironment } from '../../apiextensions/cel/library.js';
import { celIssue } from '../../apiextensions/cel/compile.js';
import type { AdmissionAttributes } from './interface.js';
import type { Authorizer } from '../filters/authorize.js';
import { bootstrapAuthorizer } from '../filters/authorize.js';
import { celAuthorizer, registerAuthorizationLibrary } from './authorization-library.js';

export interface CompiledExpression {
  expression: string;
  /** The result, or a Promise of it when the expression made an authorization check. */
  evaluate(activation: Record<string, unknown>): unknown;
}

export type CompileResult = { ok: true; compiled: CompiledExpression } | { ok: false; error: string };

/** The variables every admission expression may use; `params`, `namespaceObject` and `variables` may be null. */
const VARIABLES = ['object', 'oldObject', 'request', 'params', 'namespaceObject', 'variables'];

let shared: Environment | undefined;

function environment(): Environment {
  if (shared) return shared;
  const env = kubernetesEnvironment();
  for (const name of VARIABLES) env.registerVariable(name, 'dyn');
  registerAuthorizationLibrary(env);
  env.registerVariable('authorizer', 'kubernetes.authorization.Authorizer');
  shared = env;
  return env;
}

interface Parsed {
  (context: Record<string, unknown>): unknown;
  check(): { valid: boolean; type?: string; error?: Parameters<typeof celIssue>[1] };
}

/** Parses and checks one expression; `resultType` 'bool' or 'string' when the result's type is fixed. */
export function compileExpression(expression: string, resultType?: 'bool' | 'string'): CompileResult {
  let program: Parsed;
  try {
    program = environment().parse(expression) as unknown as Parsed;
  } catch (error) {
    return { ok: false, error: celIssue(expression, error as Parameters<typeof celIssue>[1]) };
  }
  const checked = program.check();
  if (!checked.valid) return { ok: false, error: checked.error ? celIssue(expression, checked.error) : 'invalid expression' };
  if (resultType && checked.type !== resultType && checked.type !== 'dyn') return { ok: false, error: `must evaluate to ${resultType}` };
  return { ok: true, compiled: { expression, evaluate: (activation) => program(activation) } };
}

function firstLine(message: string): string {
  return message.split('\n')[0];
}

/** A decoded JSON value as CEL sees it without a schema: integers become int (bigint), the rest as is. */
export function toDynamic(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toDynamic);
  if (value !== null && typeof value === 'object') {
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) if (item !== undefined) result[key] = toDynamic(item);
    return result;
  }
  return value;
}

/** The `request` variable: the AdmissionRequest fields as upstream exposes them. */
export function requestVariable(attributes: AdmissionAttributes): Record<string, unknown> {
  const { user } = attributes;
  return toDynamic({
    kind: attributes.kind,
    resource: attributes.resource,
    subResource: attributes.subresource,
    requestKind: attributes.kind,
    requestResource: attributes.resource,
    requestSubResource: attributes.subresource,
    name: attributes.name,
    namespace: attributes.namespace,
    operation: attributes.operation,
    userInfo: { username: user.username, uid: user.uid ?? '', groups: user.groups, extra: user.extra ?? {} },
    dryRun: attributes.dryRun,
    options: attributes.options ?? null,
  }) as Record<string, unknown>;
}

/**
 * The base activation: object, oldObject and request (upstream sends null for what a request lacks), and
 * the authorizer for the requesting user (the server's; without one, the bootstrap rules).
 */
export function baseActivation(attributes: AdmissionAttributes, authorizer: Authorizer = bootstrapAuthorizer): Record<string, unknown> {
  return {
    object: toDynamic(attributes.object ?? null),
    oldObject: toDynamic(attributes.oldObject ?? null),
    request: requestVariable(attributes),
    params: null,
    namespaceObject: null,
    variables: {},
    authorizer: celAuthorizer(attributes.user, authorizer, {
      group: attributes.resource.group,
      resource: attributes.resource.resource,
      subresource: attributes.subresource,
      namespace: attributes.namespace,
      name: attributes.name,
    }),
  };
}

/** Evaluates, waiting for the authorization checks the expression made (if any). */
export async function evaluateSettled(compiled: CompiledExpression, activation: Record<string, unknown>): Promise<unknown> {
  const value = compiled.evaluate(activation);
  return value instanceof Promise ? await value : value;
}

export interface MatchCondition {
  name: string;
  compiled: CompiledExpression;
}

/** Compiles matchConditions; errors name the condition's index as upstream's validation does. */
export function compileMatchConditions(conditions: unknown): { conditions: MatchCondition[]; errors: string[] } {
  const result: MatchCondition[] = [];
  const errors: string[] = [];
  (Array.isArray(conditions) ? conditions : []).forEach((condition: { name?: string; expression?: string }, index) => {
    const compiled = compileExpression(String(condition?.expression ?? ''), 'bool');
    if (compiled.ok) result.push({ name: String(condition?.name ?? ''), compiled: compiled.compiled });
    else errors.push(`matchConditions[${index}].expression: compilation failed: ${compiled.error}`);
  });
  return { conditions: result, errors };
}

export type MatchConditionsResult = { matches: true } | { matches: false; failedCondition?: string } | { error: string };

/** All conditions must be true; a false one skips, an error is the caller's failure policy's to judge. */
export async function evaluateMatchConditions(conditions: MatchCondition[], activation: Record<string, unknown>): Promise<MatchConditionsResult> {
  const errors: string[] = [];
  for (const condition of conditions) {
    let value: unknown;
    try {
      value = await evaluateSettled(condition.compiled, activation);
    } catch (error) {
      errors.push(`failed to evaluate: expression '${condition.compiled.expression}' resulted in error: ${firstLine((error as Error).message)}`);
      continue;
    }
    if (value === false) return { matches: false, failedCondition: condition.name };
    if (value !== true) errors.push(`failed to evaluate: expression '${condition.compiled.expression}' must evaluate to bool`);
  }
  if (errors.length > 0) return { error: errors.join(', ') };
  return { matches: true };
}
