// The Kubernetes CEL libraries CRD rules use, on top of @marcbachmann/cel-js (which already has the
// standard library, the strings extension's lowerAscii/upperAscii/trim/split/join/indexOf/lastIndexOf/
// substring, `matches`, macros, `optional`): charAt/replace/reverse, regex find/findAll, list
// isSorted/sum/min/max/indexOf/lastIndexOf, url(), quantity(), ip()/cidr().

import v8 from 'node:v8';
import { BlockList, isIP } from 'node:net';
import { Environment, EvaluationError } from '@marcbachmann/cel-js';

// RE2 (which upstream uses) runs in linear time; V8's backtracking engine does not. This flag makes V8
// switch a regex to its linear engine once it backtracks excessively, so a pathological `matches`
// pattern (or schema `pattern`) cannot make the server spin.
v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

function fail(message: string): never {
  throw new EvaluationError(message);
}

function compileRegex(pattern: string, global = false): RegExp {
  try {
    return new RegExp(pattern, global ? 'gu' : 'u');
  } catch {
    return fail(`invalid regular expression: ${pattern}`);
  }
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

export class CelIp {
  constructor(readonly address: string, readonly family: 4 | 6) {}
}

export class CelCidr {
  constructor(readonly ip: CelIp, readonly prefix: number) {}
}

function parseIp(text: string): CelIp | undefined {
  const family = isIP(text);
  if (family === 0 || text.includes('%')) return undefined;
  // Kubernetes rejects IPv4-mapped IPv6 and leading zeros in IPv4 octets.
  if (family === 4 && text.split('.').some((octet) => octet.length > 1 && octet.startsWith('0'))) return undefined;
  if (family === 6 && /::ffff:\d+\.\d+\.\d+\.\d+$/i.test(text)) return undefined;
  return new CelIp(text, family as 4 | 6);
}

function parseCidr(text: string): CelCidr | undefined {
  const [address, prefixText, extra] = text.split('/');
  if (extra !== undefined || prefixText === undefined || !/^\d+$/.test(prefixText)) return undefined;
  const ip = parseIp(address);
  const prefix = Number(prefixText);
  if (!ip || prefix > (ip.family === 4 ? 32 : 128)) return undefined;
  return new CelCidr(ip, prefix);
}

function cidrContains(cidr: CelCidr, ip: CelIp): boolean {
  if (cidr.ip.family !== ip.family) return false;
  const list = new BlockList();
  list.addSubnet(cidr.ip.address, cidr.prefix, cidr.ip.family === 4 ? 'ipv4' : 'ipv6');
  return list.check(ip.address, ip.family === 4 ? 'ipv4' : 'ipv6');
}

// ---- the environment --------------------------------------------------------------------------------

function sorted(list: unknown[]): boolean {
  for (let index = 1; index < list.length; index++) if ((list[index - 1] as number) > (list[index] as number)) return false;
  return true;
}

function extreme(list: unknown[], pick: (a: any, b: any) => boolean): unknown {
  if (list.length === 0) fail('min called on empty list');
  return list.reduce((best, item) => (pick(item, best) ? item : best));
}

/** A fresh environment with the Kubernetes libraries; object types are registered on it per schema. */
export function kubernetesEnvironment(): Environment {
  const env = new Environment({ enableOptionalTypes: true });
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
  fn('string.reverse(): string', (text: string) => [...text].reverse().join(''));

  // regex library
  fn('string.find(string): string', (text: string, pattern: string) => compileRegex(pattern).exec(text)?.[0] ?? '');
  fn('string.findAll(string): list<string>', (text: string, pattern: string) => [...text.matchAll(compileRegex(pattern, true))].map((match) => match[0]));
  fn('string.findAll(string, int): list<string>', (text: string, pattern: string, limit: bigint) => {
    const all = [...text.matchAll(compileRegex(pattern, true))].map((match) => match[0]);
    return limit < 0n ? all : all.slice(0, Number(limit));
  });

  // lists library
  for (const element of ['int', 'double', 'string', 'bool', 'bytes', 'google.protobuf.Duration', 'google.protobuf.Timestamp']) {
    fn(`list<${element}>.isSorted(): bool`, sorted);
  }
  fn('list<int>.sum(): int', (list: bigint[]) => list.reduce((total, item) => total + item, 0n));
  fn('list<double>.sum(): double', (list: number[]) => list.reduce((total, item) => total + item, 0));
  for (const element of ['int', 'double', 'string']) {
    fn(`list<${element}>.min(): ${element}`, (list: unknown[]) => extreme(list, (a, b) => a < b));
    fn(`list<${element}>.max(): ${element}`, (list: unknown[]) => extreme(list, (a, b) => a > b));
  }
  fn('list<T>.indexOf(T): int', (list: unknown[], item: unknown) => BigInt(list.findIndex((entry) => celEqual(entry, item))));
  fn('list<T>.lastIndexOf(T): int', (list: unknown[], item: unknown) => {
    for (let index = list.length - 1; index >= 0; index--) if (celEqual(list[index], item)) return BigInt(index);
    return -1n;
  });

  // url library
  env.registerType('net.URL', CelUrl);
  fn('url(string): net.URL', (text: string) => parseUrl(text) ?? fail(`URL parse error during conversion from string: ${text}`));
  fn('isURL(string): bool', (text: string) => parseUrl(text) !== undefined);
  fn('net.URL.getScheme(): string', (url: CelUrl) => (url.source.startsWith('/') ? '' : url.url.protocol.replace(/:$/, '')));
  fn('net.URL.getHost(): string', (url: CelUrl) => (url.source.startsWith('/') ? '' : url.url.host));
  fn('net.URL.getHostname(): string', (url: CelUrl) => (url.source.startsWith('/') ? '' : url.url.hostname.replace(/^\[(.*)\]$/, '$1')));
  fn('net.URL.getPort(): string', (url: CelUrl) => (url.source.startsWith('/') ? '' : url.url.port));
  fn('net.URL.getEscapedPath(): string', (url: CelUrl) => url.url.pathname);
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
  fn('ip(string): net.IP', (text: string) => parseIp(text) ?? fail(`IP Address '${text}' parse error during conversion from string`));
  fn('isIP(string): bool', (text: string) => parseIp(text) !== undefined);
  fn('net.IP.family(): int', (ip: CelIp) => BigInt(ip.family));
  fn('net.IP.isUnspecified(): bool', (ip: CelIp) => ip.address === '0.0.0.0' || /^[0:]+$/.test(ip.address));
  fn('net.IP.isLoopback(): bool', (ip: CelIp) => (ip.family === 4 ? ip.address.startsWith('127.') : ip.address === '::1'));
  fn('string(net.IP): string', (ip: CelIp) => ip.address);
  env.registerOperator('net.IP == net.IP', (a: CelIp, b: CelIp) => a.address === b.address);
  fn('cidr(string): net.CIDR', (text: string) => parseCidr(text) ?? fail(`network address parse error during conversion from string: ${text}`));
  fn('isCIDR(string): bool', (text: string) => parseCidr(text) !== undefined);
  fn('net.CIDR.containsIP(net.IP): bool', cidrContains);
  fn('net.CIDR.containsIP(string): bool', (cidr: CelCidr, text: string) => cidrContains(cidr, parseIp(text) ?? fail(`IP Address '${text}' parse error during conversion from string`)));
  fn('net.CIDR.containsCIDR(net.CIDR): bool', (outer: CelCidr, inner: CelCidr) => inner.prefix >= outer.prefix && cidrContains(outer, inner.ip));
  fn('net.CIDR.ip(): net.IP', (cidr: CelCidr) => cidr.ip);
  fn('net.CIDR.prefixLength(): int', (cidr: CelCidr) => BigInt(cidr.prefix));
  fn('string(net.CIDR): string', (cidr: CelCidr) => `${cidr.ip.address}/${cidr.prefix}`);

  return env;
}
