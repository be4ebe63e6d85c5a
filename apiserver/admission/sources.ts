// Where admission plugins read their configuration and the namespaces they match against: core-apiserver
// reads its own watch caches; other servers (apiextensions) mirror core through a KubeClient informer, as
// upstream's servers use a shared informer factory on their loopback or --kubeconfig client.

import type { KubeObject } from '../registry/object.js';
import type { GenericStore } from '../registry/store.js';
import type { KubeClient } from '../client/kube-client.js';
import type { ApiServer } from '../server/api-server.js';
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
export async function waitForSync(sources: ObjectSource[], waitMs = SYNC_WAIT_MS): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  while (!sources.every((source) => source.synced)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

export interface KindSource {
  source: ObjectSource;
  namespaced: boolean;
}

/** The objects of a kind this server serves itself (its watch caches), for policy params. */
export function localKindSources(server: ApiServer): (apiVersion: string, kind: string) => KindSource | undefined {
  const sources = new Map<string, KindSource>();
  return (apiVersion, kind) => {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    const definition = server.discovery.groupVersions().find((gv) => gv.group === group && gv.version === version)?.resources.find((resource) => resource.kind === kind);
    const store = definition && server.resourceEntry(group, version, definition.plural)?.store;
    if (!definition || !store) return undefined;
    const key = `${apiVersion}/${kind}`;
    if (!sources.has(key)) sources.set(key, { source: storeSource(store), namespaced: definition.namespaced });
    return sources.get(key);
  };
}

/** The objects of a kind another server serves: its discovery names the resource, an informer mirrors it. */
export function remoteKindSources(client: KubeClient): (apiVersion: string, kind: string) => Promise<KindSource | undefined> {
  const sources = new Map<string, Promise<KindSource | undefined>>();
  const find = async (apiVersion: string, kind: string): Promise<KindSource | undefined> => {
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const list = await client.get<{ resources?: { name: string; kind: string; namespaced: boolean }[] }>(base);
    const resource = (list.resources ?? []).find((candidate) => candidate.kind === kind && !candidate.name.includes('/'));
    if (!resource) return undefined;
    return { source: informerSource(client, `${base}/${resource.name}`), namespaced: resource.namespaced };
  };
  return (apiVersion, kind) => {
    const key = `${apiVersion}/${kind}`;
    let found = sources.get(key);
    if (!found) {
      found = find(apiVersion, kind).catch(() => undefined);
      sources.set(key, found);
      // A kind that is not there yet may be created later: look again next time.
      void found.then((result) => result === undefined && sources.delete(key));
    }
    return found;
  };
}
