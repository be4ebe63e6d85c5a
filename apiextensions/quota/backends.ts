// Where ResourceQuotas live for the custom resource quota (core): through a client to core's API (the
// apiextensions process), or core's own store when both run in one process (all-in-one).

import type { ObjectSource } from '../../apiserver/admission/sources.js';
import { storeSource } from '../../apiserver/admission/sources.js';
import type { KubeClient } from '../../apiserver/client/kube-client.js';
import { encodeForStorage } from '../../apiserver/registry/encode.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import type { GenericStore } from '../../apiserver/registry/store.js';
import { ConflictError, StorageError } from '../../apiserver/storage/interface.js';

/** ResourceQuotas where they live (core): a mirror to find them, a fresh read and a status write. */
export interface QuotaBackend {
  quotas: ObjectSource;
  /** The quotas of one namespace (every custom resource create asks: not a scan of the cluster's quotas). */
  quotasIn(namespace: string): KubeObject[];
  read(namespace: string, name: string): Promise<KubeObject | undefined>;
  /** PUT …/status with the quota's resourceVersion: the quota written, 'conflict' when it changed meanwhile, 'gone' when deleted. */
  writeStatus(quota: KubeObject): Promise<KubeObject | 'conflict' | 'gone'>;
  /** Called on every quota added or changed. */
  onChange(listener: (quota: KubeObject) => void): void;
}

/** ResourceQuotas in core through a client (the --kubeconfig of this server): an informer and plain requests. */
export function remoteQuotaBackend(client: KubeClient): QuotaBackend & { stop(): void } {
  const listeners: ((quota: KubeObject) => void)[] = [];
  const byNamespace = new Map<string, Map<string, KubeObject>>();
  const informer = client.informer('/api/v1/resourcequotas', (type, quota) => {
    const namespace = quota.metadata.namespace ?? '';
    const name = quota.metadata.name ?? '';
    if (type === 'DELETED') {
      byNamespace.get(namespace)?.delete(name);
      if (byNamespace.get(namespace)?.size === 0) byNamespace.delete(namespace);
      return;
    }
    let quotas = byNamespace.get(namespace);
    if (!quotas) byNamespace.set(namespace, (quotas = new Map()));
    quotas.set(name, quota);
    for (const listener of listeners) listener(quota);
  });
  informer.start();
  const path = (namespace: string, name: string) => `/api/v1/namespaces/${encodeURIComponent(namespace)}/resourcequotas/${encodeURIComponent(name)}`;
  return {
    quotas: { list: () => informer.list(), get: (namespace, name) => informer.get(namespace, name), get synced() { return informer.synced; } },
    quotasIn: (namespace) => [...(byNamespace.get(namespace)?.values() ?? [])],
    async read(namespace, name) {
      const response = await client.raw('GET', path(namespace, name));
      if (response.status === 404) return undefined;
      if (response.status !== 200) throw new Error(`reading quota ${namespace}/${name}: ${String(response.body.message ?? response.status)}`);
      return response.body as unknown as KubeObject;
    },
    async writeStatus(quota) {
      const response = await client.raw('PUT', `${path(quota.metadata.namespace ?? '', quota.metadata.name ?? '')}/status`, quota);
      if (response.status === 409) return 'conflict';
      if (response.status === 404) return 'gone';
      if (response.status !== 200) throw new Error(`writing quota ${quota.metadata.namespace ?? ''}/${quota.metadata.name ?? ''} status: ${String(response.body.message ?? response.status)}`);
      return response.body as unknown as KubeObject;
    },
    onChange: (listener) => listeners.push(listener),
    stop: () => informer.stop(),
  };
}

/**
 * ResourceQuotas in core's own store, when core runs in this process (all-in-one): its watch cache for the
 * mirror and events, and compare-and-swap writes straight to its storage (only the system writes status.used,
 * as core's own quota admission does).
 */
export function storeQuotaBackend(quotas: GenericStore): QuotaBackend {
  const source = storeSource(quotas);
  return {
    quotas: source,
    quotasIn: (namespace) =>
      quotas.cache
        .list(quotas.key(namespace, ''))
        .map((item) => source.get(namespace, item.name))
        .filter((quota): quota is KubeObject => quota !== undefined),
    async read(namespace, name) {
      const kv = await quotas.storage.get(quotas.key(namespace, name));
      if (!kv) return undefined;
      const quota = JSON.parse(kv.value) as KubeObject;
      quota.metadata.resourceVersion = String(kv.modRevision);
      return quota;
    },
    async writeStatus(quota) {
      const key = quotas.key(quota.metadata.namespace ?? '', quota.metadata.name ?? '');
      try {
        const kv = await quotas.storage.update(key, encodeForStorage(quota), Number(quota.metadata.resourceVersion));
        quota.metadata.resourceVersion = String(kv.modRevision);
        return quota;
      } catch (error) {
        if (error instanceof ConflictError) return 'conflict';
        if (error instanceof StorageError && !(await quotas.storage.get(key))) return 'gone';
        throw error;
      }
    },
    onChange(listener) {
      void quotas.cache.start().then(() =>
        quotas.cache.watch({
          fromRevision: quotas.cache.revision,
          prefix: quotas.resource.storagePrefix,
          filter: () => true,
          onEvent: (type, object) => {
            if (type !== 'DELETED') listener(JSON.parse(object.bytes) as KubeObject);
          },
        }),
      );
    },
  };
}
