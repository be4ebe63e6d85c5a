// apiserver_storage_objects: how many objects each resource holds, read from the watch caches when
// /metrics is scraped (upstream reads etcd's counts periodically; the caches hold the same number).

import { Gauge } from 'prom-client';
import { registry } from './registry.js';

const sources = new Map<string, () => number>();

new Gauge({
  name: 'apiserver_storage_objects',
  help: 'Number of stored objects at the time of last check split by kind. In case of a fetching error, the value will be -1.',
  labelNames: ['resource'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const [resource, count] of sources) this.set({ resource }, count());
  },
});

/** Reports a resource's object count ("configmaps", "deployments.apps"); returns the way to stop. */
export function trackStorageObjects(resource: string, count: () => number): () => void {
  sources.set(resource, count);
  return () => {
    if (sources.get(resource) === count) sources.delete(resource);
  };
}

/** The object count of a resource stored in this process (API Priority and Fairness prices LISTs by it). */
export function storedObjectCount(resource: string): number | undefined {
  return sources.get(resource)?.();
}

const storageTypes = new Map<string, string>();

/** Names the storage prefix of a resource for etcd_request_duration_seconds' `type` label. */
export function registerStorageType(storagePrefix: string, resource: string): void {
  storageTypes.set(storagePrefix, resource);
}

/** The resource a storage key belongs to: a registered prefix, else the key's first segments. */
export function storageTypeOf(key: string): string {
  // Keys are /registry/<resource>/... or /registry/<group>/<resource>/...: try both prefixes.
  const first = key.indexOf('/', 10);
  if (first < 0) return key;
  const short = key.slice(0, first + 1);
  const known = storageTypes.get(short);
  if (known) return known;
  const second = key.indexOf('/', first + 1);
  if (second >= 0) {
    const long = storageTypes.get(key.slice(0, second + 1));
    if (long) return long;
  }
  return key.slice(key.startsWith('/registry/') ? 10 : 0, first);
}
