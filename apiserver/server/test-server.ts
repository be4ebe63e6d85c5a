// Test support (not itself a test): an ApiServer on MemoryStorage with two declared test resources,
// served over plain HTTP on 127.0.0.1:0, plus a small HTTP client and a watch-stream reader built on
// node:http, so the suites exercise the real wire format (status lines, headers, chunked bodies).

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiServer } from './api-server.js';
import type { ApiServerOptions } from './api-server.js';
import { MemoryStorage } from '../storage/memory.js';
import { defineResource } from '../registry/resource.js';
import type { ResourceDefinition } from '../registry/resource.js';
import type { GenericStore } from '../registry/store.js';
import type { KubeObject } from '../registry/object.js';
import type { JSONSchema } from '../schema/types.js';
import { structuralCheckFor } from '../schema/structural-check.js';
import { ageColumn, nameColumn } from '../registry/table.js';

export const WIDGET_SCHEMA: JSONSchema = {
  type: 'object',
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    spec: { type: 'object', properties: { color: { type: 'string' }, size: { type: 'integer' } } },
    status: { type: 'object', properties: { phase: { type: 'string' } } },
  },
};

export const widgets: ResourceDefinition = defineResource({
  group: 'example.com',
  version: 'v1',
  kind: 'Widget',
  plural: 'widgets',
  namespaced: true,
  shortNames: ['wd'],
  categories: ['all'],
  schema: WIDGET_SCHEMA,
  generation: true,
  subresources: { status: { verbs: ['get', 'patch', 'update'], updates: ['status'] } },
  selectableFields: { 'spec.color': (object) => (typeof object.spec?.color === 'string' ? object.spec.color : undefined) },
  printerColumns: [
    nameColumn,
    { name: 'Color', type: 'string', description: 'The color of the widget.', value: (object) => object.spec?.color },
    { name: 'Size', type: 'integer', priority: 1, value: (object) => object.spec?.size },
    ageColumn,
  ],
});

export const gadgets: ResourceDefinition = defineResource({
  group: 'example.com',
  version: 'v1',
  kind: 'Gadget',
  plural: 'gadgets',
  namespaced: false,
});

export interface TestServer {
  server: ApiServer;
  storage: MemoryStorage;
  widgets: GenericStore;
  gadgets: GenericStore;
  port: number;
  close(): Promise<void>;
}

export async function startTestServer(overrides: Partial<ApiServerOptions> = {}, storage = new MemoryStorage()): Promise<TestServer> {
  const server = new ApiServer({
    name: 'test-apiserver',
    authentication: { clientCa: [], untrustedIdentityHeaders: 'strip' },
    authorizer: async () => ({ allowed: true }),
    ...overrides,
  });
  const widgetStore = server.addResource({ definition: widgets, storage, hooks: { structuralCheck: structuralCheckFor(WIDGET_SCHEMA, {}) } })!;
  const gadgetStore = server.addResource({ definition: gadgets, storage })!;
  await server.startCaches();
  const httpServer = http.createServer(server.callback());
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const port = (httpServer.address() as AddressInfo).port;
  return {
    server,
    storage,
    widgets: widgetStore,
    gadgets: gadgetStore,
    port,
    async close() {
      await server.shutdown(1000);
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await storage.close();
    },
  };
}

export interface TestResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent verbatim when a string or Buffer; JSON-encoded otherwise. */
  headers?: Record<string, string>;
}

export function request(port: number, method: string, path: string, options: RequestOptions = {}): Promise<TestResponse> {
  const body =
    options.body === undefined ? undefined : typeof options.body === 'string' || Buffer.isBuffer(options.body) ? options.body : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...options.headers };
  if (body !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
  // Node's client sends DELETE bodies without framing unless told the length (Go clients always send it).
  if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export interface WatchEvent {
  type: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  object: any;
}

export interface WatchStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The next event; rejects when none arrives within the timeout or the stream ended first. */
  next(timeoutMs?: number): Promise<WatchEvent>;
  /** Events received so far and not yet taken by next(). */
  pending(): WatchEvent[];
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  /** Raw chunks as received, to check framing. */
  raw: string[];
  close(): void;
}

export function watch(port: number, path: string, headers: Record<string, string> = {}): Promise<WatchStream> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'GET', path, headers, agent: false }, (res) => {
      const queue: WatchEvent[] = [];
      const raw: string[] = [];
      let waiter: (() => void) | undefined;
      let buffered = '';
      let done = false;
      let endResolve!: () => void;
      const ended = new Promise<void>((resolveEnd) => (endResolve = resolveEnd));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw.push(chunk);
        buffered += chunk;
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (line.trim()) queue.push(JSON.parse(line) as WatchEvent);
        }
        waiter?.();
      });
      const finish = () => {
        done = true;
        endResolve();
        waiter?.();
      };
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        raw,
        ended,
        pending: () => queue.splice(0),
        close: () => req.destroy(),
        async next(timeoutMs = 2000) {
          const deadline = Date.now() + timeoutMs;
          while (queue.length === 0) {
            if (done) throw new Error('watch ended before the next event');
            const left = deadline - Date.now();
            if (left <= 0) throw new Error('timed out waiting for a watch event');
            await new Promise<void>((wake) => {
              const timer = setTimeout(wake, left);
              waiter = () => {
                clearTimeout(timer);
                waiter = undefined;
                wake();
              };
            });
          }
          return queue.shift()!;
        },
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A minimal Widget manifest. */
export function widget(name: string, spec: Record<string, unknown> = { color: 'red' }, metadata: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name, ...metadata }, spec };
}

export const WIDGETS = '/apis/example.com/v1/namespaces/default/widgets';
export const GADGETS = '/apis/example.com/v1/gadgets';
export const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
