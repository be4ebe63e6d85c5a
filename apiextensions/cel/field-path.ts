// A rule's `fieldPath` (upstream's ValidFieldPath): a JSON path of field and map accessors from the
// rule's node (`.spec.replicas`, `.labels['app.kubernetes.io/name']`), checked against the schema and
// turned into the field path errors are reported at.

import type { JSONSchema } from '../../apiserver/schema/types.js';

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', "'": "'", '\\': '\\' };

function unescapeSingleQuoted(text: string): string {
  return text.replace(/\\(.)/g, (_match, directive: string) => {
    const replacement = ESCAPES[directive];
    if (replacement === undefined) throw new Error(`invalid string literal: invalid escape char \\${directive}`);
    return replacement;
  });
}

function tokenize(path: string): string[] {
  const tokens: string[] = [];
  let index = 0;
  while (index < path.length) {
    const char = path[index];
    if (char === '.' || char === '[' || char === ']') {
      tokens.push(char);
      index++;
    } else if (char === "'") {
      let end = index + 1;
      while (end < path.length && !(path[end] === "'" && path[end - 1] !== '\\')) end++;
      tokens.push(path.slice(index, end + 1));
      index = end + 1;
    } else {
      let end = index;
      while (end < path.length && !'.[]'.includes(path[end])) end++;
      tokens.push(path.slice(index, end));
      index = end;
    }
  }
  return tokens;
}

/** The normalized field path (`spec.replicas`, `labels[app]`), or throws with upstream's reason. */
export function validFieldPath(path: string, schema: JSONSchema): string {
  const tokens = tokenize(path);
  let result = '';
  let current: JSONSchema | undefined = schema;
  const append = (name: string) => {
    if (current?.properties) {
      result += result ? `.${name}` : name;
      current = current.properties[name];
      if (!current) throw new Error('does not refer to a valid field');
    } else if (current?.additionalProperties !== undefined && current.additionalProperties !== false) {
      result += `[${name}]`;
      current = typeof current.additionalProperties === 'object' ? current.additionalProperties : {};
    } else {
      throw new Error('does not refer to a valid field');
    }
  };
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index];
    if (token === '[') {
      const quoted = tokens[++index];
      if (quoted === undefined) throw new Error('unexpected end of JSON path');
      if (quoted.length < 2 || !quoted.startsWith("'") || !quoted.endsWith("'")) throw new Error(`expected single quoted string but got ${quoted}`);
      append(unescapeSingleQuoted(quoted.slice(1, -1)));
      const close = tokens[++index];
      if (close === undefined) throw new Error('unexpected end of JSON path');
      if (close !== ']') throw new Error(`expected ] but got ${close}`);
    } else if (token === '.') {
      const name = tokens[++index];
      if (name === undefined) throw new Error('unexpected end of JSON path');
      append(name);
    } else {
      throw new Error(`expected [ or . but got: ${token}`);
    }
  }
  return result;
}
