// Connect subresources (upstream's rest.Connecter behind handlers.ConnectResource): the request — plain or a
// protocol upgrade — is handed to the declaration's handler with the object's name and, for proxy
// subresources, the rest of the path. What happens then (a proxy to a kubelet or a service) is the
// declaration's business.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RequestInfo } from '../request/request-info.js';
import { methodNotSupported, pathNotFound } from '../request/status.js';
import type { UserInfo } from '../registry/object.js';
import type { ConnectSubresource } from '../registry/resource.js';
import type { ResourceEntry, ResourceLookup } from './resource-handler.js';

export interface ConnectCall {
  req: IncomingMessage;
  res?: ServerResponse;
  upgrade?: { socket: Duplex; head: Buffer };
  info: RequestInfo;
  query: URLSearchParams;
  user: UserInfo;
  entry: ResourceEntry;
  lookup?: ResourceLookup;
}

/** The connect subresource a request addresses, or undefined when it addresses something else. */
export function connectSubresourceOf(entry: ResourceEntry, info: RequestInfo): ConnectSubresource | undefined {
  return info.subresource ? entry.store.resource.subresources[info.subresource]?.connect : undefined;
}

// Go's URL path escaping leaves these as they are; encodeURIComponent would not.
const PATH_SAFE = /%(24|26|2B|2C|3A|3B|3D|40)/gi;

/**
 * The path after the subresource, as upstream's getRequestOptions builds the `path` option: a leading slash,
 * and a trailing one when the request had one. Segments are escaped again (request info holds them decoded).
 */
export function connectSubpath(info: RequestInfo): string {
  const rest = info.parts.slice(3);
  let path = rest.map((segment) => encodeURIComponent(segment).replace(PATH_SAFE, (escaped) => decodeURIComponent(escaped))).join('/');
  if (path && !path.startsWith('/')) path = `/${path}`;
  if (info.path.endsWith('/') && !path.endsWith('/')) path += '/';
  return path;
}

export async function serveConnect(call: ConnectCall, connect: ConnectSubresource): Promise<void> {
  const { info, entry } = call;
  const resource = entry.store.resource;
  const method = call.req.method ?? 'GET';
  if (!connect.methods.includes(method)) throw methodNotSupported({ group: resource.group, resource: resource.plural }, info.verb);
  if (!info.name || (resource.namespaced && !info.namespace)) throw pathNotFound();
  await connect.handle({
    req: call.req,
    res: call.res,
    upgrade: call.upgrade,
    store: entry.store,
    namespace: info.namespace,
    name: info.name,
    subpath: connectSubpath(info),
    query: call.query,
    user: call.user,
    resource: (group, version, plural) => call.lookup?.(group, version, plural)?.store,
  });
}
