// Where a conversion webhook given as a service reference lives (upstream's webhook.ServiceResolver; the
// kube-apiserver plugs in the aggregator's endpoint resolver): the Service's port, then an Endpoints
// address in core-apiserver — the same lookup the aggregator does for APIServices.

import type { ServiceLookups } from '../../aggregator/aggregator.js';
import { KubeClient } from '../../apiserver/client/kube-client.js';
import { resolveServiceEndpoint } from '../../aggregator/remote-endpoint.js';

export interface ServiceResolver {
  /** The base URL (https://ip:port) of one endpoint of the service port; rejects with the reason otherwise. */
  resolve(namespace: string, name: string, port: number): Promise<string>;
}

const SYNC_TIMEOUT_MS = 5000;

/** A resolver over Service and Endpoints lookups (started on first use, so servers without webhooks watch nothing). */
export function lookupServiceResolver(makeLookups: () => ServiceLookups): ServiceResolver {
  let lookups: ServiceLookups | undefined;
  return {
    async resolve(namespace, name, port) {
      if (!lookups) {
        lookups = makeLookups();
        lookups.start();
      }
      const deadline = Date.now() + SYNC_TIMEOUT_MS;
      while (!(lookups.services.synced && lookups.endpoints.synced)) {
        if (Date.now() > deadline) throw new Error(`unable to resolve service/${name} in "${namespace}": services and endpoints are not synced yet`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const resolution = resolveServiceEndpoint(lookups.services, lookups.endpoints, { namespace, name, port });
      if (!resolution.ok) throw new Error(resolution.message);
      return resolution.url;
    },
  };
}

/**
 * Lookups through the core API named by a kubeconfig (upstream's --kubeconfig of a standalone
 * apiextensions-apiserver: the "core" Kubernetes server), with list+watch informers.
 */
export function kubeconfigServiceLookups(kubeconfigFile: string): ServiceLookups {
  const client = KubeClient.fromKubeconfig(kubeconfigFile);
  const listeners: (() => void)[] = [];
  const notify = () => listeners.forEach((listener) => listener());
  const services = client.informer('/api/v1/services', notify);
  const endpoints = client.informer('/api/v1/endpoints', notify);
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

