// A minimal API client from a kubeconfig (upstream's --authorization-kubeconfig): the current context's
// server and CA, and a client certificate or bearer token, over one keep-alive agent. Extension servers use
// it to ask core (through the aggregator, as any client does) for SubjectAccessReviews.

import https from 'node:https';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';

export interface ApiClient {
  readonly server: string;
  post(path: string, body: unknown, timeoutMs?: number): Promise<{ status: number; body: Record<string, unknown> }>;
}

type Named<T> = { name: string } & T;

function dataOrFile(base: string, data: unknown, file: unknown): string | undefined {
  if (typeof data === 'string' && data) return Buffer.from(data, 'base64').toString('utf8');
  if (typeof file === 'string' && file) return readFileSync(resolve(base, file), 'utf8');
  return undefined;
}

export function clientFromKubeconfig(path: string): ApiClient {
  const config = parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const base = dirname(path);
  const contexts = (config.contexts ?? []) as Named<{ context: { cluster: string; user: string } }>[];
  const current = contexts.find((context) => context.name === config['current-context']) ?? contexts[0];
  if (!current) throw new Error(`${path}: no context`);
  const cluster = ((config.clusters ?? []) as Named<{ cluster: Record<string, unknown> }>[]).find((entry) => entry.name === current.context.cluster)?.cluster;
  const user = ((config.users ?? []) as Named<{ user: Record<string, unknown> }>[]).find((entry) => entry.name === current.context.user)?.user ?? {};
  if (!cluster || typeof cluster.server !== 'string') throw new Error(`${path}: the current context names no cluster with a server`);
  const server = cluster.server;
  const agent = new https.Agent({
    keepAlive: true,
    ca: dataOrFile(base, cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: dataOrFile(base, user['client-certificate-data'], user['client-certificate']),
    key: dataOrFile(base, user['client-key-data'], user['client-key']),
  });
  const token = typeof user.token === 'string' ? user.token : undefined;
  return {
    server,
    post(requestPath, body, timeoutMs = 10_000) {
      return new Promise((resolvePromise, reject) => {
        const payload = JSON.stringify(body);
        const request = https.request(new URL(requestPath, server), {
          method: 'POST',
          agent,
          timeout: timeoutMs,
          headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Content-Length': Buffer.byteLength(payload), ...(token ? { Authorization: `Bearer ${token}` } : {}) },
        });
        request.on('response', (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => {
            try {
              resolvePromise({ status: response.statusCode ?? 0, body: JSON.parse(text || '{}') as Record<string, unknown> });
            } catch {
              resolvePromise({ status: response.statusCode ?? 0, body: { message: text } });
            }
          });
          response.on('error', reject);
        });
        request.on('timeout', () => request.destroy(new Error(`POST ${requestPath}: timed out after ${timeoutMs} ms`)));
        request.on('error', reject);
        request.end(payload);
      });
    },
  };
}
