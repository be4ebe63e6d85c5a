// The aggregator's own API calls (the namespace finalizer's and the garbage collector's reads, updates and
// deletes), made as system:kube-aggregator to whichever server a route points at: over mTLS with the front-proxy identity
// for a process, or straight into the generic store for a server in this process.

import https from 'node:https';
import type { KubeObject } from '../apiserver/registry/object.js';
import { parseRequestInfo } from '../apiserver/request/request-info.js';
import { collectionPrefix } from '../apiserver/registry/resource.js';
import type { DeleteOptions, GenericStore, WriteContext } from '../apiserver/registry/store.js';
import { StatusError } from '../apiserver/request/status.js';
import type { ProxyTarget } from './remote-discovery.js';

export interface ApiResponse {
  status: number;
  body: KubeObject & { items?: KubeObject[]; message?: string };
}

export interface StoreAccess {
  resourceEntry(group: string, version: string, plural: string): { store: GenericStore } | undefined;
}

const SYSTEM_HEADERS = { 'X-Remote-User': 'system:kube-aggregator', 'X-Remote-Group': 'system:masters' };

const SYSTEM: WriteContext = {
  user: { username: 'system:kube-aggregator', groups: ['system:masters'] },
  namespace: '',
  warnings: [],
  dryRun: false,
  fieldManager: 'namespace-controller',
  fieldValidation: 'Ignore',
};

function remote(target: ProxyTarget, method: string, path: string, body?: unknown): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request = https.request(new URL(path, target.url), {
      method,
      agent: target.agent,
      // Node frames no body of a DELETE by default, so its length is always given.
      headers: { ...SYSTEM_HEADERS, Accept: 'application/json', ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) } : {}) },
      timeout: 10_000,
    });
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        try {
          resolve({ status: response.statusCode ?? 0, body: JSON.parse(text || '{}') as ApiResponse['body'] });
        } catch {
          resolve({ status: response.statusCode ?? 0, body: { metadata: {}, message: text } });
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error(`${method} ${path}: timed out`)));
    request.on('error', reject);
    request.end(payload);
  });
}

async function local(server: StoreAccess, method: string, path: string, body?: unknown): Promise<ApiResponse> {
  const [pathOnly, queryText] = path.split('?');
  const info = parseRequestInfo(method, pathOnly, new URLSearchParams(queryText ?? ''));
  const entry = server.resourceEntry(info.apiGroup, info.apiVersion, info.resource);
  if (!entry) return { status: 404, body: { metadata: {}, message: 'the server could not find the requested resource' } };
  const store = entry.store;
  const context = { ...SYSTEM, namespace: info.namespace, warnings: [] };
  try {
    switch (info.verb) {
      case 'list': {
        await store.cache.syncToLatest();
        const items = store.cache.list(collectionPrefix(store.resource, info.namespace)).map((cached) => JSON.parse(cached.bytes) as KubeObject);
        return { status: 200, body: { metadata: {}, items } };
      }
      case 'get':
        return { status: 200, body: await store.getObject(info.namespace, info.name) };
      case 'delete': {
        const options = (body ?? { propagationPolicy: 'Background' }) as DeleteOptions;
        return { status: 200, body: (await store.delete(info.name, options, context)).object };
      }
      case 'update':
        return { status: 200, body: (await store.update(info.name, structuredClone(body) as KubeObject, context, info.subresource)).object };
      default:
        return { status: 405, body: { metadata: {}, message: `${info.verb} is not supported here` } };
    }
  } catch (error) {
    if (error instanceof StatusError) return { status: error.code, body: { metadata: {}, message: error.message } };
    throw error;
  }
}

export function apiCall(target: ProxyTarget, method: string, path: string, body?: unknown): Promise<ApiResponse> {
  const server = target.inProcess as unknown as StoreAccess | undefined;
  return server?.resourceEntry ? local(server, method, path, body) : remote(target, method, path, body);
}
