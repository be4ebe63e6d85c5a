// ResourceQuota for custom resources. Upstream runs the ResourceQuota admission plugin in the one process
// that also serves custom resources, and kube-controller-manager's quota controller counts any resource
// (`count/<plural>.<group>`) it finds through discovery. Here ResourceQuotas live in core and custom
// resources here, so this server does both for the resources it serves: a create is charged against every
// quota of its namespace that counts its kind (compare-and-swap on the quota's status in core, serialized
// per namespace, refused over the limit with upstream's message), and those entries of status.used are kept
// equal to the objects this server holds (recounted when a quota changes, an object goes, a charge expires,
// and periodically). Core's quota controller leaves the entries it cannot count alone.

import type { AdmissionAttributes, AdmissionPlugin } from '../apiserver/admission/interface.js';
import { admissionForbidden } from '../apiserver/admission/run.js';
import type { ObjectSource } from '../apiserver/admission/sources.js';
import { storeSource } from '../apiserver/admission/sources.js';
import { encodeForStorage } from '../apiserver/registry/encode.js';
import { ConflictError, StorageError } from '../apiserver/storage/interface.js';
import type { KubeObject } from '../apiserver/registry/object.js';
import { isObject } from '../apiserver/registry/object.js';
import type { GenericStore } from '../apiserver/registry/store.js';
import { conflict, OBJECT_MODIFIED } from '../apiserver/request/status.js';
import { parseQuantity } from '../apiserver/registry/quantity.js';
import type { KubeClient } from '../apiserver/client/kube-client.js';
import { QuotaLedger, hardOf } from '../core-apiserver/admission/resource-quota.js';
import { formatUsage, prettyPrint } from '../core-apiserver/admission/quota-usage.js';

/** ResourceQuotas where they live (core): a mirror to find them, a fresh read and a status write. */
export interface QuotaBackend {
  quotas: ObjectSource;
  read(namespace: string, name: string): Promise<KubeObject | undefined>;
  /** PUT …/status with the quota's resourceVersion: 'conflict' when it changed meanwhile, 'gone' when deleted. */
  writeStatus(quota: KubeObject): Promise<'ok' | 'conflict' | 'gone'>;
  /** Called on every quota added or changed. */
  onChange(listener: (quota: KubeObject) => void): void;
}

/** ResourceQuotas in core through a client (the --kubeconfig of this server): an informer and plain requests. */
export function remoteQuotaBackend(client: KubeClient): QuotaBackend & { stop(): void } {
  const listeners: ((quota: KubeObject) => void)[] = [];
  const informer = client.informer('/api/v1/resourcequotas', (type, quota) => {
    if (type !== 'DELETED') for (const listener of listeners) listener(quota);
  });
  informer.start();
  const path = (namespace: string, name: string) => `/api/v1/namespaces/${encodeURIComponent(namespace)}/resourcequotas/${encodeURIComponent(name)}`;
  return {
    quotas: { list: () => informer.list(), get: (namespace, name) => informer.get(namespace, name), get synced() { return informer.synced; } },
    async read(namespace, name) {
      const response = await client.raw('GET', path(namespace, name));
      if (response.status === 404) return undefined;
      if (response.status !== 200) throw new Error(`reading quota ${namespace}/${name}: ${String(response.body.message ?? response.status)}`);
      return response.body as unknown as KubeObject;
    },
    async writeStatus(quota) {
      const response = await client.raw('PUT', `${path(quota.metadata.namespace ?? '', quota.metadata.name ?? '')}/status`, quota);
      if (response.status === 409) return 'conflict';
      if (response.status === 404) return 'gone';
      if (response.status !== 200) throw new Error(`writing quota ${quota.metadata.namespace ?? ''}/${quota.metadata.name ?? ''} status: ${String(response.body.message ?? response.status)}`);
      return 'ok';
    },
    onChange: (listener) => listeners.push(listener),
    stop: () => informer.stop(),
  };
}

/**
 * ResourceQuotas in core's own store, when core runs in this process (all-in-one): its watch cache for the
 * mirror and events, and compare-and-swap writes straight to its storage (only the system writes status.used,
 * as core's own quota admission does).
 */
export function storeQuotaBackend(quotas: GenericStore): QuotaBackend {
  const source = storeSource(quotas);
  return {
    quotas: source,
    async read(namespace, name) {
      const kv = await quotas.storage.get(quotas.key(namespace, name));
      if (!kv) return undefined;
      const quota = JSON.parse(kv.value) as KubeObject;
      quota.metadata.resourceVersion = String(kv.modRevision);
      return quota;
    },
    async writeStatus(quota) {
      const key = quotas.key(quota.metadata.namespace ?? '', quota.metadata.name ?? '');
      try {
        await quotas.storage.update(key, encodeForStorage(quota), Number(quota.metadata.resourceVersion));
        return 'ok';
      } catch (error) {
        if (error instanceof ConflictError) return 'conflict';
        if (error instanceof StorageError && !(await quotas.storage.get(key))) return 'gone';
        throw error;
      }
    },
    onChange(listener) {
      void quotas.cache.start().then(() =>
        quotas.cache.watch({
          fromRevision: quotas.cache.revision,
          prefix: quotas.resource.storagePrefix,
          filter: () => true,
          onEvent: (type, object) => {
            if (type !== 'DELETED') listener(JSON.parse(object.bytes) as KubeObject);
          },
        }),
      );
    },
  };
}

const MAX_RETRIES = 10;
const DEBOUNCE_MS = 100;
const RESYNC_MS = 30_000;

function record(value: unknown): Record<string, unknown> {
  return isObject(value) ? value : {};
}

function countName(group: string, plural: string): string {
  return `count/${plural}.${group}`;
}

/** `count/<plural>.<group>` → [group, plural], for names that can count a custom resource (a group has a dot). */
function countedResource(name: string): { group: string; plural: string } | undefined {
  if (!name.startsWith('count/')) return undefined;
  const rest = name.slice('count/'.length);
  const dot = rest.indexOf('.');
  if (dot <= 0 || !rest.slice(dot + 1).includes('.')) return undefined;
  return { plural: rest.slice(0, dot), group: rest.slice(dot + 1) };
}

function usedOf(quota: KubeObject, name: string): number {
  return parseQuantity(record(record(quota.status).used)[name]) ?? 0;
}

export class CustomResourceQuota implements AdmissionPlugin {
  readonly name = 'ResourceQuota';
  private readonly ledger = new QuotaLedger();
  private readonly scheduled = new Map<string, NodeJS.Timeout>();
  private readonly watched = new WeakSet<GenericStore>();
  private readonly watches: { stop(): void }[] = [];
  private resync: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly backend: QuotaBackend,
    /** The store serving a custom resource (any served version: they share storage), if this server serves it. */
    private readonly storeFor: (group: string, plural: string) => GenericStore | undefined,
  ) {
    this.ledger.onExpiry = (namespace) => this.schedule(namespace);
    backend.onChange((quota) => this.quotaChanged(quota));
  }

  start(): void {
    this.resync = setInterval(() => {
      for (const namespace of new Set(this.backend.quotas.list().filter((quota) => this.countedHere(quota).length > 0).map((quota) => quota.metadata.namespace ?? ''))) this.schedule(namespace);
    }, RESYNC_MS);
    this.resync.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.resync) clearInterval(this.resync);
    for (const timer of this.scheduled.values()) clearTimeout(timer);
    for (const watch of this.watches) watch.stop();
  }

  /** A quota was added or changed in core: recount what it counts here (a no-op write is skipped). */
  quotaChanged(quota: KubeObject): void {
    if (this.countedHere(quota).length > 0) this.schedule(quota.metadata.namespace ?? '');
  }

  /** The quota's `count/…` names whose resource this server serves. */
  private countedHere(quota: KubeObject): { name: string; store: GenericStore }[] {
    const counted: { name: string; store: GenericStore }[] = [];
    for (const name of hardOf(quota).keys()) {
      const resource = countedResource(name);
      const store = resource && this.storeFor(resource.group, resource.plural);
      if (store && store.resource.namespaced) counted.push({ name, store });
    }
    return counted;
  }

  async validate(attributes: AdmissionAttributes): Promise<void> {
    const object = attributes.object;
    if (attributes.operation !== 'CREATE' || attributes.subresource !== '' || !object || !attributes.namespace) return;
    const { group, resource } = attributes.resource;
    const name = countName(group, resource);
    const namespace = attributes.namespace;
    const relevant = this.backend.quotas.list().filter((quota) => quota.metadata.namespace === namespace && hardOf(quota).has(name));
    if (relevant.length === 0) return;
    const store = this.storeFor(group, resource);
    if (store) this.watchDeletions(store);
    await this.ledger.exclusive(namespace, async () => {
      const current: KubeObject[] = [];
      for (const quota of relevant) {
        const fresh = await this.backend.read(namespace, quota.metadata.name ?? '');
        if (fresh) current.push(fresh);
      }
      // Every quota is checked before any is charged, as upstream's checkRequest goes.
      for (const quota of current) this.check(attributes, quota, name);
      if (attributes.dryRun) return;
      const revision = store ? await store.storage.currentRevision() : 0;
      this.ledger.charge(namespace, { group, plural: resource, name: object.metadata.name ?? attributes.name, usage: new Map([[name, 1]]), revision });
      for (const quota of current) await this.charge(attributes, quota, name);
    });
  }

  private check(attributes: AdmissionAttributes, quota: KubeObject, name: string): void {
    const hard = hardOf(quota).get(name)!;
    const used = usedOf(quota, name);
    if (used + 1 <= hard) return;
    const one = (value: string) => prettyPrint(new Map([[name, value]]));
    throw admissionForbidden(
      attributes,
      `exceeded quota: ${quota.metadata.name ?? ''}, requested: ${one('1')}, used: ${one(formatUsage(name, used))}, limited: ${one(String(record(record(quota.spec).hard)[name]))}`,
    );
  }

  private async charge(attributes: AdmissionAttributes, first: KubeObject, name: string): Promise<void> {
    let quota: KubeObject | undefined = first;
    for (let attempt = 0; attempt <= MAX_RETRIES; attempt++) {
      if (attempt > 0) quota = await this.backend.read(first.metadata.namespace ?? '', first.metadata.name ?? '');
      if (!quota || !hardOf(quota).has(name)) return;
      this.check(attributes, quota, name);
      const status = record(quota.status);
      quota.status = { ...status, hard: record(quota.spec).hard, used: { ...record(status.used), [name]: formatUsage(name, usedOf(quota, name) + 1) } };
      const written = await this.backend.writeStatus(quota);
      if (written !== 'conflict') return;
    }
    throw conflict({ group: '', resource: 'resourcequotas' }, first.metadata.name ?? '', OBJECT_MODIFIED);
  }

  /** Deleted objects give their unit back: the namespace is recounted. */
  private watchDeletions(store: GenericStore): void {
    if (this.watched.has(store)) return;
    this.watched.add(store);
    this.watches.push(
      store.cache.watch({
        fromRevision: store.cache.revision,
        prefix: store.resource.storagePrefix,
        filter: () => true,
        onEvent: (type, object) => {
          if (type === 'DELETED') this.schedule(object.namespace);
        },
      }),
    );
  }

  private schedule(namespace: string): void {
    if (this.stopped || this.scheduled.has(namespace)) return;
    const timer = setTimeout(() => {
      this.scheduled.delete(namespace);
      this.recount(namespace).catch((error: unknown) => {
        console.error(`[resourcequota] ${namespace}:`, (error as Error).message);
        this.schedule(namespace);
      });
    }, DEBOUNCE_MS);
    timer.unref();
    this.scheduled.set(namespace, timer);
  }

  /** Sets each counted entry of the namespace's quotas to the objects held here plus charges in flight. */
  async recount(namespace: string): Promise<void> {
    await this.ledger.exclusive(namespace, async () => {
      for (const cached of this.backend.quotas.list().filter((quota) => quota.metadata.namespace === namespace)) {
        const counted = this.countedHere(cached);
        if (counted.length === 0) continue;
        const inFlight = this.ledger.inFlight(namespace, (charge) => {
          const store = this.storeFor(charge.group, charge.plural);
          const item = store?.cache.get(store.key(namespace, charge.name));
          return item !== undefined && item.revision > charge.revision;
        });
        const counts = new Map<string, string>();
        for (const { name, store } of counted) {
          this.watchDeletions(store);
          await store.cache.syncToLatest();
          const pending = inFlight.reduce((sum, charge) => sum + (charge.usage.get(name) ?? 0), 0);
          counts.set(name, formatUsage(name, store.cache.list(store.key(namespace, '')).length + pending));
        }
        for (let attempt = 0; attempt <= MAX_RETRIES; attempt++) {
          const quota = await this.backend.read(namespace, cached.metadata.name ?? '');
          if (!quota) break;
          const used = record(record(quota.status).used);
          if ([...counts].every(([name, value]) => used[name] === value)) break;
          quota.status = { ...record(quota.status), hard: record(quota.spec).hard, used: { ...used, ...Object.fromEntries(counts) } };
          if ((await this.backend.writeStatus(quota)) !== 'conflict') break;
        }
      }
    });
  }
}
