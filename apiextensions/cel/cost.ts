// Cost: a static worst-case estimate per rule when the CRD is written (upstream's cel.EstimateCost with
// sizes from maxLength/maxItems/maxProperties, or what fits in a 3 MiB request), and a runtime meter
// that stops an evaluation after a number of steps (upstream's per-call limit and per-object budget).

import type { CelDecl } from './types.js';
import { MAX_REQUEST_SIZE_BYTES } from './types.js';

/** Upstream's limits (k8s.io/apiserver/pkg/apis/cel/config.go and apiextensions validation). */
export const PER_CALL_LIMIT = 1_000_000;
export const RUNTIME_COST_BUDGET = 10_000_000;
export const STATIC_ESTIMATED_COST_LIMIT = 10_000_000;
export const STATIC_ESTIMATED_CRD_COST_LIMIT = 100_000_000;

interface AstNode {
  op: string;
  args: any;
}

interface Estimate {
  cost: number;
  /** What the value is, when known (for sizes of nested values). */
  decl?: CelDecl;
  /** Largest size of the value (string length, list/map entries). */
  size: number;
}

const unknownSize = MAX_REQUEST_SIZE_BYTES;
const traversal = (size: number) => Math.ceil(0.1 * size);

function sizeOf(decl: CelDecl | undefined): number {
  return decl ? decl.maxElements : unknownSize;
}

function stringDecl(maxElements: number): CelDecl {
  return { kind: 'string', minSize: 2, maxElements };
}

type Scope = Map<string, CelDecl | undefined>;

/** Worst-case cost of a parsed rule whose `self` (and `oldSelf`) is `root`. */
export function estimateCost(ast: AstNode, root: CelDecl): number {
  const scope: Scope = new Map([
    ['self', root],
    ['oldSelf', root],
  ]);
  return Math.min(estimate(ast, scope).cost, Number.MAX_SAFE_INTEGER);
}

function known(decl: CelDecl | undefined): Estimate {
  return { cost: 0, decl, size: sizeOf(decl) };
}

function estimate(node: AstNode, scope: Scope): Estimate {
  switch (node.op) {
    case 'value': {
      const value = node.args;
      const size = typeof value === 'string' ? value.length : value instanceof Uint8Array ? value.length : 0;
      return { cost: 0, size, decl: typeof value === 'string' ? stringDecl(size) : undefined };
    }
    case 'id': {
      const decl = scope.get(node.args);
      return { ...known(decl), cost: 1 };
    }
    case '.':
    case '.?': {
      const [operand, field] = node.args as [AstNode, string];
      const left = estimate(operand, scope);
      const decl = memberDecl(left.decl, field);
      return { cost: left.cost + 1, decl, size: sizeOf(decl) };
    }
    case '[]':
    case '[?]': {
      const [operand, index] = node.args as [AstNode, AstNode];
      const left = estimate(operand, scope);
      const right = estimate(index, scope);
      const decl = left.decl?.kind === 'list' ? left.decl.item : left.decl?.kind === 'map' ? left.decl.value : undefined;
      return { cost: left.cost + right.cost + 1, decl, size: sizeOf(decl) };
    }
    case '&&':
    case '||': {
      const [left, right] = (node.args as AstNode[]).map((child) => estimate(child, scope));
      return { cost: left.cost + right.cost, size: 0 };
    }
    case '?:': {
      const [condition, whenTrue, whenFalse] = (node.args as AstNode[]).map((child) => estimate(child, scope));
      const bigger = whenTrue.cost >= whenFalse.cost ? whenTrue : whenFalse;
      return { cost: condition.cost + bigger.cost, decl: bigger.decl, size: Math.max(whenTrue.size, whenFalse.size) };
    }
    case '!_':
    case '-_': {
      const operand = estimate(node.args as AstNode, scope);
      return { cost: operand.cost + 1, decl: operand.decl, size: operand.size };
    }
    case 'list': {
      // A literal's size is known: comprehensions over it cost per element, not per possible element.
      const items = (node.args as AstNode[]).map((child) => estimate(child, scope));
      const item = items[0]?.decl ?? { kind: 'dyn' as const, minSize: 1, maxElements: Math.max(0, ...items.map((entry) => entry.size)) };
      return { cost: 10 + items.reduce((total, entry) => total + entry.cost, 0), decl: { kind: 'list', item, minSize: 1, maxElements: items.length }, size: items.length };
    }
    case 'map': {
      const pairs = (node.args as [AstNode, AstNode][]).map(([key, value]) => [estimate(key, scope), estimate(value, scope)]);
      const value = pairs[0]?.[1].decl ?? { kind: 'dyn' as const, minSize: 1, maxElements: 0 };
      return { cost: 30 + pairs.flat().reduce((total, entry) => total + entry.cost, 0), decl: { kind: 'map', value, minSize: 1, maxElements: pairs.length }, size: pairs.length };
    }
    case 'call':
      return estimateCall(node.args[0], undefined, node.args[1], scope);
    case 'rcall':
      return estimateCall(node.args[0], node.args[1], node.args[2], scope);
    default:
      if (Array.isArray(node.args) && node.args.length === 2) return estimateBinary(node.op, node.args as [AstNode, AstNode], scope);
      return { cost: 1, size: unknownSize };
  }
}

function memberDecl(decl: CelDecl | undefined, field: string): CelDecl | undefined {
  if (decl?.kind === 'object') return decl.fields.get(field)?.decl;
  if (decl?.kind === 'map') return decl.value;
  return undefined;
}

function isSized(estimate: Estimate): boolean {
  const kind = estimate.decl?.kind;
  return kind === 'string' || kind === 'bytes' || kind === 'list' || kind === 'map' || kind === 'dyn';
}

function estimateBinary(op: string, [leftNode, rightNode]: [AstNode, AstNode], scope: Scope): Estimate {
  const left = estimate(leftNode, scope);
  const right = estimate(rightNode, scope);
  let cost = left.cost + right.cost + 1;
  let decl: CelDecl | undefined;
  if (op === '==' || op === '!=' || op === '<' || op === '<=' || op === '>' || op === '>=') {
    if (isSized(left) && isSized(right)) cost += traversal(Math.min(left.size, right.size));
  } else if (op === 'in') {
    if (isSized(right)) cost += right.size * (isSized(left) ? traversal(left.size) + 1 : 1);
  } else if (op === '+') {
    if (left.decl?.kind === 'string' || right.decl?.kind === 'string') {
      cost += traversal(left.size + right.size);
      decl = stringDecl(left.size + right.size);
    } else if (left.decl?.kind === 'list') {
      decl = { ...left.decl, maxElements: left.size + right.size };
    }
  }
  return { cost, decl, size: decl ? decl.maxElements : Math.max(left.size, right.size) };
}

const MACROS = new Set(['all', 'exists', 'exists_one', 'existsOne', 'map', 'filter', 'transformList', 'transformMap', 'transformMapEntry']);
const TWO_VARIABLE_ONLY = new Set(['existsOne', 'transformList', 'transformMap', 'transformMapEntry']);
const STRING_SCANS = new Set(['startsWith', 'endsWith', 'lowerAscii', 'upperAscii', 'trim', 'replace', 'split', 'substring', 'charAt', 'reverse', 'indexOf', 'lastIndexOf', 'isURL', 'url', 'quantity', 'isQuantity', 'ip', 'isIP', 'cidr', 'isCIDR']);

function estimateCall(name: string, receiverNode: AstNode | undefined, argNodes: AstNode[], scope: Scope): Estimate {
  if (receiverNode && MACROS.has(name) && argNodes.length >= 2 && argNodes[0].op === 'id') {
    const range = estimate(receiverNode, scope);
    const element = range.decl?.kind === 'list' ? range.decl.item : range.decl?.kind === 'map' ? stringDecl(unknownSize) : undefined;
    const inner: Scope = new Map(scope);
    // Two-variable forms (1.32's TwoVarComprehensions): index or key first, then the item or value.
    const twoVariables = argNodes.length >= 3 && argNodes[1].op === 'id' && (TWO_VARIABLE_ONLY.has(name) || name !== 'map');
    if (twoVariables) {
      const value = range.decl?.kind === 'list' ? range.decl.item : range.decl?.kind === 'map' ? range.decl.value : undefined;
      inner.set(argNodes[0].args as string, range.decl?.kind === 'list' ? { kind: 'int', minSize: 1, maxElements: 0 } : element);
      inner.set(argNodes[1].args as string, value);
    } else {
      inner.set(argNodes[0].args as string, element);
    }
    const steps = argNodes.slice(twoVariables ? 2 : 1).map((child) => estimate(child, inner));
    const perIteration = steps.reduce((total, step) => total + step.cost, 0) + 1;
    const count = range.decl?.kind === 'list' || range.decl?.kind === 'map' ? range.size : unknownSize;
    const cost = range.cost + count * perIteration;
    if (name === 'map' || name === 'transformList') return { cost, decl: { kind: 'list', item: steps[steps.length - 1].decl ?? stringDecl(unknownSize), minSize: 2, maxElements: count }, size: count };
    if (name === 'transformMap' || name === 'transformMapEntry') return { cost, decl: { kind: 'map', value: steps[steps.length - 1].decl ?? stringDecl(unknownSize), minSize: 2, maxElements: count }, size: count };
    if (name === 'filter') return { cost, decl: range.decl, size: count };
    return { cost, size: 0 };
  }
  if (name === 'has' && argNodes.length === 1) return { cost: estimate(argNodes[0], scope).cost, size: 0 };
  if (name === 'bind' && argNodes.length === 3 && argNodes[0].op === 'id') {
    const bound = estimate(argNodes[1], scope);
    const body = estimate(argNodes[2], new Map(scope).set(argNodes[0].args as string, bound.decl));
    return { cost: bound.cost + body.cost, decl: body.decl, size: body.size };
  }
  const receiver = receiverNode ? estimate(receiverNode, scope) : undefined;
  const args = argNodes.map((child) => estimate(child, scope));
  let cost = 1 + (receiver?.cost ?? 0) + args.reduce((total, arg) => total + arg.cost, 0);
  let decl: CelDecl | undefined;
  const subject = receiver ?? args[0];
  const subjectSize = subject ? subject.size : 0;
  if (name === 'size') {
    // constant time
  } else if (name === 'matches' || name === 'find' || name === 'findAll') {
    const pattern = args[receiver ? 0 : 1];
    cost += traversal(subjectSize) * Math.ceil(0.25 * (pattern?.size ?? unknownSize) + 1);
    if (name === 'find') decl = stringDecl(subjectSize);
  } else if (name === 'contains') {
    cost += traversal(subjectSize) * Math.max(1, args[0]?.size ?? 1);
  } else if (name === 'join') {
    const itemSize = receiver?.decl?.kind === 'list' ? sizeOf(receiver.decl.item) : unknownSize;
    cost += traversal(subjectSize * itemSize);
    decl = stringDecl(subjectSize * itemSize);
  } else if (name === 'isSorted' || name === 'sum' || name === 'min' || name === 'max' || (receiver?.decl?.kind === 'list' && (name === 'indexOf' || name === 'lastIndexOf'))) {
    cost += subjectSize;
    if (receiver?.decl?.kind === 'list' && name !== 'isSorted' && name !== 'indexOf' && name !== 'lastIndexOf') decl = receiver.decl.item;
  } else if (STRING_SCANS.has(name)) {
    cost += traversal(subjectSize);
    if (['lowerAscii', 'upperAscii', 'trim', 'replace', 'substring', 'reverse', 'charAt'].includes(name)) decl = stringDecl(name === 'replace' ? subjectSize * Math.max(1, args[1]?.size ?? 1) : subjectSize);
    if (name === 'split') decl = { kind: 'list', item: stringDecl(subjectSize), minSize: 2, maxElements: subjectSize };
  } else if (name === 'string' && subject) {
    cost += traversal(subjectSize);
    decl = stringDecl(subject.decl?.kind === 'string' ? subjectSize : 32);
  } else if (name === 'value' || name === 'orValue' || name === 'dyn') {
    decl = receiver?.decl ?? args[0]?.decl;
  }
  return { cost, decl, size: decl ? sizeOf(decl) : subjectSize };
}

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
