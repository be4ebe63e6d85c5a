// APIServices → routes. Each group-version has one entry, rebuilt (and its TLS agent built) only when its
// APIService changes, never per request: local APIServices go to the backend process that serves the
// group-version, remote ones to their Service's endpoint. The same entries feed merged discovery and the
// OpenAPI index.

import { decodedObject, type CachedObject } from '../apiserver/storage/watch-cache.js';
import type { KubeObject } from '../apiserver/registry/object.js';
import type { GenericStore } from '../apiserver/registry/store.js';
import { StatusError } from '../apiserver/request/status.js';
import type { Backend } from './backend.js';
import type { AvailabilityController } from './availability.js';
import type { ObjectLookup } from './remote-endpoint.js';
import type { ProxyCredentials } from './remote-endpoint.js';
import { remoteAgent, resolveServiceEndpoint } from './remote-endpoint.js';
import type { ProxyTarget } from './remote-discovery.js';
import { RemoteDiscovery, proxyTarget } from './remote-discovery.js';
import type { DiscoveredGroup, DiscoveredVersion } from './backend.js';
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
  private entries = new Map<string, Entry>();
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

  /** Re-reads APIServices from the cache; keeps agents of unchanged remote entries. */
  rebuild(): boolean {
    // Backends replace their groups only when their discovery changed.
    if (this.backends.some((backend, index) => backend.groups !== this.localFrom[index])) {
      const local = new Map<string, Backend>();
      for (const backend of this.backends) {
        for (const group of backend.groups) {
          for (const version of group.versions) if (!local.has(`${group.name}/${version.version}`)) local.set(`${group.name}/${version.version}`, backend);
        }
      }
      this.localBackends = local;
      this.localFrom = this.backends.map((backend) => backend.groups);
    }
    const next = new Map<string, Entry>();
    let changed = false;
    for (const cached of this.apiServices.cache.list(this.apiServices.resource.storagePrefix)) {
      // An APIService unchanged since the last rebuild keeps its entry: a change of one costs no work per other.
      const unchanged = this.entryOf.get(cached);
      if (unchanged && this.entries.get(unchanged.key) === unchanged) {
        next.set(unchanged.key, unchanged);
        continue;
      }
      const apiService = decodedObject<KubeObject>(cached);
      const spec = apiService.spec ?? {};
      const group: string = spec.group ?? '';
      const version: string = spec.version ?? '';
      const specKey = JSON.stringify([spec.service, spec.caBundle, spec.insecureSkipTLSVerify]);
      const previous = this.entries.get(`${group}/${version}`);
      const entry: Entry = { key: `${group}/${version}`, name: apiService.metadata.name!, group, version, groupPriority: spec.groupPriorityMinimum ?? 1000, versionPriority: spec.versionPriority ?? 100, specKey };
      if (spec.service) {
        entry.remote =
          previous?.remote && previous.specKey === specKey
            ? previous.remote
            : { agent: remoteAgent(apiService, this.credentials), discovery: new RemoteDiscovery(entry.name, group, version), namespace: spec.service.namespace, service: spec.service.name, port: spec.service.port ?? 443 };
      }
      if (!previous || previous.specKey !== specKey || previous.groupPriority !== entry.groupPriority || previous.versionPriority !== entry.versionPriority) changed = true;
      next.set(entry.key, entry);
      this.entryOf.set(cached, entry);
    }
    if (next.size !== this.entries.size) changed = true;
    for (const [key, entry] of this.entries) if (!next.has(key) && entry.remote) entry.remote.agent.destroy();
    this.entries = next;
    return changed;
  }

  apiServiceFor(group: string, version: string): string | undefined {
    return this.entries.get(`${group}/${version}`)?.name;
  }

  /** group/version → the first backend serving it; recomputed in rebuild(), read on every request. */
  private localBackends = new Map<string, Backend>();
  /** Each backend's groups as localBackends was computed from. */
  private localFrom: unknown[] = [];

  private localBackend(group: string, version: string): Backend | undefined {
    return this.localBackends.get(`${group}/${version}`);
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
    return [...this.entries.values()].find((entry) => entry.name === name);
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
      [...this.entries.values()].map(async (entry) => {
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
      const discovered = backend ? findVersion(backend, entry.group, entry.version) : undefined;
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
    for (const entry of this.entries.values()) {
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

/** Each backend's discovered versions by group/version, per discovery document (hundreds of CRD groups: no linear scans). */
const versionIndexes = new WeakMap<DiscoveredGroup[], Map<string, DiscoveredVersion>>();

function findVersion(backend: Backend, group: string, version: string): DiscoveredVersion | undefined {
  let index = versionIndexes.get(backend.groups);
  if (!index) {
    index = new Map();
    for (const discovered of backend.groups) for (const candidate of discovered.versions) if (!index.has(`${discovered.name}/${candidate.version}`)) index.set(`${discovered.name}/${candidate.version}`, candidate);
    versionIndexes.set(backend.groups, index);
  }
  return index.get(`${group}/${version}`);
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
