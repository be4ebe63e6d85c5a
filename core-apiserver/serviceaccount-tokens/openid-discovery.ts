// ServiceAccount issuer discovery, as upstream serves it: /.well-known/openid-configuration names the
// issuer and the key set's URL, /openid/v1/jwks holds the verification keys, so anyone trusting the issuer
// (an OIDC-aware service outside the cluster) can verify ServiceAccount tokens. Who may read them is up to
// authorization (upstream binds system:service-account-issuer-discovery to system:serviceaccounts).

import { exportJWK, type JWK } from 'jose';
import type { ExtraRoute } from '../../apiserver/server/api-server.js';
import type { ServiceAccountTokenOptions } from '../../apiserver/authentication/options.js';

const CONFIGURATION_PATH = '/.well-known/openid-configuration';
const JWKS_PATH = '/openid/v1/jwks';

function algorithm(jwk: JWK): string {
  if (jwk.kty === 'RSA') return 'RS256';
  return jwk.crv === 'P-384' ? 'ES384' : jwk.crv === 'P-521' ? 'ES512' : 'ES256';
}

export async function openIdDiscoveryRoute(options: ServiceAccountTokenOptions, externalAddress: string): Promise<ExtraRoute | undefined> {
  // Upstream serves discovery only for an issuer that is an https URL (it is what relying parties fetch).
  let issuerUrl: URL;
  try {
    issuerUrl = new URL(options.issuer.issuer);
  } catch {
    return undefined;
  }
  if (issuerUrl.protocol !== 'https:') return undefined;
  const keys: JWK[] = [];
  for (const { key, kid } of options.verificationKeys) {
    const jwk = await exportJWK(key);
    keys.push({ use: 'sig', kty: jwk.kty, kid, alg: algorithm(jwk), ...jwk });
  }
  const configuration = JSON.stringify({
    issuer: options.issuer.issuer,
    jwks_uri: options.jwksUri ?? `https://${externalAddress}${JWKS_PATH}`,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...new Set(keys.map((key) => key.alg!))].sort(),
  });
  const keySet = JSON.stringify({ keys });
  return async (req, res, state) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = state.info.path.replace(/\/$/, '');
    const body = path === CONFIGURATION_PATH ? configuration : path === JWKS_PATH ? keySet : undefined;
    if (body === undefined) return false;
    res.writeHead(200, {
      'Content-Type': path === JWKS_PATH ? 'application/jwk-set+json' : 'application/json',
      'Cache-Control': 'public, max-age=3600',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
