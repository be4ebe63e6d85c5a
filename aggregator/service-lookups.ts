// Services and Endpoints for resolving remote APIServices: informers on core-apiserver when it is another
// process, its watch caches when it runs in this process.

import type { KubeObject } from '../apiserver/registry/object.js';
import type { GenericStore } from '../apiserver/registry/store.js';
import type { ServiceLookups } from './aggregator.js';
import type { Backend } from './backend.js';
import { Informer } from '../apiserver/client/informer.js';

export function remoteServiceLookups(backend: () => Backend | undefined): ServiceLookups {
  const listeners: (() => void)[] = [];
  const notify = () => listeners.forEach((listener) => listener());
  const services = new Informer(backend, '/api/v1/services', notify);
  const endpoints = new Informer(backend, '/api/v1/endpoints', notify);
  return {
    services,
    endpoints,
    onChange: (listener) => listeners.push(listener),
    start() {
      services.start();
      endpoints.start();
    },
    stop() {
      services.stop();
      endpoints.stop();
    },
  };
}

class CacheLookup {
  readonly synced = true;
  constructor(private readonly store: GenericStore) {}
  get(namespace: string, name: string): KubeObject | undefined {
    const cached = this.store.cache.get(this.store.key(namespace, name));
    return cached ? (JSON.parse(cached.bytes) as KubeObject) : undefined;
  }
}

export function inProcessServiceLookups(services: GenericStore, endpoints: GenericStore): ServiceLookups {
  const listeners: (() => void)[] = [];
  const watches: { stop(): void }[] = [];
  return {
    services: new CacheLookup(services),
    endpoints: new CacheLookup(endpoints),
    onChange: (listener) => listeners.push(listener),
    start() {
      for (const store of [services, endpoints]) {
        watches.push(store.cache.watch({ fromRevision: 0, prefix: store.resource.storagePrefix, filter: () => true, onEvent: () => listeners.forEach((listener) => listener()) }));
      }
    },
    stop() {
      for (const watch of watches) watch.stop();
    },
  };
}
