// What an object counts against a ResourceQuota (upstream's quota evaluators): every object counts as
// `count/<resource>[.<group>]`; the legacy object counts (`pods`, `services`, …); a pod's compute requests
// and limits (`requests.cpu`, `limits.memory`, bare `cpu`/`memory` meaning requests); a claim's storage
// (also per storage class); a service's load balancers and node ports. Quantities are numbers here and
// formatted back as upstream prints them.

import type { KubeObject } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';
import { formatBytes, formatCores, parseQuantity } from '../../apiserver/registry/quantity.js';
import { podQOSClass } from '../resources/corev1/pod-defaults.js';
import { podAmounts } from './pod-resources.js';

export type Usage = Map<string, number>;

/** Kinds whose object count has a legacy quota name of its own (`pods` besides `count/pods`). */
const LEGACY_COUNTS = new Set(['pods', 'services', 'secrets', 'configmaps', 'replicationcontrollers', 'resourcequotas', 'persistentvolumeclaims']);

/** The resources that must be requested by every container once a quota constrains them. */
const COMPUTE_CONSTRAINED = ['requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory', 'cpu', 'memory'];

const STORAGE_CLASS_SUFFIX = '.storageclass.storage.k8s.io/';

/** `<plural>` for the core group, `<plural>.<group>` otherwise (the count/ quota name's suffix). */
export function countName(group: string, plural: string): string {
  return group ? `${plural}.${group}` : plural;
}

function record(value: unknown): Record<string, unknown> {
  return isObject(value) ? value : {};
}

/** Pods that finished no longer hold their resources (upstream's QuotaV1Pod). */
export function podCounts(pod: KubeObject): boolean {
  const phase = record(pod.status).phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}

function add(usage: Usage, name: string, amount: number): void {
  usage.set(name, (usage.get(name) ?? 0) + amount);
}

export function usageOf(group: string, plural: string, object: KubeObject): Usage {
  const usage: Usage = new Map();
  if (group === '' && plural === 'pods' && !podCounts(object)) return usage;
  usage.set(`count/${countName(group, plural)}`, 1);
  if (group !== '') return usage;
  if (LEGACY_COUNTS.has(plural)) usage.set(plural, 1);
  if (plural === 'pods') {
    for (const [name, amount] of podAmounts(object, 'requests')) {
      add(usage, `requests.${name}`, amount);
      if (name === 'cpu' || name === 'memory' || name === 'ephemeral-storage') add(usage, name, amount);
    }
    for (const [name, amount] of podAmounts(object, 'limits')) add(usage, `limits.${name}`, amount);
  } else if (plural === 'persistentvolumeclaims') {
    const spec = record(object.spec);
    const storage = parseQuantity(record(record(spec.resources).requests).storage) ?? 0;
    usage.set('requests.storage', storage);
    const className = typeof spec.storageClassName === 'string' ? spec.storageClassName : '';
    if (className) {
      usage.set(`${className}${STORAGE_CLASS_SUFFIX}requests.storage`, storage);
      usage.set(`${className}${STORAGE_CLASS_SUFFIX}persistentvolumeclaims`, 1);
    }
  } else if (plural === 'services') {
    const spec = record(object.spec);
    if (spec.type === 'LoadBalancer') usage.set('services.loadbalancers', 1);
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') usage.set('services.nodeports', Array.isArray(spec.ports) ? spec.ports.length : 0);
  }
  return usage;
}

/** Whether a quota's scopes select this object (scopes only ever select pods; scopeSelector is not supported). */
export function quotaSelects(quota: KubeObject, group: string, plural: string, object: KubeObject): boolean {
  const spec = record(quota.spec);
  const scopes = Array.isArray(spec.scopes) ? spec.scopes.map(String) : [];
  if (scopes.length === 0 && !isObject(spec.scopeSelector)) return true;
  if (isObject(spec.scopeSelector)) return false;
  if (group !== '' || plural !== 'pods') return false;
  const podSpec = record(object.spec);
  const terminating = podSpec.activeDeadlineSeconds !== undefined && podSpec.activeDeadlineSeconds !== null;
  const bestEffort = podQOSClass(podSpec) === 'BestEffort';
  return scopes.every((scope) => {
    switch (scope) {
      case 'Terminating':
        return terminating;
      case 'NotTerminating':
        return !terminating;
      case 'BestEffort':
        return bestEffort;
      case 'NotBestEffort':
        return !bestEffort;
      default:
        return false;
    }
  });
}

/** A quantity as the quota status and messages print it. */
export function formatUsage(name: string, amount: number): string {
  const resource = name.slice(name.lastIndexOf('/') + 1);
  if (resource === 'cpu' || resource.endsWith('.cpu')) return formatCores(amount);
  if (/(^|\.)(memory|storage|ephemeral-storage)$/.test(resource) || resource.startsWith('hugepages-') || resource.includes('.hugepages-')) return formatBytes(amount);
  return Number.isInteger(amount) ? String(amount) : formatCores(amount);
}

/** upstream's pod evaluator constraint: a quota on cpu or memory needs every container to state it. */
export function missingCompute(hard: string[], pod: KubeObject): string | undefined {
  const required = COMPUTE_CONSTRAINED.filter((name) => hard.includes(name));
  if (required.length === 0) return undefined;
  const spec = record(pod.spec);
  const containers = [...(Array.isArray(spec.containers) ? spec.containers : []), ...(Array.isArray(spec.initContainers) ? spec.initContainers : [])].filter(isObject);
  const missing = new Map<string, string[]>();
  for (const container of containers) {
    const resources = record(container.resources);
    for (const name of required) {
      const [bucket, resource] = name.includes('.') ? (name.split('.') as [string, string]) : ['requests', name];
      if (record(resources[bucket])[resource] === undefined) missing.set(name, [...(missing.get(name) ?? []), String(container.name)]);
    }
  }
  if (missing.size === 0) return undefined;
  return `must specify ${[...missing.keys()].sort().map((name) => `${name} for: ${missing.get(name)!.sort().join(',')}`).join('; ')}`;
}

export function prettyPrint(values: Map<string, string>): string {
  return [...values.keys()].sort().map((key) => `${key}=${values.get(key)}`).join(',');
}

/** Whether a quota resource name counts objects of this kind. */
export function tracks(name: string, group: string, plural: string): boolean {
  if (name.startsWith('count/')) return name.slice('count/'.length) === (group ? `${plural}.${group}` : plural);
  if (group !== '') return false;
  if (name === plural) return true;
  if (plural === 'pods') return name.startsWith('requests.') || name.startsWith('limits.') || name === 'cpu' || name === 'memory' || name === 'ephemeral-storage';
  if (plural === 'persistentvolumeclaims') return name === 'requests.storage' || name.includes('.storageclass.storage.k8s.io/');
  if (plural === 'services') return name.startsWith('services.');
  return false;
}
