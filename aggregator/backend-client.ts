// How the aggregator talks to a backend: one keep-alive TLS agent per backend (a new handshake costs ~25×
// a request), presenting the front-proxy client certificate and verifying the backend's serving
// certificate against the cluster CA. Requests of its own run as system:kube-aggregator in system:masters,
// as upstream's discovery and availability checks do.

import https from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import { ConnectionPool } from './upstream-connections.js';

export interface BackendTls {
  proxyClientCert: string;
  proxyClientKey: string;
  /** CA that signed the backends' serving certificates. */
  backendCa: string;
}

/**
 * The agent of one backend (or one remote APIService): Node's keep-alive agent for the aggregator's own
 * requests (discovery, probes, upgrades), and the connection pool the proxy forwards requests over, with
 * the same credentials. Node's https.Agent names its connection pool per request from the options,
 * concatenating the PEM texts of ca/cert/key into a multi-kilobyte key on every request; one agent serves
 * one backend with fixed credentials, so host:port names the pool.
 */
export class UpstreamAgent extends https.Agent {
  readonly connections: ConnectionPool;

  constructor(options: https.AgentOptions) {
    super(options);
    this.connections = new ConnectionPool(tlsOptionsOf(options));
  }

  override getName(options?: { host?: string | null; port?: number | string | null }): string {
    return `${options?.host ?? ''}:${options?.port ?? ''}`;
  }

  override destroy(): void {
    super.destroy();
    this.connections.destroy();
  }
}

function tlsOptionsOf(options: https.AgentOptions): ConnectionOptions {
  const { cert, key, ca, rejectUnauthorized, servername } = options;
  return { cert, key, ca, rejectUnauthorized, servername };
}

const poolsOfOtherAgents = new WeakMap<https.Agent, ConnectionPool>();

/** The proxy's connections for an agent (made here for agents that are not an UpstreamAgent). */
export function connectionsOf(agent: https.Agent): ConnectionPool {
  if (agent instanceof UpstreamAgent) return agent.connections;
  let pool = poolsOfOtherAgents.get(agent);
  if (!pool) poolsOfOtherAgents.set(agent, (pool = new ConnectionPool(tlsOptionsOf(agent.options))));
  return pool;
}

export function backendAgent(tls: BackendTls): https.Agent {
  return new UpstreamAgent({
    keepAlive: true,
    keepAliveMsecs: 30_000,
    // No cap: proxied watches hold connections for minutes and must never starve short requests
    // (backends limit concurrency themselves with max-inflight and priority and fairness).
    maxSockets: Infinity,
    maxFreeSockets: 64,
    cert: tls.proxyClientCert,
    key: tls.proxyClientKey,
    ca: tls.backendCa,
    noDelay: true,
  } as https.AgentOptions);
}

export interface FetchResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function fetchFromBackend(baseUrl: string, agent: https.Agent, path: string, headers: Record<string, string> = {}, timeoutMs = 5000, method: 'GET' | 'HEAD' = 'GET'): Promise<FetchResult> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, baseUrl);
    const request = https.request(
      url,
      {
        method,
        agent,
        headers: { 'X-Remote-User': 'system:kube-aggregator', 'X-Remote-Group': 'system:masters', ...headers },
        timeout: timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`timed out waiting for ${url.href}`)));
    request.on('error', reject);
    request.end();
  });
}
