// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection package does it:
// whoever creates the Lease, or takes it over once its holder stopped renewing for leaseDuration (measured
// on our own clock from when we last saw the record change, never trusting another machine's clock),
// leads; the leader renews every retryPeriod and steps down when it could not renew for renewDeadline.
// Every write is compare-and-swap on the Lease's revision, so two candidates can never both win a round.
//
// The Lease lives where core-apiserver stores Leases (/registry/coordination.k8s.io/leases/<ns>/<name>):
// replicas share that storage (etcd), so every server elects through the same keyspace whether or not it
// serves Leases itself, and `kubectl get leases -n kube-system` shows who leads.

import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { ConflictError, KeyExistsError, NotFoundError, type KeyValue, type Storage } from '../storage/interface.js';

export const LEASE_STORAGE_PREFIX = '/registry/coordination.k8s.io/leases/';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** Whether this process may run the controllers that must run once, and when that changes. */
export interface Leadership {
  readonly isLeader: boolean;
  /** Called on every change (true: started leading; false: stopped). */
  onChange(listener: (leading: boolean) => void): void;
}

/** Leadership of a server that runs alone (no --leader-elect): it always leads. */
export const ALWAYS_LEADING: Leadership = { isLeader: true, onChange: () => undefined };

export interface LeaderElectorOptions {
  storage: Storage;
  namespace?: string;
  name: string;
  identity?: string;
  /** client-go's defaults: 15 s, 10 s, 2 s. */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export class LeaderElector implements Leadership {
  readonly identity: string;
  private readonly key: string;
  private readonly namespace: string;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly listeners: ((leading: boolean) => void)[] = [];
  private leading = false;
  private lastRenew = 0;
  /** The record as last read, and when (our clock) it last changed. */
  private observedRaw = '';
  private observedAt = 0;
  private observed: KeyValue | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: LeaderElectorOptions) {
    this.namespace = options.namespace ?? 'kube-system';
    this.key = `${LEASE_STORAGE_PREFIX}${this.namespace}/${options.name}`;
    this.identity = options.identity ?? `${hostname()}_${randomUUID()}`;
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  onChange(listener: (leading: boolean) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    if (this.loop || this.stopped) return;
    this.loop = this.tick();
  }

  /** Stops campaigning; a leader releases the Lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.setLeading(false);
    await this.release().catch(() => undefined);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let renewed = false;
    try {
      renewed = await this.tryAcquireOrRenew();
    } catch (error) {
      console.error(`[leader-election] ${this.options.name}: ${(error as Error).message}`);
    }
    if (this.stopped) return;
    const now = Date.now();
    if (renewed) {
      this.lastRenew = now;
      if (!this.leading) this.setLeading(true);
    } else if (this.leading && now - this.lastRenew > this.renewDeadlineMs) {
      console.error(`[leader-election] ${this.options.name}: failed to renew the lease within ${this.renewDeadlineMs / 1000}s; stepping down`);
      this.setLeading(false);
    }
    // Candidates spread their attempts (client-go's JitterFactor 1.2); the leader renews on the period.
    const delay = this.leading ? this.retryPeriodMs : this.retryPeriodMs * (1 + Math.random() * 1.2);
    this.timer = setTimeout(() => void (this.loop = this.tick()), delay);
    this.timer.unref();
  }

  /** One round: true when we hold the Lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = Date.now();
    const current = await this.options.storage.get(this.key);
    if (!current) {
      const spec: LeaseSpec = { holderIdentity: this.identity, leaseDurationSeconds: this.leaseDurationMs / 1000, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 };
      try {
        this.observe(await this.options.storage.create(this.key, this.leaseObject(spec)), now);
        return true;
      } catch (error) {
        if (error instanceof KeyExistsError) return false;
        throw error;
      }
    }
    const lease = JSON.parse(current.value) as { metadata?: Record<string, unknown>; spec?: LeaseSpec };
    const spec = lease.spec ?? {};
    if (current.value !== this.observedRaw) this.observe(current, now);
    const holder = spec.holderIdentity ?? '';
    const duration = (spec.leaseDurationSeconds ?? 0) * 1000;
    if (holder && holder !== this.identity && this.observedAt + duration > now) return false;
    const next: LeaseSpec =
      holder === this.identity
        ? { ...spec, leaseDurationSeconds: this.leaseDurationMs / 1000, renewTime: microTime(now) }
        : { holderIdentity: this.identity, leaseDurationSeconds: this.leaseDurationMs / 1000, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 };
    return this.write(current, { ...lease, spec: next }, now);
  }

  private async release(): Promise<void> {
    const current = this.observed;
    if (!current) return;
    const lease = JSON.parse(current.value) as { spec?: LeaseSpec };
    if (lease.spec?.holderIdentity !== this.identity) return;
    const now = Date.now();
    // As client-go: no holder and a one-second duration, so the next candidate need not wait.
    await this.write(current, { ...lease, spec: { leaseDurationSeconds: 1, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: lease.spec.leaseTransitions ?? 0 } }, now);
  }

  private async write(current: KeyValue, lease: object, now: number): Promise<boolean> {
    try {
      this.observe(await this.options.storage.update(this.key, JSON.stringify(lease), current.modRevision), now);
      return true;
    } catch (error) {
      if (error instanceof ConflictError || error instanceof NotFoundError) return false;
      throw error;
    }
  }

  private observe(keyValue: KeyValue, now: number): void {
    this.observed = keyValue;
    this.observedRaw = keyValue.value;
    this.observedAt = now;
  }

  private leaseObject(spec: LeaseSpec): string {
    return JSON.stringify({
      kind: 'Lease',
      apiVersion: 'coordination.k8s.io/v1',
      metadata: { name: this.options.name, namespace: this.namespace, uid: randomUUID(), creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') },
      spec,
    });
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    console.error(`[leader-election] ${this.identity} ${leading ? 'became the leader' : 'is no longer the leader'} of ${this.namespace}/${this.options.name}`);
    for (const listener of this.listeners) {
      try {
        listener(leading);
      } catch (error) {
        console.error(`[leader-election] ${this.options.name}: listener failed: ${(error as Error).message}`);
      }
    }
  }
}

/**
 * Runs `start` while this process leads, and the function it returns when leadership ends (starting again
 * on the next term). Without leader election that is: start now, for good.
 */
export function whileLeading(leadership: Leadership, start: () => Promise<() => void> | (() => void)): { started: Promise<void>; stop(): void } {
  let stopCurrent: (() => void) | undefined;
  let term = 0;
  let stopped = false;
  const begin = (): Promise<void> => {
    const myTerm = ++term;
    return Promise.resolve()
      .then(start)
      .then((stop) => {
        if (myTerm === term && !stopped && leadership.isLeader) stopCurrent = stop;
        else stop();
      });
  };
  const end = () => {
    term++;
    stopCurrent?.();
    stopCurrent = undefined;
  };
  leadership.onChange((leading) => {
    if (!leading) return end();
    begin().catch((error: Error) => console.error(`[leader-election] starting controllers failed: ${error.message}`));
  });
  // Already leading (always, without leader election): the caller waits for the controllers to start,
  // and a failure to start fails the server's start as it did before leader election existed.
  const started = leadership.isLeader ? begin() : Promise.resolve();
  return {
    started,
    stop() {
      stopped = true;
      end();
    },
  };
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
