// The garbage collector (kube-controller-manager's): it watches every deletable resource of every group the
// aggregator serves — built-in, custom resources, extension servers — keeps the ownership graph, and acts
// on it: dependents whose owners are all gone are deleted, a `foregroundDeletion` owner loses its finalizer
// once no blocking dependent remains, and an `orphan` owner's dependents lose their references to it
// before its finalizer goes. Owners are checked with live reads by uid, as upstream does: a reference
// whose uid does not match the object found under its coordinates points at an owner that is gone.
// Groups are followed as they come and go; watching is event-driven, there is no periodic scan.

import type { KubeObject, OwnerReference } from '../../apiserver/registry/object.js';
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER, type PropagationPolicy } from '../../apiserver/registry/delete-propagation.js';
import { compareKubeVersions } from '../../apiserver/discovery/documents.js';
import { apiCall } from '../api-client.js';
import type { ApiServiceRouter, VersionSource } from '../api-service-router.js';
import type { ProxyTarget } from '../remote-discovery.js';
import type { GraphNode, GraphWork, ObjectIdentity } from './graph.js';
import { OwnershipGraph } from './graph.js';
import type { Monitor, MonitoredResource } from './monitors.js';
import { collectionPath, startMonitor } from './monitors.js';
import { WorkQueue, type WorkResult } from './work-queue.js';

const REFRESH_INTERVAL_MS = 2000;
const DELETE_WORKERS = 4;
const ORPHAN_WORKERS = 2;
/** A monitor that cannot list for this long no longer holds the workers back. */
const SYNC_GRACE_MS = 30_000;
const ABSENT_CACHE_LIMIT = 10_000;
const UPDATE_RETRIES = 5;

/** Raised when a cluster-scoped object names a namespaced owner: never resolvable, so not retried. */
class InvalidOwnerScope extends Error {}

interface Mapping {
  group: string;
  version: string;
  resource: string;
  namespaced: boolean;
}

interface KnownGroup {
  versions: { version: string; priority: number; resources: Record<string, unknown>[] }[];
  mappings: Map<string, Mapping>;
  monitored: Set<string>;
}

/** The same served versions, in the same order, each with the very same resources (by identity). */
function sameVersions(known: KnownGroup['versions'], versions: VersionSource[]): boolean {
  return known.length === versions.length && versions.every((version, index) => known[index].version === version.version && known[index].priority === version.versionPriority && known[index].resources === version.resources);
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

function versionOf(apiVersion: string): string {
  return apiVersion.slice(apiVersion.indexOf('/') + 1);
}

function verbsOf(resource: Record<string, unknown>): string[] {
  return Array.isArray(resource.verbs) ? (resource.verbs as string[]) : [];
}

export class GarbageCollector {
  readonly graph = new OwnershipGraph();
  private readonly monitors = new Map<string, Monitor>();
  private readonly mappings = new Map<string, Mapping>();
  /** What each group's mappings and monitors were derived from (see refreshMonitors). */
  private readonly groups = new Map<string, KnownGroup>();
  /** The generation of what is served that the monitors follow (see refresh). */
  private seenGeneration: number | undefined;
  /** Monitors whose first list has not arrived yet (checking only those keeps each event's cost flat). */
  private readonly unsynced = new Set<Monitor>();
  private timer: NodeJS.Timeout | undefined;
  /** Owners confirmed absent, by group/kind/namespace/name/uid: many dependents of one owner need one read. */
  private readonly absent = new Set<string>();
  private readonly deletes = new WorkQueue<GraphNode>((node) => this.attemptToDelete(node), DELETE_WORKERS, (node, error) => this.log(node, error));
  private readonly orphans = new WorkQueue<GraphNode>((node) => this.attemptToOrphan(node), ORPHAN_WORKERS, (node, error) => this.log(node, error));

  constructor(
    private readonly router: Pick<ApiServiceRouter, 'versions' | 'route'>,
    /** The aggregator's own server, for its own group (APIServices). */
    private readonly self: ProxyTarget,
    /** Changes whenever what is served may have changed; without it every refresh reads everything again. */
    private readonly generation?: () => number,
  ) {}

  start(): void {
    this.refresh();
    this.timer = setInterval(() => this.refresh(), REFRESH_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    for (const monitor of this.monitors.values()) monitor.stop();
    this.monitors.clear();
    this.unsynced.clear();
    this.groups.clear();
    this.mappings.clear();
    this.seenGeneration = undefined;
    this.deletes.stop();
    this.orphans.stop();
  }

  /** True once every monitor delivered its first list (monitors that keep failing stop counting). */
  get synced(): boolean {
    const now = Date.now();
    for (const monitor of this.unsynced) {
      if (monitor.synced || now - monitor.startedAt > SYNC_GRACE_MS) this.unsynced.delete(monitor);
      else return false;
    }
    return true;
  }

  private log(node: GraphNode, error: Error): void {
    const { apiVersion, kind, namespace, name } = node.identity;
    console.error(`[garbage-collector] ${kind}.${apiVersion} ${namespace ? `${namespace}/` : ''}${name}: ${error.message}`);
  }

  // ---- following the groups ------------------------------------------------------------------------

  /** Re-reads what the aggregator serves; starts and stops monitors when groups or resources changed. */
  refresh(): void {
    // Reading every served version costs in proportion to the number of CRDs: only after a change.
    const generation = this.generation?.();
    if (generation === undefined || generation !== this.seenGeneration) this.refreshMonitors();
    this.seenGeneration = generation;
    this.holdUntilSynced();
  }

  /**
   * Group by group: a group whose served versions and resources are the same objects as at the last look
   * (discovery keeps a group's resources until that group changes) costs a comparison, so one new CRD
   * starts one monitor without re-deriving the mappings of every other group.
   */
  private refreshMonitors(): void {
    const byGroup = new Map<string, VersionSource[]>();
    for (const version of this.router.versions()) {
      if (version.stale) continue;
      const versions = byGroup.get(version.group);
      if (versions) versions.push(version);
      else byGroup.set(version.group, [version]);
    }
    for (const [group, known] of this.groups) {
      if (!byGroup.has(group)) this.applyGroup(group, known, undefined);
    }
    for (const [group, versions] of byGroup) {
      const known = this.groups.get(group);
      if (known && sameVersions(known.versions, versions)) continue;
      this.applyGroup(group, known, versions);
    }
  }

  /** Replaces one group's mappings and monitors (versions undefined: the group is gone). */
  private applyGroup(group: string, known: KnownGroup | undefined, versions: VersionSource[] | undefined): void {
    for (const key of known?.mappings.keys() ?? []) this.mappings.delete(key);
    const mappings = versions ? mappingsOf(versions) : new Map<string, Mapping>();
    for (const [key, mapping] of mappings) this.mappings.set(key, mapping);
    const wanted = versions ? monitoredResources(versions) : new Map<string, MonitoredResource>();
    for (const key of known?.monitored ?? []) {
      const monitor = this.monitors.get(key);
      const desired = wanted.get(key);
      if (monitor && (!desired || desired.version !== monitor.resource.version)) {
        monitor.stop();
        this.monitors.delete(key);
        this.unsynced.delete(monitor);
      }
    }
    for (const [key, resource] of wanted) {
      if (this.monitors.has(key)) continue;
      const monitor = startMonitor(resource, () => this.targetFor(resource.group, resource.version), (type, object) => this.enqueue(this.observe(type, object)));
      this.monitors.set(key, monitor);
      this.unsynced.add(monitor);
    }
    if (versions) this.groups.set(group, { versions: versions.map((version) => ({ version: version.version, priority: version.versionPriority, resources: version.resources })), mappings, monitored: new Set(wanted.keys()) });
    else this.groups.delete(group);
  }

  private holdUntilSynced(): void {
    const synced = this.synced;
    this.deletes.pause(!synced);
    this.orphans.pause(!synced);
  }

  private observe(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubeObject): GraphWork[] {
    if (type === 'DELETED' && object.metadata?.uid) this.rememberAbsent(groupOf(String(object.apiVersion ?? '')), String(object.kind ?? ''), object.metadata.namespace ?? '', object.metadata.name ?? '', object.metadata.uid);
    const work = this.graph.apply(type, object);
    if (!this.synced) setImmediate(() => this.holdUntilSynced());
    return work;
  }

  private enqueue(work: GraphWork[]): void {
    for (const item of work) (item.queue === 'orphan' ? this.orphans : this.deletes).add(item.node);
  }

  private targetFor(group: string, version: string): ProxyTarget | undefined {
    const route = this.router.route(group, version);
    if (!route) return undefined;
    if (route.kind === 'self') return this.self;
    return route.kind === 'proxy' ? route.target : undefined;
  }

  /** The served resource of a kind; another served version of the group when this one is not served. */
  private mappingFor(apiVersion: string, kind: string): Mapping | undefined {
    const group = groupOf(apiVersion);
    return this.mappings.get(`${group}/${versionOf(apiVersion)}/${kind}`) ?? this.mappings.get(`${group}//${kind}`);
  }

  private pathOf(mapping: Mapping, namespace: string, name: string): string {
    const collection = collectionPath(mapping);
    const scoped = mapping.namespaced ? collection.replace(/\/([^/]+)$/, `/namespaces/${encodeURIComponent(namespace)}/$1`) : collection;
    return `${scoped}/${encodeURIComponent(name)}`;
  }

  private async call(mapping: Mapping, method: string, namespace: string, name: string, body?: unknown) {
    const target = this.targetFor(mapping.group, mapping.version);
    if (!target) throw new Error(`${mapping.group || 'core'}/${mapping.version} is not reachable`);
    return apiCall(target, method, this.pathOf(mapping, namespace, name), body);
  }

  private absentKey(group: string, kind: string, namespace: string, name: string, uid: string): string {
    return `${group}|${kind}|${namespace}|${name}|${uid}`;
  }

  private rememberAbsent(group: string, kind: string, namespace: string, name: string, uid: string): void {
    if (this.absent.size >= ABSENT_CACHE_LIMIT) this.absent.delete(this.absent.values().next().value as string);
    this.absent.add(this.absentKey(group, kind, namespace, name, uid));
  }

  // ---- live reads ------------------------------------------------------------------------------------

  /** The live object at a node's coordinates, or undefined when absent or replaced (another uid). */
  private async readLive(identity: ObjectIdentity): Promise<KubeObject | undefined> {
    const mapping = this.mappingFor(identity.apiVersion, identity.kind);
    if (!mapping) throw new Error(`no served resource for kind ${identity.kind} in ${identity.apiVersion}`);
    const response = await this.call(mapping, 'GET', mapping.namespaced ? identity.namespace : '', identity.name);
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw new Error(`reading it answered ${response.status}: ${response.body.message ?? ''}`);
    return response.body.metadata?.uid === identity.uid ? response.body : undefined;
  }

  /** Upstream's isDangling: the owner a reference names, read live in the dependent's namespace. */
  private async readOwner(reference: OwnerReference, dependent: ObjectIdentity): Promise<KubeObject | undefined> {
    const mapping = this.mappingFor(reference.apiVersion, reference.kind);
    if (!mapping) throw new Error(`no served resource for owner kind ${reference.kind} in ${reference.apiVersion}`);
    if (mapping.namespaced && !dependent.namespace) throw new InvalidOwnerScope(`cluster-scoped ${dependent.kind} ${dependent.name} names a namespaced owner ${reference.kind} ${reference.name}`);
    const namespace = mapping.namespaced ? dependent.namespace : '';
    const key = this.absentKey(mapping.group, reference.kind, namespace, reference.name, reference.uid);
    if (this.absent.has(key)) return undefined;
    const owner = await this.readLive({ apiVersion: reference.apiVersion, kind: reference.kind, namespace, name: reference.name, uid: reference.uid });
    if (!owner) this.rememberAbsent(mapping.group, reference.kind, namespace, reference.name, reference.uid);
    return owner;
  }

  // ---- writes --------------------------------------------------------------------------------------

  /** Read-modify-write of a node's object with its resourceVersion; `change` answers false for "nothing to do". */
  private async updateLive(node: GraphNode, change: (object: KubeObject) => boolean): Promise<void> {
    const mapping = this.mappingFor(node.identity.apiVersion, node.identity.kind);
    if (!mapping) throw new Error(`no served resource for kind ${node.identity.kind}`);
    const namespace = mapping.namespaced ? node.identity.namespace : '';
    for (let attempt = 0; ; attempt++) {
      const object = await this.readLive(node.identity);
      if (!object || !change(object)) return;
      const response = await this.call(mapping, 'PUT', namespace, node.identity.name, object);
      if (response.status < 300 || response.status === 404) return;
      if (response.status !== 409 || attempt >= UPDATE_RETRIES) throw new Error(`update answered ${response.status}: ${response.body.message ?? ''}`);
    }
  }

  private removeOwnerReferences(node: GraphNode, ownerUids: Set<string>): Promise<void> {
    return this.updateLive(node, (object) => {
      const references = object.metadata.ownerReferences ?? [];
      const kept = references.filter((reference) => !ownerUids.has(reference.uid));
      if (kept.length === references.length) return false;
      if (kept.length > 0) object.metadata.ownerReferences = kept;
      else delete object.metadata.ownerReferences;
      return true;
    });
  }

  private removeFinalizer(node: GraphNode, finalizer: string): Promise<void> {
    return this.updateLive(node, (object) => {
      const finalizers = object.metadata.finalizers ?? [];
      if (!finalizers.includes(finalizer)) return false;
      object.metadata.finalizers = finalizers.filter((candidate) => candidate !== finalizer);
      return true;
    });
  }

  private async deleteObject(node: GraphNode, policy: PropagationPolicy): Promise<void> {
    const mapping = this.mappingFor(node.identity.apiVersion, node.identity.kind);
    if (!mapping) throw new Error(`no served resource for kind ${node.identity.kind}`);
    const options = { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: policy, preconditions: { uid: node.identity.uid } };
    const response = await this.call(mapping, 'DELETE', mapping.namespaced ? node.identity.namespace : '', node.identity.name, options);
    // 404: already gone; 409: the uid precondition failed, so the object we meant is gone too.
    if (response.status >= 300 && response.status !== 404 && response.status !== 409) throw new Error(`delete answered ${response.status}: ${response.body.message ?? ''}`);
  }

  // ---- the two workers -----------------------------------------------------------------------------

  /** Upstream's attemptToDeleteItem. */
  private async attemptToDelete(node: GraphNode): Promise<WorkResult> {
    if (node.beingDeleted && !node.deletingDependents) return 'done';
    let live: KubeObject | undefined;
    try {
      live = await this.readLive(node.identity);
    } catch (error) {
      // An owner of a kind nobody serves (yet): keep it in the graph, try again later.
      if (node.virtual) return 'retry';
      throw error;
    }
    if (!live) {
      // Gone (or replaced by another object of the same name): its dependents have lost this owner.
      this.enqueue(this.graph.confirmAbsent(node));
      return 'done';
    }
    if (node.deletingDependents) return this.processDeletingDependents(node);
    const references = live.metadata.ownerReferences ?? [];
    if (references.length === 0) return 'done';

    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    try {
      for (const reference of references) {
        const owner = await this.readOwner(reference, node.identity);
        if (!owner) dangling.push(reference);
        else if (owner.metadata.deletionTimestamp && (owner.metadata.finalizers ?? []).includes(FOREGROUND_FINALIZER)) waiting.push(reference);
        else solid.push(reference);
      }
    } catch (error) {
      if (error instanceof InvalidOwnerScope) {
        console.error(`[garbage-collector] ${error.message}; the reference is ignored`);
        return 'done';
      }
      throw error;
    }

    if (solid.length > 0) {
      // Still owned: references to owners that are gone, or waiting for dependents like this one, go.
      if (dangling.length === 0 && waiting.length === 0) return 'done';
      await this.removeOwnerReferences(node, new Set([...dangling, ...waiting].map((reference) => reference.uid)));
      return 'done';
    }
    if (waiting.length > 0 && node.dependents.size > 0) {
      // An owner waits for this one, which has dependents of its own: delete it in the foreground too. A
      // dependent that is itself deleting its dependents may form a cycle, so this one stops blocking.
      if ([...node.dependents].some((dependent) => dependent.deletingDependents)) {
        await this.updateLive(node, (object) => {
          let changed = false;
          for (const reference of object.metadata.ownerReferences ?? []) {
            if (reference.blockOwnerDeletion) {
              reference.blockOwnerDeletion = false;
              changed = true;
            }
          }
          return changed;
        });
      }
      await this.deleteObject(node, 'Foreground');
      return 'done';
    }
    const finalizers = live.metadata.finalizers ?? [];
    const policy: PropagationPolicy = finalizers.includes(ORPHAN_FINALIZER) ? 'Orphan' : finalizers.includes(FOREGROUND_FINALIZER) ? 'Foreground' : 'Background';
    await this.deleteObject(node, policy);
    return 'done';
  }

  /** A foreground owner: done when no dependent blocks it any more; until then its blockers are deleted. */
  private async processDeletingDependents(node: GraphNode): Promise<WorkResult> {
    const blocking = this.graph.blockingDependents(node);
    if (blocking.length === 0) {
      await this.removeFinalizer(node, FOREGROUND_FINALIZER);
      return 'done';
    }
    for (const dependent of blocking) if (!dependent.deletingDependents) this.deletes.add(dependent);
    return 'done';
  }

  /** Upstream's attemptToOrphanWorker: dependents lose their references to the owner, then the owner its finalizer. */
  private async attemptToOrphan(owner: GraphNode): Promise<WorkResult> {
    const uid = new Set([owner.identity.uid]);
    await Promise.all([...owner.dependents].map((dependent) => this.removeOwnerReferences(dependent, uid)));
    await this.removeFinalizer(owner, ORPHAN_FINALIZER);
    return 'done';
  }
}

/** Kind → resource for every served group-version, plus `group//kind` for "any served version". */
function mappingsOf(versions: VersionSource[]): Map<string, Mapping> {
  const mappings = new Map<string, Mapping>();
  for (const version of preferredFirst(versions)) {
    for (const resource of version.resources) {
      const name = String(resource.resource ?? '');
      const responseKind = resource.responseKind as { kind?: string } | undefined;
      if (!name || name.includes('/') || !responseKind?.kind) continue;
      const mapping = { group: version.group, version: version.version, resource: name, namespaced: resource.scope === 'Namespaced' };
      mappings.set(`${version.group}/${version.version}/${responseKind.kind}`, mapping);
      if (!mappings.has(`${version.group}//${responseKind.kind}`)) mappings.set(`${version.group}//${responseKind.kind}`, mapping);
    }
  }
  return mappings;
}

function preferredFirst(versions: VersionSource[]): VersionSource[] {
  return [...versions].sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : b.versionPriority - a.versionPriority || compareKubeVersions(a.version, b.version)));
}

/** Each deletable, watchable resource once per group, at the most preferred version that serves it. */
function monitoredResources(versions: VersionSource[]): Map<string, MonitoredResource> {
  const wanted = new Map<string, MonitoredResource>();
  for (const version of preferredFirst(versions)) {
    for (const resource of version.resources) {
      const name = String(resource.resource ?? '');
      const verbs = verbsOf(resource);
      const responseKind = resource.responseKind as { kind?: string } | undefined;
      if (!name || name.includes('/') || !['list', 'watch', 'delete'].every((verb) => verbs.includes(verb))) continue;
      const key = `${version.group}/${name}`;
      if (!wanted.has(key)) wanted.set(key, { group: version.group, version: version.version, resource: name, kind: responseKind?.kind ?? '', namespaced: resource.scope === 'Namespaced' });
    }
  }
  return wanted;
}
