// The discovery endpoints of one server, served from precomputed bytes that are rebuilt only when the set
// of resources changes: /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version>, legacy or aggregated
// (v2, v2beta1) by Accept, with a strong ETag and 304s.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResourceDefinition } from '../registry/resource.js';
import type { GroupVersionResources } from '../discovery/documents.js';
import {
  aggregatedDiscoveryList,
  aggregatedResources,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  orderGroups,
} from '../discovery/documents.js';
import { cachedDocument, serveCached, type CachedDocument } from '../request/cached-document.js';
import { AGGREGATED_DISCOVERY_V2, AGGREGATED_DISCOVERY_V2BETA1, negotiateDiscovery } from '../request/negotiation.js';

type Rendered = CachedDocument;

export class DiscoveryEndpoints {
  private readonly groupVersionMap = new Map<string, GroupVersionResources>();
  private readonly rendered = new Map<string, Rendered>();
  /** Group priorities (APIService groupPriorityMinimum) for ordering; unknown groups sort by name. */
  readonly priorities = new Map<string, { group: number; version: number }>();

  constructor(private readonly serverAddress: () => string) {}

  add(resource: ResourceDefinition): void {
    const key = `${resource.group}/${resource.version}`;
    let gv = this.groupVersionMap.get(key);
    if (!gv) {
      gv = { group: resource.group, version: resource.version, resources: [] };
      this.groupVersionMap.set(key, gv);
    }
    gv.resources = gv.resources.filter((existing) => existing.plural !== resource.plural);
    gv.resources.push(resource);
    this.rendered.clear();
  }

  remove(group: string, version: string, plural: string): void {
    const key = `${group}/${version}`;
    const gv = this.groupVersionMap.get(key);
    if (!gv) return;
    gv.resources = gv.resources.filter((existing) => existing.plural !== plural);
    if (gv.resources.length === 0) this.groupVersionMap.delete(key);
    this.rendered.clear();
  }

  groupVersions(): GroupVersionResources[] {
    return [...this.groupVersionMap.values()].map((gv) => {
      const priority = this.priorities.get(`${gv.group}/${gv.version}`);
      return { ...gv, groupPriority: priority?.group, versionPriority: priority?.version };
    });
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

  /** Returns true when it answered the request. */
  serve(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    const normalized = path.replace(/\/+$/, '');
    const parts = normalized.split('/').filter(Boolean);
    let rendered: Rendered | undefined;
    if (normalized === '/api' || normalized === '/apis') {
      const format = negotiateDiscovery(req.headers.accept);
      const core = normalized === '/api';
      rendered = this.render(`${normalized}:${format}`, () => {
        const gvs = this.groupVersions().filter((gv) => (core ? gv.group === '' : gv.group !== ''));
        if (format === 'legacy') {
          return { document: core ? apiVersions(this.serverAddress()) : apiGroupList(orderGroups(gvs)), contentType: 'application/json' };
        }
        const groups = orderGroups(gvs).map((summary) => ({
          name: summary.name,
          versions: summary.versions.map((version) => ({
            version,
            resources: aggregatedResources(gvs.find((gv) => gv.group === summary.name && gv.version === version)!),
          })),
        }));
        return { document: aggregatedDiscoveryList(groups, format), contentType: format === 'v2' ? AGGREGATED_DISCOVERY_V2 : AGGREGATED_DISCOVERY_V2BETA1 };
      });
      res.setHeader('Vary', 'Accept');
    } else if (parts[0] === 'api' && parts.length === 2) {
      const gv = this.groupVersionMap.get(`/${parts[1]}`);
      if (!gv) return false;
      rendered = this.render(normalized, () => ({ document: apiResourceList(gv), contentType: 'application/json' }));
    } else if (parts[0] === 'apis' && parts.length === 2) {
      const summary = orderGroups(this.groupVersions()).find((group) => group.name === parts[1]);
      if (!summary) return false;
      rendered = this.render(normalized, () => ({ document: apiGroup(summary), contentType: 'application/json' }));
    } else if (parts[0] === 'apis' && parts.length === 3) {
      const gv = this.groupVersionMap.get(`${parts[1]}/${parts[2]}`);
      if (!gv) return false;
      rendered = this.render(normalized, () => ({ document: apiResourceList(gv), contentType: 'application/json' }));
    } else {
      return false;
    }
    serveCached(req, res, rendered, { 'Cache-Control': 'public' });
    return true;
  }
}
