// Auto-registration (upstream's autoregister and crdRegistrationController): every group-version a backend
// process serves gets a local APIService — built-ins labelled `automanaged: onstart` with upstream's
// priorities, CRD group-versions labelled `automanaged: "true"` with 1000/100 — and a CRD group-version
// that disappears takes its APIService with it.

import { decodedObject } from '../apiserver/storage/watch-cache.js';
import type { KubeObject } from '../apiserver/registry/object.js';
import type { GenericStore, WriteContext } from '../apiserver/registry/store.js';
import { StatusError } from '../apiserver/request/status.js';
import { deepEqual } from '../apiserver/registry/managed-fields.js';
import type { Backend } from './backend.js';
import { AUTOMANAGED_LABEL } from './apiservices.js';
import { priorityOf } from './priorities.js';
import { storageKey } from '../apiserver/registry/resource.js';

const SYSTEM: WriteContext = {
  user: { username: 'system:kube-aggregator', groups: ['system:masters'] },
  namespace: '',
  warnings: [],
  dryRun: false,
  fieldManager: 'kube-aggregator-autoregister',
  fieldValidation: 'Ignore',
};

export interface RegistrationOptions {
  /** The backend that serves custom resources: its group-versions other than its own group are CRDs. */
  crdBackend?: string;
  crdOwnGroup?: string;
  /** Group-versions served by the aggregator itself (registered too, as upstream does). */
  own: { group: string; version: string }[];
  /** With several replicas only the leader registers (absent: always). */
  isLeader?: () => boolean;
}

export class AutoRegistration {
  private running = false;
  private again = false;
  /** `onstart` APIServices are reconciled once (upstream: admins may edit them afterwards). */
  private readonly syncedOnStart = new Set<string>();
  private firstRun = true;
  /** APIService revisions (decoded cache objects) found to match a desired spec, with that spec (shared, see specFor). */
  private readonly settled = new WeakMap<KubeObject, unknown>();
  private readonly specs = new Map<string, Record<string, unknown>>();
  private lastDesiredSize = 0;
  /** What changed since the last run: some groups, or everything (undefined: a full reconcile). */
  private pendingGroups = new Set<string>();
  private pendingFull = true;
  /** The CRD APIServices desired for each group at the last look (for removals found group by group). */
  private readonly desiredByGroup = new Map<string, Set<string>>();

  constructor(
    private readonly apiServices: GenericStore,
    private readonly backends: Backend[],
    private readonly options: RegistrationOptions,
  ) {}

  /** The desired APIServices: of every group, or of the named groups only. */
  private desired(only?: ReadonlySet<string>): Map<string, KubeObject> {
    const result = new Map<string, KubeObject>();
    const add = (group: string, version: string, kind: 'onstart' | 'true') => {
      const name = `${version}.${group}`;
      if (result.has(name)) return;
      const priority = kind === 'true' ? { group: 1000, version: 100 } : priorityOf(group, version);
      result.set(name, {
        apiVersion: 'apiregistration.k8s.io/v1',
        kind: 'APIService',
        metadata: { name, labels: { [AUTOMANAGED_LABEL]: kind } },
        spec: this.specFor(group, version, priority),
      });
    };
    for (const own of this.options.own) if (!only || only.has(own.group)) add(own.group, own.version, 'onstart');
    for (const backend of this.backends) {
      if (!backend.discovered) continue;
      const groups = only ? [...only].map((name) => backend.group(name)).filter((group) => group !== undefined) : backend.groups;
      for (const group of groups) {
        const crd = backend.name === this.options.crdBackend && group.name !== this.options.crdOwnGroup;
        for (const version of group.versions) add(group.name, version.version, crd ? 'true' : 'onstart');
      }
    }
    return result;
  }

  /** One object per distinct desired spec, so an unchanged spec is recognised by identity. */
  private specFor(group: string, version: string, priority: { group: number; version: number }): Record<string, unknown> {
    const key = `${group}/${version}/${priority.group}/${priority.version}`;
    let spec = this.specs.get(key);
    if (!spec) {
      spec = { group, version, groupPriorityMinimum: priority.group, versionPriority: priority.version };
      this.specs.set(key, spec);
    }
    return spec;
  }

  /**
   * Reconciles; safe to call often (runs are serialized and coalesced). `changedGroups` limits the work to
   * the APIServices of those groups (one CRD's change costs the same with 5 CRDs or 500); without it,
   * everything is reconciled.
   */
  async sync(changedGroups?: ReadonlySet<string>): Promise<void> {
    if (this.options.isLeader && !this.options.isLeader()) {
      this.pendingFull = true; // a new leader starts from the whole picture
      return;
    }
    if (changedGroups) for (const group of changedGroups) this.pendingGroups.add(group);
    else this.pendingFull = true;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        const full = this.pendingFull || this.firstRun;
        const groups = this.pendingGroups;
        this.pendingFull = false;
        this.pendingGroups = new Set();
        await (full ? this.reconcile() : this.reconcileGroups(groups));
      } while (this.again);
    } catch (error) {
      // What this run was to do is not known to be done: the next run does everything.
      this.pendingFull = true;
      // Callers fire and forget; a shutdown closes storage under a running sync.
      if (!/storage is closed/.test((error as Error).message)) console.error(`[autoregister] ${(error as Error).message}`);
    } finally {
      this.running = false;
    }
  }

  private async reconcile(): Promise<void> {
    await this.apiServices.cache.syncToLatest();
    if (this.specs.size > 2 * (this.lastDesiredSize + 16)) this.specs.clear(); // specs of group-versions long gone
    const desired = this.desired();
    this.lastDesiredSize = desired.size;
    this.desiredByGroup.clear();
    for (const [name, object] of desired) this.rememberDesired(name, object);
    const existing = new Map<string, KubeObject>();
    for (const cached of this.apiServices.cache.list(this.apiServices.resource.storagePrefix)) existing.set(cached.name, decodedObject<KubeObject>(cached));
    await this.apply(desired, existing);
    if (this.firstRun && this.backends.every((backend) => backend.discovered)) {
      // Upstream removes stale onstart registrations once, at start.
      this.firstRun = false;
      for (const [name, current] of existing) {
        if (current.metadata.labels?.[AUTOMANAGED_LABEL] === 'onstart' && !desired.has(name)) await this.remove(name, current);
      }
    }
    // Only CRD-backed registrations come and go; a backend that is merely down keeps its APIServices.
    if (!this.crdBackendServing()) return;
    for (const [name, current] of existing) {
      if (current.metadata.labels?.[AUTOMANAGED_LABEL] !== 'true' || desired.has(name)) continue;
      await this.remove(name, current);
    }
  }

  /** Reconciles the APIServices of some groups: those desired now, and those desired for them before. */
  private async reconcileGroups(groups: ReadonlySet<string>): Promise<void> {
    if (groups.size === 0) return;
    await this.apiServices.cache.syncToLatest();
    const desired = this.desired(groups);
    const before = new Set<string>();
    for (const group of groups) {
      for (const name of this.desiredByGroup.get(group) ?? []) before.add(name);
      this.desiredByGroup.delete(group);
    }
    for (const [name, object] of desired) this.rememberDesired(name, object);
    const existing = new Map<string, KubeObject>();
    for (const name of new Set([...desired.keys(), ...before])) {
      const cached = this.apiServices.cache.get(storageKey(this.apiServices.resource, '', name));
      if (cached) existing.set(name, decodedObject<KubeObject>(cached));
    }
    await this.apply(desired, existing);
    if (!this.crdBackendServing()) return;
    for (const [name, current] of existing) {
      if (current.metadata.labels?.[AUTOMANAGED_LABEL] !== 'true' || desired.has(name)) continue;
      await this.remove(name, current);
    }
  }

  private rememberDesired(name: string, object: KubeObject): void {
    const group = (object.spec as { group: string }).group;
    let names = this.desiredByGroup.get(group);
    if (!names) this.desiredByGroup.set(group, (names = new Set()));
    names.add(name);
  }

  private crdBackendServing(): boolean {
    const crdBackend = this.backends.find((backend) => backend.name === this.options.crdBackend);
    return crdBackend?.discovered === true && crdBackend.ready;
  }

  /** Creates or updates what is desired and not in place. */
  private async apply(desired: Map<string, KubeObject>, existing: Map<string, KubeObject>): Promise<void> {
    for (const [name, object] of desired) {
      const current = existing.get(name);
      const onStart = object.metadata.labels?.[AUTOMANAGED_LABEL] === 'onstart';
      if (onStart && this.syncedOnStart.has(name)) continue;
      // Most syncs follow one CRD's change: every other APIService was found in place before, unchanged since.
      if (current && this.settled.get(current) === object.spec) continue;
      try {
        const managed = current?.metadata.labels?.[AUTOMANAGED_LABEL];
        if (!current) {
          await this.apiServices.create(structuredClone(object), SYSTEM);
        } else if ((managed === 'onstart' || managed === 'true') && !current.spec?.service && !deepEqual(current.spec, object.spec)) {
          await this.apiServices.guaranteedUpdate(name, SYSTEM, '', undefined, (latest) => ({ ...latest!, spec: object.spec }));
        }
        if (onStart) this.syncedOnStart.add(name);
        if (current && managed === 'true') this.settled.set(current, object.spec);
      } catch (error) {
        if (!(error instanceof StatusError && (error.code === 409 || error.code === 404))) console.error(`[autoregister] ${name}: ${(error as Error).message}`);
      }
    }
  }

  private async remove(name: string, current: KubeObject): Promise<void> {
    try {
      await this.apiServices.delete(name, { preconditions: { uid: current.metadata.uid } }, SYSTEM);
    } catch (error) {
      if (!(error instanceof StatusError && (error.code === 404 || error.code === 409))) console.error(`[autoregister] delete ${name}: ${(error as Error).message}`);
    }
  }
}
