// Request info: what a request is about, parsed once from the path and query, as k8s.io/apiserver's
// RequestInfoFactory does. Every later stage (authorization, routing, handlers, audit) reads this.

import { queryBool } from './query-bool.js';

export interface RequestInfo {
  isResourceRequest: boolean;
  path: string;
  /** Resource verbs: get list watch create update patch delete deletecollection; otherwise the lowercase HTTP method. */
  verb: string;
  /** "api" or "apis" for resource requests. */
  apiPrefix: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  parts: string[];
}

// Subresources of a namespace that are addressed as /namespaces/<name>/<sub> rather than as resources in it.
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function parseRequestInfo(method: string, rawPath: string, query: URLSearchParams): RequestInfo {
  const path = rawPath;
  const info: RequestInfo = {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    parts: [],
  };
  let parts = splitPath(path);
  if (parts === undefined || parts.length === 0) return info;
  if (parts[0] !== 'api' && parts[0] !== 'apis') return info;
  info.apiPrefix = parts[0];
  parts = parts.slice(1);
  if (info.apiPrefix === 'apis') {
    if (parts.length < 3) return info; // /apis, /apis/<group>, /apis/<group>/<version>: discovery
    info.apiGroup = parts[0];
    parts = parts.slice(1);
  } else if (parts.length < 2) {
    return info; // /api, /api/v1
  }
  info.apiVersion = parts[0];
  parts = parts.slice(1);
  info.isResourceRequest = true;

  // Legacy /watch/ prefix: /api/v1/watch/namespaces/x/pods
  let watchPath = false;
  if (parts[0] === 'watch') {
    watchPath = true;
    parts = parts.slice(1);
  }

  switch (method) {
    case 'POST':
      info.verb = 'create';
      break;
    case 'GET':
    case 'HEAD':
      info.verb = 'get';
      break;
    case 'PUT':
      info.verb = 'update';
      break;
    case 'PATCH':
      info.verb = 'patch';
      break;
    case 'DELETE':
      info.verb = 'delete';
      break;
    default:
      info.verb = method.toLowerCase();
  }

  if (parts[0] === 'namespaces' && parts.length > 1) {
    info.namespace = parts[1];
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2])) parts = parts.slice(2);
  }
  info.parts = parts;
  if (parts.length >= 3) info.subresource = parts[2];
  if (parts.length >= 2) info.name = parts[1];
  if (parts.length >= 1) info.resource = parts[0];

  if (info.name === '' && info.verb === 'get') {
    info.verb = watchPath || queryBool(query.get('watch')) === true ? 'watch' : 'list';
  } else if (watchPath && info.verb === 'get') {
    info.verb = 'watch';
  }
  if (info.name === '' && info.verb === 'delete') info.verb = 'deletecollection';
  return info;
}

/** Splits the path into decoded segments; undefined when a segment cannot be decoded. */
function splitPath(path: string): string[] | undefined {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return [];
  try {
    return trimmed.split('/').map((segment) => decodeURIComponent(segment));
  } catch {
    return undefined;
  }
}

/** Read-only verbs: those safe to serve from a cache and exempt from mutating limits. */
export const READ_ONLY_VERBS = new Set(['get', 'list', 'watch', 'head', 'options']);

/** Requests that stay open (exempt from the request timeout and counted apart in in-flight limits). */
export function isLongRunning(info: RequestInfo): boolean {
  return info.verb === 'watch' || ['proxy', 'exec', 'attach', 'portforward', 'log'].includes(info.subresource);
}
