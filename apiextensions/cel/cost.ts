// Cost limits: upstream's budgets, how often a rule may run per object (for the static estimate of
// cost-estimate.ts), the error text, and a runtime meter that stops an evaluation after a number of steps
// (upstream's per-call limit and per-object budget).

import { MAX_REQUEST_SIZE_BYTES } from './types.js';

/** Upstream's limits (k8s.io/apiserver/pkg/apis/cel/config.go and apiextensions validation). */
export const PER_CALL_LIMIT = 1_000_000;
export const RUNTIME_COST_BUDGET = 10_000_000;
export const STATIC_ESTIMATED_COST_LIMIT = 10_000_000;
export const STATIC_ESTIMATED_CRD_COST_LIMIT = 100_000_000;

/**
 * How many times a rule at a node may run per object: the product of the maxItems/maxProperties of the
 * lists and maps above it, or, when one of them is unbounded, as many as fit in a request.
 */
export function maxCardinality(bounds: (number | undefined)[], minSize: number): number {
  let product = 1;
  for (const bound of bounds) {
    if (bound === undefined) return Math.floor(MAX_REQUEST_SIZE_BYTES / (minSize + 1));
    product *= bound;
  }
  return product;
}

/** Upstream's getCostErrorMessage. */
export function costErrorMessage(costName: string, cost: number, limit: number): string {
  const factor = cost / limit;
  let text: string;
  if (factor > 100) text = 'more than 100x';
  else if (factor < 1.5) text = `${factor.toFixed(6)}x`;
  else text = `${factor.toFixed(1)}x`;
  return `${costName} exceeds budget by factor of ${text} (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)`;
}

// ---- runtime ------------------------------------------------------------------------------------

const traversal = (size: number) => Math.ceil(0.1 * size);

/** Thrown (one shared instance, so a loop that keeps hitting it stays cheap) when a call runs out of budget. */
export const COST_LIMIT_EXCEEDED = new Error('operation cancelled: actual cost limit exceeded');

export class CostMeter {
  used = 0;
  constructor(readonly limit: number) {}
  get exceeded(): boolean {
    return this.used > this.limit;
  }
}

let active: CostMeter | undefined;

/** Runs `evaluate` with `meter` counting every evaluation step (see instrument). */
export function metered<T>(meter: CostMeter, evaluate: () => T): T {
  const previous = active;
  active = meter;
  try {
    const result = evaluate();
    if (meter.exceeded) throw COST_LIMIT_EXCEEDED;
    return result;
  } finally {
    active = previous;
  }
}

interface Evaluator {
  run(ast: { op: string; evaluate(evaluator: Evaluator, ast: unknown, context: unknown): unknown }, context: unknown): unknown;
}

/**
 * Makes an evaluator count: every node it evaluates costs 1 and a produced string or list costs its
 * size, as cel-go's runtime cost tracking. cel-js evaluates every child through `evaluator.run`, so
 * overriding it on the instance covers comprehension steps too.
 */
export function instrument(evaluator: Evaluator): void {
  evaluator.run = function run(ast, context) {
    const meter = active;
    if (meter && ++meter.used > meter.limit) throw COST_LIMIT_EXCEEDED;
    const result = ast.evaluate(this, ast, context);
    if (meter && (ast.op === 'call' || ast.op === 'rcall' || ast.op === '+')) {
      if (typeof result === 'string') meter.used += traversal(result.length);
      else if (Array.isArray(result)) meter.used += result.length;
    }
    return result;
  };
}
