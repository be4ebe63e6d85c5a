// cel-go's two-variable comprehensions (ext.TwoVarComprehensions, in Kubernetes' CEL environment since
// 1.32): all/exists/existsOne(i, v, predicate) over a list's indexes and items or a map's keys and values,
// transformList(i, v, [filter,] expr), transformMap(k, v, [filter,] expr) and
// transformMapEntry(k, v, [filter,] expr). cel-js has no such macros; they are registered as its
// macro functions (typeCheck + evaluate), as cel-js itself implements cel.bind.

import type { Environment } from '@marcbachmann/cel-js';
import { EvaluationError } from '@marcbachmann/cel-js';
import { celEqual } from './library.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- cel-js's macro interfaces are untyped */
type Ast = any;
type Checker = any;
type Context = any;
type Evaluator = any;

interface Macro {
  ast: Ast;
  receiver: Ast;
  first: string;
  second: string;
  filter?: Ast;
  body: Ast;
  bodyContext?: Context;
  outerContext?: Context;
  typeCheck(checker: Checker, macro: Macro, context: Context): unknown;
  evaluate(evaluator: Evaluator, macro: Macro, context: Context): unknown;
}

type Kind = 'all' | 'exists' | 'existsOne' | 'transformList' | 'transformMap' | 'transformMapEntry';

function identifier(node: Ast, checkerOrNull?: Checker): string {
  if (node?.op === 'id') return node.args as string;
  throw checkerOrNull ? checkerOrNull.createError('invalid_macro_argument', 'argument must be a simple name', node) : new EvaluationError('argument must be a simple name');
}

/** The (first, second) pairs a comprehension ranges over: (index, item) of a list, (key, value) of a map. */
function pairs(range: unknown): [unknown, unknown][] {
  if (Array.isArray(range)) return range.map((item, index) => [BigInt(index), item]);
  if (range instanceof Map) return [...range.entries()];
  if (range !== null && typeof range === 'object') return Object.entries(range as Record<string, unknown>);
  throw new EvaluationError('expression of this type cannot be range of a comprehension');
}

function typeCheck(kind: Kind) {
  return (checker: Checker, macro: Macro, context: Context): unknown => {
    const rangeType = checker.check(macro.receiver, context);
    let firstType: unknown;
    let secondType: unknown;
    if (rangeType.kind === 'list') {
      firstType = checker.getType('int');
      secondType = rangeType.valueType;
    } else if (rangeType.kind === 'map') {
      firstType = rangeType.keyType;
      secondType = rangeType.valueType;
    } else if (rangeType.kind === 'dyn') {
      firstType = checker.getType('dyn');
      secondType = checker.getType('dyn');
    } else {
      throw checker.createError('invalid_comprehension_range', `expression of type '${checker.formatType(rangeType)}' cannot be range of a comprehension (must be list, map, or dynamic)`, macro.receiver);
    }
    if (macro.first === macro.second) throw checker.createError('invalid_macro_argument', `duplicate variable name: ${macro.first}`, macro.ast);
    macro.outerContext = context.forkWithVariable(macro.first, firstType);
    macro.bodyContext = macro.outerContext.forkWithVariable(macro.second, secondType);
    if (macro.filter) {
      const filterType = checker.check(macro.filter, macro.bodyContext);
      if (filterType.kind !== 'primitive' || filterType.name !== 'bool') {
        if (filterType.kind !== 'dyn') throw checker.createError('invalid_macro_argument', `${kind}() filter must return bool`, macro.filter);
      }
    }
    const bodyType = checker.check(macro.body, macro.bodyContext);
    switch (kind) {
      case 'all':
      case 'exists':
      case 'existsOne':
        return checker.getType('bool');
      case 'transformList':
        return checker.getType(`list<${bodyType.name}>`);
      case 'transformMap':
        return checker.getType(`map<${(firstType as { name: string }).name}, ${bodyType.name}>`);
      case 'transformMapEntry':
        return bodyType.kind === 'map' ? bodyType : checker.getType('map<dyn, dyn>');
    }
  };
}

function evaluate(kind: Kind) {
  return (evaluator: Evaluator, macro: Macro, context: Context): unknown => {
    const range = evaluator.run(macro.receiver, context);
    const run = (node: Ast, first: unknown, second: unknown) => {
      const outer = macro.outerContext.reuse(context).setIterValue(first, evaluator);
      return evaluator.run(node, macro.bodyContext.reuse(outer).setIterValue(second, evaluator));
    };
    const entries = pairs(range);
    switch (kind) {
      case 'all':
      case 'exists': {
        // Errors are absorbed when another element decides the result, as cel-go's logical operators do.
        const decisive = kind === 'exists';
        let error: unknown;
        for (const [first, second] of entries) {
          try {
            if (run(macro.body, first, second) === decisive) return decisive;
          } catch (caught) {
            error ??= caught;
          }
        }
        if (error) throw error;
        return !decisive;
      }
      case 'existsOne': {
        let count = 0;
        for (const [first, second] of entries) if (run(macro.body, first, second) === true) count++;
        return count === 1;
      }
      case 'transformList': {
        const result: unknown[] = [];
        for (const [first, second] of entries) if (!macro.filter || run(macro.filter, first, second) === true) result.push(run(macro.body, first, second));
        return result;
      }
      case 'transformMap':
      case 'transformMapEntry': {
        const result = new Map<unknown, unknown>();
        for (const [first, second] of entries) {
          if (macro.filter && run(macro.filter, first, second) !== true) continue;
          const value = run(macro.body, first, second);
          const inserted: [unknown, unknown][] = kind === 'transformMap' ? [[first, value]] : pairs(value);
          for (const [key, item] of inserted) {
            if ([...result.keys()].some((existing) => celEqual(existing, key))) throw new EvaluationError(`insert failed: key ${String(key)} already exists`);
            result.set(key, item);
          }
        }
        // cel-js maps with string keys are plain objects; others stay Maps.
        return [...result.keys()].every((key) => typeof key === 'string') ? Object.fromEntries(result) : result;
      }
    }
  };
}

/** Registers the two-variable macros on `env` for list and map receivers. */
export function registerTwoVarComprehensions(env: Environment): void {
  const forms: [Kind, number, boolean][] = [
    ['all', 3, false],
    ['exists', 3, false],
    ['existsOne', 3, false],
    ['transformList', 3, false],
    ['transformList', 4, true],
    ['transformMap', 3, false],
    ['transformMap', 4, true],
    ['transformMapEntry', 3, false],
    ['transformMapEntry', 4, true],
  ];
  for (const [kind, arity, filtered] of forms) {
    const expander = ({ ast, args, receiver }: { ast: Ast; args: Ast[]; receiver: Ast }): Macro => ({
      ast,
      receiver,
      first: identifier(args[0]),
      second: identifier(args[1]),
      filter: filtered ? args[2] : undefined,
      body: args[arity - 1],
      typeCheck: typeCheck(kind) as Macro['typeCheck'],
      evaluate: evaluate(kind) as Macro['evaluate'],
    });
    const params = Array.from({ length: arity }, () => 'ast').join(', ');
    const result = kind === 'transformList' ? 'list<dyn>' : kind === 'transformMap' || kind === 'transformMapEntry' ? 'map<dyn, dyn>' : 'bool';
    for (const receiver of ['list', 'map']) env.registerFunction(`${receiver}.${kind}(${params}): ${result}`, expander as never);
  }
  // cel-go also accepts exists_one with two variables.
  const existsOne = ({ ast, args, receiver }: { ast: Ast; args: Ast[]; receiver: Ast }): Macro => ({
    ast,
    receiver,
    first: identifier(args[0]),
    second: identifier(args[1]),
    body: args[2],
    typeCheck: typeCheck('existsOne') as Macro['typeCheck'],
    evaluate: evaluate('existsOne') as Macro['evaluate'],
  });
  for (const receiver of ['list', 'map']) env.registerFunction(`${receiver}.exists_one(ast, ast, ast): bool`, existsOne as never);
}
