// The availability controller: every APIService gets an `Available` condition. Local ones are always
// available; remote ones are checked in upstream's order (Service, port, Endpoints, addresses, then a
// discovery GET with the aggregator's own identity) every two seconds, so a dead or recovered backend is
// noticed within five. The condition says when the last probe ran, how long it took and which URL it hit.
// Status is written when the outcome changes, and refreshed at most once a minute otherwise.

import { decodedObject } from '../apiserver/storage/watch-cache.js';
import type https from 'node:https';
import type { KubeObject } from '../apiserver/registry/object.js';
import { nowTimestamp } from '../apiserver/registry/object.js';
import { storageKey } from '../apiserver/registry/resource.js';
import type { GenericStore, WriteContext } from '../apiserver/registry/store.js';
import { StatusError } from '../apiserver/request/status.js';
import { fetchFromBackend } from './backend-client.js';
import type { ApiServiceCondition } from './apiservices.js';
import { availableCondition } from './apiservices.js';
import type { Resolution } from './remote-endpoint.js';
import { aggregatorMetrics } from '../apiserver/metrics/registry.js';

export interface Availability {
  available: boolean;
  reason: string;
  message: string;
}

export interface RemoteTarget {
  resolve(): Resolution;
  agent: https.Agent;
}

const PROBE_INTERVAL_MS = 2000;
const PROBE_TIMEOUT_MS = 5000;
const REFRESH_UNCHANGED_MS = 60_000;

const SYSTEM: WriteContext = {
  user: { username: 'system:kube-aggregator', groups: ['system:masters'] },
  namespace: '',
  warnings: [],
  dryRun: false,
  fieldManager: 'kube-aggregator',
  fieldValidation: 'Ignore',
};

export function discoveryPath(group: string, version: string): string {
  return group ? `/apis/${group}/${version}` : `/api/${version}`;
}

export class AvailabilityController {
  private readonly current = new Map<string, Availability & { written: number }>();
  /**
   * Local APIService revisions found available with that condition stored: nothing can change for them
   * until the object does (a new revision is checked by checkOne), so the periodic round passes them by.
   */
  private readonly settledLocal = new WeakSet<KubeObject>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly apiServices: GenericStore,
    private readonly targetFor: (apiService: KubeObject) => RemoteTarget | undefined,
    private readonly onTransition: (name: string, availability: Availability) => void = () => undefined,
    /** Every replica probes (its proxy needs the answers); only the leader writes the condition. */
    private readonly mayWrite: () => boolean = () => true,
  ) {}

  /** The latest outcome (from memory: the proxy consults it on every request). */
  availability(name: string): Availability | undefined {
    return this.current.get(name);
  }

  start(): void {
    const loop = async () => {
      await this.checkAll();
      this.timer = setTimeout(loop, PROBE_INTERVAL_MS);
      this.timer.unref();
    };
    void loop();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  /** Checks every APIService now (also called when one changes). */
  async checkAll(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.apiServices.cache.start();
      const objects = this.apiServices.cache.list(this.apiServices.resource.storagePrefix).map((cached) => decodedObject<KubeObject>(cached));
      const names = new Set(objects.map((object) => object.metadata.name!));
      for (const name of [...this.current.keys()]) {
        if (names.has(name)) continue;
        this.current.delete(name);
        aggregatorMetrics.unavailableApiService.remove({ name });
      }
      await Promise.all(objects.map((object) => (this.settledLocal.has(object) ? undefined : this.check(object))));
    } finally {
      this.running = false;
    }
  }

  /** Checks the one APIService that changed (the periodic round checks them all). */
  async checkOne(name: string): Promise<void> {
    await this.apiServices.cache.start();
    const cached = this.apiServices.cache.get(storageKey(this.apiServices.resource, '', name));
    if (cached) {
      await this.check(decodedObject<KubeObject>(cached));
    } else if (this.current.delete(name)) {
      aggregatorMetrics.unavailableApiService.remove({ name });
    }
  }

  private async check(apiService: KubeObject): Promise<void> {
    const name = apiService.metadata.name!;
    let outcome: Availability;
    if (!apiService.spec?.service) {
      outcome = { available: true, reason: 'Local', message: 'Local APIServices are always available' };
    } else {
      outcome = await this.probe(apiService);
    }
    const previous = this.current.get(name);
    const changed = !previous || previous.available !== outcome.available || previous.reason !== outcome.reason;
    const stored = availableCondition(apiService);
    const storedMatches = stored?.status === (outcome.available ? 'True' : 'False') && stored.reason === outcome.reason;
    const now = Date.now();
    const due = !storedMatches || (apiService.spec?.service && now - (previous?.written ?? 0) > REFRESH_UNCHANGED_MS);
    this.current.set(name, { ...outcome, written: previous?.written ?? 0 });
    // Setting a labelled gauge hashes its labels: with hundreds of APIServices, only on a change.
    if (changed) aggregatorMetrics.unavailableApiService.set({ name }, outcome.available ? 0 : 1);
    if (changed && !outcome.available) aggregatorMetrics.unavailableApiServiceTotal.inc({ name, reason: outcome.reason });
    if (changed && previous) this.onTransition(name, outcome);
    if (!apiService.spec?.service && !changed && storedMatches) this.settledLocal.add(apiService);
    if (!due || !this.mayWrite()) return;
    try {
      await this.apiServices.guaranteedUpdate(name, SYSTEM, 'status', undefined, (current) => {
        const next = structuredClone(current!);
        const conditions: ApiServiceCondition[] = (next.status?.conditions ?? []).filter((condition: ApiServiceCondition) => condition.type !== 'Available');
        const old = availableCondition(current!);
        const status = outcome.available ? 'True' : 'False';
        conditions.push({
          type: 'Available',
          status,
          lastTransitionTime: old?.status === status ? old.lastTransitionTime : nowTimestamp(),
          reason: outcome.reason,
          message: outcome.message,
        });
        next.status = { ...(next.status ?? {}), conditions };
        return next;
      });
      this.current.set(name, { ...outcome, written: now });
    } catch (error) {
      if (!(error instanceof StatusError && error.code === 404)) console.error(`[availability] ${name}: ${(error as Error).message}`);
    }
  }

  private async probe(apiService: KubeObject): Promise<Availability> {
    const target = this.targetFor(apiService);
    const { namespace, name } = apiService.spec.service;
    if (!target) return { available: false, reason: 'ServiceAccessError', message: `service/${name} in "${namespace}" cannot be checked due to: the aggregator has no view of Services yet` };
    const resolution = target.resolve();
    if (!resolution.ok) return { available: false, reason: resolution.reason, message: resolution.message };
    const url = `${resolution.url}${discoveryPath(apiService.spec.group ?? '', apiService.spec.version)}`;
    const started = Date.now();
    const when = nowTimestamp();
    try {
      const result = await fetchFromBackend(resolution.url, target.agent, discoveryPath(apiService.spec.group ?? '', apiService.spec.version), { Accept: 'application/json' }, PROBE_TIMEOUT_MS);
      const took = Date.now() - started;
      const probe = `last probe ${when}: GET ${url} answered ${result.status} in ${took}ms`;
      if (result.status >= 200 && result.status < 400) return { available: true, reason: 'Passed', message: `all checks passed (${probe})` };
      return { available: false, reason: 'FailedDiscoveryCheck', message: `bad status from ${url}: ${result.status} (${probe})` };
    } catch (error) {
      const took = Date.now() - started;
      const detail = (error as Error).message;
      const reason = /timed out/.test(detail) ? `timed out waiting for ${url}` : `failing or missing response from ${url}: Get "${url}": ${detail}`;
      return { available: false, reason: 'FailedDiscoveryCheck', message: `${reason} (last probe ${when}, after ${took}ms)` };
    }
  }
}
