// Core's RBAC index, fed from its own watch caches (no List-Watch over HTTP needed in the server that
// stores the objects): every committed change to a Role, ClusterRole or binding reaches the index as the
// cache applies it.

import type { GenericStore } from '../../apiserver/registry/store.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import type { CacheWatch } from '../../apiserver/storage/watch-cache.js';
import { RBAC_RESOURCES, RbacIndex } from '../../apiserver/authorization/rbac-index.js';
import type { RbacStores } from './reconcile.js';

export function feedIndexFromStores(index: RbacIndex, stores: RbacStores): { stop(): void } {
  const watches: CacheWatch[] = [];
  for (const resource of RBAC_RESOURCES) {
    const store: GenericStore = stores[resource];
    watches.push(
      store.cache.watch({
        fromRevision: 0,
        prefix: store.resource.storagePrefix,
        filter: () => true,
        onEvent: (type, object) => index.apply(resource, type, JSON.parse(object.bytes) as KubeObject),
      }),
    );
  }
  return { stop: () => watches.forEach((watch) => watch.stop()) };
}
