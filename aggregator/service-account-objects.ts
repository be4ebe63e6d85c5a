// What the aggregator checks ServiceAccount tokens against: metadata-only informers on core-apiserver's
// ServiceAccounts, Pods, Secrets and Nodes (list + watch, as upstream's shared informers), so a token
// stops working the moment core reports its ServiceAccount or bound object deleted, without a request to
// core per authenticated request.

import type { BoundResource, ServiceAccountObjects } from '../apiserver/authentication/service-account-token.js';
import type { Backend } from './backend.js';
import { Informer } from '../apiserver/client/informer.js';

export interface InformerObjects extends ServiceAccountObjects {
  start(): void;
  stop(): void;
}

const RESOURCES: BoundResource[] = ['serviceaccounts', 'pods', 'secrets', 'nodes'];

export function informerServiceAccountObjects(core: () => Backend | undefined): InformerObjects {
  const informers = new Map(RESOURCES.map((resource) => [resource, new Informer(core, `/api/v1/${resource}`, undefined, true)]));
  // Legacy tokens are compared with the copy in their Secret: those Secrets (only) are mirrored whole.
  const tokenSecrets = new Informer(core, '/api/v1/secrets?fieldSelector=type%3Dkubernetes.io%2Fservice-account-token');
  return {
    get synced() {
      return tokenSecrets.synced && [...informers.values()].every((informer) => informer.synced);
    },
    legacyToken(namespace, secretName) {
      const secret = tokenSecrets.get(namespace, secretName);
      if (!secret) return undefined;
      const token = (secret.data as Record<string, string> | undefined)?.token;
      return token ? Buffer.from(token, 'base64').toString('utf8') : '';
    },
    get(resource, namespace, name) {
      const object = informers.get(resource)?.get(namespace, name);
      if (!object) return undefined;
      const deletionTimestamp = object.metadata.deletionTimestamp;
      return { uid: object.metadata.uid ?? '', ...(deletionTimestamp ? { deletionTimestamp } : {}) };
    },
    start() {
      for (const informer of [...informers.values(), tokenSecrets]) informer.start();
    },
    stop() {
      for (const informer of [...informers.values(), tokenSecrets]) informer.stop();
    },
  };
}
