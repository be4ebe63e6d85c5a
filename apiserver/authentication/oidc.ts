// OpenID Connect ID tokens (--oidc-*): verified with jose against the issuer's keys, found through its
// discovery document (<issuer>/.well-known/openid-configuration → jwks_uri) over HTTPS (--oidc-ca-file
// when the issuer's certificate is not publicly trusted). The key set is cached and fetched again when a
// token names a key it does not hold (the issuer rotated), at most once every few seconds.

import https from 'node:https';
import { createLocalJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import type { UserInfo } from '../registry/object.js';
import type { TokenAuthenticator } from './token-authenticator.js';
import { AuthenticationError, audienceAgnostic } from './token-authenticator.js';

export interface OidcOptions {
  issuerUrl: string;
  clientId: string;
  usernameClaim?: string;
  /** undefined: upstream's default (issuer URL + "#" unless the claim is email); "-": no prefix. */
  usernamePrefix?: string;
  groupsClaim?: string;
  groupsPrefix?: string;
  caPem?: string;
  requiredClaims?: Record<string, string>;
  signingAlgorithms?: string[];
}

const REFRESH_MIN_INTERVAL_MS = 5_000;

function getJson(url: string, ca: string | undefined): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const request = https.get(url, { ca, timeout: 10_000, headers: { Accept: 'application/json' } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        if (response.statusCode !== 200) return reject(new Error(`${url}: ${response.statusCode} ${body.slice(0, 200)}`));
        try {
          resolve(JSON.parse(body));
        } catch (error) {
          reject(new Error(`${url}: ${(error as Error).message}`));
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error(`${url}: timed out`)));
    request.on('error', reject);
  });
}

export function oidcUsername(claims: JWTPayload, options: OidcOptions): string {
  const claim = options.usernameClaim ?? 'sub';
  const value = claims[claim];
  if (typeof value !== 'string' || value === '') throw new AuthenticationError(`oidc: parse username claims "${claim}": claim not present`);
  if (claim === 'email') {
    // An email is only an identity if the issuer says it verified it (when it says anything).
    if ('email_verified' in claims && claims.email_verified !== true) throw new AuthenticationError(`oidc: email not verified`);
  }
  let prefix = options.usernamePrefix;
  if (prefix === undefined) prefix = claim === 'email' ? '' : `${options.issuerUrl}#`;
  if (prefix === '-') prefix = '';
  return `${prefix}${value}`;
}

export function oidcGroups(claims: JWTPayload, options: OidcOptions): string[] {
  if (!options.groupsClaim) return [];
  const value = claims[options.groupsClaim];
  if (value === undefined) return [];
  const groups = typeof value === 'string' ? [value] : Array.isArray(value) && value.every((item) => typeof item === 'string') ? (value as string[]) : undefined;
  if (!groups) throw new AuthenticationError(`oidc: parse groups claim "${options.groupsClaim}": json: cannot unmarshal into []string`);
  return groups.map((group) => `${options.groupsPrefix ?? ''}${group}`);
}

export class OidcAuthenticator {
  readonly name = 'oidc';
  private keys: ReturnType<typeof createLocalJWKSet> | undefined;
  private loading: Promise<void> | undefined;
  private lastFetch = 0;

  constructor(private readonly options: OidcOptions) {
    if (!options.issuerUrl.startsWith('https://')) throw new Error(`--oidc-issuer-url (${options.issuerUrl}) must use the https scheme`);
  }

  /** Fetches discovery, then the key set; concurrent callers share one fetch. */
  private refresh(): Promise<void> {
    this.loading ??= (async () => {
      try {
        this.lastFetch = Date.now();
        const discovery = (await getJson(`${this.options.issuerUrl.replace(/\/$/, '')}/.well-known/openid-configuration`, this.options.caPem)) as { issuer?: string; jwks_uri?: string };
        if (discovery.issuer !== this.options.issuerUrl) throw new Error(`oidc: issuer did not match the issuer returned by provider, expected "${this.options.issuerUrl}" got "${discovery.issuer}"`);
        if (!discovery.jwks_uri) throw new Error('oidc: the discovery document names no jwks_uri');
        const keySet = (await getJson(discovery.jwks_uri, this.options.caPem)) as JSONWebKeySet;
        this.keys = createLocalJWKSet(keySet);
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  async authenticate(token: string): Promise<UserInfo | undefined> {
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      return undefined;
    }
    // A token from another issuer belongs to another authenticator.
    if (unverified.iss !== this.options.issuerUrl) return undefined;
    if (!this.keys) {
      try {
        await this.refresh();
      } catch (error) {
        throw new AuthenticationError(`oidc: authenticator not initialized: ${(error as Error).message}`);
      }
    }
    const verify = () => jwtVerify(token, this.keys!, { issuer: this.options.issuerUrl, audience: this.options.clientId, algorithms: this.options.signingAlgorithms ?? ['RS256'], clockTolerance: 0 });
    let claims: JWTPayload;
    try {
      claims = (await verify()).payload;
    } catch (error) {
      if (error instanceof joseErrors.JWKSNoMatchingKey && Date.now() - this.lastFetch > REFRESH_MIN_INTERVAL_MS) {
        try {
          await this.refresh();
          claims = (await verify()).payload;
        } catch (retry) {
          throw this.verifyError(retry);
        }
      } else {
        throw this.verifyError(error);
      }
    }
    for (const [claim, value] of Object.entries(this.options.requiredClaims ?? {})) {
      if (claims[claim] === undefined) throw new AuthenticationError(`oidc: required claim ${claim} not present in ID token`);
      if (claims[claim] !== value) throw new AuthenticationError(`oidc: required claim ${claim} value does not match. Got = ${JSON.stringify(claims[claim])}, want = ${value}`);
    }
    return { username: oidcUsername(claims, this.options), groups: oidcGroups(claims, this.options) };
  }

  private verifyError(error: unknown): AuthenticationError {
    if (error instanceof AuthenticationError) return error;
    if (error instanceof joseErrors.JWTExpired) return new AuthenticationError(`oidc: verify token: oidc: token is expired (Token Expiry: ${new Date(Number(error.payload.exp) * 1000).toISOString()})`);
    if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'aud') return new AuthenticationError(`oidc: verify token: oidc: expected audience "${this.options.clientId}" got ${JSON.stringify(error.payload.aud)}`);
    return new AuthenticationError(`oidc: verify token: ${(error as Error).message}`);
  }
}

export function oidcTokenAuthenticator(options: OidcOptions, apiAudiences: string[]): TokenAuthenticator {
  return audienceAgnostic(new OidcAuthenticator(options), apiAudiences);
}
