import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import type { BoundObject, BoundResource, ServiceAccountObjects } from './service-account-token.js';
import { LEGACY_ISSUER, ServiceAccountTokenAuthenticator, ServiceAccountTokenIssuer, keyId, loadSigningKey, loadVerificationKeys } from './service-account-token.js';
import { AuthenticationError } from './token-authenticator.js';

const ISSUER = 'https://kubernetes.default.svc.cluster.local';
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const signing = loadSigningKey(privatePem);
const issuer = new ServiceAccountTokenIssuer(ISSUER, signing);

class Objects implements ServiceAccountObjects {
  synced = true;
  readonly items = new Map<string, BoundObject>();
  readonly tokens = new Map<string, string>();
  legacyToken(namespace: string, secretName: string): string | undefined {
    return this.tokens.get(`${namespace}/${secretName}`);
  }
  get(resource: BoundResource, namespace: string, name: string): BoundObject | undefined {
    return this.items.get(`${resource}/${namespace}/${name}`);
  }
  set(resource: BoundResource, namespace: string, name: string, object: BoundObject | undefined): void {
    if (object) this.items.set(`${resource}/${namespace}/${name}`, object);
    else this.items.delete(`${resource}/${namespace}/${name}`);
  }
}

function setup(now?: () => number) {
  const objects = new Objects();
  objects.set('serviceaccounts', 'ns', 'robot', { uid: 'sa-uid' });
  const authenticator = new ServiceAccountTokenAuthenticator({ issuers: [ISSUER, LEGACY_ISSUER], keys: loadVerificationKeys(privatePem), apiAudiences: [ISSUER], objects, now });
  return { objects, authenticator };
}

const base = { namespace: 'ns', serviceAccount: { name: 'robot', uid: 'sa-uid' }, audiences: [ISSUER], expirationSeconds: 3600 };

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AuthenticationError, `expected an AuthenticationError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('the token was accepted');
}

describe('ServiceAccount tokens', () => {
  it('a good token is the ServiceAccount user with its groups, uid and credential id', async () => {
    const { authenticator } = setup();
    const { token, claims } = await issuer.issue(base);
    assert.equal(claims.sub, 'system:serviceaccount:ns:robot');
    const result = await authenticator.authenticate(token, []);
    assert.deepEqual(result, {
      audiences: [ISSUER],
      user: {
        username: 'system:serviceaccount:ns:robot',
        uid: 'sa-uid',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:ns', 'system:authenticated'],
        extra: { 'authentication.kubernetes.io/credential-id': [`JTI=${claims.jti}`] },
      },
    });
  });

  it('the key id is the base64url SHA-256 of the public key, in the JWT header', async () => {
    const { token } = await issuer.issue(base);
    const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
    assert.deepEqual(header, { alg: 'ES256', kid: keyId(loadVerificationKeys(privatePem)[0].key) });
  });

  it('an expired token is rejected once past the one-minute leeway', async () => {
    const issuedAt = Date.now() - 3 * 3600_000;
    const { authenticator } = setup();
    const { token } = await issuer.issue({ ...base, expirationSeconds: 600 }, new Date(issuedAt));
    assert.equal(await rejection(authenticator.authenticate(token, [])), 'service account token has expired');
  });

  it('a token for another audience is rejected with both audience lists', async () => {
    const { authenticator } = setup();
    const { token } = await issuer.issue({ ...base, audiences: ['vault'] });
    assert.equal(await rejection(authenticator.authenticate(token, [])), `token audiences ["vault"] is invalid for the target audiences ["${ISSUER}"]`);
    const asked = await authenticator.authenticate(token, ['vault', 'other']);
    assert.deepEqual(asked?.audiences, ['vault']);
  });

  it('a token from another issuer is not ours: the next authenticator is asked', async () => {
    const { authenticator } = setup();
    const { token } = await new ServiceAccountTokenIssuer('https://elsewhere.example', signing).issue(base);
    assert.equal(await authenticator.authenticate(token, []), undefined);
    assert.equal(await authenticator.authenticate('not-a-jwt', []), undefined);
  });

  it('a token signed by another key is rejected', async () => {
    const { authenticator } = setup();
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const token = await new SignJWT({ iss: ISSUER, sub: 'system:serviceaccount:ns:robot', aud: [ISSUER] }).setProtectedHeader({ alg: 'ES256' }).sign(other);
    assert.match(await rejection(authenticator.authenticate(token, [])), /error in cryptographic primitive/);
  });

  it('stops working when the ServiceAccount is deleted or recreated', async () => {
    const { authenticator, objects } = setup();
    const { token } = await issuer.issue(base);
    assert.ok(await authenticator.authenticate(token, []));
    objects.set('serviceaccounts', 'ns', 'robot', { uid: 'new-uid' });
    assert.equal(await rejection(authenticator.authenticate(token, [])), 'service account UID (new-uid) does not match claim (sa-uid)');
    objects.set('serviceaccounts', 'ns', 'robot', undefined);
    assert.equal(await rejection(authenticator.authenticate(token, [])), 'serviceaccounts "robot" not found');
  });

  it('a pod-bound token names the pod in extra and dies with the pod', async () => {
    const { authenticator, objects } = setup();
    objects.set('pods', 'ns', 'web', { uid: 'pod-uid' });
    const { token } = await issuer.issue({ ...base, pod: { name: 'web', uid: 'pod-uid' } });
    const result = await authenticator.authenticate(token, []);
    assert.deepEqual(result?.user.extra?.['authentication.kubernetes.io/pod-name'], ['web']);
    assert.deepEqual(result?.user.extra?.['authentication.kubernetes.io/pod-uid'], ['pod-uid']);
    objects.set('pods', 'ns', 'web', { uid: 'pod-uid', deletionTimestamp: new Date(Date.now() - 120_000).toISOString() });
    assert.equal(await rejection(authenticator.authenticate(token, [])), 'service account token has been invalidated');
    objects.set('pods', 'ns', 'web', undefined);
    assert.equal(await rejection(authenticator.authenticate(token, [])), 'service account token has been invalidated');
  });

  it('secret- and node-bound tokens check their objects too', async () => {
    const { authenticator, objects } = setup();
    objects.set('secrets', 'ns', 's', { uid: 'secret-uid' });
    objects.set('nodes', '', 'n1', { uid: 'node-uid' });
    const secretBound = (await issuer.issue({ ...base, secret: { name: 's', uid: 'secret-uid' } })).token;
    const nodeBound = (await issuer.issue({ ...base, node: { name: 'n1', uid: 'node-uid' } })).token;
    assert.ok(await authenticator.authenticate(secretBound, []));
    assert.deepEqual((await authenticator.authenticate(nodeBound, []))?.user.extra?.['authentication.kubernetes.io/node-name'], ['n1']);
    objects.set('secrets', 'ns', 's', { uid: 'other' });
    objects.set('nodes', '', 'n1', undefined);
    assert.match(await rejection(authenticator.authenticate(secretBound, [])), /secret UID \(other\) does not match/);
    assert.equal(await rejection(authenticator.authenticate(nodeBound, [])), 'service account token has been invalidated');
  });

  it('is not fooled before its object cache has synced', async () => {
    const { authenticator, objects } = setup();
    objects.synced = false;
    const { token } = await issuer.issue(base);
    assert.match(await rejection(authenticator.authenticate(token, [])), /has not synced/);
  });

  it('a token issued in the future is not valid yet', async () => {
    const { authenticator } = setup();
    const { token } = await issuer.issue(base, new Date(Date.now() + 3600_000));
    assert.equal(await rejection(authenticator.authenticate(token, [])), 'service account token is not valid yet');
  });

  it('a legacy Secret token is valid only while its Secret holds that very token', async () => {
    const { authenticator, objects } = setup();
    const token = await issuer.issueLegacy('ns', { name: 'robot', uid: 'sa-uid' }, 'robot-token');
    objects.set('secrets', 'ns', 'robot-token', { uid: 'secret-uid' });
    objects.tokens.set('ns/robot-token', token);
    const result = await authenticator.authenticate(token, []);
    assert.deepEqual(result, { audiences: [ISSUER], user: { username: 'system:serviceaccount:ns:robot', uid: 'sa-uid', groups: ['system:serviceaccounts', 'system:serviceaccounts:ns', 'system:authenticated'] } });
    objects.tokens.set('ns/robot-token', 'another-token');
    assert.equal(await rejection(authenticator.authenticate(token, [])), "Token does not match server's copy");
    objects.set('secrets', 'ns', 'robot-token', undefined);
    assert.equal(await rejection(authenticator.authenticate(token, [])), 'Token has been invalidated');
  });
});
