// The CRD controllers (upstream's naming, establishing, finalizer controllers and the CRD handler's
// serving half), as one work queue fed by the CRD watch cache:
//   * status: acceptedNames, storedVersions, NamesAccepted and Established, written through /status;
//   * serving: each served version of an accepted CRD is a resource of this server (discovery and
//     OpenAPI follow, and the aggregator's auto-registration turns the group-version into an APIService);
//   * deletion: with the cleanup finalizer set, Terminating=True, every instance deleted, finalizer removed.

import type { ApiServer } from '../apiserver/server/api-server.js';
import type { Storage } from '../apiserver/storage/interface.js';
import type { KubeObject } from '../apiserver/registry/object.js';
import type { GenericStore, WriteContext } from '../apiserver/registry/store.js';
import { GenericStore as Store } from '../apiserver/registry/store.js';
import type { CacheEventType, CacheWatch } from '../apiserver/storage/watch-cache.js';
import { deepEqual } from '../apiserver/registry/managed-fields.js';
import { StatusError } from '../apiserver/request/status.js';
import { CLEANUP_FINALIZER, type CrdNames, type CrdSpec, type CrdVersion } from './crd-validation.js';
import { desiredStatus, isConditionTrue, requestedNames, setCondition, type CrdStatus } from './crd-status.js';
import { customResourceDefinitionFor } from './custom-resource.js';
import { crdConverter } from './conversion/converter.js';
import type { ServiceResolver } from './conversion/service-resolver.js';
import { CustomResourceValidation } from './validation/custom-resource-validation.js';
import { ReadNormalizingStorage } from './validation/read-normalizing-storage.js';
import type { ScalePaths } from './validation/scale-validation.js';
import type { JSONSchema } from '../apiserver/schema/types.js';
import { ALWAYS_LEADING, type Leadership } from '../apiserver/server/leader-election.js';

const SYSTEM: WriteContext = {
  user: { username: 'system:apiserver', groups: ['system:masters'] },
  namespace: '',
  warnings: [],
  dryRun: false,
  fieldManager: 'kube-apiserver',
  fieldValidation: 'Ignore',
};

const RETRY_MS = 500;

interface Served {
  fingerprint: string;
  versions: { group: string; version: string; plural: string }[];
}

export class CrdController {
  private readonly served = new Map<string, Served>();
  /** group → CRD name → its name-check view; and each CRD's group (see index()). */
  private readonly byGroup = new Map<string, Map<string, KubeObject>>();
  private readonly groupOf = new Map<string, string>();
  private readonly terminating = new Set<string>();
  private readonly pending = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private watch: CacheWatch | undefined;
  private running = false;
  private stopped = false;
  /** Resolves when the queue runs dry (tests). */
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly server: ApiServer,
    private readonly storage: Storage,
    private readonly crds: GenericStore,
    /** For conversion webhooks given as a service reference. */
    private readonly serviceResolver?: ServiceResolver,
    /** Only the leader writes status and finalizes; every replica serves what the status says. */
    private readonly leadership: Leadership = ALWAYS_LEADING,
  ) {
    leadership.onChange((leading) => {
      if (leading) for (const name of this.allNames()) this.enqueue(name);
    });
  }

  async start(): Promise<void> {
    await this.crds.cache.start();
    this.watch = this.crds.cache.watch({
      fromRevision: 0,
      prefix: this.crds.resource.storagePrefix,
      filter: () => true,
      onEvent: (type, object) => {
        const group = this.index(type, object.name, JSON.parse(object.bytes) as KubeObject);
        this.enqueue(object.name);
        // A change of one CRD may free or take names of the others in its group.
        for (const other of this.byGroup.get(group)?.keys() ?? []) this.enqueue(other);
      },
    });
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
    for (const timer of this.timers) clearTimeout(timer);
  }

  /** Waits until no work is queued or running. */
  idle(): Promise<void> {
    if (!this.running && this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private enqueue(name: string): void {
    if (this.stopped) return;
    this.pending.add(name);
    if (!this.running) void this.run();
  }

  private enqueueLater(name: string): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.enqueue(name);
    }, RETRY_MS);
    this.timers.add(timer);
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.pending.size > 0 && !this.stopped) {
        const name = this.pending.values().next().value as string;
        this.pending.delete(name);
        try {
          await this.reconcile(name);
        } catch (error) {
          if (!(error instanceof StatusError && error.code === 409)) console.error(`[crd-controller] ${name}: ${(error as Error).message}`);
          this.enqueueLater(name);
        }
      }
    } finally {
      this.running = false;
      if (this.pending.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /**
   * Keeps what name checks read of every CRD (its group and accepted names), by group: a CRD's names can
   * only conflict within its group, so one change costs the same with 5 CRDs or 500, and no parsed copy of
   * every CRD stays in memory. Returns the CRD's group.
   */
  private index(type: CacheEventType, name: string, crd: KubeObject): string {
    const group: string = crd.spec?.group ?? '';
    const previous = this.groupOf.get(name);
    if (previous !== undefined && (previous !== group || type === 'DELETED')) {
      const members = this.byGroup.get(previous)!;
      members.delete(name);
      if (members.size === 0) this.byGroup.delete(previous);
      this.groupOf.delete(name);
    }
    if (type !== 'DELETED') {
      if (!this.byGroup.has(group)) this.byGroup.set(group, new Map());
      const acceptedNames = (crd.status as CrdStatus | undefined)?.acceptedNames;
      this.byGroup.get(group)!.set(name, { metadata: { name }, spec: { group }, status: acceptedNames ? { acceptedNames } : {} });
      this.groupOf.set(name, group);
    }
    return group;
  }

  /** Every CRD's name. */
  private allNames(): string[] {
    return [...this.groupOf.keys()];
  }

  /** What name checks need of the CRDs of one group. */
  private sameGroup(group: string | undefined): KubeObject[] {
    return [...(this.byGroup.get(group ?? '')?.values() ?? [])];
  }

  private async read(name: string): Promise<KubeObject | undefined> {
    try {
      return await this.crds.getObject('', name);
    } catch (error) {
      if (error instanceof StatusError && error.code === 404) return undefined;
      throw error;
    }
  }

  async reconcile(name: string): Promise<void> {
    const crd = await this.read(name);
    if (!crd) {
      this.unserve(name);
      this.terminating.delete(name);
      return;
    }
    if (crd.metadata.deletionTimestamp) {
      if (this.leadership.isLeader) await this.finalize(crd);
      return;
    }
    let current = crd;
    const wanted = desiredStatus(crd, this.sameGroup(crd.spec?.group));
    if (this.leadership.isLeader && !deepEqual(wanted, crd.status ?? {})) {
      // Serving starts before the status says Established: a read may see the status write before it is
      // acknowledged, and clients create instances as soon as they see it.
      const expected = { ...crd, status: wanted };
      if (isConditionTrue(expected, 'NamesAccepted') || isConditionTrue(expected, 'Established')) this.serve(expected);
      const written = await this.crds.guaranteedUpdate(name, SYSTEM, 'status', undefined, (latest) => {
        if (!latest) throw new StatusError(404, 'NotFound', `customresourcedefinition ${name} is gone`);
        latest.status = desiredStatus(latest, this.sameGroup(latest.spec?.group));
        return latest;
      });
      current = written.object;
    }
    if (isConditionTrue(current, 'NamesAccepted') || isConditionTrue(current, 'Established')) this.serve(current);
    else this.unserve(name);
  }

  /** (Re)registers every served version; a CRD whose spec and names did not change is left alone. */
  private serve(crd: KubeObject): void {
    const name = crd.metadata.name!;
    const spec = crd.spec as CrdSpec;
    const accepted = acceptedNamesOf(crd);
    const fingerprint = JSON.stringify({ spec, accepted });
    if (this.served.get(name)?.fingerprint === fingerprint) return;
    this.unserve(name);
    const versions: Served['versions'] = [];
    // One converter for every version: objects are stored in the storage version and converted on the way out.
    const converter = crdConverter(spec, this.serviceResolver);
    for (const version of spec.versions) {
      if (!version.served) continue;
      // Compiled once per CRD generation; the new store replaces the old one in one step.
      const validation = compileValidation(name, spec.group, version);
      const definition = customResourceDefinitionFor(spec, accepted, version, () => this.terminating.has(name), validation);
      const storage = new ReadNormalizingStorage(this.storage, definition.storagePrefix, (value) => validation.fromStorage(value), version.storage === true);
      this.server.addResource({ definition, storage, hooks: { structuralCheck: validation.structuralCheck, converter } });
      versions.push({ group: definition.group, version: definition.version, plural: definition.plural });
    }
    this.served.set(name, { fingerprint, versions });
  }

  /** The store of a served custom resource (the first served version's: every version shares its storage). */
  storeFor(group: string, plural: string): GenericStore | undefined {
    for (const { versions } of this.served.values()) {
      const version = versions.find((candidate) => candidate.group === group && candidate.plural === plural);
      if (version) return this.server.resourceEntry(group, version.version, plural)?.store;
    }
    return undefined;
  }

  private unserve(name: string): void {
    const served = this.served.get(name);
    if (!served) return;
    for (const { group, version, plural } of served.versions) this.server.removeResource(group, version, plural);
    this.served.delete(name);
  }

  /** Upstream's finalizer controller: mark Terminating, delete every instance, then drop the finalizer. */
  private async finalize(crd: KubeObject): Promise<void> {
    const name = crd.metadata.name!;
    if (!(crd.metadata.finalizers ?? []).includes(CLEANUP_FINALIZER)) return;
    this.terminating.add(name);
    await this.setTerminating(name, { type: 'Terminating', status: 'True', reason: 'InstanceDeletionInProgress', message: 'CustomResource deletion is in progress' });
    const remaining = await this.deleteInstances(crd);
    if (remaining > 0) {
      // Instances with finalizers of their own: wait for their owners.
      this.enqueueLater(name);
      return;
    }
    await this.setTerminating(name, { type: 'Terminating', status: 'False', reason: 'InstanceDeletionCompleted', message: 'removed all instances' });
    await this.crds.guaranteedUpdate(name, SYSTEM, '', undefined, (latest) => {
      if (!latest) throw new StatusError(404, 'NotFound', `customresourcedefinition ${name} is gone`);
      latest.metadata.finalizers = (latest.metadata.finalizers ?? []).filter((finalizer) => finalizer !== CLEANUP_FINALIZER);
      return latest;
    });
  }

  private async setTerminating(name: string, condition: { type: string; status: 'True' | 'False'; reason: string; message: string }): Promise<void> {
    await this.crds.guaranteedUpdate(name, SYSTEM, 'status', undefined, (latest) => {
      if (!latest) throw new StatusError(404, 'NotFound', `customresourcedefinition ${name} is gone`);
      const status = (latest.status ?? {}) as CrdStatus;
      latest.status = { ...status, conditions: setCondition(status.conditions ?? [], condition) };
      return latest;
    });
  }

  /** Deletes every stored instance; returns how many are still there (kept by their finalizers). */
  private async deleteInstances(crd: KubeObject): Promise<number> {
    const spec = crd.spec as CrdSpec;
    const storageVersion = spec.versions.find((version) => version.storage) ?? spec.versions[0];
    const accepted = acceptedNamesOf(crd);
    // A store of its own (not served): deletion only needs storage, and a never-established CRD has no served store.
    const store = new Store(customResourceDefinitionFor(spec, accepted, storageVersion, () => true), this.storage);
    const listed = await this.storage.list(store.resource.storagePrefix);
    let remaining = 0;
    for (const item of listed.items) {
      const object = JSON.parse(item.value) as KubeObject;
      try {
        const result = await store.delete(object.metadata.name!, {}, { ...SYSTEM, namespace: object.metadata.namespace ?? '' });
        if (!result.deleted) remaining++;
      } catch (error) {
        if (!(error instanceof StatusError && error.code === 404)) throw error;
      }
    }
    return remaining;
  }
}

/** A schema CRD validation let through but that cannot be compiled (e.g. nested too deeply) keeps only structure. */
function compileValidation(crdName: string, group: string, version: CrdVersion): CustomResourceValidation {
  try {
    return new CustomResourceValidation(version.schema?.openAPIV3Schema as JSONSchema | undefined, `${group}/${version.name}`, version.subresources?.scale as ScalePaths | undefined);
  } catch (error) {
    console.error(`[crd-controller] ${crdName} ${version.name}: schema not compiled, fields are kept unvalidated: ${(error as Error).message}`);
    return new CustomResourceValidation(undefined, `${group}/${version.name}`);
  }
}

/** The names to serve under: the accepted ones, falling back to the requested ones where none were accepted yet. */
function acceptedNamesOf(crd: KubeObject): CrdNames {
  const accepted = (crd.status as CrdStatus | undefined)?.acceptedNames ?? {};
  const filled = Object.fromEntries(Object.entries(accepted).filter(([, value]) => (Array.isArray(value) ? true : Boolean(value))));
  return { ...requestedNames(crd.spec as CrdSpec), ...filled } as CrdNames;
}
