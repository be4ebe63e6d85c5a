// Merged discovery across backends: aggregated v2/v2beta1 and legacy documents for /api and /apis, and
// /apis/<group> answered by the aggregator itself. Groups and versions are ordered by APIService
// priority; a backend that stops answering keeps its last known resources, marked Stale, so one dead
// backend never breaks discovery for the others.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { AGGREGATED_DISCOVERY_V2, AGGREGATED_DISCOVERY_V2BETA1, negotiateDiscovery } from '../apiserver/request/negotiation.js';
import type { GroupSummary } from '../apiserver/discovery/documents.js';
import { aggregatedDiscoveryList, apiGroup, apiGroupList, apiVersions, compareKubeVersions, etagOf } from '../apiserver/discovery/documents.js';
import type { Backend } from './backend.js';
import { priorityOf } from './priorities.js';

interface MergedVersion {
  group: string;
  version: string;
  backend: Backend;
  resources: Record<string, unknown>[];
  stale: boolean;
}

interface Rendered {
  bytes: string;
  etag: string;
  contentType: string;
}

export class MergedDiscovery {
  private versions: MergedVersion[] = [];
  private readonly rendered = new Map<string, Rendered>();
  /** "group/version" → backend that serves it. */
  readonly routes = new Map<string, Backend>();

  constructor(
    private readonly backends: Backend[],
    private readonly serverAddress: () => string,
  ) {}

  rebuild(): void {
    const versions: MergedVersion[] = [];
    const routes = new Map<string, Backend>();
    for (const backend of this.backends) {
      for (const group of backend.groups) {
        for (const version of group.versions) {
          const key = `${group.name}/${version.version}`;
          if (routes.has(key)) continue;
          routes.set(key, backend);
          versions.push({ group: group.name, version: version.version, backend, resources: version.resources, stale: !backend.ready });
        }
      }
    }
    this.versions = versions;
    this.routes.clear();
    for (const [key, backend] of routes) this.routes.set(key, backend);
    this.rendered.clear();
  }

  backendFor(group: string, version: string): Backend | undefined {
    return this.routes.get(`${group}/${version}`);
  }

  private ordered(core: boolean): GroupSummary[] {
    const byGroup = new Map<string, MergedVersion[]>();
    for (const version of this.versions) {
      if ((version.group === '') !== core) continue;
      if (!byGroup.has(version.group)) byGroup.set(version.group, []);
      byGroup.get(version.group)!.push(version);
    }
    const groups = [...byGroup.entries()].map(([name, versions]) => ({
      name,
      priority: Math.max(...versions.map((v) => priorityOf(v.group, v.version).group)),
      versions: versions
        .sort((a, b) => priorityOf(b.group, b.version).version - priorityOf(a.group, a.version).version || compareKubeVersions(a.version, b.version))
        .map((v) => v.version),
    }));
    groups.sort((a, b) => b.priority - a.priority || a.name.localeCompare(b.name));
    return groups.map(({ name, versions }) => ({ name, versions }));
  }

  private find(group: string, version: string): MergedVersion | undefined {
    return this.versions.find((v) => v.group === group && v.version === version);
  }

  private render(key: string, build: () => { document: unknown; contentType: string }): Rendered {
    let rendered = this.rendered.get(key);
    if (!rendered) {
      const { document, contentType } = build();
      const bytes = JSON.stringify(document);
      rendered = { bytes, etag: etagOf(bytes), contentType };
      this.rendered.set(key, rendered);
    }
    return rendered;
  }

  /** Serves /api, /apis and /apis/<group>; returns false for other paths. */
  serve(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    const normalized = path.replace(/\/+$/, '');
    let rendered: Rendered;
    if (normalized === '/api' || normalized === '/apis') {
      const core = normalized === '/api';
      const format = negotiateDiscovery(req.headers.accept);
      rendered = this.render(`${normalized}:${format}`, () => {
        const groups = this.ordered(core);
        if (format === 'legacy') {
          // Legacy clients cannot express staleness: list only what is being served.
          const live = groups
            .map((group) => ({ name: group.name, versions: group.versions.filter((version) => !this.find(group.name, version)?.stale) }))
            .filter((group) => group.versions.length > 0);
          return { document: core ? apiVersions(this.serverAddress()) : apiGroupList(live), contentType: 'application/json' };
        }
        const items = groups.map((group) => ({
          name: group.name,
          versions: group.versions.map((version) => {
            const merged = this.find(group.name, version)!;
            return { version, resources: merged.resources, freshness: merged.stale ? ('Stale' as const) : ('Current' as const) };
          }),
        }));
        return { document: aggregatedDiscoveryList(items, format), contentType: format === 'v2' ? AGGREGATED_DISCOVERY_V2 : AGGREGATED_DISCOVERY_V2BETA1 };
      });
      res.setHeader('Vary', 'Accept');
    } else {
      const match = /^\/apis\/([^/]+)$/.exec(normalized);
      if (!match) return false;
      const summary = this.ordered(false).find((group) => group.name === match[1]);
      if (!summary) return false;
      rendered = this.render(normalized, () => ({ document: apiGroup(summary), contentType: 'application/json' }));
    }
    res.setHeader('ETag', rendered.etag);
    res.setHeader('Cache-Control', 'public');
    if (req.headers['if-none-match'] === rendered.etag) {
      res.statusCode = 304;
      res.end();
      return true;
    }
    res.statusCode = 200;
    res.setHeader('Content-Type', rendered.contentType);
    res.setHeader('Content-Length', Buffer.byteLength(rendered.bytes));
    res.end(req.method === 'HEAD' ? undefined : rendered.bytes);
    return true;
  }
}
