// Compiling a CRD version's x-kubernetes-validations (upstream's apiextensions validation of rules plus
// schema/cel Compile): the checks on each rule's fields, type-checked compilation against the CEL type
// of its schema node, the static cost limits, and a validator tree for custom resources.

import type { Environment } from '@marcbachmann/cel-js';
import type { FieldError } from '../../apiserver/request/status.js';
import { RenderedValue } from '../../apiserver/request/status.js';
import type { JSONSchema, ValidationRule } from '../../apiserver/schema/types.js';
import { COST_LIMIT_EXCEEDED, costErrorMessage, instrument, maxCardinality, STATIC_ESTIMATED_COST_LIMIT, STATIC_ESTIMATED_CRD_COST_LIMIT } from './cost.js';
import { estimateStaticCost } from './cost-estimate.js';
import { validFieldPath } from './field-path.js';
import { goRegexpError } from '../../apiserver/schema/pattern.js';
import { parseGoDuration } from './values.js';
import { ZONED_ACCESSORS, zonedName } from './timestamp-zones.js';
import { celEqual, GO_MATCHES, kubernetesEnvironment } from './library.js';
import type { CelDecl } from './types.js';
import { celTypeName, DeclBuilder, objectFields } from './types.js';

const SUPPORTED_REASONS = ['FieldValueDuplicate', 'FieldValueForbidden', 'FieldValueInvalid', 'FieldValueRequired'];
const NEWLINES = /[\n\r]+/;

export interface Program {
  (context: Record<string, unknown>): unknown;
}

export interface CompiledRule {
  rule: ValidationRule;
  program: Program;
  messageExpression?: Program;
  usesOldSelf: boolean;
  /** Normalized `fieldPath`, appended to the node's path in errors. */
  fieldPath?: string;
}

/** Mirrors the schema where rules are: the node's own compiled rules and the validators below it. */
export interface NodeValidator {
  schema: JSONSchema;
  decl: CelDecl | undefined;
  rules: CompiledRule[];
  properties: Map<string, NodeValidator>;
  items?: NodeValidator;
  additionalProperties?: NodeValidator;
}

interface WalkContext {
  builder: DeclBuilder;
  errors: FieldError[];
  environment?: Environment;
  totalCost: number;
  /** Upstream's TotalCost.MostExpensive: the costliest expressions (at least 1% of the CRD limit), top 4. */
  expensive: { field: string; cost: number }[];
  costLimits: boolean;
}

/** TotalCost.ObserveExpressionCost. */
function observeCost(context: WalkContext, field: string, cost: number): void {
  context.totalCost = Math.min(context.totalCost + cost, 2 ** 64 - 1);
  if (cost < STATIC_ESTIMATED_CRD_COST_LIMIT / 100) return;
  context.expensive.push({ field, cost });
  context.expensive.sort((a, b) => b.cost - a.cost);
  context.expensive.length = Math.min(context.expensive.length, 4);
}

interface PlannedNode {
  schema: JSONSchema;
  decl: CelDecl | undefined;
  path: string;
  /** maxItems/maxProperties of the lists and maps above (undefined: unbounded). */
  bounds: (number | undefined)[];
  /** Where oldSelf stops being correlatable (inside a list that is not list-type=map). */
  uncorrelatable?: string;
  properties: Map<string, PlannedNode>;
  items?: PlannedNode;
  additionalProperties?: PlannedNode;
}

/** The CEL types for every node, first (all object types must be registered before compiling). */
function plan(schema: JSONSchema, decl: CelDecl | undefined, path: string, bounds: (number | undefined)[], uncorrelatable: string | undefined, builder: DeclBuilder): PlannedNode {
  const node: PlannedNode = { schema, decl, path, bounds, uncorrelatable, properties: new Map() };
  for (const [property, propertySchema] of Object.entries(isRecord(schema.properties) ? schema.properties : {})) {
    if (!isRecord(propertySchema)) continue;
    let propertyDecl: CelDecl | undefined;
    if (decl?.kind === 'object') propertyDecl = [...decl.fields.values()].find((field) => field.property === property)?.decl;
    // Unescapable names are invisible from the parent, but their own rules still run.
    propertyDecl ??= builder.declFor(propertySchema, Boolean(propertySchema['x-kubernetes-embedded-resource']));
    node.properties.set(property, plan(propertySchema, propertyDecl, `${path}.properties[${property}]`, bounds, uncorrelatable, builder));
  }
  if (isRecord(schema.items)) {
    const itemDecl = decl?.kind === 'list' ? decl.item : builder.declFor(schema.items, Boolean(schema.items['x-kubernetes-embedded-resource']));
    const correlatable = schema['x-kubernetes-list-type'] === 'map';
    node.items = plan(schema.items, itemDecl, `${path}.items`, [...bounds, schema.maxItems], uncorrelatable ?? (correlatable ? undefined : path), builder);
  }
  const additional = schema.additionalProperties;
  if (isRecord(additional)) {
    const valueDecl = decl?.kind === 'map' ? decl.value : builder.declFor(additional, Boolean(additional['x-kubernetes-embedded-resource']));
    node.additionalProperties = plan(additional, valueDecl, `${path}.additionalProperties`, [...bounds, schema.maxProperties], uncorrelatable, builder);
  }
  return node;
}

function isRecord(value: unknown): value is Record<string, any> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function rulesOf(schema: JSONSchema): ValidationRule[] {
  const rules = schema['x-kubernetes-validations'];
  return Array.isArray(rules) ? rules.map((rule) => (isRecord(rule) ? (rule as ValidationRule) : ({} as ValidationRule))) : [];
}

function hasRules(node: PlannedNode): boolean {
  return rulesOf(node.schema).length > 0 || [...node.properties.values()].some(hasRules) || (node.items ? hasRules(node.items) : false) || (node.additionalProperties ? hasRules(node.additionalProperties) : false);
}

export interface CompiledSchemaRules {
  errors: FieldError[];
  /** Present when the schema has rules and all of them compiled. */
  validator?: NodeValidator;
}

let evaluatorCapture: unknown;

/** Shared by every environment: the step counter needs each environment's evaluator (see instrument). */
function baseEnvironment(objects: Extract<CelDecl, { kind: 'object' }>[]): Environment {
  const environment = kubernetesEnvironment({ homogeneousAggregateLiterals: false });
  environment.registerFunction('__k8sEvaluatorProbe(): bool', function (this: unknown) {
    evaluatorCapture = this;
    return true;
  });
  for (const object of objects) {
    environment.registerType(object.typeName, { ctor: object.ctor, fields: objectFields(object) });
    environment.registerOperator(`${object.typeName} == ${object.typeName}`, celEqual);
  }
  return environment;
}

function nodeEnvironment(base: Environment, decl: CelDecl, optionalOldSelf: boolean): Environment {
  const environment = base.clone();
  const type = celTypeName(decl);
  environment.registerVariable('self', type);
  environment.registerVariable('oldSelf', optionalOldSelf ? `optional<${type}>` : type);
  evaluatorCapture = undefined;
  environment.evaluate('__k8sEvaluatorProbe()');
  instrument(evaluatorCapture as Parameters<typeof instrument>[0]);
  return environment;
}

/**
 * Compiles every rule of a CRD version's schema. `path` is where the schema sits in the CRD
 * (`spec.versions[0].schema.openAPIV3Schema`); errors use upstream's paths below it.
 */
export function compileSchemaRules(schema: JSONSchema, path: string, options: { costLimits?: boolean } = {}): CompiledSchemaRules {
  try {
    return compileAll(schema, path, options.costLimits ?? true);
  } catch (error) {
    // A schema malformed in ways the structural checks report elsewhere; never a 500 from here.
    return { errors: [{ field: `${path}.x-kubernetes-validations`, type: 'InternalError', detail: `failed to compile x-kubernetes-validations: ${(error as Error).message}` }] };
  }
}

/** `costLimits` false compiles as upstream's cel.Compile alone does (its validator tests), without the CRD's limits. */
function compileAll(schema: JSONSchema, path: string, costLimits: boolean): CompiledSchemaRules {
  const builder = new DeclBuilder(`selfType${process.hrtime()[1]}_`);
  const root = plan(schema, builder.declFor(schema, true), path, [], undefined, builder);
  if (!hasRules(root)) return { errors: [] };
  const context: WalkContext = { builder, errors: [], totalCost: 0, expensive: [], costLimits };
  let base: Environment | undefined;
  const environmentFor = () => (base ??= baseEnvironment(builder.objects));
  const validator = compileNode(root, environmentFor, context);
  if (costLimits && context.totalCost > STATIC_ESTIMATED_CRD_COST_LIMIT) {
    for (const { field } of context.expensive) context.errors.push({ field, type: 'FieldValueForbidden', detail: 'contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema' });
    context.errors.push({ field: path, type: 'FieldValueForbidden', detail: costErrorMessage('x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema', context.totalCost, STATIC_ESTIMATED_CRD_COST_LIMIT) });
  }
  return context.errors.length > 0 ? { errors: context.errors } : { errors: [], validator };
}

function compileNode(node: PlannedNode, environmentFor: () => Environment, context: WalkContext): NodeValidator | undefined {
  const validator: NodeValidator = { schema: node.schema, decl: node.decl, rules: [], properties: new Map() };
  for (const [property, child] of node.properties) {
    const compiled = compileNode(child, environmentFor, context);
    if (compiled) validator.properties.set(property, compiled);
  }
  if (node.items) validator.items = compileNode(node.items, environmentFor, context);
  if (node.additionalProperties) validator.additionalProperties = compileNode(node.additionalProperties, environmentFor, context);
  const rules = rulesOf(node.schema);
  if (rules.length > 0) validator.rules = compileRules(node, rules, environmentFor, context);
  const empty = validator.rules.length === 0 && validator.properties.size === 0 && !validator.items && !validator.additionalProperties;
  return empty ? undefined : validator;
}

/** Upstream's checks on a rule's own fields; CEL compilation only happens when they pass. */
function ruleFieldErrors(rules: ValidationRule[], schema: JSONSchema, path: string): FieldError[] {
  const errors: FieldError[] = [];
  rules.forEach((rule, index) => {
    const at = `${path}.x-kubernetes-validations[${index}]`;
    const text = typeof rule?.rule === 'string' ? rule.rule.trim() : '';
    const message = typeof rule?.message === 'string' ? rule.message : '';
    if (!text) errors.push({ field: `${at}.rule`, type: 'FieldValueRequired', detail: 'rule is not specified' });
    else if (message.length > 0 && message.trim().length === 0) errors.push({ field: `${at}.message`, type: 'FieldValueInvalid', value: message, detail: 'message must be non-empty if specified' });
    else if (NEWLINES.test(message.trim())) errors.push({ field: `${at}.message`, type: 'FieldValueInvalid', value: message, detail: 'message must not contain line breaks' });
    else if (NEWLINES.test(text) && message.trim().length === 0) errors.push({ field: `${at}.message`, type: 'FieldValueRequired', detail: 'message must be specified if rule contains line breaks' });
    if (typeof rule?.messageExpression === 'string' && rule.messageExpression.length > 0 && rule.messageExpression.trim().length === 0) {
      errors.push({ field: `${at}.messageExpression`, type: 'FieldValueRequired', detail: 'messageExpression must be non-empty if specified' });
    }
    if (rule?.reason !== undefined && !SUPPORTED_REASONS.includes(rule.reason)) errors.push({ field: `${at}.reason`, type: 'FieldValueNotSupported', value: rule.reason, supported: SUPPORTED_REASONS });
    const fieldPath = typeof rule?.fieldPath === 'string' ? rule.fieldPath : '';
    if (fieldPath.length > 0 && fieldPath.trim().length === 0) errors.push({ field: `${at}.fieldPath`, type: 'FieldValueInvalid', value: fieldPath, detail: 'fieldPath must be non-empty if specified' });
    if (NEWLINES.test(fieldPath)) errors.push({ field: `${at}.fieldPath`, type: 'FieldValueInvalid', value: fieldPath, detail: 'fieldPath must not contain line breaks' });
    if (fieldPath.length > 0) {
      try {
        validFieldPath(fieldPath, schema);
      } catch {
        errors.push({ field: `${at}.fieldPath`, type: 'FieldValueInvalid', value: fieldPath, detail: 'fieldPath must be a valid path' });
      }
    }
  });
  return errors;
}

function compileRules(node: PlannedNode, rules: ValidationRule[], environmentFor: () => Environment, context: WalkContext): CompiledRule[] {
  const fieldErrors = ruleFieldErrors(rules, node.schema, node.path);
  if (fieldErrors.length > 0) {
    context.errors.push(...fieldErrors);
    return [];
  }
  if (!node.decl) {
    context.errors.push({ field: `${node.path}.x-kubernetes-validations`, type: 'InternalError', detail: 'failed to convert to declType for CEL validation rules' });
    return [];
  }
  const decl = node.decl;
  const environments = new Map<boolean, Environment>();
  const environment = (optional: boolean) => environments.get(optional) ?? environments.set(optional, nodeEnvironment(environmentFor(), decl, optional)).get(optional)!;
  const cardinality = maxCardinality(node.bounds, decl.minSize);
  const compiled: CompiledRule[] = [];
  rules.forEach((rule, index) => {
    const at = `${node.path}.x-kubernetes-validations[${index}]`;
    const result = compileExpression(environment(rule.optionalOldSelf === true), rule.rule, 'bool');
    if ('error' in result) {
      context.errors.push({ field: `${at}.rule`, type: 'FieldValueInvalid', value: ruleLiteral(rule), detail: result.error === 'type' ? 'cel expression must evaluate to a bool' : result.raw ? result.error : `compilation failed: ${result.error}` });
      return;
    }
    const cost = saturatingProduct(estimateStaticCost(result.program.ast, decl), cardinality);
    if (context.costLimits && cost > STATIC_ESTIMATED_COST_LIMIT) context.errors.push({ field: `${at}.rule`, type: 'FieldValueForbidden', detail: costErrorMessage('estimated rule cost', cost, STATIC_ESTIMATED_COST_LIMIT) });
    observeCost(context, `${at}.rule`, cost);
    const usesOldSelf = referencesOldSelf(result.program.ast);
    let messageExpression: Program | undefined;
    if (typeof rule.messageExpression === 'string' && rule.messageExpression.trim()) {
      const message = compileExpression(environment(rule.optionalOldSelf === true), rule.messageExpression, 'string');
      if ('error' in message) {
        context.errors.push({ field: `${at}.messageExpression`, type: 'FieldValueInvalid', value: ruleLiteral(rule), detail: message.error === 'type' ? 'messageExpression must evaluate to a string' : message.raw ? `messageExpression ${message.error}` : `messageExpression compilation failed: ${message.error}` });
        return;
      }
      const messageCost = saturatingProduct(estimateStaticCost(message.program.ast, decl), cardinality);
      if (context.costLimits && messageCost > STATIC_ESTIMATED_COST_LIMIT) context.errors.push({ field: `${at}.messageExpression`, type: 'FieldValueForbidden', detail: costErrorMessage('estimated messageExpression cost', messageCost, STATIC_ESTIMATED_COST_LIMIT) });
      observeCost(context, `${at}.messageExpression`, messageCost);
      messageExpression = message.program;
    }
    if (usesOldSelf && node.uncorrelatable !== undefined) {
      context.errors.push({ field: `${at}.rule`, type: 'FieldValueInvalid', value: rule.rule, detail: `oldSelf cannot be used on the uncorrelatable portion of the schema within ${node.uncorrelatable}` });
    } else if (!usesOldSelf && rule.optionalOldSelf !== undefined) {
      context.errors.push({ field: `${at}.optionalOldSelf`, type: 'FieldValueInvalid', value: rule.optionalOldSelf, detail: 'may not be set if oldSelf is not used in rule' });
    }
    compiled.push({
      rule,
      program: result.program as unknown as Program,
      messageExpression,
      usesOldSelf,
      fieldPath: rule.fieldPath ? validFieldPath(rule.fieldPath, node.schema) : undefined,
    });
  });
  return compiled;
}

/**
 * Upstream quotes the whole rule in compile errors, as Go's %#v of apiextensions.ValidationRule. Set
 * pointer fields show their value rather than an address.
 */
function ruleLiteral(rule: ValidationRule): RenderedValue {
  const quote = (text: unknown) => JSON.stringify(typeof text === 'string' ? text : '');
  const reason = rule.reason === undefined ? '(*apiextensions.FieldValueErrorReason)(nil)' : `(*apiextensions.FieldValueErrorReason)(${quote(rule.reason)})`;
  const optional = rule.optionalOldSelf === undefined ? '(*bool)(nil)' : `(*bool)(${String(rule.optionalOldSelf)})`;
  return new RenderedValue(
    `apiextensions.ValidationRule{Rule:${quote(rule.rule)}, Message:${quote(rule.message)}, MessageExpression:${quote(rule.messageExpression)}, Reason:${reason}, FieldPath:${quote(rule.fieldPath)}, OptionalOldSelf:${optional}}`,
  );
}

function saturatingProduct(cost: number, cardinality: number): number {
  return cost === 0 || cardinality === 0 ? 0 : Math.min(cost * cardinality, 2 ** 64 - 1);
}

interface Parsed extends Program {
  ast: { op: string; args: any };
  check(): { valid: boolean; type?: string; error?: { summary?: string; message: string; range?: { start: number }; node?: { op?: string } } };
}

/** Parses and type-checks; an error is cel-go's "ERROR: <input>:line:col: …" text, or 'type' for a wrong result type. */
function compileExpression(environment: Environment, expression: string, resultType: 'bool' | 'string'): { program: Parsed } | { error: string; raw?: boolean } {
  let program: Parsed;
  try {
    program = environment.parse(expression) as unknown as Parsed;
  } catch (error) {
    return { error: celIssue(expression, error as Parameters<typeof celIssue>[1]) };
  }
  useGoMatches(program.ast);
  const checked = program.check();
  if (!checked.valid) return { error: celIssue(expression, checked.error!) };
  const heterogeneous = homogeneousLiteralIssue(program.ast, expression);
  if (heterogeneous) return { error: heterogeneous };
  const regexps = literalProblems(program.ast, expression);
  // cel-go's literal validators (regex, duration, timestamp) run with the checker: before the result type's check.
  if (regexps.compile) return { error: regexps.compile };
  if (checked.type !== resultType) return { error: 'type' };
  // find/findAll compile their literal patterns when the program is built (the regex optimizations).
  if (regexps.program) return { error: `program instantiation failed: ${regexps.program}`, raw: true };
  return { program };
}

const ZONED = new Set<string>(ZONED_ACCESSORS);

/**
 * Points calls cel-js implements differently from cel-go at the library's own implementations, before
 * they are bound: `matches` (RE2 rather than JavaScript's RegExp) and timestamp accessors with a zone
 * (which may be a `+01:00` offset).
 */
function useGoMatches(node: unknown): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    node.forEach(useGoMatches);
    return;
  }
  const ast = node as PatternNode;
  if ((ast.op === 'rcall' || ast.op === 'call') && ast.args[0] === 'matches') (ast.args as unknown[])[0] = GO_MATCHES;
  if (ast.op === 'rcall' && ZONED.has(ast.args[0] as string) && (ast.args[2] as unknown[]).length === 1) (ast.args as unknown[])[0] = zonedName(ast.args[0] as string);
  if (ast.op !== undefined) useGoMatches(ast.args);
}

/** The name a user wrote for a call useGoMatches renamed. */
function userFunctionName(name: string): string {
  return name === GO_MATCHES ? 'matches' : name.replace(/^__k8sZoned_/, '');
}

interface PatternNode {
  op: string;
  args: any;
  range?: { start: number };
}

/**
 * cel-go's ValidateHomogeneousAggregateLiterals: every element of a list literal (key and value of a map
 * literal) has the first one's type, except inside the arguments of string.format.
 */
export function homogeneousLiteralIssue(root: PatternNode, expression: string): string | undefined {
  const typeName = (node: PatternNode) => celGoTypeName((node as { checkedType?: { name?: string } }).checkedType?.name);
  let issue: string | undefined;
  const compare = (elements: PatternNode[]) => {
    const first = elements[0] && typeName(elements[0]);
    for (const element of elements.slice(1)) {
      const type = typeName(element);
      // Unresolved parameters (`[]` is list(T)) unify with anything, as after cel-go's type inference.
      const open = (name: string) => /\b[A-Z]\b|\bdyn\b/.test(name);
      if (type !== first && !open(type) && !open(first)) {
        issue ??= celIssue(expression, { message: `expected type '${first}' but found '${type}'`, range: element.range });
        return;
      }
    }
  };
  const visit = (node: unknown): void => {
    if (issue || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    const ast = node as PatternNode;
    if (ast.op === 'rcall' && ast.args[0] === 'format') {
      visit(ast.args[1]);
      return;
    }
    if (ast.op === 'list') {
      compare(ast.args as PatternNode[]);
      visit(ast.args);
      return;
    }
    if (ast.op === 'map') {
      const entries = ast.args as [PatternNode, PatternNode][];
      compare(entries.map(([key]) => key));
      compare(entries.map(([, value]) => value));
      visit(entries.flat());
      return;
    }
    if (ast.op !== undefined) visit(ast.args);
  };
  visit(root);
  return issue;
}

/** time.Parse(time.RFC3339, text) succeeds. */
function isRfc3339(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$/.exec(text);
  if (!match) return false;
  const [, year, month, day, hour, minute, second, , , zoneHour, zoneMinute] = match.map((part) => (part === undefined ? part : part));
  const days = new Date(Date.UTC(2000, Number(month), 0)).getUTCDate();
  const leap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const maxDay = Number(month) === 2 ? (leap(Number(year)) ? 29 : 28) : days;
  return Number(month) >= 1 && Number(month) <= 12 && Number(day) >= 1 && Number(day) <= maxDay && Number(hour) < 24 && Number(minute) < 60 && Number(second) < 60 && (zoneHour === undefined || (Number(zoneHour) < 24 && Number(zoneMinute) < 60));
}

const MIN_UNIX_SECONDS = -62135596800n;
const MAX_UNIX_SECONDS = 253402300799n;

/**
 * Literal arguments cel-go validates before running anything: a `matches` pattern Go cannot compile,
 * a malformed `duration('…')` or out-of-range `timestamp(…)` are compile issues ("invalid matches
 * argument", at the literal); a bad `find`/`findAll` pattern fails when the program is built.
 */
function literalProblems(root: PatternNode, expression: string): { compile?: string; program?: string } {
  const found: { compile?: string; program?: string } = {};
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    const ast = node as PatternNode;
    if (ast.op === 'rcall' || ast.op === 'call') {
      const [name, receiver, args] = ast.op === 'rcall' ? (ast.args as [string, PatternNode, PatternNode[]]) : [ast.args[0] as string, undefined, ast.args[1] as PatternNode[]];
      const pattern = ast.op === 'rcall' ? args[0] : name === 'matches' || name === GO_MATCHES ? args[1] : undefined;
      const isMatches = name === 'matches' || name === GO_MATCHES;
      if ((isMatches || name === 'find' || name === 'findAll') && pattern?.op === 'value' && typeof pattern.args === 'string') {
        const error = goRegexpError(pattern.args);
        if (error && isMatches) found.compile ??= celIssue(expression, { message: 'invalid matches argument', range: pattern.range });
        else if (error) found.program ??= error;
      }
      const negated = args?.[0]?.op === '-_' && (args[0].args as PatternNode)?.op === 'value' && typeof (args[0].args as PatternNode).args === 'bigint';
      if (ast.op === 'call' && (name === 'duration' || name === 'timestamp') && args.length === 1 && (args[0]?.op === 'value' || negated)) {
        const literal = negated ? -((args[0].args as PatternNode).args as bigint) : (args[0].args as unknown);
        const bad =
          name === 'duration'
            ? typeof literal === 'string' && parseGoDuration(literal) === undefined
            : typeof literal === 'string'
              ? !isRfc3339(literal)
              : typeof literal === 'bigint' && (literal < MIN_UNIX_SECONDS || literal > MAX_UNIX_SECONDS);
        if (bad) found.compile ??= celIssue(expression, { message: `invalid ${name} argument`, range: args[0].range });
      }
      visit(receiver);
      visit(args);
      return;
    }
    if (ast.op !== undefined) visit(ast.args);
  };
  visit(root);
  return found;
}

interface IssueNode {
  op?: string;
  pos?: number;
  args?: any;
  end?: number;
  argTypes?: { name?: string }[];
  leftStaticType?: { name?: string };
  rightStaticType?: { name?: string };
  checkedType?: { name?: string };
}

/** cel-js type names in cel-go's spelling: list(string), map(string, int), optional_type(int). */
function celGoTypeName(name: string | undefined): string {
  if (!name) return 'dyn';
  return name
    .replace(/\boptional</g, 'optional_type<')
    .replace(/</g, '(')
    .replace(/>/g, ')');
}

const BINARY_OPERATORS = new Set(['==', '!=', '<', '<=', '>', '>=', '+', '-', '*', '/', '%', 'in']);

/**
 * cel-go's "found no matching overload for 'f' applied to '(int, string)'" (and `'string.(int)'` for a
 * method), at the operator or the call's opening parenthesis, from cel-js's "no such overload: int ==
 * string" / "found no matching overload for 'size(int)'".
 */
function overloadIssue(expression: string, summary: string, node: IssueNode | undefined): { summary: string; position: number } | undefined {
  if (!node) return undefined;
  const typeOf = (child: IssueNode | undefined) => celGoTypeName(child?.checkedType?.name);
  if (/^no such overload: /.test(summary) && BINARY_OPERATORS.has(node.op ?? '') && Array.isArray(node.args) && node.args.length === 2) {
    const [left, right] = node.args as IssueNode[];
    const leftType = celGoTypeName(node.leftStaticType?.name ?? left?.checkedType?.name);
    const rightType = celGoTypeName(node.rightStaticType?.name ?? right?.checkedType?.name);
    const name = node.op === 'in' ? '@in' : `_${node.op}_`;
    const between = expression.indexOf(node.op!, left?.end ?? 0);
    return { summary: `found no matching overload for '${name}' applied to '(${leftType}, ${rightType})'`, position: between >= 0 ? between : (node.pos ?? 0) };
  }
  if (/^no such overload: [!-]/.test(summary) && (node.op === '!_' || node.op === '-_')) {
    return { summary: `found no matching overload for '${node.op === '!_' ? '!_' : '-_'}' applied to '(${typeOf(node.args as IssueNode)})'`, position: node.pos ?? 0 };
  }
  if (/^found no matching overload for /.test(summary) && (node.op === 'rcall' || node.op === 'call')) {
    const name = userFunctionName(node.args[0] as string);
    const argTypes = (node.argTypes ?? []).map((type) => celGoTypeName(type?.name)).join(', ');
    if (node.op === 'rcall') {
      const receiver = node.args[1] as IssueNode;
      const open = expression.indexOf('(', (receiver?.end ?? 0) + name.length);
      return { summary: `found no matching overload for '${name}' applied to '${typeOf(receiver)}.(${argTypes})'`, position: open >= 0 ? open : (node.pos ?? 0) };
    }
    const open = expression.indexOf('(', node.pos ?? 0);
    return { summary: `found no matching overload for '${name}' applied to '(${argTypes})'`, position: open >= 0 ? open : (node.pos ?? 0) };
  }
  return undefined;
}

/** cel-js error → cel-go's issue format, with cel-go's wording for the common cases. */
export function celIssue(expression: string, error: { name?: string; summary?: string; message: string; range?: { start: number }; node?: IssueNode }): string {
  let summary = error.summary ?? error.message.split('\n')[0];
  // cel-go's parser reports every lexing and grammar failure as a "Syntax error: …" (clients match on it).
  if (error.name === 'ParseError' && !/^(Exceeded|Reserved identifier)/.test(summary)) {
    summary = `Syntax error: ${summary.replace(/^Unexpected character: (.*)$/, "token recognition error at: '$1'")}`;
  }
  summary = summary
    .replaceAll(GO_MATCHES, 'matches')
    .replaceAll('__k8sZoned_', '')
    .replace(/^Unknown variable: (.*)$/, "undeclared reference to '$1' (in container '')")
    .replace(/^No such key: (.*)$/, "undefined field '$1'");
  let position = error.range?.start ?? 0;
  const overload = overloadIssue(expression, summary, error.node);
  if (overload) {
    summary = overload.summary;
    position = overload.position;
  }
  // cel-go places a field selection at its dot; cel-js at the field name.
  else if ((error.node?.op === '.' || error.node?.op === '.?') && expression.lastIndexOf('.', position) >= 0) position = expression.lastIndexOf('.', position);
  const before = expression.slice(0, position);
  const line = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const column = position - lineStart;
  const lineText = expression.split('\n')[line - 1] ?? '';
  return `ERROR: <input>:${line}:${column + 1}: ${summary}\n | ${lineText}\n | ${'.'.repeat(column)}^`;
}

function referencesOldSelf(node: unknown): boolean {
  if (node === null || typeof node !== 'object') return false;
  if (Array.isArray(node)) return node.some(referencesOldSelf);
  const ast = node as { op?: string; args?: unknown };
  if (ast.op === 'id') return ast.args === 'oldSelf';
  if (ast.op !== undefined) return referencesOldSelf(ast.args);
  return Object.values(ast).some(referencesOldSelf);
}

export { COST_LIMIT_EXCEEDED };
