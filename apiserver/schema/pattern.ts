// `pattern` as upstream evaluates it: Go's regexp package, i.e. RE2 syntax with linear-time matching.
// JavaScript's backtracking RegExp would accept patterns upstream rejects (backreferences, lookaround) and
// can take exponential time on others (`(a+)+$`), so patterns are parsed with Go's grammar (regexp/syntax)
// and run without backtracking (regexp/program). CRD validation calls `invalidPatterns` to refuse, at
// CRD creation, a pattern Go would not compile.

import { Compiler, PikeVM, type GoRegexp } from './regexp/program.js';
import { GoRegexpError, MAX_NESTING, Parser } from './regexp/syntax.js';

export { GoRegexpError, type GoRegexp };

// Shared by every CRD: the same patterns recur across versions and generations.
const compiledCache = new Map<string, GoRegexp | GoRegexpError>();
const MAX_CACHED = 1000;

/** Compiles a Go (RE2) regular expression; throws GoRegexpError with Go's message when Go would refuse it. */
export function compileGoRegexp(source: string): GoRegexp {
  let compiled = compiledCache.get(source);
  if (!compiled) {
    compiled = compileUncached(source);
    if (compiledCache.size >= MAX_CACHED) compiledCache.clear();
    compiledCache.set(source, compiled);
  }
  if (compiled instanceof GoRegexpError) throw compiled;
  return compiled;
}

function compileUncached(source: string): GoRegexp | GoRegexpError {
  try {
    const tree = new Parser(source).parse();
    const compiler = new Compiler();
    const compiled = compiler.compile(tree);
    const match = compiler.program.length;
    compiler.program.push({ op: 'match' });
    for (const exit of compiled.exits) exit(match);
    return new PikeVM(source, compiler.program, compiled.entry);
  } catch (error) {
    if (error instanceof GoRegexpError) return error;
    throw error;
  }
}

/** Go's error for a pattern it cannot compile, or undefined when it compiles. */
export function goRegexpError(source: string): string | undefined {
  try {
    compileGoRegexp(source);
    return undefined;
  } catch (error) {
    if (error instanceof GoRegexpError) return error.message;
    throw error;
  }
}

interface PatternSchema {
  pattern?: unknown;
  properties?: Record<string, PatternSchema>;
  additionalProperties?: PatternSchema | boolean;
  items?: PatternSchema | PatternSchema[];
  allOf?: PatternSchema[];
  anyOf?: PatternSchema[];
  oneOf?: PatternSchema[];
  not?: PatternSchema;
}

/**
 * For CRD validation: every `pattern` in a schema that Go cannot compile, reported as upstream's
 * structural-schema validation does, e.g. `spec.versions[0].schema.openAPIV3Schema.properties[spec]
 * .properties[name].pattern: Invalid value: "(a": must be a valid regular expression, but isn't: …`.
 */
export function invalidPatterns(schema: unknown, path: string): { field: string; type: 'FieldValueInvalid'; value: string; detail: string }[] {
  const errors: { field: string; type: 'FieldValueInvalid'; value: string; detail: string }[] = [];
  const visit = (node: unknown, at: string, depth: number): void => {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || depth > MAX_NESTING) return;
    const schemaNode = node as PatternSchema;
    if (typeof schemaNode.pattern === 'string') {
      const error = goRegexpError(schemaNode.pattern);
      if (error) errors.push({ field: `${at}.pattern`, type: 'FieldValueInvalid', value: schemaNode.pattern, detail: `must be a valid regular expression, but isn't: ${error}` });
    }
    for (const [name, property] of Object.entries(schemaNode.properties ?? {})) visit(property, `${at}.properties[${name}]`, depth + 1);
    if (typeof schemaNode.additionalProperties === 'object') visit(schemaNode.additionalProperties, `${at}.additionalProperties`, depth + 1);
    if (Array.isArray(schemaNode.items)) schemaNode.items.forEach((item, index) => visit(item, `${at}.items[${index}]`, depth + 1));
    else visit(schemaNode.items, `${at}.items`, depth + 1);
    for (const junctor of ['allOf', 'anyOf', 'oneOf'] as const) (schemaNode[junctor] ?? []).forEach((member, index) => visit(member, `${at}.${junctor}[${index}]`, depth + 1));
    visit(schemaNode.not, `${at}.not`, depth + 1);
  };
  visit(schema, path, 0);
  return errors;
}
