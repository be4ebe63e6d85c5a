// A client for components that talk to the API as ordinary users do (an extension server reading Nodes and
// Pods, a node agent reporting its Node): credentials from a kubeconfig file, one keep-alive TLS agent, JSON
// in and out, Status errors surfaced as ApiErrors, and informers for list-watch mirrors.

import https from 'node:https';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import type { KubeObject } from '../registry/object.js';
import { request } from './http.js';
import { Informer } from './informer.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: { name: string; context: { cluster: string; user: string } }[];
  clusters?: { name: string; cluster: { server: string; 'certificate-authority'?: string; 'certificate-authority-data'?: string } }[];
  users?: { name: string; user: { 'client-certificate'?: string; 'client-certificate-data'?: string; 'client-key'?: string; 'client-key-data'?: string; token?: string } }[];
}

export interface ClientCredentials {
  server: string;
  ca?: string;
  cert?: string;
  key?: string;
  token?: string;
}

/** Reads the current context of a kubeconfig (inline data or file paths relative to the file). */
export function readKubeconfig(path: string): ClientCredentials {
  const config = parse(readFileSync(path, 'utf8')) as KubeconfigFile;
  const contextName = config['current-context'] ?? config.contexts?.[0]?.name;
  const context = config.contexts?.find((entry) => entry.name === contextName)?.context;
  const cluster = config.clusters?.find((entry) => entry.name === context?.cluster)?.cluster ?? config.clusters?.[0]?.cluster;
  const user = config.users?.find((entry) => entry.name === context?.user)?.user ?? config.users?.[0]?.user ?? {};
  if (!cluster?.server) throw new Error(`${path}: no cluster server in the current context`);
  const base = dirname(path);
  const pem = (data: string | undefined, file: string | undefined) => (data ? Buffer.from(data, 'base64').toString('utf8') : file ? readFileSync(resolve(base, file), 'utf8') : undefined);
  return {
    server: cluster.server,
    ca: pem(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: pem(user['client-certificate-data'], user['client-certificate']),
    key: pem(user['client-key-data'], user['client-key']),
    token: user.token,
  };
}

export class KubeClient {
  readonly agent: https.Agent;
  private readonly headers: Record<string, string>;

  constructor(readonly credentials: ClientCredentials) {
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 32, ca: credentials.ca, cert: credentials.cert, key: credentials.key });
    this.headers = credentials.token ? { Authorization: `Bearer ${credentials.token}` } : {};
  }

  static fromKubeconfig(path: string): KubeClient {
    return new KubeClient(readKubeconfig(path));
  }

  get url(): string {
    return this.credentials.server;
  }

  /** One request; the status and the decoded JSON body (or `{ message }` when it is not JSON), never thrown for a status. */
  async raw(method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<{ status: number; body: Record<string, unknown> }> {
    const headers: Record<string, string> = { ...this.headers, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await request(method, this.url, this.agent, path, headers, body === undefined ? undefined : JSON.stringify(body), timeoutMs);
    try {
      return { status: response.status, body: JSON.parse(response.body || '{}') as Record<string, unknown> };
    } catch {
      return { status: response.status, body: { message: response.body } };
    }
  }

  async call<T = KubeObject>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const headers: Record<string, string> = { ...this.headers, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = contentType;
    const response = await request(method, this.url, this.agent, path, headers, body === undefined ? undefined : JSON.stringify(body));
    let decoded: unknown;
    try {
      decoded = response.body ? JSON.parse(response.body) : {};
    } catch {
      decoded = undefined;
    }
    if (response.status >= 400) {
      const status = decoded as { reason?: string; message?: string } | undefined;
      throw new ApiError(response.status, status?.reason ?? '', status?.message ?? `${method} ${path}: ${response.status} ${response.body.slice(0, 200)}`);
    }
    return decoded as T;
  }

  get<T = KubeObject>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  /** A list-watch mirror of a collection, e.g. `/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1`. */
  informer(path: string, onChange?: (type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubeObject) => void): Informer {
    return new Informer(() => ({ url: this.url, agent: this.agent, headers: this.headers }), path, onChange);
  }
}
