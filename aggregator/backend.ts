// A backend server behind the aggregator and what the aggregator knows of it: its aggregated discovery
// (kept when it stops answering, so its groups are marked Stale rather than vanishing), its OpenAPI v3
// index and its readiness. Everything is refreshed by a cheap conditional poll (304s) every second, so
// a new CRD shows up in merged discovery within a second.

import type https from 'node:https';
import { AGGREGATED_DISCOVERY_V2 } from '../apiserver/request/negotiation.js';
import { fetchFromBackend } from './backend-client.js';
import type { InProcessServer } from './remote-discovery.js';

export interface DiscoveredVersion {
  version: string;
  resources: Record<string, unknown>[];
}

export interface DiscoveredGroup {
  name: string;
  versions: DiscoveredVersion[];
}

export class Backend {
  /** Groups served, from /api (core) and /apis; kept after failures (last known good). */
  groups: DiscoveredGroup[] = [];
  openapiPaths: Record<string, { serverRelativeURL: string }> = {};
  /** The last poll reached the backend and it reported ready. */
  ready = false;
  /** At least one discovery fetch succeeded. */
  discovered = false;
  lastError: string | undefined;
  lastSuccess = 0;
  /** The aggregator's own identity towards its backends (it holds the front-proxy certificate). */
  readonly headers = { 'X-Remote-User': 'system:kube-aggregator', 'X-Remote-Group': 'system:masters' };
  /** The proxy target, parsed once (not per proxied request). */
  readonly target: { protocol: string; host: string; port: number };
  private readonly etags = new Map<string, string>();
  private readonly documents = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  /** A poll was asked for while one ran: it may have missed the change, so another follows. */
  private pollAgain = false;
  private unsubscribe: (() => void) | undefined;

  constructor(
    readonly name: string,
    readonly url: string,
    readonly agent: https.Agent,
    private readonly onChange: () => void,
    readonly inProcess?: InProcessServer,
  ) {
    const parsed = new URL(url);
    this.target = { protocol: parsed.protocol, host: parsed.hostname, port: Number(parsed.port || 443) };
  }

  start(intervalMs = 1000): void {
    // In process, a change is announced: discovery follows at once (a CRD is usable right after it is established).
    this.unsubscribe = this.inProcess?.onDiscoveryChange?.(() => void this.poll());
    const loop = async () => {
      await this.poll();
      this.timer = setTimeout(loop, intervalMs);
      this.timer.unref();
    };
    void loop();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.unsubscribe?.();
  }

  /** Fetches a document with If-None-Match; returns the body and whether it changed. */
  private async conditional(path: string, accept: string): Promise<{ body: string; changed: boolean }> {
    const headers: Record<string, string> = { Accept: accept };
    const etag = this.etags.get(path);
    if (etag) headers['If-None-Match'] = etag;
    const result = await fetchFromBackend(this.url, this.agent, path, headers);
    if (result.status === 304 && this.documents.has(path)) return { body: this.documents.get(path)!, changed: false };
    if (result.status !== 200) throw new Error(`bad status from ${this.url}${path}: ${result.status}`);
    const newEtag = result.headers.etag;
    if (typeof newEtag === 'string') this.etags.set(path, newEtag);
    const changed = this.documents.get(path) !== result.body;
    this.documents.set(path, result.body);
    return { body: result.body, changed };
  }

  /** An in-process server is read directly: no requests, same outcome. */
  private async pollInProcess(server: InProcessServer): Promise<boolean> {
    const before = JSON.stringify([this.groups, this.openapiPaths, this.ready]);
    const health = await server.health.run('readyz', new Set());
    const snapshot = server.discoverySnapshot();
    this.groups = snapshot.groups;
    this.openapiPaths = snapshot.openapiPaths;
    this.ready = health.ok;
    this.lastError = health.ok ? undefined : health.body.split('\n').filter((line) => line.startsWith('[-]')).join('; ');
    const changed = !this.discovered || JSON.stringify([this.groups, this.openapiPaths, this.ready]) !== before;
    this.discovered = true;
    this.lastSuccess = Date.now();
    return changed;
  }

  async poll(): Promise<void> {
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = true;
    let changed = false;
    try {
      if (this.inProcess) {
        changed = await this.pollInProcess(this.inProcess);
      } else {
        changed = await this.pollRemote();
      }
    } catch (error) {
      if (this.ready) changed = true;
      this.ready = false;
      this.lastError = (error as Error).message;
    } finally {
      this.polling = false;
    }
    if (changed) this.onChange();
    if (this.pollAgain) {
      this.pollAgain = false;
      await this.poll();
    }
  }

  private async pollRemote(): Promise<boolean> {
    let changed = false;
    const readyz = await fetchFromBackend(this.url, this.agent, '/readyz');
    const ready = readyz.status === 200;
    const core = await this.conditional('/api', AGGREGATED_DISCOVERY_V2);
    const apis = await this.conditional('/apis', AGGREGATED_DISCOVERY_V2);
    const openapi = await this.conditional('/openapi/v3', 'application/json');
    if (core.changed || apis.changed || !this.discovered) {
      this.groups = [...parseGroups(core.body), ...parseGroups(apis.body)];
      changed = true;
    }
    if (openapi.changed) {
      this.openapiPaths = (JSON.parse(openapi.body) as { paths?: Record<string, { serverRelativeURL: string }> }).paths ?? {};
      changed = true;
    }
    if (ready !== this.ready || !this.discovered) changed = true;
    this.ready = ready;
    this.discovered = true;
    this.lastError = ready ? undefined : `readyz: ${readyz.body.trim().split('\n').filter((l) => l.startsWith('[-]')).join('; ')}`;
    this.lastSuccess = Date.now();
    return changed;
  }
}

function parseGroups(body: string): DiscoveredGroup[] {
  const document = JSON.parse(body) as { kind?: string; items?: { metadata?: { name?: string }; versions?: DiscoveredVersion[] }[] };
  if (document.kind !== 'APIGroupDiscoveryList') throw new Error('backend did not answer with aggregated discovery');
  return (document.items ?? []).map((item) => ({
    name: item.metadata?.name ?? '',
    versions: (item.versions ?? []).map((version) => ({ version: version.version, resources: version.resources ?? [] })),
  }));
}
