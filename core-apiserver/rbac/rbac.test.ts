import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject, UserInfo } from '../../apiserver/registry/object.js';
import type { WriteContext } from '../../apiserver/registry/store.js';
import { MemoryStorage } from '../../apiserver/storage/memory.js';
import { StatusError } from '../../apiserver/request/status.js';
import { RbacIndex } from '../../apiserver/authorization/rbac-index.js';
import { clusterAuthorizer } from '../../apiserver/authorization/rbac-authorizer.js';
import { parseRequestInfo } from '../../apiserver/request/request-info.js';
import { clusterRoleBindings, clusterRoles, roleBindings, roles } from '../resources/infra/rbac.js';
import { EscalationCheck } from './escalation.js';
import { PolicyBasedStore } from './policy-based-store.js';
import { feedIndexFromStores } from './local-index.js';
import { reconcileBootstrapPolicy, type RbacStores } from './reconcile.js';
import { ClusterRoleAggregationController } from './aggregation-controller.js';

const storage = new MemoryStorage();
const index = new RbacIndex();
const authorizer = clusterAuthorizer(index);
const escalation = new EscalationCheck({ index, authorizer });
const stores: RbacStores = {
  roles: new PolicyBasedStore(roles, storage, {}, escalation),
  clusterroles: new PolicyBasedStore(clusterRoles, storage, {}, escalation),
  rolebindings: new PolicyBasedStore(roleBindings, storage, {}, escalation),
  clusterrolebindings: new PolicyBasedStore(clusterRoleBindings, storage, {}, escalation),
};
const aggregation = new ClusterRoleAggregationController(stores.clusterroles);
let feed: { stop(): void };

const ADMIN: UserInfo = { username: 'admin', groups: ['system:masters', 'system:authenticated'] };
const BOB: UserInfo = { username: 'bob', groups: ['system:authenticated'] };

function as(user: UserInfo, namespace = ''): WriteContext {
  return { user, namespace, warnings: [], dryRun: false, fieldManager: 'test', fieldValidation: 'Ignore' };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  await aggregation.sync();
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

async function rejection(promise: Promise<unknown>): Promise<StatusError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StatusError) return error;
    throw error;
  }
  assert.fail('expected the write to be rejected');
}

const role = (name: string, namespace: string, rules: unknown[]): KubeObject => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace }, rules });
const roleBinding = (name: string, namespace: string, roleRef: { kind: string; name: string }, username: string): KubeObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name, namespace },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...roleRef },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: username }],
});

before(async () => {
  for (const store of Object.values(stores)) await store.cache.start();
  feed = feedIndexFromStores(index, stores);
  await reconcileBootstrapPolicy(stores);
  await aggregation.start();
  await settle();
});

after(async () => {
  feed.stop();
  aggregation.stop();
  for (const store of Object.values(stores)) store.cache.stop();
  await storage.close();
});

describe('bootstrap policy', () => {
  it('creates cluster-admin bound to system:masters and the discovery roles bound as upstream', async () => {
    const binding = await stores.clusterrolebindings.getObject('', 'cluster-admin');
    assert.deepEqual(binding.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:masters' }]);
    const publicInfo = await stores.clusterrolebindings.getObject('', 'system:public-info-viewer');
    assert.deepEqual(publicInfo.subjects.map((subject: { name: string }) => subject.name), ['system:authenticated', 'system:unauthenticated']);
    const reader = await stores.roles.getObject('kube-system', 'extension-apiserver-authentication-reader');
    assert.deepEqual(reader.rules[0].resourceNames, ['extension-apiserver-authentication']);
  });

  it('aggregates view into edit into admin', async () => {
    const view = await stores.clusterroles.getObject('', 'view');
    const edit = await stores.clusterroles.getObject('', 'edit');
    const admin = await stores.clusterroles.getObject('', 'admin');
    assert.ok(view.rules.some((rule: { resources: string[] }) => rule.resources?.includes('pods')));
    assert.ok(!view.rules.some((rule: { resources: string[] }) => rule.resources?.includes('secrets')), 'view does not read secrets');
    assert.ok(edit.rules.length > view.rules.length);
    assert.ok(admin.rules.some((rule: { resources: string[] }) => rule.resources?.includes('rolebindings')));
  });

  it('restores what was removed from an autoupdate role, and leaves autoupdate=false roles alone', async () => {
    await stores.clusterroles.guaranteedUpdate('system:basic-user', as(ADMIN), '', undefined, (current) => ({ ...current!, rules: [] }));
    await stores.clusterroles.guaranteedUpdate('system:heapster', as(ADMIN), '', undefined, (current) => ({ ...current!, metadata: { ...current!.metadata, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'false' } }, rules: [] }));
    await reconcileBootstrapPolicy(stores);
    // Upstream appends the missing rules broken down to one group/resource/verb each.
    const restored = (await stores.clusterroles.getObject('', 'system:basic-user')).rules;
    assert.deepEqual(restored.map((rule: { resources: string[] }) => rule.resources[0]).sort(), ['selfsubjectaccessreviews', 'selfsubjectreviews', 'selfsubjectrulesreviews']);
    assert.deepEqual((await stores.clusterroles.getObject('', 'system:heapster')).rules, []);
  });

  it('a ClusterRole labelled aggregate-to-view extends view, and leaving the label off removes it again', async () => {
    const widgets = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'widget-viewer', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }, rules: [{ apiGroups: ['example.com'], resources: ['widgets'], verbs: ['get'] }] };
    await stores.clusterroles.create(widgets, as(ADMIN));
    await settle();
    const has = async (name: string) => (await stores.clusterroles.getObject('', name)).rules.some((rule: { apiGroups: string[] }) => rule.apiGroups?.includes('example.com'));
    assert.equal(await has('view'), true);
    assert.equal(await has('admin'), true);
    await stores.clusterroles.guaranteedUpdate('widget-viewer', as(ADMIN), '', undefined, (current) => ({ ...current!, metadata: { ...current!.metadata, labels: {} } }));
    await settle();
    assert.equal(await has('view'), false);
  });
});

describe('privilege escalation', () => {
  before(async () => {
    await stores.rolebindings.create(roleBinding('bob-admin', 'team-a', { kind: 'ClusterRole', name: 'admin' }, 'bob'), as(ADMIN, 'team-a'));
    await settle();
  });

  it('a namespace admin may create a Role with permissions they hold', async () => {
    await stores.roles.create(role('pod-reader', 'team-a', [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }]), as(BOB, 'team-a'));
  });

  it('granting what one does not hold is refused with upstream\'s message', async () => {
    const error = await rejection(stores.roles.create(role('node-reader', 'team-a', [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] }]), as(BOB, 'team-a')));
    assert.equal(error.code, 403);
    assert.equal(
      error.message,
      'roles.rbac.authorization.k8s.io "node-reader" is forbidden: user "bob" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["get" "list"]}',
    );
    // The same user in another namespace holds nothing there.
    const elsewhere = await rejection(stores.roles.create(role('pod-reader', 'team-b', [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }]), as(BOB, 'team-b')));
    assert.equal(elsewhere.code, 403);
  });

  it('an update that adds permissions is checked too', async () => {
    const error = await rejection(
      stores.roles.guaranteedUpdate('pod-reader', as(BOB, 'team-a'), '', undefined, (current) => ({ ...current!, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] })),
    );
    assert.equal(error.code, 403);
    assert.match(error.message, /\{APIGroups:\["\*"\], Resources:\["\*"\], Verbs:\["\*"\]\}/);
  });

  it('binding a role one does not hold is refused, unless one may `bind` it', async () => {
    const binding = roleBinding('dave-admin', 'team-a', { kind: 'ClusterRole', name: 'cluster-admin' }, 'dave');
    const error = await rejection(stores.rolebindings.create(structuredClone(binding), as(BOB, 'team-a')));
    assert.match(error.message, /^rolebindings\.rbac\.authorization\.k8s\.io "dave-admin" is forbidden: user "bob" .* not currently held:\n\{APIGroups:\["\*"\], Resources:\["\*"\], Verbs:\["\*"\]\}\n\{NonResourceURLs:\["\*"\], Verbs:\["\*"\]\}$/);
    const missing = await rejection(stores.rolebindings.create(roleBinding('x', 'team-a', { kind: 'ClusterRole', name: 'no-such-role' }, 'dave'), as(BOB, 'team-a')));
    assert.equal(missing.message, 'rolebindings.rbac.authorization.k8s.io "x" is forbidden: clusterrole.rbac.authorization.k8s.io "no-such-role" not found');
    await stores.clusterroles.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'binder' }, rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['bind'], resourceNames: ['cluster-admin'] }] }, as(ADMIN));
    await stores.rolebindings.create(roleBinding('bob-binder', 'team-a', { kind: 'ClusterRole', name: 'binder' }, 'bob'), as(ADMIN, 'team-a'));
    await settle();
    await stores.rolebindings.create(structuredClone(binding), as(BOB, 'team-a'));
  });

  it('`escalate` on roles lets one write any rules', async () => {
    await stores.clusterroles.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'escalator' }, rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['escalate'] }] }, as(ADMIN));
    await stores.rolebindings.create(roleBinding('carol-esc', 'team-c', { kind: 'ClusterRole', name: 'escalator' }, 'carol'), as(ADMIN, 'team-c'));
    await stores.rolebindings.create(roleBinding('carol-admin', 'team-c', { kind: 'ClusterRole', name: 'admin' }, 'carol'), as(ADMIN, 'team-c'));
    await settle();
    await stores.roles.create(role('everything', 'team-c', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]), as({ username: 'carol', groups: ['system:authenticated'] }, 'team-c'));
    const decision = await authorizer({ username: 'carol', groups: [] }, parseRequestInfo('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/team-c/roles', new URLSearchParams()));
    assert.equal(decision.allowed, true);
  });

  it('an aggregationRule needs cluster-admin privileges', async () => {
    await stores.clusterrolebindings.create(
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'erin' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:aggregate-to-admin' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'erin' }] },
      as(ADMIN),
    );
    await stores.clusterroles.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'rbac-creator' }, rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['create'] }] }, as(ADMIN));
    await settle();
    const error = await rejection(
      stores.clusterroles.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'sneaky' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: 'b' } }] } }, as({ username: 'erin', groups: ['system:authenticated'] })),
    );
    assert.equal(error.message, 'clusterroles.rbac.authorization.k8s.io "sneaky" is forbidden: must have cluster-admin privileges to use the aggregationRule');
  });
});
