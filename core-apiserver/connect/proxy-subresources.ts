// pods/proxy, services/proxy and nodes/proxy (upstream's ProxyREST of each): any method but PATCH, the rest
// of the path and the query passed on, through the upgrade-aware proxy with upstream's rewriting. Pods and
// services are dialed unverified (they are addressed by IP); a node's own kubelet port gets the kubelet
// client's certificate, any other port of the node the plain proxy transport.

import https from 'node:https';
import type { ConnectRequest, ConnectSubresource, SubresourceDefinition } from '../../apiserver/registry/resource.js';
import { badRequest, internalError } from '../../apiserver/request/status.js';
import { admitConnect } from './connect-admission.js';
import type { KubeletClient } from './kubelet-client.js';
import type { ProxyLocation, ProxyTransport } from './upgrade-aware-proxy.js';
import { proxyConnect } from './upgrade-aware-proxy.js';
import { podLocation, serviceLocation, splitSchemeNamePort } from './proxy-locations.js';

const PROXY_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS'];
const PROXY_VERBS: SubresourceDefinition['verbs'] = ['create', 'delete', 'get', 'patch', 'update'];

/** Pods and services are reached by IP: there is no name to verify a certificate against (upstream's proxy transport). */
const PROXY_TRANSPORT: ProxyTransport = { insecure: true, agent: new https.Agent({ keepAlive: true, rejectUnauthorized: false }) };

function store(request: ConnectRequest, plural: string) {
  const found = request.resource('', 'v1', plural);
  if (!found) throw internalError(`this server does not serve ${plural}`);
  return found;
}

function proxy(kind: string, handle: ConnectSubresource['handle']): SubresourceDefinition {
  return { kind, verbs: PROXY_VERBS, connect: { methods: PROXY_METHODS, handle } };
}

export function podProxySubresource(): SubresourceDefinition {
  return proxy('PodProxyOptions', async (request) => {
    const location = await podLocation(request.store, request.namespace, request.name, request.subpath);
    await admitConnect(request, 'proxy', { kind: 'PodProxyOptions', apiVersion: 'v1', path: request.subpath });
    await proxyConnect(request, { ...location, query: queryOf(request) }, PROXY_TRANSPORT, { rewrite: true, upgradeRequired: false });
  });
}

export function serviceProxySubresource(): SubresourceDefinition {
  return proxy('ServiceProxyOptions', async (request) => {
    const location = await serviceLocation(request.store, store(request, 'endpoints'), store(request, 'pods'), request.namespace, request.name, request.subpath);
    await admitConnect(request, 'proxy', { kind: 'ServiceProxyOptions', apiVersion: 'v1', path: request.subpath });
    await proxyConnect(request, { ...location, query: queryOf(request) }, PROXY_TRANSPORT, { rewrite: true, upgradeRequired: false });
  });
}

/**
 * node.ResourceLocation: the kubelet's port (or none given) goes over the kubelet client, another port of the
 * node over the proxy transport with the scheme asked for. Upstream also refuses loopback node addresses;
 * here every node agent listens on 127.0.0.1, so only link-local ones are refused.
 */
export function nodeProxySubresource(kubelet: KubeletClient): SubresourceDefinition {
  return proxy('NodeProxyOptions', async (request) => {
    const parsed = splitSchemeNamePort(request.name);
    if (!parsed) throw badRequest(`invalid node request ${JSON.stringify(request.name)}`);
    const connection = await kubelet.connectionInfo(request.store, parsed.name);
    if (/^169\.254\./.test(connection.host) || /^fe[89ab]/i.test(connection.host)) throw badRequest('address not allowed');
    await admitConnect(request, 'proxy', { kind: 'NodeProxyOptions', apiVersion: 'v1', path: request.subpath });
    const own = parsed.port === '' || parsed.port === String(connection.port);
    const location: ProxyLocation = own
      ? { scheme: connection.scheme, host: connection.host, port: connection.port, path: request.subpath, query: queryOf(request) }
      : { scheme: parsed.scheme || 'http', host: connection.host, port: Number(parsed.port), path: request.subpath, query: queryOf(request) };
    await proxyConnect(request, location, own ? connection.transport : PROXY_TRANSPORT, { rewrite: true, upgradeRequired: false });
  });
}

/** The request's own query goes to the backend as it came (UpgradeAwareHandler copies RawQuery). */
function queryOf(request: ConnectRequest): string {
  const url = request.req.url ?? '';
  const index = url.indexOf('?');
  return index < 0 ? '' : url.slice(index + 1);
}
