// Where a conversion webhook given as a service reference lives (upstream's webhook.ServiceResolver; the
// kube-apiserver plugs in the aggregator's endpoint resolver): the Service's port, then an Endpoints
// address in core-apiserver — the same lookup the aggregator does for APIServices.

import https from 'node:https';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { ServiceLookups } from '../../aggregator/aggregator.js';
import { Informer } from '../../aggregator/informer.js';
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
  const { server, agent } = clientFromKubeconfig(kubeconfigFile);
  const source = () => ({ url: server, agent });
  const listeners: (() => void)[] = [];
  const notify = () => listeners.forEach((listener) => listener());
  const services = new Informer(source, '/api/v1/services', notify);
  const endpoints = new Informer(source, '/api/v1/endpoints', notify);
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

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: { name: string; context: { cluster: string; user: string } }[];
  clusters?: { name: string; cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string } }[];
  users?: { name: string; user: { 'client-certificate-data'?: string; 'client-key-data'?: string; 'client-certificate'?: string; 'client-key'?: string } }[];
}

function clientFromKubeconfig(file: string): { server: string; agent: https.Agent } {
  const config = parse(readFileSync(file, 'utf8')) as KubeconfigFile;
  const context = config.contexts?.find((candidate) => candidate.name === config['current-context'])?.context ?? config.contexts?.[0]?.context;
  const cluster = config.clusters?.find((candidate) => candidate.name === context?.cluster)?.cluster ?? config.clusters?.[0]?.cluster;
  const user = config.users?.find((candidate) => candidate.name === context?.user)?.user ?? config.users?.[0]?.user ?? {};
  if (!cluster?.server) throw new Error(`kubeconfig ${file} names no server`);
  const data = (inline: string | undefined, path: string | undefined) => (inline ? Buffer.from(inline, 'base64').toString('utf8') : path ? readFileSync(path, 'utf8') : undefined);
  const agent = new https.Agent({
    keepAlive: true,
    ca: data(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: data(user['client-certificate-data'], user['client-certificate']),
    key: data(user['client-key-data'], user['client-key']),
  });
  return { server: cluster.server, agent };
}
