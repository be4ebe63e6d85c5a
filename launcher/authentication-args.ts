// The authentication flags the launcher hands to the aggregator and core-apiserver: the ones the user gave
// `npm start` (token file, OIDC, anonymous, audiences …) plus the ServiceAccount token keys and issuer from
// the launcher's PKI unless the user named others. Core signs tokens; both verify them.

import type { FlagValues } from '../apiserver/server/flags.js';
import { AUTHENTICATION_FLAGS } from '../apiserver/authentication/options.js';
import type { PkiPaths } from './pki.js';

export const DEFAULT_SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

// Issuing belongs to core alone.
const CORE_ONLY = new Set(['service-account-signing-key-file', 'service-account-max-token-expiration', 'service-account-jwks-uri']);

export function authenticationValues(values: FlagValues, pki: PkiPaths, component: 'aggregator' | 'core-apiserver'): FlagValues {
  const result: FlagValues = {};
  for (const spec of AUTHENTICATION_FLAGS) {
    const value = values[spec.name];
    if (value === undefined || (Array.isArray(value) && value.length === 0)) continue;
    if (component === 'aggregator' && CORE_ONLY.has(spec.name)) continue;
    result[spec.name] = value;
  }
  if (!result['service-account-key-file']) result['service-account-key-file'] = [pki.serviceAccountPub];
  if (!result['service-account-issuer']) result['service-account-issuer'] = [DEFAULT_SERVICE_ACCOUNT_ISSUER];
  if (component === 'core-apiserver' && !result['service-account-signing-key-file']) result['service-account-signing-key-file'] = pki.serviceAccountKey;
  return result;
}

export function asArgs(values: FlagValues): string[] {
  return Object.entries(values)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `--${name}=${Array.isArray(value) ? value.join(',') : String(value)}`);
}
