// The aggregator's copy of core's RBAC objects: one List-Watch informer per RBAC resource feeding the
// in-memory index the aggregator's authorizer evaluates, so authorizing a request never costs a call to
// core. In the all-in-one chain the aggregator shares core's own index instead.

import type { KubeObject } from '../apiserver/registry/object.js';
import { RBAC_GROUP, RBAC_RESOURCES, type RbacIndex } from '../apiserver/authorization/rbac-index.js';
import type { Backend } from './backend.js';
import { Informer } from '../apiserver/client/informer.js';

export interface RbacCache {
  readonly synced: boolean;
  start(): void;
  stop(): void;
}

export function informerRbacCache(index: RbacIndex, backend: () => Backend | undefined): RbacCache {
  const informers = RBAC_RESOURCES.map(
    (resource) => new Informer(backend, `/apis/${RBAC_GROUP}/v1/${resource}`, (type, object: KubeObject) => index.apply(resource, type, object)),
  );
  return {
    get synced() {
      return informers.every((informer) => informer.synced);
    },
    start: () => informers.forEach((informer) => informer.start()),
    stop: () => informers.forEach((informer) => informer.stop()),
  };
}

/** Nothing to watch: the index is kept by core in the same process, or RBAC is not among the modes. */
export function sharedRbacCache(): RbacCache {
  return { synced: true, start: () => undefined, stop: () => undefined };
}
