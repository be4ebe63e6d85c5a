// An OpenID Connect issuer for tests: HTTPS on loopback with its own CA, serving discovery and a JWKS, and
// signing ID tokens with jose. Keys can be rotated to exercise refetch-on-unknown-kid.

import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload, type CryptoKey } from 'jose';
import { createCertificateAuthority, issueCertificate } from '../../launcher/pki.js';

export interface TestIssuer {
  url: string;
  caPem: string;
  /** How many times the JWKS was fetched. */
  jwksFetches: number;
  sign(claims: JWTPayload, options?: { expiresInSeconds?: number; kid?: string }): Promise<string>;
  /** A new signing key; the old one stays published unless `dropOld`. */
  rotate(dropOld?: boolean): Promise<void>;
  close(): Promise<void>;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const ca = await createCertificateAuthority('test-oidc-ca');
  const serving = await issueCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, commonName: 'oidc', usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const keys: { kid: string; privateKey: CryptoKey; jwk: JWK }[] = [];
  const addKey = async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    const kid = `key-${keys.length + 1}`;
    keys.push({ kid, privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'RS256', use: 'sig' } });
  };
  await addKey();
  let url = '';
  const issuer: TestIssuer = {
    url: '',
    caPem: ca.certPem,
    jwksFetches: 0,
    async sign(claims, options = {}) {
      const key = options.kid ? keys.find((candidate) => candidate.kid === options.kid)! : keys[keys.length - 1];
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: url, iat: now, exp: now + (options.expiresInSeconds ?? 600), ...claims }).setProtectedHeader({ alg: 'RS256', kid: key.kid }).sign(key.privateKey);
    },
    async rotate(dropOld = false) {
      await addKey();
      if (dropOld) keys.splice(0, keys.length - 1);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  // The published key set is fixed until the next fetch after a rotation (so a test can see a refetch).
  let published: JWK[] = keys.map((key) => key.jwk);
  const server = https.createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ issuer: url, jwks_uri: `${url}/keys`, response_types_supported: ['id_token'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256'] }));
      return;
    }
    if (req.url === '/keys') {
      issuer.jwksFetches++;
      published = keys.map((key) => key.jwk);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ keys: published }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer.url = url;
  return issuer;
}
