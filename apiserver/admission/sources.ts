// Where admission plugins read their configuration and the namespaces they match against: core-apiserver
// reads its own watch caches; other servers (apiextensions) mirror core through a KubeClient informer, as
// upstream's servers use a shared informer factory on their loopback or --kubeconfig client.

import type { KubeObject } from '../registry/object.js';
import type { GenericStore } from '../registry/store.js';
import type { KubeClient } from '../client/kube-client.js';
import type { NamespaceLookup } from './matching.js';

export interface ObjectSource {
  /** Every object, decoded (callers cache what they derive by uid and resourceVersion). */
  list(): KubeObject[];
  get(namespace: string, name: string): KubeObject | undefined;
  readonly synced: boolean;
}

/** A source over a watch cache; decoded objects are kept until their bytes change. */
export function storeSource(store: GenericStore): ObjectSource {
  const decoded = new Map<string, { bytes: string; object: KubeObject }>();
  const decode = (key: string, bytes: string): KubeObject => {
    const known = decoded.get(key);
    if (known && known.bytes === bytes) return known.object;
    const object = JSON.parse(bytes) as KubeObject;
    decoded.set(key, { bytes, object });
    return object;
  };
  return {
    synced: true,
    list() {
      const items = store.cache.list(store.resource.storagePrefix);
      if (decoded.size > items.length) {
        const live = new Set(items.map((item) => item.key));
        for (const key of decoded.keys()) if (!live.has(key)) decoded.delete(key);
      }
      return items.map((item) => decode(item.key, item.bytes));
    },
    get(namespace, name) {
      const key = store.key(namespace, name);
      const cached = store.cache.get(key);
      return cached ? decode(key, cached.bytes) : undefined;
    },
  };
}

/** A source over an informer on another server (started at once; `synced` after its first list). */
export function informerSource(client: KubeClient, path: string): ObjectSource & { stop(): void } {
  const informer = client.informer(path);
  informer.start();
  return {
    get synced() {
      return informer.synced;
    },
    list: () => informer.list(),
    get: (namespace, name) => informer.get(namespace, name),
    stop: () => informer.stop(),
  };
}

export function namespaceLookup(source: ObjectSource): NamespaceLookup {
  return async (name) => source.get('', name);
}

const SYNC_WAIT_MS = 10_000;

/** Waits briefly for a remote mirror's first list; upstream refuses requests until its informers synced. */
export async function waitForSync(sources: ObjectSource[]): Promise<boolean> {
  const deadline = Date.now() + SYNC_WAIT_MS;
  while (!sources.every((source) => source.synced)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}
