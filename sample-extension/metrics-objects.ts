// The objects kubectl top reads, as metrics-server builds them: NodeMetrics and PodMetrics with the usage of
// the last window, the sample's timestamp, and the labels of the Node or Pod (so label selectors select
// by them). They are written into the extension's in-memory storage after every scrape round; objects of
// nodes and pods without a fresh rate are removed.

import type { KubeObject } from '../apiserver/registry/object.js';
import { encodeForStorage } from '../apiserver/registry/encode.js';
import { formatBytes, formatCores } from '../apiserver/registry/quantity.js';
import type { GenericStore } from '../apiserver/registry/store.js';
import type { Storage } from '../apiserver/storage/interface.js';
import { formatGoDuration } from './go-duration.js';
import type { NodePoint, PodPoint } from './scraper.js';

export function nodeMetricsObject(point: NodePoint, node: KubeObject | undefined, apiVersion: string): KubeObject {
  return {
    kind: 'NodeMetrics',
    apiVersion,
    metadata: { name: point.name, creationTimestamp: new Date(point.timestamp).toISOString().replace(/\.\d{3}Z$/, 'Z'), labels: node?.metadata.labels },
    timestamp: new Date(point.timestamp).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    window: formatGoDuration(point.windowMs),
    usage: { cpu: formatCores(point.cores), memory: formatBytes(point.memoryBytes) },
  };
}

export function podMetricsObject(point: PodPoint, pod: KubeObject | undefined, apiVersion: string): KubeObject {
  return {
    kind: 'PodMetrics',
    apiVersion,
    metadata: { name: point.name, namespace: point.namespace, creationTimestamp: new Date(point.timestamp).toISOString().replace(/\.\d{3}Z$/, 'Z'), labels: pod?.metadata.labels },
    timestamp: new Date(point.timestamp).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    window: formatGoDuration(point.windowMs),
    containers: point.containers.map((container) => ({ name: container.name, usage: { cpu: formatCores(container.cores), memory: formatBytes(container.memoryBytes) } })),
  };
}

/** Mirrors a set of objects into storage under a store's keys: creates, updates and deletes only what changed. */
export class StoredSet {
  private readonly written = new Map<string, { revision: number; bytes: string }>();

  constructor(
    private readonly storage: Storage,
    private readonly store: GenericStore,
  ) {}

  async replace(objects: KubeObject[]): Promise<void> {
    const wanted = new Map<string, string>();
    for (const object of objects) wanted.set(this.store.key(object.metadata.namespace ?? '', object.metadata.name!), encodeForStorage(object));
    const writes: Promise<void>[] = [];
    for (const [key, bytes] of wanted) {
      const previous = this.written.get(key);
      if (previous?.bytes === bytes) continue;
      writes.push(
        (previous ? this.storage.update(key, bytes, previous.revision) : this.storage.create(key, bytes)).then((kv) => {
          this.written.set(key, { revision: kv.modRevision, bytes });
        }),
      );
    }
    for (const [key, previous] of this.written) {
      if (wanted.has(key)) continue;
      writes.push(this.storage.delete(key, previous.revision).then(() => void this.written.delete(key)));
    }
    await Promise.all(writes);
  }
}
