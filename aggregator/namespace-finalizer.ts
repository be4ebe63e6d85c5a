// Namespace finalization across every API (upstream's namespace controller), run by the aggregator because
// it is the one that knows every group-version. A terminating namespace is emptied of every namespaced
// resource that can be deleted, in every group — built-in, CRDs, extension servers — and then finalized.
//
// Better than upstream: an unavailable APIService blocks deletion only when its last known discovery has
// namespaced resources that can be deleted (a metrics API serves only get/list, so it never blocks), and the
// namespace's conditions name exactly which APIService blocks it and why.

import type { KubeObject } from '../apiserver/registry/object.js';
import { nowTimestamp } from '../apiserver/registry/object.js';
import { apiCall } from './api-client.js';
import type { ApiServiceRouter, VersionSource } from './api-service-router.js';

const FINALIZER = 'kubernetes';
const INTERVAL_MS = 1000;

interface Condition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

interface DeletableResource {
  version: VersionSource;
  resource: string;
}

function deletableResources(version: VersionSource): string[] {
  return version.resources
    .filter((resource) => resource.scope === 'Namespaced' && Array.isArray(resource.verbs) && (resource.verbs as string[]).includes('delete') && (resource.verbs as string[]).includes('list'))
    .map((resource) => String(resource.resource));
}

function prefixOf(version: VersionSource): string {
  return version.group ? `/apis/${version.group}/${version.version}` : `/api/${version.version}`;
}

export class NamespaceFinalizer {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly router: ApiServiceRouter) {}

  start(): void {
    const loop = async () => {
      await this.tick().catch((error: Error) => console.error(`[namespace-finalizer] ${error.message}`));
      this.timer = setTimeout(loop, INTERVAL_MS);
      this.timer.unref();
    };
    this.timer = setTimeout(loop, INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private coreTarget() {
    const route = this.router.route('', 'v1');
    return route?.kind === 'proxy' ? route.target : undefined;
  }

  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const core = this.coreTarget();
      if (!core) return;
      const response = await apiCall(core, 'GET', '/api/v1/namespaces');
      if (response.status !== 200) return;
      for (const namespace of response.body.items ?? []) {
        if (namespace.metadata.deletionTimestamp && (namespace.spec?.finalizers ?? []).includes(FINALIZER)) await this.finalize(namespace);
      }
    } finally {
      this.running = false;
    }
  }

  private async finalize(namespace: KubeObject): Promise<void> {
    const name = namespace.metadata.name!;
    const blockers: string[] = [];
    const failures: string[] = [];
    const remaining = new Map<string, number>();
    const work: DeletableResource[] = [];
    for (const version of this.router.versions()) {
      const resources = deletableResources(version);
      if (resources.length === 0) continue;
      if (version.stale) {
        const apiService = this.router.apiServiceFor(version.group, version.version) ?? `${version.version}.${version.group}`;
        blockers.push(`${version.group ? `${version.group}/` : ''}${version.version} (APIService ${apiService} is unavailable; its namespaced resources ${resources.join(', ')} cannot be deleted)`);
        continue;
      }
      for (const resource of resources) work.push({ version, resource });
    }
    for (const item of work) {
      const qualified = `${item.resource}${item.version.group ? `.${item.version.group}` : ''}`;
      const route = this.router.route(item.version.group, item.version.version);
      if (route?.kind !== 'proxy') {
        // Discovery says it is served, but it cannot be reached right now: its content may remain.
        if (route?.kind === 'unavailable') failures.push(`${qualified}: ${route.error.message}`);
        continue;
      }
      const collection = `${prefixOf(item.version)}/namespaces/${name}/${item.resource}`;
      try {
        const listed = await apiCall(route.target, 'GET', collection);
        if (listed.status !== 200) {
          if (listed.status !== 404 && listed.status !== 405) failures.push(`${qualified}: list answered ${listed.status}`);
          continue;
        }
        const items = listed.body.items ?? [];
        if (items.length === 0) continue;
        remaining.set(qualified, items.length);
        for (const object of items) {
          // Background, as upstream's namespace deleter: a kind that orphans by default must not wait for that here.
          const deleted = await apiCall(route.target, 'DELETE', `${collection}/${encodeURIComponent(object.metadata.name!)}`, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' });
          if (deleted.status >= 300 && deleted.status !== 404) failures.push(`${qualified} "${object.metadata.name}": ${deleted.body.message ?? deleted.status}`);
        }
      } catch (error) {
        failures.push(`${qualified}: ${(error as Error).message}`);
      }
    }
    const conditions: Condition[] = [
      blockers.length
        ? { type: 'NamespaceDeletionDiscoveryFailure', status: 'True', reason: 'DiscoveryFailed', message: `Discovery failed for some groups, ${blockers.length} failing: ${blockers.join('; ')}` }
        : { type: 'NamespaceDeletionDiscoveryFailure', status: 'False', reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
      failures.length
        ? { type: 'NamespaceDeletionContentFailure', status: 'True', reason: 'ContentDeletionFailed', message: `Failed to delete all resource types, ${failures.length} remaining: ${failures.join('; ')}` }
        : { type: 'NamespaceDeletionContentFailure', status: 'False', reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
      remaining.size
        ? { type: 'NamespaceContentRemaining', status: 'True', reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${[...remaining].map(([resource, count]) => `${resource} has ${count} resource instances`).join(', ')}` }
        : { type: 'NamespaceContentRemaining', status: 'False', reason: 'ContentRemoved', message: 'All content successfully removed' },
    ];
    const core = this.coreTarget();
    if (!core) return;
    await this.writeConditions(core, namespace, conditions);
    if (blockers.length || failures.length || remaining.size) return;
    const latest = await apiCall(core, 'GET', `/api/v1/namespaces/${name}`);
    if (latest.status !== 200) return;
    const next = structuredClone(latest.body);
    next.spec = { ...(next.spec ?? {}), finalizers: (next.spec?.finalizers ?? []).filter((finalizer: string) => finalizer !== FINALIZER) };
    await apiCall(core, 'PUT', `/api/v1/namespaces/${name}/finalize`, next);
  }

  private async writeConditions(core: NonNullable<ReturnType<NamespaceFinalizer['coreTarget']>>, namespace: KubeObject, conditions: Condition[]): Promise<void> {
    const existing: Condition[] = namespace.status?.conditions ?? [];
    const same = conditions.every((condition) => {
      const old = existing.find((candidate) => candidate.type === condition.type);
      return old && old.status === condition.status && old.reason === condition.reason && old.message === condition.message;
    });
    if (same) return;
    const next = structuredClone(namespace);
    next.status = {
      ...(next.status ?? {}),
      conditions: conditions.map((condition) => {
        const old = existing.find((candidate) => candidate.type === condition.type);
        return { ...condition, lastTransitionTime: old && old.status === condition.status ? old.lastTransitionTime : nowTimestamp() };
      }),
    };
    await apiCall(core, 'PUT', `/api/v1/namespaces/${namespace.metadata.name}/status`, next);
  }
}
