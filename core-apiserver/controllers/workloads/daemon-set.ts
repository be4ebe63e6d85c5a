// The DaemonSet controller (kube-controller-manager's): one pod on every node the DaemonSet should run on
// (its template's nodeSelector and required node affinity match, the node's NoSchedule/NoExecute taints are
// tolerated — with the tolerations upstream adds to every daemon pod), placed through required node
// affinity on the node's name so the scheduler binds it there; pods on nodes that should not run one, or
// duplicates, are deleted. Templates are versioned in ControllerRevisions (`kubectl rollout history|undo
// ds`); RollingUpdate replaces old pods while at most maxUnavailable nodes lack an available pod, OnDelete
// waits for users to delete them. Status holds the counts `kubectl rollout status ds` waits on.

import { decodedObject } from '../../../apiserver/storage/watch-cache.js';
import type { GenericStore } from '../../../apiserver/registry/store.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import { StatusError } from '../../../apiserver/request/status.js';
import { selectorMatches, type Json } from '../../resources/workloads/workload-fields.js';
import { nodeAffinityAdmits } from '../../../node-agent/node-affinity.js';
import { tolerates } from '../../../node-agent/scheduler.js';
import { controllerContext, controllerRefOf, isActivePod, isPodReady, labelsOf, ownerReferenceTo, podAvailability, keyOf, watchControlledPods, writeStatus } from './controller-ref.js';
import { HashCollision, REVISION_HASH_LABEL, syncHistory, truncateHistory } from './controller-history.js';
import { WorkQueue } from './work-queue.js';

export interface DaemonSetStores {
  daemonSets: GenericStore;
  pods: GenericStore;
  nodes: GenericStore;
  revisions: GenericStore;
}

interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

interface DaemonSetSpec {
  selector?: Json;
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Json & { tolerations?: Toleration[]; nodeSelector?: Record<string, string>; hostNetwork?: boolean } };
  updateStrategy?: { type?: string; rollingUpdate?: { maxUnavailable?: number | string } };
}

/** Tolerations every daemon pod gets (upstream's AddOrUpdateDaemonPodTolerations). */
function daemonTolerations(hostNetwork: boolean): Toleration[] {
  const exists = (key: string, effect: string): Toleration => ({ key, operator: 'Exists', effect });
  return [
    exists('node.kubernetes.io/not-ready', 'NoExecute'),
    exists('node.kubernetes.io/unreachable', 'NoExecute'),
    exists('node.kubernetes.io/disk-pressure', 'NoSchedule'),
    exists('node.kubernetes.io/memory-pressure', 'NoSchedule'),
    exists('node.kubernetes.io/pid-pressure', 'NoSchedule'),
    exists('node.kubernetes.io/unschedulable', 'NoSchedule'),
    ...(hostNetwork ? [exists('node.kubernetes.io/network-unavailable', 'NoSchedule')] : []),
  ];
}

function withTolerations(existing: Toleration[], added: Toleration[]): Toleration[] {
  const same = (left: Toleration, right: Toleration) => left.key === right.key && left.effect === right.effect && (left.operator ?? 'Equal') === (right.operator ?? 'Equal') && left.value === right.value;
  return [...existing, ...added.filter((toleration) => !existing.some((item) => same(item, toleration)))];
}

/** The node a daemon pod is for: its nodeName, or the name its required node affinity pins. */
function nodeOfPod(pod: KubeObject): string | undefined {
  const spec = (pod.spec ?? {}) as { nodeName?: string; affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: { matchFields?: { key: string; operator: string; values?: string[] }[] }[] } } } };
  if (spec.nodeName) return spec.nodeName;
  for (const term of spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    const field = term.matchFields?.find((item) => item.key === 'metadata.name' && item.operator === 'In' && item.values?.length === 1);
    if (field) return field.values![0];
  }
  return undefined;
}

export class DaemonSetController {
  private readonly queue = new WorkQueue('daemonset-controller', (key) => this.sync(key));
  private readonly watches: { stop(): void }[] = [];

  constructor(private readonly stores: DaemonSetStores) {}

  async start(): Promise<void> {
    const { daemonSets, pods, nodes } = this.stores;
    for (const store of Object.values(this.stores)) await store.cache.start();
    this.watches.push(
      daemonSets.cache.watch({ fromRevision: 0, prefix: daemonSets.resource.storagePrefix, filter: () => true, onEvent: (_type, object) => this.queue.add(keyOf(object)) }),
      watchControlledPods(pods, 'DaemonSet', (key) => this.queue.add(key)),
      // A node that comes, goes or changes labels or taints may need a daemon pod or lose one.
      nodes.cache.watch({ fromRevision: 0, prefix: nodes.resource.storagePrefix, filter: () => true, onEvent: () => this.enqueueAll() }),
    );
  }

  stop(): void {
    for (const watch of this.watches) watch.stop();
    this.queue.stop();
  }

  private enqueueAll(): void {
    for (const cached of this.stores.daemonSets.cache.list(this.stores.daemonSets.resource.storagePrefix)) this.queue.add(keyOf(cached));
  }

  async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const { daemonSets, pods, nodes, revisions } = this.stores;
    for (const store of Object.values(this.stores)) await store.cache.syncToLatest();
    const cached = daemonSets.cache.get(daemonSets.key(namespace, name));
    if (!cached) return;
    const daemonSet = decodedObject<KubeObject>(cached);
    if (daemonSet.metadata.deletionTimestamp) return;
    const spec = (daemonSet.spec ?? {}) as DaemonSetSpec;
    const context = controllerContext('daemon-set-controller', namespace);
    const collisionCount = ((daemonSet.status as { collisionCount?: number } | undefined)?.collisionCount ?? 0);
    let history;
    try {
      history = await syncHistory(revisions, daemonSet, 'DaemonSet', collisionCount, context);
    } catch (error) {
      if (!(error instanceof HashCollision)) throw error;
      await writeStatus(this.stores.daemonSets, daemonSet, { ...((daemonSet.status ?? {}) as Json), collisionCount: collisionCount + 1 }, context);
      return;
    }
    const hash = history.hash;
    const owned = pods.cache
      .list(pods.key(namespace, ''))
      .map((item) => decodedObject<KubeObject>(item))
      .filter((pod) => controllerRefOf(pod)?.uid === daemonSet.metadata.uid && isActivePod(pod) && selectorMatches(spec.selector ?? {}, labelsOf(pod)));
    const byNode = new Map<string, KubeObject[]>();
    for (const pod of owned) {
      const node = nodeOfPod(pod) ?? '';
      byNode.set(node, [...(byNode.get(node) ?? []), pod]);
    }
    const allNodes = nodes.cache.list(nodes.resource.storagePrefix).map((item) => decodedObject<KubeObject>(item));
    const eligible = new Set(allNodes.filter((node) => this.shouldRun(spec, node)).map((node) => node.metadata.name!));
    const now = Date.now();
    const minReadySeconds = spec.minReadySeconds ?? 0;
    const available = (pod: KubeObject) => podAvailability(pod, minReadySeconds, now).available;

    const toCreate: string[] = [];
    const toDelete: KubeObject[] = [];
    for (const nodeName of eligible) {
      const onNode = (byNode.get(nodeName) ?? []).sort((left, right) => Date.parse(left.metadata.creationTimestamp ?? '') - Date.parse(right.metadata.creationTimestamp ?? ''));
      if (onNode.length === 0) toCreate.push(nodeName);
      else toDelete.push(...onNode.slice(1)); // one daemon pod per node: the oldest stays
    }
    for (const [nodeName, onNode] of byNode) if (!eligible.has(nodeName)) toDelete.push(...onNode);

    // RollingUpdate: replace old pods while at most maxUnavailable eligible nodes lack an available pod.
    if ((spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
      const maxUnavailable = scaledUp(spec.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1, eligible.size);
      let unavailable = [...eligible].filter((nodeName) => !(byNode.get(nodeName) ?? []).some(available)).length;
      for (const nodeName of eligible) {
        const pod = (byNode.get(nodeName) ?? [])[0];
        if (!pod || pod.metadata.labels?.[REVISION_HASH_LABEL] === hash || toDelete.includes(pod)) continue;
        if (!available(pod)) toDelete.push(pod);
        else if (unavailable < maxUnavailable) {
          toDelete.push(pod);
          unavailable++;
        }
      }
    }

    for (const nodeName of toCreate) await pods.create(this.podFor(daemonSet, spec, nodeName, hash), context);
    for (const pod of toDelete) {
      try {
        await pods.delete(pod.metadata.name!, {}, context);
      } catch (error) {
        if (!(error instanceof StatusError && error.code === 404)) throw error;
      }
    }

    let current = 0;
    let ready = 0;
    let updated = 0;
    let availableCount = 0;
    let recheckInMs: number | undefined;
    for (const nodeName of eligible) {
      const onNode = byNode.get(nodeName) ?? [];
      if (onNode.length === 0) continue;
      current++;
      const pod = onNode[0];
      if (isPodReady(pod)) ready++;
      const availability = podAvailability(pod, minReadySeconds, now);
      if (availability.available) availableCount++;
      else if (availability.availableInMs !== undefined) recheckInMs = Math.min(recheckInMs ?? Infinity, availability.availableInMs);
      if (pod.metadata.labels?.[REVISION_HASH_LABEL] === hash) updated++;
    }
    if (recheckInMs !== undefined) this.queue.addAfter(key, recheckInMs + 50);
    const misscheduled = [...byNode.keys()].filter((nodeName) => !eligible.has(nodeName)).length;
    const status: Json = {
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      desiredNumberScheduled: eligible.size,
      numberReady: ready,
    };
    if (daemonSet.metadata.generation !== undefined) status.observedGeneration = daemonSet.metadata.generation;
    if (updated) status.updatedNumberScheduled = updated;
    if (availableCount) status.numberAvailable = availableCount;
    if (eligible.size - availableCount > 0) status.numberUnavailable = eligible.size - availableCount;
    if (collisionCount) status.collisionCount = collisionCount;
    await writeStatus(this.stores.daemonSets, daemonSet, status, context);

    const liveHashes = new Set(owned.map((pod) => pod.metadata.labels?.[REVISION_HASH_LABEL] ?? ''));
    await truncateHistory(revisions, history, (revision) => liveHashes.has(revision.metadata.labels?.[REVISION_HASH_LABEL] ?? ''), spec.revisionHistoryLimit ?? 10, context);
  }

  private shouldRun(spec: DaemonSetSpec, node: KubeObject): boolean {
    const template = spec.template?.spec ?? {};
    const labels = node.metadata.labels ?? {};
    if (Object.entries(template.nodeSelector ?? {}).some(([label, value]) => labels[label] !== value)) return false;
    if (!nodeAffinityAdmits({ metadata: {}, spec: template } as KubeObject, node)) return false;
    const tolerations = withTolerations(template.tolerations ?? [], daemonTolerations(template.hostNetwork === true));
    const taints = ((node.spec as { taints?: { key: string; value?: string; effect: string }[] } | undefined)?.taints ?? []);
    return taints.every((taint) => (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') || tolerates(tolerations, taint));
  }

  private podFor(daemonSet: KubeObject, spec: DaemonSetSpec, nodeName: string, hash: string): KubeObject {
    const template = spec.template ?? {};
    const podSpec = structuredClone(template.spec ?? {}) as Json & { tolerations?: Toleration[]; affinity?: Json; hostNetwork?: boolean };
    podSpec.tolerations = withTolerations(podSpec.tolerations ?? [], daemonTolerations(podSpec.hostNetwork === true));
    // Pin the pod to its node through required node affinity (upstream's ReplaceDaemonSetPodNodeNameNodeAffinity).
    const affinity = (podSpec.affinity ?? {}) as { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: Json[] } } & Json };
    const pin = { key: 'metadata.name', operator: 'In', values: [nodeName] };
    const terms = affinity.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
    const pinned = terms.length
      ? terms.map((term) => ({ ...term, matchFields: [...(((term.matchFields as { key: string }[] | undefined) ?? []).filter((field) => field.key !== 'metadata.name')), pin] }))
      : [{ matchFields: [pin] }];
    podSpec.affinity = { ...affinity, nodeAffinity: { ...(affinity.nodeAffinity ?? {}), requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: pinned } } };
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${daemonSet.metadata.name}-`,
        namespace: daemonSet.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}), [REVISION_HASH_LABEL]: hash, 'pod-template-generation': String(daemonSet.metadata.generation ?? 1) },
        ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
        ownerReferences: [ownerReferenceTo(daemonSet, 'apps/v1', 'DaemonSet')],
      },
      spec: podSpec,
    };
  }

}


function scaledUp(value: number | string, total: number): number {
  if (typeof value === 'number') return value;
  const percent = /^(\d+)%$/.exec(value);
  if (!percent) return Number(value) || 0;
  return Math.ceil((Number(percent[1]) * total) / 100);
}
