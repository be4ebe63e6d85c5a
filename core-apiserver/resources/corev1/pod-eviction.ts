// pods/eviction: a delete that respects PodDisruptionBudgets (POST a policy/v1 or v1beta1 Eviction;
// `kubectl drain` uses it). As upstream's EvictionREST: a pod that is terminal, pending or already being
// deleted goes without looking at budgets; otherwise the one budget selecting the pod must allow a
// disruption, which the eviction takes by decrementing status.disruptionsAllowed with compare-and-swap
// (recording the pod in status.disruptedPods) before the pod is deleted.

import type { KubeObject } from '../../../apiserver/registry/object.js';
import { isObject, nowTimestamp } from '../../../apiserver/registry/object.js';
import type { SubresourceDefinition } from '../../../apiserver/registry/resource.js';
import { collectionPrefix } from '../../../apiserver/registry/resource.js';
import type { DeleteOptions, GenericStore, WriteContext } from '../../../apiserver/registry/store.js';
import { labelSelectorFromMatch } from '../../../apiserver/registry/labels.js';
import type { LabelSelectorSpec } from '../../../apiserver/registry/labels.js';
import { badRequest, forbidden, StatusError } from '../../../apiserver/request/status.js';
import { successStatus } from './pod-binding.js';

/** Upstream refuses evictions once this many approved ones wait for the disruption controller. */
const MAX_DISRUPTED_PODS = 2000;
const CONFLICT_RETRIES = 20;
const CONFLICT_RETRY_DELAY_MS = 100;
const ACCEPTED_VERSIONS = ['policy/v1', 'policy/v1beta1'];

function violatesBudget(cause: string, retryAfterSeconds: number): StatusError {
  return new StatusError(
    429,
    'TooManyRequests',
    "Cannot evict pod as it would violate the pod's disruption budget.",
    { ...(retryAfterSeconds > 0 ? { retryAfterSeconds } : {}), causes: [{ reason: 'DisruptionBudget', message: cause }] },
    retryAfterSeconds > 0 ? { 'Retry-After': String(retryAfterSeconds) } : undefined,
  );
}

function stillProcessing(pdbName: string): StatusError {
  return violatesBudget(`The disruption budget ${pdbName} is still being processed by the server.`, 10);
}

function phaseOf(pod: KubeObject): string {
  return isObject(pod.status) && typeof pod.status.phase === 'string' ? pod.status.phase : '';
}

function isReady(pod: KubeObject): boolean {
  const conditions = isObject(pod.status) && Array.isArray(pod.status.conditions) ? (pod.status.conditions as Record<string, unknown>[]) : [];
  return conditions.some((condition) => condition.type === 'Ready' && condition.status === 'True');
}

/** Terminal, pending or already deleting: the disruption happened (or cannot), budgets do not apply. */
function canIgnoreBudgets(pod: KubeObject): boolean {
  const phase = phaseOf(pod);
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || Boolean(pod.metadata.deletionTimestamp);
}

function numberAt(object: Record<string, unknown>, field: string): number {
  return typeof object[field] === 'number' ? (object[field] as number) : 0;
}

/** The budgets in the pod's namespace whose (non-empty, valid) selector selects the pod. */
async function budgetsFor(pdbs: GenericStore, pod: KubeObject): Promise<KubeObject[]> {
  await pdbs.cache.syncToLatest();
  const matching: KubeObject[] = [];
  for (const cached of pdbs.cache.list(collectionPrefix(pdbs.resource, pod.metadata.namespace ?? ''))) {
    const pdb = JSON.parse(cached.bytes) as KubeObject;
    const selector = isObject(pdb.spec) && isObject(pdb.spec.selector) ? (pdb.spec.selector as LabelSelectorSpec) : undefined;
    if (!selector) continue;
    try {
      const parsed = labelSelectorFromMatch(selector);
      if (!parsed.empty && parsed.matches(pod.metadata.labels)) matching.push(pdb);
    } catch {
      // An invalid selector matches nothing.
    }
  }
  return matching;
}

/** Upstream's checkAndDecrement: refuse, or take one allowed disruption in the budget's status. */
async function checkAndDecrement(pdbs: GenericStore, pdb: KubeObject, podName: string, context: WriteContext, dryRun: boolean): Promise<void> {
  const name = pdb.metadata.name!;
  const status: Record<string, unknown> = isObject(pdb.status) ? pdb.status : {};
  if (numberAt(status, 'observedGeneration') < (pdb.metadata.generation ?? 0)) throw stillProcessing(name);
  const allowed = numberAt(status, 'disruptionsAllowed');
  if (allowed < 0) throw forbidden(`poddisruptionbudget.policy "${name}" is forbidden: pdb disruptions allowed is negative`, { name, group: 'policy', kind: 'poddisruptionbudget' });
  const disrupted = isObject(status.disruptedPods) ? status.disruptedPods : {};
  if (Object.keys(disrupted).length > MAX_DISRUPTED_PODS) {
    throw forbidden(`poddisruptionbudget.policy "${name}" is forbidden: DisruptedPods map too big - too many evictions not confirmed by PDB controller`, { name, group: 'policy', kind: 'poddisruptionbudget' });
  }
  if (allowed === 0) {
    throw violatesBudget(`The disruption budget ${name} needs ${numberAt(status, 'desiredHealthy')} healthy pods and has ${numberAt(status, 'currentHealthy')} currently`, 0);
  }
  if (dryRun) return;
  const next = structuredClone(pdb);
  const nextStatus = next.status as Record<string, unknown>;
  nextStatus.disruptionsAllowed = allowed - 1;
  if (allowed - 1 === 0) setCondition(nextStatus, { type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '' });
  nextStatus.disruptedPods = { ...disrupted, [podName]: nowTimestamp() };
  // Compare-and-swap on the budget as read: a concurrent eviction makes this a 409, and the caller re-reads.
  await pdbs.guaranteedUpdate(name, { ...context, namespace: pdb.metadata.namespace ?? '' }, 'status', pdb.metadata.resourceVersion, () => next);
}

/** meta.SetStatusCondition: the transition time changes only with the status. */
function setCondition(status: Record<string, unknown>, condition: { type: string; status: string; reason: string; message: string }): void {
  const conditions: Record<string, unknown>[] = Array.isArray(status.conditions) ? status.conditions : [];
  const existing = conditions.find((candidate) => candidate.type === condition.type);
  if (existing) {
    if (existing.status !== condition.status) existing.lastTransitionTime = nowTimestamp();
    Object.assign(existing, { status: condition.status, reason: condition.reason, message: condition.message });
  } else {
    conditions.push({ ...condition, lastTransitionTime: nowTimestamp() });
  }
  status.conditions = conditions;
}

/** The eviction's DeleteOptions with the request's dryRun folded in (upstream's propagateDryRun). */
function deleteOptionsOf(eviction: KubeObject, context: WriteContext): DeleteOptions {
  const requested = isObject(eviction.deleteOptions) ? (structuredClone(eviction.deleteOptions) as DeleteOptions & Record<string, unknown>) : {};
  const requestDryRun = context.dryRun ? ['All'] : [];
  const own = Array.isArray(requested.dryRun) ? requested.dryRun.map(String) : [];
  if (own.length === 0) requested.dryRun = requestDryRun;
  else if (requestDryRun.length > 0 && JSON.stringify(own) !== JSON.stringify(requestDryRun)) {
    throw new StatusError(500, '', `Non-matching dry-run options in request and content: [${requestDryRun.join(' ')}] and [${own.join(' ')}]`);
  }
  if (requested.dryRun!.some((value) => value !== 'All')) throw badRequest(`Invalid dryRun value: ${JSON.stringify(requested.dryRun)}`);
  return requested;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const evictionSubresource: SubresourceDefinition = {
  kind: 'Eviction',
  group: 'policy',
  version: 'v1',
  verbs: ['create'],
  async create({ store, namespace, name, body, context, resource }) {
    if (body.apiVersion !== undefined && body.apiVersion !== '' && !ACCEPTED_VERSIONS.includes(String(body.apiVersion))) {
      throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (policy/v1)`);
    }
    if (body.kind !== undefined && body.kind !== '' && body.kind !== 'Eviction') {
      throw badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (Eviction)`);
    }
    const metadata = isObject(body.metadata) ? body.metadata : {};
    if (metadata.name !== name) throw badRequest('name in URL does not match name in Eviction object');
    const options = deleteOptionsOf(body, context);
    const dryRun = (options.dryRun ?? []).length > 0;
    const deleteContext = { ...context, dryRun };
    const preconditionSet = Boolean(options.preconditions?.resourceVersion);

    // Pods the budgets do not apply to are deleted directly (with the read resourceVersion as precondition
    // unless terminal, so a pod that became ready meanwhile is looked at again).
    let pod: KubeObject;
    for (let attempt = 0; ; attempt++) {
      pod = await store.getObject(namespace, name);
      if (!canIgnoreBudgets(pod)) break;
      const enforce = phaseOf(pod) === 'Pending' && !pod.metadata.deletionTimestamp && !preconditionSet;
      const deleteOptions = enforce ? { ...options, preconditions: { ...(options.preconditions ?? {}), resourceVersion: pod.metadata.resourceVersion } } : options;
      try {
        await store.delete(name, deleteOptions, deleteContext);
        return successStatus(201);
      } catch (error) {
        if (error instanceof StatusError && error.code === 409 && !preconditionSet && attempt < CONFLICT_RETRIES) {
          await sleep(CONFLICT_RETRY_DELAY_MS);
          continue;
        }
        throw error;
      }
    }

    const pdbs = resource('policy', 'v1', 'poddisruptionbudgets');
    let pinResourceVersion = false;
    let pdbName = '';
    if (pdbs) {
      const budgets = await budgetsFor(pdbs, pod);
      if (budgets.length > 1) throw new StatusError(500, '', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
      if (budgets.length === 1) {
        let pdb = budgets[0];
        pdbName = pdb.metadata.name!;
        const spec = isObject(pdb.spec) ? pdb.spec : {};
        const status: Record<string, unknown> = isObject(pdb.status) ? pdb.status : {};
        const unhealthy = !isReady(pod);
        if (unhealthy && spec.unhealthyPodEvictionPolicy === 'AlwaysAllow') {
          pinResourceVersion = true;
        } else if (unhealthy && numberAt(status, 'currentHealthy') >= numberAt(status, 'desiredHealthy') && numberAt(status, 'desiredHealthy') > 0) {
          // An unready pod does not count as healthy: evicting it takes nothing from the budget.
          pinResourceVersion = true;
        } else {
          for (let attempt = 0; ; attempt++) {
            try {
              await checkAndDecrement(pdbs, pdb, name, context, dryRun);
              break;
            } catch (error) {
              if (!(error instanceof StatusError && error.code === 409)) throw error;
              if (attempt >= CONFLICT_RETRIES) throw new StatusError(504, 'Timeout', `couldn't update PodDisruptionBudget "${pdbName}" due to conflicts`, { retryAfterSeconds: 10 });
              await sleep(CONFLICT_RETRY_DELAY_MS);
              pdb = await pdbs.getObject(namespace, pdbName);
            }
          }
        }
      }
    }

    const deleteOptions = pinResourceVersion ? { ...options, preconditions: { ...(options.preconditions ?? {}), resourceVersion: pod.metadata.resourceVersion } } : options;
    try {
      await store.delete(name, deleteOptions, deleteContext);
    } catch (error) {
      // The pod changed since it was judged unhealthy: the client should try again.
      if (error instanceof StatusError && error.code === 409 && pinResourceVersion && !preconditionSet) throw stillProcessing(pdbName);
      throw error;
    }
    return successStatus(201);
  },
};
