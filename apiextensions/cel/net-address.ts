// IP addresses and prefixes as Go's net/netip reads and prints them, for the CEL ip and cidr libraries:
// upstream's values are netip.Addr and netip.Prefix, so what parses, how it prints (`string(ip(...))` is
// the canonical form, not the input), the predicates (isLoopback, isGlobalUnicast, ...) and the parse
// error messages (`ParseAddr("1.2.3"): IPv4 address too short`) all follow netip.

import { goQuote } from '../../apiserver/schema/go-values.js';

export class NetAddrError extends Error {}

export class CelIp {
  /** 4 bytes for IPv4, 16 for IPv6. */
  constructor(readonly bytes: Uint8Array) {}

  get family(): 4 | 6 {
    return this.bytes.length === 4 ? 4 : 6;
  }

  /** IPv4-mapped IPv6 (::ffff:a.b.c.d), which Kubernetes refuses. */
  get is4In6(): boolean {
    const b = this.bytes;
    return b.length === 16 && b.subarray(0, 10).every((byte) => byte === 0) && b[10] === 0xff && b[11] === 0xff;
  }

  equals(other: CelIp): boolean {
    return this.bytes.length === other.bytes.length && this.bytes.every((byte, index) => byte === other.bytes[index]);
  }

  isUnspecified(): boolean {
    return this.bytes.every((byte) => byte === 0);
  }

  isLoopback(): boolean {
    const b = this.bytes;
    return b.length === 4 ? b[0] === 127 : b.subarray(0, 15).every((byte) => byte === 0) && b[15] === 1;
  }

  isMulticast(): boolean {
    return this.bytes.length === 4 ? (this.bytes[0] & 0xf0) === 0xe0 : this.bytes[0] === 0xff;
  }

  isLinkLocalMulticast(): boolean {
    const b = this.bytes;
    return b.length === 4 ? b[0] === 224 && b[1] === 0 && b[2] === 0 : b[0] === 0xff && (b[1] & 0x0f) === 0x02;
  }

  isLinkLocalUnicast(): boolean {
    const b = this.bytes;
    return b.length === 4 ? b[0] === 169 && b[1] === 254 : b[0] === 0xfe && (b[1] & 0xc0) === 0x80;
  }

  /** netip's IsGlobalUnicast: private IPv4 and ULA IPv6 addresses count as global. */
  isGlobalUnicast(): boolean {
    if (this.bytes.length === 4 && (this.isUnspecified() || this.bytes.every((byte) => byte === 255))) return false;
    return !this.isUnspecified() && !this.isLoopback() && !this.isMulticast() && !this.isLinkLocalUnicast();
  }

  /** netip's String: dotted IPv4; IPv6 in lower case with the longest run of two or more zero groups as `::`. */
  toString(): string {
    const b = this.bytes;
    if (b.length === 4) return b.join('.');
    const groups = Array.from({ length: 8 }, (_, index) => (b[2 * index] << 8) | b[2 * index + 1]);
    let bestStart = -1;
    let bestLength = 0;
    for (let index = 0; index < 8; ) {
      if (groups[index] !== 0) {
        index++;
        continue;
      }
      let end = index;
      while (end < 8 && groups[end] === 0) end++;
      if (end - index > bestLength && end - index >= 2) {
        bestStart = index;
        bestLength = end - index;
      }
      index = end;
    }
    if (bestStart < 0) return groups.map((group) => group.toString(16)).join(':');
    const head = groups.slice(0, bestStart).map((group) => group.toString(16)).join(':');
    const tail = groups.slice(bestStart + bestLength).map((group) => group.toString(16)).join(':');
    return `${head}::${tail}`;
  }
}

export class CelCidr {
  constructor(
    readonly ip: CelIp,
    readonly prefix: number,
  ) {}

  equals(other: CelCidr): boolean {
    return this.prefix === other.prefix && this.ip.equals(other.ip);
  }

  /** netip's Prefix.Masked: the address with the bits past the prefix cleared. */
  masked(): CelCidr {
    const bytes = Uint8Array.from(this.ip.bytes);
    for (let bit = this.prefix; bit < bytes.length * 8; bit++) bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
    return new CelCidr(new CelIp(bytes), this.prefix);
  }

  containsIp(ip: CelIp): boolean {
    if (ip.bytes.length !== this.ip.bytes.length) return false;
    for (let bit = 0; bit < this.prefix; bit++) {
      const mask = 0x80 >> (bit & 7);
      if ((ip.bytes[bit >> 3] & mask) !== (this.ip.bytes[bit >> 3] & mask)) return false;
    }
    return true;
  }

  /** Upstream: the prefixes overlap and this one is no longer than the other. */
  containsCidr(other: CelCidr): boolean {
    if (other.ip.bytes.length !== this.ip.bytes.length || this.prefix > other.prefix) return false;
    return this.containsIp(other.ip);
  }

  toString(): string {
    return `${this.ip}/${this.prefix}`;
  }
}

function addrError(input: string, message: string, at?: string): NetAddrError {
  return new NetAddrError(`ParseAddr(${goQuote(input)}): ${message}${at !== undefined && at !== '' ? ` (at ${goQuote(at)})` : ''}`);
}

/** netip.ParseAddr; a zone is returned separately (the CEL libraries refuse it). */
export function parseAddr(input: string): { ip: CelIp; zone: string } {
  for (const char of input) {
    if (char === '.') return { ip: new CelIp(parseIPv4(input, input, 0, input.length)), zone: '' };
    if (char === ':') return parseIPv6(input);
    if (char === '%') throw addrError(input, 'missing IPv6 address');
  }
  throw addrError(input, 'unable to parse IP');
}

function isDigit(char: string): boolean {
  return char >= '0' && char <= '9';
}

function parseIPv4(input: string, text: string, start: number, end: number): Uint8Array {
  const fields = new Uint8Array(4);
  let value = 0;
  let position = 0;
  let digits = 0;
  for (let index = start; index < end; index++) {
    const char = text[index];
    if (isDigit(char)) {
      if (digits === 1 && value === 0) throw addrError(input, 'IPv4 field has octet with leading zero');
      value = value * 10 + Number(char);
      digits++;
      if (value > 255) throw addrError(input, 'IPv4 field has value >255');
    } else if (char === '.') {
      if (index === start || index === end - 1 || text[index - 1] === '.') throw addrError(input, 'IPv4 field must have at least one digit', text.slice(index, end));
      if (position === 3) throw addrError(input, 'IPv4 address too long');
      fields[position++] = value;
      value = 0;
      digits = 0;
    } else {
      throw addrError(input, 'unexpected character', text.slice(index, end));
    }
  }
  if (position < 3) throw addrError(input, 'IPv4 address too short');
  fields[3] = value;
  return fields;
}

function hexValue(char: string): number {
  const code = char.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

function parseIPv6(input: string): { ip: CelIp; zone: string } {
  let rest = input;
  let zone = '';
  const percent = input.indexOf('%');
  if (percent >= 0) {
    rest = input.slice(0, percent);
    zone = input.slice(percent + 1);
    if (zone === '') throw addrError(input, 'zone must be a non-empty string');
  }
  const bytes = new Uint8Array(16);
  let ellipsis = -1;
  if (rest.startsWith('::')) {
    ellipsis = 0;
    rest = rest.slice(2);
    if (rest === '') return { ip: new CelIp(bytes), zone };
  }
  let filled = 0;
  while (filled < 16) {
    let offset = 0;
    let value = 0;
    for (; offset < rest.length; offset++) {
      const digit = hexValue(rest[offset]);
      if (digit < 0) break;
      value = value * 16 + digit;
      if (offset > 3) throw addrError(input, 'each group must have 4 or less digits', rest);
      if (value > 0xffff) throw addrError(input, 'IPv6 field has value >=2^16', rest);
    }
    if (offset === 0) throw addrError(input, 'each colon-separated field must have at least one digit', rest);
    if (offset < rest.length && rest[offset] === '.') {
      if (ellipsis < 0 && filled !== 12) throw addrError(input, 'embedded IPv4 address must replace the final 2 fields of the address', rest);
      if (filled + 4 > 16) throw addrError(input, 'too many hex fields to fit an embedded IPv4 at the end of the address', rest);
      const end = input.length - (zone ? zone.length + 1 : 0);
      bytes.set(parseIPv4(input, input, end - rest.length, end), filled);
      rest = '';
      filled += 4;
      break;
    }
    bytes[filled] = value >> 8;
    bytes[filled + 1] = value & 0xff;
    filled += 2;
    rest = rest.slice(offset);
    if (rest === '') break;
    if (rest[0] !== ':') throw addrError(input, 'unexpected character, want colon', rest);
    if (rest.length === 1) throw addrError(input, 'colon must be followed by more characters', rest);
    rest = rest.slice(1);
    if (rest[0] === ':') {
      if (ellipsis >= 0) throw addrError(input, 'multiple :: in address', rest);
      ellipsis = filled;
      rest = rest.slice(1);
      if (rest === '') break;
    }
  }
  if (rest !== '') throw addrError(input, 'trailing garbage after address', rest);
  if (filled < 16) {
    if (ellipsis < 0) throw addrError(input, 'address string too short');
    const shift = 16 - filled;
    for (let index = filled - 1; index >= ellipsis; index--) bytes[index + shift] = bytes[index];
    bytes.fill(0, ellipsis, ellipsis + shift);
  } else if (ellipsis >= 0) {
    throw addrError(input, 'the :: must expand to at least one field of zeros', rest);
  }
  return { ip: new CelIp(bytes), zone };
}

/** Upstream's parseIPAddr (library/ip.go): netip plus no zones and no IPv4-mapped IPv6. */
export function parseCelIp(text: string): CelIp {
  let parsed: { ip: CelIp; zone: string };
  try {
    parsed = parseAddr(text);
  } catch (error) {
    throw new NetAddrError(`IP Address ${goQuote(text)} parse error during conversion from string: ${(error as Error).message}`);
  }
  if (parsed.zone !== '') throw new NetAddrError(`IP address ${goQuote(text)} with zone value is not allowed`);
  if (parsed.ip.is4In6) throw new NetAddrError(`IPv4-mapped IPv6 address ${goQuote(text)} is not allowed`);
  return parsed.ip;
}

function prefixError(input: string, message: string): NetAddrError {
  return new NetAddrError(`netip.ParsePrefix(${goQuote(input)}): ${message}`);
}

/** netip.ParsePrefix (the address is kept as written, not masked). */
export function parsePrefix(input: string): CelCidr {
  const slash = input.lastIndexOf('/');
  if (slash < 0) throw prefixError(input, "no '/'");
  let parsed: { ip: CelIp; zone: string };
  try {
    parsed = parseAddr(input.slice(0, slash));
  } catch (error) {
    throw prefixError(input, (error as Error).message);
  }
  if (parsed.zone !== '') throw prefixError(input, 'IPv6 zones cannot be present in a prefix');
  const bitsText = input.slice(slash + 1);
  if (!/^(0|[1-9][0-9]*)$/.test(bitsText) || bitsText.length > 18) throw prefixError(input, `bad bits after slash: ${goQuote(bitsText)}`);
  const bits = Number(bitsText);
  if (bits > parsed.ip.bytes.length * 8) throw prefixError(input, 'prefix length out of range');
  return new CelCidr(parsed.ip, bits);
}

/** Upstream's parseCIDR (library/cidr.go), whose message repeats its prefix when cidr() reports it. */
export function parseCelCidr(text: string): CelCidr {
  let cidr: CelCidr;
  try {
    cidr = parsePrefix(text);
  } catch (error) {
    throw new NetAddrError(`network address parse error during conversion from string: ${(error as Error).message}`);
  }
  if (cidr.ip.is4In6) throw new NetAddrError(`IPv4-mapped IPv6 address ${goQuote(text)} is not allowed`);
  return cidr;
}
