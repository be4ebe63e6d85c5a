// The static worst-case cost of a rule, as cel-go's checker.Cost with Kubernetes' estimators computes it
// when a CRD is written (apiextensions' sizeEstimator and k8s.io/apiserver/pkg/cel/library CostEstimator):
// identifiers and selections cost 1, calls 1 plus their arguments unless a function has its own
// estimate (string traversals at 0.1 per character, regexes at 0.25 per pattern character, list
// functions per element), and a macro costs what its expansion into a comprehension costs: the range's
// size times the loop condition and step. Sizes come from the schema (maxLength, maxItems,
// maxProperties, or what fits in a request), from literals, or from a function's result.

import { GO_MATCHES } from './library.js';
import type { CelDecl } from './types.js';

type Range = [number, number];
type Ast = { op: string; args: any; checkedType?: { name?: string; kind?: string } };

/** cel-go's uint64 saturation, kept exact in a double up to well past every limit that matters. */
const MAX = 2 ** 64 - 1;
const STRING_TRAVERSAL = 0.1;
const REGEX_LENGTH = 0.25;
const LIST_CREATE = 10;
const MAP_CREATE = 30;
/** Upstream's MaxNameFormatRegexSize: the longest regex a named format validates with. */
const MAX_NAME_FORMAT_REGEX = 128;

const add = (a: number, b: number) => Math.min(MAX, a + b);
const mul = (a: number, b: number) => (a === 0 || b === 0 ? 0 : Math.min(MAX, a * b));
const factor = (a: number, f: number) => Math.min(MAX, Math.ceil(a * f));
const addR = (a: Range, b: Range): Range => [add(a[0], b[0]), add(a[1], b[1])];
const mulR = (a: Range, b: Range): Range => [mul(a[0], b[0]), mul(a[1], b[1])];
const factorR = (a: Range, f: number): Range => [factor(a[0], f), factor(a[1], f)];
const unionR = (a: Range, b: Range): Range => [Math.min(a[0], b[0]), Math.max(a[1], b[1])];
const ONE: Range = [1, 1];
const ZERO: Range = [0, 0];

interface Estimate {
  cost: Range;
  /** A literal's or a function result's size (cel-go's ComputedSize). */
  size?: Range;
  /** The schema node the value comes from (cel-go's expression path), for its size. */
  decl?: CelDecl;
}

type Scope = Map<string, CelDecl | undefined>;

const SCALARS = new Set(['bool', 'double', 'int', 'uint', 'google.protobuf.Duration', 'google.protobuf.Timestamp']);

function typeName(node: Ast): string {
  return node.checkedType?.name ?? 'dyn';
}

/** cel-go's sizeEstimate: computed size, then the schema's bound, then 1 for scalars, else unbounded. */
function sizeOf(node: Ast, estimate: Estimate): Range {
  if (estimate.size) return estimate.size;
  if (estimate.decl) return [0, estimate.decl.maxElements];
  return SCALARS.has(typeName(node)) ? ONE : [0, MAX];
}

class Coster {
  constructor(private readonly root: CelDecl) {}

  estimate(node: Ast, scope: Scope): Estimate {
    switch (node.op) {
      case 'value':
        return { cost: ZERO, size: literalSize(node.args) };
      case 'id': {
        const name = node.args as string;
        if (scope.has(name)) return { cost: ONE, decl: scope.get(name) };
        // cel-go's schema lookup skips a path's first element, so any other identifier (`int` in
        // `type(x) == int`) is sized as the rule's node itself.
        return { cost: ONE, decl: this.root };
      }
      case '.': {
        const [operand, field] = node.args as [Ast, string];
        const left = this.estimate(operand, scope);
        const kind = operand.checkedType?.kind;
        const selectCost = kind === 'map' || kind === 'message' ? ONE : ZERO;
        return { cost: addR(left.cost, selectCost), decl: fieldDecl(left.decl, field) };
      }
      case '.?': {
        // cel-go's optional select is a call: 1 plus the operand (the field name is a free literal).
        const [operand, field] = node.args as [Ast, string];
        const left = this.estimate(operand, scope);
        return { cost: addR(left.cost, ONE), decl: fieldDecl(left.decl, field) };
      }
      case '[]':
      case '[?]': {
        const [operand, index] = node.args as [Ast, Ast];
        const left = this.estimate(operand, scope);
        const right = this.estimate(index, scope);
        const decl = left.decl?.kind === 'list' ? left.decl.item : left.decl?.kind === 'map' ? left.decl.value : undefined;
        return { cost: addR(ONE, addR(left.cost, right.cost)), decl };
      }
      case '&&':
      case '||': {
        const [left, right] = (node.args as Ast[]).map((child) => this.estimate(child, scope));
        return { cost: [left.cost[0], add(left.cost[1], right.cost[1])] };
      }
      case '?:': {
        const children = node.args as Ast[];
        const [condition, whenTrue, whenFalse] = children.map((child) => this.estimate(child, scope));
        return { cost: addR(condition.cost, unionR(whenTrue.cost, whenFalse.cost)), size: unionR(sizeOf(children[1], whenTrue), sizeOf(children[2], whenFalse)) };
      }
      case '!_':
      case '-_': {
        // cel-go parses `-1.0` as one negative literal.
        if (node.op === '-_' && (node.args as Ast).op === 'value') return { cost: ZERO, size: ONE };
        const operand = this.estimate(node.args as Ast, scope);
        return { cost: addR(ONE, operand.cost) };
      }
      case 'list': {
        const items = (node.args as Ast[]).map((child) => this.estimate(child, scope));
        const count = items.length;
        return { cost: items.reduce((total, item) => addR(total, item.cost), [LIST_CREATE, LIST_CREATE] as Range), size: [count, count] };
      }
      case 'map': {
        const entries = node.args as [Ast, Ast][];
        let cost: Range = [MAP_CREATE, MAP_CREATE];
        for (const [key, value] of entries) cost = addR(addR(cost, this.estimate(key, scope).cost), this.estimate(value, scope).cost);
        return { cost, size: [entries.length, entries.length] };
      }
      case 'call':
        return this.call(node, node.args[0] as string, undefined, node.args[1] as Ast[], scope);
      case 'rcall':
        return this.call(node, node.args[0] as string, node.args[1] as Ast, node.args[2] as Ast[], scope);
      default:
        if (Array.isArray(node.args) && node.args.length === 2) return this.binary(node, scope);
        return { cost: ONE };
    }
  }

  private binary(node: Ast, scope: Scope): Estimate {
    const [leftNode, rightNode] = node.args as [Ast, Ast];
    const left = this.estimate(leftNode, scope);
    const right = this.estimate(rightNode, scope);
    const args = addR(left.cost, right.cost);
    const leftType = typeName(leftNode);
    const sized = (type: string) => type === 'string' || type === 'bytes';
    switch (node.op) {
      case '==':
      case '!=': {
        // Kubernetes' opaque and struct types compare in constant time.
        if (/^(net\.IP|net\.CIDR|kubernetes\.Quantity)$/.test(leftType) && leftType === typeName(rightNode)) return { cost: addR(ONE, args) };
        if (leftType === 'net.URL' && typeName(rightNode) === 'net.URL') return { cost: addR(ONE, args) };
        return { cost: addR(sizeComparison(sizeOf(leftNode, left), sizeOf(rightNode, right)), args) };
      }
      case '<':
      case '<=':
      case '>':
      case '>=':
        if (sized(leftType) && leftType === typeName(rightNode)) return { cost: addR(sizeComparison(sizeOf(leftNode, left), sizeOf(rightNode, right)), args) };
        return { cost: addR(ONE, args) };
      case '+': {
        const type = typeName(node);
        if (type === 'string' || type === 'bytes' || type.startsWith('list')) {
          const size = addR(sizeOf(leftNode, left), sizeOf(rightNode, right));
          const own = type.startsWith('list') ? ONE : factorR(size, STRING_TRAVERSAL);
          return { cost: addR(own, args), size };
        }
        return { cost: addR(ONE, args) };
      }
      case 'in':
        if (typeName(rightNode).startsWith('list')) return { cost: addR(factorR(sizeOf(rightNode, right), 1), args) };
        return { cost: addR(ONE, args) };
      default:
        return { cost: addR(ONE, args) };
    }
  }

  private call(node: Ast, name: string, targetNode: Ast | undefined, argNodes: Ast[], scope: Scope): Estimate {
    const macro = this.macro(name, targetNode, argNodes, scope);
    if (macro) return macro;
    // `sets.contains(…)`, `strings.quote(…)`, `ip.isCanonical(…)`: cel-go's namespaced global functions have no target.
    if (targetNode?.op === 'id' && NAMESPACES.has(targetNode.args as string) && !scope.has(targetNode.args as string)) {
      if (targetNode.args === 'sets' && argNodes.length === 2) {
        const args = argNodes.map((child) => this.estimate(child, scope));
        const own = addR(factorR(mulR(sizeOf(argNodes[0], args[0]), sizeOf(argNodes[1], args[1])), name === 'equivalent' ? 2 : 1), ONE);
        return { cost: args.reduce((total, arg) => addR(total, arg.cost), own) };
      }
      targetNode = undefined;
    }
    const target = targetNode ? this.estimate(targetNode, scope) : undefined;
    const args = argNodes.map((child) => this.estimate(child, scope));
    const argCost = args.reduce((total, arg) => addR(total, arg.cost), ZERO);
    const own = this.functionCost(name, node, targetNode, target, argNodes, args);
    const cost = addR(addR(target?.cost ?? ZERO, own.cost), argCost);
    return { cost, size: own.size, decl: own.decl };
  }

  /** A function's own cost (arguments excluded): Kubernetes' estimator, then cel-go's special cases, else 1. */
  private functionCost(name: string, node: Ast, targetNode: Ast | undefined, target: Estimate | undefined, argNodes: Ast[], args: Estimate[]): { cost: Range; size?: Range; decl?: CelDecl } {
    const targetSize = targetNode && target ? sizeOf(targetNode, target) : ZERO;
    const argSize = (index: number) => (argNodes[index] ? sizeOf(argNodes[index], args[index]) : ZERO);
    const targetType = targetNode ? typeName(targetNode) : '';
    switch (name) {
      case 'isSorted':
      case 'sum':
      case 'max':
      case 'min':
      case 'indexOf':
      case 'lastIndexOf':
        if (targetNode) {
          if (targetType.startsWith('list')) {
            const element = target?.decl?.kind === 'list' ? target.decl.item : undefined;
            const elementType = targetType.slice(5, -1);
            let perElement: Range = ONE;
            if (elementType === 'string' || elementType === 'bytes') perElement = addR(perElement, factorR(element ? [0, element.maxElements] : [0, MAX], STRING_TRAVERSAL));
            const result = name === 'sum' || name === 'min' || name === 'max' ? { decl: element } : {};
            return { cost: mulR(targetSize, perElement), ...result };
          }
          return { cost: factorR(targetSize, STRING_TRAVERSAL) };
        }
        break;
      case 'url':
        if (argNodes.length === 1) return { cost: factorR(argSize(0), STRING_TRAVERSAL), size: argSize(0) };
        break;
      case 'lowerAscii':
      case 'upperAscii':
      case 'substring':
      case 'trim':
        if (targetNode) return { cost: factorR(targetSize, STRING_TRAVERSAL), size: targetSize };
        break;
      case 'replace':
        if (targetNode && argNodes.length >= 2) return replaceCost(targetSize, argSize(0), argSize(1));
        break;
      case 'split':
        if (targetNode) {
          const limit = argNodes[1]?.op === 'value' && typeof argNodes[1].args === 'bigint' ? Number(argNodes[1].args) : targetSize[1];
          return { cost: factorR(targetSize, 2 * STRING_TRAVERSAL), size: [0, limit] };
        }
        break;
      case 'join':
        if (targetNode) {
          const element = target?.decl?.kind === 'list' ? target.decl.item : undefined;
          let size: Range = element ? mulR(targetSize, [0, element.maxElements]) : ZERO;
          if (argNodes.length > 0) size = addR(size, mulR(argSize(0), [Math.max(0, targetSize[0] - 1), Math.max(0, targetSize[1] - 1)]));
          return { cost: factorR(size, STRING_TRAVERSAL), size };
        }
        break;
      case 'find':
      case 'findAll':
        if (targetNode && argNodes.length >= 1) {
          const strCost = factorR(addR(targetSize, ONE), STRING_TRAVERSAL);
          return { cost: mulR(strCost, factorR(argSize(0), REGEX_LENGTH)), size: [0, targetSize[1]] };
        }
        break;
      case 'cidr':
      case 'isIP':
      case 'isCIDR':
      case 'quantity':
      case 'isQuantity':
        // Upstream only estimates these as methods (never, for the global functions): the default applies.
        break;
      case 'ip':
        if (targetNode && argNodes.length === 0) return { cost: ONE };
        break;
      case 'masked':
      case 'prefixLength':
      case 'family':
      case 'isUnspecified':
      case 'isLoopback':
      case 'isLinkLocalMulticast':
      case 'isLinkLocalUnicast':
      case 'isGlobalUnicast':
      case 'named':
      case 'sign':
      case 'asInteger':
      case 'isInteger':
      case 'asApproximateFloat':
      case 'isGreaterThan':
      case 'isLessThan':
      case 'compareTo':
      case 'getScheme':
      case 'getHostname':
      case 'getHost':
      case 'getPort':
      case 'getEscapedPath':
      case 'getQuery':
        return { cost: ONE };
      case 'add':
      case 'sub':
        if (targetType === 'kubernetes.Quantity') return { cost: ONE };
        break;
      case 'containsIP':
      case 'containsCIDR':
        if (targetNode && argNodes.length >= 1) {
          const ipSize: Range = [4, 16];
          let cost = factorR(addR(ipSize, ipSize), STRING_TRAVERSAL);
          if (name === 'containsCIDR') cost = addR(addR(cost, factorR(ipSize, STRING_TRAVERSAL)), ONE);
          if (typeName(argNodes[0]) === 'string') cost = addR(cost, factorR(argSize(0), STRING_TRAVERSAL));
          return { cost };
        }
        break;
      case 'validate':
        if (targetNode && argNodes.length >= 1) return { cost: factorR(factorR(argSize(0), STRING_TRAVERSAL), MAX_NAME_FORMAT_REGEX * REGEX_LENGTH) };
        break;
      // cel-go's own estimates
      case 'format':
        if (targetNode) return { cost: factorR(targetSize, STRING_TRAVERSAL) };
        break;
      case 'quote':
        if (argNodes.length === 1) return { cost: factorR(argSize(0), STRING_TRAVERSAL), size: [argSize(0)[0] + 2, add(mul(argSize(0)[1], 2), 2)] };
        break;
      case 'bytes':
        if (!targetNode && argNodes.length === 1 && typeName(argNodes[0]) === 'string') return { cost: factorR(argSize(0), STRING_TRAVERSAL), size: [argSize(0)[0], mul(argSize(0)[1], 4)] };
        break;
      case 'string':
        if (!targetNode && argNodes.length === 1 && typeName(argNodes[0]) === 'bytes') return { cost: factorR(argSize(0), STRING_TRAVERSAL), size: [Math.floor(argSize(0)[0] / 4), argSize(0)[1]] };
        break;
      case 'startsWith':
      case 'endsWith':
        if (targetNode && argNodes.length === 1) return { cost: factorR(argSize(0), STRING_TRAVERSAL) };
        break;
      case 'matches':
      case GO_MATCHES:
        if (targetNode && argNodes.length === 1) {
          const strCost = factorR(addR(targetSize, ONE), STRING_TRAVERSAL);
          return { cost: mulR(strCost, factorR(argSize(0), REGEX_LENGTH)) };
        }
        break;
      case 'contains':
        if (targetNode && argNodes.length === 1 && targetType === 'string') return { cost: mulR(factorR(targetSize, STRING_TRAVERSAL), factorR(argSize(0), STRING_TRAVERSAL)) };
        break;
      case 'value':
      case 'orValue':
      case 'dyn':
        return { cost: ONE, decl: targetNode ? target?.decl : args[0]?.decl, size: targetNode ? undefined : args[0]?.size };
    }
    void node;
    return { cost: ONE };
  }

  /** Macros cost what cel-go's expansion into a comprehension (or a conditional) costs. */
  private macro(name: string, targetNode: Ast | undefined, argNodes: Ast[], scope: Scope): Estimate | undefined {
    if (name === 'has' && !targetNode && argNodes.length === 1) {
      // A presence test costs nothing beyond its operand (PresenceTestHasCost(false)).
      const selection = argNodes[0];
      return { cost: selection.op === '.' ? this.estimate((selection.args as [Ast, string])[0], scope).cost : this.estimate(selection, scope).cost };
    }
    if (name === 'bind' && targetNode?.op === 'id' && targetNode.args === 'cel' && argNodes.length === 3 && argNodes[0].op === 'id') {
      const bound = this.estimate(argNodes[1], scope);
      const body = this.estimate(argNodes[2], new Map(scope).set(argNodes[0].args as string, bound.decl));
      return { cost: addR(addR([LIST_CREATE, LIST_CREATE], bound.cost), body.cost), size: body.size, decl: body.decl };
    }
    if (!targetNode || argNodes.length < 2 || argNodes[0].op !== 'id') return undefined;
    const twoVariables = argNodes.length >= 3 && argNodes[1].op === 'id' && TWO_VARIABLE_FORMS.has(name);
    if (!ONE_VARIABLE_FORMS.has(name) && !twoVariables) return undefined;
    if (twoVariables && !['all', 'exists', 'existsOne', 'exists_one', 'transformList', 'transformMap', 'transformMapEntry'].includes(name)) return undefined;
    const range = this.estimate(targetNode, scope);
    const rangeSize = sizeOf(targetNode, range);
    const rangeDecl = range.decl;
    const inner: Scope = new Map(scope);
    // The first variable ranges over items or keys; cel-go leaves a second one without a range of its own.
    const element = rangeDecl?.kind === 'list' ? rangeDecl.item : rangeDecl?.kind === 'map' ? { kind: 'string' as const, minSize: 2, maxElements: 0 } : undefined;
    inner.set(argNodes[0].args as string, element);
    if (twoVariables) inner.set(argNodes[1].args as string, this.root);
    const bodyArgs = argNodes.slice(twoVariables ? 2 : 1).map((child) => this.estimate(child, inner));
    const last = bodyArgs[bodyArgs.length - 1].cost;
    const filter = bodyArgs.length === 2 ? bodyArgs[0].cost : undefined;
    let init: Range;
    let condition: Range;
    let step: Range;
    let result: Range = ONE;
    let size: Range | undefined;
    switch (name) {
      case 'all':
        [init, condition, step] = [ZERO, [2, 2], [1, add(1, last[1])]];
        break;
      case 'exists':
        [init, condition, step] = [ZERO, [3, 3], [1, add(1, last[1])]];
        break;
      case 'exists_one':
      case 'existsOne':
        [init, condition, step, result] = [ZERO, ZERO, addR(last, [1, 2]), [2, 2]];
        break;
      case 'map':
      case 'transformList':
        init = [LIST_CREATE, LIST_CREATE];
        condition = ZERO;
        step = addR(last, [12, 12]);
        if (filter) step = addR(filter, unionR(step, ONE));
        size = rangeSize;
        break;
      case 'filter':
        [init, condition, step, size] = [[LIST_CREATE, LIST_CREATE], ZERO, addR(last, [1, 13]), rangeSize];
        break;
      case 'transformMap':
      case 'transformMapEntry': {
        init = [MAP_CREATE, MAP_CREATE];
        condition = ZERO;
        step = addR(last, name === 'transformMap' ? [3, 3] : [2, 2]);
        if (filter) step = addR(filter, unionR(step, ONE));
        size = rangeSize;
        break;
      }
      default:
        return undefined;
    }
    const perIteration = addR(step, condition);
    const cost = addR(addR(addR(addR(range.cost, init), result), mulR(rangeSize, perIteration)), ZERO);
    return { cost, size: size ?? rangeSize };
  }
}

const NAMESPACES = new Set(['sets', 'strings', 'format', 'ip', 'optional', 'math', 'base64']);
const ONE_VARIABLE_FORMS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);
const TWO_VARIABLE_FORMS = new Set(['all', 'exists', 'exists_one', 'existsOne', 'transformList', 'transformMap', 'transformMapEntry']);

function literalSize(value: unknown): Range {
  if (typeof value === 'string') {
    const runes = [...value].length;
    return [runes, runes];
  }
  if (value instanceof Uint8Array) return [value.length, value.length];
  return ONE;
}

function fieldDecl(decl: CelDecl | undefined, field: string): CelDecl | undefined {
  if (decl?.kind === 'object') return decl.fields.get(field)?.decl;
  // cel-go's path lookup finds no field of that name in a map's schema.
  return undefined;
}

/** Equality and ordering of strings, bytes, lists and maps traverse the smaller side. */
function sizeComparison(left: Range, right: Range): Range {
  const smallestMax = Math.min(left[1], right[1]);
  return factorR([smallestMax > 0 ? 1 : 0, smallestMax], STRING_TRAVERSAL);
}

function replaceCost(size: Range, toReplace: Range, replaceWith: Range): { cost: Range; size: Range } {
  const count: Range = [0, 0];
  const retained: Range = [0, 0];
  if (toReplace[0] === 0) {
    count[1] = size[1] < MAX ? size[1] + 1 : size[1];
    retained[1] = size[1];
  } else if (replaceWith[1] <= toReplace[0]) {
    retained[1] = size[1];
  } else {
    count[1] = Math.ceil(size[1] / toReplace[0]);
  }
  if (toReplace[1] === 0) {
    count[0] = size[0] < MAX ? size[0] + 1 : size[0];
    retained[0] = size[0];
  } else if (toReplace[1] <= replaceWith[0]) {
    retained[0] = size[0];
  } else {
    count[0] = Math.ceil(size[0] / toReplace[1]);
  }
  return { cost: factorR(size, 2 * STRING_TRAVERSAL), size: addR(mulR(count, replaceWith), retained) };
}

/** Worst-case cost of a type-checked rule whose `self` (and `oldSelf`) is `root`. */
export function estimateStaticCost(ast: Ast, root: CelDecl): number {
  return new Coster(root).estimate(ast, new Map()).cost[1];
}
