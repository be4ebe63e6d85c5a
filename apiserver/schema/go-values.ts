// Values rendered the way Go's fmt renders decoded JSON (unstructured content), because upstream's
// validation messages are built with fmt: `%v` for numbers, `%q` for strings and `%#v` for maps and
// lists (`map[string]interface {}{"name":"a"}`). Long renderings are cut so that no message ever carries a
// whole object.

/** Longest rendering kept in a message; beyond it the text is cut and marked. */
export const MAX_RENDERED_VALUE = 256;

/** A JSON number as Go decodes it into unstructured content: whole numbers are int64, others float64. */
export function isGoInteger(value: number): boolean {
  return Number.isInteger(value);
}

/** strconv.FormatFloat(f, 'g', -1, 64), which is what `%v` prints for a float64. */
export function formatGoFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const [mantissa, exponentText] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  // Shortest formatting switches to exponent form below 1e-4 and from 1e+06 (precision 6).
  if (exponent < -4 || exponent >= 6) {
    const sign = exponent < 0 ? '-' : '+';
    const digits = String(Math.abs(exponent)).padStart(2, '0');
    return `${mantissa}e${sign}${digits}`;
  }
  return String(value);
}

/** `%v` of a number as it sits in unstructured content. */
export function formatGoNumber(value: number): string {
  return isGoInteger(value) ? String(value) : formatGoFloat(value);
}

/** `%q` of a string, cut after MAX_RENDERED_VALUE characters. */
export function goQuote(value: string): string {
  return value.length > MAX_RENDERED_VALUE ? `${JSON.stringify(value.slice(0, MAX_RENDERED_VALUE))}...(truncated)` : JSON.stringify(value);
}

/** `%#v` of unstructured content. */
export function goSyntax(value: unknown): string {
  const text = goSyntaxOf(value, MAX_RENDERED_VALUE + 1);
  return text.length > MAX_RENDERED_VALUE ? `${text.slice(0, MAX_RENDERED_VALUE)}...(truncated)` : text;
}

// Stops building once `budget` characters exist, so a huge object costs no more than a small one.
function goSyntaxOf(value: unknown, budget: number): string {
  if (value === null || value === undefined) return 'interface {}(nil)';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return formatGoNumber(value);
    case 'boolean':
      return String(value);
  }
  if (Array.isArray(value)) {
    let text = '[]interface {}{';
    for (let index = 0; index < value.length && text.length <= budget; index++) {
      text += (index > 0 ? ', ' : '') + goSyntaxOf(value[index], budget - text.length);
    }
    return `${text}}`;
  }
  let text = 'map[string]interface {}{';
  const keys = Object.keys(value as Record<string, unknown>).sort();
  for (let index = 0; index < keys.length && text.length <= budget; index++) {
    const key = keys[index];
    text += `${index > 0 ? ', ' : ''}${JSON.stringify(key)}:${goSyntaxOf((value as Record<string, unknown>)[key], budget - text.length)}`;
  }
  return `${text}}`;
}

/** Go's `%v` of a list of enum values in a message: `[a b 1]`. */
export function goList(values: unknown[]): string {
  return `[${values.map((value) => (typeof value === 'string' ? value : typeof value === 'number' ? formatGoNumber(value) : typeof value === 'boolean' ? String(value) : goSyntax(value))).join(' ')}]`;
}

/** `%v` of unstructured content (`map[a:1 b:x]`, `[1 2]`), cut like goSyntax. */
export function goPlain(value: unknown): string {
  const text = goPlainOf(value);
  return text.length > MAX_RENDERED_VALUE ? `${text.slice(0, MAX_RENDERED_VALUE)}...(truncated)` : text;
}

function goPlainOf(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return formatGoNumber(value);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(goPlainOf).join(' ')}]`;
  const object = value as Record<string, unknown>;
  return `map[${Object.keys(object).sort().map((key) => `${key}:${goPlainOf(object[key])}`).join(' ')}]`;
}

/** `%T` of unstructured content. */
export function goTypeName(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return isGoInteger(value) ? 'int64' : 'float64';
  if (typeof value === 'boolean') return 'bool';
  return Array.isArray(value) ? '[]interface {}' : 'map[string]interface {}';
}
