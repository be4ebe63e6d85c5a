// The objects a ServiceAccount token is bound to, read from this process's watch caches (core-apiserver,
// and the aggregator when core runs in the same process). Only uid and deletionTimestamp matter; they are
// parsed once per stored version of an object, not once per request.

import type { GenericStore } from '../registry/store.js';
import type { CachedObject } from '../storage/watch-cache.js';
import type { BoundObject, BoundResource, ServiceAccountObjects } from './service-account-token.js';

const parsed = new WeakMap<CachedObject, BoundObject>();
const tokens = new WeakMap<CachedObject, string>();

function boundObject(cached: CachedObject): BoundObject {
  let object = parsed.get(cached);
  if (!object) {
    const metadata = (JSON.parse(cached.bytes) as { metadata?: { uid?: string; deletionTimestamp?: string } }).metadata ?? {};
    object = { uid: metadata.uid ?? '', ...(metadata.deletionTimestamp ? { deletionTimestamp: metadata.deletionTimestamp } : {}) };
    parsed.set(cached, object);
  }
  return object;
}

export function storeObjects(store: (plural: BoundResource) => GenericStore | undefined): ServiceAccountObjects {
  return {
    synced: true,
    get(resource, namespace, name) {
      const found = store(resource);
      if (!found) return undefined;
      const cached = found.cache.get(found.key(namespace, name));
      return cached ? boundObject(cached) : undefined;
    },
    legacyToken(namespace, secretName) {
      const secrets = store('secrets');
      const cached = secrets?.cache.get(secrets.key(namespace, secretName));
      if (!cached) return undefined;
      let token = tokens.get(cached);
      if (token === undefined) {
        const data = (JSON.parse(cached.bytes) as { data?: Record<string, string> }).data ?? {};
        token = data.token ? Buffer.from(data.token, 'base64').toString('utf8') : '';
        tokens.set(cached, token);
      }
      return token;
    },
  };
}
