// Authentication, upstream's union in its order: the front-proxy identity (X-Remote-User/Group/Extra-*, only
// on a connection whose certificate chains to the requestheader CA with an allowed name), a client
// certificate from the client CA (user = CN, groups = O), then a bearer token asked of each token
// authenticator (static tokens, ServiceAccount JWTs, OIDC, or a TokenReview to core on extension servers),
// and finally anonymous (system:anonymous, system:unauthenticated) when nothing was presented. A token that
// was presented and not accepted is a 401, never anonymous. Certificates are verified once per connection.

import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { UserInfo } from '../registry/object.js';
import { unauthorized } from '../request/status.js';
import type { TokenAuthenticator, TokenResult } from '../authentication/token-authenticator.js';
import { authenticateToken, withAuthenticatedGroup } from '../authentication/token-authenticator.js';

export interface RequestHeaderConfig {
  clientCa: X509Certificate[];
  allowedNames: string[];
  usernameHeaders: string[];
  /** --requestheader-uid-headers (upstream 1.32 alpha): the user's uid, e.g. a ServiceAccount's. */
  uidHeaders?: string[];
  groupHeaders: string[];
  extraHeadersPrefixes: string[];
}

export interface AuthenticationConfig {
  clientCa: X509Certificate[];
  requestHeader?: RequestHeaderConfig;
  /**
   * What to do with identity headers on a connection that is not a trusted front proxy: the aggregator
   * strips them (clients may send anything); backends reject the request with a 401 that says why,
   * instead of silently treating it as anonymous.
   */
  untrustedIdentityHeaders: 'strip' | 'reject';
  /** Bearer-token authenticators, tried in order after certificates. */
  tokenAuthenticators?: TokenAuthenticator[];
  /** What tokens must be meant for (--api-audiences); a TokenReview without audiences asks for these. */
  apiAudiences?: string[];
  /** Requests without credentials become system:anonymous (--anonymous-auth, default true). */
  anonymous?: boolean;
}

export const ANONYMOUS: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

type CertificateIdentity =
  | { kind: 'proxy'; commonName: string }
  | { kind: 'user'; user: UserInfo }
  | { kind: 'untrusted-proxy'; reason: string }
  | { kind: 'none' };

const identities = new WeakMap<object, CertificateIdentity>();

function subjectField(subject: string, field: string): string[] {
  return subject
    .split('\n')
    .filter((line) => line.startsWith(`${field}=`))
    .map((line) => line.slice(field.length + 1));
}

function signedBy(certificate: X509Certificate, authorities: X509Certificate[]): boolean {
  const now = Date.now();
  if (Date.parse(certificate.validFrom) > now || Date.parse(certificate.validTo) < now) return false;
  return authorities.some((ca) => certificate.checkIssued(ca) && certificate.verify(ca.publicKey));
}

function identify(socket: TLSSocket, config: AuthenticationConfig): CertificateIdentity {
  const known = identities.get(socket);
  if (known) return known;
  let identity: CertificateIdentity = { kind: 'none' };
  const peer = typeof socket.getPeerX509Certificate === 'function' ? socket.getPeerX509Certificate() : undefined;
  if (peer) {
    const commonName = subjectField(peer.subject, 'CN')[0] ?? '';
    const header = config.requestHeader;
    if (header && signedBy(peer, header.clientCa)) {
      if (header.allowedNames.length === 0 || header.allowedNames.includes(commonName)) identity = { kind: 'proxy', commonName };
      else identity = { kind: 'untrusted-proxy', reason: `certificate CN=${commonName} is not one of the allowed names [${header.allowedNames.join(', ')}]` };
    } else if (signedBy(peer, config.clientCa)) {
      const groups = subjectField(peer.subject, 'O');
      identity = { kind: 'user', user: { username: commonName, groups: [...groups, 'system:authenticated'] } };
    } else {
      identity = { kind: 'untrusted-proxy', reason: `certificate CN=${commonName} is not signed by the requestheader CA nor the client CA` };
    }
  }
  identities.set(socket, identity);
  return identity;
}

function headerValues(req: IncomingMessage, name: string): string[] {
  const raw = req.headersDistinct?.[name.toLowerCase()];
  if (!raw) return [];
  return raw.map((value) => value.trim()).filter((value) => value !== '');
}

function hasIdentityHeaders(req: IncomingMessage, config: AuthenticationConfig): string | undefined {
  const header = config.requestHeader;
  const names = header ? [...header.usernameHeaders, ...(header.uidHeaders ?? []), ...header.groupHeaders] : ['x-remote-user', 'x-remote-uid', 'x-remote-group'];
  const prefixes = (header?.extraHeadersPrefixes ?? ['x-remote-extra-']).map((p) => p.toLowerCase());
  for (const name of Object.keys(req.headers)) {
    if (names.some((candidate) => candidate.toLowerCase() === name) || prefixes.some((prefix) => name.startsWith(prefix))) return name;
  }
  return undefined;
}

function stripIdentityHeaders(req: IncomingMessage, config: AuthenticationConfig): void {
  const header = config.requestHeader;
  const names = new Set((header ? [...header.usernameHeaders, ...(header.uidHeaders ?? []), ...header.groupHeaders] : ['x-remote-user', 'x-remote-uid', 'x-remote-group']).map((n) => n.toLowerCase()));
  const prefixes = (header?.extraHeadersPrefixes ?? ['x-remote-extra-']).map((p) => p.toLowerCase());
  for (const name of Object.keys(req.headers)) {
    if (names.has(name) || prefixes.some((prefix) => name.startsWith(prefix))) delete req.headers[name];
  }
}

export async function authenticate(req: IncomingMessage, config: AuthenticationConfig): Promise<UserInfo> {
  const socket = req.socket as TLSSocket;
  const identity = typeof socket.getPeerX509Certificate === 'function' ? identify(socket, config) : ({ kind: 'none' } as CertificateIdentity);
  if (identity.kind === 'proxy' && config.requestHeader) {
    const header = config.requestHeader;
    const username = header.usernameHeaders.map((name) => headerValues(req, name)[0]).find((value) => value);
    if (!username) throw unauthorized('Unauthorized: the front proxy sent no user name header');
    const groups = header.groupHeaders.flatMap((name) => headerValues(req, name));
    const extra: Record<string, string[]> = {};
    for (const [name, values] of Object.entries(req.headersDistinct ?? {})) {
      const prefix = header.extraHeadersPrefixes.find((p) => name.startsWith(p.toLowerCase()));
      if (!prefix || !values) continue;
      const key = decodeURIComponent(name.slice(prefix.length)).toLowerCase();
      extra[key] = [...(extra[key] ?? []), ...values];
    }
    const user: UserInfo = { username, groups };
    const uid = (header.uidHeaders ?? []).map((name) => headerValues(req, name)[0]).find((value) => value);
    if (uid) user.uid = uid;
    if (Object.keys(extra).length) user.extra = extra;
    return user;
  }
  const spoofed = hasIdentityHeaders(req, config);
  if (spoofed) {
    if (config.untrustedIdentityHeaders === 'reject') {
      const reason = identity.kind === 'untrusted-proxy' ? identity.reason : 'no client certificate was presented';
      throw unauthorized(`request did not come from a trusted aggregator: the ${spoofed} header is accepted only from a front proxy presenting a certificate signed by the requestheader CA (${reason})`);
    }
    stripIdentityHeaders(req, config);
  }
  if (identity.kind === 'user') return identity.user;
  const token = bearerToken(req);
  if (token && config.tokenAuthenticators?.length) {
    let result: TokenResult | undefined;
    try {
      result = await authenticateToken(config.tokenAuthenticators, token, config.apiAudiences ?? []);
    } catch {
      // The reason stays in the server (a TokenReview shows it); the client learns only that it failed.
      throw unauthorized();
    }
    if (!result) throw unauthorized();
    // The credential is spent here: it is not forwarded to whatever serves the request next.
    delete req.headers.authorization;
    return withAuthenticatedGroup(result.user);
  }
  // A client certificate nobody trusts is a failed credential (upstream's x509 error), not anonymity.
  if (identity.kind === 'untrusted-proxy') throw unauthorized();
  if (config.anonymous === false) throw unauthorized();
  return ANONYMOUS;
}

/** True when the request came over a connection authenticated as the front proxy (whose Audit-Id is trusted). */
export function isFrontProxy(req: IncomingMessage, config: AuthenticationConfig): boolean {
  const socket = req.socket as TLSSocket;
  return !!config.requestHeader && typeof socket.getPeerX509Certificate === 'function' && identify(socket, config).kind === 'proxy';
}

/** The token of `Authorization: Bearer <token>`; an empty one counts as none (as upstream). */
function bearerToken(req: IncomingMessage): string | undefined {
  const authorization = req.headers.authorization;
  if (!authorization) return undefined;
  const match = /^bearer\s+(.*)$/i.exec(authorization.trim());
  return match?.[1].trim() || undefined;
}

/** A TokenReview's answer: the same token authenticators requests go through. */
export async function reviewToken(config: AuthenticationConfig, token: string, audiences: string[]): Promise<TokenResult | undefined> {
  const result = await authenticateToken(config.tokenAuthenticators ?? [], token, audiences);
  return result && { ...result, user: withAuthenticatedGroup(result.user) };
}
