// Bearer tokens on an extension server (apiextensions, sample-extension, a user's server on the
// framework): asked of core-apiserver with a TokenReview, as upstream's delegating authenticator does, and
// the answer — accepted or rejected — remembered for 10 s so a busy client costs one review per interval.

import NodeCache from 'node-cache';
import { KubeClient } from '../client/kube-client.js';
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

/** A TokenReview against the server of `--authentication-kubeconfig`. */
export function remoteTokenReviewer(kubeconfigFile: string): TokenReviewer {
  const client = KubeClient.fromKubeconfig(kubeconfigFile);
  return async (token, audiences) => {
    const review = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences.length ? { audiences } : {}) } };
    const answer = await client.raw('POST', '/apis/authentication.k8s.io/v1/tokenreviews', review);
    const body = answer.body as { status?: TokenReviewStatus; message?: string };
    if (answer.status !== 201 && answer.status !== 200) throw new Error(`${answer.status} ${body.message ?? ''}`.trim());
    return body.status ?? {};
  };
}
