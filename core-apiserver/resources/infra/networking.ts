// networking.k8s.io/v1: Ingress, IngressClass and NetworkPolicy. Ingress status belongs to the ingress
// controller (status subresource); NetworkPolicy gets its policyTypes filled in so that what a policy
// isolates is explicit in the stored object.

import { defineResource, statusSubresource } from '../../../apiserver/registry/resource.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import type { FieldError } from '../../../apiserver/request/status.js';
import { isDns1123Label, isDns1123Subdomain } from '../../../apiserver/registry/names.js';
import { ageColumn, nameColumn } from '../../../apiserver/registry/table.js';
import { fieldDoc } from '../field-docs.js';
import { ensureSpec, formatLabelSelector, immutable, invalidEach, isObject, notSupported, objectsOf, required, specOf, stringsOf, validateLabelSelector } from './common.js';

const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

// ---- Ingress --------------------------------------------------------------------------------------

function validateBackend(backend: Record<string, any>, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const service = isObject(backend.service) ? backend.service : undefined;
  const resource = isObject(backend.resource) ? backend.resource : undefined;
  if (service && resource) return [{ field: path, type: 'FieldValueInvalid', value: '', detail: 'cannot set both resource and service backends' }];
  if (!service && !resource) return [{ field: path, type: 'FieldValueInvalid', value: '', detail: 'resource or service backend is required' }];
  if (service) {
    const name = typeof service.name === 'string' ? service.name : '';
    if (!name) errors.push(required(`${path}.service.name`));
    else errors.push(...invalidEach(`${path}.service.name`, name, isDns1123Label(name)));
    const port = isObject(service.port) ? service.port : {};
    const hasName = typeof port.name === 'string' && port.name !== '';
    const hasNumber = typeof port.number === 'number' && port.number !== 0;
    if (hasName && hasNumber) errors.push({ field: `${path}.service.port`, type: 'FieldValueInvalid', value: port, detail: 'cannot set both port name & port number' });
    else if (hasName) errors.push(...invalidEach(`${path}.service.port.name`, port.name, isDns1123Label(port.name)));
    else if (hasNumber) {
      if (port.number < 1 || port.number > 65535) errors.push({ field: `${path}.service.port.number`, type: 'FieldValueInvalid', value: port.number, detail: 'must be between 1 and 65535, inclusive' });
    } else errors.push(required(`${path}.service.port`, 'port name or number is required'));
  }
  if (resource) {
    if (!resource.kind) errors.push(required(`${path}.resource.kind`));
    if (!resource.name) errors.push(required(`${path}.resource.name`));
  }
  return errors;
}

function validateHost(host: string, path: string): FieldError[] {
  if (IPV4.test(host) || host.includes(':')) return [{ field: path, type: 'FieldValueInvalid', value: host, detail: 'must be a DNS name, not an IP address' }];
  // A leading `*.` is a wildcard for exactly one DNS label.
  const dnsName = host.startsWith('*.') ? host.slice(2) : host;
  return invalidEach(path, host, isDns1123Subdomain(dnsName));
}

function validateIngress(ingress: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const spec = specOf(ingress);
  const rules = objectsOf(spec.rules);
  if (isObject(spec.defaultBackend)) errors.push(...validateBackend(spec.defaultBackend, 'spec.defaultBackend'));
  else if (rules.length === 0) errors.push({ field: 'spec', type: 'FieldValueInvalid', value: 'object', detail: 'either `defaultBackend` or `rules` must be specified' });
  rules.forEach((rule, index) => {
    const path = `spec.rules[${index}]`;
    if (typeof rule.host === 'string' && rule.host) errors.push(...validateHost(rule.host, `${path}.host`));
    if (!isObject(rule.http)) return;
    const paths = objectsOf(rule.http.paths);
    if (paths.length === 0) errors.push(required(`${path}.http.paths`));
    paths.forEach((entry, position) => {
      const entryPath = `${path}.http.paths[${position}]`;
      if (entry.pathType === undefined) errors.push(required(`${entryPath}.pathType`, 'pathType must be specified'));
      else if (!PATH_TYPES.includes(entry.pathType)) errors.push(notSupported(`${entryPath}.pathType`, entry.pathType, PATH_TYPES));
      if (entry.pathType === 'Exact' || entry.pathType === 'Prefix' || (entry.pathType === 'ImplementationSpecific' && entry.path)) {
        if (typeof entry.path !== 'string' || !entry.path.startsWith('/')) errors.push({ field: `${entryPath}.path`, type: 'FieldValueInvalid', value: entry.path ?? '', detail: 'must be an absolute path' });
      }
      errors.push(...validateBackend(isObject(entry.backend) ? entry.backend : {}, `${entryPath}.backend`));
    });
  });
  objectsOf(spec.tls).forEach((tls, index) => {
    stringsOf(tls.hosts).forEach((host, position) => errors.push(...validateHost(host, `spec.tls[${index}].hosts[${position}]`)));
    if (typeof tls.secretName === 'string' && tls.secretName) errors.push(...invalidEach(`spec.tls[${index}].secretName`, tls.secretName, isDns1123Subdomain(tls.secretName)));
  });
  if (typeof spec.ingressClassName === 'string') errors.push(...invalidEach('spec.ingressClassName', spec.ingressClassName, isDns1123Subdomain(spec.ingressClassName)));
  return errors;
}

/** formatHosts: up to three hosts, `+ N more...`, `*` when no rule names a host. */
export function ingressHosts(ingress: KubeObject): string {
  const rules = objectsOf(specOf(ingress).rules);
  const max = 3;
  const hosts: string[] = [];
  let more = false;
  for (const rule of rules) {
    if (hosts.length === max) more = true;
    if (!more && typeof rule.host === 'string' && rule.host) hosts.push(rule.host);
  }
  if (hosts.length === 0) return '*';
  return more ? `${hosts.join(',')} + ${rules.length - max} more...` : hosts.join(',');
}

/** The load balancer's addresses (IP else hostname), sorted and unique; the server prints wide, unclipped. */
export function ingressAddress(ingress: KubeObject): string {
  const loadBalancer = isObject(ingress.status) && isObject(ingress.status.loadBalancer) ? ingress.status.loadBalancer : {};
  const addresses = new Set<string>();
  for (const entry of objectsOf(loadBalancer.ingress)) {
    if (typeof entry.ip === 'string' && entry.ip) addresses.add(entry.ip);
    else if (typeof entry.hostname === 'string' && entry.hostname) addresses.add(entry.hostname);
  }
  return [...addresses].sort().join(',');
}

export const ingresses = defineResource({
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'Ingress',
  plural: 'ingresses',
  namespaced: true,
  shortNames: ['ing'],
  schemaName: 'io.k8s.api.networking.v1.Ingress',
  generation: true,
  subresources: { status: statusSubresource },
  strategy: {
    // IngressStatus holds a struct, never omitted by Go: a new Ingress shows `status: {loadBalancer: {}}`.
    prepareForCreate: (ingress) => void (ingress.status = { loadBalancer: {} }),
    validate: validateIngress,
    validateUpdate: (ingress) => validateIngress(ingress),
  },
  printerColumns: [
    nameColumn,
    { name: 'Class', type: 'string', description: 'The name of the IngressClass resource that should be used for additional configuration', value: (ingress) => specOf(ingress).ingressClassName ?? '<none>' },
    { name: 'Hosts', type: 'string', description: 'Hosts that incoming requests are matched against before the ingress rule', value: ingressHosts },
    { name: 'Address', type: 'string', description: 'Address is a list containing ingress points for the load-balancer', value: ingressAddress },
    { name: 'Ports', type: 'string', description: 'Ports of TLS configurations that open', value: (ingress) => (objectsOf(specOf(ingress).tls).length > 0 ? '80, 443' : '80') },
    ageColumn,
  ],
});

// ---- IngressClass ---------------------------------------------------------------------------------

/** validation.IsDomainPrefixedPath: `example.com/name`. */
function validateController(controller: unknown): FieldError[] {
  if (typeof controller !== 'string' || controller === '') return [required('spec.controller')];
  const errors: FieldError[] = [];
  if (controller.length > 250) errors.push({ field: 'spec.controller', type: 'FieldValueTooLong', detail: 'may not be more than 250 bytes' });
  const slash = controller.indexOf('/');
  if (slash <= 0 || slash === controller.length - 1) {
    errors.push({ field: 'spec.controller', type: 'FieldValueInvalid', value: controller, detail: 'must be a domain-prefixed path (such as "acme.io/foo")' });
    return errors;
  }
  errors.push(...invalidEach('spec.controller', controller.slice(0, slash), isDns1123Subdomain(controller.slice(0, slash))));
  if (!/^[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/.test(controller.slice(slash + 1))) {
    errors.push({ field: 'spec.controller', type: 'FieldValueInvalid', value: controller.slice(slash + 1), detail: "Invalid path: must be a valid HTTP path (e.g. '/foo')" });
  }
  return errors;
}

function validateIngressClass(ingressClass: KubeObject): FieldError[] {
  const spec = specOf(ingressClass);
  const errors = validateController(spec.controller);
  if (isObject(spec.parameters)) {
    const parameters = spec.parameters;
    if (!parameters.kind) errors.push(required('spec.parameters.kind', 'kind is required'));
    if (!parameters.name) errors.push(required('spec.parameters.name', 'name is required'));
    if (parameters.scope !== undefined && !['Cluster', 'Namespace'].includes(parameters.scope)) errors.push(notSupported('spec.parameters.scope', parameters.scope, ['Cluster', 'Namespace']));
    if (parameters.scope === 'Namespace' && !parameters.namespace) errors.push(required('spec.parameters.namespace', '`parameters.scope` is set to "Namespace"'));
    if (parameters.scope === 'Cluster' && parameters.namespace) errors.push({ field: 'spec.parameters.namespace', type: 'FieldValueForbidden', detail: '`parameters.scope` is set to "Cluster"' });
  }
  return errors;
}

/** `Kind.apiGroup/name`, `<none>` without parameters. */
export function ingressClassParameters(ingressClass: KubeObject): string {
  const parameters = specOf(ingressClass).parameters;
  if (!isObject(parameters)) return '<none>';
  const kind = typeof parameters.apiGroup === 'string' ? `${parameters.kind ?? ''}.${parameters.apiGroup}` : (parameters.kind ?? '');
  return `${kind}/${parameters.name ?? ''}`;
}

function defaultIngressClass(ingressClass: KubeObject): void {
  const parameters = ensureSpec(ingressClass).parameters;
  if (isObject(parameters) && parameters.scope === undefined) parameters.scope = 'Cluster';
}

export const ingressClasses = defineResource({
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'IngressClass',
  plural: 'ingressclasses',
  namespaced: false,
  schemaName: 'io.k8s.api.networking.v1.IngressClass',
  strategy: {
    prepareForCreate: defaultIngressClass,
    prepareForUpdate: defaultIngressClass,
    validate: validateIngressClass,
    validateUpdate: (ingressClass, old) => [...validateIngressClass(ingressClass), ...immutable(specOf(ingressClass).controller, specOf(old).controller, 'spec.controller')],
  },
  printerColumns: [
    nameColumn,
    { name: 'Controller', type: 'string', description: 'Controller that is responsible for handling this class', value: (ingressClass) => specOf(ingressClass).controller ?? '' },
    { name: 'Parameters', type: 'string', description: 'A reference to a resource with additional parameters', value: ingressClassParameters },
    ageColumn,
  ],
});

// ---- NetworkPolicy --------------------------------------------------------------------------------

const POLICY_TYPES = ['Egress', 'Ingress'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

/** v1 defaulting: TCP ports, and policyTypes Ingress (plus Egress when egress rules are given). */
function defaultNetworkPolicy(policy: KubeObject): void {
  const spec = ensureSpec(policy);
  for (const rule of [...objectsOf(spec.ingress), ...objectsOf(spec.egress)]) {
    for (const port of objectsOf(rule.ports)) port.protocol ??= 'TCP';
  }
  if (stringsOf(spec.policyTypes).length === 0) spec.policyTypes = Array.isArray(spec.egress) && spec.egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

/** validation.IsValidPortName (an IANA service name). */
function portNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length < 1 || name.length > 15) problems.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(name)) problems.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (name.includes('--')) problems.push("must not contain consecutive hyphens");
  if (!/[a-z]/.test(name)) problems.push('must contain at least one letter (a-z)');
  if (name.startsWith('-') || name.endsWith('-')) problems.push('must not begin or end with a hyphen');
  return problems;
}

function validatePeerPorts(ports: Record<string, any>[], path: string): FieldError[] {
  const errors: FieldError[] = [];
  ports.forEach((port, index) => {
    const portPath = `${path}[${index}]`;
    if (port.protocol !== undefined && !PROTOCOLS.includes(port.protocol)) errors.push(notSupported(`${portPath}.protocol`, port.protocol, PROTOCOLS));
    if (typeof port.port === 'number' && (port.port < 1 || port.port > 65535)) errors.push({ field: `${portPath}.port`, type: 'FieldValueInvalid', value: port.port, detail: 'must be between 1 and 65535, inclusive' });
    if (typeof port.port === 'string') errors.push(...invalidEach(`${portPath}.port`, port.port, portNameProblems(port.port)));
    if (port.endPort !== undefined) {
      if (typeof port.port !== 'number') errors.push({ field: `${portPath}.endPort`, type: 'FieldValueRequired', detail: 'may not be specified when `port` is non-numeric' });
      else if (port.endPort < port.port) errors.push({ field: `${portPath}.endPort`, type: 'FieldValueInvalid', value: port.endPort, detail: 'must be greater than or equal to `port`' });
    }
  });
  return errors;
}

function validatePeers(peers: Record<string, any>[], path: string): FieldError[] {
  const errors: FieldError[] = [];
  peers.forEach((peer, index) => {
    const peerPath = `${path}[${index}]`;
    const set = ['podSelector', 'namespaceSelector', 'ipBlock'].filter((key) => isObject(peer[key]));
    if (set.length === 0) errors.push(required(peerPath, 'must specify a peer'));
    else if (set.includes('ipBlock') && set.length > 1) errors.push({ field: peerPath, type: 'FieldValueForbidden', detail: 'may not specify both ipBlock and another peer' });
    errors.push(...validateLabelSelector(peer.podSelector, `${peerPath}.podSelector`), ...validateLabelSelector(peer.namespaceSelector, `${peerPath}.namespaceSelector`));
    if (isObject(peer.ipBlock) && !peer.ipBlock.cidr) errors.push(required(`${peerPath}.ipBlock.cidr`));
  });
  return errors;
}

function validateNetworkPolicy(policy: KubeObject): FieldError[] {
  const spec = specOf(policy);
  const errors = validateLabelSelector(spec.podSelector, 'spec.podSelector');
  objectsOf(spec.ingress).forEach((rule, index) => {
    errors.push(...validatePeerPorts(objectsOf(rule.ports), `spec.ingress[${index}].ports`), ...validatePeers(objectsOf(rule.from), `spec.ingress[${index}].from`));
  });
  objectsOf(spec.egress).forEach((rule, index) => {
    errors.push(...validatePeerPorts(objectsOf(rule.ports), `spec.egress[${index}].ports`), ...validatePeers(objectsOf(rule.to), `spec.egress[${index}].to`));
  });
  const types = stringsOf(spec.policyTypes);
  types.forEach((type, index) => {
    if (!POLICY_TYPES.includes(type)) errors.push(notSupported(`spec.policyTypes[${index}]`, type, POLICY_TYPES));
  });
  if (types.length > 2) errors.push({ field: 'spec.policyTypes', type: 'FieldValueInvalid', value: types, detail: 'may not specify more than two policyTypes' });
  return errors;
}

export const networkPolicies = defineResource({
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'NetworkPolicy',
  plural: 'networkpolicies',
  namespaced: true,
  shortNames: ['netpol'],
  schemaName: 'io.k8s.api.networking.v1.NetworkPolicy',
  generation: true,
  strategy: {
    prepareForCreate: defaultNetworkPolicy,
    prepareForUpdate: defaultNetworkPolicy,
    validate: validateNetworkPolicy,
    validateUpdate: (policy) => validateNetworkPolicy(policy),
  },
  printerColumns: [
    nameColumn,
    { name: 'Pod-Selector', type: 'string', get description() { return fieldDoc('io.k8s.api.networking.v1.NetworkPolicySpec', 'podSelector'); }, value: (policy) => formatLabelSelector(specOf(policy).podSelector) },
    ageColumn,
  ],
});
