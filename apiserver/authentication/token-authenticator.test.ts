import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TokenAuthenticator } from './token-authenticator.js';
import { AuthenticationError, audienceAgnostic, authenticateToken } from './token-authenticator.js';
import { delegatingTokenAuthenticator } from './delegating.js';

const rejecting = (message: string): TokenAuthenticator => ({
  name: message,
  authenticate: async () => {
    throw new AuthenticationError(message);
  },
});
const accepting = (username: string): TokenAuthenticator => audienceAgnostic({ name: username, authenticate: async (token) => (token === 'good' ? { username, groups: [] } : undefined) }, ['api']);

describe('token authenticator union', () => {
  it('the first acceptance wins, even after a rejection', async () => {
    const result = await authenticateToken([rejecting('a'), accepting('alice')], 'good', []);
    assert.equal(result?.user.username, 'alice');
    assert.deepEqual(result?.audiences, ['api']);
  });

  it('an unrecognised token is undefined; rejections are aggregated as upstream prints them', async () => {
    assert.equal(await authenticateToken([accepting('alice')], 'other', []), undefined);
    await assert.rejects(authenticateToken([rejecting('one')], 'x', []), { message: 'one' });
    await assert.rejects(authenticateToken([rejecting('one'), rejecting('two')], 'x', []), { message: '[one, two]' });
  });

  it('audience-agnostic authenticators grant the audiences asked for', async () => {
    assert.deepEqual((await authenticateToken([accepting('alice')], 'good', ['vault']))?.audiences, ['vault']);
  });
});

describe('delegating (TokenReview) authenticator', () => {
  it('asks once per token within the TTL, caching acceptances and rejections', async () => {
    let calls = 0;
    const authenticator = delegatingTokenAuthenticator(async (token) => {
      calls++;
      return token === 'good' ? { authenticated: true, user: { username: 'bob', groups: ['g'] }, audiences: ['api'] } : { authenticated: false, error: 'nope' };
    });
    assert.equal((await authenticator.authenticate('good', []))?.user.username, 'bob');
    assert.equal((await authenticator.authenticate('good', []))?.user.username, 'bob');
    await assert.rejects(authenticator.authenticate('bad', []), { message: 'nope' });
    await assert.rejects(authenticator.authenticate('bad', []), { message: 'nope' });
    assert.equal(calls, 2);
    authenticator.cache.close();
  });

  it('does not cache a failed review call', async () => {
    let calls = 0;
    const authenticator = delegatingTokenAuthenticator(async () => {
      calls++;
      throw new Error('connection refused');
    });
    await assert.rejects(authenticator.authenticate('t', []), /token review failed: connection refused/);
    await assert.rejects(authenticator.authenticate('t', []));
    assert.equal(calls, 2);
    authenticator.cache.close();
  });
});
