// The Deployment controller (kube-controller-manager's): one ReplicaSet per pod template, named
// <deployment>-<pod-template-hash>, rolled out by the Recreate or RollingUpdate strategy (maxSurge rounded
// up, maxUnavailable down, as upstream), with revision annotations that `kubectl rollout history|undo`
// read, old ReplicaSets kept up to revisionHistoryLimit, and the status `kubectl rollout status` waits on:
// observedGeneration, replicas, updatedReplicas, readyReplicas, availableReplicas, unavailableReplicas and
// the Available and Progressing conditions with upstream's reasons and messages.

import { decodedObject, type CachedObject } from '../../../apiserver/storage/watch-cache.js';
import type { GenericStore } from '../../../apiserver/registry/store.js';
import { nowTimestamp, type KubeObject } from '../../../apiserver/registry/object.js';
import { StatusError } from '../../../apiserver/request/status.js';
import { selectorMatches, type Json } from '../../resources/workloads/workload-fields.js';
import { controllerContext, controllerRefOf, labelsOf, ownerReferenceTo, type OwnerReference, keyOf } from './controller-ref.js';
import { podTemplateHash, templatesEqualIgnoringHash, HASH_LABEL } from './pod-template-hash.js';
import { WorkQueue } from './work-queue.js';

const REVISION = 'deployment.kubernetes.io/revision';
const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
/** Deployment annotations that are not copied to its ReplicaSets (upstream's skipCopyAnnotation). */
const NOT_COPIED = new Set(['kubectl.kubernetes.io/last-applied-configuration', REVISION, 'deployment.kubernetes.io/revision-history', DESIRED_REPLICAS, MAX_REPLICAS]);

interface DeploymentSpec {
  replicas?: number;
  selector?: Json;
  template?: Json & { metadata?: { labels?: Record<string, string> } };
  strategy?: { type?: string; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } };
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  paused?: boolean;
}

interface ReplicaSetCounts {
  replicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
}

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

export class DeploymentController {
  private readonly queue = new WorkQueue('deployment-controller', (key) => this.sync(key));
  private readonly watches: { stop(): void }[] = [];

  constructor(
    private readonly deployments: GenericStore,
    private readonly replicaSets: GenericStore,
  ) {}

  async start(): Promise<void> {
    await this.deployments.cache.start();
    await this.replicaSets.cache.start();
    this.watches.push(
      this.deployments.cache.watch({ fromRevision: 0, prefix: this.deployments.resource.storagePrefix, filter: () => true, onEvent: (_type, object) => this.queue.add(keyOf(object)) }),
      this.replicaSets.cache.watch({ fromRevision: 0, prefix: this.replicaSets.resource.storagePrefix, filter: () => true, onEvent: (_type, object) => this.replicaSetChanged(object) }),
    );
  }

  stop(): void {
    for (const watch of this.watches) watch.stop();
    this.queue.stop();
  }

  private replicaSetChanged(cached: CachedObject): void {
    const replicaSet = decodedObject<KubeObject>(cached);
    const namespace = replicaSet.metadata.namespace ?? '';
    const reference = controllerRefOf(replicaSet);
    if (reference) {
      if (reference.kind === 'Deployment') this.queue.add(`${namespace}/${reference.name}`);
      return;
    }
    for (const candidate of this.deployments.cache.list(this.deployments.key(namespace, ''))) {
      const selector = (decodedObject<KubeObject>(candidate).spec as DeploymentSpec | undefined)?.selector;
      if (selector && selectorMatches(selector, labelsOf(replicaSet))) this.queue.add(keyOf(candidate));
    }
  }

  async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    await this.replicaSets.cache.syncToLatest();
    await this.deployments.cache.syncToLatest();
    const cached = this.deployments.cache.get(this.deployments.key(namespace, name));
    if (!cached) return;
    const deployment = decodedObject<KubeObject>(cached);
    if (deployment.metadata.deletionTimestamp) return; // the garbage collector removes what it owns
    const spec = (deployment.spec ?? {}) as DeploymentSpec;
    const context = controllerContext('deployment-controller', namespace);
    const owned = await this.ownedReplicaSets(deployment, spec, context);
    const hash = podTemplateHash(spec.template ?? {}, collisionCountOf(deployment));
    let newReplicaSet = owned.find((replicaSet) => templatesEqualIgnoringHash((replicaSet.spec as { template?: Json } | undefined)?.template ?? {}, spec.template ?? {}));
    const oldReplicaSets = owned.filter((replicaSet) => replicaSet !== newReplicaSet);
    const replicas = spec.replicas ?? 1;
    const { maxSurge, maxUnavailable } = rollingLimits(spec, replicas);
    let progressing: Omit<Condition, 'type' | 'status'> | undefined;

    if (!spec.paused) {
      const maxOldRevision = Math.max(0, ...oldReplicaSets.map(revisionOf));
      if (!newReplicaSet) {
        const created = await this.createReplicaSet(deployment, spec, hash, maxOldRevision + 1, oldReplicaSets, replicas, maxSurge, context);
        if (!created) return; // a hash collision was recorded: the next sync uses a new name
        newReplicaSet = created;
        progressing = { reason: 'NewReplicaSetCreated', message: `Created new replica set "${created.metadata.name}"` };
      } else if (revisionOf(newReplicaSet) <= maxOldRevision) {
        // Rolled back to an older template: that ReplicaSet becomes the newest revision.
        newReplicaSet = await this.scale(newReplicaSet, replicasOf(newReplicaSet), deployment, replicas, maxSurge, context, maxOldRevision + 1);
      }
      const wantedAnnotations = { ...copiedAnnotations(deployment), [DESIRED_REPLICAS]: String(replicas), [MAX_REPLICAS]: String(replicas + maxSurge) };
      const annotations = newReplicaSet.metadata.annotations ?? {};
      if (Object.entries(wantedAnnotations).some(([key, value]) => annotations[key] !== value)) {
        newReplicaSet = await this.scale(newReplicaSet, replicasOf(newReplicaSet), deployment, replicas, maxSurge, context);
      }
      if ((spec.strategy?.type ?? 'RollingUpdate') === 'Recreate') {
        await this.recreate(deployment, newReplicaSet, oldReplicaSets, replicas, context);
      } else {
        await this.rollingUpdate(deployment, newReplicaSet, oldReplicaSets, replicas, maxSurge, maxUnavailable, context);
      }
      await this.cleanup(oldReplicaSets, spec.revisionHistoryLimit ?? 10, context);
    }
    await this.updateStatus(deployment, spec, newReplicaSet, [...oldReplicaSets, ...(newReplicaSet ? [newReplicaSet] : [])], replicas, maxUnavailable, progressing, context);
  }

  /** ReplicaSets this Deployment controls, adopting orphans its selector matches. */
  private async ownedReplicaSets(deployment: KubeObject, spec: DeploymentSpec, context: ReturnType<typeof controllerContext>): Promise<KubeObject[]> {
    const owned: KubeObject[] = [];
    for (const cached of this.replicaSets.cache.list(this.replicaSets.key(deployment.metadata.namespace ?? '', ''))) {
      const replicaSet = decodedObject<KubeObject>(cached);
      const reference = controllerRefOf(replicaSet);
      if (reference?.uid === deployment.metadata.uid) owned.push(replicaSet);
      else if (!reference && !replicaSet.metadata.deletionTimestamp && spec.selector && selectorMatches(spec.selector, labelsOf(replicaSet))) {
        try {
          const result = await this.replicaSets.guaranteedUpdate(replicaSet.metadata.name!, context, '', undefined, (current) => {
            if (!current || controllerRefOf(current)) throw new StatusError(409, 'Conflict', 'already controlled');
            const references = [...((current.metadata.ownerReferences ?? []) as OwnerReference[]), ownerReferenceTo(deployment, 'apps/v1', 'Deployment')];
            return { ...current, metadata: { ...current.metadata, ownerReferences: references } };
          });
          owned.push(result.object);
        } catch (error) {
          if (!(error instanceof StatusError)) throw error;
        }
      }
    }
    return owned;
  }

  private async createReplicaSet(
    deployment: KubeObject,
    spec: DeploymentSpec,
    hash: string,
    revision: number,
    oldReplicaSets: KubeObject[],
    replicas: number,
    maxSurge: number,
    context: ReturnType<typeof controllerContext>,
  ): Promise<KubeObject | undefined> {
    const template = structuredClone(spec.template ?? {}) as Json & { metadata?: { labels?: Record<string, string> } };
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [HASH_LABEL]: hash } };
    const selector = structuredClone(spec.selector ?? {}) as { matchLabels?: Record<string, string> };
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [HASH_LABEL]: hash };
    // With nothing running yet (or Recreate) the new ReplicaSet starts at full size; otherwise the rolling update grows it.
    const running = oldReplicaSets.reduce((sum, replicaSet) => sum + replicasOf(replicaSet), 0);
    const isRecreate = spec.strategy?.type === 'Recreate';
    const initial = isRecreate ? 0 : running === 0 ? replicas : Math.max(0, Math.min(replicas, replicas + maxSurge - running));
    const replicaSet: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${deployment.metadata.name}-${hash}`,
        namespace: deployment.metadata.namespace,
        labels: { ...(template.metadata.labels ?? {}) },
        annotations: { ...copiedAnnotations(deployment), [REVISION]: String(revision), [DESIRED_REPLICAS]: String(replicas), [MAX_REPLICAS]: String(replicas + maxSurge) },
        ownerReferences: [ownerReferenceTo(deployment, 'apps/v1', 'Deployment')],
      },
      spec: { replicas: initial, minReadySeconds: spec.minReadySeconds ?? 0, selector, template },
    };
    try {
      return (await this.replicaSets.create(replicaSet, context)).object;
    } catch (error) {
      if (!(error instanceof StatusError && error.code === 409)) throw error;
      // Someone else's ReplicaSet has this name (a hash collision): count it, as upstream does, and retry.
      await this.deployments.guaranteedUpdate(deployment.metadata.name!, context, 'status', undefined, (current) => {
        if (!current) throw new StatusError(404, 'NotFound', 'gone');
        const status = { ...((current.status ?? {}) as Json) };
        status.collisionCount = collisionCountOf(current) + 1;
        return { ...current, status };
      });
      return undefined;
    }
  }

  private async recreate(deployment: KubeObject, newReplicaSet: KubeObject, oldReplicaSets: KubeObject[], replicas: number, context: ReturnType<typeof controllerContext>): Promise<void> {
    let oldRunning = false;
    for (const old of oldReplicaSets) {
      if (replicasOf(old) > 0) await this.scale(old, 0, deployment, replicas, 0, context);
      if (replicasOf(old) > 0 || countsOf(old).replicas) oldRunning = true;
    }
    // Recreate: the new pods start only once every old pod is gone.
    if (!oldRunning && replicasOf(newReplicaSet) !== replicas) await this.scale(newReplicaSet, replicas, deployment, replicas, 0, context);
  }

  private async rollingUpdate(
    deployment: KubeObject,
    newReplicaSet: KubeObject,
    oldReplicaSets: KubeObject[],
    replicas: number,
    maxSurge: number,
    maxUnavailable: number,
    context: ReturnType<typeof controllerContext>,
  ): Promise<void> {
    const all = () => [newReplicaSet, ...oldReplicaSets];
    const total = () => all().reduce((sum, replicaSet) => sum + replicasOf(replicaSet), 0);
    // Scale the new ReplicaSet up within the surge (or down to the wanted count).
    const newReplicas = replicasOf(newReplicaSet);
    if (newReplicas > replicas) {
      newReplicaSet = await this.scale(newReplicaSet, replicas, deployment, replicas, maxSurge, context);
    } else if (newReplicas < replicas) {
      const room = replicas + maxSurge - total();
      if (room > 0) newReplicaSet = await this.scale(newReplicaSet, newReplicas + Math.min(room, replicas - newReplicas), deployment, replicas, maxSurge, context);
    }
    // Scale old ReplicaSets down while keeping replicas - maxUnavailable pods available.
    const oldTotal = oldReplicaSets.reduce((sum, replicaSet) => sum + replicasOf(replicaSet), 0);
    if (oldTotal === 0) return;
    const minAvailable = replicas - maxUnavailable;
    const newUnavailable = replicasOf(newReplicaSet) - (countsOf(newReplicaSet).availableReplicas ?? 0);
    let budget = total() - minAvailable - newUnavailable;
    if (budget <= 0) return;
    const ordered = [...oldReplicaSets].sort((left, right) => revisionOf(left) - revisionOf(right));
    // First the old pods that are not available anyway.
    for (const [index, old] of ordered.entries()) {
      if (budget <= 0) break;
      const unhealthy = replicasOf(old) - (countsOf(old).availableReplicas ?? 0);
      if (unhealthy <= 0) continue;
      const by = Math.min(unhealthy, budget);
      ordered[index] = await this.scale(old, replicasOf(old) - by, deployment, replicas, maxSurge, context);
      budget -= by;
    }
    // Then available ones, as long as enough stay available.
    const available = [newReplicaSet, ...ordered].reduce((sum, replicaSet) => sum + (countsOf(replicaSet).availableReplicas ?? 0), 0);
    let canRemove = Math.min(budget, available - minAvailable);
    for (const old of ordered) {
      if (canRemove <= 0) break;
      const current = replicasOf(old);
      if (current === 0) continue;
      const by = Math.min(current, canRemove);
      await this.scale(old, current - by, deployment, replicas, maxSurge, context);
      canRemove -= by;
    }
  }

  /** Sets a ReplicaSet's size and the annotations that record the Deployment's size and surge. */
  private async scale(replicaSet: KubeObject, size: number, deployment: KubeObject, replicas: number, maxSurge: number, context: ReturnType<typeof controllerContext>, revision?: number): Promise<KubeObject> {
    const isNewest = templatesEqualIgnoringHash((replicaSet.spec as { template?: Json } | undefined)?.template ?? {}, (deployment.spec as DeploymentSpec | undefined)?.template ?? {});
    const result = await this.replicaSets.guaranteedUpdate(replicaSet.metadata.name!, context, '', undefined, (current) => {
      if (!current) throw new StatusError(404, 'NotFound', 'gone');
      // The new ReplicaSet carries the Deployment's annotations (kubernetes.io/change-cause for `rollout history`); old ones keep theirs.
      const copied = isNewest ? copiedAnnotations(deployment) : {};
      const annotations: Record<string, string> = { ...(current.metadata.annotations ?? {}), ...copied, [DESIRED_REPLICAS]: String(replicas), [MAX_REPLICAS]: String(replicas + maxSurge) };
      annotations[REVISION] = String(revision ?? revisionOf(current));
      return { ...current, metadata: { ...current.metadata, annotations }, spec: { ...((current.spec ?? {}) as Json), replicas: size } };
    });
    return result.object;
  }

  /** Keeps at most revisionHistoryLimit old ReplicaSets that run nothing. */
  private async cleanup(oldReplicaSets: KubeObject[], limit: number, context: ReturnType<typeof controllerContext>): Promise<void> {
    const idle = oldReplicaSets.filter((replicaSet) => replicasOf(replicaSet) === 0 && !countsOf(replicaSet).replicas && !replicaSet.metadata.deletionTimestamp).sort((left, right) => revisionOf(left) - revisionOf(right));
    for (const replicaSet of idle.slice(0, Math.max(0, idle.length - limit))) {
      try {
        await this.replicaSets.delete(replicaSet.metadata.name!, {}, context);
      } catch (error) {
        if (!(error instanceof StatusError && error.code === 404)) throw error;
      }
    }
  }

  private async updateStatus(
    deployment: KubeObject,
    spec: DeploymentSpec,
    newReplicaSet: KubeObject | undefined,
    replicaSets: KubeObject[],
    replicas: number,
    maxUnavailable: number,
    progressing: Omit<Condition, 'type' | 'status'> | undefined,
    context: ReturnType<typeof controllerContext>,
  ): Promise<void> {
    const sum = (field: keyof ReplicaSetCounts) => replicaSets.reduce((total, replicaSet) => total + (countsOf(replicaSet)[field] ?? 0), 0);
    const totalReplicas = sum('replicas');
    const updated = newReplicaSet ? (countsOf(newReplicaSet).replicas ?? 0) : 0;
    const ready = sum('readyReplicas');
    const available = sum('availableReplicas');
    const current = (deployment.status ?? {}) as Json & { conditions?: Condition[] };
    const status: Json = {};
    if (deployment.metadata.generation !== undefined) status.observedGeneration = deployment.metadata.generation;
    if (totalReplicas) status.replicas = totalReplicas;
    if (updated) status.updatedReplicas = updated;
    if (ready) status.readyReplicas = ready;
    if (available) status.availableReplicas = available;
    const unavailable = Math.max(0, replicas - available);
    if (unavailable) status.unavailableReplicas = unavailable;
    if (current.collisionCount !== undefined) status.collisionCount = current.collisionCount;

    const conditions = [...(current.conditions ?? [])];
    const minimumAvailable = available >= replicas - maxUnavailable;
    setCondition(conditions, minimumAvailable
      ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
      : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' });
    const name = newReplicaSet?.metadata.name;
    const complete = newReplicaSet !== undefined && updated === replicas && totalReplicas === replicas && available === replicas && replicasOf(newReplicaSet) === replicas;
    if (spec.paused) {
      setCondition(conditions, { type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' });
    } else if (progressing) {
      setCondition(conditions, { type: 'Progressing', status: 'True', ...progressing });
    } else if (complete) {
      setCondition(conditions, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${name}" has successfully progressed.` });
    } else if (name) {
      const previous = conditions.find((condition) => condition.type === 'Progressing');
      if (previous?.reason === 'DeploymentPaused') setCondition(conditions, { type: 'Progressing', status: 'Unknown', reason: 'DeploymentResumed', message: 'Deployment is resumed' });
      else setCondition(conditions, { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${name}" is progressing.` });
    }
    // Upstream lists Available before Progressing.
    status.conditions = conditions.sort((left, right) => conditionOrder(left.type) - conditionOrder(right.type));

    const revision = newReplicaSet ? String(revisionOf(newReplicaSet)) : undefined;
    if (revision && deployment.metadata.annotations?.[REVISION] !== revision) {
      await this.deployments.guaranteedUpdate(deployment.metadata.name!, context, '', undefined, (stored) => {
        if (!stored) throw new StatusError(404, 'NotFound', 'gone');
        return { ...stored, metadata: { ...stored.metadata, annotations: { ...(stored.metadata.annotations ?? {}), [REVISION]: revision } } };
      });
    }
    if (JSON.stringify(status) === JSON.stringify(current)) return;
    try {
      await this.deployments.guaranteedUpdate(deployment.metadata.name!, context, 'status', undefined, (stored) => {
        if (!stored) throw new StatusError(404, 'NotFound', 'gone');
        return { ...stored, status };
      });
    } catch (error) {
      if (!(error instanceof StatusError && error.code === 404)) throw error;
    }
  }
}


function replicasOf(replicaSet: KubeObject): number {
  return ((replicaSet.spec as { replicas?: number } | undefined)?.replicas ?? 1);
}

function countsOf(replicaSet: KubeObject): ReplicaSetCounts {
  return (replicaSet.status ?? {}) as ReplicaSetCounts;
}

function revisionOf(replicaSet: KubeObject): number {
  const value = Number(replicaSet.metadata.annotations?.[REVISION] ?? 0);
  return Number.isFinite(value) ? value : 0;
}

function collisionCountOf(deployment: KubeObject): number {
  return ((deployment.status as { collisionCount?: number } | undefined)?.collisionCount ?? 0);
}

function copiedAnnotations(deployment: KubeObject): Record<string, string> {
  return Object.fromEntries(Object.entries(deployment.metadata.annotations ?? {}).filter(([key]) => !NOT_COPIED.has(key)));
}

/** maxSurge rounds up and maxUnavailable down; both zero would stall, so maxUnavailable becomes 1. */
export function rollingLimits(spec: DeploymentSpec, replicas: number): { maxSurge: number; maxUnavailable: number } {
  if ((spec.strategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return { maxSurge: 0, maxUnavailable: 0 };
  const rolling = spec.strategy?.rollingUpdate ?? {};
  const resolve = (value: number | string | undefined, fallback: string, roundUp: boolean): number => {
    const raw = value ?? fallback;
    if (typeof raw === 'number') return raw;
    const percent = /^(\d+)%$/.exec(raw);
    if (!percent) return Number(raw) || 0;
    const exact = (Number(percent[1]) * replicas) / 100;
    return roundUp ? Math.ceil(exact) : Math.floor(exact);
  };
  const maxSurge = resolve(rolling.maxSurge, '25%', true);
  let maxUnavailable = resolve(rolling.maxUnavailable, '25%', false);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, replicas) };
}

function setCondition(conditions: Condition[], wanted: Omit<Condition, 'lastUpdateTime' | 'lastTransitionTime'>): void {
  const now = nowTimestamp();
  const index = conditions.findIndex((condition) => condition.type === wanted.type);
  const previous = index >= 0 ? conditions[index] : undefined;
  if (previous && previous.status === wanted.status && previous.reason === wanted.reason && previous.message === wanted.message) return;
  const next: Condition = {
    ...wanted,
    lastUpdateTime: now,
    lastTransitionTime: previous && previous.status === wanted.status ? (previous.lastTransitionTime ?? now) : now,
  };
  if (index >= 0) conditions[index] = next;
  else conditions.push(next);
}

function conditionOrder(type: string): number {
  return type === 'Available' ? 0 : type === 'Progressing' ? 1 : 2;
}
