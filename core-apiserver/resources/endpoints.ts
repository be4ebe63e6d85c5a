// v1 Endpoints: the addresses behind a Service of the same name. Ports default to TCP, addresses must be
// usable IPs (loopback allowed, see validateNonSpecialIP), and the stored subsets are kept in a stable
// order (upstream repacks them on every write).

import { defineResource } from '../../apiserver/registry/resource.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';
import type { FieldError } from '../../apiserver/request/status.js';
import { isDns1123Subdomain, isQualifiedName } from '../../apiserver/registry/names.js';
import { ageColumn, nameColumn } from '../../apiserver/registry/table.js';
import { fieldDoc } from './field-docs.js';
import { compareIPs, validateDns1123Label, validateIP, validateNonSpecialIP, validatePortNumber, validateProtocol } from './network-fields.js';

interface EndpointAddress {
  ip?: string;
  hostname?: string;
  nodeName?: string;
}

interface EndpointPort {
  name?: string;
  port?: number;
  protocol?: string;
  appProtocol?: string;
}

interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

function listOf<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value.filter((item) => isObject(item)) as T[]) : [];
}

function subsetsOf(endpoints: KubeObject): EndpointSubset[] {
  return listOf<EndpointSubset>(endpoints.subsets);
}

function defaultProtocols(endpoints: KubeObject): void {
  for (const subset of subsetsOf(endpoints)) {
    for (const port of listOf<EndpointPort>(subset.ports)) port.protocol ||= 'TCP';
  }
}

/** Addresses sorted by IP and deduplicated, so equal content is stored (and diffed) identically. */
function canonicalize(endpoints: KubeObject): void {
  for (const subset of subsetsOf(endpoints)) {
    for (const field of ['addresses', 'notReadyAddresses'] as const) {
      if (!Array.isArray(subset[field])) continue;
      const seen = new Set<string>();
      subset[field] = listOf<EndpointAddress>(subset[field])
        .filter((address) => {
          const key = JSON.stringify(address);
          return !seen.has(key) && Boolean(seen.add(key));
        })
        .sort((a, b) => compareIPs(a.ip ?? '', b.ip ?? ''));
    }
  }
}

function validateAddress(address: EndpointAddress, path: string): FieldError[] {
  const errors = validateIP(address.ip, `${path}.ip`);
  if (address.hostname) errors.push(...validateDns1123Label(address.hostname, `${path}.hostname`));
  if (address.nodeName !== undefined) {
    for (const detail of isDns1123Subdomain(address.nodeName)) errors.push({ field: `${path}.nodeName`, type: 'FieldValueInvalid', value: address.nodeName, detail });
  }
  errors.push(...validateNonSpecialIP(address.ip ?? '', `${path}.ip`, { allowLoopback: true }));
  return errors;
}

function validatePort(port: EndpointPort, requireName: boolean, path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (requireName && !port.name) errors.push({ field: `${path}.name`, type: 'FieldValueRequired' });
  else if (port.name) errors.push(...validateDns1123Label(port.name, `${path}.name`));
  errors.push(...validatePortNumber(port.port, `${path}.port`));
  errors.push(...validateProtocol(port.protocol, `${path}.protocol`));
  if (port.appProtocol !== undefined) {
    for (const detail of isQualifiedName(port.appProtocol)) errors.push({ field: `${path}.appProtocol`, type: 'FieldValueInvalid', value: port.appProtocol, detail });
  }
  return errors;
}

/** ValidateEndpoints: every subset has addresses, each address is a usable IP, ports are named when several. */
export function validateEndpoints(endpoints: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  subsetsOf(endpoints).forEach((subset, index) => {
    const path = `subsets[${index}]`;
    const addresses = listOf<EndpointAddress>(subset.addresses);
    const notReady = listOf<EndpointAddress>(subset.notReadyAddresses);
    if (addresses.length === 0 && notReady.length === 0) errors.push({ field: path, type: 'FieldValueRequired', detail: 'must specify `addresses` or `notReadyAddresses`' });
    addresses.forEach((address, position) => errors.push(...validateAddress(address, `${path}.addresses[${position}]`)));
    notReady.forEach((address, position) => errors.push(...validateAddress(address, `${path}.notReadyAddresses[${position}]`)));
    const ports = listOf<EndpointPort>(subset.ports);
    ports.forEach((port, position) => errors.push(...validatePort(port, ports.length > 1, `${path}.ports[${position}]`)));
  });
  return errors;
}

const MAX_SHOWN = 3;

/** The ENDPOINTS cell: `10.0.0.1:443,10.0.0.2:443 + 1 more...`, `<none>` without subsets. */
export function formatEndpoints(endpoints: KubeObject): string {
  const subsets = subsetsOf(endpoints);
  if (subsets.length === 0) return '<none>';
  const shown: string[] = [];
  let count = 0;
  const add = (text: string) => {
    if (shown.length < MAX_SHOWN) shown.push(text);
    count++;
  };
  for (const subset of subsets) {
    const addresses = listOf<EndpointAddress>(subset.addresses);
    const ports = listOf<EndpointPort>(subset.ports);
    // Headless Services may have endpoints without ports.
    if (ports.length === 0) for (const address of addresses) add(address.ip ?? '');
    for (const port of ports) {
      for (const address of addresses) add((address.ip ?? '').includes(':') ? `[${address.ip}]:${port.port}` : `${address.ip}:${port.port}`);
    }
  }
  const text = shown.join(',');
  return count > MAX_SHOWN ? `${text} + ${count - MAX_SHOWN} more...` : text;
}

export const endpoints = defineResource({
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  plural: 'endpoints',
  singular: 'endpoints',
  namespaced: true,
  shortNames: ['ep'],
  schemaName: 'io.k8s.api.core.v1.Endpoints',
  strategy: {
    prepareForCreate: defaultProtocols,
    prepareForUpdate: defaultProtocols,
    validate: validateEndpoints,
    validateUpdate: (object) => validateEndpoints(object),
    canonicalize,
  },
  printerColumns: [
    nameColumn,
    {
      name: 'Endpoints',
      type: 'string',
      get description() {
        return fieldDoc('io.k8s.api.core.v1.Endpoints', 'subsets');
      },
      value: formatEndpoints,
    },
    ageColumn,
  ],
});
