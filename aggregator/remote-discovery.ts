// Discovery and OpenAPI of one remote APIService's group-version, fetched from the extension server:
// aggregated discovery first, legacy /apis/<g>/<v> when the server does not speak it (upstream falls back
// the same way, k/k#119662). The last good answer is kept when the server stops answering, so its
// group-version stays in discovery, marked Stale, with the resources it had.

import type https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { UserInfo } from '../apiserver/registry/object.js';
import { AGGREGATED_DISCOVERY_V2 } from '../apiserver/request/negotiation.js';
import { fetchFromBackend } from './backend-client.js';
import { discoveryPath } from './availability.js';

/** A server in this process (the all-in-one chain): requests are handed over without an HTTP hop. */
export interface InProcessServer {
  serveAuthenticated(req: IncomingMessage, res: ServerResponse, user: UserInfo): Promise<void>;
  /** Upgrade requests (exec, attach, port-forward, proxied websockets), already authenticated and authorized. */
  serveUpgradeAuthenticated?(req: IncomingMessage, socket: Duplex, head: Buffer, user: UserInfo): Promise<void>;
  discoverySnapshot(): { groups: { name: string; versions: { version: string; resources: Record<string, unknown>[] }[] }[]; openapiPaths: Record<string, { serverRelativeURL: string }> };
  openapiDocument(key: string): string | undefined;
  health: { run(endpoint: string, excluded: Set<string>): Promise<{ ok: boolean; body: string }> };
  onDiscoveryChange?(listener: () => void): () => void;
}

export interface ProxyTarget {
  name: string;
  url: string;
  agent: https.Agent;
  target: { protocol: string; host: string; port: number };
  inProcess?: InProcessServer;
}

export function proxyTarget(name: string, url: string, agent: https.Agent): ProxyTarget {
  const parsed = new URL(url);
  return { name, url, agent, target: { protocol: parsed.protocol, host: parsed.hostname, port: Number(parsed.port || 443) } };
}

interface LegacyResource {
  name: string;
  singularName?: string;
  namespaced?: boolean;
  kind: string;
  verbs?: string[];
  shortNames?: string[];
  categories?: string[];
  group?: string;
  version?: string;
}

/** Legacy APIResourceList → aggregated resources (subresources folded into their parents). */
export function aggregatedFromLegacy(group: string, version: string, resources: LegacyResource[]): Record<string, unknown>[] {
  const result = new Map<string, Record<string, unknown>>();
  for (const resource of resources.filter((r) => !r.name.includes('/'))) {
    const entry: Record<string, unknown> = {
      resource: resource.name,
      responseKind: { group: resource.group ?? group, version: resource.version ?? version, kind: resource.kind },
      scope: resource.namespaced ? 'Namespaced' : 'Cluster',
      singularResource: resource.singularName ?? '',
      verbs: resource.verbs ?? [],
    };
    if (resource.shortNames?.length) entry.shortNames = resource.shortNames;
    if (resource.categories?.length) entry.categories = resource.categories;
    result.set(resource.name, entry);
  }
  for (const resource of resources.filter((r) => r.name.includes('/'))) {
    const [parent, subresource] = resource.name.split('/');
    const entry = result.get(parent);
    if (!entry) continue;
    const subresources = (entry.subresources as Record<string, unknown>[] | undefined) ?? [];
    subresources.push({ subresource, responseKind: { group: resource.group ?? group, version: resource.version ?? version, kind: resource.kind }, verbs: resource.verbs ?? [] });
    entry.subresources = subresources;
  }
  return [...result.values()];
}

export class RemoteDiscovery {
  resources: Record<string, unknown>[] | undefined;
  openapiPaths: Record<string, { serverRelativeURL: string }> = {};
  lastError: string | undefined;
  lastFetched = 0;
  private fetching: Promise<boolean> | undefined;

  constructor(
    readonly apiServiceName: string,
    readonly group: string,
    readonly version: string,
  ) {}

  /** Fetches discovery and the OpenAPI index; returns whether anything changed. */
  refresh(target: ProxyTarget): Promise<boolean> {
    this.fetching ??= this.fetch(target).finally(() => (this.fetching = undefined));
    return this.fetching;
  }

  private async fetch(target: ProxyTarget): Promise<boolean> {
    const before = JSON.stringify([this.resources, this.openapiPaths]);
    try {
      this.resources = await this.fetchResources(target);
      this.lastError = undefined;
    } catch (error) {
      this.lastError = (error as Error).message;
    }
    try {
      const index = await fetchFromBackend(target.url, target.agent, '/openapi/v3', { Accept: 'application/json' });
      if (index.status === 200) {
        const paths = (JSON.parse(index.body) as { paths?: Record<string, { serverRelativeURL: string }> }).paths ?? {};
        const key = this.group ? `apis/${this.group}/${this.version}` : `api/${this.version}`;
        this.openapiPaths = paths[key] ? { [key]: paths[key] } : {};
      }
    } catch {
      // OpenAPI is optional for extension servers (upstream skips a missing spec).
    }
    this.lastFetched = Date.now();
    return JSON.stringify([this.resources, this.openapiPaths]) !== before;
  }

  private async fetchResources(target: ProxyTarget): Promise<Record<string, unknown>[]> {
    const aggregated = await fetchFromBackend(target.url, target.agent, this.group ? '/apis' : '/api', { Accept: AGGREGATED_DISCOVERY_V2 });
    const contentType = String(aggregated.headers['content-type'] ?? '');
    if (aggregated.status === 200 && contentType.includes('as=APIGroupDiscoveryList')) {
      const document = JSON.parse(aggregated.body) as { items?: { metadata?: { name?: string }; versions?: { version: string; resources?: Record<string, unknown>[] }[] }[] };
      const group = (document.items ?? []).find((item) => (item.metadata?.name ?? '') === this.group);
      const version = group?.versions?.find((candidate) => candidate.version === this.version);
      if (version) return version.resources ?? [];
    }
    const legacy = await fetchFromBackend(target.url, target.agent, discoveryPath(this.group, this.version), { Accept: 'application/json' });
    if (legacy.status !== 200) throw new Error(`bad status from ${target.url}${discoveryPath(this.group, this.version)}: ${legacy.status}`);
    const list = JSON.parse(legacy.body) as { resources?: LegacyResource[] };
    return aggregatedFromLegacy(this.group, this.version, list.resources ?? []);
  }
}
