// Where a remote APIService lives: its Service's port, then the Endpoints address with that port's name
// (kube-aggregator's aggregator routing), with upstream's reasons and messages when something is missing.
// And the TLS client for it: the caBundle (or insecureSkipTLSVerify), server name <service>.<namespace>.svc,
// and the front-proxy client certificate.

import type https from 'node:https';
import type { KubeObject } from '../apiserver/registry/object.js';
import { UpstreamAgent } from './backend-client.js';

export interface ServiceReference {
  namespace: string;
  name: string;
  port: number;
}

export type Resolution =
  | { ok: true; url: string }
  | { ok: false; reason: 'ServiceNotFound' | 'ServicePortError' | 'EndpointsNotFound' | 'MissingEndpoints'; message: string };

export interface ObjectLookup {
  get(namespace: string, name: string): KubeObject | undefined;
}

export function resolveServiceEndpoint(services: ObjectLookup, endpoints: ObjectLookup, reference: ServiceReference): Resolution {
  const { namespace, name, port } = reference;
  const service = services.get(namespace, name);
  if (!service) return { ok: false, reason: 'ServiceNotFound', message: `service/${name} in "${namespace}" is not present` };
  const servicePorts: { name?: string; port: number; targetPort?: number | string }[] = service.spec?.ports ?? [];
  const servicePort = servicePorts.find((candidate) => candidate.port === port);
  if (!servicePort) return { ok: false, reason: 'ServicePortError', message: `service/${name} in "${namespace}" is not listening on port ${port}` };
  if (service.spec?.type === 'ExternalName' && service.spec.externalName) {
    return { ok: true, url: `https://${service.spec.externalName}:${port}` };
  }
  const endpointsObject = endpoints.get(namespace, name);
  if (!endpointsObject) return { ok: false, reason: 'EndpointsNotFound', message: `cannot find endpoints for service/${name} in "${namespace}"` };
  const portName = servicePort.name ?? '';
  const candidates: string[] = [];
  for (const subset of (endpointsObject.subsets ?? []) as { addresses?: { ip: string }[]; ports?: { name?: string; port: number }[] }[]) {
    const endpointPort = (subset.ports ?? []).find((candidate) => (candidate.name ?? '') === portName);
    if (!endpointPort) continue;
    for (const address of subset.addresses ?? []) {
      const host = address.ip.includes(':') ? `[${address.ip}]` : address.ip;
      candidates.push(`https://${host}:${endpointPort.port}`);
    }
  }
  if (candidates.length === 0) {
    return { ok: false, reason: 'MissingEndpoints', message: `endpoints for service/${name} in "${namespace}" have no addresses with port name "${portName}"` };
  }
  return { ok: true, url: candidates[Math.floor(Math.random() * candidates.length)] };
}

export interface ProxyCredentials {
  cert: string;
  key: string;
}

/** One keep-alive agent per remote APIService (built when the APIService changes, not per request). */
export function remoteAgent(apiService: KubeObject, credentials: ProxyCredentials): https.Agent {
  const spec = apiService.spec ?? {};
  const caBundle = typeof spec.caBundle === 'string' && spec.caBundle ? Buffer.from(spec.caBundle, 'base64').toString('utf8') : undefined;
  return new UpstreamAgent({
    keepAlive: true,
    maxSockets: Infinity, // proxied watches must not starve short requests (see backendAgent)
    maxFreeSockets: 32,
    cert: credentials.cert,
    key: credentials.key,
    ca: caBundle,
    rejectUnauthorized: !spec.insecureSkipTLSVerify,
    servername: spec.service ? `${spec.service.name}.${spec.service.namespace}.svc` : undefined,
    noDelay: true,
  } as https.AgentOptions);
}
