// The resource quota controller (upstream pkg/controller/resourcequota): keeps every quota's status.hard
// equal to its spec and status.used equal to what its namespace really holds — recalculated from the
// caches when a quota is created or changed, when objects are deleted or updated in ways that can give
// usage back (their usage is released), when an admission charge expires without its object, and on a
// periodic full resync. Charges still in flight
// (admitted, not yet stored) are counted too, so a recalculation never hands out units twice.

import type { GenericStore } from '../../apiserver/registry/store.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';
import type { QuotaLedger } from './resource-quota.js';
import { hardOf, quotaSystemContext } from './resource-quota.js';
import { chargesUpdates, formatUsage, quotaSelects, tracks, usageOf } from './quota-usage.js';
import { StatusError } from '../../apiserver/request/status.js';

const DEBOUNCE_MS = 100;
const RESYNC_MS = 30_000;

export class QuotaController {
  private readonly watches: { stop(): void }[] = [];
  private readonly scheduled = new Map<string, NodeJS.Timeout>();
  private resync: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly quotas: GenericStore,
    private readonly stores: () => GenericStore[],
    private readonly ledger: QuotaLedger,
  ) {}

  async start(): Promise<void> {
    this.ledger.onExpiry = (namespace) => this.schedule(namespace);
    await this.quotas.cache.start();
    this.watches.push(
      this.quotas.cache.watch({
        fromRevision: 0,
        prefix: this.quotas.resource.storagePrefix,
        filter: () => true,
        onEvent: (type, object) => {
          if (type === 'DELETED') return;
          const quota = JSON.parse(object.bytes) as KubeObject;
          const status = isObject(quota.status) ? quota.status : {};
          if (JSON.stringify(status.hard ?? {}) !== JSON.stringify(isObject(quota.spec) ? (quota.spec.hard ?? {}) : {}) || !isObject(status.used)) this.schedule(object.namespace);
        },
      }),
    );
    for (const store of this.stores()) {
      if (!store.resource.namespaced || store === this.quotas) continue;
      await store.cache.start();
      const podStore = store.resource.group === '' && store.resource.plural === 'pods';
      // Updates that may have given usage back (a service no longer a load balancer) are released too.
      const updatesChangeUsage = chargesUpdates(store.resource.group, store.resource.plural);
      this.watches.push(
        store.cache.watch({
          fromRevision: store.cache.revision,
          prefix: store.resource.storagePrefix,
          filter: () => true,
          onEvent: (type, object) => {
            if (!this.hasQuotas(object.namespace)) return;
            // Deletions release usage; so does a pod that finished.
            if (type === 'DELETED' || (type === 'MODIFIED' && (updatesChangeUsage || (podStore && (object.fields['status.phase'] === 'Succeeded' || object.fields['status.phase'] === 'Failed'))))) {
              this.schedule(object.namespace);
            }
          },
        }),
      );
    }
    this.resync = setInterval(() => {
      for (const namespace of new Set(this.quotas.cache.list(this.quotas.resource.storagePrefix).map((item) => item.namespace))) this.schedule(namespace);
    }, RESYNC_MS);
    this.resync.unref();
  }

  stop(): void {
    this.stopped = true;
    for (const watch of this.watches) watch.stop();
    for (const timer of this.scheduled.values()) clearTimeout(timer);
    if (this.resync) clearInterval(this.resync);
  }

  private hasQuotas(namespace: string): boolean {
    return this.quotas.cache.list(this.quotas.key(namespace, '')).length > 0;
  }

  private schedule(namespace: string): void {
    if (this.stopped || this.scheduled.has(namespace)) return;
    const timer = setTimeout(() => {
      this.scheduled.delete(namespace);
      this.recalculate(namespace).catch((error: unknown) => {
        if (!(error instanceof StatusError && error.code === 404)) console.error(`[resourcequota-controller] ${namespace}:`, (error as Error).message);
        this.schedule(namespace);
      });
    }, DEBOUNCE_MS);
    timer.unref();
    this.scheduled.set(namespace, timer);
  }

  private storeFor(group: string, plural: string): GenericStore | undefined {
    return this.stores().find((store) => store.resource.group === group && store.resource.plural === plural);
  }

  /** Recomputes the usage of every quota of the namespace and writes the statuses that changed. */
  async recalculate(namespace: string): Promise<void> {
    await this.ledger.exclusive(namespace, async () => {
      await this.quotas.cache.syncToLatest();
      const quotas = this.quotas.cache.list(this.quotas.key(namespace, '')).map((item) => JSON.parse(item.bytes) as KubeObject);
      if (quotas.length === 0) return;
      const counted: { group: string; plural: string; objects: KubeObject[] }[] = [];
      for (const store of this.stores()) {
        if (!store.resource.namespaced) continue;
        const tracked = quotas.some((quota) => [...hardOf(quota).keys()].some((name) => tracks(name, store.resource.group, store.resource.plural)));
        if (!tracked) continue;
        await store.cache.syncToLatest();
        counted.push({ group: store.resource.group, plural: store.resource.plural, objects: store.cache.list(store.key(namespace, '')).map((item) => JSON.parse(item.bytes) as KubeObject) });
      }
      const inFlight = this.ledger.inFlight(namespace, (charge) => {
        const store = this.storeFor(charge.group, charge.plural);
        const cached = store?.cache.get(store.key(namespace, charge.name));
        return cached !== undefined && cached.revision > charge.revision;
      });
      for (const quota of quotas) {
        const hard = hardOf(quota);
        const used = new Map<string, number>([...hard.keys()].map((name) => [name, 0]));
        const tally = (usage: Map<string, number>) => {
          for (const [name, amount] of usage) if (used.has(name)) used.set(name, used.get(name)! + amount);
        };
        for (const { group, plural, objects } of counted) {
          for (const object of objects) if (quotaSelects(quota, group, plural, object)) tally(usageOf(group, plural, object));
        }
        for (const charge of inFlight) tally(charge.usage);
        // What no store here counts (`count/<plural>.<group>` of custom resources) is counted and charged by
        // the server that serves it: its entry keeps the value that server wrote ("0" until then).
        const countedHere = (name: string) => this.stores().some((store) => store.resource.namespaced && tracks(name, store.resource.group, store.resource.plural));
        const usedFor = (object: KubeObject) => {
          const written = isObject(object.status) && isObject(object.status.used) ? object.status.used : {};
          return Object.fromEntries([...used].map(([name, amount]) => [name, countedHere(name) || typeof written[name] !== 'string' ? formatUsage(name, amount) : written[name]]));
        };
        const nextUsed = usedFor(quota);
        const specHard = isObject(quota.spec) ? (quota.spec.hard ?? {}) : {};
        const status = isObject(quota.status) ? quota.status : {};
        if (JSON.stringify(status.hard ?? {}) === JSON.stringify(specHard) && JSON.stringify(status.used ?? null) === JSON.stringify(nextUsed)) continue;
        await this.quotas.guaranteedUpdate(quota.metadata.name!, quotaSystemContext(namespace, 'kube-controller-manager'), 'status', undefined, (current) => {
          const next = structuredClone(current!);
          next.status = { ...(isObject(next.status) ? next.status : {}), hard: isObject(next.spec) ? next.spec.hard : undefined, used: usedFor(current!) };
          return next;
        });
      }
    });
  }
}
