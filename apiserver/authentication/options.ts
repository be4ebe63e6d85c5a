// kube-apiserver's built-in authentication flags (the aggregator and core-apiserver take them) and the
// token authenticators they configure, in upstream's order: token file → ServiceAccount tokens → OIDC.

import { readFileSync } from 'node:fs';
import type { FlagSpec, FlagValues } from '../server/flags.js';
import { FlagError, listFlag, stringFlag } from '../server/flags.js';
import type { AuthenticationConfig } from '../filters/authenticate.js';
import type { TokenAuthenticator } from './token-authenticator.js';
import { tokenFileAuthenticator } from './token-file.js';
import type { ServiceAccountObjects } from './service-account-token.js';
import { LEGACY_ISSUER, ServiceAccountTokenAuthenticator, ServiceAccountTokenIssuer, loadSigningKey, loadVerificationKeys } from './service-account-token.js';
import { oidcTokenAuthenticator } from './oidc.js';

export const AUTHENTICATION_FLAGS: FlagSpec[] = [
  { name: 'anonymous-auth', type: 'boolean', default: true, description: 'Enables anonymous requests to the secure port. Requests that are not rejected by another authentication method are treated as anonymous requests (username system:anonymous, group system:unauthenticated).' },
  { name: 'token-auth-file', type: 'string', description: 'If set, the file that will be used to secure the secure port of the API server via token authentication (CSV: token,user,uid,"group1,group2").' },
  { name: 'service-account-key-file', type: 'list', default: [], description: 'PEM-encoded public (or private) keys used to verify ServiceAccount tokens. The file may contain multiple keys.' },
  { name: 'service-account-signing-key-file', type: 'string', description: 'Path to the file that contains the current private key of the service account token issuer. The issuer will sign issued ID tokens with this private key.' },
  { name: 'service-account-issuer', type: 'list', default: [], description: 'Identifier of the service account token issuer (the "iss" claim). The first is used to issue tokens; all are accepted.' },
  { name: 'service-account-jwks-uri', type: 'string', description: 'Overrides the URI for the JSON Web Key Set in the discovery doc served at /.well-known/openid-configuration.' },
  { name: 'service-account-max-token-expiration', type: 'string', description: 'The maximum validity duration of a token created by the service account token issuer (e.g. 48h). Longer requests are issued with this duration.' },
  { name: 'api-audiences', type: 'list', default: [], description: 'Identifiers of the API. Tokens must be meant for at least one of these. Defaults to the first --service-account-issuer.' },
  { name: 'oidc-issuer-url', type: 'string', description: 'The URL of the OpenID issuer, only HTTPS scheme will be accepted. If set, it will be used to verify the OIDC JSON Web Token (JWT).' },
  { name: 'oidc-client-id', type: 'string', description: 'The client ID for the OpenID Connect client, must be set if oidc-issuer-url is set.' },
  { name: 'oidc-username-claim', type: 'string', default: 'sub', description: 'The OpenID claim to use as the user name. Claims other than email are prefixed with the issuer URL unless --oidc-username-prefix is given.' },
  { name: 'oidc-username-prefix', type: 'string', description: 'If provided, all usernames will be prefixed with this value ("-" disables prefixing).' },
  { name: 'oidc-groups-claim', type: 'string', description: 'If provided, the name of a custom OpenID Connect claim for specifying user groups (a string or an array of strings).' },
  { name: 'oidc-groups-prefix', type: 'string', description: 'If provided, all groups will be prefixed with this value.' },
  { name: 'oidc-ca-file', type: 'string', description: "If set, the OpenID server's certificate will be verified by one of the authorities in the oidc-ca-file, otherwise the host's root CA set will be used." },
  { name: 'oidc-required-claim', type: 'list', default: [], description: 'A key=value pair that describes a required claim in the ID Token. Repeat (comma-separated) for several.' },
  { name: 'oidc-signing-algs', type: 'list', default: ['RS256'], description: 'Allowed JOSE asymmetric signing algorithms.' },
];

/** Go's time.ParseDuration for the units a token lifetime uses (h, m, s). */
export function parseDurationSeconds(text: string): number {
  const pattern = /(\d+(?:\.\d+)?)(h|m|s)/g;
  let total = 0;
  let consumed = '';
  for (const match of text.matchAll(pattern)) {
    total += Number(match[1]) * (match[2] === 'h' ? 3600 : match[2] === 'm' ? 60 : 1);
    consumed += match[0];
  }
  if (!text || consumed !== text) throw new FlagError(`invalid duration "${text}"`);
  return Math.floor(total);
}

export interface ServiceAccountTokenOptions {
  issuer: ServiceAccountTokenIssuer;
  apiAudiences: string[];
  /** 0: no maximum. */
  maxExpirationSeconds: number;
  jwksUri?: string;
  verificationKeys: ReturnType<typeof loadVerificationKeys>;
}

function issuers(values: FlagValues): string[] {
  return listFlag(values, 'service-account-issuer');
}

export function apiAudiencesFrom(values: FlagValues): string[] {
  const audiences = listFlag(values, 'api-audiences');
  return audiences.length ? audiences : issuers(values).slice(0, 1);
}

function verificationKeys(values: FlagValues) {
  return listFlag(values, 'service-account-key-file').flatMap((file) => loadVerificationKeys(readFileSync(file, 'utf8')));
}

/** The issuing side (core-apiserver's TokenRequest), when a signing key and an issuer are configured. */
export function serviceAccountTokenOptions(values: FlagValues): ServiceAccountTokenOptions | undefined {
  const signingKeyFile = stringFlag(values, 'service-account-signing-key-file');
  if (!signingKeyFile) return undefined;
  const issuer = issuers(values)[0];
  if (!issuer) throw new FlagError('--service-account-issuer is required with --service-account-signing-key-file');
  const max = stringFlag(values, 'service-account-max-token-expiration');
  const maxExpirationSeconds = max ? parseDurationSeconds(max) : 0;
  if (max && maxExpirationSeconds < 3600) throw new FlagError('the service-account-max-token-expiration must be set longer than 3600 seconds');
  return {
    issuer: new ServiceAccountTokenIssuer(issuer, loadSigningKey(readFileSync(signingKeyFile, 'utf8'))),
    apiAudiences: apiAudiencesFrom(values),
    maxExpirationSeconds,
    jwksUri: stringFlag(values, 'service-account-jwks-uri'),
    verificationKeys: verificationKeys(values),
  };
}

/**
 * Sets the token authenticators, API audiences and anonymous switch of `authentication` from the flags.
 * `objects` is where bound ServiceAccounts, Pods, Secrets and Nodes are looked up.
 */
export function configureBuiltInAuthentication(authentication: AuthenticationConfig, values: FlagValues, objects: ServiceAccountObjects): void {
  const apiAudiences = apiAudiencesFrom(values);
  const authenticators: TokenAuthenticator[] = [];
  const tokenFile = stringFlag(values, 'token-auth-file');
  if (tokenFile) authenticators.push(tokenFileAuthenticator(tokenFile, apiAudiences));
  const keys = verificationKeys(values);
  if (keys.length) {
    if (issuers(values).length === 0) throw new FlagError('--service-account-issuer is required with --service-account-key-file');
    // Legacy Secret-based tokens (issuer kubernetes/serviceaccount) are accepted too, as upstream still does.
    authenticators.push(new ServiceAccountTokenAuthenticator({ issuers: [...issuers(values), LEGACY_ISSUER], keys, apiAudiences, objects }));
  }
  const issuerUrl = stringFlag(values, 'oidc-issuer-url');
  if (issuerUrl) {
    const clientId = stringFlag(values, 'oidc-client-id');
    if (!clientId) throw new FlagError('oidc-client-id must be set if oidc-issuer-url is set');
    const requiredClaims: Record<string, string> = {};
    for (const pair of listFlag(values, 'oidc-required-claim')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new FlagError(`--oidc-required-claim "${pair}" is not key=value`);
      requiredClaims[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    const caFile = stringFlag(values, 'oidc-ca-file');
    authenticators.push(
      oidcTokenAuthenticator(
        {
          issuerUrl,
          clientId,
          usernameClaim: stringFlag(values, 'oidc-username-claim') ?? 'sub',
          usernamePrefix: typeof values['oidc-username-prefix'] === 'string' ? values['oidc-username-prefix'] : undefined,
          groupsClaim: stringFlag(values, 'oidc-groups-claim'),
          groupsPrefix: stringFlag(values, 'oidc-groups-prefix'),
          caPem: caFile ? readFileSync(caFile, 'utf8') : undefined,
          requiredClaims,
          signingAlgorithms: listFlag(values, 'oidc-signing-algs').length ? listFlag(values, 'oidc-signing-algs') : undefined,
        },
        apiAudiences,
      ),
    );
  }
  authentication.tokenAuthenticators = authenticators;
  authentication.apiAudiences = apiAudiences;
  authentication.anonymous = values['anonymous-auth'] !== false;
}
