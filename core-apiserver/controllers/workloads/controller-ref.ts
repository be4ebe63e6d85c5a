// What the workload controllers share: who controls an object (its controller ownerReference), which pods
// count (active, ready, available), and the identity the controllers write with (kube-controller-manager's).

import type { KubeObject, OwnerReference } from '../../../apiserver/registry/object.js';
import type { GenericStore, WriteContext } from '../../../apiserver/registry/store.js';
import { decodedObject, type CachedObject } from '../../../apiserver/storage/watch-cache.js';
import { StatusError } from '../../../apiserver/request/status.js';

export type { OwnerReference };

interface PodCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
}

export function controllerContext(controller: string, namespace: string): WriteContext {
  return {
    user: { username: `system:serviceaccount:kube-system:${controller}`, groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] },
    namespace,
    warnings: [],
    dryRun: false,
    fieldManager: 'kube-controller-manager',
    fieldValidation: 'Ignore',
  };
}

export function controllerRefOf(object: KubeObject): OwnerReference | undefined {
  const references = (object.metadata.ownerReferences ?? []) as OwnerReference[];
  return references.find((reference) => reference.controller === true);
}

export function ownerReferenceTo(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/** Pods a ReplicaSet counts: not terminal, not being deleted (upstream's FilterActivePods). */
export function isActivePod(pod: KubeObject): boolean {
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}

function readyCondition(pod: KubeObject): PodCondition | undefined {
  const conditions = ((pod.status as { conditions?: PodCondition[] } | undefined)?.conditions ?? []);
  return conditions.find((condition) => condition.type === 'Ready');
}

export function isPodReady(pod: KubeObject): boolean {
  return readyCondition(pod)?.status === 'True';
}

/**
 * Ready for at least minReadySeconds (upstream's IsPodAvailable). When not yet, `availableInMs` says when
 * it will be, so the controller can look again then.
 */
export function podAvailability(pod: KubeObject, minReadySeconds: number, now: number): { available: boolean; availableInMs?: number } {
  const ready = readyCondition(pod);
  if (ready?.status !== 'True') return { available: false };
  if (minReadySeconds <= 0) return { available: true };
  const since = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : Number.NaN;
  if (Number.isNaN(since)) return { available: false };
  const remaining = since + minReadySeconds * 1000 - now;
  return remaining <= 0 ? { available: true } : { available: false, availableInMs: remaining };
}

export function labelsOf(object: { metadata?: { labels?: Record<string, string> } } | undefined): Record<string, string> {
  return object?.metadata?.labels ?? {};
}

/** The work-queue key of a cached namespaced object: "<namespace>/<name>". */
export function keyOf(cached: CachedObject): string {
  const object = decodedObject<KubeObject>(cached);
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

/** Writes `status` through the status subresource unless it is what the object has; a vanished object is fine. */
export async function writeStatus(store: GenericStore, object: KubeObject, status: Record<string, unknown>, context: WriteContext): Promise<void> {
  if (JSON.stringify(status) === JSON.stringify(object.status ?? {})) return;
  try {
    await store.guaranteedUpdate(object.metadata.name!, context, 'status', undefined, (stored) => {
      if (!stored) throw new StatusError(404, 'NotFound', 'gone');
      return { ...stored, status };
    });
  } catch (error) {
    if (!(error instanceof StatusError && error.code === 404)) throw error;
  }
}

/** Queues "<namespace>/<owner>" whenever a pod controlled by a `kind` changes (DaemonSets, StatefulSets). */
export function watchControlledPods(pods: GenericStore, kind: string, enqueue: (key: string) => void): { stop(): void } {
  return pods.cache.watch({
    fromRevision: 0,
    prefix: pods.resource.storagePrefix,
    filter: () => true,
    onEvent: (_type, object) => {
      const pod = decodedObject<KubeObject>(object);
      const reference = controllerRefOf(pod);
      if (reference?.kind === kind) enqueue(`${pod.metadata.namespace}/${reference.name}`);
    },
  });
}
