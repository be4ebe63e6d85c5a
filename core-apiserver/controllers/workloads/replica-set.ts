// The ReplicaSet controller (kube-controller-manager's; it runs ReplicationControllers too, as upstream's
// replication manager does): keeps spec.replicas active pods per ReplicaSet,
// created from its template and owned through a controller ownerReference; adopts orphan pods its selector
// matches and releases owned pods it no longer matches; reports replicas, fullyLabeledReplicas,
// readyReplicas, availableReplicas (ready for minReadySeconds) and observedGeneration in status.
//
// Every sync first waits until the caches hold the controller's own earlier writes (syncToLatest): that is
// what upstream's "expectations" achieve, so a sync never creates a pod twice for one missing replica.

import { decodedObject, type CachedObject } from '../../../apiserver/storage/watch-cache.js';
import type { GenericStore } from '../../../apiserver/registry/store.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import { StatusError } from '../../../apiserver/request/status.js';
import { selectorIsEmpty, selectorMatches, type Json } from '../../resources/workloads/workload-fields.js';
import { controllerContext, controllerRefOf, isActivePod, isPodReady, labelsOf, ownerReferenceTo, podAvailability, type OwnerReference, keyOf } from './controller-ref.js';
import { WorkQueue } from './work-queue.js';

/** Pods created or deleted per sync at most (upstream's burstReplicas). */
const BURST = 500;

interface ReplicaSetSpec {
  replicas?: number;
  minReadySeconds?: number;
  selector?: Json;
  template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[] }; spec?: Json };
}

/** What differs between ReplicaSets and ReplicationControllers, which the same controller runs. */
export interface ReplicatedKind {
  kind: string;
  apiVersion: string;
  controllerName: string;
  /** The spec's selector as a LabelSelector (a ReplicationController's is a plain map). */
  selectorOf(spec: Json): Json;
}

export const REPLICA_SET: ReplicatedKind = { kind: 'ReplicaSet', apiVersion: 'apps/v1', controllerName: 'replicaset-controller', selectorOf: (spec) => (spec.selector ?? {}) as Json };
export const REPLICATION_CONTROLLER: ReplicatedKind = {
  kind: 'ReplicationController',
  apiVersion: 'v1',
  controllerName: 'replication-controller',
  selectorOf: (spec) => ({ matchLabels: (spec.selector ?? {}) as Json }),
};

export class ReplicaSetController {
  private readonly queue: WorkQueue;
  private readonly watches: { stop(): void }[] = [];

  constructor(
    private readonly replicaSets: GenericStore,
    private readonly pods: GenericStore,
    private readonly replicated: ReplicatedKind = REPLICA_SET,
  ) {
    this.queue = new WorkQueue(replicated.controllerName, (key) => this.sync(key));
  }

  async start(): Promise<void> {
    await this.replicaSets.cache.start();
    await this.pods.cache.start();
    this.watches.push(
      this.replicaSets.cache.watch({ fromRevision: 0, prefix: this.replicaSets.resource.storagePrefix, filter: () => true, onEvent: (_type, object) => this.queue.add(keyOf(object)) }),
      this.pods.cache.watch({ fromRevision: 0, prefix: this.pods.resource.storagePrefix, filter: () => true, onEvent: (_type, object) => this.podChanged(object) }),
    );
  }

  stop(): void {
    for (const watch of this.watches) watch.stop();
    this.queue.stop();
  }

  private podChanged(cached: CachedObject): void {
    const pod = decodedObject<KubeObject>(cached);
    const namespace = pod.metadata.namespace ?? '';
    const reference = controllerRefOf(pod);
    if (reference) {
      if (reference.kind === this.replicated.kind) this.queue.add(`${namespace}/${reference.name}`);
      return;
    }
    // An orphan: every ReplicaSet that would adopt it.
    for (const candidate of this.replicaSets.cache.list(this.replicaSets.key(namespace, ''))) {
      const replicaSet = decodedObject<KubeObject>(candidate);
      const selector = this.replicated.selectorOf((replicaSet.spec ?? {}) as Json);
      if (!selectorIsEmpty(selector) && selectorMatches(selector, labelsOf(pod))) this.queue.add(keyOf(candidate));
    }
  }

  async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    await this.pods.cache.syncToLatest();
    await this.replicaSets.cache.syncToLatest();
    const cached = this.replicaSets.cache.get(this.replicaSets.key(namespace, name));
    if (!cached) return;
    const replicaSet = decodedObject<KubeObject>(cached);
    const spec = (replicaSet.spec ?? {}) as ReplicaSetSpec;
    const selector = this.replicated.selectorOf(spec as Json);
    const context = controllerContext(this.replicated.controllerName, namespace);
    const owned: KubeObject[] = [];
    for (const podCached of this.pods.cache.list(this.pods.key(namespace, ''))) {
      const pod = decodedObject<KubeObject>(podCached);
      const reference = controllerRefOf(pod);
      const matches = !selectorIsEmpty(selector) && selectorMatches(selector, labelsOf(pod));
      if (reference?.uid === replicaSet.metadata.uid) {
        if (matches) owned.push(pod);
        else await this.release(pod, replicaSet, context);
      } else if (!reference && matches && !pod.metadata.deletionTimestamp && !replicaSet.metadata.deletionTimestamp) {
        const adopted = await this.adopt(pod, replicaSet, context);
        if (adopted) owned.push(adopted);
      }
    }
    const active = owned.filter(isActivePod);
    if (!replicaSet.metadata.deletionTimestamp) await this.manage(replicaSet, spec, active, context);
    await this.updateStatus(replicaSet, spec, active, context, key);
  }

  private async manage(replicaSet: KubeObject, spec: ReplicaSetSpec, active: KubeObject[], context: ReturnType<typeof controllerContext>): Promise<void> {
    const wanted = spec.replicas ?? 1;
    const difference = active.length - wanted;
    if (difference < 0) {
      const template = spec.template ?? {};
      for (let index = 0; index < Math.min(-difference, BURST); index++) {
        const pod: KubeObject = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            generateName: `${replicaSet.metadata.name}-`,
            namespace: replicaSet.metadata.namespace,
            labels: { ...(template.metadata?.labels ?? {}) },
            ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
            ...(template.metadata?.finalizers ? { finalizers: [...template.metadata.finalizers] } : {}),
            ownerReferences: [ownerReferenceTo(replicaSet, this.replicated.apiVersion, this.replicated.kind)],
          },
          spec: structuredClone(template.spec ?? {}),
        };
        await this.pods.create(pod, context);
      }
    } else if (difference > 0) {
      for (const pod of deletionOrder(active).slice(0, Math.min(difference, BURST))) {
        try {
          await this.pods.delete(pod.metadata.name!, {}, context);
        } catch (error) {
          if (!(error instanceof StatusError && error.code === 404)) throw error;
        }
      }
    }
  }

  private async updateStatus(replicaSet: KubeObject, spec: ReplicaSetSpec, active: KubeObject[], context: ReturnType<typeof controllerContext>, key: string): Promise<void> {
    const now = Date.now();
    const templateLabels = spec.template?.metadata?.labels ?? {};
    let fullyLabeled = 0;
    let ready = 0;
    let available = 0;
    let recheckInMs: number | undefined;
    for (const pod of active) {
      const labels = labelsOf(pod);
      if (Object.entries(templateLabels).every(([label, value]) => labels[label] === value)) fullyLabeled++;
      if (isPodReady(pod)) ready++;
      const availability = podAvailability(pod, spec.minReadySeconds ?? 0, now);
      if (availability.available) available++;
      else if (availability.availableInMs !== undefined) recheckInMs = Math.min(recheckInMs ?? Infinity, availability.availableInMs);
    }
    if (recheckInMs !== undefined) this.queue.addAfter(key, recheckInMs + 50);
    const current = (replicaSet.status ?? {}) as Record<string, unknown>;
    // Upstream's ReplicaSetStatus: replicas always present, the other counts omitted when zero.
    const status: Record<string, unknown> = { replicas: active.length };
    if (fullyLabeled) status.fullyLabeledReplicas = fullyLabeled;
    if (ready) status.readyReplicas = ready;
    if (available) status.availableReplicas = available;
    if (replicaSet.metadata.generation !== undefined) status.observedGeneration = replicaSet.metadata.generation;
    if (Array.isArray(current.conditions)) status.conditions = current.conditions;
    if (JSON.stringify(status) === JSON.stringify(current)) return;
    try {
      await this.replicaSets.guaranteedUpdate(replicaSet.metadata.name!, context, 'status', undefined, (stored) => {
        if (!stored) throw new StatusError(404, 'NotFound', 'gone');
        return { ...stored, status };
      });
    } catch (error) {
      if (!(error instanceof StatusError && error.code === 404)) throw error;
    }
  }

  private async adopt(pod: KubeObject, replicaSet: KubeObject, context: ReturnType<typeof controllerContext>): Promise<KubeObject | undefined> {
    try {
      const result = await this.pods.guaranteedUpdate(pod.metadata.name!, context, '', undefined, (current) => {
        if (!current) throw new StatusError(404, 'NotFound', 'gone');
        if (controllerRefOf(current)) throw new StatusError(409, 'Conflict', 'already controlled');
        const references = [...((current.metadata.ownerReferences ?? []) as OwnerReference[]), ownerReferenceTo(replicaSet, this.replicated.apiVersion, this.replicated.kind)];
        return { ...current, metadata: { ...current.metadata, ownerReferences: references } };
      });
      return result.object;
    } catch (error) {
      if (error instanceof StatusError && (error.code === 404 || error.code === 409 || error.code === 422)) return undefined;
      throw error;
    }
  }

  private async release(pod: KubeObject, replicaSet: KubeObject, context: ReturnType<typeof controllerContext>): Promise<void> {
    try {
      await this.pods.guaranteedUpdate(pod.metadata.name!, context, '', undefined, (current) => {
        if (!current) throw new StatusError(404, 'NotFound', 'gone');
        const references = ((current.metadata.ownerReferences ?? []) as OwnerReference[]).filter((reference) => reference.uid !== replicaSet.metadata.uid);
        const { ownerReferences: _released, ...metadata } = current.metadata;
        return { ...current, metadata: references.length ? { ...metadata, ownerReferences: references } : metadata };
      });
    } catch (error) {
      if (!(error instanceof StatusError && error.code === 404)) throw error;
    }
  }
}


/** Which pods go first when scaling down (upstream's ActivePods ordering): unscheduled, pending, not ready, newest. */
function deletionOrder(pods: KubeObject[]): KubeObject[] {
  const rank = (pod: KubeObject): number[] => {
    const spec = (pod.spec ?? {}) as { nodeName?: string };
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    return [spec.nodeName ? 1 : 0, phase === 'Pending' ? 0 : phase === 'Unknown' ? 1 : 2, isPodReady(pod) ? 1 : 0];
  };
  return [...pods].sort((left, right) => {
    const a = rank(left);
    const b = rank(right);
    for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return a[index] - b[index];
    return Date.parse(right.metadata.creationTimestamp ?? '') - Date.parse(left.metadata.creationTimestamp ?? '');
  });
}
