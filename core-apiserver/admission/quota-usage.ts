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
    const ports = Array.isArray(spec.ports) ? spec.ports.length : 0;
    usage.set('services.loadbalancers', spec.type === 'LoadBalancer' ? 1 : 0);
    // A load balancer holds node ports unless it was created without them.
    const nodePorts = spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
    usage.set('services.nodeports', nodePorts ? ports : 0);
  }
  return usage;
}

/**
 * Kinds whose usage an update can raise (upstream's evaluators that handle UPDATE in 1.32): a claim's
 * storage request and a service's type. Object counts only change on create; a pod's resources only with
 * in-place resize, which 1.32 leaves off.
 */
export function chargesUpdates(group: string, plural: string): boolean {
  return group === '' && (plural === 'persistentvolumeclaims' || plural === 'services');
}

interface ScopeRequirement {
  scopeName: string;
  operator: string;
  values: string[];
}

/** spec.scopes as Exists requirements, then spec.scopeSelector's (upstream's getScopeSelectorsFromQuota). */
function scopeRequirements(quota: KubeObject): ScopeRequirement[] {
  const spec = record(quota.spec);
  const scopes = Array.isArray(spec.scopes) ? spec.scopes.map((scope) => ({ scopeName: String(scope), operator: 'Exists', values: [] })) : [];
  const expressions = record(spec.scopeSelector).matchExpressions;
  const selected = (Array.isArray(expressions) ? expressions.filter(isObject) : []).map((expression) => ({
    scopeName: String(expression.scopeName ?? ''),
    operator: String(expression.operator ?? ''),
    values: Array.isArray(expression.values) ? expression.values.map(String) : [],
  }));
  return [...scopes, ...selected];
}

type PodAffinityTerm = { namespaces?: unknown; namespaceSelector?: unknown };

/** A pod affinity or anti-affinity term that reaches other namespaces (upstream's crossNamespacePodAffinityTerm). */
function usesCrossNamespacePodAffinity(podSpec: Record<string, unknown>): boolean {
  const affinity = record(podSpec.affinity);
  const terms = [record(affinity.podAffinity), record(affinity.podAntiAffinity)].flatMap((kind) => [
    ...(Array.isArray(kind.requiredDuringSchedulingIgnoredDuringExecution) ? kind.requiredDuringSchedulingIgnoredDuringExecution.filter(isObject) : []),
    ...(Array.isArray(kind.preferredDuringSchedulingIgnoredDuringExecution) ? kind.preferredDuringSchedulingIgnoredDuringExecution.filter(isObject).map((weighted) => record(weighted.podAffinityTerm)) : []),
  ]) as PodAffinityTerm[];
  return terms.some((term) => (Array.isArray(term.namespaces) && term.namespaces.length > 0) || (term.namespaceSelector !== undefined && term.namespaceSelector !== null));
}

/** upstream's podMatchesScopeFunc: one requirement against one pod. */
function podMatchesScope(requirement: ScopeRequirement, pod: KubeObject): boolean {
  const podSpec = record(pod.spec);
  const deadline = podSpec.activeDeadlineSeconds;
  const terminating = typeof deadline === 'number' && deadline >= 0;
  switch (requirement.scopeName) {
    case 'Terminating':
      return terminating;
    case 'NotTerminating':
      return !terminating;
    case 'BestEffort':
      return podQOSClass(podSpec) === 'BestEffort';
    case 'NotBestEffort':
      return podQOSClass(podSpec) !== 'BestEffort';
    case 'PriorityClass': {
      const priorityClass = typeof podSpec.priorityClassName === 'string' ? podSpec.priorityClassName : '';
      // As a label selector over {PriorityClass: <name>}, where the key is always present (even empty).
      switch (requirement.operator) {
        case 'Exists':
          return priorityClass !== '';
        case 'In':
          return requirement.values.includes(priorityClass);
        case 'NotIn':
          return !requirement.values.includes(priorityClass);
        default:
          return false;
      }
    }
    case 'CrossNamespacePodAffinity':
      return usesCrossNamespacePodAffinity(podSpec);
    default:
      return false;
  }
}

/** Whether a quota's scopes (spec.scopes and spec.scopeSelector) select this object: scopes only ever select pods. */
export function quotaSelects(quota: KubeObject, group: string, plural: string, object: KubeObject): boolean {
  const requirements = scopeRequirements(quota);
  if (requirements.length === 0) return true;
  if (group !== '' || plural !== 'pods') return false;
  return requirements.every((requirement) => podMatchesScope(requirement, object));
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
