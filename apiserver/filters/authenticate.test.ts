import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { authenticate, type AuthenticationConfig } from './authenticate.js';
import { StatusError } from '../request/status.js';
import { audienceAgnostic } from '../authentication/token-authenticator.js';

function request(headers: Record<string, string> = {}): IncomingMessage {
  const lower = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  return { headers: lower, headersDistinct: Object.fromEntries(Object.entries(lower).map(([name, value]) => [name, [value]])), socket: {} } as unknown as IncomingMessage;
}

const tokens = audienceAgnostic({ name: 'test', authenticate: async (token) => (token === 'good' ? { username: 'alice', groups: ['devs'] } : undefined) }, ['api']);
const config = (extra: Partial<AuthenticationConfig> = {}): AuthenticationConfig => ({ clientCa: [], untrustedIdentityHeaders: 'strip', tokenAuthenticators: [tokens], ...extra });

async function status(promise: Promise<unknown>): Promise<StatusError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof StatusError);
    return error;
  }
  assert.fail('authenticated');
}

describe('the authentication filter', () => {
  it('a good bearer token is its user plus system:authenticated, and the credential is not passed on', async () => {
    const req = request({ Authorization: 'Bearer good' });
    assert.deepEqual(await authenticate(req, config()), { username: 'alice', groups: ['devs', 'system:authenticated'] });
    assert.equal(req.headers.authorization, undefined);
  });

  it('an unknown token is 401 Unauthorized, not anonymous', async () => {
    const error = await status(authenticate(request({ Authorization: 'Bearer bad' }), config()));
    assert.deepEqual(error.toStatus(), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', details: undefined, code: 401 });
  });

  it('no credentials: anonymous unless --anonymous-auth=false', async () => {
    assert.deepEqual(await authenticate(request(), config()), { username: 'system:anonymous', groups: ['system:unauthenticated'] });
    assert.deepEqual(await authenticate(request({ Authorization: 'Bearer ' }), config()), { username: 'system:anonymous', groups: ['system:unauthenticated'] });
    assert.equal((await status(authenticate(request(), config({ anonymous: false })))).code, 401);
  });
});
