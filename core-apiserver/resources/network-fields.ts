// Field checks Services, Endpoints and EndpointSlices share (IPs, ports, protocols), with the texts of
// apimachinery's util/validation and core validation, since kubectl prints them verbatim.

import { BlockList, isIP } from 'node:net';
import type { FieldError } from '../../apiserver/request/status.js';
import { isDns1123Label } from '../../apiserver/registry/names.js';

export const SUPPORTED_PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
export const PORT_NUMBER_RANGE = 'must be between 1 and 65535, inclusive';
export const INVALID_IP = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

export type IPFamily = 'IPv4' | 'IPv6';

export function ipFamilyOf(ip: unknown): IPFamily | undefined {
  if (typeof ip !== 'string') return undefined;
  const version = isIP(ip);
  return version === 4 ? 'IPv4' : version === 6 ? 'IPv6' : undefined;
}

export function isValidPortNumber(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

export function validatePortNumber(value: unknown, field: string): FieldError[] {
  return isValidPortNumber(value) ? [] : [{ field, type: 'FieldValueInvalid', value: value ?? 0, detail: PORT_NUMBER_RANGE }];
}

/** IANA_SVC_NAME (apimachinery's IsValidPortName). */
export function portNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length > 15) problems.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(name)) problems.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(name)) problems.push('must contain at least one letter (a-z)');
  if (name.includes('--')) problems.push('must not contain consecutive hyphens (--)');
  if (name.length > 0 && (name.startsWith('-') || name.endsWith('-'))) problems.push('must not begin or end with a hyphen (-)');
  return problems;
}

/** An int-or-string port: a number in range or an IANA service name. */
export function validatePortNumOrName(value: unknown, field: string): FieldError[] {
  if (typeof value === 'string') return portNameProblems(value).map((detail) => ({ field, type: 'FieldValueInvalid', value, detail }));
  return validatePortNumber(value, field);
}

export function validateProtocol(value: unknown, field: string): FieldError[] {
  if (value === undefined || value === '') return [{ field, type: 'FieldValueRequired' }];
  if (typeof value !== 'string' || !SUPPORTED_PROTOCOLS.includes(value)) return [{ field, type: 'FieldValueNotSupported', value, supported: SUPPORTED_PROTOCOLS }];
  return [];
}

export function validateDns1123Label(value: string, field: string): FieldError[] {
  return isDns1123Label(value).map((detail) => ({ field, type: 'FieldValueInvalid', value, detail }));
}

export function validateIP(value: unknown, field: string): FieldError[] {
  return ipFamilyOf(value) ? [] : [{ field, type: 'FieldValueInvalid', value: value ?? '', detail: INVALID_IP }];
}

export function validateCIDR(value: string, field: string): FieldError[] {
  const [address, bits, ...rest] = value.split('/');
  const family = ipFamilyOf(address);
  const valid = rest.length === 0 && family !== undefined && /^\d+$/.test(bits ?? '') && Number(bits) <= (family === 'IPv4' ? 32 : 128);
  return valid ? [] : [{ field, type: 'FieldValueInvalid', value, detail: 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)' }];
}

function blockList(ranges: Array<[string, number, 'ipv4' | 'ipv6']>): BlockList {
  const list = new BlockList();
  for (const [network, prefix, family] of ranges) list.addSubnet(network, prefix, family);
  return list;
}

const LOOPBACK = blockList([['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']]);
const LINK_LOCAL = blockList([['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']]);
const LINK_LOCAL_MULTICAST = blockList([['224.0.0.0', 24, 'ipv4'], ['ff02::', 16, 'ipv6']]);

/**
 * Addresses that make no sense as a destination for Service traffic (ValidateNonSpecialIP): the
 * unspecified address, loopback and link-local ones. `allowLoopback` is this project's departure for
 * endpoints: every server of the chain runs on one machine, and the aggregator reaches the backends of
 * APIServices through their Endpoints, which are therefore loopback addresses.
 */
export function validateNonSpecialIP(value: string, field: string, options: { allowLoopback?: boolean } = {}): FieldError[] {
  const family = ipFamilyOf(value);
  if (!family) return [{ field, type: 'FieldValueInvalid', value, detail: 'must be a valid IP address' }];
  const kind = family === 'IPv4' ? 'ipv4' : 'ipv6';
  const errors: FieldError[] = [];
  if (value === '0.0.0.0' || (family === 'IPv6' && /^[0:]+$/.test(value))) errors.push({ field, type: 'FieldValueInvalid', value, detail: `may not be unspecified (${value})` });
  if (!options.allowLoopback && LOOPBACK.check(value, kind)) errors.push({ field, type: 'FieldValueInvalid', value, detail: 'may not be in the loopback range (127.0.0.0/8, ::1/128)' });
  if (LINK_LOCAL.check(value, kind)) errors.push({ field, type: 'FieldValueInvalid', value, detail: 'may not be in the link-local range (169.254.0.0/16, fe80::/10)' });
  if (LINK_LOCAL_MULTICAST.check(value, kind)) {
    errors.push({ field, type: 'FieldValueInvalid', value, detail: 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)' });
  }
  return errors;
}

/** A sortable text for an IP: IPv4 before IPv6, each in numeric order, as Go compares parsed addresses. */
function ipSortKey(ip: string): string {
  if (isIP(ip) === 4) return `4${ip.split('.').map((part) => part.padStart(3, '0')).join('.')}`;
  const [head, tail] = ip.toLowerCase().split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill('0');
  return `6${[...headGroups, ...zeros, ...tailGroups].map((group) => group.padStart(4, '0')).join(':')}`;
}

export function compareIPs(a: string, b: string): number {
  const left = ipSortKey(a);
  const right = ipSortKey(b);
  return left < right ? -1 : left > right ? 1 : 0;
}
