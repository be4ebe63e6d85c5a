// How the service REST layer shapes the address fields before allocating (upstream's beginCreate and
// beginUpdate hooks): clusterIP and clusterIPs kept in step, values the server chose carried over when a
// client resubmits its original manifest, and ipFamilies / ipFamilyPolicy inferred for this cluster.

import type { KubeObject } from '../../apiserver/registry/object.js';
import type { FieldError } from '../../apiserver/request/status.js';
import { invalid } from '../../apiserver/request/status.js';
import type { IPFamily } from '../resources/network-fields.js';
import { ipFamilyOf } from '../resources/network-fields.js';
import type { ServiceSpec } from '../resources/service-defaults.js';
import {
  CLUSTER_IP_NONE,
  clusterIPsOf,
  ipFamiliesOf,
  mutableSpecOf,
  needsClusterIP,
  needsHealthCheck,
  needsNodePort,
  nodePortOf,
  portsOf,
  sameList,
  specOf,
} from '../resources/service-defaults.js';
import { validateClusterIPFields } from '../resources/service-validation.js';

export function invalidService(service: KubeObject, errors: FieldError[]) {
  return invalid('Service', '', service.metadata?.name ?? '', errors);
}

/** Old clients send only clusterIP; new ones both. Never derives the singular from the plural. */
export function normalizeClusterIPs(service: KubeObject, old: KubeObject | undefined): void {
  const spec = mutableSpecOf(service);
  if (!old) {
    if (spec.clusterIP && clusterIPsOf(spec).length === 0) spec.clusterIPs = [spec.clusterIP];
    return;
  }
  const oldSpec = specOf(old);
  // An old client patching something else drops clusterIPs but keeps clusterIP.
  if (clusterIPsOf(oldSpec).length > 0 && clusterIPsOf(spec).length === 0 && oldSpec.clusterIP === spec.clusterIP) spec.clusterIPs = oldSpec.clusterIPs;
  if (oldSpec.clusterIP !== spec.clusterIP) {
    const untouchedPlural = sameList(clusterIPsOf(oldSpec), clusterIPsOf(spec));
    if (oldSpec.clusterIP && !spec.clusterIP) {
      if (untouchedPlural) delete spec.clusterIPs;
    } else if (untouchedPlural && spec.clusterIP) {
      spec.clusterIPs = [spec.clusterIP];
    }
  }
}

/**
 * A client resubmitting the manifest it created the Service from has no clusterIP or nodePorts in it;
 * the allocated ones are carried over so that the update does not read as an attempt to change them.
 */
export function patchAllocatedValues(service: KubeObject, old: KubeObject): void {
  const spec = mutableSpecOf(service);
  const oldSpec = specOf(old);
  if (needsClusterIP(oldSpec) && needsClusterIP(spec)) {
    if (!spec.clusterIP && oldSpec.clusterIP) spec.clusterIP = oldSpec.clusterIP;
    if (clusterIPsOf(spec).length === 0 && clusterIPsOf(oldSpec).length > 0) spec.clusterIPs = [...clusterIPsOf(oldSpec)];
  }
  if (needsNodePort(oldSpec) && needsNodePort(spec)) {
    const newPorts = new Set(portsOf(spec).map(nodePortOf).filter((port) => port !== 0));
    // Node ports both versions name explicitly cannot be handed to another port.
    const used = new Set(portsOf(oldSpec).map(nodePortOf).filter((port) => newPorts.has(port)));
    const byName = new Map(portsOf(oldSpec).map((port) => [port.name ?? '', nodePortOf(port)]));
    for (const port of portsOf(spec)) {
      const previous = byName.get(port.name ?? '') ?? 0;
      if (nodePortOf(port) === 0 && previous !== 0 && !used.has(previous)) port.nodePort = previous;
    }
  }
  if (needsHealthCheck(oldSpec) && needsHealthCheck(spec) && !spec.healthCheckNodePort && oldSpec.healthCheckNodePort) {
    spec.healthCheckNodePort = oldSpec.healthCheckNodePort;
  }
}

function otherFamily(family: string): IPFamily {
  return family === 'IPv4' ? 'IPv6' : 'IPv4';
}

function hasSelector(spec: ServiceSpec): boolean {
  return spec.selector !== undefined && Object.keys(spec.selector).length > 0;
}

/** Both PreferDualStack with the same addresses: a cluster turning dual-stack must not change them. */
function isMatchingPreferDualStack(spec: ServiceSpec, old: ServiceSpec | undefined): boolean {
  if (!old || spec.ipFamilyPolicy === undefined || old.type !== spec.type || !needsClusterIP(spec)) return false;
  if (spec.ipFamilyPolicy !== 'PreferDualStack' || (old.ipFamilyPolicy !== undefined && old.ipFamilyPolicy !== 'PreferDualStack')) return false;
  return sameList(clusterIPsOf(old), clusterIPsOf(spec)) && sameList(ipFamiliesOf(old), ipFamiliesOf(spec));
}

/**
 * initIPFamilyFields: defaults ipFamilyPolicy and ipFamilies from what the client gave and the
 * families this cluster serves (primary first), and refuses families the cluster does not have.
 */
export function initIPFamilyFields(service: KubeObject, old: KubeObject | undefined, clusterFamilies: IPFamily[]): void {
  const spec = mutableSpecOf(service);
  if (spec.type === 'ExternalName') return;
  const oldSpec = old ? specOf(old) : undefined;
  if (isMatchingPreferDualStack(spec, oldSpec)) return;
  const headlessWithoutSelector = spec.clusterIP === CLUSTER_IP_NONE && !hasSelector(spec);
  if (spec.ipFamilyPolicy === undefined) {
    // Endpoints of a selectorless headless Service may come in either family.
    spec.ipFamilyPolicy = oldSpec?.ipFamilyPolicy ?? (headlessWithoutSelector ? 'RequireDualStack' : 'SingleStack');
  }
  const preliminary = validateClusterIPFields(spec);
  if (preliminary.length > 0) throw invalidService(service, preliminary);

  const errors: FieldError[] = [];
  const policy = spec.ipFamilyPolicy;
  if (oldSpec) {
    if (policy === 'SingleStack') {
      if (sameList(clusterIPsOf(oldSpec), clusterIPsOf(spec)) && clusterIPsOf(spec).length > 1) spec.clusterIPs = clusterIPsOf(spec).slice(0, 1);
      if (sameList(ipFamiliesOf(oldSpec), ipFamiliesOf(spec)) && ipFamiliesOf(spec).length > 1) spec.ipFamilies = ipFamiliesOf(spec).slice(0, 1);
    } else {
      const reduced = (now: string[], before: string[]) => now.length > 0 && now.length < before.length;
      if (reduced(clusterIPsOf(spec), clusterIPsOf(oldSpec))) {
        errors.push({ field: 'spec.ipFamilyPolicy', type: 'FieldValueInvalid', value: policy, detail: "must be 'SingleStack' to release the secondary cluster IP" });
      }
      if (reduced(ipFamiliesOf(spec), ipFamiliesOf(oldSpec))) {
        errors.push({ field: 'spec.ipFamilyPolicy', type: 'FieldValueInvalid', value: policy, detail: "must be 'SingleStack' to release the secondary IP family" });
      }
    }
  }
  if (policy === 'SingleStack') {
    if (clusterIPsOf(spec).length === 2) {
      errors.push({ field: 'spec.ipFamilyPolicy', type: 'FieldValueInvalid', value: policy, detail: "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified" });
    }
    if (ipFamiliesOf(spec).length === 2) {
      errors.push({ field: 'spec.ipFamilyPolicy', type: 'FieldValueInvalid', value: policy, detail: "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified" });
    }
  }
  const families = [...ipFamiliesOf(spec)];
  const clusterIPs = clusterIPsOf(spec);
  for (let index = 0; index < clusterIPs.length && clusterIPs[index] !== CLUSTER_IP_NONE; index++) {
    if (index < families.length) continue;
    const family = ipFamilyOf(clusterIPs[index]) ?? 'unknown';
    if (clusterFamilies.includes(family as IPFamily)) families.push(family);
    else errors.push({ field: `spec.clusterIPs[${index}]`, type: 'FieldValueInvalid', value: clusterIPs, detail: `${family} is not configured on this cluster` });
  }
  if (errors.length > 0) throw invalidService(service, errors);

  if (headlessWithoutSelector) {
    if (families.length === 0) families.push(clusterFamilies[0]);
    // Allowed even on a single-stack cluster: the endpoints are whatever the user publishes.
    if (families.length < 2 && policy !== 'SingleStack') families.push(otherFamily(families[0]));
    spec.ipFamilies = families;
    return;
  }
  if (policy === 'RequireDualStack' && clusterFamilies.length < 2) {
    errors.push({ field: 'spec.ipFamilyPolicy', type: 'FieldValueInvalid', value: policy, detail: 'this cluster is not configured for dual-stack services' });
  }
  families.forEach((family, index) => {
    if (!clusterFamilies.includes(family as IPFamily)) errors.push({ field: `spec.ipFamilies[${index}]`, type: 'FieldValueInvalid', value: family, detail: 'not configured on this cluster' });
  });
  if (errors.length > 0) throw invalidService(service, errors);
  if (families.length === 0) families.push(clusterFamilies[0]);
  if (policy !== 'SingleStack' && families.length === 1 && clusterFamilies.length === 2) families.push(otherFamily(families[0]));
  spec.ipFamilies = families;
}
