// Pod defaulting as a user sees it in `kubectl get -o yaml`: the v1 scheme defaults every decode applies
// (shared with pod templates), the pod-only ones, and what upstream's admission plugins add on create
// (ServiceAccount, Priority, DefaultTolerationSeconds). Status on create is phase Pending with the QoS class.

import { randomInt } from 'node:crypto';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import { isObject } from '../../../apiserver/registry/object.js';
import { parseQuantity, sameQuantity } from '../../../apiserver/registry/quantity.js';

export type Json = Record<string, unknown>;

export function objectsOf(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

export function podSpecOf(pod: KubeObject): Json {
  if (!isObject(pod.spec)) pod.spec = {};
  return pod.spec as Json;
}

/** Regular and init containers (ephemeral ones are not defaulted the same way). */
export function allContainers(spec: Json): Json[] {
  return [...objectsOf(spec.initContainers), ...objectsOf(spec.containers)];
}

/** The tag of an image reference as docker's parser reads it: `latest` when there is neither tag nor digest. */
export function imageTag(image: string): string {
  const [name, digest] = image.split('@', 2);
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > lastSlash) return name.slice(colon + 1);
  return digest === undefined ? 'latest' : '';
}

const DEFAULT_FILE_MODE = 420; // 0644, as upstream's defaults write it

function defaultProbe(probe: unknown): void {
  if (!isObject(probe)) return;
  probe.timeoutSeconds ??= 1;
  probe.periodSeconds ??= 10;
  probe.successThreshold ??= 1;
  probe.failureThreshold ??= 3;
  defaultHandler(probe);
}

function defaultHandler(handler: Json): void {
  if (isObject(handler.httpGet)) {
    handler.httpGet.path ??= '/';
    handler.httpGet.scheme ??= 'HTTP';
  }
  if (isObject(handler.grpc)) handler.grpc.service ??= '';
}

/** SetDefaults_Container and the defaults of what a container holds (ports, env, probes, hooks). */
export function defaultContainer(container: Json, hostNetwork: boolean): void {
  if (container.imagePullPolicy === undefined || container.imagePullPolicy === '') {
    container.imagePullPolicy = typeof container.image === 'string' && imageTag(container.image) !== 'latest' ? 'IfNotPresent' : 'Always';
  }
  container.terminationMessagePath ??= '/dev/termination-log';
  container.terminationMessagePolicy ??= 'File';
  // A Go struct, never omitted.
  if (!isObject(container.resources)) container.resources = {};
  for (const port of objectsOf(container.ports)) {
    port.protocol ??= 'TCP';
    if (hostNetwork && (port.hostPort === undefined || port.hostPort === 0)) port.hostPort = port.containerPort;
  }
  for (const env of objectsOf(container.env)) {
    if (isObject(env.valueFrom) && isObject(env.valueFrom.fieldRef)) env.valueFrom.fieldRef.apiVersion ??= 'v1';
  }
  defaultProbe(container.livenessProbe);
  defaultProbe(container.readinessProbe);
  defaultProbe(container.startupProbe);
  if (isObject(container.lifecycle)) {
    for (const hook of [container.lifecycle.postStart, container.lifecycle.preStop]) if (isObject(hook)) defaultHandler(hook);
  }
}

const VOLUME_SOURCES_WITH_MODE = ['secret', 'configMap', 'downwardAPI', 'projected'];

function defaultVolume(volume: Json): void {
  const sources = Object.keys(volume).filter((key) => key !== 'name');
  if (sources.length === 0) volume.emptyDir = {};
  for (const source of VOLUME_SOURCES_WITH_MODE) {
    const value = volume[source];
    if (isObject(value)) value.defaultMode ??= DEFAULT_FILE_MODE;
  }
  if (isObject(volume.hostPath)) volume.hostPath.type ??= '';
  if (isObject(volume.downwardAPI)) {
    for (const item of objectsOf(volume.downwardAPI.items)) if (isObject(item.fieldRef)) item.fieldRef.apiVersion ??= 'v1';
  }
}

/** SetDefaults_PodSpec and the container/volume defaults: for pods and every pod template. */
export function applyPodSpecDefaults(spec: Json): void {
  if (!spec.dnsPolicy) spec.dnsPolicy = 'ClusterFirst';
  if (!spec.restartPolicy) spec.restartPolicy = 'Always';
  if (!isObject(spec.securityContext)) spec.securityContext = {};
  spec.terminationGracePeriodSeconds ??= 30;
  if (!spec.schedulerName) spec.schedulerName = 'default-scheduler';
  // serviceAccount is the deprecated alias conversion keeps equal to serviceAccountName.
  if (!spec.serviceAccountName && typeof spec.serviceAccount === 'string' && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  if (spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName;
  const hostNetwork = spec.hostNetwork === true;
  for (const container of allContainers(spec)) defaultContainer(container, hostNetwork);
  for (const volume of objectsOf(spec.volumes)) defaultVolume(volume);
}

/** SetDefaults_Pod: what only pods (not templates) get on every write. */
export function applyPodDefaults(pod: KubeObject): void {
  const spec = podSpecOf(pod);
  applyPodSpecDefaults(spec);
  spec.enableServiceLinks ??= true;
  // Limits without requests make the requests equal to the limits.
  for (const container of allContainers(spec)) {
    const resources = container.resources as Json;
    if (!isObject(resources.limits)) continue;
    const requests: Json = isObject(resources.requests) ? resources.requests : {};
    for (const [name, limit] of Object.entries(resources.limits)) if (!(name in requests)) requests[name] = limit;
    if (Object.keys(requests).length > 0) resources.requests = requests;
  }
}

const SYSTEM_PRIORITIES: Record<string, number> = { 'system-cluster-critical': 2000000000, 'system-node-critical': 2000001000 };
const TOLERATION_SECONDS = 300;
const DEFAULT_TOLERATED_TAINTS = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'];

/** Whether an existing toleration already covers a NoExecute taint with this key. */
function tolerates(tolerations: Json[], key: string): boolean {
  return tolerations.some((toleration) => {
    const effectMatches = !toleration.effect || toleration.effect === 'NoExecute';
    // An empty key counts whatever the operator, as the admission plugin checks it.
    const keyMatches = !toleration.key || toleration.key === key;
    return effectMatches && keyMatches;
  });
}

export const TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
// utilrand.String's alphabet: no vowels, no confusable digits.
const RANDOM_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(length: number): string {
  return Array.from({ length }, () => RANDOM_ALPHABET[randomInt(RANDOM_ALPHABET.length)]).join('');
}

/** The projected token volume the ServiceAccount plugin mounts into every container (unless opted out). */
function mountServiceAccountToken(spec: Json): void {
  if (spec.automountServiceAccountToken === false) return;
  const containers = [...allContainers(spec), ...objectsOf(spec.ephemeralContainers)];
  // A pod that mounts something at the token path already keeps its own.
  if (containers.some((container) => objectsOf(container.volumeMounts).some((mount) => mount.mountPath === TOKEN_MOUNT_PATH))) return;
  const volumes = objectsOf(spec.volumes);
  let name = `kube-api-access-${randomSuffix(5)}`;
  while (volumes.some((volume) => volume.name === name)) name = `kube-api-access-${randomSuffix(5)}`;
  spec.volumes = [
    ...(Array.isArray(spec.volumes) ? spec.volumes : []),
    {
      name,
      projected: {
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
        ],
        defaultMode: DEFAULT_FILE_MODE,
      },
    },
  ];
  for (const container of allContainers(spec)) {
    container.volumeMounts = [...(Array.isArray(container.volumeMounts) ? container.volumeMounts : []), { name, readOnly: true, mountPath: TOKEN_MOUNT_PATH }];
  }
}

/** What the ServiceAccount, Priority and DefaultTolerationSeconds admission plugins add to a new pod. */
export function applyPodAdmissionDefaults(pod: KubeObject): void {
  const spec = podSpecOf(pod);
  if (!spec.serviceAccountName) spec.serviceAccountName = 'default';
  spec.serviceAccount = spec.serviceAccountName;
  mountServiceAccountToken(spec);
  if (spec.priority === undefined) {
    const className = typeof spec.priorityClassName === 'string' ? spec.priorityClassName : '';
    spec.priority = SYSTEM_PRIORITIES[className] ?? 0;
  }
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  const tolerations = objectsOf(spec.tolerations);
  const added = DEFAULT_TOLERATED_TAINTS.filter((key) => !tolerates(tolerations, key)).map((key) => ({
    key,
    operator: 'Exists',
    effect: 'NoExecute',
    tolerationSeconds: TOLERATION_SECONDS,
  }));
  if (added.length > 0) spec.tolerations = [...(Array.isArray(spec.tolerations) ? spec.tolerations : []), ...added];
}

const QOS_RESOURCES = ['cpu', 'memory'];

/** qos.GetPodQOS: BestEffort without any cpu/memory requests or limits, Guaranteed when they all match. */
export function podQOSClass(spec: Json): 'BestEffort' | 'Burstable' | 'Guaranteed' {
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let guaranteed = true;
  for (const container of allContainers(spec)) {
    const resources = isObject(container.resources) ? container.resources : {};
    const add = (from: unknown, into: Map<string, number>): Set<string> => {
      const seen = new Set<string>();
      if (!isObject(from)) return seen;
      for (const name of QOS_RESOURCES) {
        const quantity = parseQuantity(from[name]);
        if (quantity === undefined || quantity === 0) continue;
        seen.add(name);
        into.set(name, (into.get(name) ?? 0) + quantity);
      }
      return seen;
    };
    add(resources.requests, requests);
    if (add(resources.limits, limits).size !== QOS_RESOURCES.length) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (!guaranteed || requests.size !== limits.size) return 'Burstable';
  for (const [name, request] of requests) {
    const limit = limits.get(name);
    if (limit === undefined || !sameQuantity(limit, request)) return 'Burstable';
  }
  return 'Guaranteed';
}

/** The condition a pod with scheduling gates starts with. */
export function schedulingGatedConditions(spec: Json, now: string): Json[] {
  if (objectsOf(spec.schedulingGates).length === 0) return [];
  return [{ type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: now, reason: 'SchedulingGated', message: 'Scheduling is blocked due to non-empty scheduling gates' }];
}
