// ServiceAccount tokens: JWTs with upstream's claims (iss, sub, aud, exp, iat, nbf, jti and the
// `kubernetes.io` claim naming the ServiceAccount and the Pod, Secret or Node the token is bound to), signed
// by core with --service-account-signing-key-file and verified with --service-account-key-file wherever a
// request arrives (aggregator and core). A token stops working as soon as what it names is gone or was
// recreated: that check reads a watched cache of the objects on every request, while the signature check —
// the expensive part — is remembered per token for a few seconds.

import { createHash, createPrivateKey, createPublicKey, randomUUID, timingSafeEqual, type KeyObject } from 'node:crypto';
import { SignJWT, compactVerify, decodeJwt, decodeProtectedHeader } from 'jose';
import type { UserInfo } from '../registry/object.js';
import type { TokenAuthenticator, TokenResult } from './token-authenticator.js';
import { AuthenticationError, intersect } from './token-authenticator.js';

export type BoundResource = 'serviceaccounts' | 'pods' | 'secrets' | 'nodes';

export interface BoundObject {
  uid: string;
  deletionTimestamp?: string;
}

/** Where the validator looks objects up: a watch cache (core) or informers on core (the aggregator). */
export interface ServiceAccountObjects {
  readonly synced: boolean;
  get(resource: BoundResource, namespace: string, name: string): BoundObject | undefined;
  /** data.token of a kubernetes.io/service-account-token Secret (legacy tokens are checked against it). */
  legacyToken?(namespace: string, secretName: string): string | undefined;
}

/** The issuer of legacy (Secret-based) ServiceAccount tokens, and their claim names. */
export const LEGACY_ISSUER = 'kubernetes/serviceaccount';
export const LEGACY_CLAIMS = {
  namespace: 'kubernetes.io/serviceaccount/namespace',
  secretName: 'kubernetes.io/serviceaccount/secret.name',
  serviceAccountName: 'kubernetes.io/serviceaccount/service-account.name',
  serviceAccountUid: 'kubernetes.io/serviceaccount/service-account.uid',
} as const;

export interface Reference {
  name: string;
  uid: string;
}

export interface ServiceAccountClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti?: string;
  'kubernetes.io': {
    namespace: string;
    serviceaccount: Reference;
    pod?: Reference;
    secret?: Reference;
    node?: Reference;
    warnafter?: number;
  };
}

export interface VerificationKey {
  key: KeyObject;
  kid: string;
}

export interface SigningKey extends VerificationKey {
  alg: string;
}

// go-jose's DefaultLeeway: exp and nbf are checked with a minute of tolerance for clock skew.
const LEEWAY_SECONDS = 60;
const VERIFIED_TTL_MS = 10_000;
const VERIFIED_MAX_ENTRIES = 10_000;

export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/** Upstream's key id: the unpadded base64url SHA-256 of the public key's DER (PKIX). */
export function keyId(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
}

function algorithmFor(key: KeyObject): string {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1' || curve === 'P-256') return 'ES256';
    if (curve === 'secp384r1' || curve === 'P-384') return 'ES384';
    if (curve === 'secp521r1' || curve === 'P-521') return 'ES512';
  }
  throw new Error(`unsupported service account key type ${key.asymmetricKeyType ?? 'unknown'}`);
}

function pemBlocks(pem: string): string[] {
  return pem.match(/-----BEGIN [A-Z ]+-----[\s\S]+?-----END [A-Z ]+-----/g) ?? [];
}

export function loadSigningKey(pem: string): SigningKey {
  const block = pemBlocks(pem).find((candidate) => /PRIVATE KEY/.test(candidate));
  if (!block) throw new Error('the service account signing key file holds no private key');
  const privateKey = createPrivateKey(block);
  return { key: privateKey, alg: algorithmFor(privateKey), kid: keyId(createPublicKey(privateKey)) };
}

/** Every public key in a PEM bundle (public keys, certificates, or private keys whose public half is used). */
export function loadVerificationKeys(pem: string): VerificationKey[] {
  return pemBlocks(pem).map((block) => {
    const key = createPublicKey(block);
    algorithmFor(key);
    return { key, kid: keyId(key) };
  });
}

export interface TokenSpec {
  namespace: string;
  serviceAccount: Reference;
  pod?: Reference;
  secret?: Reference;
  node?: Reference;
  audiences: string[];
  expirationSeconds: number;
}

export class ServiceAccountTokenIssuer {
  constructor(
    readonly issuer: string,
    private readonly signingKey: SigningKey,
  ) {}

  /** A legacy token for a kubernetes.io/service-account-token Secret: no audience, no expiry (upstream's LegacyClaims). */
  issueLegacy(namespace: string, serviceAccount: Reference, secretName: string): Promise<string> {
    const claims = {
      iss: LEGACY_ISSUER,
      [LEGACY_CLAIMS.namespace]: namespace,
      [LEGACY_CLAIMS.secretName]: secretName,
      [LEGACY_CLAIMS.serviceAccountName]: serviceAccount.name,
      [LEGACY_CLAIMS.serviceAccountUid]: serviceAccount.uid,
      sub: serviceAccountUsername(namespace, serviceAccount.name),
    };
    return new SignJWT(claims).setProtectedHeader({ alg: this.signingKey.alg, kid: this.signingKey.kid }).sign(this.signingKey.key);
  }

  async issue(spec: TokenSpec, now = new Date()): Promise<{ token: string; claims: ServiceAccountClaims }> {
    const issuedAt = Math.floor(now.getTime() / 1000);
    const kubernetes: ServiceAccountClaims['kubernetes.io'] = { namespace: spec.namespace, serviceaccount: spec.serviceAccount };
    if (spec.node) kubernetes.node = spec.node.uid ? spec.node : { name: spec.node.name } as Reference;
    if (spec.pod) kubernetes.pod = spec.pod;
    if (spec.secret) kubernetes.secret = spec.secret;
    const claims: ServiceAccountClaims = {
      aud: spec.audiences,
      exp: issuedAt + spec.expirationSeconds,
      iat: issuedAt,
      iss: this.issuer,
      jti: randomUUID(),
      'kubernetes.io': kubernetes,
      nbf: issuedAt,
      sub: serviceAccountUsername(spec.namespace, spec.serviceAccount.name),
    };
    const token = await new SignJWT(claims as unknown as Record<string, unknown>).setProtectedHeader({ alg: this.signingKey.alg, kid: this.signingKey.kid }).sign(this.signingKey.key);
    return { token, claims };
  }
}

export interface ServiceAccountAuthenticatorOptions {
  issuers: string[];
  keys: VerificationKey[];
  apiAudiences: string[];
  objects: ServiceAccountObjects;
  now?: () => number;
}

function equalSecrets(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function quoteList(values: string[]): string {
  return `[${values.map((value) => JSON.stringify(value)).join(' ')}]`;
}

export class ServiceAccountTokenAuthenticator implements TokenAuthenticator {
  readonly name = 'service-account';
  /** token → claims whose signature was verified, until the entry's deadline. */
  private readonly verified = new Map<string, { claims: ServiceAccountClaims; until: number }>();

  constructor(private readonly options: ServiceAccountAuthenticatorOptions) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  async authenticate(token: string, audiences: string[]): Promise<TokenResult | undefined> {
    const claims = await this.verifiedClaims(token);
    if (!claims) return undefined;
    const wanted = audiences.length ? audiences : this.options.apiAudiences;
    let tokenAudiences = Array.isArray(claims.aud) ? claims.aud : typeof claims.aud === 'string' ? [claims.aud] : [];
    // Legacy tokens carry no audience: they are good for the API audiences only.
    if (tokenAudiences.length === 0) tokenAudiences = this.options.apiAudiences;
    const granted = intersect(wanted, tokenAudiences);
    if (granted.length === 0) throw new AuthenticationError(`token audiences ${quoteList(tokenAudiences)} is invalid for the target audiences ${quoteList(wanted)}`);
    const user = claims.iss === LEGACY_ISSUER ? this.validateLegacy(token, claims as unknown as Record<string, unknown>) : this.validate(claims);
    return { user, audiences: granted };
  }

  /** Undefined when the token is not a JWT from one of our issuers (another authenticator may know it). */
  private async verifiedClaims(token: string): Promise<ServiceAccountClaims | undefined> {
    const now = this.now();
    const known = this.verified.get(token);
    if (known && known.until > now) return known.claims;
    let unverified: Record<string, unknown>;
    try {
      unverified = decodeJwt(token);
    } catch {
      return undefined;
    }
    if (typeof unverified.iss !== 'string' || !this.options.issuers.includes(unverified.iss)) return undefined;
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      return undefined;
    }
    // The key named by kid first; a token without kid (or an unknown one) is tried against every key.
    const keys = [...this.options.keys].sort((a, b) => Number(b.kid === kid) - Number(a.kid === kid));
    for (const { key } of keys) {
      try {
        const { payload } = await compactVerify(token, key);
        const claims = JSON.parse(Buffer.from(payload).toString('utf8')) as ServiceAccountClaims;
        if (this.verified.size >= VERIFIED_MAX_ENTRIES) this.verified.delete(this.verified.keys().next().value!);
        this.verified.set(token, { claims, until: now + VERIFIED_TTL_MS });
        return claims;
      } catch {
        // try the next key
      }
    }
    throw new AuthenticationError('go-jose/go-jose: error in cryptographic primitive');
  }

  /** Upstream's legacy validator: the Secret must still hold this very token, and the ServiceAccount be the same. */
  private validateLegacy(token: string, claims: Record<string, unknown>): UserInfo {
    const claim = (name: string) => (typeof claims[name] === 'string' ? (claims[name] as string) : '');
    if (!claim('sub')) throw new AuthenticationError('sub claim is missing');
    const namespace = claim(LEGACY_CLAIMS.namespace);
    if (!namespace) throw new AuthenticationError('namespace claim is missing');
    const secretName = claim(LEGACY_CLAIMS.secretName);
    if (!secretName) throw new AuthenticationError('secretName claim is missing');
    const name = claim(LEGACY_CLAIMS.serviceAccountName);
    if (!name) throw new AuthenticationError('serviceAccountName claim is missing');
    const uid = claim(LEGACY_CLAIMS.serviceAccountUid);
    if (!uid) throw new AuthenticationError('serviceAccountUID claim is missing');
    if (claim('sub') !== serviceAccountUsername(namespace, name)) throw new AuthenticationError('sub claim is invalid');
    const objects = this.options.objects;
    if (!objects.synced) throw new AuthenticationError('service account token could not be validated: the service account cache has not synced yet');
    const secret = objects.get('secrets', namespace, secretName);
    if (!secret || secret.deletionTimestamp) throw new AuthenticationError('Token has been invalidated');
    const stored = objects.legacyToken?.(namespace, secretName);
    if (stored === undefined || !equalSecrets(stored, token)) throw new AuthenticationError("Token does not match server's copy");
    const account = objects.get('serviceaccounts', namespace, name);
    if (!account) throw new AuthenticationError(`serviceaccounts "${name}" not found`);
    if (account.deletionTimestamp) throw new AuthenticationError(`ServiceAccount ${namespace}/${name} has been deleted`);
    if (account.uid !== uid) throw new AuthenticationError(`ServiceAccount UID (${account.uid}) does not match claim (${uid})`);
    return { username: serviceAccountUsername(namespace, name), uid, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'] };
  }

  /** Upstream's validator: time window, then every bound object must still exist with the same uid. */
  private validate(claims: ServiceAccountClaims): UserInfo {
    const nowSeconds = this.now() / 1000;
    if (typeof claims.exp === 'number' && nowSeconds > claims.exp + LEEWAY_SECONDS) throw new AuthenticationError('service account token has expired');
    if (typeof claims.nbf === 'number' && nowSeconds < claims.nbf - LEEWAY_SECONDS) throw new AuthenticationError('service account token is not valid yet');
    const kubernetes = claims['kubernetes.io'];
    if (!kubernetes?.namespace || !kubernetes.serviceaccount?.name) throw new AuthenticationError('service account token claims could not be validated due to unexpected private claim');
    const objects = this.options.objects;
    if (!objects.synced) throw new AuthenticationError('service account token could not be validated: the service account cache has not synced yet');
    const namespace = kubernetes.namespace;
    // Objects deleted (deletionTimestamp set) more than the leeway ago no longer back a token.
    const gone = (object: BoundObject) => object.deletionTimestamp !== undefined && Date.parse(object.deletionTimestamp) / 1000 < nowSeconds - LEEWAY_SECONDS;
    const account = objects.get('serviceaccounts', namespace, kubernetes.serviceaccount.name);
    if (!account) throw new AuthenticationError(`serviceaccounts "${kubernetes.serviceaccount.name}" not found`);
    if (gone(account)) throw new AuthenticationError(`service account ${namespace}/${kubernetes.serviceaccount.name} has been deleted`);
    if (account.uid !== kubernetes.serviceaccount.uid) throw new AuthenticationError(`service account UID (${account.uid}) does not match claim (${kubernetes.serviceaccount.uid})`);
    if (kubernetes.secret) {
      const secret = objects.get('secrets', namespace, kubernetes.secret.name);
      if (!secret || gone(secret)) throw new AuthenticationError('service account token has been invalidated');
      if (secret.uid !== kubernetes.secret.uid) throw new AuthenticationError(`secret UID (${secret.uid}) does not match service account secret ref claim (${kubernetes.secret.uid})`);
    }
    if (kubernetes.pod) {
      const pod = objects.get('pods', namespace, kubernetes.pod.name);
      if (!pod || gone(pod)) throw new AuthenticationError('service account token has been invalidated');
      if (pod.uid !== kubernetes.pod.uid) throw new AuthenticationError(`pod UID (${pod.uid}) does not match service account pod ref claim (${kubernetes.pod.uid})`);
    } else if (kubernetes.node) {
      // A token bound to a node (not a pod on it) lives as long as the node object.
      const node = objects.get('nodes', '', kubernetes.node.name);
      if (!node || gone(node)) throw new AuthenticationError('service account token has been invalidated');
      if (node.uid !== kubernetes.node.uid) throw new AuthenticationError(`node UID (${node.uid}) does not match service account node ref claim (${kubernetes.node.uid})`);
    }
    const extra: Record<string, string[]> = {};
    if (claims.jti) extra['authentication.kubernetes.io/credential-id'] = [`JTI=${claims.jti}`];
    if (kubernetes.node?.name) extra['authentication.kubernetes.io/node-name'] = [kubernetes.node.name];
    if (kubernetes.node?.uid) extra['authentication.kubernetes.io/node-uid'] = [kubernetes.node.uid];
    if (kubernetes.pod) {
      extra['authentication.kubernetes.io/pod-name'] = [kubernetes.pod.name];
      extra['authentication.kubernetes.io/pod-uid'] = [kubernetes.pod.uid];
    }
    const user: UserInfo = {
      username: serviceAccountUsername(namespace, kubernetes.serviceaccount.name),
      uid: kubernetes.serviceaccount.uid,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
    };
    if (Object.keys(extra).length) user.extra = extra;
    return user;
  }
}
