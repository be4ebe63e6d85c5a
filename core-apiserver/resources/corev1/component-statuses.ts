// v1 componentstatuses (`kubectl get cs`): deprecated since 1.19 but still served, get and list only.
// Upstream probes the control plane on every read — kube-scheduler and kube-controller-manager on their
// local /healthz ports and each etcd server — and reports what it found. Ours reports what this server can
// actually check about its own control plane, probed on every read as well:
//
// - etcd-N: the storage backend. With --etcd-servers, one entry per server (its /health), as upstream; with
//   the embedded SQLite store, etcd-0 is that store answering a read. Clients and scripts look for etcd-*
//   entries, and the storage backend is exactly what they are asking about.
// - controller-manager: the run-once controllers that kube-controller-manager runs upstream (namespace,
//   service account, token, node lifecycle, quota, cluster-role aggregation) run inside core-apiserver, on
//   the replica that holds the kube-system/core-apiserver Lease. Healthy when this replica runs them, or
//   when another replica's Lease is current.
// - no scheduler entry: our scheduler runs inside the node agent, which core-apiserver cannot see; an entry
//   we could only guess at would not be honest.

import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { GenericStore } from '../../../apiserver/registry/store.js';
import { defineResource } from '../../../apiserver/registry/resource.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import { isObject } from '../../../apiserver/registry/object.js';
import { nameColumn } from '../../../apiserver/registry/table.js';
import { MemoryStorage } from '../../../apiserver/storage/memory.js';
import type { KeyValue, Storage } from '../../../apiserver/storage/interface.js';
import type { FlagValues } from '../../../apiserver/server/flags.js';
import { listFlag, stringFlag } from '../../../apiserver/server/flags.js';
import { isEtcdBackend } from '../../../apiserver/storage/etcd-options.js';
import { LEASE_STORAGE_PREFIX, type Leadership } from '../../../apiserver/server/leader-election.js';

export const DEPRECATION_WARNING = 'v1 ComponentStatus is deprecated in v1.19+';
const PROBE_TIMEOUT_MS = 5_000;

function condition(object: KubeObject): Record<string, unknown> | undefined {
  const conditions = Array.isArray(object.conditions) ? object.conditions.filter(isObject) : [];
  return conditions.find((entry) => entry.type === 'Healthy');
}

export const componentStatuses = defineResource({
  group: '',
  version: 'v1',
  kind: 'ComponentStatus',
  plural: 'componentstatuses',
  namespaced: false,
  shortNames: ['cs'],
  verbs: ['get', 'list'],
  schemaName: 'io.k8s.api.core.v1.ComponentStatus',
  storageVersionHash: '',
  deprecationWarning: DEPRECATION_WARNING,
  printerColumns: [
    nameColumn,
    {
      name: 'Status',
      type: 'string',
      description: 'Status of the component conditions',
      value: (object) => {
        const healthy = condition(object);
        return healthy ? (healthy.status === 'True' ? 'Healthy' : 'Unhealthy') : 'Unknown';
      },
    },
    { name: 'Message', type: 'string', description: 'Message of the component conditions', value: (object) => condition(object)?.message ?? '' },
    { name: 'Error', type: 'string', description: 'Error of the component conditions', value: (object) => condition(object)?.error ?? '' },
  ],
});

export interface ProbeResult {
  healthy: boolean;
  message?: string;
  error?: string;
}

export interface ComponentProbe {
  name: string;
  probe(): Promise<ProbeResult>;
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: timed out after ${PROBE_TIMEOUT_MS / 1000}s`)), PROBE_TIMEOUT_MS);
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error: unknown) => (clearTimeout(timer), reject(error instanceof Error ? error : new Error(String(error)))),
    );
  });
}

/** One etcd member's /health, as etcd answers it: {"health":"true"} with 200 when it has a leader and serves. */
function etcdHealth(endpoint: string, tls: { ca?: Buffer; cert?: Buffer; key?: Buffer }): Promise<ProbeResult> {
  const url = `${endpoint.replace(/\/$/, '')}/health`;
  return new Promise((resolve) => {
    const client = url.startsWith('https:') ? https : http;
    const request = client.get(url, { ...tls, timeout: PROBE_TIMEOUT_MS }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        let healthy = false;
        try {
          healthy = response.statusCode === 200 && (JSON.parse(body) as { health?: unknown }).health === 'true';
        } catch {
          // not etcd's answer: unhealthy, with the body below
        }
        resolve(healthy ? { healthy, message: 'ok' } : { healthy, error: `${url}: ${response.statusCode ?? 0} ${body.trim()}` });
      });
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', (error) => resolve({ healthy: false, error: `Get "${url}": ${error.message}` }));
  });
}

export interface ComponentSources {
  /** This server's storage backend. */
  storage: Storage;
  /** The server's flags (--storage-backend, --etcd-servers and the etcd TLS files). */
  values: FlagValues;
  /** Absent or leading: the controllers run in this process. */
  leadership?: Leadership;
  /** The Lease the replicas elect on (the server's component name). */
  leaseName: string;
}

/** What this server can check about its control plane (see the file comment for why these). */
export function controlPlaneProbes(sources: ComponentSources): ComponentProbe[] {
  const probes: ComponentProbe[] = [];
  const backend = stringFlag(sources.values, 'storage-backend') ?? 'sqlite';
  if (isEtcdBackend(backend)) {
    const read = (flag: string) => {
      const file = stringFlag(sources.values, flag);
      return file ? readFileSync(file) : undefined;
    };
    const tls = { ca: read('etcd-cafile'), cert: read('etcd-certfile'), key: read('etcd-keyfile') };
    listFlag(sources.values, 'etcd-servers').forEach((endpoint, index) => probes.push({ name: `etcd-${index}`, probe: () => etcdHealth(endpoint, tls) }));
  } else {
    probes.push({
      name: 'etcd-0',
      probe: async () => {
        try {
          await withTimeout(sources.storage.currentRevision(), `${sources.storage.name} storage`);
          return { healthy: true, message: 'ok' };
        } catch (error) {
          return { healthy: false, error: `${sources.storage.name} storage: ${(error as Error).message}` };
        }
      },
    });
  }
  probes.push({
    name: 'controller-manager',
    probe: async () => {
      if (!sources.leadership || sources.leadership.isLeader) return { healthy: true, message: 'ok' };
      const key = `${LEASE_STORAGE_PREFIX}kube-system/${sources.leaseName}`;
      try {
        const lease = await withTimeout(sources.storage.get(key), 'reading the controllers\' Lease');
        const spec = lease ? ((JSON.parse(lease.value) as KubeObject).spec as Record<string, unknown> | undefined) : undefined;
        const renewed = typeof spec?.renewTime === 'string' ? Date.parse(spec.renewTime) : NaN;
        const duration = typeof spec?.leaseDurationSeconds === 'number' ? spec.leaseDurationSeconds : 15;
        if (spec?.holderIdentity && renewed + duration * 1000 >= Date.now()) return { healthy: true, message: 'ok' };
        return { healthy: false, error: `no replica holds a current kube-system/${sources.leaseName} Lease: the controllers are not running` };
      } catch (error) {
        return { healthy: false, error: (error as Error).message };
      }
    },
  });
  return probes;
}

function statusObject(name: string, result: ProbeResult): KubeObject {
  const healthy: Record<string, unknown> = { type: 'Healthy', status: result.healthy ? 'True' : 'False' };
  if (result.message) healthy.message = result.message;
  if (result.error) healthy.error = result.error;
  return { kind: 'ComponentStatus', apiVersion: 'v1', metadata: { name, creationTimestamp: null }, conditions: [healthy] };
}

/**
 * The components' statuses as a store of their own: every read of the revision (each list) or of a key
 * (each get) probes first and records what changed, so the generic list, get, selectors and Table
 * printing serve fresh results without a special path.
 */
export class ComponentStatusStorage extends MemoryStorage {
  /** The round of probes under way: concurrent reads share it rather than probing twice at once. */
  private refreshing: Promise<void> | undefined;
  private writes: Promise<void> = Promise.resolve();

  constructor(private readonly probes: ComponentProbe[]) {
    super();
  }

  private keyOf(name: string): string {
    return `${componentStatuses.storagePrefix}${name}`;
  }

  /** Probes run in parallel; their results are written one at a time (concurrent reads probe too). */
  private async record(probe: ComponentProbe): Promise<void> {
    const value = JSON.stringify(statusObject(probe.name, await probe.probe()));
    const key = this.keyOf(probe.name);
    const write = this.writes.then(async () => {
      const current = await super.get(key);
      if (!current) await this.create(key, value);
      else if (current.value !== value) await this.update(key, value, current.modRevision);
    });
    this.writes = write.catch(() => undefined);
    await write;
  }

  private refreshAll(): Promise<void> {
    this.refreshing ??= Promise.all(this.probes.map((probe) => this.record(probe))).then(
      () => {
        this.refreshing = undefined;
      },
      (error: unknown) => {
        this.refreshing = undefined;
        throw error;
      },
    );
    return this.refreshing;
  }

  override async currentRevision(): Promise<number> {
    await this.refreshAll();
    return super.currentRevision();
  }

  override async get(key: string, revision?: number): Promise<KeyValue | undefined> {
    const probe = this.probes.find((candidate) => this.keyOf(candidate.name) === key);
    if (probe && revision === undefined) await this.record(probe);
    return super.get(key, revision);
  }
}

export class ComponentStatusStore extends GenericStore {
  constructor(probes: ComponentProbe[]) {
    super(componentStatuses, new ComponentStatusStorage(probes));
  }
}
