import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRequestInfo } from '../request/request-info.js';
import type { ApiClient } from './kubeconfig-client.js';
import { delegatingAuthorizer } from './delegating-authorizer.js';

const request = (method: string, path: string) => parseRequestInfo(method, path, new URLSearchParams());

function fakeCore(answer: (spec: Record<string, any>) => { status: number; body: Record<string, unknown> } | Error): ApiClient & { reviews: Record<string, any>[] } {
  const reviews: Record<string, any>[] = [];
  return {
    server: 'https://core.test',
    reviews,
    async post(path, body) {
      assert.equal(path, '/apis/authorization.k8s.io/v1/subjectaccessreviews');
      const spec = (body as { spec: Record<string, any> }).spec;
      reviews.push(spec);
      const result = answer(spec);
      if (result instanceof Error) throw result;
      return result;
    },
  };
}

describe('delegated authorization', () => {
  it('asks core once per request shape and caches allowed and denied answers', async () => {
    const core = fakeCore((spec) => ({ status: 201, body: { status: spec.resourceAttributes?.verb === 'list' ? { allowed: true, reason: 'RBAC: allowed by x' } : { allowed: false } } }));
    const authorize = delegatingAuthorizer({ client: core });
    const bob = { username: 'bob', groups: ['system:authenticated'], extra: { scopes: ['a'] } };
    const list = request('GET', '/apis/example.com/v1/namespaces/a/widgets');
    assert.deepEqual(await authorize(bob, list), { allowed: true, reason: 'RBAC: allowed by x' });
    assert.deepEqual(await authorize(bob, list), { allowed: true, reason: 'RBAC: allowed by x' });
    const remove = request('DELETE', '/apis/example.com/v1/namespaces/a/widgets/w');
    assert.equal((await authorize(bob, remove)).allowed, false);
    assert.equal((await authorize(bob, remove)).allowed, false);
    assert.equal(core.reviews.length, 2);
    assert.deepEqual(core.reviews[0], {
      user: 'bob',
      groups: ['system:authenticated'],
      extra: { scopes: ['a'] },
      resourceAttributes: { namespace: 'a', verb: 'list', group: 'example.com', version: 'v1', resource: 'widgets', subresource: '', name: '' },
    });
  });

  it('answers health paths and system:masters without a review', async () => {
    const core = fakeCore(() => new Error('must not be called'));
    const authorize = delegatingAuthorizer({ client: core });
    assert.equal((await authorize({ username: 'system:anonymous', groups: ['system:unauthenticated'] }, request('GET', '/readyz'))).allowed, true);
    assert.equal((await authorize({ username: 'admin', groups: ['system:masters'] }, request('DELETE', '/apis/example.com/v1/widgets'))).allowed, true);
    assert.equal(core.reviews.length, 0);
  });

  it('a failed review is an error (a 500 for the request), not cached', async () => {
    let fail = true;
    const core = fakeCore(() => (fail ? { status: 403, body: { message: 'subjectaccessreviews is forbidden' } } : { status: 201, body: { status: { allowed: true } } }));
    const authorize = delegatingAuthorizer({ client: core });
    const get = request('GET', '/version/');
    const first = await authorize({ username: 'bob', groups: [] }, get);
    assert.equal(first.allowed, false);
    assert.match(first.error ?? '', /answered 403: subjectaccessreviews is forbidden/);
    fail = false;
    assert.equal((await authorize({ username: 'bob', groups: [] }, get)).allowed, true);
    assert.deepEqual(core.reviews[1].nonResourceAttributes, { path: '/version/', verb: 'get' });
  });
});
