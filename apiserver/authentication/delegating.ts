// Bearer tokens on an extension server (apiextensions, sample-extension, a user's server on the
// framework): asked of core-apiserver with a TokenReview, as upstream's delegating authenticator does, and
// the answer — accepted or rejected — remembered for 10 s so a busy client costs one review per interval.

import https from 'node:https';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import NodeCache from 'node-cache';
import { parse } from 'yaml';
import type { UserInfo } from '../registry/object.js';
import type { TokenAuthenticator, TokenResult } from './token-authenticator.js';
import { AuthenticationError } from './token-authenticator.js';

export interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  audiences?: string[];
  error?: string;
}

export type TokenReviewer = (token: string, audiences: string[]) => Promise<TokenReviewStatus>;

type Cached = { result?: TokenResult; error?: string };

export function delegatingTokenAuthenticator(reviewer: TokenReviewer, ttlSeconds = 10): TokenAuthenticator & { cache: NodeCache } {
  const cache = new NodeCache({ stdTTL: ttlSeconds, checkperiod: Math.max(ttlSeconds, 1) * 6, useClones: false });
  return {
    name: 'token-review',
    cache,
    async authenticate(token, audiences) {
      const key = `${audiences.join(',')}\u0000${token}`;
      let cached = cache.get<Cached>(key);
      if (!cached) {
        let status: TokenReviewStatus;
        try {
          status = await reviewer(token, audiences);
        } catch (error) {
          // Not cached: core being briefly away must not lock a good token out for the TTL.
          throw new AuthenticationError(`token review failed: ${(error as Error).message}`);
        }
        if (status.authenticated && status.user?.username) {
          const user: UserInfo = { username: status.user.username, groups: status.user.groups ?? [] };
          if (status.user.uid) user.uid = status.user.uid;
          if (status.user.extra && Object.keys(status.user.extra).length) user.extra = status.user.extra;
          cached = { result: { user, audiences: status.audiences ?? audiences } };
        } else {
          cached = status.error ? { error: status.error } : {};
        }
        // A TTL of 0 means no caching (node-cache would read 0 as "forever").
        if (ttlSeconds > 0) cache.set(key, cached);
      }
      if (cached.error) throw new AuthenticationError(cached.error);
      return cached.result && structuredClone(cached.result);
    },
  };
}

interface KubeconfigConnection {
  server: string;
  ca?: string;
  cert?: string;
  key?: string;
  token?: string;
}

/** The current context's cluster and user of a kubeconfig (inline data or file paths relative to it). */
export function readKubeconfig(file: string): KubeconfigConnection {
  const config = parse(readFileSync(file, 'utf8')) as {
    'current-context'?: string;
    contexts?: { name: string; context: { cluster: string; user: string } }[];
    clusters?: { name: string; cluster: Record<string, string> }[];
    users?: { name: string; user: Record<string, string> }[];
  };
  const context = config.contexts?.find((entry) => entry.name === config['current-context']) ?? config.contexts?.[0];
  const cluster = config.clusters?.find((entry) => entry.name === context?.context.cluster)?.cluster ?? config.clusters?.[0]?.cluster;
  const user = config.users?.find((entry) => entry.name === context?.context.user)?.user ?? {};
  if (!cluster?.server) throw new Error(`kubeconfig ${file} names no cluster server`);
  const base = dirname(resolve(file));
  const read = (data: string | undefined, path: string | undefined) => (data ? Buffer.from(data, 'base64').toString('utf8') : path ? readFileSync(resolve(base, path), 'utf8') : undefined);
  return {
    server: cluster.server,
    ca: read(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: read(user['client-certificate-data'], user['client-certificate']),
    key: read(user['client-key-data'], user['client-key']),
    token: user.token,
  };
}

/** POSTs an object to a path on the kubeconfig's server and returns the JSON answer (status code checked). */
export function kubeconfigClient(connection: KubeconfigConnection): (method: string, path: string, body?: unknown) => Promise<{ status: number; body: unknown }> {
  const agent = new https.Agent({ keepAlive: true, ca: connection.ca, cert: connection.cert, key: connection.key, maxSockets: 16 });
  return (method, path, body) =>
    new Promise((resolvePromise, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const request = https.request(new URL(path, connection.server), {
        method,
        agent,
        timeout: 10_000,
        headers: {
          Accept: 'application/json',
          ...(payload ? { 'Content-Type': 'application/json' } : {}),
          ...(connection.token ? { Authorization: `Bearer ${connection.token}` } : {}),
        },
      });
      request.on('response', (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          try {
            resolvePromise({ status: response.statusCode ?? 0, body: JSON.parse(text || '{}') });
          } catch {
            reject(new Error(`${method} ${path}: ${response.statusCode}: ${text.slice(0, 200)}`));
          }
        });
      });
      request.on('timeout', () => request.destroy(new Error(`${method} ${path}: timed out`)));
      request.on('error', reject);
      request.end(payload);
    });
}

/** A TokenReview against the server of `--authentication-kubeconfig`. */
export function remoteTokenReviewer(kubeconfigFile: string): TokenReviewer {
  const call = kubeconfigClient(readKubeconfig(kubeconfigFile));
  return async (token, audiences) => {
    const review = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences.length ? { audiences } : {}) } };
    const answer = await call('POST', '/apis/authentication.k8s.io/v1/tokenreviews', review);
    const body = answer.body as { status?: TokenReviewStatus; message?: string };
    if (answer.status !== 201 && answer.status !== 200) throw new Error(`${answer.status} ${body.message ?? ''}`.trim());
    return body.status ?? {};
  };
}
