// Merged discovery across APIServices: aggregated v2/v2beta1 and legacy documents for /api and /apis, and
// /apis/<group> answered by the aggregator itself. Groups and versions are ordered by APIService
// priority; a backend that stops answering keeps its last known resources, marked Stale, so one dead
// backend never breaks discovery for the others.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { AGGREGATED_DISCOVERY_V2, AGGREGATED_DISCOVERY_V2BETA1, negotiateDiscovery, negotiatedPlainFormat } from '../apiserver/request/negotiation.js';
import { writeBytes } from '../apiserver/request/response.js';
import type { GroupSummary } from '../apiserver/discovery/documents.js';
import { aggregatedDiscoveryList, apiGroup, apiGroupList, apiVersions, compareKubeVersions } from '../apiserver/discovery/documents.js';
import { cachedDocument, serveCached, type CachedDocument } from '../apiserver/request/cached-document.js';
import type { VersionSource } from './api-service-router.js';

type MergedVersion = VersionSource;

type Rendered = CachedDocument;

export class MergedDiscovery {
  /** The sources as of the last use, by group/version; undefined after a change (read again when next used). */
  private versions: Map<string, MergedVersion> | undefined;
  private readonly rendered = new Map<string, Rendered>();

  constructor(
    private readonly sources: () => VersionSource[],
    private readonly serverAddress: () => string,
  ) {}

  /** The sources may have changed: they are read again, and documents rendered, when next asked for. */
  rebuild(): void {
    this.versions = undefined;
    this.rendered.clear();
  }

  private current(): Map<string, MergedVersion> {
    if (!this.versions) {
      this.versions = new Map();
      for (const version of this.sources()) this.versions.set(`${version.group}/${version.version}`, version);
    }
    return this.versions;
  }

  private ordered(core: boolean): GroupSummary[] {
    const byGroup = new Map<string, MergedVersion[]>();
    for (const version of this.current().values()) {
      if ((version.group === '') !== core) continue;
      if (!byGroup.has(version.group)) byGroup.set(version.group, []);
      byGroup.get(version.group)!.push(version);
    }
    const groups = [...byGroup.entries()].map(([name, versions]) => ({
      name,
      priority: Math.max(...versions.map((v) => v.groupPriority)),
      versions: versions
        .sort((a, b) => b.versionPriority - a.versionPriority || compareKubeVersions(a.version, b.version))
        .map((v) => v.version),
    }));
    groups.sort((a, b) => b.priority - a.priority || a.name.localeCompare(b.name));
    return groups.map(({ name, versions }) => ({ name, versions }));
  }

  private find(group: string, version: string): MergedVersion | undefined {
    return this.current().get(`${group}/${version}`);
  }

  private render(key: string, build: () => { document: unknown; contentType: string }): Rendered {
    let rendered = this.rendered.get(key);
    if (!rendered) {
      const { document, contentType } = build();
      rendered = cachedDocument(JSON.stringify(document), contentType);
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
    // A legacy document asked for in YAML is written in YAML, as upstream's WriteObjectNegotiated does.
    if (rendered.contentType === 'application/json' && negotiatedPlainFormat(req.headers.accept) === 'yaml') {
      writeBytes(res, 200, rendered.bytes.toString(), 'yaml', req.method);
      return true;
    }
    serveCached(req, res, rendered, { 'Cache-Control': 'public' });
    return true;
  }
}
