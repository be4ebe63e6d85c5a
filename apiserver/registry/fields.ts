// Field selectors (`?fieldSelector=metadata.name=web,status.phase!=Running`): a conjunction of
// `field=value`, `field==value` and `field!=value` terms. This is the only place that parses them.
//
// A value may contain ',' and '=' only escaped with a backslash (`\,` `\=`), and a backslash as `\\`,
// which is what client-go's fields.EscapeValue produces. `\!` is also accepted as a plain `!`, for
// clients that escape it; upstream rejects it, and a bare `!` in a value is fine. Whitespace around fields,
// operators and values is ignored (no field value of the built-in kinds begins or ends with a space).

import { badRequest } from '../request/status.js';

export interface FieldRequirement {
  field: string;
  /** `==` is normalised to `=`. */
  operator: '=' | '!=';
  value: string;
}

export interface FieldSelector {
  /** A field missing from `fields` counts as the empty string, as upstream's fields.Set does. */
  matches(fields: Record<string, string>): boolean;
  /** True when there are no requirements and so everything matches. */
  readonly empty: boolean;
  /** In the order they were written. */
  requirements: FieldRequirement[];
  /** Canonical form: terms escaped and sorted. */
  toString(): string;
}

/**
 * Parses a field selector; '' selects everything. With `allowedFields`, naming any other field is a
 * 400 `field label not supported: <field>` (the kind's selectable fields, as upstream's field label
 * conversion functions decide).
 */
export function parseFieldSelector(text: string, allowedFields?: Set<string>): FieldSelector {
  const requirements: FieldRequirement[] = [];
  for (const rawTerm of splitUnescaped(text)) {
    const term = rawTerm.trim();
    if (term === '') continue;
    const split = splitTerm(term);
    if (!split || split.field === '') throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    if (allowedFields && !allowedFields.has(split.field)) throw badRequest(`field label not supported: ${split.field}`);
    requirements.push({ field: split.field, operator: split.operator, value: unescapeValue(split.value) });
  }
  return new RequirementsSelector(requirements);
}

/**
 * The value the selector requires `field` to equal (`metadata.name=web` → 'web'), if it pins one. Lets a
 * list narrow to one name or namespace; the full selector must still be applied to what it finds.
 */
export function exactMatchValue(selector: FieldSelector, field: string): string | undefined {
  return selector.requirements.find((requirement) => requirement.field === field && requirement.operator === '=')?.value;
}

/** Escapes a value for use in a field selector string. */
export function escapeFieldValue(value: string): string {
  return value.replace(/[\\,=]/g, (character) => `\\${character}`);
}

class RequirementsSelector implements FieldSelector {
  constructor(readonly requirements: FieldRequirement[]) {}

  get empty(): boolean {
    return this.requirements.length === 0;
  }

  matches(fields: Record<string, string>): boolean {
    return this.requirements.every(({ field, operator, value }) => {
      const actual = Object.hasOwn(fields, field) ? fields[field] : '';
      return operator === '=' ? actual === value : actual !== value;
    });
  }

  toString(): string {
    return this.requirements
      .map(({ field, operator, value }) => `${field}${operator}${escapeFieldValue(value)}`)
      .sort()
      .join(',');
  }
}

/** Splits on commas that are not escaped. The pieces keep their escapes. */
function splitUnescaped(text: string): string[] {
  const terms: string[] = [];
  let start = 0;
  for (let index = 0; index < text.length; index++) {
    if (text[index] === '\\') index++;
    else if (text[index] === ',') {
      terms.push(text.slice(start, index));
      start = index + 1;
    }
  }
  terms.push(text.slice(start));
  return terms;
}

/** Splits `field<op>value` at the first unescaped operator; `!=` and `==` win over `=` at one position. */
function splitTerm(term: string): { field: string; operator: '=' | '!='; value: string } | undefined {
  for (let index = 0; index < term.length; index++) {
    if (term[index] === '\\') {
      index++;
      continue;
    }
    for (const operator of ['!=', '==', '='] as const) {
      if (term.startsWith(operator, index)) {
        return {
          field: term.slice(0, index).trim(),
          operator: operator === '!=' ? '!=' : '=',
          value: term.slice(index + operator.length).trim(),
        };
      }
    }
  }
  return undefined;
}

function unescapeValue(value: string): string {
  let result = '';
  for (let index = 0; index < value.length; index++) {
    const character = value[index];
    if (character === '\\') {
      const escaped = value[index + 1];
      if (escaped === undefined) throw badRequest('invalid field selector: invalid escape sequence: \\ at the end of the value');
      if (escaped !== '\\' && escaped !== ',' && escaped !== '=' && escaped !== '!') {
        throw badRequest(`invalid field selector: invalid escape sequence: \\${escaped}`);
      }
      result += escaped;
      index++;
    } else if (character === ',' || character === '=') {
      throw badRequest(`invalid field selector: unescaped character in value: '${character}' (write it as '\\${character}')`);
    } else {
      result += character;
    }
  }
  return result;
}
