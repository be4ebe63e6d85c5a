// APIServices → routes. Each group-version has one entry, rebuilt (and its TLS agent built) only when its
// APIService changes, never per request: local APIServices go to the backend process that serves the
// group-version, remote ones to their Service's endpoint. The same entries feed merged discovery and the
// OpenAPI index.

import { decodedObject, type CachedObject } from '../apiserver/storage/watch-cache.js';
import type { KubeObject } from '../apiserver/registry/object.js';
import type { GenericStore } from '../apiserver/registry/store.js';
import { storageKey } from '../apiserver/registry/resource.js';
import { StatusError } from '../apiserver/request/status.js';
import type { Backend } from './backend.js';
import type { AvailabilityController } from './availability.js';
import type { ObjectLookup } from './remote-endpoint.js';
import type { ProxyCredentials } from './remote-endpoint.js';
import { remoteAgent, resolveServiceEndpoint } from './remote-endpoint.js';
import type { ProxyTarget } from './remote-discovery.js';
import { RemoteDiscovery, proxyTarget } from './remote-discovery.js';
import { priorityOf } from './priorities.js';
import type https from 'node:https';

interface Entry {
  /** group/version, the entry's key in the routing table. */
  key: string;
  name: string;
  group: string;
  version: string;
  groupPriority: number;
  versionPriority: number;
  specKey: string;
  remote?: { agent: https.Agent; discovery: RemoteDiscovery; namespace: string; service: string; port: number };
}

export type Route = { kind: 'self' } | { kind: 'proxy'; target: ProxyTarget } | { kind: 'unavailable'; error: StatusError };

export interface VersionSource {
  group: string;
  version: string;
  groupPriority: number;
  versionPriority: number;
  resources: Record<string, unknown>[];
  stale: boolean;
}

export interface OpenApiSource {
  key: string;
  serverRelativeURL: string;
  target: ProxyTarget;
}

export class ApiServiceRouter {
  private readonly entries = new Map<string, Entry>();
  private readonly byName = new Map<string, Entry>();
  /** The entries of APIServices served by a Service (their discovery is fetched, their endpoints probed). */
  private readonly remoteEntries = new Map<string, Entry>();
  /** The entry made from each cached APIService revision (cache entries are replaced on every change). */
  private readonly entryOf = new WeakMap<CachedObject, Entry>();
  private readonly targets = new Map<string, ProxyTarget>();

  constructor(
    private readonly apiServices: GenericStore,
    private readonly backends: Backend[],
    private readonly services: ObjectLookup,
    private readonly endpoints: ObjectLookup,
    private readonly credentials: ProxyCredentials,
    private readonly availability: () => AvailabilityController,
    /** Group-versions the aggregator serves itself. */
    private readonly own: Map<string, Record<string, unknown>[]>,
    /** The aggregator's own server, for the OpenAPI of the group-versions it serves itself. */
    private readonly self?: ProxyTarget,
  ) {}

  /** Re-reads every APIService from the cache; keeps agents of unchanged remote entries. */
  rebuild(): boolean {
    const names = new Set<string>(this.byName.keys());
    for (const cached of this.apiServices.cache.list(this.apiServices.resource.storagePrefix)) names.add(cached.name);
    return this.update(names);
  }

  /** Re-reads the named APIServices (the ones whose watch events arrived): a change of one costs no work per other. */
  update(names: Iterable<string>): boolean {
    let changed = false;
    for (const name of names) if (this.updateOne(name)) changed = true;
    return changed;
  }

  private updateOne(name: string): boolean {
    const cached = this.apiServices.cache.get(storageKey(this.apiServices.resource, '', name));
    const previousByName = this.byName.get(name);
    if (!cached) {
      if (!previousByName) return false;
      this.removeEntry(previousByName);
      return true;
    }
    // An APIService unchanged since the last look keeps its entry.
    const unchanged = this.entryOf.get(cached);
    if (unchanged && previousByName === unchanged) return false;
    const apiService = decodedObject<KubeObject>(cached);
    const spec = apiService.spec ?? {};
    const group: string = spec.group ?? '';
    const version: string = spec.version ?? '';
    const specKey = JSON.stringify([spec.service, spec.caBundle, spec.insecureSkipTLSVerify]);
    const key = `${group}/${version}`;
    if (previousByName && previousByName.key !== key) this.removeEntry(previousByName);
    const previous = this.entries.get(key);
    const entry: Entry = { key, name, group, version, groupPriority: spec.groupPriorityMinimum ?? 1000, versionPriority: spec.versionPriority ?? 100, specKey };
    if (spec.service) {
      entry.remote =
        previous?.remote && previous.specKey === specKey
          ? previous.remote
          : { agent: remoteAgent(apiService, this.credentials), discovery: new RemoteDiscovery(entry.name, group, version), namespace: spec.service.namespace, service: spec.service.name, port: spec.service.port ?? 443 };
    }
    const changed = !previous || previous.specKey !== specKey || previous.groupPriority !== entry.groupPriority || previous.versionPriority !== entry.versionPriority;
    if (previous && previous.name !== name) this.byName.delete(previous.name);
    this.entries.set(key, entry);
    this.byName.set(name, entry);
    if (entry.remote) this.remoteEntries.set(key, entry);
    else this.remoteEntries.delete(key);
    this.entryOf.set(cached, entry);
    return changed;
  }

  private removeEntry(entry: Entry): void {
    if (this.entries.get(entry.key) === entry) {
      this.entries.delete(entry.key);
      this.remoteEntries.delete(entry.key);
    }
    if (this.byName.get(entry.name) === entry) this.byName.delete(entry.name);
    entry.remote?.agent.destroy();
  }

  apiServiceFor(group: string, version: string): string | undefined {
    return this.entries.get(`${group}/${version}`)?.name;
  }

  /** group/version → the first backend serving it, read on every request. */
  private localBackend(group: string, version: string): Backend | undefined {
    for (const backend of this.backends) if (backend.versionOf(group, version)) return backend;
    return undefined;
  }

  /** The remote endpoint of an APIService right now (also what the availability controller probes). */
  remoteTarget(entry: Entry): ProxyTarget | { reason: string; message: string } {
    const remote = entry.remote!;
    const resolution = resolveServiceEndpoint(this.services, this.endpoints, { namespace: remote.namespace, name: remote.service, port: remote.port });
    if (!resolution.ok) return { reason: resolution.reason, message: resolution.message };
    const key = `${entry.name}|${resolution.url}`;
    let target = this.targets.get(key);
    if (!target || target.agent !== remote.agent) {
      target = proxyTarget(entry.name, resolution.url, remote.agent);
      this.targets.set(key, target);
    }
    return target;
  }

  entryForApiService(name: string): Entry | undefined {
    return this.byName.get(name);
  }

  route(group: string, version: string): Route | undefined {
    if (this.own.has(`${group}/${version}`)) return { kind: 'self' };
    const entry = this.entries.get(`${group}/${version}`);
    if (!entry || !entry.remote) {
      // Local APIServices, and group-versions a backend serves before its APIService is registered.
      const backend = this.localBackend(group, version);
      return backend ? { kind: 'proxy', target: backend } : undefined;
    }
    const availability = this.availability().availability(entry.name);
    if (availability && !availability.available) return { kind: 'unavailable', error: unavailable(entry.name, availability.reason, availability.message) };
    const target = this.remoteTarget(entry);
    if ('reason' in target) return { kind: 'unavailable', error: unavailable(entry.name, target.reason, target.message) };
    return { kind: 'proxy', target };
  }

  /** Refreshes the discovery of every remote APIService (on changes, and periodically). */
  async refreshRemoteDiscovery(force = false): Promise<boolean> {
    let changed = false;
    await Promise.all(
      [...this.remoteEntries.values()].map(async (entry) => {
        if (!entry.remote) return;
        const availability = this.availability().availability(entry.name);
        if (availability && !availability.available) return;
        if (!force && entry.remote.discovery.resources && Date.now() - entry.remote.discovery.lastFetched < 30_000) return;
        const target = this.remoteTarget(entry);
        if ('reason' in target) return;
        if (await entry.remote.discovery.refresh(target)) changed = true;
      }),
    );
    return changed;
  }

  versions(): VersionSource[] {
    const result: VersionSource[] = [];
    const seen = new Set<string>();
    for (const [key, resources] of this.own) {
      const [group, version] = key.split('/');
      const priority = priorityOf(group, version);
      result.push({ group, version, groupPriority: priority.group, versionPriority: priority.version, resources, stale: false });
      seen.add(key);
    }
    for (const entry of this.entries.values()) {
      const key = `${entry.group}/${entry.version}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (entry.remote) {
        const availability = this.availability().availability(entry.name);
        const stale = !availability?.available || entry.remote.discovery.lastError !== undefined || entry.remote.discovery.resources === undefined;
        result.push({ group: entry.group, version: entry.version, groupPriority: entry.groupPriority, versionPriority: entry.versionPriority, resources: entry.remote.discovery.resources ?? [], stale });
        continue;
      }
      const backend = this.localBackend(entry.group, entry.version);
      const discovered = backend?.versionOf(entry.group, entry.version);
      if (!backend || !discovered) continue; // registered but not (yet) served: nothing to advertise
      result.push({ group: entry.group, version: entry.version, groupPriority: entry.groupPriority, versionPriority: entry.versionPriority, resources: discovered.resources, stale: !backend.ready });
    }
    // Served by a backend but not registered yet (registration follows within a second).
    for (const backend of this.backends) {
      for (const group of backend.groups) {
        for (const version of group.versions) {
          const key = `${group.name}/${version.version}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const priority = priorityOf(group.name, version.version);
          result.push({ group: group.name, version: version.version, groupPriority: priority.group, versionPriority: priority.version, resources: version.resources, stale: !backend.ready });
        }
      }
    }
    return result;
  }

  openapiSources(): OpenApiSource[] {
    const result: OpenApiSource[] = [];
    const seen = new Set<string>();
    if (this.self?.inProcess) {
      for (const [key, value] of Object.entries(this.self.inProcess.discoverySnapshot().openapiPaths)) {
        seen.add(key);
        result.push({ key, serverRelativeURL: value.serverRelativeURL, target: this.self });
      }
    }
    for (const entry of this.remoteEntries.values()) {
      if (!entry.remote) continue;
      const target = this.remoteTarget(entry);
      if ('reason' in target) continue;
      for (const [key, value] of Object.entries(entry.remote.discovery.openapiPaths)) {
        if (seen.has(key)) continue;
        seen.add(key);
        result.push({ key, serverRelativeURL: value.serverRelativeURL, target });
      }
    }
    for (const backend of this.backends) {
      for (const [key, value] of Object.entries(backend.openapiPaths)) {
        if (seen.has(key)) continue;
        seen.add(key);
        result.push({ key, serverRelativeURL: value.serverRelativeURL, target: backend });
      }
    }
    return result;
  }
}

/** Better than upstream's plain-text "service unavailable": a Status naming the APIService and why. */
export function unavailable(apiService: string, reason: string, message: string): StatusError {
  return new StatusError(503, 'ServiceUnavailable', `the server is currently unable to handle the request: APIService ${apiService} is not available (${reason}: ${message})`, {
    name: apiService,
    group: 'apiregistration.k8s.io',
    kind: 'apiservices',
    causes: [{ reason, message }],
    retryAfterSeconds: 1,
  });
}
