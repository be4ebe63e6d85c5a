// ResourceQuota for custom resources. Upstream runs the ResourceQuota admission plugin in the one process
// that also serves custom resources, and kube-controller-manager's quota controller counts any resource
// (`count/<plural>.<group>`) it finds through discovery. Here ResourceQuotas live in core and custom
// resources here, so this server does both for the resources it serves: a create is charged against every
// quota of its namespace that counts its kind (compare-and-swap on the quota's status in core, batched
// per namespace, refused over the limit with upstream's message), and those entries of status.used are kept
// equal to the objects this server holds (recounted when a quota changes, an object goes, a charge expires,
// and periodically). Core's quota controller leaves the entries it cannot count alone.

import type { AdmissionAttributes, AdmissionPlugin } from '../../apiserver/admission/interface.js';
import { admissionForbidden } from '../../apiserver/admission/run.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';
import type { GenericStore } from '../../apiserver/registry/store.js';
import { conflict, OBJECT_MODIFIED } from '../../apiserver/request/status.js';
import { parseQuantity } from '../../apiserver/registry/quantity.js';
import type { QuotaBackend } from './backends.js';
import { QuotaLedger, hardOf } from '../../core-apiserver/admission/resource-quota.js';
import { formatUsage, prettyPrint, quotaSelects } from '../../core-apiserver/admission/quota-usage.js';

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

/**
 * Whether a quota counts the custom resource `count/<plural>.<group>` names: it limits it and has no scopes
 * (scopes select pods only: upstream's generic object-count evaluator matches no scope).
 */
function counts(quota: KubeObject, name: string): boolean {
  const resource = countedResource(name);
  return resource !== undefined && hardOf(quota).has(name) && quotaSelects(quota, resource.group, resource.plural, { metadata: {} });
}

function usedOf(quota: KubeObject, name: string): number {
  return parseQuantity(record(record(quota.status).used)[name]) ?? 0;
}

interface Waiting {
  attributes: AdmissionAttributes;
  /** The `count/<plural>.<group>` it adds one to. */
  name: string;
  store: GenericStore | undefined;
  resolve(): void;
  reject(error: unknown): void;
}

export class CustomResourceQuota implements AdmissionPlugin {
  readonly name = 'ResourceQuota';
  private readonly ledger = new QuotaLedger();
  /** Creates waiting to be charged, per namespace. */
  private readonly waiting = new Map<string, Waiting[]>();
  /** The quotas as this server last wrote them (its mirror may not have seen the write yet). */
  private readonly written = new Map<string, KubeObject>();
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
      const store = resource && counts(quota, name) && this.storeFor(resource.group, resource.plural);
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
    if (!this.backend.quotasIn(namespace).some((quota) => counts(quota, name))) return;
    const store = this.storeFor(group, resource);
    if (store) this.watchDeletions(store);
    // Creates waiting in a namespace are charged together, one status write per quota for the batch
    // (upstream's quota evaluator batches the same way).
    await new Promise<void>((resolve, reject) => {
      const queue = this.waiting.get(namespace) ?? [];
      queue.push({ attributes, name, store, resolve, reject });
      if (queue.length > 1) return;
      this.waiting.set(namespace, queue);
      this.ledger.exclusive(namespace, () => this.chargeBatch(namespace)).catch((error: unknown) => {
        for (const waiting of queue) waiting.reject(error);
      });
    });
  }

  /** The freshest copy known of a quota: the mirror's, or the one this server wrote last. */
  private latest(quota: KubeObject): KubeObject {
    const key = `${quota.metadata.namespace ?? ''}/${quota.metadata.name ?? ''}`;
    const written = this.written.get(key);
    if (written && written.metadata.uid === quota.metadata.uid && Number(written.metadata.resourceVersion) > Number(quota.metadata.resourceVersion)) return structuredClone(written);
    return structuredClone(quota);
  }

  private async chargeBatch(namespace: string): Promise<void> {
    const batch = this.waiting.get(namespace) ?? [];
    this.waiting.delete(namespace);
    const names = new Set(batch.map((waiting) => waiting.name));
    let quotas = this.backend
      .quotasIn(namespace)
      .filter((quota) => [...names].some((name) => counts(quota, name)))
      .map((quota) => this.latest(quota));
    // Quotas already charged for this batch by an earlier attempt (a later one conflicted): not charged twice.
    // Should a retry admit fewer creates than that charge, the recount gives the difference back.
    const charged = new Set<string>();
    for (let attempt = 0; attempt <= MAX_RETRIES; attempt++) {
      const added = new Map<KubeObject, Map<string, number>>();
      const outcome = new Map<Waiting, Error | undefined>();
      for (const waiting of batch) {
        const tracking = quotas.filter((quota) => counts(quota, waiting.name) && !charged.has(quota.metadata.name ?? ''));
        try {
          // Every quota is checked before any is charged, as upstream's checkRequest goes.
          for (const quota of tracking) this.check(waiting.attributes, quota, waiting.name, added.get(quota)?.get(waiting.name) ?? 0);
          outcome.set(waiting, undefined);
          if (waiting.attributes.dryRun) continue;
          for (const quota of tracking) {
            const amounts = added.get(quota) ?? new Map<string, number>();
            amounts.set(waiting.name, (amounts.get(waiting.name) ?? 0) + 1);
            added.set(quota, amounts);
          }
        } catch (error) {
          outcome.set(waiting, error as Error);
        }
      }
      let conflicted = false;
      for (const [quota, amounts] of added) {
        const status = record(quota.status);
        const used = { ...record(status.used) };
        for (const [name, amount] of amounts) used[name] = formatUsage(name, usedOf(quota, name) + amount);
        quota.status = { ...status, hard: record(quota.spec).hard, used };
        const written = await this.backend.writeStatus(quota);
        if (written === 'conflict') {
          conflicted = true;
          break;
        }
        charged.add(quota.metadata.name ?? '');
        if (written !== 'gone') this.written.set(`${namespace}/${quota.metadata.name ?? ''}`, written);
      }
      if (conflicted) {
        if (charged.size > 0) this.schedule(namespace);
        // Someone else wrote a quota meanwhile: read them all again and charge the whole batch anew.
        const fresh = await Promise.all(quotas.map((quota) => this.backend.read(namespace, quota.metadata.name ?? '')));
        quotas = fresh.filter((quota): quota is KubeObject => quota !== undefined);
        continue;
      }
      for (const waiting of batch) {
        const error = outcome.get(waiting);
        if (error) {
          waiting.reject(error);
          continue;
        }
        if (!waiting.attributes.dryRun && waiting.store) {
          const revision = await waiting.store.storage.currentRevision();
          const { group, resource } = waiting.attributes.resource;
          this.ledger.charge(namespace, { group, plural: resource, name: waiting.attributes.object?.metadata.name ?? waiting.attributes.name, usage: new Map([[waiting.name, 1]]), revision });
        }
        waiting.resolve();
      }
      return;
    }
    const error = conflict({ group: '', resource: 'resourcequotas' }, quotas[0]?.metadata.name ?? '', OBJECT_MODIFIED);
    for (const waiting of batch) waiting.reject(error);
  }

  private check(attributes: AdmissionAttributes, quota: KubeObject, name: string, alreadyAdded: number): void {
    const hard = hardOf(quota).get(name)!;
    const used = usedOf(quota, name) + alreadyAdded;
    if (used + 1 <= hard) return;
    const one = (value: string) => prettyPrint(new Map([[name, value]]));
    throw admissionForbidden(
      attributes,
      `exceeded quota: ${quota.metadata.name ?? ''}, requested: ${one('1')}, used: ${one(formatUsage(name, used))}, limited: ${one(String(record(record(quota.spec).hard)[name]))}`,
    );
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
      for (const cached of this.backend.quotasIn(namespace)) {
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
          const written = await this.backend.writeStatus(quota);
          if (written === 'conflict') continue;
          if (written !== 'gone') this.written.set(`${namespace}/${quota.metadata.name ?? ''}`, written);
          break;
        }
      }
    });
  }
}
