// The Kubernetes CEL libraries CRD rules use in 1.32 (k8s.io/apiserver/pkg/cel/environment's base
// environment), on top of @marcbachmann/cel-js (which already has the standard library, the strings
// extension's lowerAscii/upperAscii/trim/split/join/indexOf/lastIndexOf/substring, `matches`, macros,
// `optional`): the strings extension's charAt/replace/strings.quote (version 2: no reverse), the sets
// extension, regex find/findAll (Go's RE2, linear time), lists isSorted/sum/min/max/indexOf/lastIndexOf,
// url(), quantity(), ip()/cidr() (netip semantics) and the format library. Namespaced functions
// (`sets.contains`, `format.dns1123Label()`, `ip.isCanonical`) are methods of a constant named after the
// namespace, as cel-js does for `cel.bind`.

import v8 from 'node:v8';
import { Environment, EvaluationError, Optional } from '@marcbachmann/cel-js';
import { isDns1035Label, isDns1123Label, isDns1123Subdomain, isQualifiedName, isValidLabelValue } from '../../apiserver/registry/names.js';
import { matchesFormat } from '../../apiserver/schema/formats.js';
import { goQuote } from '../../apiserver/schema/go-values.js';
import { compileGoRegexp, GoRegexpError, type GoRegexp } from '../../apiserver/schema/pattern.js';
import { CelCidr, CelIp, NetAddrError, parseCelCidr, parseCelIp } from './net-address.js';
import { registerTwoVarComprehensions } from './comprehensions.js';
import { registerOptionalMacros } from './optional-macros.js';
import { celStringFormat, durationString, timestampString } from './string-format.js';
import { registerZonedAccessors } from './timestamp-zones.js';

export { CelCidr, CelIp };

// RE2 (which upstream uses) runs in linear time; V8's backtracking engine does not. This flag makes V8
// switch a regex to its linear engine once it backtracks excessively, so a pathological `matches`
// pattern (or schema `pattern`) cannot make the server spin.
v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

function fail(message: string): never {
  throw new EvaluationError(message);
}

function compileRegex(pattern: string): GoRegexp {
  try {
    return compileGoRegexp(pattern);
  } catch (error) {
    if (error instanceof GoRegexpError) fail(`Illegal regex: ${error.message}`);
    throw error;
  }
}

const codePoints = (text: string) => [...text].map((char) => char.codePointAt(0)!);
const fromCodePoints = (points: number[], start: number, end: number) => String.fromCodePoint(...points.slice(start, end));

/** Go's FindAllString: successive non-overlapping matches; an empty match right after a match is skipped. */
function findAll(text: string, pattern: string, limit: number): string[] {
  const regexp = compileRegex(pattern);
  const input = codePoints(text);
  const found: string[] = [];
  let previousEnd = -1;
  for (let position = 0; (limit < 0 || found.length < limit) && position <= input.length; ) {
    const match = regexp.findAt(input, position);
    if (!match) break;
    const [start, end] = match;
    let accept = true;
    if (end === position) {
      if (start === previousEnd) accept = false;
      position++;
    } else {
      position = end;
    }
    previousEnd = end;
    if (accept) found.push(fromCodePoints(input, start, end));
  }
  return found;
}

/** cel-go's strings.quote. */
function quote(text: string): string {
  const escapes: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\', '"': '\\"' };
  return `"${[...text].map((char) => escapes[char] ?? (char >= '\ud800' && char <= '\udfff' ? '\ufffd' : char)).join('')}"`;
}

/** Structural equality with CEL's semantics for the values `toCelValue` produces. */
export function celEqual(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (typeof left === 'bigint' && typeof right === 'number') return Number(left) === right;
  if (typeof left === 'number' && typeof right === 'bigint') return left === Number(right);
  if (left === null || right === null || typeof left !== 'object' || typeof right !== 'object') return false;
  if (left instanceof Date && right instanceof Date) return left.getTime() === right.getTime();
  if (left instanceof Uint8Array && right instanceof Uint8Array) return Buffer.from(left).equals(Buffer.from(right));
  if (Array.isArray(left) || Array.isArray(right)) {
    if (!Array.isArray(left) || !Array.isArray(right) || left.length !== right.length) return false;
    return left.every((item, index) => celEqual(item, right[index]));
  }
  if (left.constructor !== right.constructor && !(isPlain(left) && isPlain(right))) return false;
  if (typeof (left as { valueOf(): unknown }).valueOf === 'function' && !isPlain(left) && (left as object).constructor.name === 'Duration') {
    return Number(left) === Number(right);
  }
  const leftKeys = Object.keys(left);
  const rightKeys = Object.keys(right);
  if (leftKeys.length !== rightKeys.length) return false;
  return leftKeys.every((key) => Object.prototype.hasOwnProperty.call(right, key) && celEqual((left as Record<string, unknown>)[key], (right as Record<string, unknown>)[key]));
}

function isPlain(value: object): boolean {
  return value.constructor === Object || value.constructor === undefined;
}

// ---- Quantity (k8s.io/apimachinery resource.Quantity), kept exactly as a count of nano-units ------

const BINARY: Record<string, bigint> = { Ki: 1n << 10n, Mi: 1n << 20n, Gi: 1n << 30n, Ti: 1n << 40n, Pi: 1n << 50n, Ei: 1n << 60n };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const QUANTITY = /^([+-]?)(\d+\.?\d*|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

export class Quantity {
  constructor(readonly nanos: bigint) {}
}

function pow10(exponent: number): bigint {
  return 10n ** BigInt(exponent);
}

export function parseQuantity(text: string): Quantity | undefined {
  const match = QUANTITY.exec(text);
  if (!match) return undefined;
  const [, sign, number, suffix, exponent] = match;
  const [whole, fraction = ''] = number.split('.');
  // value = digits * 10^-fraction.length, in nano-units: digits * 10^(9 - fraction.length) * multiplier
  let digits = BigInt((whole || '0') + fraction);
  let scale = 9 - fraction.length;
  if (suffix && BINARY[suffix]) digits *= BINARY[suffix];
  else if (suffix !== undefined) scale += DECIMAL[suffix];
  else if (exponent !== undefined) scale += Number(exponent);
  if (Math.abs(scale) > 1000) return undefined;
  const nanos = scale >= 0 ? digits * pow10(scale) : digits / pow10(-scale);
  return new Quantity(sign === '-' ? -nanos : nanos);
}

function quantityOrFail(text: string): Quantity {
  return parseQuantity(text) ?? fail(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
}

const compareBig = (left: bigint, right: bigint) => BigInt(left < right ? -1 : left > right ? 1 : 0);

// ---- URL and IP/CIDR --------------------------------------------------------------------------------

export class CelUrl {
  constructor(readonly url: URL, readonly source: string) {}
}

function parseUrl(text: string): CelUrl | undefined {
  // Go's url.ParseRequestURI: absolute URLs or absolute paths.
  try {
    if (text.startsWith('/')) return new CelUrl(new URL(text, 'http://placeholder.invalid'), text);
    if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(text)) return undefined;
    return new CelUrl(new URL(text), text);
  } catch {
    return undefined;
  }
}

// ---- the environment --------------------------------------------------------------------------------

/** The name CRD rules' `matches` calls are compiled to, so that they run on Go's regexp engine. */
export const GO_MATCHES = '__k8sGoMatches';

/** CEL's ordering of the comparable types (int, uint, double, bool, string, bytes, duration, timestamp). */
function compare(left: unknown, right: unknown): number {
  if (left instanceof Uint8Array && right instanceof Uint8Array) return Buffer.compare(Buffer.from(left), Buffer.from(right));
  if (left instanceof Date && right instanceof Date) return Math.sign(left.getTime() - right.getTime());
  const a = typeof left === 'object' && left !== null ? Number(left) : (left as number | bigint | string | boolean);
  const b = typeof right === 'object' && right !== null ? Number(right) : (right as number | bigint | string | boolean);
  return a < b ? -1 : a > b ? 1 : 0;
}

function sorted(list: unknown[]): boolean {
  for (let index = 1; index < list.length; index++) if (compare(list[index - 1], list[index]) > 0) return false;
  return true;
}

/** Upstream's min/max: the first of equal extremes wins; an empty list is an error naming the function. */
function extreme(name: 'min' | 'max', list: unknown[]): unknown {
  if (list.length === 0) fail(`${name} called on empty list`);
  const prefer = name === 'min' ? 1 : -1;
  return list.reduce((best, item) => (compare(best, item) === prefer ? item : best));
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function sumInts(list: bigint[]): bigint {
  let total = 0n;
  for (const item of list) {
    total += item;
    if (total < INT64_MIN || total > INT64_MAX) fail('integer overflow');
  }
  return total;
}

function sumUints(list: bigint[]): bigint {
  let total = 0n;
  for (const item of list) {
    total += item;
    if (total > (1n << 64n) - 1n) fail('unsigned integer overflow');
  }
  return total;
}

interface Duration {
  seconds: number | bigint;
  nanos: number;
  addDuration(other: Duration): Duration;
}

const zeroDuration = new Environment().evaluate("duration('0s')") as Duration;

/** CEL's zero values (optional.ofNonZeroValue): 0, '', false, empty lists/maps/bytes, null, the zero duration and timestamp. */
function isZeroValue(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === 0n || value === '') return true;
  if (value instanceof Uint8Array || Array.isArray(value)) return value.length === 0;
  if (value instanceof Date) return !Number.isNaN(value.getTime()) && value.toISOString() === '0001-01-01T00:00:00.000Z';
  if (value instanceof Map) return value.size === 0;
  const name = (value as object).constructor?.name;
  if (name === 'Duration') return Number((value as Duration).seconds) === 0 && (value as Duration).nanos === 0;
  if (name === 'UnsignedInteger' || name === 'UnsignedInt') return Number((value as { value: number }).value) === 0;
  if (name === 'Object' || name === undefined) return Object.keys(value as object).length === 0;
  return false;
}

/** Equality of list elements for the sets extension (CEL's heterogeneous numeric equality included). */
function setContains(list: unknown[], item: unknown): boolean {
  return list.some((entry) => celEqual(entry, item));
}

// ---- the format library (library/format.go) --------------------------------------------------------

export class NamedFormat {
  constructor(
    readonly name: string,
    readonly validate: (value: string) => string[],
  ) {}
}

/** NameIsDNSLabel and friends with prefix=true: a trailing dash is allowed (generateName). */
const asPrefix = (validate: (value: string) => string[]) => (value: string) => validate(value.length > 1 && value.endsWith('-') ? `${value.slice(0, -1)}a` : value);

const FORMATS: Record<string, NamedFormat> = {
  dns1123Label: new NamedFormat('DNS1123Label', isDns1123Label),
  dns1123Subdomain: new NamedFormat('DNS1123Subdomain', isDns1123Subdomain),
  dns1035Label: new NamedFormat('DNS1035Label', isDns1035Label),
  qualifiedName: new NamedFormat('QualifiedName', isQualifiedName),
  dns1123LabelPrefix: new NamedFormat('DNS1123LabelPrefix', asPrefix(isDns1123Label)),
  dns1123SubdomainPrefix: new NamedFormat('DNS1123SubdomainPrefix', asPrefix(isDns1123Subdomain)),
  dns1035LabelPrefix: new NamedFormat('DNS1035LabelPrefix', asPrefix(isDns1035Label)),
  labelValue: new NamedFormat('LabelValue', isValidLabelValue),
  uri: new NamedFormat('URI', (value) => (parseUrl(value) ? [] : [`parse ${goQuote(value)}: invalid URI for request`])),
  uuid: new NamedFormat('uuid', (value) => (matchesFormat('uuid', value) ? [] : ['does not match the UUID format'])),
  byte: new NamedFormat('byte', (value) => (matchesFormat('byte', value) ? [] : ['invalid base64'])),
  date: new NamedFormat('date', (value) => (matchesFormat('date', value) ? [] : ['invalid date'])),
  datetime: new NamedFormat('datetime', (value) => (matchesFormat('datetime', value) ? [] : ['invalid datetime'])),
};

/** The receivers of namespaced functions (`sets.contains(...)` is a call on the constant `sets`). */
class SetsNamespace {}
class StringsNamespace {}
class FormatNamespace {}
class IpNamespace {}

function isCidr(text: string): boolean {
  try {
    parseCelCidr(text);
    return true;
  } catch {
    return false;
  }
}

function orNoOverload<T>(parse: () => T): T {
  try {
    return parse();
  } catch {
    return fail('no such overload');
  }
}

function netFail(run: () => unknown): any {
  try {
    return run();
  } catch (error) {
    if (error instanceof NetAddrError) fail(error.message);
    throw error;
  }
}

/** A fresh environment with the Kubernetes libraries; object types are registered on it per schema. */
export function kubernetesEnvironment(options: { homogeneousAggregateLiterals?: boolean } = {}): Environment {
  // Callers that turn cel-js's own homogeneity check off check literals themselves (cel-go exempts the
  // arguments of string.format from it), see homogeneousLiteralIssue.
  const env = new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: options.homogeneousAggregateLiterals ?? true });
  const fn = (signature: string, handler: (...args: any[]) => unknown) => env.registerFunction(signature, handler);

  // strings extension (the parts cel-js does not have)
  fn('string.charAt(int): string', (text: string, index: bigint) => {
    if (index < 0n || index > BigInt(text.length)) fail(`index out of range: ${index}`);
    return text.charAt(Number(index));
  });
  fn('string.replace(string, string): string', (text: string, from: string, to: string) => text.split(from).join(to));
  fn('string.replace(string, string, int): string', (text: string, from: string, to: string, limit: bigint) => {
    if (limit < 0n) return text.split(from).join(to);
    const parts = text.split(from);
    const count = Number(limit);
    return parts.length - 1 <= count ? parts.join(to) : parts.slice(0, count + 1).join(to) + from + parts.slice(count + 1).join(from);
  });
  registerTwoVarComprehensions(env);
  registerOptionalMacros(env);
  registerZonedAccessors(env);
  fn('string.format(list): string', celStringFormat);
  env.registerType('kubernetes.StringsNamespace', StringsNamespace);
  env.registerConstant('strings', 'kubernetes.StringsNamespace', new StringsNamespace());
  fn('kubernetes.StringsNamespace.quote(string): string', (_namespace: StringsNamespace, text: string) => quote(text));

  // sets extension
  env.registerType('kubernetes.SetsNamespace', SetsNamespace);
  env.registerConstant('sets', 'kubernetes.SetsNamespace', new SetsNamespace());
  fn('kubernetes.SetsNamespace.contains(list<A>, list<A>): bool', (_namespace: SetsNamespace, list: unknown[], sub: unknown[]) => sub.every((item) => setContains(list, item)));
  fn('kubernetes.SetsNamespace.equivalent(list<A>, list<A>): bool', (_namespace: SetsNamespace, left: unknown[], right: unknown[]) => left.every((item) => setContains(right, item)) && right.every((item) => setContains(left, item)));
  fn('kubernetes.SetsNamespace.intersects(list<A>, list<A>): bool', (_namespace: SetsNamespace, left: unknown[], right: unknown[]) => left.some((item) => setContains(right, item)));

  // regex library; `matches` on Go's RE2 (syntax such as `(?i)`, linear time). cel-js's own string.matches
  // cannot be replaced, so CRD rules are rewritten to call GO_MATCHES (see compile.ts); the global
  // matches(string, string) cel-js lacks is declared directly.
  const goMatches = (text: string, pattern: string) => {
    try {
      return compileGoRegexp(pattern).test(text);
    } catch (error) {
      if (error instanceof GoRegexpError) fail(error.message);
      throw error;
    }
  };
  fn('matches(string, string): bool', goMatches);
  fn(`${GO_MATCHES}(string, string): bool`, goMatches);
  fn(`string.${GO_MATCHES}(string): bool`, goMatches);
  fn('string.find(string): string', (text: string, pattern: string) => {
    const input = codePoints(text);
    const match = compileRegex(pattern).findAt(input, 0);
    return match ? fromCodePoints(input, match[0], match[1]) : '';
  });
  fn('string.findAll(string): list<string>', (text: string, pattern: string) => findAll(text, pattern, -1));
  fn('string.findAll(string, int): list<string>', (text: string, pattern: string, limit: bigint) => findAll(text, pattern, limit < 0n ? -1 : Number(limit > 1_000_000n ? 1_000_000n : limit)));

  // lists library
  for (const element of ['int', 'uint', 'double', 'bool', 'string', 'bytes', 'google.protobuf.Duration', 'google.protobuf.Timestamp']) {
    fn(`list<${element}>.isSorted(): bool`, sorted);
    fn(`list<${element}>.min(): ${element}`, (list: unknown[]) => extreme('min', list));
    fn(`list<${element}>.max(): ${element}`, (list: unknown[]) => extreme('max', list));
  }
  fn('list<int>.sum(): int', sumInts);
  fn('list<google.protobuf.Duration>.sum(): google.protobuf.Duration', (list: Duration[]) => list.reduce((total, item) => total.addDuration(item), zeroDuration));
  fn('list<uint>.sum(): uint', sumUints);
  fn('list<double>.sum(): double', (list: number[]) => list.reduce((total, item) => total + item, 0));
  fn('list<T>.indexOf(T): int', (list: unknown[], item: unknown) => BigInt(list.findIndex((entry) => celEqual(entry, item))));
  fn('list<T>.lastIndexOf(T): int', (list: unknown[], item: unknown) => {
    for (let index = list.length - 1; index >= 0; index--) if (celEqual(list[index], item)) return BigInt(index);
    return -1n;
  });

  // conversions cel-js lacks
  fn('string(google.protobuf.Duration): string', durationString);
  fn('string(google.protobuf.Timestamp): string', timestampString);

  // optionals: ofNonZeroValue, and == between optionals of any element type
  fn('OptionalNamespace.ofNonZeroValue(dyn): optional<dyn>', (_namespace: unknown, value: unknown) => (isZeroValue(value) ? Optional.none() : Optional.of(value)));
  env.registerOperator('optional == optional', (left: Optional, right: Optional) => (left.hasValue() && right.hasValue() ? celEqual(left.value(), right.value()) : left.hasValue() === right.hasValue()));

  // url library
  env.registerType('net.URL', CelUrl);
  fn('url(string): net.URL', (text: string) => parseUrl(text) ?? fail(`URL parse error during conversion from string: parse ${goQuote(text)}: invalid URI for request`));
  fn('isURL(string): bool', (text: string) => parseUrl(text) !== undefined);
  fn('net.URL.getScheme(): string', (url: CelUrl) => (url.source.startsWith('/') ? '' : url.url.protocol.replace(/:$/, '')));
  fn('net.URL.getHost(): string', (url: CelUrl) => (url.source.startsWith('/') ? '' : url.url.host));
  fn('net.URL.getHostname(): string', (url: CelUrl) => (url.source.startsWith('/') ? '' : url.url.hostname.replace(/^\[(.*)\]$/, '$1')));
  fn('net.URL.getPort(): string', (url: CelUrl) => (url.source.startsWith('/') ? '' : url.url.port));
  // WHATWG URLs always have a path; Go's has none after a bare authority (`https://example.com`).
  fn('net.URL.getEscapedPath(): string', (url: CelUrl) => (url.source.startsWith('/') || /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*\//.test(url.source) ? url.url.pathname : ''));
  fn('net.URL.getQuery(): map<string, list<string>>', (url: CelUrl) => {
    const query: Record<string, string[]> = {};
    for (const [key, value] of url.url.searchParams) (query[key] ??= []).push(value);
    return query;
  });

  // quantity library
  env.registerType('kubernetes.Quantity', Quantity);
  fn('quantity(string): kubernetes.Quantity', quantityOrFail);
  fn('isQuantity(string): bool', (text: string) => parseQuantity(text) !== undefined);
  fn('kubernetes.Quantity.sign(): int', (q: Quantity) => compareBig(q.nanos, 0n));
  fn('kubernetes.Quantity.isInteger(): bool', (q: Quantity) => q.nanos % 1_000_000_000n === 0n);
  fn('kubernetes.Quantity.asInteger(): int', (q: Quantity) => {
    if (q.nanos % 1_000_000_000n !== 0n) fail('cannot convert value to integer');
    return q.nanos / 1_000_000_000n;
  });
  fn('kubernetes.Quantity.asApproximateFloat(): double', (q: Quantity) => Number(q.nanos) / 1e9);
  fn('kubernetes.Quantity.compareTo(kubernetes.Quantity): int', (a: Quantity, b: Quantity) => compareBig(a.nanos, b.nanos));
  fn('kubernetes.Quantity.isGreaterThan(kubernetes.Quantity): bool', (a: Quantity, b: Quantity) => a.nanos > b.nanos);
  fn('kubernetes.Quantity.isLessThan(kubernetes.Quantity): bool', (a: Quantity, b: Quantity) => a.nanos < b.nanos);
  fn('kubernetes.Quantity.add(kubernetes.Quantity): kubernetes.Quantity', (a: Quantity, b: Quantity) => new Quantity(a.nanos + b.nanos));
  fn('kubernetes.Quantity.add(int): kubernetes.Quantity', (a: Quantity, b: bigint) => new Quantity(a.nanos + b * 1_000_000_000n));
  fn('kubernetes.Quantity.sub(kubernetes.Quantity): kubernetes.Quantity', (a: Quantity, b: Quantity) => new Quantity(a.nanos - b.nanos));
  fn('kubernetes.Quantity.sub(int): kubernetes.Quantity', (a: Quantity, b: bigint) => new Quantity(a.nanos - b * 1_000_000_000n));
  env.registerOperator('kubernetes.Quantity == kubernetes.Quantity', (a: Quantity, b: Quantity) => a.nanos === b.nanos);

  // ip and cidr libraries
  env.registerType('net.IP', CelIp);
  env.registerType('net.CIDR', CelCidr);
  env.registerType('kubernetes.IpNamespace', IpNamespace);
  env.registerConstant('ip', 'kubernetes.IpNamespace', new IpNamespace());
  fn('ip(string): net.IP', (text: string) => netFail(() => parseCelIp(text)));
  fn('kubernetes.IpNamespace.isCanonical(string): bool', (_namespace: IpNamespace, text: string) => netFail(() => parseCelIp(text).toString() === text));
  fn('isIP(string): bool', (text: string) => {
    try {
      parseCelIp(text);
      return true;
    } catch {
      return false;
    }
  });
  fn('net.IP.family(): int', (ip: CelIp) => BigInt(ip.family));
  fn('net.IP.isUnspecified(): bool', (ip: CelIp) => ip.isUnspecified());
  fn('net.IP.isLoopback(): bool', (ip: CelIp) => ip.isLoopback());
  fn('net.IP.isLinkLocalMulticast(): bool', (ip: CelIp) => ip.isLinkLocalMulticast());
  fn('net.IP.isLinkLocalUnicast(): bool', (ip: CelIp) => ip.isLinkLocalUnicast());
  fn('net.IP.isGlobalUnicast(): bool', (ip: CelIp) => ip.isGlobalUnicast());
  fn('string(net.IP): string', (ip: CelIp) => ip.toString());
  env.registerOperator('net.IP == net.IP', (a: CelIp, b: CelIp) => a.equals(b));
  // stringToCIDR wraps parseCIDR's message in the same words again.
  fn('cidr(string): net.CIDR', (text: string) => {
    try {
      return parseCelCidr(text);
    } catch (error) {
      if (error instanceof NetAddrError) fail(`network address parse error during conversion from string: ${error.message}`);
      throw error;
    }
  });
  fn('isCIDR(string): bool', (text: string) => isCidr(text));
  fn('net.CIDR.containsIP(net.IP): bool', (cidr: CelCidr, ip: CelIp) => cidr.containsIp(ip));
  // Upstream checks the parsed argument's type, so an unparsable string is "no such overload".
  fn('net.CIDR.containsIP(string): bool', (cidr: CelCidr, text: string) => cidr.containsIp(orNoOverload(() => parseCelIp(text))));
  fn('net.CIDR.containsCIDR(net.CIDR): bool', (outer: CelCidr, inner: CelCidr) => outer.containsCidr(inner));
  fn('net.CIDR.containsCIDR(string): bool', (outer: CelCidr, text: string) => outer.containsCidr(orNoOverload(() => parseCelCidr(text))));
  fn('net.CIDR.ip(): net.IP', (cidr: CelCidr) => cidr.ip);
  fn('net.CIDR.masked(): net.CIDR', (cidr: CelCidr) => cidr.masked());
  fn('net.CIDR.prefixLength(): int', (cidr: CelCidr) => BigInt(cidr.prefix));
  fn('string(net.CIDR): string', (cidr: CelCidr) => cidr.toString());
  env.registerOperator('net.CIDR == net.CIDR', (a: CelCidr, b: CelCidr) => a.equals(b));

  // format library
  env.registerType('kubernetes.NamedFormat', NamedFormat);
  env.registerType('kubernetes.FormatNamespace', FormatNamespace);
  env.registerConstant('format', 'kubernetes.FormatNamespace', new FormatNamespace());
  for (const [name, format] of Object.entries(FORMATS)) fn(`kubernetes.FormatNamespace.${name}(): kubernetes.NamedFormat`, () => format);
  fn('kubernetes.FormatNamespace.named(string): optional<kubernetes.NamedFormat>', (_namespace: FormatNamespace, name: string) => (Object.hasOwn(FORMATS, name) ? Optional.of(FORMATS[name]) : Optional.none()));
  fn('kubernetes.NamedFormat.validate(string): optional<list<string>>', (format: NamedFormat, value: string) => {
    const problems = format.validate(value);
    return problems.length === 0 ? Optional.none() : Optional.of(problems);
  });

  return env;
}
