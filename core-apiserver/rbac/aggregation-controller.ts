// The ClusterRole aggregation controller (upstream's clusterroleaggregation): a ClusterRole with an
// aggregationRule gets as rules the union of the rules of every other ClusterRole its selectors match, in
// name order, without duplicates — so a CRD author's ClusterRole labelled
// `rbac.authorization.k8s.io/aggregate-to-view: "true"` extends view (and, through view's own label, edit
// and admin). It recomputes whenever any ClusterRole changes.

import type { GenericStore, WriteContext } from '../../apiserver/registry/store.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';
import { labelSelectorFromMatch, type LabelSelector } from '../../apiserver/registry/labels.js';
import type { CacheWatch } from '../../apiserver/storage/watch-cache.js';

const CONTEXT: WriteContext = {
  user: { username: 'system:serviceaccount:kube-system:clusterrole-aggregation-controller', groups: ['system:masters'] },
  namespace: '',
  warnings: [],
  dryRun: false,
  fieldManager: 'clusterrole-aggregation-controller',
  fieldValidation: 'Ignore',
};

function selectorsOf(role: KubeObject): LabelSelector[] | undefined {
  if (!isObject(role.aggregationRule) || !Array.isArray(role.aggregationRule.clusterRoleSelectors)) return undefined;
  const selectors: LabelSelector[] = [];
  for (const spec of role.aggregationRule.clusterRoleSelectors) {
    try {
      selectors.push(labelSelectorFromMatch(spec));
    } catch {
      // Validation rejects bad selectors on write; one stored before that matches nothing.
    }
  }
  return selectors;
}

/** The rules an aggregated role should have, given every ClusterRole. */
export function aggregatedRules(role: KubeObject, all: KubeObject[]): unknown[] {
  const selectors = selectorsOf(role) ?? [];
  const rules: unknown[] = [];
  const seen = new Set<string>();
  const sources = all
    .filter((other) => other.metadata.name !== role.metadata.name && selectors.some((selector) => !selector.empty && selector.matches(other.metadata.labels)))
    .sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0));
  for (const source of sources) {
    for (const rule of Array.isArray(source.rules) ? source.rules : []) {
      const key = JSON.stringify(rule);
      if (seen.has(key)) continue;
      seen.add(key);
      rules.push(rule);
    }
  }
  return rules;
}

export class ClusterRoleAggregationController {
  private watch: CacheWatch | undefined;
  private queued = false;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly clusterRoles: GenericStore) {}

  start(): Promise<void> {
    this.watch = this.clusterRoles.cache.watch({ fromRevision: 0, prefix: this.clusterRoles.resource.storagePrefix, filter: () => true, onEvent: () => this.schedule() });
    return this.sync();
  }

  stop(): void {
    this.watch?.stop();
  }

  private schedule(): void {
    if (this.queued) return;
    this.queued = true;
    setImmediate(() => {
      this.queued = false;
      this.running = this.running.then(() => this.sync()).catch((error) => console.error('[clusterrole-aggregation]', error));
    });
  }

  /** One pass over every aggregated role; a write triggers another pass, which settles (chains of aggregation). */
  async sync(): Promise<void> {
    const all = this.clusterRoles.cache.list(this.clusterRoles.resource.storagePrefix).map((cached) => JSON.parse(cached.bytes) as KubeObject);
    for (const role of all) {
      if (!selectorsOf(role)) continue;
      const rules = aggregatedRules(role, all);
      if (JSON.stringify(rules) === JSON.stringify(role.rules ?? [])) continue;
      try {
        await this.clusterRoles.guaranteedUpdate(role.metadata.name!, CONTEXT, '', undefined, (latest) => ({ ...(latest ?? role), rules }));
      } catch (error) {
        console.error(`[clusterrole-aggregation] ${role.metadata.name}: ${(error as Error).message}`);
      }
    }
  }
}
