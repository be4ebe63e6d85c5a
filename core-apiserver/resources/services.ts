// v1 Service. Names are DNS-1035 labels (they become DNS names), every decode is defaulted, and the
// printer is upstream's. Cluster IPs and node ports are allocated by the store in ../allocation, which
// wraps the generic store around this declaration (an allocation needs storage, a strategy has none).

import { defineResource, statusSubresource } from '../../apiserver/registry/resource.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';
import { isDns1035Label } from '../../apiserver/registry/names.js';
import { ageColumn, nameColumn } from '../../apiserver/registry/table.js';
import { fieldDoc } from './field-docs.js';
import { applyServiceDefaults, clusterIPsOf, dropTypeDependentFields, nodePortOf, portsOf, serviceWarnings, specOf } from './service-defaults.js';
import { validateService, validateServiceUpdate } from './service-validation.js';

/** Load balancer addresses as the printer lists them: sorted, unique, IP else hostname. */
function loadBalancerAddresses(service: KubeObject): string[] {
  const loadBalancer = isObject(service.status) && isObject(service.status.loadBalancer) ? service.status.loadBalancer : {};
  const ingress = Array.isArray(loadBalancer.ingress) ? loadBalancer.ingress : [];
  const addresses = new Set<string>();
  for (const entry of ingress) {
    if (!isObject(entry)) continue;
    if (typeof entry.ip === 'string' && entry.ip) addresses.add(entry.ip);
    else if (typeof entry.hostname === 'string' && entry.hostname) addresses.add(entry.hostname);
  }
  return [...addresses].sort();
}

/** The EXTERNAL-IP cell (getServiceExternalIP; the server prints wide, so nothing is clipped). */
export function serviceExternalIP(service: KubeObject): string {
  const spec = specOf(service);
  const externalIPs = Array.isArray(spec.externalIPs) ? spec.externalIPs : [];
  switch (spec.type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const addresses = [...loadBalancerAddresses(service), ...externalIPs];
      return addresses.length > 0 ? addresses.join(',') : '<pending>';
    }
    case 'ExternalName':
      return spec.externalName ?? '';
    default:
      return '<unknown>';
  }
}

/** The PORT(S) cell: `443/TCP`, `80:30080/TCP`. */
export function servicePorts(service: KubeObject): string {
  const ports = portsOf(specOf(service)).map((port) => {
    const nodePort = nodePortOf(port);
    return nodePort > 0 ? `${port.port}:${nodePort}/${port.protocol}` : `${port.port}/${port.protocol}`;
  });
  return ports.length > 0 ? ports.join(',') : '<none>';
}

/** labels.FormatLabels: `a=b,c=d` in key order, `<none>` when empty. */
export function formatLabels(labels: unknown): string {
  if (!isObject(labels)) return '<none>';
  const pairs = Object.keys(labels)
    .sort()
    .map((key) => `${key}=${String(labels[key])}`);
  return pairs.length > 0 ? pairs.join(',') : '<none>';
}

function specDoc(property: string): string {
  return fieldDoc('io.k8s.api.core.v1.ServiceSpec', property);
}

export const services = defineResource({
  group: '',
  version: 'v1',
  kind: 'Service',
  plural: 'services',
  namespaced: true,
  returnDeletedObject: true,
  shortNames: ['svc'],
  categories: ['all'],
  schemaName: 'io.k8s.api.core.v1.Service',
  nameValidation: isDns1035Label,
  subresources: { status: statusSubresource },
  strategy: {
    prepareForCreate(service) {
      applyServiceDefaults(service);
      // A Go LoadBalancerStatus is a struct, never omitted: a new Service shows `status: {loadBalancer: {}}`.
      service.status = { loadBalancer: {} };
    },
    prepareForUpdate(service, old) {
      applyServiceDefaults(service);
      dropTypeDependentFields(service, old);
    },
    validate(service, context) {
      const errors = validateService(service);
      if (errors.length === 0) context.warnings.push(...serviceWarnings(service));
      return errors;
    },
    validateUpdate(service, old, context) {
      const errors = validateServiceUpdate(service, old);
      if (errors.length === 0) context.warnings.push(...serviceWarnings(service));
      return errors;
    },
  },
  printerColumns: [
    nameColumn,
    { name: 'Type', type: 'string', get description() { return specDoc('type'); }, value: (service) => specOf(service).type ?? '' },
    { name: 'Cluster-IP', type: 'string', get description() { return specDoc('clusterIP'); }, value: (service) => clusterIPsOf(specOf(service))[0] ?? '<none>' },
    { name: 'External-IP', type: 'string', get description() { return specDoc('externalIPs'); }, value: serviceExternalIP },
    { name: 'Port(s)', type: 'string', get description() { return specDoc('ports'); }, value: servicePorts },
    ageColumn,
    { name: 'Selector', type: 'string', priority: 1, get description() { return specDoc('selector'); }, value: (service) => formatLabels(specOf(service).selector) },
  ],
});
