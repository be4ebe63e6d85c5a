// `<string>.format(<list>)` of cel-go's strings extension as Kubernetes 1.32 runs it (cel-go v0.22,
// locale en_US): the clauses %s %d %f %e %b %x %X %o and %%, an optional `.N` precision, upstream's
// error texts ("could not parse formatting clause: …", "error during formatting: …", "index 1 out of
// range"), and the en_US number printer's output for %f (digit grouping) and %e (`3.140000 × 10⁰⁰`).

import { EvaluationError } from '@marcbachmann/cel-js';
import { formatGoFloat } from '../../apiserver/schema/go-values.js';
import { TIMESTAMP_OFFSET } from './values.js';

const DEFAULT_PRECISION = 6;

class FormatProblem extends Error {}

function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'null_type';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'number') return 'double';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (value instanceof Uint8Array) return 'bytes';
  if (value instanceof Date) return 'google.protobuf.Timestamp';
  if (Array.isArray(value)) return 'list';
  const name = (value as object).constructor?.name;
  if (name === 'UnsignedInteger' || name === 'UnsignedInt') return 'uint';
  if (name === 'Duration') return 'google.protobuf.Duration';
  if (name === 'Type') return 'type';
  return 'map';
}

function unsignedValue(value: unknown): bigint | undefined {
  if (typeName(value) !== 'uint') return undefined;
  return BigInt((value as { value: number | bigint }).value);
}

/** An int or uint as a bigint, or undefined. */
function integerOf(value: unknown): bigint | undefined {
  return typeof value === 'bigint' ? value : unsignedValue(value);
}

/** cel-go's string(duration): seconds with the shortest fraction, e.g. `3723.004s`, `60s`. */
export function durationString(value: { seconds: number | bigint; nanos: number }): string {
  let seconds = BigInt(value.seconds);
  let nanos = BigInt(value.nanos);
  const negative = seconds < 0n || nanos < 0n;
  if (negative) {
    seconds = -seconds;
    nanos = -nanos;
  }
  const fraction = nanos === 0n ? '' : `.${nanos.toString().padStart(9, '0').replace(/0+$/, '')}`;
  return `${negative ? '-' : ''}${seconds}${fraction}s`;
}

/** cel-go's string(timestamp): RFC 3339 with the shortest fraction, in the offset it was written with. */
export function timestampString(value: Date): string {
  const offset = (value as unknown as Record<symbol, number | undefined>)[TIMESTAMP_OFFSET] ?? 0;
  const shifted = offset === 0 ? value : new Date(value.getTime() + offset * 60_000);
  const zone = offset === 0 ? 'Z' : `${offset < 0 ? '-' : '+'}${String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0')}:${String(Math.abs(offset) % 60).padStart(2, '0')}`;
  return shifted.toISOString().replace(/\.(\d*?)0*Z$/, (_match, digits: string) => (digits ? `.${digits}${zone}` : zone));
}

/** The %s rendering of one value (FormatString). */
function formatString(value: unknown): string {
  switch (typeName(value)) {
    case 'list':
      return `[${(value as unknown[]).map((item) => quoteForCel(item, clauseForType(item))).join(', ')}]`;
    case 'map':
      return formatMap(value as Record<string, unknown> | Map<unknown, unknown>);
    case 'null_type':
      return 'null';
    case 'int':
    case 'uint':
      return String(integerOf(value));
    case 'double':
      // cel-go's string(double) is %g: 1e+06, 0.5.
      return formatGoFloat(value as number);
    case 'bool':
      return String(value);
    case 'string':
      return value as string;
    case 'bytes':
      return Buffer.from(value as Uint8Array).toString('utf8');
    case 'google.protobuf.Duration':
      return durationString(value as { seconds: number; nanos: number });
    case 'google.protobuf.Timestamp':
      return timestampString(value as Date);
    case 'type':
      return String(value).replace(/^Type<(.*)>$/, '$1');
    default:
      throw new FormatProblem(`string clause can only be used on strings, bools, bytes, ints, doubles, maps, lists, types, durations, and timestamps, was given ${typeName(value)}`);
  }
}

/** How a list member or map value is rendered inside %s of a list or map (clauseForType). */
function clauseForType(value: unknown): string {
  switch (typeName(value)) {
    case 'int':
    case 'uint':
      return String(integerOf(value));
    case 'double':
      return (value as number).toFixed(DEFAULT_PRECISION);
    case 'google.protobuf.Timestamp':
      return `timestamp(${JSON.stringify(timestampString(value as Date))})`;
    case 'google.protobuf.Duration':
      return `duration(${JSON.stringify(durationString(value as { seconds: number; nanos: number }))})`;
    default:
      return formatString(value);
  }
}

function quoteForCel(value: unknown, text: string): string {
  switch (typeName(value)) {
    case 'string':
      return JSON.stringify(text);
    case 'bytes':
      return `b${JSON.stringify(text)}`;
    case 'double':
      return Number.isFinite(value as number) ? text : JSON.stringify(text);
    default:
      return text;
  }
}

function formatMap(map: Record<string, unknown> | Map<unknown, unknown>): string {
  const entries: [unknown, unknown][] = map instanceof Map ? [...map.entries()] : Object.entries(map);
  const pairs = entries.map(([key, value]) => {
    const keyType = typeName(key);
    if (!['string', 'bool', 'int', 'uint'].includes(keyType)) throw new FormatProblem(`no formatting function for map key of type ${keyType}`);
    return { key: quoteForCel(key, formatString(key)), value: quoteForCel(value, clauseForType(value)) };
  });
  pairs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return `{${pairs.map((pair) => `${pair.key}:${pair.value}`).join(', ')}}`;
}

/** en_US grouping of the integer part, as golang.org/x/text/message prints %f. */
function groupThousands(text: string): string {
  const [whole, fraction] = text.split('.');
  const sign = whole.startsWith('-') ? '-' : '';
  const digits = whole.replace('-', '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${digits}${fraction !== undefined ? `.${fraction}` : ''}`;
}

const SUPERSCRIPT = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];

function floatArgument(value: unknown, clause: 'fixed-point' | 'scientific'): number {
  if (typeof value === 'string' && (value === 'NaN' || value === 'Infinity' || value === '-Infinity')) return Number(value);
  if (typeof value !== 'number') throw new FormatProblem(`${clause} clause can only be used on doubles, was given ${typeName(value)}`);
  return value;
}

function nonFinite(value: number): string | undefined {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '-∞';
  return undefined;
}

function fixed(value: unknown, precision: number): string {
  const number = floatArgument(value, 'fixed-point');
  return nonFinite(number) ?? groupThousands(number.toFixed(Math.min(precision, 100)));
}

/** x/text's scientific form: `3.140000 × 10⁰⁰` (narrow no-break spaces, superscript exponent). */
function scientific(value: unknown): string {
  const number = floatArgument(value, 'scientific');
  const special = nonFinite(number);
  if (special) return special;
  // cel-go passes the precision as a width ("%6e"), so the digits are always fmt's default six.
  const [mantissa, exponentText] = number.toExponential(DEFAULT_PRECISION).split('e');
  const exponent = Number(exponentText);
  const digits = String(Math.abs(exponent)).padStart(2, '0').split('').map((digit) => SUPERSCRIPT[Number(digit)]).join('');
  return `${mantissa}\u202f×\u202f10${exponent < 0 ? '⁻' : ''}${digits}`;
}

function radix(value: unknown, base: 2 | 8 | 16, upper: boolean): string {
  const integer = integerOf(value);
  if (integer !== undefined) {
    const text = integer.toString(base);
    return upper ? text.toUpperCase() : text;
  }
  if (base === 2 && typeof value === 'boolean') return value ? '1' : '0';
  if (base === 16 && (typeof value === 'string' || value instanceof Uint8Array)) {
    const text = Buffer.from(typeof value === 'string' ? Buffer.from(value, 'utf8') : value).toString('hex');
    return upper ? text.toUpperCase() : text;
  }
  const type = typeName(value);
  if (base === 2) throw new FormatProblem(`only integers and bools can be formatted as binary, was given ${type}`);
  if (base === 8) throw new FormatProblem(`octal clause can only be used on integers, was given ${type}`);
  throw new FormatProblem(`only integers, byte buffers, and strings can be formatted as hex, was given ${type}`);
}

function decimal(value: unknown): string {
  const integer = integerOf(value);
  if (integer === undefined) throw new FormatProblem(`decimal clause can only be used on integers, was given ${typeName(value)}`);
  return String(integer);
}

/** One clause after `%`: how many characters it used and its text. */
function formatClause(format: string, value: unknown): [number, string] {
  let index = 0;
  let precision = DEFAULT_PRECISION;
  if (format[0] === '.') {
    index = 1;
    let digits = '';
    for (;;) {
      if (index >= format.length) throw new EvaluationError('could not parse formatting clause: error while parsing precision: could not find end of precision specifier');
      if (!/[0-9]/.test(format[index])) break;
      digits += format[index++];
    }
    if (digits === '') throw new EvaluationError('could not parse formatting clause: error while parsing precision: error while converting precision to integer: strconv.Atoi: parsing "": invalid syntax');
    precision = Number(digits);
  }
  const clause = format[index];
  const formatters: Record<string, () => string> = {
    s: () => formatString(value),
    d: () => decimal(value),
    f: () => fixed(value, precision),
    e: () => scientific(value),
    b: () => radix(value, 2, false),
    x: () => radix(value, 16, false),
    X: () => radix(value, 16, true),
    o: () => radix(value, 8, false),
  };
  const formatter = formatters[clause];
  if (!formatter) throw new EvaluationError(`could not parse formatting clause: unrecognized formatting clause "${clause}"`);
  try {
    return [index + 1, formatter()];
  } catch (error) {
    if (error instanceof FormatProblem) throw new EvaluationError(`error during formatting: ${error.message}`);
    throw error;
  }
}

export function celStringFormat(format: string, args: unknown[]): string {
  let result = '';
  let argIndex = 0;
  for (let index = 0; index < format.length; ) {
    if (format[index] !== '%') {
      result += format[index++];
      continue;
    }
    if (format[index + 1] === '%') {
      result += '%';
      index += 2;
      continue;
    }
    if (argIndex >= args.length) throw new EvaluationError(`index ${argIndex} out of range`);
    if (index + 1 >= format.length) throw new EvaluationError('unexpected end of string');
    const [read, text] = formatClause(format.slice(index + 1), args[argIndex]);
    result += text;
    index += read + 1;
    argIndex++;
  }
  return result;
}

