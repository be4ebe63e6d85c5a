// ResourceQuota (upstream plugin/pkg/admission/resourcequota): a create is charged against every quota of
// its namespace that tracks what it uses, before it is written; so is an update of a kind whose usage can
// grow in place (a claim's storage, a service's type), by what it adds. The charge is a compare-and-swap on the
// quota's status (as upstream's quota evaluator does), serialized per namespace so concurrent creates
// cannot both take the last unit; a charge that never becomes an object is released by the quota
// controller (quota-controller.ts), which recalculates usage from the caches. Runs last, as upstream orders it.

import type { AdmissionAttributes, AdmissionPlugin } from '../../apiserver/admission/interface.js';
import { admissionForbidden } from '../../apiserver/admission/run.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';
import { parseQuantity } from '../../apiserver/registry/quantity.js';
import type { GenericStore, WriteContext } from '../../apiserver/registry/store.js';
import type { KeyValue } from '../../apiserver/storage/interface.js';
import { ConflictError } from '../../apiserver/storage/interface.js';
import { encodeForStorage } from '../../apiserver/registry/encode.js';
import { conflict, OBJECT_MODIFIED } from '../../apiserver/request/status.js';
import type { Usage } from './quota-usage.js';
import { chargesUpdates, formatUsage, missingCompute, prettyPrint, quotaSelects, tracks, usageOf } from './quota-usage.js';

/** How long a charge waits for its object to appear before the controller stops counting it. */
export const PENDING_CHARGE_MS = 5_000;

interface PendingCharge {
  group: string;
  plural: string;
  name: string;
  /** Storage revision when charged: only an object written after it is this charge's object (the name may be taken already). */
  revision: number;
  usage: Usage;
  expires: number;
}

/** Per-namespace serialization of quota status writes, and the charges whose objects are not yet stored. */
export class QuotaLedger {
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly pending = new Map<string, PendingCharge[]>();
  /** Called when a charge expires (the controller recalculates then). */
  onExpiry: (namespace: string) => void = () => undefined;

  async exclusive<T>(namespace: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(namespace) ?? Promise.resolve();
    const run = previous.then(work, work);
    const settled = run.catch(() => undefined);
    this.locks.set(namespace, settled);
    try {
      return await run;
    } finally {
      if (this.locks.get(namespace) === settled) this.locks.delete(namespace);
    }
  }

  charge(namespace: string, charge: Omit<PendingCharge, 'expires'>): void {
    const list = this.pending.get(namespace) ?? [];
    list.push({ ...charge, expires: Date.now() + PENDING_CHARGE_MS });
    this.pending.set(namespace, list);
    setTimeout(() => this.onExpiry(namespace), PENDING_CHARGE_MS + 50).unref();
  }

  /** Charges still in flight (expired ones and those `stored` reports as written are dropped). */
  inFlight(namespace: string, stored: (charge: PendingCharge) => boolean): PendingCharge[] {
    const now = Date.now();
    const list = (this.pending.get(namespace) ?? []).filter((charge) => charge.expires > now && !stored(charge));
    if (list.length > 0) this.pending.set(namespace, list);
    else this.pending.delete(namespace);
    return list;
  }
}

export function quotaSystemContext(namespace: string, manager: string): WriteContext {
  return {
    user: { username: 'system:apiserver', groups: ['system:masters'] },
    namespace,
    warnings: [],
    dryRun: false,
    fieldManager: manager,
    fieldValidation: 'Ignore',
    skipAdmission: true,
  };
}

function record(value: unknown): Record<string, unknown> {
  return isObject(value) ? value : {};
}

export function hardOf(quota: KubeObject): Map<string, number> {
  const hard = new Map<string, number>();
  for (const [name, value] of Object.entries(record(record(quota.spec).hard))) {
    const amount = parseQuantity(value);
    if (amount !== undefined) hard.set(name, amount);
  }
  return hard;
}

function usedOf(quota: KubeObject): Map<string, number> {
  const used = new Map<string, number>();
  for (const [name, value] of Object.entries(record(record(quota.status).used))) used.set(name, parseQuantity(value) ?? 0);
  return used;
}

const EPSILON = 1e-9;
const MAX_CHARGE_RETRIES = 10;

export class ResourceQuotaAdmission implements AdmissionPlugin {
  readonly name = 'ResourceQuota';

  constructor(
    private readonly quotas: GenericStore,
    readonly ledger: QuotaLedger,
  ) {}

  async validate(attributes: AdmissionAttributes): Promise<void> {
    const object = attributes.object;
    if (attributes.subresource !== '' || !object || !attributes.namespace) return;
    const { group, resource } = attributes.resource;
    if (attributes.operation !== 'CREATE' && !(attributes.operation === 'UPDATE' && chargesUpdates(group, resource))) return;
    const namespace = attributes.namespace;
    await this.quotas.cache.start();
    const listed = this.quotas.cache.list(this.quotas.key(namespace, ''));
    if (listed.length === 0) return;
    const usage = usageOf(group, resource, object);
    // An update is charged what it adds over the stored object (upstream's SubtractWithNonNegativeResult):
    // what it gives back is released by the quota controller's recalculation, never here.
    const old = attributes.operation === 'UPDATE' ? attributes.oldObject : undefined;
    if (old?.metadata.resourceVersion) {
      const before = usageOf(group, resource, old);
      for (const [name, amount] of usage) usage.set(name, Math.max(0, amount - (before.get(name) ?? 0)));
    }
    if (![...usage.values()].some((amount) => amount > 0)) return;
    const relevant = listed.filter((item) => {
      const quota = JSON.parse(item.bytes) as KubeObject;
      return [...hardOf(quota).keys()].some((name) => tracks(name, group, resource)) && quotaSelects(quota, group, resource, object);
    });
    if (relevant.length === 0) return;
    await this.ledger.exclusive(namespace, async () => {
      const charges: KeyValue[] = [];
      const current: { kv: KeyValue; quota: KubeObject }[] = [];
      for (const item of relevant) {
        const kv = await this.quotas.storage.get(item.key);
        if (kv) current.push({ kv, quota: JSON.parse(kv.value) as KubeObject });
      }
      // Every quota's constraints first, then every quota's limits, as upstream's checkRequest goes.
      for (const { quota } of current) this.checkConstraints(attributes, quota);
      for (const { kv, quota } of current) if (this.check(attributes, quota, usage)) charges.push(kv);
      if (attributes.dryRun || charges.length === 0) return;
      const revision = await this.quotas.storage.currentRevision();
      this.ledger.charge(namespace, { group, plural: resource, name: object.metadata.name ?? attributes.name, usage, revision });
      for (const kv of charges) await this.chargeStatus(attributes, kv, usage);
    });
  }

  /**
   * Adds the usage to the quota's status.used with a compare-and-swap of the stored quota (only the
   * system writes status.used, so the write goes straight to storage: no managedFields bookkeeping on
   * every create). A conflict re-reads and re-checks.
   */
  private async chargeStatus(attributes: AdmissionAttributes, first: KeyValue, usage: Usage): Promise<void> {
    let kv: KeyValue | undefined = first;
    for (let attempt = 0; attempt <= MAX_CHARGE_RETRIES; attempt++) {
      if (attempt > 0) kv = await this.quotas.storage.get(first.key);
      if (!kv) return; // the quota is gone
      const quota = JSON.parse(kv.value) as KubeObject;
      const requested = this.check(attributes, quota, usage);
      if (!requested) return;
      const used = usedOf(quota);
      const status = record(quota.status);
      const nextUsed: Record<string, string> = { ...(record(status.used) as Record<string, string>) };
      for (const [name, amount] of requested) nextUsed[name] = formatUsage(name, (used.get(name) ?? 0) + amount);
      quota.status = { ...status, hard: record(quota.spec).hard, used: nextUsed };
      try {
        await this.quotas.storage.update(kv.key, encodeForStorage(quota), kv.modRevision);
        return;
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
      }
    }
    throw conflict({ group: '', resource: 'resourcequotas' }, first.key.slice(first.key.lastIndexOf('/') + 1), OBJECT_MODIFIED);
  }

  /** What this create adds to the quota (undefined when nothing it tracks), or the Forbidden refusal. */
  private checkConstraints(attributes: AdmissionAttributes, quota: KubeObject): void {
    if (attributes.resource.group !== '' || attributes.resource.resource !== 'pods') return;
    const missing = missingCompute([...hardOf(quota).keys()], attributes.object!);
    if (missing) throw admissionForbidden(attributes, `failed quota: ${quota.metadata.name ?? ''}: ${missing}`);
  }

  private check(attributes: AdmissionAttributes, quota: KubeObject, usage: Usage): Map<string, number> | undefined {
    const hard = hardOf(quota);
    const name = quota.metadata.name ?? '';
    const requested = new Map<string, number>();
    for (const [resource, amount] of usage) if (hard.has(resource) && amount > 0) requested.set(resource, amount);
    if (requested.size === 0) return undefined;
    const used = usedOf(quota);
    const exceeded = [...requested.keys()].filter((resource) => (used.get(resource) ?? 0) + requested.get(resource)! > hard.get(resource)! + EPSILON);
    if (exceeded.length > 0) {
      const show = (values: (resource: string) => number) => new Map(exceeded.map((resource) => [resource, formatUsage(resource, values(resource))]));
      throw admissionForbidden(
        attributes,
        `exceeded quota: ${name}, requested: ${prettyPrint(show((resource) => requested.get(resource)!))}, used: ${prettyPrint(show((resource) => used.get(resource) ?? 0))}, limited: ${prettyPrint(new Map(exceeded.map((resource) => [resource, String(record(record(quota.spec).hard)[resource])])))}`,
      );
    }
    return requested;
  }
}
