// List-watch of one resource for the garbage collector, wherever it is served: a server in this process
// is watched through its watch cache (no HTTP hop), any other through an informer over HTTPS (list, then
// watch from the list's resourceVersion, relisting after 410 Expired or a broken stream).

import type { KubeObject } from '../../apiserver/registry/object.js';
import type { GenericStore } from '../../apiserver/registry/store.js';
import type { CacheWatch } from '../../apiserver/storage/watch-cache.js';
import { Informer } from '../../apiserver/client/informer.js';
import type { ProxyTarget } from '../remote-discovery.js';
import type { WatchEventType } from './graph.js';

export interface MonitoredResource {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
}

export interface Monitor {
  readonly resource: MonitoredResource;
  /** The initial list has been delivered. */
  readonly synced: boolean;
  readonly startedAt: number;
  stop(): void;
}

export type MonitorEvent = (type: WatchEventType, object: KubeObject) => void;

interface StoreAccess {
  resourceEntry(group: string, version: string, plural: string): { store: GenericStore } | undefined;
}

export function collectionPath(resource: Pick<MonitoredResource, 'group' | 'version' | 'resource'>): string {
  return `${resource.group ? `/apis/${resource.group}` : '/api'}/${resource.version}/${resource.resource}`;
}

// Through the front-proxy connection the aggregator names itself, as for its other requests to backends.
const AGGREGATOR_IDENTITY = { 'X-Remote-User': 'system:kube-aggregator', 'X-Remote-Group': 'system:masters' };

/** Starts watching; `target` is asked again whenever the remote informer (re)connects. */
export function startMonitor(resource: MonitoredResource, target: () => ProxyTarget | undefined, deliver: MonitorEvent): Monitor {
  // List items may come without apiVersion and kind; the graph needs them to name the object.
  const apiVersion = resource.group ? `${resource.group}/${resource.version}` : resource.version;
  const onEvent: MonitorEvent = (type, object) => {
    object.apiVersion ||= apiVersion;
    object.kind ||= resource.kind;
    deliver(type, object);
  };
  const startedAt = Date.now();
  const current = target();
  const server = current?.inProcess as unknown as StoreAccess | undefined;
  const store = server?.resourceEntry ? server.resourceEntry(resource.group, resource.version, resource.resource)?.store : undefined;
  if (store) {
    let watch: CacheWatch | undefined;
    let stopped = false;
    const monitor = { resource, synced: false, startedAt, stop: () => ((stopped = true), watch?.stop()) };
    void store.cache.start().then(() => {
      if (stopped) return;
      // From revision 0 the cache first replays its current state as ADDED, synchronously.
      watch = store.cache.watch({ fromRevision: 0, prefix: store.resource.storagePrefix, filter: () => true, onEvent: (type, cached) => onEvent(type, JSON.parse(cached.bytes) as KubeObject) });
      monitor.synced = true;
    });
    return monitor;
  }
  // Metadata only, as upstream's garbage collector watches (metadata informers): the graph needs nothing
  // else, and full copies of every object of every type would make the aggregator's heap (and the cost of
  // each of its garbage collections) grow with every custom resource. Those items name themselves
  // PartialObjectMetadata: the resource's own apiVersion and kind go in their place.
  const informer = new Informer(
    () => {
      const proxy = target();
      return proxy && !proxy.inProcess ? { url: proxy.url, agent: proxy.agent, headers: AGGREGATOR_IDENTITY } : undefined;
    },
    collectionPath(resource),
    (type, object) => {
      object.apiVersion = apiVersion;
      object.kind = resource.kind;
      deliver(type, object);
    },
    true,
  );
  informer.start();
  return {
    resource,
    startedAt,
    get synced() {
      return informer.synced;
    },
    stop: () => informer.stop(),
  };
}
