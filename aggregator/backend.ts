// A backend server behind the aggregator and what the aggregator knows of it: its aggregated discovery
// (kept when it stops answering, so its groups are marked Stale rather than vanishing), its OpenAPI v3
// index and its readiness. Everything is refreshed by a cheap conditional poll (304s) every second.
//
// The CRD server's discovery changes with every CRD, and its whole /apis grows with the number of CRDs: a
// change announced for one group (the aggregator watches CRDs) is followed by reading that group alone
// (/apis/<group>, /apis/<group>/<version> and the ETag of its OpenAPI document), so the 500th CRD costs
// the same as the first. Its full documents are then read only now and then, to catch anything missed.

import type https from 'node:https';
import { AGGREGATED_DISCOVERY_V2 } from '../apiserver/request/negotiation.js';
import { fetchFromBackend } from './backend-client.js';
import type { InProcessServer } from './remote-discovery.js';
import { aggregatedFromLegacy } from './remote-discovery.js';

export interface DiscoveredVersion {
  version: string;
  resources: Record<string, unknown>[];
}

export interface DiscoveredGroup {
  name: string;
  versions: DiscoveredVersion[];
}

/** What changed in a backend's discovery: some groups (by name), or anything (undefined). */
export type DiscoveryChange = ReadonlySet<string> | undefined;

/**
 * With group changes announced, the full documents are still read now and then (a safety net): once
 * FULL_RESYNC_MS have passed and no change was announced for SETTLE_MS (during a burst of CRDs the whole
 * document is stale again at once, and reading it would cost in proportion to every CRD), and at the
 * latest after MAX_RESYNC_MS.
 */
const FULL_RESYNC_MS = 30_000;
const SETTLE_MS = 5000;
const MAX_RESYNC_MS = 300_000;
/** A group is read again this long after an announced change (the server may have been a moment behind). */
const GROUP_RECHECK_MS = 1000;
/** More announced groups than this at once (a relist of every CRD): one full read instead. */
const MAX_GROUPS_PER_REFRESH = 16;
export class Backend {
  /** Groups served, from /api (core) and /apis, by name in discovery order; kept after failures (last known good). */
  private readonly byName = new Map<string, DiscoveredGroup>();
  private readonly byVersion = new Map<string, DiscoveredVersion>();
  private groupList: DiscoveredGroup[] | undefined = [];
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
  /** Groups announced changed and not read yet; true while their read is scheduled. */
  private readonly announced = new Set<string>();
  private groupReadScheduled = false;
  /** Group changes are announced (a live CRD watch): the full documents are read only now and then. */
  private announcing: () => boolean = () => false;
  private lastFullRead = 0;
  private lastAnnounced = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly name: string,
    readonly url: string,
    readonly agent: https.Agent,
    private readonly onChange: (change: DiscoveryChange) => void,
    readonly inProcess?: InProcessServer,
  ) {
    const parsed = new URL(url);
    this.target = { protocol: parsed.protocol, host: parsed.hostname, port: Number(parsed.port || 443) };
  }

  /** Every group, core first (a new array after any change: consumers may compare identity). */
  get groups(): DiscoveredGroup[] {
    this.groupList ??= [...this.byName.values()];
    return this.groupList;
  }

  set groups(groups: DiscoveredGroup[]) {
    this.byName.clear();
    this.byVersion.clear();
    for (const group of groups) this.putGroup(group);
    this.groupList = undefined;
  }

  group(name: string): DiscoveredGroup | undefined {
    return this.byName.get(name);
  }

  /** One served group-version, by a map lookup (hundreds of CRD groups: no scans). */
  versionOf(group: string, version: string): DiscoveredVersion | undefined {
    return this.byVersion.get(`${group}/${version}`);
  }

  private putGroup(group: DiscoveredGroup): void {
    if (this.byName.has(group.name)) return; // the first occurrence wins, as in a scan
    this.byName.set(group.name, group);
    for (const version of group.versions) this.byVersion.set(`${group.name}/${version.version}`, version);
  }

  private replaceGroup(name: string, group: DiscoveredGroup | undefined): void {
    const previous = this.byName.get(name);
    if (previous) for (const version of previous.versions) this.byVersion.delete(`${name}/${version.version}`);
    this.byName.delete(name);
    if (group) this.putGroup(group);
    this.groupList = undefined;
  }

  /**
   * From now on `isLive()` says whether group changes are announced through groupChanged(); while it
   * does, the full documents are read only now and then (see FULL_RESYNC_MS) rather than every poll.
   */
  announcedBy(isLive: () => boolean): void {
    this.announcing = isLive;
  }

  /** A group's discovery may have changed (a CRD of it was written): it is read alone, soon. */
  groupChanged(group: string): void {
    this.lastAnnounced = Date.now();
    this.announced.add(group);
    if (this.groupReadScheduled) return;
    this.groupReadScheduled = true;
    // Events of one CRD (and bursts of many) arrive together: one read per group per turn.
    setImmediate(() => {
      this.groupReadScheduled = false;
      const groups = [...this.announced];
      this.announced.clear();
      if (groups.length > MAX_GROUPS_PER_REFRESH || !this.discovered) {
        void this.poll(true);
        return;
      }
      void this.readGroups(groups).then(() => {
        // The server may have written the CRD a moment before serving it: one more look a little later.
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          void this.readGroups(groups);
        }, GROUP_RECHECK_MS);
        timer.unref();
        this.timers.add(timer);
      });
    });
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
    for (const timer of this.timers) clearTimeout(timer);
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
    this.ready = health.ok;
    this.lastError = health.ok ? undefined : health.body.split('\n').filter((line) => line.startsWith('[-]')).join('; ');
    const changed = !this.discovered || JSON.stringify([snapshot.groups, snapshot.openapiPaths, this.ready]) !== before;
    if (changed) {
      this.groups = snapshot.groups;
      this.openapiPaths = snapshot.openapiPaths;
    }
    this.discovered = true;
    this.lastSuccess = Date.now();
    return changed;
  }

  /** Reads readiness and discovery; `full` reads the whole documents even while group changes are announced. */
  async poll(full = false): Promise<void> {
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = true;
    /** false: nothing; a set: those groups (or only OpenAPI index entries, when empty); undefined: anything. */
    let change: DiscoveryChange | false = false;
    try {
      if (this.inProcess) {
        change = (await this.pollInProcess(this.inProcess)) ? undefined : false;
      } else {
        change = await this.pollRemote(full || this.fullReadDue());
      }
    } catch (error) {
      if (this.ready) change = undefined;
      this.ready = false;
      this.lastError = (error as Error).message;
    } finally {
      this.polling = false;
    }
    if (change !== false) this.onChange(change);
    if (this.pollAgain) {
      this.pollAgain = false;
      await this.poll(full);
    }
  }

  private fullReadDue(): boolean {
    if (!this.announcing()) return true;
    const now = Date.now();
    const sinceFull = now - this.lastFullRead;
    return sinceFull >= MAX_RESYNC_MS || (sinceFull >= FULL_RESYNC_MS && now - this.lastAnnounced >= SETTLE_MS);
  }

  private async pollRemote(full: boolean): Promise<DiscoveryChange | false> {
    const changedGroups = new Set<string>();
    let changedPaths = false;
    const readyz = await fetchFromBackend(this.url, this.agent, '/readyz');
    const ready = readyz.status === 200;
    const firstDiscovery = !this.discovered;
    if (full || firstDiscovery) {
      const core = await this.conditional('/api', AGGREGATED_DISCOVERY_V2);
      const apis = await this.conditional('/apis', AGGREGATED_DISCOVERY_V2);
      const openapi = await this.conditional('/openapi/v3', 'application/json');
      this.lastFullRead = Date.now();
      if (core.changed || apis.changed || firstDiscovery) {
        const groups = [...parseGroups(core.body), ...parseGroups(apis.body)];
        // Announced reads have usually brought the same already (in another order): only real differences count.
        const names = new Set(groups.map((group) => group.name));
        for (const group of groups) if (JSON.stringify(group) !== JSON.stringify(this.byName.get(group.name))) changedGroups.add(group.name);
        for (const name of this.byName.keys()) if (!names.has(name)) changedGroups.add(name);
        if (changedGroups.size > 0 || firstDiscovery) this.groups = groups;
      }
      if (openapi.changed) {
        const paths = (JSON.parse(openapi.body) as { paths?: Record<string, { serverRelativeURL: string }> }).paths ?? {};
        const keys = Object.keys(paths);
        if (keys.length !== Object.keys(this.openapiPaths).length || keys.some((key) => this.openapiPaths[key]?.serverRelativeURL !== paths[key].serverRelativeURL)) {
          this.openapiPaths = paths;
          changedPaths = true;
        }
      }
    }
    const readinessChanged = ready !== this.ready;
    this.ready = ready;
    this.discovered = true;
    this.lastError = ready ? undefined : `readyz: ${readyz.body.trim().split('\n').filter((l) => l.startsWith('[-]')).join('; ')}`;
    this.lastSuccess = Date.now();
    if (firstDiscovery || readinessChanged) return undefined;
    return changedGroups.size > 0 || changedPaths ? changedGroups : false;
  }

  /** Reads the announced groups alone; reports the ones that changed. */
  private async readGroups(names: string[]): Promise<void> {
    const changed = new Set<string>();
    await Promise.all(
      names.map(async (name) => {
        try {
          if (await this.readGroup(name)) changed.add(name);
        } catch (error) {
          // The next full read (or the next announcement) catches up.
          this.lastError = (error as Error).message;
        }
      }),
    );
    if (changed.size > 0) this.onChange(changed);
  }

  /**
   * One group, from the legacy documents (the aggregated list has no per-group form): /apis/<group> for
   * its versions in preference order, /apis/<group>/<version> for each one's resources, and a HEAD of each
   * one's OpenAPI document for the hash its index entry names. Returns whether anything changed.
   */
  private async readGroup(name: string): Promise<boolean> {
    const groupResponse = await fetchFromBackend(this.url, this.agent, `/apis/${encodeURIComponent(name)}`, { Accept: 'application/json' });
    let group: DiscoveredGroup | undefined;
    const paths: Record<string, { serverRelativeURL: string }> = {};
    if (groupResponse.status === 200) {
      const listed = (JSON.parse(groupResponse.body) as { versions?: { version: string }[] }).versions ?? [];
      const versions = await Promise.all(
        listed.map(async ({ version }) => {
          const path = `/apis/${encodeURIComponent(name)}/${encodeURIComponent(version)}`;
          const [resources, openapi] = await Promise.all([
            fetchFromBackend(this.url, this.agent, path, { Accept: 'application/json' }),
            fetchFromBackend(this.url, this.agent, `/openapi/v3${path}`, { Accept: 'application/json' }, 5000, 'HEAD'),
          ]);
          if (resources.status !== 200) throw new Error(`bad status from ${this.url}${path}: ${resources.status}`);
          const etag = openapi.headers.etag;
          if (openapi.status === 200 && typeof etag === 'string') paths[`apis/${name}/${version}`] = { serverRelativeURL: `/openapi/v3${path}?hash=${etag.replace(/"/g, '')}` };
          return { version, resources: aggregatedFromLegacy(name, version, (JSON.parse(resources.body) as { resources?: never[] }).resources ?? []) };
        }),
      );
      if (versions.length > 0) group = { name, versions };
    } else if (groupResponse.status !== 404) {
      throw new Error(`bad status from ${this.url}/apis/${name}: ${groupResponse.status}`);
    }
    const previous = this.byName.get(name);
    let changed = JSON.stringify(group) !== JSON.stringify(previous);
    if (changed) this.replaceGroup(name, group);
    // The index entries of versions no longer served (looked up by key: the index holds every CRD's).
    for (const { version } of previous?.versions ?? []) {
      const key = `apis/${name}/${version}`;
      if (this.openapiPaths[key] && !paths[key]) {
        delete this.openapiPaths[key];
        changed = true;
      }
    }
    for (const [key, value] of Object.entries(paths)) {
      if (this.openapiPaths[key]?.serverRelativeURL === value.serverRelativeURL) continue;
      this.openapiPaths[key] = value;
      changed = true;
    }
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
