// LimitRanger (upstream plugin/pkg/admission/limitranger): a new pod's containers get the requests and
// limits their namespace's LimitRanges default (recorded in the kubernetes.io/limit-ranger annotation),
// then every Container and Pod constraint (min, max, maxLimitRequestRatio) and every PersistentVolumeClaim
// one (min, max of the requested storage) is checked, all problems reported at once.

import type { AdmissionAttributes, AdmissionPlugin } from '../../apiserver/admission/interface.js';
import { admissionForbidden } from '../../apiserver/admission/run.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';
import { formatBytes, formatCores, parseQuantity } from '../../apiserver/registry/quantity.js';
import { podQOSClass } from '../resources/corev1/pod-defaults.js';
import type { ResourceAmounts } from './pod-resources.js';
import { containerAmounts, containersOf, podAmounts } from './pod-resources.js';

const ANNOTATION = 'kubernetes.io/limit-ranger';

type Json = Record<string, unknown>;

function record(value: unknown): Json {
  return isObject(value) ? value : {};
}

function limitItems(limitRanges: KubeObject[]): Json[] {
  return limitRanges.flatMap((range) => {
    const limits = record(range.spec).limits;
    return Array.isArray(limits) ? limits.filter(isObject) : [];
  });
}

/** A quantity as upstream prints one it computed: cores for cpu, bytes otherwise. */
function shown(name: string, amount: number): string {
  return name === 'cpu' ? formatCores(amount) : formatBytes(amount);
}

interface Observed {
  requests: ResourceAmounts;
  limits: ResourceAmounts;
  /** How the request/limit was written (upstream prints the quantity it holds). */
  text(bucket: 'requests' | 'limits', name: string): string;
}

function observedOfContainer(container: Json): Observed {
  const resources = record(container.resources);
  return {
    requests: containerAmounts(container, 'requests'),
    limits: containerAmounts(container, 'limits'),
    text: (bucket, name) => String(record(resources[bucket])[name]),
  };
}

function observedOfPod(pod: KubeObject): Observed {
  const requests = podAmounts(pod, 'requests');
  const limits = podAmounts(pod, 'limits');
  return { requests, limits, text: (bucket, name) => shown(name, (bucket === 'requests' ? requests : limits).get(name) ?? 0) };
}

function checkMin(type: string, name: string, enforced: unknown, observed: Observed): string | undefined {
  const min = parseQuantity(enforced) ?? 0;
  const request = observed.requests.get(name);
  const limit = observed.limits.get(name);
  if (request === undefined) return `minimum ${name} usage per ${type} is ${String(enforced)}.  No request is specified`;
  if (request < min) return `minimum ${name} usage per ${type} is ${String(enforced)}, but request is ${observed.text('requests', name)}`;
  if (limit !== undefined && limit < min) return `minimum ${name} usage per ${type} is ${String(enforced)}, but limit is ${observed.text('limits', name)}`;
  return undefined;
}

function checkMax(type: string, name: string, enforced: unknown, observed: Observed): string | undefined {
  const max = parseQuantity(enforced) ?? 0;
  const request = observed.requests.get(name);
  const limit = observed.limits.get(name);
  if (limit === undefined) return `maximum ${name} usage per ${type} is ${String(enforced)}.  No limit is specified`;
  if (limit > max) return `maximum ${name} usage per ${type} is ${String(enforced)}, but limit is ${observed.text('limits', name)}`;
  if (request !== undefined && request > max) return `maximum ${name} usage per ${type} is ${String(enforced)}, but request is ${observed.text('requests', name)}`;
  return undefined;
}

function checkRatio(type: string, name: string, enforced: unknown, observed: Observed): string | undefined {
  const request = observed.requests.get(name) ?? 0;
  const limit = observed.limits.get(name) ?? 0;
  if (request === 0) return `${name} max limit to request ratio per ${type} is ${String(enforced)}, but no request is specified or request is 0`;
  if (limit === 0) return `${name} max limit to request ratio per ${type} is ${String(enforced)}, but no limit is specified or limit is 0`;
  const ratio = limit / request;
  if (ratio > (parseQuantity(enforced) ?? 0) + 1e-9) return `${name} max limit to request ratio per ${type} is ${String(enforced)}, but provided ratio is ${ratio.toFixed(6)}`;
  return undefined;
}

function checkAll(type: string, item: Json, observed: Observed, problems: string[]): void {
  for (const [name, value] of Object.entries(record(item.min))) {
    const problem = checkMin(type, name, value, observed);
    if (problem) problems.push(problem);
  }
  for (const [name, value] of Object.entries(record(item.max))) {
    const problem = checkMax(type, name, value, observed);
    if (problem) problems.push(problem);
  }
  for (const [name, value] of Object.entries(record(item.maxLimitRequestRatio))) {
    const problem = checkRatio(type, name, value, observed);
    if (problem) problems.push(problem);
  }
}

/** upstream's utilerrors.NewAggregate: one message as it is, several in brackets. */
export function aggregate(problems: string[]): string {
  return problems.length === 1 ? problems[0] : `[${problems.join(', ')}]`;
}

export function defaultPodResources(pod: KubeObject, limitRanges: KubeObject[]): void {
  const defaultLimits: Json = {};
  const defaultRequests: Json = {};
  for (const item of limitItems(limitRanges)) {
    if (item.type !== 'Container') continue;
    Object.assign(defaultLimits, record(item.default));
    Object.assign(defaultRequests, record(item.defaultRequest));
  }
  if (Object.keys(defaultLimits).length === 0 && Object.keys(defaultRequests).length === 0) return;
  const notes: string[] = [];
  const merge = (container: Json, containerType: string) => {
    const resources = (container.resources = record(container.resources));
    const set = (bucket: 'requests' | 'limits', defaults: Json): string[] => {
      const current = record(resources[bucket]);
      const added = Object.keys(defaults).filter((name) => current[name] === undefined);
      if (added.length > 0) resources[bucket] = { ...current, ...Object.fromEntries(added.map((name) => [name, defaults[name]])) };
      return added.sort();
    };
    const requests = set('requests', defaultRequests);
    const limits = set('limits', defaultLimits);
    if (requests.length > 0) notes.push(`${requests.join(', ')} request for ${containerType} ${String(container.name)}`);
    if (limits.length > 0) notes.push(`${limits.join(', ')} limit for ${containerType} ${String(container.name)}`);
  };
  for (const container of containersOf(pod, 'containers')) merge(container, 'container');
  for (const container of containersOf(pod, 'initContainers')) merge(container, 'init container');
  if (notes.length === 0) return;
  pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [ANNOTATION]: `LimitRanger plugin set: ${notes.join('; ')}` };
  // The strategy classified the pod before admission ran here; upstream classifies after, so redo it.
  if (isObject(pod.status) && pod.status.qosClass !== undefined) pod.status.qosClass = podQOSClass(record(pod.spec));
}

export function limitProblems(kind: 'pods' | 'persistentvolumeclaims', object: KubeObject, limitRanges: KubeObject[]): string[] {
  const problems: string[] = [];
  for (const item of limitItems(limitRanges)) {
    if (kind === 'pods' && item.type === 'Container') {
      for (const container of [...containersOf(object, 'containers'), ...containersOf(object, 'initContainers')]) checkAll('Container', item, observedOfContainer(container), problems);
    } else if (kind === 'pods' && item.type === 'Pod') {
      checkAll('Pod', item, observedOfPod(object), problems);
    } else if (kind === 'persistentvolumeclaims' && item.type === 'PersistentVolumeClaim') {
      // Claims are checked on what they request; a claim's limits are not user input here.
      const resources = record(record(object.spec).resources);
      const requests = containerAmounts({ resources }, 'requests');
      const observed: Observed = { requests, limits: requests, text: (_bucket, name) => String(record(resources.requests)[name]) };
      for (const [name, value] of Object.entries(record(item.min))) {
        const problem = checkMin('PersistentVolumeClaim', name, value, { ...observed, limits: new Map() });
        if (problem) problems.push(problem);
      }
      for (const [name, value] of Object.entries(record(item.max))) {
        const request = requests.get(name);
        if (request === undefined) problems.push(`maximum ${name} usage per PersistentVolumeClaim is ${String(value)}.  No request is specified`);
        else if (request > (parseQuantity(value) ?? 0)) problems.push(`maximum ${name} usage per PersistentVolumeClaim is ${String(value)}, but request is ${observed.text('requests', name)}`);
      }
    }
  }
  return problems;
}

function handled(attributes: AdmissionAttributes): 'pods' | 'persistentvolumeclaims' | undefined {
  if (attributes.subresource !== '' || attributes.resource.group !== '' || !attributes.object) return undefined;
  const resource = attributes.resource.resource;
  // Containers cannot change after creation, so pods are only checked when created.
  if (resource === 'pods' && attributes.operation === 'CREATE') return 'pods';
  if (resource === 'persistentvolumeclaims' && (attributes.operation === 'CREATE' || attributes.operation === 'UPDATE')) return 'persistentvolumeclaims';
  return undefined;
}

export class LimitRanger implements AdmissionPlugin {
  readonly name = 'LimitRanger';

  constructor(private readonly limitRangesIn: (namespace: string) => Promise<KubeObject[]>) {}

  async admit(attributes: AdmissionAttributes): Promise<void> {
    if (handled(attributes) !== 'pods') return;
    const ranges = await this.limitRangesIn(attributes.namespace);
    if (ranges.length > 0) defaultPodResources(attributes.object!, ranges);
  }

  async validate(attributes: AdmissionAttributes): Promise<void> {
    const kind = handled(attributes);
    if (!kind) return;
    const ranges = await this.limitRangesIn(attributes.namespace);
    if (ranges.length === 0) return;
    const problems = limitProblems(kind, attributes.object!, ranges);
    if (problems.length > 0) throw admissionForbidden(attributes, aggregate(problems));
  }
}
