// The shape of a v1 Service as the registry sees it, upstream's defaulting (SetDefaults_Service, which
// runs on every decode), and the strategy's clean-up when the type changes (dropTypeDependentFields).

import type { KubeObject } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';

export interface ServicePort {
  name?: string;
  protocol?: string;
  appProtocol?: string;
  port?: number;
  targetPort?: number | string;
  nodePort?: number;
}

export interface ServiceSpec {
  type?: string;
  ports?: ServicePort[];
  selector?: Record<string, string>;
  clusterIP?: string;
  clusterIPs?: string[];
  ipFamilies?: string[];
  ipFamilyPolicy?: string;
  externalIPs?: string[];
  externalName?: string;
  sessionAffinity?: string;
  sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
  externalTrafficPolicy?: string;
  internalTrafficPolicy?: string;
  healthCheckNodePort?: number;
  allocateLoadBalancerNodePorts?: boolean;
  loadBalancerClass?: string;
  loadBalancerIP?: string;
  loadBalancerSourceRanges?: string[];
  trafficDistribution?: string;
  publishNotReadyAddresses?: boolean;
}

export const CLUSTER_IP_NONE = 'None';
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;

/** The spec, read-only (an empty one when the object has none). */
export function specOf(service: KubeObject): ServiceSpec {
  return isObject(service.spec) ? (service.spec as ServiceSpec) : {};
}

/** The spec, created when missing: Go decodes an absent spec as the zero value, which defaulting fills. */
export function mutableSpecOf(service: KubeObject): ServiceSpec {
  if (!isObject(service.spec)) service.spec = {};
  return service.spec as ServiceSpec;
}

export function portsOf(spec: ServiceSpec): ServicePort[] {
  return Array.isArray(spec.ports) ? spec.ports.filter((port): port is ServicePort => isObject(port)) : [];
}

export function clusterIPsOf(spec: ServiceSpec): string[] {
  return Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [];
}

export function ipFamiliesOf(spec: ServiceSpec): string[] {
  return Array.isArray(spec.ipFamilies) ? spec.ipFamilies : [];
}

export function nodePortOf(port: ServicePort): number {
  return typeof port.nodePort === 'number' ? port.nodePort : 0;
}

/** Headless as validation sees it: clusterIPs is exactly ["None"]. */
export function isHeadless(spec: ServiceSpec): boolean {
  const clusterIPs = clusterIPsOf(spec);
  return clusterIPs.length === 1 && clusterIPs[0] === CLUSTER_IP_NONE;
}

export function needsClusterIP(spec: ServiceSpec): boolean {
  return spec.type !== 'ExternalName';
}

export function needsNodePort(spec: ServiceSpec): boolean {
  return spec.type === 'NodePort' || spec.type === 'LoadBalancer';
}

export function needsHealthCheck(spec: ServiceSpec): boolean {
  return spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
}

export function externallyAccessible(spec: ServiceSpec): boolean {
  return spec.type === 'LoadBalancer' || spec.type === 'NodePort' || (spec.type === 'ClusterIP' && (spec.externalIPs ?? []).length > 0);
}

export function shouldAllocateNodePorts(spec: ServiceSpec): boolean {
  if (spec.type === 'NodePort') return true;
  return spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false;
}

export function sameList(left: unknown[] | undefined, right: unknown[] | undefined): boolean {
  const a = left ?? [];
  const b = right ?? [];
  return a.length === b.length && a.every((item, index) => item === b[index]);
}

/**
 * Go's omitempty: zero values are not stored, so "" and 0 here must read as absent everywhere (an
 * explicit `nodePort: 0` asks for an allocation, `clusterIP: ""` for an IP).
 */
function dropZeroValues(spec: ServiceSpec): void {
  const record = spec as Record<string, unknown>;
  for (const field of ['clusterIP', 'externalName', 'loadBalancerIP', 'sessionAffinity', 'type', 'externalTrafficPolicy'] as const) {
    if (record[field] === '') delete record[field];
  }
  if (spec.healthCheckNodePort === 0) delete spec.healthCheckNodePort;
  for (const field of ['ports', 'clusterIPs', 'ipFamilies', 'externalIPs', 'loadBalancerSourceRanges'] as const) {
    if (Array.isArray(record[field]) && (record[field] as unknown[]).length === 0) delete record[field];
  }
  if (isObject(spec.selector) && Object.keys(spec.selector).length === 0) delete spec.selector;
  for (const port of portsOf(spec)) {
    if (port.nodePort === 0) delete port.nodePort;
    if (port.name === '') delete port.name;
  }
}

/** SetDefaults_Service (core/v1), idempotent. */
export function applyServiceDefaults(service: KubeObject): void {
  const spec = mutableSpecOf(service);
  dropZeroValues(spec);
  spec.sessionAffinity ??= 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP' && typeof spec.sessionAffinityConfig?.clientIP?.timeoutSeconds !== 'number') {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: DEFAULT_AFFINITY_TIMEOUT_SECONDS } };
  }
  spec.type ??= 'ClusterIP';
  for (const port of portsOf(spec)) {
    port.protocol ||= 'TCP';
    if (port.targetPort === undefined || port.targetPort === 0 || port.targetPort === '') port.targetPort = port.port ?? 0;
  }
  if (externallyAccessible(spec) && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
  if (spec.internalTrafficPolicy === undefined && ['NodePort', 'LoadBalancer', 'ClusterIP'].includes(spec.type)) spec.internalTrafficPolicy = 'Cluster';
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
}

/**
 * When the type changes, fields only the old type uses are cleared — but only if the client left them as
 * they were: a value the client changed on purpose is kept, and validation says what is wrong with it.
 */
export function dropTypeDependentFields(service: KubeObject, old: KubeObject): void {
  const spec = mutableSpecOf(service);
  const oldSpec = specOf(old);
  if (spec.type === oldSpec.type) return;
  if (needsClusterIP(oldSpec) && !needsClusterIP(spec)) {
    if (sameList(clusterIPsOf(oldSpec), clusterIPsOf(spec))) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (sameList(ipFamiliesOf(oldSpec), ipFamiliesOf(spec))) delete spec.ipFamilies;
    if (oldSpec.ipFamilyPolicy === spec.ipFamilyPolicy) delete spec.ipFamilyPolicy;
  }
  const ports = portsOf(spec);
  // Ports may be added, removed or edited as long as no node port is new.
  const oldNodePorts = new Set(portsOf(oldSpec).map(nodePortOf));
  const noNewNodePorts = ports.every((port) => nodePortOf(port) === 0 || oldNodePorts.has(nodePortOf(port)));
  if (needsNodePort(oldSpec) && !needsNodePort(spec) && noNewNodePorts) {
    for (const port of ports) delete port.nodePort;
  }
  if (needsHealthCheck(oldSpec) && !needsHealthCheck(spec) && oldSpec.healthCheckNodePort === spec.healthCheckNodePort) delete spec.healthCheckNodePort;
  if (spec.type !== 'LoadBalancer') delete spec.allocateLoadBalancerNodePorts;
  if (oldSpec.type === 'LoadBalancer' && spec.type !== 'LoadBalancer' && spec.loadBalancerClass !== undefined && spec.loadBalancerClass === oldSpec.loadBalancerClass) {
    delete spec.loadBalancerClass;
  }
  if (externallyAccessible(oldSpec) && !externallyAccessible(spec) && oldSpec.externalTrafficPolicy === spec.externalTrafficPolicy) delete spec.externalTrafficPolicy;
}

/** GetWarningsForService: fields the chosen type ignores. */
export function serviceWarnings(service: KubeObject): string[] {
  const spec = specOf(service);
  const warnings: string[] = [];
  if (spec.type === 'ExternalName' && (spec.externalIPs ?? []).length > 0) warnings.push('spec.externalIPs is ignored when spec.type is "ExternalName"');
  if (spec.type !== 'ExternalName' && spec.externalName) warnings.push('spec.externalName is ignored when spec.type is not "ExternalName"');
  return warnings;
}
