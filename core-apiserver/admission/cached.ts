// Objects the admission plugins consult, read from a store's watch cache (as upstream's plugins read
// their informers' listers) and parsed on demand.

import type { GenericStore } from '../../apiserver/registry/store.js';
import type { KubeObject } from '../../apiserver/registry/object.js';

/** The objects of one namespace ('' for a cluster-scoped kind). */
export async function cachedObjects(store: GenericStore, namespace: string): Promise<KubeObject[]> {
  await store.cache.start();
  return store.cache.list(store.key(namespace, '')).map((item) => JSON.parse(item.bytes) as KubeObject);
}
