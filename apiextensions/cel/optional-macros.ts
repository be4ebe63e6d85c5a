// cel-go's optional macros, which cel-js lacks: `<optional>.optMap(v, expr)` (an optional of expr over the
// value, or none) and `<optional>.optFlatMap(v, expr)` (expr must itself be an optional).

import type { Environment } from '@marcbachmann/cel-js';
import { Optional } from '@marcbachmann/cel-js';

/* eslint-disable @typescript-eslint/no-explicit-any -- cel-js's macro interfaces are untyped */
interface Macro {
  ast: any;
  receiver: any;
  variable: string;
  body: any;
  bodyContext?: any;
  typeCheck(checker: any, macro: Macro, context: any): unknown;
  evaluate(evaluator: any, macro: Macro, context: any): unknown;
}

function macro(flat: boolean) {
  const name = flat ? 'optFlatMap' : 'optMap';
  return ({ ast, args, receiver }: { ast: any; args: any[]; receiver: any }): Macro => {
    if (args[0]?.op !== 'id') throw new Error(`${name}() variable name must be a simple identifier`);
    return {
      ast,
      receiver,
      variable: args[0].args as string,
      body: args[1],
      typeCheck(checker, self, context) {
        const receiverType = checker.check(self.receiver, context);
        if (receiverType.kind !== 'optional' && receiverType.kind !== 'dyn') {
          throw checker.createError('invalid_macro_argument', `found no matching overload for '${name}' applied to '${checker.formatType(receiverType)}'`, self.receiver);
        }
        const valueType = receiverType.kind === 'optional' ? receiverType.valueType : checker.getType('dyn');
        self.bodyContext = context.forkWithVariable(self.variable, valueType);
        const bodyType = checker.check(self.body, self.bodyContext);
        if (flat) {
          if (bodyType.kind !== 'optional' && bodyType.kind !== 'dyn') throw checker.createError('invalid_macro_argument', `${name}() expression must return an optional`, self.body);
          return bodyType;
        }
        return checker.getType(`optional<${bodyType.name}>`);
      },
      evaluate(evaluator, self, context) {
        const value = evaluator.run(self.receiver, context) as Optional;
        if (!value.hasValue()) return Optional.none();
        const result = evaluator.run(self.body, self.bodyContext.reuse(context).setIterValue(value.value(), evaluator));
        return flat ? result : Optional.of(result);
      },
    };
  };
}

export function registerOptionalMacros(env: Environment): void {
  env.registerFunction('optional.optMap(ast, ast): optional<dyn>', macro(false) as never);
  env.registerFunction('optional.optFlatMap(ast, ast): optional<dyn>', macro(true) as never);
}
