// The StatefulSet controller (kube-controller-manager's): pods with stable names <set>-<ordinal> (from
// spec.ordinals.start), hostname and subdomain, a PersistentVolumeClaim <claim>-<pod> per
// volumeClaimTemplate created before the pod; OrderedReady creates in order waiting for each pod to be
// ready and removes from the highest ordinal, Parallel does both at once. Templates are versioned in
// ControllerRevisions; pods carry the revision's name in controller-revision-hash. RollingUpdate replaces
// pods from the highest ordinal down to the partition, one at a time, each once the others are ready;
// OnDelete waits for users. Status (currentRevision, updateRevision, replica counts) is what
// `kubectl rollout status|history|undo sts` reads.

import { decodedObject } from '../../../apiserver/storage/watch-cache.js';
import type { GenericStore } from '../../../apiserver/registry/store.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import { StatusError } from '../../../apiserver/request/status.js';
import type { Json } from '../../resources/workloads/workload-fields.js';
import { controllerContext, controllerRefOf, isPodReady, ownerReferenceTo, podAvailability, keyOf, watchControlledPods, writeStatus } from './controller-ref.js';
import { HashCollision, REVISION_HASH_LABEL, syncHistory, truncateHistory } from './controller-history.js';
import { WorkQueue } from './work-queue.js';

export interface StatefulSetStores {
  statefulSets: GenericStore;
  pods: GenericStore;
  claims: GenericStore;
  revisions: GenericStore;
}

interface StatefulSetSpec {
  replicas?: number;
  serviceName?: string;
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  podManagementPolicy?: string;
  ordinals?: { start?: number };
  template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Json & { volumes?: Json[] } };
  volumeClaimTemplates?: (Json & { metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Json })[];
  updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
}

export class StatefulSetController {
  private readonly queue = new WorkQueue('statefulset-controller', (key) => this.sync(key));
  private readonly watches: { stop(): void }[] = [];

  constructor(private readonly stores: StatefulSetStores) {}

  async start(): Promise<void> {
    const { statefulSets, pods } = this.stores;
    for (const store of Object.values(this.stores)) await store.cache.start();
    this.watches.push(
      statefulSets.cache.watch({ fromRevision: 0, prefix: statefulSets.resource.storagePrefix, filter: () => true, onEvent: (_type, object) => this.queue.add(keyOf(object)) }),
      watchControlledPods(pods, 'StatefulSet', (key) => this.queue.add(key)),
    );
  }

  stop(): void {
    for (const watch of this.watches) watch.stop();
    this.queue.stop();
  }

  async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const { statefulSets, pods, revisions } = this.stores;
    for (const store of Object.values(this.stores)) await store.cache.syncToLatest();
    const cached = statefulSets.cache.get(statefulSets.key(namespace, name));
    if (!cached) return;
    const set = decodedObject<KubeObject>(cached);
    if (set.metadata.deletionTimestamp) return;
    const spec = (set.spec ?? {}) as StatefulSetSpec;
    const context = controllerContext('statefulset-controller', namespace);
    const current = (set.status ?? {}) as Json & { collisionCount?: number; currentRevision?: string };
    let history;
    try {
      history = await syncHistory(revisions, set, 'StatefulSet', current.collisionCount ?? 0, context);
    } catch (error) {
      if (!(error instanceof HashCollision)) throw error;
      await writeStatus(this.stores.statefulSets, set, { ...current, collisionCount: (current.collisionCount ?? 0) + 1 }, context);
      return;
    }
    const updateRevision = history.current.metadata.name!;
    const currentRevision = current.currentRevision && history.revisions.some((revision) => revision.metadata.name === current.currentRevision) ? current.currentRevision : updateRevision;

    const replicas = spec.replicas ?? 1;
    const start = spec.ordinals?.start ?? 0;
    const parallel = spec.podManagementPolicy === 'Parallel';
    const now = Date.now();
    const minReadySeconds = spec.minReadySeconds ?? 0;
    const owned = new Map<number, KubeObject>();
    for (const item of pods.cache.list(pods.key(namespace, ''))) {
      const pod = decodedObject<KubeObject>(item);
      if (controllerRefOf(pod)?.uid !== set.metadata.uid) continue;
      const ordinal = ordinalOf(set.metadata.name!, pod.metadata.name!);
      if (ordinal !== undefined) owned.set(ordinal, pod);
    }
    const healthy = (pod: KubeObject | undefined) => pod !== undefined && !pod.metadata.deletionTimestamp && isPodReady(pod);
    const wantedOrdinals = Array.from({ length: replicas }, (_, index) => start + index);

    // Create missing pods (in order; OrderedReady stops at the first pod that is not ready yet).
    let blocked = false;
    for (const ordinal of wantedOrdinals) {
      const pod = owned.get(ordinal);
      if (!pod) {
        if (blocked) break;
        const revisionName = ordinal < start + partitionOf(spec, replicas) ? currentRevision : updateRevision;
        const revision = history.revisions.find((item) => item.metadata.name === revisionName) ?? history.current;
        await this.createClaims(set, spec, ordinal, context);
        await pods.create(this.podFor(set, spec, ordinal, revision), context);
        if (!parallel) blocked = true;
        continue;
      }
      // A failed pod is replaced (deleted now, recreated by the next sync).
      if ((pod.status as { phase?: string } | undefined)?.phase === 'Failed' && !pod.metadata.deletionTimestamp) {
        await this.deletePod(pod, context);
        blocked = true;
        continue;
      }
      if (!parallel && !healthy(pod)) blocked = true;
    }
    // Remove pods beyond the wanted ordinals, highest first (OrderedReady: one at a time, all others healthy).
    const surplus = [...owned.keys()].filter((ordinal) => !wantedOrdinals.includes(ordinal)).sort((left, right) => right - left);
    for (const ordinal of surplus) {
      const pod = owned.get(ordinal)!;
      if (pod.metadata.deletionTimestamp) {
        if (!parallel) break;
        continue;
      }
      if (!parallel && (blocked || wantedOrdinals.some((wanted) => !healthy(owned.get(wanted))))) break;
      await this.deletePod(pod, context);
      if (!parallel) break;
    }
    // RollingUpdate: replace the highest out-of-date pod at or above the partition once every pod is ready.
    if ((spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && !blocked) {
      const partition = start + partitionOf(spec, replicas);
      const everyoneHealthy = wantedOrdinals.every((ordinal) => healthy(owned.get(ordinal)));
      for (const ordinal of [...wantedOrdinals].reverse()) {
        if (ordinal < partition) break;
        const pod = owned.get(ordinal);
        if (!pod || pod.metadata.labels?.[REVISION_HASH_LABEL] === updateRevision) continue;
        if (pod.metadata.deletionTimestamp || !everyoneHealthy) break;
        await this.deletePod(pod, context);
        break;
      }
    }

    // Status from the pods as they were at the start of this sync (the next sync sees this one's writes).
    let ready = 0;
    let available = 0;
    let currentCount = 0;
    let updated = 0;
    let recheckInMs: number | undefined;
    for (const pod of owned.values()) {
      if (pod.metadata.deletionTimestamp) continue;
      if (isPodReady(pod)) ready++;
      const availability = podAvailability(pod, minReadySeconds, now);
      if (availability.available) available++;
      else if (availability.availableInMs !== undefined) recheckInMs = Math.min(recheckInMs ?? Infinity, availability.availableInMs);
      const podRevision = pod.metadata.labels?.[REVISION_HASH_LABEL];
      if (podRevision === currentRevision) currentCount++;
      if (podRevision === updateRevision) updated++;
    }
    if (recheckInMs !== undefined) this.queue.addAfter(key, recheckInMs + 50);
    const live = [...owned.values()].filter((pod) => !pod.metadata.deletionTimestamp).length;
    // Once every pod runs the update revision, it becomes the current one.
    const rolledOut = updated === replicas && live === replicas;
    const status: Json = {
      observedGeneration: set.metadata.generation,
      replicas: live,
      ...(ready ? { readyReplicas: ready } : {}),
      ...(rolledOut ? { currentReplicas: updated } : currentCount ? { currentReplicas: currentCount } : {}),
      ...(updated ? { updatedReplicas: updated } : {}),
      currentRevision: rolledOut ? updateRevision : currentRevision,
      updateRevision,
      collisionCount: current.collisionCount ?? 0,
      availableReplicas: available,
    };
    await writeStatus(this.stores.statefulSets, set, status, context);
    const liveRevisions = new Set([...owned.values()].map((pod) => pod.metadata.labels?.[REVISION_HASH_LABEL] ?? ''));
    liveRevisions.add(currentRevision);
    await truncateHistory(revisions, history, (revision) => liveRevisions.has(revision.metadata.name!), spec.revisionHistoryLimit ?? 10, context);
  }

  private podFor(set: KubeObject, spec: StatefulSetSpec, ordinal: number, revision: KubeObject): KubeObject {
    // The pod is built from the revision's template, so pods below the partition keep the old one.
    const template = (((revision as { data?: { spec?: { template?: Json } } }).data?.spec?.template) ?? spec.template ?? {}) as NonNullable<StatefulSetSpec['template']> & { $patch?: string };
    const { $patch: _directive, ...cleanTemplate } = template;
    const podName = `${set.metadata.name}-${ordinal}`;
    const podSpec = structuredClone(cleanTemplate.spec ?? {}) as Json & { volumes?: Json[] };
    podSpec.hostname = podName;
    if (spec.serviceName) podSpec.subdomain = spec.serviceName;
    const claimVolumes = (spec.volumeClaimTemplates ?? []).map((claim) => ({ name: claim.metadata?.name, persistentVolumeClaim: { claimName: `${claim.metadata?.name}-${podName}` } }));
    if (claimVolumes.length) podSpec.volumes = [...(podSpec.volumes ?? []).filter((volume) => !claimVolumes.some((claim) => claim.name === volume.name)), ...claimVolumes];
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: podName,
        namespace: set.metadata.namespace,
        labels: {
          ...(cleanTemplate.metadata?.labels ?? {}),
          [REVISION_HASH_LABEL]: revision.metadata.name!,
          'statefulset.kubernetes.io/pod-name': podName,
          'apps.kubernetes.io/pod-index': String(ordinal),
        },
        ...(cleanTemplate.metadata?.annotations ? { annotations: { ...cleanTemplate.metadata.annotations } } : {}),
        ownerReferences: [ownerReferenceTo(set, 'apps/v1', 'StatefulSet')],
      },
      spec: podSpec,
    };
  }

  /** A claim per volumeClaimTemplate, kept when the pod goes (upstream's default retention). */
  private async createClaims(set: KubeObject, spec: StatefulSetSpec, ordinal: number, context: ReturnType<typeof controllerContext>): Promise<void> {
    const { claims } = this.stores;
    const podName = `${set.metadata.name}-${ordinal}`;
    for (const template of spec.volumeClaimTemplates ?? []) {
      const name = `${template.metadata?.name}-${podName}`;
      if (claims.cache.get(claims.key(set.metadata.namespace ?? '', name))) continue;
      const selectorLabels = ((set.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector?.matchLabels) ?? {};
      try {
        await claims.create({
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name, namespace: set.metadata.namespace, labels: { ...(template.metadata?.labels ?? {}), ...selectorLabels }, ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}) },
          spec: structuredClone(template.spec ?? {}),
        }, context);
      } catch (error) {
        if (!(error instanceof StatusError && error.code === 409)) throw error;
      }
    }
  }

  private async deletePod(pod: KubeObject, context: ReturnType<typeof controllerContext>): Promise<void> {
    try {
      await this.stores.pods.delete(pod.metadata.name!, {}, context);
    } catch (error) {
      if (!(error instanceof StatusError && error.code === 404)) throw error;
    }
  }

}


function ordinalOf(setName: string, podName: string): number | undefined {
  if (!podName.startsWith(`${setName}-`)) return undefined;
  const suffix = podName.slice(setName.length + 1);
  return /^(0|[1-9]\d*)$/.test(suffix) ? Number(suffix) : undefined;
}

function partitionOf(spec: StatefulSetSpec, replicas: number): number {
  if ((spec.updateStrategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return 0;
  return Math.min(Math.max(0, spec.updateStrategy?.rollingUpdate?.partition ?? 0), replicas);
}

