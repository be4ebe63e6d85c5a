// The disruption controller (kube-controller-manager's): keeps each PodDisruptionBudget's status —
// expectedPods, currentHealthy, desiredHealthy, disruptionsAllowed, observedGeneration, the DisruptionAllowed
// condition and the disruptedPods the eviction API records — so that evictions (`kubectl drain`) are
// allowed exactly while enough pods stay healthy.
//
// As upstream: an integer minAvailable counts the selected pods; maxUnavailable or a percentage needs the
// scale of the pods' controllers (a Deployment through its ReplicaSet, a ReplicaSet, StatefulSet or
// ReplicationController), and a pod whose controller has no known scale makes the budget fail to sync
// (disruptionsAllowed 0, condition reason SyncFailed). A pod evicted in the last two minutes is not
// counted healthy, unless it is already gone or being deleted.

import { decodedObject, type CachedObject } from '../../../apiserver/storage/watch-cache.js';
import type { GenericStore } from '../../../apiserver/registry/store.js';
import { nowTimestamp, type KubeObject } from '../../../apiserver/registry/object.js';
import { StatusError } from '../../../apiserver/request/status.js';
import { selectorMatches, type Json } from '../../resources/workloads/workload-fields.js';
import { controllerContext, controllerRefOf, isPodReady, labelsOf, keyOf } from './controller-ref.js';
import { WorkQueue } from './work-queue.js';

/** How long an eviction keeps a pod out of currentHealthy while its deletion is pending (upstream's DeletionTimeout). */
const DELETION_TIMEOUT_MS = 2 * 60 * 1000;

export interface DisruptionStores {
  podDisruptionBudgets: GenericStore;
  pods: GenericStore;
  replicaSets: GenericStore;
  deployments: GenericStore;
  statefulSets: GenericStore;
  replicationControllers: GenericStore;
}

interface BudgetSpec {
  selector?: Json;
  minAvailable?: number | string;
  maxUnavailable?: number | string;
}

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

export class DisruptionController {
  private readonly queue = new WorkQueue('disruption-controller', (key) => this.sync(key));
  private readonly watches: { stop(): void }[] = [];

  constructor(private readonly stores: DisruptionStores) {}

  async start(): Promise<void> {
    const { podDisruptionBudgets, pods } = this.stores;
    for (const store of Object.values(this.stores)) await store.cache.start();
    this.watches.push(
      podDisruptionBudgets.cache.watch({ fromRevision: 0, prefix: podDisruptionBudgets.resource.storagePrefix, filter: () => true, onEvent: (_type, object) => this.queue.add(keyOf(object)) }),
      pods.cache.watch({ fromRevision: 0, prefix: pods.resource.storagePrefix, filter: () => true, onEvent: (_type, object) => this.podChanged(object) }),
    );
  }

  stop(): void {
    for (const watch of this.watches) watch.stop();
    this.queue.stop();
  }

  private podChanged(cached: CachedObject): void {
    const pod = decodedObject<KubeObject>(cached);
    const { podDisruptionBudgets } = this.stores;
    for (const candidate of podDisruptionBudgets.cache.list(podDisruptionBudgets.key(pod.metadata.namespace ?? '', ''))) {
      const selector = (decodedObject<KubeObject>(candidate).spec as BudgetSpec | undefined)?.selector;
      if (selector && selectorMatches(selector, labelsOf(pod))) this.queue.add(keyOf(candidate));
    }
  }

  async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const { podDisruptionBudgets, pods } = this.stores;
    await pods.cache.syncToLatest();
    await podDisruptionBudgets.cache.syncToLatest();
    const cached = podDisruptionBudgets.cache.get(podDisruptionBudgets.key(namespace, name));
    if (!cached) return;
    const budget = decodedObject<KubeObject>(cached);
    if (budget.metadata.deletionTimestamp) return;
    const spec = (budget.spec ?? {}) as BudgetSpec;
    const selected = spec.selector
      ? pods.cache.list(pods.key(namespace, '')).map((item) => decodedObject<KubeObject>(item)).filter((pod) => selectorMatches(spec.selector!, labelsOf(pod)))
      : [];
    const current = (budget.status ?? {}) as Json & { disruptedPods?: Record<string, string>; conditions?: Condition[] };
    const now = Date.now();
    // Evictions the controller has not yet seen carried out: still pending for a while, then forgotten.
    const disruptedPods: Record<string, string> = {};
    let recheckInMs: number | undefined;
    for (const [podName, at] of Object.entries(current.disruptedPods ?? {})) {
      const pod = selected.find((item) => item.metadata.name === podName);
      if (!pod || pod.metadata.deletionTimestamp) continue;
      const expires = Date.parse(at) + DELETION_TIMEOUT_MS;
      if (Number.isNaN(expires) || expires <= now) continue;
      disruptedPods[podName] = at;
      recheckInMs = Math.min(recheckInMs ?? Infinity, expires - now);
    }
    if (recheckInMs !== undefined) this.queue.addAfter(key, recheckInMs + 50);

    let expected: number;
    let desired: number;
    let failure: string | undefined;
    try {
      ({ expected, desired } = this.expectations(spec, selected, namespace));
    } catch (error) {
      failure = (error as Error).message;
      expected = 0;
      desired = 0;
    }
    const healthy = selected.filter((pod) => !pod.metadata.deletionTimestamp && isPodReady(pod) && !(pod.metadata.name! in disruptedPods)).length;
    const allowed = failure ? 0 : Math.max(0, healthy - desired);
    const status: Json = {};
    if (budget.metadata.generation !== undefined) status.observedGeneration = budget.metadata.generation;
    if (Object.keys(disruptedPods).length) status.disruptedPods = disruptedPods;
    status.disruptionsAllowed = allowed;
    status.currentHealthy = failure ? 0 : healthy;
    status.desiredHealthy = desired;
    status.expectedPods = expected;
    const wanted: Condition = failure
      ? { type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: failure }
      : allowed > 0
        ? { type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '' }
        : { type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '' };
    const previous = (current.conditions ?? []).find((condition) => condition.type === 'DisruptionAllowed');
    const condition: Condition = {
      ...wanted,
      observedGeneration: budget.metadata.generation,
      lastTransitionTime: previous && previous.status === wanted.status ? (previous.lastTransitionTime ?? nowTimestamp()) : nowTimestamp(),
    };
    status.conditions = [...(current.conditions ?? []).filter((item) => item.type !== 'DisruptionAllowed'), condition];
    if (JSON.stringify(status) === JSON.stringify(current)) return;
    try {
      await podDisruptionBudgets.guaranteedUpdate(name, controllerContext('disruption-controller', namespace), 'status', undefined, (stored) => {
        if (!stored) throw new StatusError(404, 'NotFound', 'gone');
        return { ...stored, status };
      });
    } catch (error) {
      if (!(error instanceof StatusError && error.code === 404)) throw error;
    }
  }

  /** expectedPods and desiredHealthy, as upstream's getExpectedPodCount. */
  private expectations(spec: BudgetSpec, pods: KubeObject[], namespace: string): { expected: number; desired: number } {
    if (spec.maxUnavailable !== undefined) {
      const expected = this.expectedScale(pods, namespace);
      const maxUnavailable = scaled(spec.maxUnavailable, expected, true);
      return { expected, desired: Math.max(0, expected - maxUnavailable) };
    }
    if (spec.minAvailable !== undefined) {
      if (typeof spec.minAvailable === 'number' || /^\d+$/.test(spec.minAvailable)) return { expected: pods.length, desired: Number(spec.minAvailable) };
      const expected = this.expectedScale(pods, namespace);
      return { expected, desired: scaled(spec.minAvailable, expected, true) };
    }
    return { expected: pods.length, desired: 0 };
  }

  /** The summed scale of the pods' distinct controllers. */
  private expectedScale(pods: KubeObject[], namespace: string): number {
    const scales = new Map<string, number>();
    for (const pod of pods) {
      const reference = controllerRefOf(pod);
      if (!reference) throw new Error(`found no controller ref for pod "${pod.metadata.name}"`);
      const owner = this.topController(reference.kind, reference.name, reference.uid, namespace);
      if (!owner) throw new Error(`found no controllers for pod "${pod.metadata.name}"`);
      scales.set(owner.uid, owner.replicas);
    }
    return [...scales.values()].reduce((sum, value) => sum + value, 0);
  }

  private topController(kind: string, name: string, uid: string, namespace: string): { uid: string; replicas: number } | undefined {
    const store = { ReplicaSet: this.stores.replicaSets, Deployment: this.stores.deployments, StatefulSet: this.stores.statefulSets, ReplicationController: this.stores.replicationControllers }[kind];
    if (!store) return undefined;
    const cached = store.cache.get(store.key(namespace, name));
    if (!cached) return undefined;
    const object = decodedObject<KubeObject>(cached);
    if (object.metadata.uid !== uid) return undefined;
    if (kind === 'ReplicaSet') {
      const parent = controllerRefOf(object);
      if (parent?.kind === 'Deployment') return this.topController('Deployment', parent.name, parent.uid, namespace) ?? undefined;
    }
    return { uid, replicas: (object.spec as { replicas?: number } | undefined)?.replicas ?? 1 };
  }
}


/** An int-or-percent of `total`, rounded up as upstream's GetScaledValueFromIntOrPercent(..., true). */
function scaled(value: number | string, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const percent = /^(\d+)%$/.exec(value);
  if (!percent) return Number(value) || 0;
  const exact = (Number(percent[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}
