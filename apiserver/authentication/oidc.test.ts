import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OidcAuthenticator } from './oidc.js';
import { AuthenticationError } from './token-authenticator.js';
import { startTestIssuer, type TestIssuer } from './test-oidc-issuer.js';

let issuer: TestIssuer;
before(async () => {
  issuer = await startTestIssuer();
});
after(() => issuer.close());

function authenticator(options: Partial<ConstructorParameters<typeof OidcAuthenticator>[0]> = {}): OidcAuthenticator {
  return new OidcAuthenticator({ issuerUrl: issuer.url, clientId: 'kubernetes', caPem: issuer.caPem, ...options });
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AuthenticationError, `expected an AuthenticationError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('the token was accepted');
}

describe('OIDC ID tokens', () => {
  it('a good token: sub prefixed with the issuer URL and #, groups from the groups claim with their prefix', async () => {
    const token = await issuer.sign({ sub: 'jane', aud: 'kubernetes', groups: ['eng', 'ops'] });
    const user = await authenticator({ groupsClaim: 'groups', groupsPrefix: 'oidc:' }).authenticate(token);
    assert.deepEqual(user, { username: `${issuer.url}#jane`, groups: ['oidc:eng', 'oidc:ops'] });
  });

  it('an email username is not prefixed, and must be verified when the issuer says', async () => {
    const oidc = authenticator({ usernameClaim: 'email' });
    assert.equal((await oidc.authenticate(await issuer.sign({ sub: 'x', aud: 'kubernetes', email: 'jane@example.com', email_verified: true })))?.username, 'jane@example.com');
    assert.equal(await rejection(oidc.authenticate(await issuer.sign({ sub: 'x', aud: 'kubernetes', email: 'jane@example.com', email_verified: false }))), 'oidc: email not verified');
  });

  it('--oidc-username-prefix replaces the default, and "-" disables it', async () => {
    const token = await issuer.sign({ sub: 'jane', aud: 'kubernetes' });
    assert.equal((await authenticator({ usernamePrefix: 'oidc:' }).authenticate(token))?.username, 'oidc:jane');
    assert.equal((await authenticator({ usernamePrefix: '-' }).authenticate(token))?.username, 'jane');
  });

  it('rejects an expired token and one for another client', async () => {
    assert.match(await rejection(authenticator().authenticate(await issuer.sign({ sub: 'jane', aud: 'kubernetes' }, { expiresInSeconds: -60 }))), /token is expired/);
    assert.match(await rejection(authenticator().authenticate(await issuer.sign({ sub: 'jane', aud: 'other-client' }))), /expected audience "kubernetes"/);
  });

  it('a token from another issuer is left to other authenticators', async () => {
    assert.equal(await authenticator().authenticate(await issuer.sign({ sub: 'jane', aud: 'kubernetes', iss: 'https://elsewhere.example' })), undefined);
  });

  it('checks required claims', async () => {
    const oidc = authenticator({ requiredClaims: { hd: 'example.com' } });
    assert.ok(await oidc.authenticate(await issuer.sign({ sub: 'jane', aud: 'kubernetes', hd: 'example.com' })));
    assert.match(await rejection(oidc.authenticate(await issuer.sign({ sub: 'jane', aud: 'kubernetes', hd: 'evil.com' }))), /required claim hd value does not match/);
    assert.match(await rejection(oidc.authenticate(await issuer.sign({ sub: 'jane', aud: 'kubernetes' }))), /required claim hd not present/);
  });

  it('fetches the key set again when a token names an unknown key (rotation), not on every request', async () => {
    const oidc = authenticator();
    await oidc.authenticate(await issuer.sign({ sub: 'jane', aud: 'kubernetes' }));
    const fetches = issuer.jwksFetches;
    await oidc.authenticate(await issuer.sign({ sub: 'jane', aud: 'kubernetes' }));
    assert.equal(issuer.jwksFetches, fetches, 'the cached key set serves a known kid');
    await issuer.rotate();
    // The refetch is rate-limited; wait past the limit.
    await new Promise((resolve) => setTimeout(resolve, 5_100));
    const user = await oidc.authenticate(await issuer.sign({ sub: 'rotated', aud: 'kubernetes' }));
    assert.equal(user?.username, `${issuer.url}#rotated`);
    assert.equal(issuer.jwksFetches, fetches + 1);
  });

  it('without the issuer CA the discovery fetch fails and the token is rejected', async () => {
    const oidc = authenticator({ caPem: undefined });
    assert.match(await rejection(oidc.authenticate(await issuer.sign({ sub: 'jane', aud: 'kubernetes' }))), /authenticator not initialized/);
  });
});
