import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject, UserInfo } from '../registry/object.js';
import { parseRequestInfo } from '../request/request-info.js';
import type { RequestInfo } from '../request/request-info.js';
import { compactRules, compactString, covers, ruleAllows, type PolicyRule } from './policy-rules.js';
import { RbacIndex } from './rbac-index.js';
import { clusterAuthorizer, rbacAuthorizer, rbacRuleResolver } from './rbac-authorizer.js';

const request = (method: string, path: string): RequestInfo => parseRequestInfo(method, path, new URLSearchParams());
const user = (username: string, ...groups: string[]): UserInfo => ({ username, groups: [...groups, 'system:authenticated'] });

function clusterRole(name: string, rules: PolicyRule[]): KubeObject {
  return { metadata: { name }, rules };
}
function binding(name: string, roleRef: { kind: string; name: string }, subjects: Record<string, string>[], namespace?: string): KubeObject {
  return { metadata: { name, ...(namespace ? { namespace } : {}) }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...roleRef }, subjects };
}

describe('rule matching', () => {
  it('matches verbs, groups and resources, with * wildcards', () => {
    const rule: PolicyRule = { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] };
    assert.equal(ruleAllows(request('GET', '/api/v1/namespaces/a/pods/p'), rule), true);
    assert.equal(ruleAllows(request('GET', '/api/v1/namespaces/a/pods'), rule), true);
    assert.equal(ruleAllows(request('DELETE', '/api/v1/namespaces/a/pods/p'), rule), false);
    assert.equal(ruleAllows(request('GET', '/apis/apps/v1/namespaces/a/deployments'), rule), false);
    assert.equal(ruleAllows(request('DELETE', '/apis/apps/v1/namespaces/a/deployments/d'), { verbs: ['*'], apiGroups: ['*'], resources: ['*'] }), true);
  });

  it('treats a subresource as resource/subresource, and */subresource as that subresource of everything', () => {
    const status = request('PUT', '/api/v1/namespaces/a/pods/p/status');
    assert.equal(ruleAllows(status, { verbs: ['update'], apiGroups: [''], resources: ['pods'] }), false);
    assert.equal(ruleAllows(status, { verbs: ['update'], apiGroups: [''], resources: ['pods/status'] }), true);
    assert.equal(ruleAllows(status, { verbs: ['update'], apiGroups: [''], resources: ['*/status'] }), true);
    assert.equal(ruleAllows(status, { verbs: ['update'], apiGroups: [''], resources: ['*/scale'] }), false);
    assert.equal(ruleAllows(request('PUT', '/api/v1/namespaces/a/pods/p'), { verbs: ['update'], apiGroups: [''], resources: ['*/status'] }), false);
  });

  it('restricts by resourceNames (a list has no name, so it does not match)', () => {
    const rule: PolicyRule = { verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['settings'] };
    assert.equal(ruleAllows(request('GET', '/api/v1/namespaces/a/configmaps/settings'), rule), true);
    assert.equal(ruleAllows(request('GET', '/api/v1/namespaces/a/configmaps/other'), rule), false);
    assert.equal(ruleAllows(request('GET', '/api/v1/namespaces/a/configmaps'), rule), false);
  });

  it('matches nonResourceURLs exactly or by a trailing * prefix', () => {
    const rule: PolicyRule = { verbs: ['get'], nonResourceURLs: ['/healthz', '/logs/*'] };
    assert.equal(ruleAllows(request('GET', '/healthz'), rule), true);
    assert.equal(ruleAllows(request('GET', '/healthz/etcd'), rule), false);
    assert.equal(ruleAllows(request('GET', '/logs/kube.log'), rule), true);
    assert.equal(ruleAllows(request('POST', '/logs/kube.log'), rule), false);
    assert.equal(ruleAllows(request('GET', '/api/v1/namespaces/a/pods'), rule), false);
  });
});

describe('coverage', () => {
  it('finds the atoms the owner does not hold and prints them as upstream does', () => {
    const owner: PolicyRule[] = [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', '*/status'] }];
    assert.equal(covers(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['pods', 'services/status'] }]).covered, true);
    const { covered, missing } = covers(owner, [{ verbs: ['get', 'delete', 'update'], apiGroups: [''], resources: ['pods', 'secrets'] }]);
    assert.equal(covered, false);
    const text = compactRules(missing).map(compactString).sort();
    assert.deepEqual(text, ['{APIGroups:[""], Resources:["pods"], Verbs:["delete" "update"]}', '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "delete" "update"]}']);
  });

  it('a rule limited to names does not cover the unrestricted rule, and the reverse does', () => {
    const named: PolicyRule = { verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] };
    const all: PolicyRule = { verbs: ['get'], apiGroups: [''], resources: ['secrets'] };
    assert.equal(covers([named], [all]).covered, false);
    assert.equal(covers([all], [named]).covered, true);
    assert.equal(covers([{ verbs: ['get'], nonResourceURLs: ['/metrics*'] }], [{ verbs: ['get'], nonResourceURLs: ['/metrics/slis'] }]).covered, true);
    assert.equal(compactString({ verbs: ['get'], nonResourceURLs: ['/x'] }), '{NonResourceURLs:["/x"], Verbs:["get"]}');
  });
});

describe('the RBAC authorizer', () => {
  function index(): RbacIndex {
    const rbac = new RbacIndex();
    rbac.apply('clusterroles', 'ADDED', clusterRole('view', [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }]));
    rbac.apply('clusterroles', 'ADDED', clusterRole('discovery', [{ verbs: ['get'], nonResourceURLs: ['/api', '/api/*'] }]));
    rbac.apply('clusterrolebindings', 'ADDED', binding('discovery', { kind: 'ClusterRole', name: 'discovery' }, [{ kind: 'Group', name: 'system:authenticated' }]));
    rbac.apply('rolebindings', 'ADDED', binding('bob-view', { kind: 'ClusterRole', name: 'view' }, [{ kind: 'User', name: 'bob' }], 'team-a'));
    rbac.apply('roles', 'ADDED', { metadata: { name: 'deployer', namespace: 'team-a' }, rules: [{ verbs: ['create'], apiGroups: ['apps'], resources: ['deployments'] }] });
    rbac.apply('rolebindings', 'ADDED', binding('ci', { kind: 'Role', name: 'deployer' }, [{ kind: 'ServiceAccount', name: 'ci' }], 'team-a'));
    return rbac;
  }

  it('a RoleBinding to a ClusterRole grants it in that namespace only, and says which binding allowed', async () => {
    const authorize = rbacAuthorizer(index());
    const allowed = await authorize(user('bob'), request('GET', '/api/v1/namespaces/team-a/pods'));
    assert.deepEqual(allowed, { allowed: true, reason: 'RBAC: allowed by RoleBinding "bob-view/team-a" of ClusterRole "view" to User "bob"' });
    assert.equal((await authorize(user('bob'), request('GET', '/api/v1/namespaces/team-b/pods'))).allowed, false);
    assert.equal((await authorize(user('bob'), request('GET', '/api/v1/pods'))).allowed, false);
    assert.equal((await authorize(user('carol'), request('GET', '/api/v1/namespaces/team-a/pods'))).allowed, false);
  });

  it('a ServiceAccount subject without a namespace is the binding namespace\'s, matched by its user name', async () => {
    const authorize = rbacAuthorizer(index());
    const create = request('POST', '/apis/apps/v1/namespaces/team-a/deployments');
    assert.equal((await authorize(user('system:serviceaccount:team-a:ci'), create)).allowed, true);
    assert.equal((await authorize(user('system:serviceaccount:team-b:ci'), create)).allowed, false);
  });

  it('groups and nonResourceURLs: discovery for every authenticated user', async () => {
    const authorize = rbacAuthorizer(index());
    assert.equal((await authorize(user('anyone'), request('GET', '/api/v1'))).allowed, true);
    assert.equal((await authorize({ username: 'system:anonymous', groups: ['system:unauthenticated'] }, request('GET', '/api/v1'))).allowed, false);
  });

  it('a denial names the roles that could not be found, as upstream appends to the 403', async () => {
    const rbac = index();
    rbac.apply('rolebindings', 'ADDED', binding('dangling', { kind: 'ClusterRole', name: 'nope' }, [{ kind: 'User', name: 'carol' }], 'team-a'));
    rbac.apply('rolebindings', 'ADDED', binding('dangling-role', { kind: 'Role', name: 'gone' }, [{ kind: 'User', name: 'carol' }], 'team-a'));
    const decision = await rbacAuthorizer(rbac)(user('carol'), request('GET', '/api/v1/namespaces/team-a/pods'));
    assert.deepEqual(decision, { allowed: false, reason: 'RBAC: [clusterrole.rbac.authorization.k8s.io "nope" not found, role.rbac.authorization.k8s.io "gone" not found]' });
  });

  it('deleting a binding or role takes the permission away', async () => {
    const rbac = index();
    const authorize = rbacAuthorizer(rbac);
    const list = request('GET', '/api/v1/namespaces/team-a/pods');
    rbac.apply('clusterroles', 'DELETED', clusterRole('view', []));
    assert.match((await authorize(user('bob'), list)).reason ?? '', /clusterrole.rbac.authorization.k8s.io "view" not found/);
    rbac.apply('rolebindings', 'DELETED', binding('bob-view', { kind: 'ClusterRole', name: 'view' }, [], 'team-a'));
    assert.deepEqual(await authorize(user('bob'), list), { allowed: false });
  });

  it('system:masters is allowed without any RBAC data', async () => {
    const authorize = clusterAuthorizer(new RbacIndex());
    assert.deepEqual(await authorize({ username: 'admin', groups: ['system:masters'] }, request('DELETE', '/api/v1/nodes/n')), { allowed: true });
    assert.equal((await authorize(user('bob'), request('GET', '/api/v1/nodes'))).allowed, false);
  });

  it('lists the rules that apply for SelfSubjectRulesReview', () => {
    const review = rbacRuleResolver(index())(user('bob'), 'team-a');
    assert.deepEqual(review.resourceRules, [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }]);
    assert.deepEqual(review.nonResourceRules, [{ verbs: ['get'], nonResourceURLs: ['/api', '/api/*'] }]);
    assert.equal(review.incomplete, false);
  });
});
