// Service validation (upstream's ValidateService / ValidateServiceUpdate and the cluster-IP family
// checks), with upstream's field paths and texts. Runs on the defaulted object.

import type { KubeObject } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';
import type { FieldError } from '../../apiserver/request/status.js';
import { isDns1123Subdomain, isQualifiedName } from '../../apiserver/registry/names.js';
import { validateLabels } from '../../apiserver/registry/validate-meta.js';
import {
  ipFamilyOf,
  validateCIDR,
  validateDns1123Label,
  validateIP,
  validateNonSpecialIP,
  validatePortNumber,
  validatePortNumOrName,
  validateProtocol,
} from './network-fields.js';
import type { ServicePort, ServiceSpec } from './service-defaults.js';
import { clusterIPsOf, CLUSTER_IP_NONE, externallyAccessible, ipFamiliesOf, isHeadless, needsHealthCheck, nodePortOf, portsOf, specOf } from './service-defaults.js';

const SESSION_AFFINITIES = ['ClientIP', 'None'];
const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const IP_FAMILIES = ['IPv4', 'IPv6'];
const IP_FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const TRAFFIC_POLICIES = ['Cluster', 'Local'];
const MAX_AFFINITY_SECONDS = 86400;
const TOPOLOGY_MODE = 'service.kubernetes.io/topology-mode';
const TOPOLOGY_HINTS = 'service.kubernetes.io/topology-aware-hints';

function validatePort(port: ServicePort, index: number, requireName: boolean, names: Set<string>): FieldError[] {
  const path = `spec.ports[${index}]`;
  const errors: FieldError[] = [];
  if (requireName && !port.name) {
    errors.push({ field: `${path}.name`, type: 'FieldValueRequired' });
  } else if (port.name) {
    errors.push(...validateDns1123Label(port.name, `${path}.name`));
    if (names.has(port.name)) errors.push({ field: `${path}.name`, type: 'FieldValueDuplicate', value: port.name });
    names.add(port.name);
  }
  errors.push(...validatePortNumber(port.port, `${path}.port`));
  errors.push(...validateProtocol(port.protocol, `${path}.protocol`));
  errors.push(...validatePortNumOrName(port.targetPort, `${path}.targetPort`));
  if (port.appProtocol !== undefined) {
    for (const detail of isQualifiedName(port.appProtocol)) errors.push({ field: `${path}.appProtocol`, type: 'FieldValueInvalid', value: port.appProtocol, detail });
  }
  return errors;
}

function validateSessionAffinity(spec: ServiceSpec): FieldError[] {
  const affinity = spec.sessionAffinity;
  if (!affinity) return [{ field: 'spec.sessionAffinity', type: 'FieldValueRequired' }];
  if (!SESSION_AFFINITIES.includes(affinity)) return [{ field: 'spec.sessionAffinity', type: 'FieldValueNotSupported', value: affinity, supported: SESSION_AFFINITIES }];
  const path = 'spec.sessionAffinityConfig';
  if (affinity === 'None') return spec.sessionAffinityConfig ? [{ field: path, type: 'FieldValueForbidden', detail: 'must not be set when session affinity is None' }] : [];
  const why = 'when session affinity type is ClientIP';
  if (!isObject(spec.sessionAffinityConfig)) return [{ field: path, type: 'FieldValueRequired', detail: why }];
  const clientIP = spec.sessionAffinityConfig.clientIP;
  if (!isObject(clientIP)) return [{ field: `${path}.clientIP`, type: 'FieldValueRequired', detail: why }];
  const timeout = clientIP.timeoutSeconds;
  if (typeof timeout !== 'number') return [{ field: `${path}.clientIP.timeoutSeconds`, type: 'FieldValueRequired', detail: why }];
  if (timeout <= 0 || timeout > MAX_AFFINITY_SECONDS) {
    return [{ field: `${path}.clientIP.timeoutSeconds`, type: 'FieldValueInvalid', value: timeout, detail: `must be greater than 0 and less than ${MAX_AFFINITY_SECONDS}` }];
  }
  return [];
}

/** ValidateServiceClusterIPsRelatedFields: clusterIP/clusterIPs agree, families and policy are known. */
export function validateClusterIPFields(spec: ServiceSpec): FieldError[] {
  if (spec.type === 'ExternalName') return [];
  const errors: FieldError[] = [];
  const clusterIPs = clusterIPsOf(spec);
  const families = ipFamiliesOf(spec);
  if (spec.clusterIP) {
    if (clusterIPs.length === 0) errors.push({ field: 'spec.clusterIPs', type: 'FieldValueRequired' });
    else if (clusterIPs[0] !== spec.clusterIP) errors.push({ field: 'spec.clusterIPs', type: 'FieldValueInvalid', value: clusterIPs, detail: 'first value must match `clusterIP`' });
  } else if (clusterIPs.length > 0) {
    errors.push({ field: 'spec.clusterIPs', type: 'FieldValueInvalid', value: clusterIPs, detail: 'must be empty when `clusterIP` is not specified' });
  }
  const seen = new Set<string>();
  families.forEach((family, index) => {
    if (!IP_FAMILIES.includes(family)) errors.push({ field: `spec.ipFamilies[${index}]`, type: 'FieldValueNotSupported', value: family, supported: IP_FAMILIES });
    if (seen.has(family)) errors.push({ field: `spec.ipFamilies[${index}]`, type: 'FieldValueDuplicate', value: family });
    seen.add(family);
  });
  if (spec.ipFamilyPolicy !== undefined && !IP_FAMILY_POLICIES.includes(spec.ipFamilyPolicy)) {
    errors.push({ field: 'spec.ipFamilyPolicy', type: 'FieldValueNotSupported', value: spec.ipFamilyPolicy, supported: IP_FAMILY_POLICIES });
  }
  let invalidIPs = false;
  clusterIPs.forEach((ip, index) => {
    if (index === 0 && ip === CLUSTER_IP_NONE) {
      if (clusterIPs.length > 1) {
        invalidIPs = true;
        errors.push({ field: 'spec.clusterIPs', type: 'FieldValueInvalid', value: clusterIPs, detail: "'None' must be the first and only value" });
      }
      return;
    }
    const problems = validateIP(ip, `spec.clusterIPs[${index}]`);
    invalidIPs ||= problems.length > 0;
    errors.push(...problems);
  });
  if (clusterIPs.length > 2) errors.push({ field: 'spec.clusterIPs', type: 'FieldValueInvalid', value: clusterIPs, detail: 'may only hold up to 2 values' });
  // Further checks would only restate a bad IP.
  if (invalidIPs) return errors;
  if (clusterIPs.length > 1 && new Set(clusterIPs.map(ipFamilyOf)).size !== clusterIPs.length) {
    errors.push({ field: 'spec.clusterIPs', type: 'FieldValueInvalid', value: clusterIPs, detail: 'may specify no more than one IP for each IP family' });
  }
  if (!isHeadless(spec)) {
    clusterIPs.slice(0, families.length).forEach((ip, index) => {
      const family = families[index];
      if (family === 'IPv4' && ipFamilyOf(ip) === 'IPv6') {
        errors.push({ field: `spec.clusterIPs[${index}]`, type: 'FieldValueInvalid', value: ip, detail: `expected an IPv4 value as indicated by \`ipFamilies[${index}]\`` });
      }
      if (family === 'IPv6' && ipFamilyOf(ip) !== 'IPv6') {
        errors.push({ field: `spec.clusterIPs[${index}]`, type: 'FieldValueInvalid', value: ip, detail: `expected an IPv6 value as indicated by \`ipFamilies[${index}]\`` });
      }
    });
  }
  return errors;
}

function validateTypeSpecific(spec: ServiceSpec): FieldError[] {
  const errors: FieldError[] = [];
  const clusterIPs = clusterIPsOf(spec);
  if ((spec.type === 'LoadBalancer' || spec.type === 'NodePort') && isHeadless(spec)) {
    errors.push({ field: 'spec.clusterIPs[0]', type: 'FieldValueInvalid', value: clusterIPs[0], detail: `may not be set to 'None' for ${spec.type} services` });
  }
  if (spec.type === 'ExternalName') {
    for (const field of ['clusterIPs', 'ipFamilies'] as const) {
      if ((spec[field] ?? []).length > 0) errors.push({ field: `spec.${field}`, type: 'FieldValueForbidden', detail: 'may not be set for ExternalName services' });
    }
    if (spec.ipFamilyPolicy !== undefined) errors.push({ field: 'spec.ipFamilyPolicy', type: 'FieldValueForbidden', detail: 'may not be set for ExternalName services' });
    // A trailing dot marks the CNAME as fully qualified.
    const cname = (spec.externalName ?? '').replace(/\.$/, '');
    if (!cname) errors.push({ field: 'spec.externalName', type: 'FieldValueRequired' });
    for (const detail of cname ? isDns1123Subdomain(cname) : []) errors.push({ field: 'spec.externalName', type: 'FieldValueInvalid', value: cname, detail });
  }
  return errors;
}

/** Node ports only where the type has them, each (protocol, nodePort) and (protocol, port) once. */
function validateNodePortsAndDuplicates(spec: ServiceSpec): FieldError[] {
  const errors: FieldError[] = [];
  const ports = portsOf(spec);
  if (spec.type === 'ClusterIP') {
    ports.forEach((port, index) => {
      if (nodePortOf(port) !== 0) errors.push({ field: `spec.ports[${index}].nodePort`, type: 'FieldValueForbidden', detail: "may not be used when `type` is 'ClusterIP'" });
    });
  }
  const nodePorts = new Set<string>();
  ports.forEach((port, index) => {
    if (nodePortOf(port) === 0) return;
    const key = `${port.protocol}/${nodePortOf(port)}`;
    if (nodePorts.has(key)) errors.push({ field: `spec.ports[${index}].nodePort`, type: 'FieldValueDuplicate', value: nodePortOf(port) });
    nodePorts.add(key);
  });
  const servicePorts = new Set<string>();
  ports.forEach((port, index) => {
    const key = `${port.port ?? 0}/${port.protocol ?? ''}`;
    // Upstream prints the Go struct of the duplicated (protocol, port) pair; "80/TCP" says the same.
    if (servicePorts.has(key)) errors.push({ field: `spec.ports[${index}]`, type: 'FieldValueDuplicate', value: key });
    servicePorts.add(key);
  });
  return errors;
}

function validateTrafficFields(spec: ServiceSpec): FieldError[] {
  const errors: FieldError[] = [];
  const external = spec.externalTrafficPolicy;
  if (!externallyAccessible(spec)) {
    if (external) errors.push({ field: 'spec.externalTrafficPolicy', type: 'FieldValueInvalid', value: external, detail: 'may only be set for externally-accessible services' });
  } else if (!external) {
    errors.push({ field: 'spec.externalTrafficPolicy', type: 'FieldValueRequired' });
  } else if (!TRAFFIC_POLICIES.includes(external)) {
    errors.push({ field: 'spec.externalTrafficPolicy', type: 'FieldValueNotSupported', value: external, supported: TRAFFIC_POLICIES });
  }
  const healthCheck = spec.healthCheckNodePort ?? 0;
  if (!needsHealthCheck(spec)) {
    if (healthCheck !== 0) {
      errors.push({ field: 'spec.healthCheckNodePort', type: 'FieldValueInvalid', value: healthCheck, detail: "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'" });
    }
  } else if (healthCheck === 0) {
    errors.push({ field: 'spec.healthCheckNodePort', type: 'FieldValueRequired' });
  } else {
    errors.push(...validatePortNumber(healthCheck, 'spec.healthCheckNodePort'));
  }
  const internal = spec.internalTrafficPolicy;
  if (internal === undefined && ['NodePort', 'LoadBalancer', 'ClusterIP'].includes(spec.type ?? '')) errors.push({ field: 'spec.internalTrafficPolicy', type: 'FieldValueRequired' });
  if (internal !== undefined && !TRAFFIC_POLICIES.includes(internal)) errors.push({ field: 'spec.internalTrafficPolicy', type: 'FieldValueNotSupported', value: internal, supported: TRAFFIC_POLICIES });
  if (spec.trafficDistribution !== undefined && spec.trafficDistribution !== 'PreferClose') {
    errors.push({ field: 'spec.trafficDistribution', type: 'FieldValueNotSupported', value: spec.trafficDistribution, supported: ['PreferClose'] });
  }
  return errors;
}

function validateLoadBalancerFields(service: KubeObject, spec: ServiceSpec, old?: ServiceSpec): FieldError[] {
  const errors: FieldError[] = [];
  const isLoadBalancer = spec.type === 'LoadBalancer';
  // Upstream's path really is capitalised here.
  const ranges = spec.loadBalancerSourceRanges ?? [];
  const annotation = service.metadata.annotations?.['service.beta.kubernetes.io/load-balancer-source-ranges'];
  if (ranges.length > 0) {
    if (!isLoadBalancer) errors.push({ field: 'spec.LoadBalancerSourceRanges', type: 'FieldValueForbidden', detail: "may only be used when `type` is 'LoadBalancer'" });
    ranges.forEach((range, index) => errors.push(...validateCIDR(String(range).trim(), `spec.LoadBalancerSourceRanges[${index}]`)));
  } else if (annotation !== undefined) {
    const path = 'metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]';
    if (!isLoadBalancer) errors.push({ field: path, type: 'FieldValueForbidden', detail: "may only be used when `type` is 'LoadBalancer'" });
    for (const range of annotation.trim() ? annotation.split(',') : []) errors.push(...validateCIDR(range.trim(), path));
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && !isLoadBalancer) {
    errors.push({ field: 'spec.allocateLoadBalancerNodePorts', type: 'FieldValueForbidden', detail: "may only be used when `type` is 'LoadBalancer'" });
  }
  if (isLoadBalancer && spec.allocateLoadBalancerNodePorts === undefined) errors.push({ field: 'allocateLoadBalancerNodePorts', type: 'FieldValueRequired' });
  if (old && old.type === 'LoadBalancer' && isLoadBalancer && old.loadBalancerClass !== spec.loadBalancerClass) {
    errors.push({ field: 'spec.loadBalancerClass', type: 'FieldValueInvalid', value: spec.loadBalancerClass ?? null, detail: 'may not change once set' });
  }
  if (spec.loadBalancerClass !== undefined) {
    if (!isLoadBalancer) errors.push({ field: 'spec.loadBalancerClass', type: 'FieldValueForbidden', detail: "may only be used when `type` is 'LoadBalancer'" });
    else for (const detail of isQualifiedName(spec.loadBalancerClass)) errors.push({ field: 'spec.loadBalancerClass', type: 'FieldValueInvalid', value: spec.loadBalancerClass, detail });
  }
  return errors;
}

/** ValidateService, in upstream's order (the first problems kubectl shows are upstream's first). */
export function validateService(service: KubeObject, old?: KubeObject): FieldError[] {
  const spec = specOf(service);
  const errors: FieldError[] = [];
  const annotations = service.metadata.annotations ?? {};
  if (TOPOLOGY_MODE in annotations && TOPOLOGY_HINTS in annotations && annotations[TOPOLOGY_MODE] !== annotations[TOPOLOGY_HINTS]) {
    errors.push({ field: `metadata.annotations[${TOPOLOGY_MODE}]`, type: 'FieldValueInvalid', value: annotations[TOPOLOGY_MODE], detail: `must match annotations[${TOPOLOGY_HINTS}] when both are specified` });
  }
  const ports = portsOf(spec);
  if (ports.length === 0 && !isHeadless(spec) && spec.type !== 'ExternalName') errors.push({ field: 'spec.ports', type: 'FieldValueRequired' });
  errors.push(...validateTypeSpecific(spec));
  const names = new Set<string>();
  ports.forEach((port, index) => errors.push(...validatePort(port, index, ports.length > 1, names)));
  if (spec.selector !== undefined) errors.push(...validateLabels(spec.selector, 'spec.selector'));
  errors.push(...validateSessionAffinity(spec));
  errors.push(...validateClusterIPFields(spec));
  (spec.externalIPs ?? []).forEach((ip, index) => {
    const problems = validateIP(ip, `spec.externalIPs[${index}]`);
    errors.push(...(problems.length > 0 ? problems : validateNonSpecialIP(ip, `spec.externalIPs[${index}]`)));
  });
  if (!spec.type) errors.push({ field: 'spec.type', type: 'FieldValueRequired' });
  else if (!SERVICE_TYPES.includes(spec.type)) errors.push({ field: 'spec.type', type: 'FieldValueNotSupported', value: spec.type, supported: SERVICE_TYPES });
  errors.push(...validateNodePortsAndDuplicates(spec));
  errors.push(...validateLoadBalancerFields(service, spec, old ? specOf(old) : undefined));
  errors.push(...validateTrafficFields(spec));
  return errors;
}

/**
 * Allocated addresses never change (validateUpgradeDowngradeClusterIPs/IPFamilies): a service may move
 * to or from ExternalName, or between headless forms, but not swap its primary cluster IP or family.
 */
function validateClusterIPsUnchanged(spec: ServiceSpec, old: ServiceSpec): FieldError[] {
  if (spec.type === 'ExternalName' || old.type === 'ExternalName') return [];
  const errors: FieldError[] = [];
  const clusterIPs = clusterIPsOf(spec);
  const oldClusterIPs = clusterIPsOf(old);
  if (!(isHeadless(spec) && isHeadless(old))) {
    if (oldClusterIPs.length === clusterIPs.length) {
      oldClusterIPs.forEach((ip, index) => {
        if (ip !== clusterIPs[index]) errors.push({ field: `spec.clusterIPs[${index}]`, type: 'FieldValueInvalid', value: clusterIPs, detail: 'may not change once set' });
      });
    } else if (oldClusterIPs.length > clusterIPs.length) {
      if (clusterIPs.length === 0) errors.push({ field: 'spec.clusterIPs[0]', type: 'FieldValueInvalid', value: clusterIPs, detail: 'primary clusterIP can not be unset' });
      if (clusterIPs.length > 0 && clusterIPs[0] !== oldClusterIPs[0]) errors.push({ field: 'spec.clusterIPs[0]', type: 'FieldValueInvalid', value: clusterIPs, detail: 'may not change once set' });
      if (clusterIPs.length === 1 && spec.ipFamilyPolicy !== 'SingleStack') {
        errors.push({ field: 'spec.ipFamilyPolicy', type: 'FieldValueInvalid', value: spec.ipFamilyPolicy ?? null, detail: "must be set to 'SingleStack' when releasing the secondary clusterIP" });
      }
    } else if (oldClusterIPs.length > 0 && clusterIPs[0] !== oldClusterIPs[0]) {
      errors.push({ field: 'spec.clusterIPs[0]', type: 'FieldValueInvalid', value: clusterIPs, detail: 'may not change once set' });
    }
  }
  const families = ipFamiliesOf(spec);
  const oldFamilies = ipFamiliesOf(old);
  if (isHeadless(spec) || isHeadless(old)) return errors;
  if (oldFamilies.length === families.length) {
    oldFamilies.forEach((family, index) => {
      if (family !== families[index]) errors.push({ field: 'spec.ipFamilies[0]', type: 'FieldValueInvalid', value: families, detail: 'may not change once set' });
    });
  } else if (oldFamilies.length > families.length) {
    if (clusterIPs.length === 0) errors.push({ field: 'spec.ipFamilies[0]', type: 'FieldValueInvalid', value: families, detail: 'primary ipFamily can not be unset' });
    if (families.length > 0 && families[0] !== oldFamilies[0]) errors.push({ field: 'spec.ipFamilies[0]', type: 'FieldValueInvalid', value: clusterIPs, detail: 'may not change once set' });
    if (families.length === 1 && spec.ipFamilyPolicy !== 'SingleStack') {
      errors.push({ field: 'spec.ipFamilyPolicy', type: 'FieldValueInvalid', value: spec.ipFamilyPolicy ?? null, detail: "must be set to 'SingleStack' when releasing the secondary ipFamily" });
    }
  } else if (oldFamilies.length > 0 && families.length > 0 && families[0] !== oldFamilies[0]) {
    errors.push({ field: 'spec.ipFamilies[0]', type: 'FieldValueInvalid', value: clusterIPs, detail: 'may not change once set' });
  }
  return errors;
}

/** ValidateServiceUpdate (metadata is checked by the generic store). */
export function validateServiceUpdate(service: KubeObject, old: KubeObject): FieldError[] {
  const spec = specOf(service);
  const oldSpec = specOf(old);
  const errors = validateClusterIPsUnchanged(spec, oldSpec);
  if (needsHealthCheck(spec) && needsHealthCheck(oldSpec) && spec.healthCheckNodePort !== oldSpec.healthCheckNodePort) {
    errors.push({ field: 'spec.healthCheckNodePort', type: 'FieldValueForbidden', detail: 'field is immutable' });
  }
  return [...errors, ...validateService(service, old)];
}

/** ValidateLoadBalancerStatus, for writes to /status. */
export function validateServiceStatus(service: KubeObject): FieldError[] {
  const loadBalancer = isObject(service.status) && isObject(service.status.loadBalancer) ? service.status.loadBalancer : {};
  const ingress = Array.isArray(loadBalancer.ingress) ? loadBalancer.ingress : [];
  const errors: FieldError[] = [];
  ingress.forEach((entry: unknown, index) => {
    if (!isObject(entry)) return;
    const path = `status.loadBalancer.ingress[${index}]`;
    if (typeof entry.ip === 'string' && entry.ip) errors.push(...validateIP(entry.ip, `${path}.ip`));
    if (typeof entry.hostname === 'string' && entry.hostname) {
      for (const detail of isDns1123Subdomain(entry.hostname)) errors.push({ field: `${path}.hostname`, type: 'FieldValueInvalid', value: entry.hostname, detail });
      if (ipFamilyOf(entry.hostname)) errors.push({ field: `${path}.hostname`, type: 'FieldValueInvalid', value: entry.hostname, detail: 'must be a DNS name, not an IP address' });
    }
    if (entry.ipMode !== undefined) {
      if (!entry.ip) errors.push({ field: `${path}.ipMode`, type: 'FieldValueForbidden', detail: 'may not be specified when `ip` is not set' });
      else if (entry.ipMode !== 'VIP' && entry.ipMode !== 'Proxy') errors.push({ field: `${path}.ipMode`, type: 'FieldValueNotSupported', value: entry.ipMode, supported: ['Proxy', 'VIP'] });
    }
  });
  return errors;
}
