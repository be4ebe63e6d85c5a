// discovery.k8s.io/v1 EndpointSlice: a slice of a Service's endpoints of one address type. The type is
// required and fixed for the life of the slice; ports default to TCP with an empty name.

import { defineResource } from '../../apiserver/registry/resource.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';
import type { FieldError } from '../../apiserver/request/status.js';
import { isDns1123Label, isDns1123Subdomain, isQualifiedName, isValidLabelValue } from '../../apiserver/registry/names.js';
import { validateLabels } from '../../apiserver/registry/validate-meta.js';
import { ageColumn, nameColumn } from '../../apiserver/registry/table.js';
import { fieldDoc } from './field-docs.js';
import { ipFamilyOf, validateDns1123Label, validateNonSpecialIP, validateProtocol } from './network-fields.js';

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const MAX_ENDPOINTS = 1000;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 20000;
const MAX_TOPOLOGY_LABELS = 16;
const MAX_ZONE_HINTS = 8;
const DEFINITION = 'io.k8s.api.discovery.v1.EndpointSlice';

interface Endpoint {
  addresses?: string[];
  nodeName?: string;
  hostname?: string;
  deprecatedTopology?: Record<string, string>;
  hints?: { forZones?: Array<{ name?: string }> };
}

interface EndpointPort {
  name?: string;
  port?: number;
  protocol?: string;
  appProtocol?: string;
}

function listOf<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value.filter((item) => isObject(item)) as T[]) : [];
}

/**
 * Defaults (name "", protocol TCP), and `endpoints` / `ports` are never omitted: Go serializes the nil
 * slices of these non-omitempty fields as null, which is what clients read back.
 */
function prepare(slice: KubeObject): void {
  for (const port of listOf<EndpointPort>(slice.ports)) {
    port.name ??= '';
    port.protocol ??= 'TCP';
  }
  slice.endpoints ??= null;
  slice.ports ??= null;
}

function tooMany(field: string, actual: number, max: number): FieldError {
  return { field, type: 'FieldValueTooMany', detail: `${actual}: must have at most ${max} items` };
}

/** IsFullyQualifiedDomainName: a DNS subdomain of at least two labels (a trailing dot allowed). */
function validateFqdn(address: string, field: string): FieldError[] {
  if (!address) return [{ field, type: 'FieldValueRequired' }];
  const name = address.replace(/\.$/, '');
  const problems = isDns1123Subdomain(name);
  if (problems.length > 0) return [{ field, type: 'FieldValueInvalid', value: name, detail: problems.join(',') }];
  const labels = name.split('.');
  if (labels.length < 2) return [{ field, type: 'FieldValueInvalid', value: name, detail: 'should be a domain with at least two segments separated by dots' }];
  for (const label of labels) {
    const labelProblems = isDns1123Label(label);
    if (labelProblems.length > 0) return [{ field, type: 'FieldValueInvalid', value: label, detail: labelProblems.join(',') }];
  }
  return [];
}

function validateAddress(address: string, addressType: unknown, field: string): FieldError[] {
  if (addressType === 'FQDN') return validateFqdn(address, field);
  if (addressType !== 'IPv4' && addressType !== 'IPv6') return []; // unknown types are reported once, on addressType
  const errors: FieldError[] = [];
  if (ipFamilyOf(address) !== addressType) errors.push({ field, type: 'FieldValueInvalid', value: address, detail: `must be a valid ${addressType} address` });
  errors.push(...validateNonSpecialIP(address, field, { allowLoopback: true }));
  return errors;
}

function validateEndpoint(endpoint: Endpoint, addressType: unknown, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const addresses = Array.isArray(endpoint.addresses) ? endpoint.addresses : [];
  if (addresses.length === 0) errors.push({ field: `${path}.addresses`, type: 'FieldValueRequired', detail: 'must contain at least 1 address' });
  else if (addresses.length > MAX_ADDRESSES) errors.push(tooMany(`${path}.addresses`, addresses.length, MAX_ADDRESSES));
  addresses.forEach((address, index) => errors.push(...validateAddress(String(address), addressType, `${path}.addresses[${index}]`)));
  if (endpoint.nodeName !== undefined) {
    for (const detail of isDns1123Subdomain(endpoint.nodeName)) errors.push({ field: `${path}.nodeName`, type: 'FieldValueInvalid', value: endpoint.nodeName, detail });
  }
  const topology = isObject(endpoint.deprecatedTopology) ? endpoint.deprecatedTopology : {};
  if (Object.keys(topology).length > MAX_TOPOLOGY_LABELS) errors.push(tooMany(`${path}.deprecatedTopology`, Object.keys(topology).length, MAX_TOPOLOGY_LABELS));
  errors.push(...validateLabels(endpoint.deprecatedTopology, `${path}.deprecatedTopology`));
  if (endpoint.hostname !== undefined) errors.push(...validateDns1123Label(endpoint.hostname, `${path}.hostname`));
  const zones = listOf<{ name?: string }>(endpoint.hints?.forZones);
  if (zones.length > MAX_ZONE_HINTS) return [...errors, tooMany(`${path}.hints.forZones`, zones.length, MAX_ZONE_HINTS)];
  const seenZones = new Set<string>();
  zones.forEach((zone, index) => {
    const field = `${path}.hints.forZones[${index}].name`;
    const name = zone.name ?? '';
    if (seenZones.has(name)) errors.push({ field, type: 'FieldValueDuplicate', value: name });
    seenZones.add(name);
    for (const detail of isValidLabelValue(name)) errors.push({ field, type: 'FieldValueInvalid', value: name, detail });
  });
  return errors;
}

function validatePorts(ports: EndpointPort[]): FieldError[] {
  if (ports.length > MAX_PORTS) return [tooMany('ports', ports.length, MAX_PORTS)];
  const errors: FieldError[] = [];
  const names = new Set<string>();
  ports.forEach((port, index) => {
    const path = `ports[${index}]`;
    const name = port.name ?? '';
    if (name) errors.push(...validateDns1123Label(name, `${path}.name`));
    if (names.has(name)) errors.push({ field: `${path}.name`, type: 'FieldValueDuplicate', value: name });
    names.add(name);
    errors.push(...validateProtocol(port.protocol, `${path}.protocol`));
    if (port.appProtocol !== undefined) {
      for (const detail of isQualifiedName(port.appProtocol)) errors.push({ field: `${path}.appProtocol`, type: 'FieldValueInvalid', value: port.appProtocol, detail });
    }
  });
  return errors;
}

export function validateEndpointSlice(slice: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const addressType = slice.addressType;
  if (addressType === undefined || addressType === '') errors.push({ field: 'addressType', type: 'FieldValueRequired' });
  else if (!ADDRESS_TYPES.includes(addressType)) errors.push({ field: 'addressType', type: 'FieldValueNotSupported', value: addressType, supported: ADDRESS_TYPES });
  const endpoints = listOf<Endpoint>(slice.endpoints);
  if (endpoints.length > MAX_ENDPOINTS) errors.push(tooMany('endpoints', endpoints.length, MAX_ENDPOINTS));
  else endpoints.forEach((endpoint, index) => errors.push(...validateEndpoint(endpoint, addressType, `endpoints[${index}]`)));
  errors.push(...validatePorts(listOf<EndpointPort>(slice.ports)));
  return errors;
}

const MAX_SHOWN = 3;

/** listWithMoreString: first three, `+ N more...`, `<unset>` when empty. */
function listWithMore(items: string[]): string {
  const shown = items.slice(0, MAX_SHOWN).join(',');
  if (items.length > MAX_SHOWN) return `${shown} + ${items.length - MAX_SHOWN} more...`;
  return shown || '<unset>';
}

export function formatSlicePorts(slice: KubeObject): string {
  return listWithMore(listOf<EndpointPort>(slice.ports).map((port) => (typeof port.port === 'number' ? String(port.port) : port.name !== undefined ? port.name : '*')));
}

export function formatSliceEndpoints(slice: KubeObject): string {
  return listWithMore(listOf<Endpoint>(slice.endpoints).flatMap((endpoint) => (Array.isArray(endpoint.addresses) ? endpoint.addresses.map(String) : [])));
}

export const endpointSlices = defineResource({
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  plural: 'endpointslices',
  namespaced: true,
  schemaName: DEFINITION,
  strategy: {
    prepareForCreate: prepare,
    prepareForUpdate: prepare,
    validate: validateEndpointSlice,
    validateUpdate(slice, old) {
      const errors = validateEndpointSlice(slice);
      if (slice.addressType !== old.addressType) errors.push({ field: 'addressType', type: 'FieldValueInvalid', value: slice.addressType, detail: 'field is immutable' });
      return errors;
    },
  },
  printerColumns: [
    nameColumn,
    { name: 'AddressType', type: 'string', get description() { return fieldDoc(DEFINITION, 'addressType'); }, value: (slice) => slice.addressType ?? '' },
    { name: 'Ports', type: 'string', get description() { return fieldDoc(DEFINITION, 'ports'); }, value: formatSlicePorts },
    { name: 'Endpoints', type: 'string', get description() { return fieldDoc(DEFINITION, 'endpoints'); }, value: formatSliceEndpoints },
    ageColumn,
  ],
});
