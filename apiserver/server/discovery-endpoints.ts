// The discovery endpoints of one server, served from precomputed bytes: /api, /api/v1, /apis,
// /apis/<group>, /apis/<group>/<version>, legacy or aggregated (v2, v2beta1) by Accept, with a strong
// ETag and 304s. A change of one group-version (a CRD established or removed) re-renders only that
// group-version's parts: each group's aggregated entry is kept as JSON text, and the whole document is
// their concatenation, so adding the 500th CRD costs no more JSON work than adding the first.

import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResourceDefinition } from '../registry/resource.js';
import type { GroupSummary, GroupVersionResources } from '../discovery/documents.js';
import { aggregatedResources, apiGroup, apiGroupList, apiResourceList, apiVersions, orderGroups } from '../discovery/documents.js';
import { cachedDocument, serveCached, type CachedDocument } from '../request/cached-document.js';
import { AGGREGATED_DISCOVERY_V2, AGGREGATED_DISCOVERY_V2BETA1, negotiateDiscovery, negotiatedPlainFormat } from '../request/negotiation.js';
import { writeBytes } from '../request/response.js';

type Rendered = CachedDocument;

/** Every format negotiateDiscovery answers, each rendered under `<root>:<format>`. */
const ROOT_FORMATS: readonly ReturnType<typeof negotiateDiscovery>[] = ['legacy', 'v2', 'v2beta1'];

interface GroupVersionEntry {
  group: string;
  version: string;
  resources: Map<string, ResourceDefinition>;
  /** JSON of its aggregated resources, rendered once per change of this group-version. */
  aggregatedJson?: string;
}

export class DiscoveryEndpoints {
  private readonly groupVersionMap = new Map<string, GroupVersionEntry>();
  private readonly groups = new Map<string, Set<GroupVersionEntry>>();
  private readonly rendered = new Map<string, Rendered>();
  /** Each group's aggregated item (`{"metadata":…,"versions":[…]}`, the same in v2 and v2beta1), rendered once per change of the group. */
  private readonly groupItems = new Map<string, { json: string; hash: Buffer }>();
  private snapshot: GroupVersionResources[] | undefined;
  /** Group priorities (APIService groupPriorityMinimum) for ordering; unknown groups sort by name. */
  readonly priorities = new Map<string, { group: number; version: number }>();

  constructor(private readonly serverAddress: () => string) {}

  add(resource: ResourceDefinition): void {
    const key = `${resource.group}/${resource.version}`;
    let gv = this.groupVersionMap.get(key);
    if (!gv) {
      gv = { group: resource.group, version: resource.version, resources: new Map() };
      this.groupVersionMap.set(key, gv);
      if (!this.groups.has(resource.group)) this.groups.set(resource.group, new Set());
      this.groups.get(resource.group)!.add(gv);
    }
    gv.resources.set(resource.plural, resource);
    this.changed(gv);
  }

  remove(group: string, version: string, plural: string): void {
    const key = `${group}/${version}`;
    const gv = this.groupVersionMap.get(key);
    if (!gv || !gv.resources.delete(plural)) return;
    if (gv.resources.size === 0) {
      this.groupVersionMap.delete(key);
      const versions = this.groups.get(group)!;
      versions.delete(gv);
      if (versions.size === 0) this.groups.delete(group);
    }
    this.changed(gv);
  }

  /** Forgets what a change of this group-version made stale, and nothing else. */
  private changed(gv: GroupVersionEntry): void {
    gv.aggregatedJson = undefined;
    this.snapshot = undefined;
    this.groupItems.delete(gv.group);
    const root = gv.group === '' ? '/api' : '/apis';
    // The root documents, by format (not a scan: every group-version's own documents are kept here too).
    for (const format of ROOT_FORMATS) this.rendered.delete(`${root}:${format}`);
    this.rendered.delete(`/apis/${gv.group}`);
    this.rendered.delete(gv.group === '' ? `/api/${gv.version}` : `/apis/${gv.group}/${gv.version}`);
  }

  /** Every group-version with its resources (a shared snapshot, rebuilt after a change: do not modify). */
  groupVersions(): GroupVersionResources[] {
    this.snapshot ??= [...this.groupVersionMap.values()].map((gv) => this.summaryOf(gv));
    return this.snapshot;
  }

  /** One group-version by its OpenAPI index key (`api/v1`, `apis/<group>/<version>`), by a map lookup. */
  groupVersionByOpenApiKey(key: string): GroupVersionResources | undefined {
    const parts = key.split('/');
    const gv = parts[0] === 'api' && parts.length === 2 ? this.groupVersionMap.get(`/${parts[1]}`) : parts[0] === 'apis' && parts.length === 3 ? this.groupVersionMap.get(`${parts[1]}/${parts[2]}`) : undefined;
    return gv ? this.summaryOf(gv) : undefined;
  }

  private summaryOf(gv: GroupVersionEntry): GroupVersionResources {
    const priority = this.priorities.get(`${gv.group}/${gv.version}`);
    return { group: gv.group, version: gv.version, resources: [...gv.resources.values()], groupPriority: priority?.group, versionPriority: priority?.version };
  }

  private render(key: string, build: () => { document: unknown; contentType: string } | Rendered): Rendered {
    let rendered = this.rendered.get(key);
    if (!rendered) {
      const built = build();
      rendered = 'etag' in built ? built : cachedDocument(JSON.stringify(built.document), built.contentType);
      this.rendered.set(key, rendered);
    }
    return rendered;
  }

  private aggregatedJson(gv: GroupVersionEntry): string {
    gv.aggregatedJson ??= JSON.stringify(aggregatedResources(this.summaryOf(gv)));
    return gv.aggregatedJson;
  }

  /** One group's APIGroupDiscovery, as JSON.stringify renders it inside the list (see aggregatedDiscoveryList), and its hash. */
  private groupItem(summary: GroupSummary): { json: string; hash: Buffer } {
    let item = this.groupItems.get(summary.name);
    if (item === undefined) {
      const versions = summary.versions.map((version) => {
        const gv = this.groupVersionMap.get(`${summary.name}/${version}`)!;
        return `{"version":${JSON.stringify(version)},"resources":${this.aggregatedJson(gv)},"freshness":"Current"}`;
      });
      const json = `{"metadata":{"name":${JSON.stringify(summary.name)},"creationTimestamp":null},"versions":[${versions.join(',')}]}`;
      item = { json, hash: createHash('sha512').update(json).digest() };
      this.groupItems.set(summary.name, item);
    }
    return item;
  }

  /** The groups of one side (core or named) in discovery order. */
  private ordered(core: boolean): GroupSummary[] {
    return orderGroups(this.groupVersions().filter((gv) => (core ? gv.group === '' : gv.group !== '')));
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
        const groups = this.ordered(core);
        if (format === 'legacy') {
          return { document: core ? apiVersions(this.serverAddress()) : apiGroupList(groups), contentType: 'application/json' };
        }
        // The same bytes as JSON.stringify(aggregatedDiscoveryList(…)), from the groups' kept items; the
        // ETag hashes the items' hashes in order (any change of the bytes changes it) instead of all the bytes.
        const items = groups.map((group) => this.groupItem(group));
        const bytes = `{"kind":"APIGroupDiscoveryList","apiVersion":"apidiscovery.k8s.io/${format}","metadata":{},"items":[${items.map((item) => item.json).join(',')}]}`;
        const hash = createHash('sha512').update(format);
        for (const item of items) hash.update(item.hash);
        return { bytes, etag: `"${hash.digest('hex').toUpperCase()}"`, contentType: format === 'v2' ? AGGREGATED_DISCOVERY_V2 : AGGREGATED_DISCOVERY_V2BETA1 };
      });
      res.setHeader('Vary', 'Accept');
    } else if (parts[0] === 'api' && parts.length === 2) {
      const gv = this.groupVersionMap.get(`/${parts[1]}`);
      if (!gv) return false;
      rendered = this.render(normalized, () => ({ document: apiResourceList(this.summaryOf(gv)), contentType: 'application/json' }));
    } else if (parts[0] === 'apis' && parts.length === 2) {
      const versions = this.groups.get(parts[1]);
      if (!versions || parts[1] === '') return false;
      rendered = this.render(normalized, () => ({ document: apiGroup(orderGroups([...versions].map((gv) => this.summaryOf(gv)))[0]), contentType: 'application/json' }));
    } else if (parts[0] === 'apis' && parts.length === 3) {
      const gv = this.groupVersionMap.get(`${parts[1]}/${parts[2]}`);
      if (!gv) return false;
      rendered = this.render(normalized, () => ({ document: apiResourceList(this.summaryOf(gv)), contentType: 'application/json' }));
    } else {
      return false;
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
