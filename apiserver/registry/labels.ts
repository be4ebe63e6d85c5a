// Label selectors: the string syntax of `?labelSelector=` / `kubectl -l` and the structured
// metav1.LabelSelector of specs. This is the only place that parses them; keys and values are checked with
// the same rules (names.ts) as metadata.labels.
//
// Grammar (upstream's):
//   selector    := '' | requirement (',' requirement)*
//   requirement := '!' KEY | KEY | KEY ('=' | '==' | '!=') VALUE? | KEY ('in' | 'notin') '(' VALUES ')'
//                | KEY ('>' | '<') INTEGER
// Whitespace separates tokens and is otherwise ignored. `in`/`notin` are keywords only where an operator
// is expected, so they remain usable as keys and values.

import { badRequest, fieldErrorMessage, type StatusError } from '../request/status.js';
import { isQualifiedName, isValidLabelValue } from './names.js';

export interface LabelSelector {
  matches(labels: Record<string, string> | undefined): boolean;
  /** True when the selector has no requirements and so matches everything. */
  readonly empty: boolean;
  /** Canonical form: requirements sorted by key, set values sorted. */
  toString(): string;
}

type Operator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

interface Requirement {
  key: string;
  operator: Operator;
  /** Sorted and de-duplicated; one value for the exact-match and integer operators, none for exists. */
  values: string[];
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

/** metav1.LabelSelector. */
export interface LabelSelectorSpec {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** Parses the string form; '' (or only whitespace) selects everything. Errors are 400 BadRequest. */
export function parseLabelSelector(text: string): LabelSelector {
  return new RequirementsSelector(new SelectorParser(text).parse());
}

/**
 * Converts a metav1.LabelSelector (Deployment.spec.selector and friends). An empty one selects
 * everything. Invalid selectors are 400 BadRequest; a strategy validating a spec should run this and turn
 * the failure into its own field error.
 */
export function labelSelectorFromMatch(selector: LabelSelectorSpec): LabelSelector {
  // The selector usually comes straight from a decoded body, so its shape is checked, not assumed.
  const requirements: Requirement[] = [];
  const problems: string[] = [];
  const { matchLabels, matchExpressions } = selector;
  if (matchLabels !== undefined && (typeof matchLabels !== 'object' || matchLabels === null || Array.isArray(matchLabels))) {
    problems.push('matchLabels: Invalid value: must be a map of strings');
  } else {
    for (const [key, value] of Object.entries(matchLabels ?? {})) {
      if (typeof value !== 'string') {
        problems.push(`matchLabels[${key}]: Invalid value: must be a string`);
        continue;
      }
      problems.push(...invalidKey(key, 'matchLabels'), ...invalidValue(value, `matchLabels[${key}]`));
      requirements.push({ key, operator: '=', values: [value] });
    }
  }
  if (matchExpressions !== undefined && !Array.isArray(matchExpressions)) {
    problems.push('matchExpressions: Invalid value: must be a list');
  } else {
    (matchExpressions ?? []).forEach((item: unknown, index) => {
      const requirement = expressionRequirement(item, `matchExpressions[${index}]`, problems);
      if (requirement) requirements.push(requirement);
    });
  }
  if (problems.length > 0) throw badRequest(`invalid label selector: ${aggregate(problems)}`);
  return new RequirementsSelector(requirements);
}

/** One metav1.LabelSelectorRequirement; problems are appended to `problems`. */
function expressionRequirement(item: unknown, path: string, problems: string[]): Requirement | undefined {
  const expression = (item ?? {}) as Partial<LabelSelectorRequirement>;
  const rawValues: unknown = expression.values ?? [];
  const valuesAreStrings = Array.isArray(rawValues) && rawValues.every((value) => typeof value === 'string');
  if (typeof expression.key !== 'string' || !valuesAreStrings) {
    problems.push(`${path}: Invalid value: key must be a string and values a list of strings`);
    return undefined;
  }
  const operatorName = String(expression.operator);
  const operator = Object.hasOwn(MATCH_OPERATORS, operatorName) ? MATCH_OPERATORS[operatorName] : undefined;
  const values = uniqueSorted(rawValues as string[]);
  problems.push(...invalidKey(expression.key, `${path}.key`));
  if (!operator) {
    const supported = Object.keys(MATCH_OPERATORS);
    const message = fieldErrorMessage({ field: '', type: 'FieldValueNotSupported', value: expression.operator, supported });
    problems.push(`${path}.operator: ${message}`);
    return undefined;
  }
  if ((operator === 'in' || operator === 'notin') && values.length === 0) {
    problems.push(`${path}.values: Required value: must be specified when \`operator\` is 'In' or 'NotIn'`);
  }
  if ((operator === 'exists' || operator === '!') && values.length > 0) {
    problems.push(`${path}.values: Forbidden: may not be specified when \`operator\` is 'Exists' or 'DoesNotExist'`);
  }
  values.forEach((value, valueIndex) => problems.push(...invalidValue(value, `${path}.values[${valueIndex}]`)));
  return { key: expression.key, operator, values };
}

const MATCH_OPERATORS: Record<string, Operator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };

// ---- problem messages ------------------------------------------------------------------------------

function invalidKey(key: string, path: string): string[] {
  const errors = isQualifiedName(key);
  return errors.length ? [invalidMessage(path, key, errors.join('; '))] : [];
}

function invalidValue(value: string, path: string): string[] {
  const errors = isValidLabelValue(value);
  return errors.length ? [invalidMessage(path, value, errors.join('; '))] : [];
}

function invalidMessage(path: string, value: string, detail: string): string {
  return `${path}: ${fieldErrorMessage({ field: path, type: 'FieldValueInvalid', value, detail })}`;
}

function aggregate(problems: string[]): string {
  return problems.length === 1 ? problems[0] : `[${problems.join(', ')}]`;
}

// ---- matching --------------------------------------------------------------------------------------

class RequirementsSelector implements LabelSelector {
  private readonly requirements: readonly Requirement[];

  constructor(requirements: Requirement[]) {
    // Stable sort by key, as upstream does, so equivalent selectors print the same.
    this.requirements = [...requirements].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  get empty(): boolean {
    return this.requirements.length === 0;
  }

  matches(labels: Record<string, string> | undefined): boolean {
    return this.requirements.every((requirement) => requirementMatches(requirement, labels ?? {}));
  }

  toString(): string {
    return this.requirements.map(requirementToString).join(',');
  }
}

function requirementMatches(requirement: Requirement, labels: Record<string, string>): boolean {
  const present = Object.hasOwn(labels, requirement.key);
  const value = present ? labels[requirement.key] : undefined;
  switch (requirement.operator) {
    case '=':
    case '==':
    case 'in':
      return present && requirement.values.includes(value as string);
    case '!=':
    case 'notin':
      // A missing label is "not equal" to anything.
      return !present || !requirement.values.includes(value as string);
    case 'exists':
      return present;
    case '!':
      return !present;
    case 'gt':
    case 'lt': {
      const actual = present ? parseInteger(value as string) : undefined;
      if (actual === undefined) return false;
      const limit = parseInteger(requirement.values[0]) as bigint;
      return requirement.operator === 'gt' ? actual > limit : actual < limit;
    }
  }
}

function requirementToString(requirement: Requirement): string {
  const { key, operator, values } = requirement;
  switch (operator) {
    case 'exists':
      return key;
    case '!':
      return `!${key}`;
    case 'in':
    case 'notin':
      return `${key} ${operator} (${values.join(',')})`;
    case 'gt':
      return `${key}>${values[0]}`;
    case 'lt':
      return `${key}<${values[0]}`;
    default:
      return `${key}${operator}${values[0]}`;
  }
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A base-10 int64 as Go's strconv.ParseInt reads it, or undefined. */
function parseInteger(text: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const value = BigInt(text);
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}

function uniqueSorted(values: string[]): string[] {
  return [...new Set(values)].sort();
}

// ---- parsing the string form -----------------------------------------------------------------------

type TokenKind = 'identifier' | 'in' | 'notin' | '=' | '==' | '!=' | '!' | '>' | '<' | '(' | ')' | ',' | 'end';

interface Token {
  kind: TokenKind;
  text: string;
}

const SYMBOL_CHARACTERS = new Set(['=', '!', '(', ')', ',', '>', '<']);
const SYMBOLS = new Set<string>(['=', '==', '!=', '!', '>', '<', '(', ')', ',']);
const OPERATOR_NAMES = 'in, notin, =, ==, !=, gt, lt';

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let position = 0;
  while (position < text.length) {
    const character = text[position];
    if (/\s/.test(character)) {
      position++;
    } else if (SYMBOL_CHARACTERS.has(character)) {
      // Longest match: '!' then '=' is '!=', '=' then '=' is '=='.
      const pair = text.slice(position, position + 2);
      const symbol = SYMBOLS.has(pair) && pair.length === 2 ? pair : character;
      tokens.push({ kind: symbol as TokenKind, text: symbol });
      position += symbol.length;
    } else {
      const start = position;
      while (position < text.length && !/\s/.test(text[position]) && !SYMBOL_CHARACTERS.has(text[position])) position++;
      const word = text.slice(start, position);
      tokens.push({ kind: word === 'in' || word === 'notin' ? word : 'identifier', text: word });
    }
  }
  tokens.push({ kind: 'end', text: '' });
  return tokens;
}

/** Raised for the problem text; wrapped into a 400 with upstream's framing by parse(). */
class SyntaxProblem extends Error {}

class SelectorParser {
  private readonly tokens: Token[];
  private position = 0;

  constructor(private readonly text: string) {
    this.tokens = tokenize(text);
  }

  parse(): Requirement[] {
    const requirements: Requirement[] = [];
    if (this.peek().kind === 'end') return requirements;
    for (;;) {
      const start = this.peekValue();
      if (start.kind !== 'identifier' && start.kind !== '!') {
        throw badRequest(`found ${describe(start)}, expected: identifier${requirements.length ? " after ','" : ''}`);
      }
      try {
        requirements.push(this.parseRequirement());
      } catch (error) {
        throw wrapRequirementError(error);
      }
      const next = this.next();
      if (next.kind === 'end') return requirements;
      if (next.kind !== ',') throw badRequest(`found ${describe(next)}, expected: ',' or 'end of string'`);
    }
  }

  private parseRequirement(): Requirement {
    let token = this.nextValue();
    const negated = token.kind === '!';
    if (negated) token = this.nextValue();
    if (token.kind !== 'identifier') throw new SyntaxProblem(`found ${describe(token)}, expected: identifier`);
    const key = token.text;
    const problems = invalidKey(key, 'key');
    if (problems.length) throw new SyntaxProblem(aggregate(problems));
    const following = this.peek().kind;
    if (negated) return { key, operator: '!', values: [] };
    if (following === 'end' || following === ',') return { key, operator: 'exists', values: [] };

    const operatorToken = this.next();
    let operator: Operator;
    let values: string[];
    switch (operatorToken.kind) {
      case 'in':
      case 'notin':
        operator = operatorToken.kind;
        values = uniqueSorted(this.parseValueSet());
        break;
      case '=':
      case '==':
      case '!=':
        operator = operatorToken.kind;
        values = [this.parseExactValue()];
        break;
      case '>':
      case '<':
        operator = operatorToken.kind === '>' ? 'gt' : 'lt';
        values = [this.parseExactValue()];
        break;
      default:
        throw new SyntaxProblem(`found ${describe(operatorToken)}, expected: ${OPERATOR_NAMES}`);
    }
    return { key, operator, values: validateValues(key, operator, values) };
  }

  /** `( VALUE? (',' VALUE?)* )`; empty slots are empty-string values, so `()` is `{""}`. */
  private parseValueSet(): string[] {
    const open = this.next();
    if (open.kind !== '(') throw new SyntaxProblem(`found ${describe(open)}, expected: '('`);
    const values: string[] = [];
    let expectingValue = true;
    for (;;) {
      const token = this.nextValue();
      if (token.kind === 'identifier') {
        if (!expectingValue) throw new SyntaxProblem(`found ${describe(token)}, expected: ',' or ')'`);
        values.push(token.text);
        expectingValue = false;
      } else if (token.kind === ',' || token.kind === ')') {
        if (expectingValue) values.push('');
        if (token.kind === ')') return values;
        expectingValue = true;
      } else {
        throw new SyntaxProblem(`found ${describe(token)}, expected: ',', ')' or identifier`);
      }
    }
  }

  /** The value after `=`, `!=`, `>`…; nothing before ',' or the end means the empty value. */
  private parseExactValue(): string {
    const following = this.peek().kind;
    if (following === 'end' || following === ',') return '';
    const token = this.nextValue();
    if (token.kind !== 'identifier') throw new SyntaxProblem(`found ${describe(token)}, expected: identifier`);
    return token.text;
  }

  private peek(): Token {
    return this.tokens[this.position];
  }

  private next(): Token {
    const token = this.tokens[this.position];
    if (token.kind !== 'end') this.position++;
    return token;
  }

  /** In key and value positions the keywords are plain words (`in=notin` is a valid selector). */
  private peekValue(): Token {
    return asWord(this.peek());
  }

  private nextValue(): Token {
    return asWord(this.next());
  }
}

function asWord(token: Token): Token {
  return token.kind === 'in' || token.kind === 'notin' ? { kind: 'identifier', text: token.text } : token;
}

function describe(token: Token): string {
  return token.kind === 'end' ? "'end of string'" : `'${token.text}'`;
}

function validateValues(key: string, operator: Operator, values: string[]): string[] {
  const problems: string[] = [];
  if ((operator === 'gt' || operator === 'lt') && parseInteger(values[0]) === undefined) {
    const detail = "for 'Gt', 'Lt' operators, the value must be an integer";
    problems.push(`values[0]: ${fieldErrorMessage({ field: '', type: 'FieldValueInvalid', value: values[0], detail })}`);
  }
  // Integers are label values too, so a negative bound is rejected here, as upstream does.
  values.forEach((value, index) => problems.push(...invalidValue(value, `values[${index}][${key}]`)));
  if (problems.length) throw new SyntaxProblem(aggregate(problems));
  return values;
}

function wrapRequirementError(error: unknown): StatusError {
  if (error instanceof SyntaxProblem) return badRequest(`unable to parse requirement: ${error.message}`);
  throw error;
}
