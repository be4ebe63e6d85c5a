import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import type { ResourceDefinition, StrategyContext } from '../../../apiserver/registry/resource.js';
import { fieldErrorMessage } from '../../../apiserver/request/status.js';
import { nameValidator } from '../../../apiserver/registry/validate-meta.js';
import { columnsOf } from '../../../apiserver/registry/table.js';
import { clusterRoleBindings, clusterRoles, roleBindings, roles, roleRefString, subjectStrings } from './rbac.js';

const CONTEXT: StrategyContext = { user: { username: 'alice', groups: [] }, warnings: [], dryRun: false };

function binding(fields: Record<string, unknown>, kind = 'RoleBinding'): KubeObject {
  return { apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata: { name: 'b', namespace: 'default' }, ...fields };
}

function messages(definition: ResourceDefinition, object: KubeObject): string[] {
  definition.strategy.prepareForCreate?.(object, CONTEXT);
  return definition.strategy.validate!(object, CONTEXT).map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
}

describe('RBAC names', () => {
  it('accepts path-segment names such as system:controller:x and refuses slashes', () => {
    const validate = nameValidator(roles.nameValidation);
    assert.deepEqual(validate('system:controller:job-controller'), []);
    assert.deepEqual(validate('a/b'), ["may not contain '/'"]);
    assert.deepEqual(validate('..'), ["may not be '..'"]);
    assert.equal(clusterRoleBindings.nameValidation, 'path-segment');
  });
});

describe('RBAC rules', () => {
  it('requires verbs, api groups and resources on resource rules', () => {
    const role = { metadata: { name: 'r', namespace: 'default' }, rules: [{ resources: ['pods'] }] };
    assert.deepEqual(messages(roles, role), [
      'rules[0].verbs: Required value: verbs must contain at least one value',
      'rules[0].apiGroups: Required value: resource rules must supply at least one api group',
    ]);
  });

  it('allows non-resource URLs only in cluster roles, and never mixed with resources', () => {
    const rule = { verbs: ['get'], nonResourceURLs: ['/healthz'] };
    assert.deepEqual(messages(roles, { metadata: { name: 'r' }, rules: [rule] }), [
      'rules[0].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs',
    ]);
    assert.deepEqual(messages(clusterRoles, { metadata: { name: 'r' }, rules: [rule] }), []);
    assert.deepEqual(messages(clusterRoles, { metadata: { name: 'r' }, rules: [{ ...rule, resources: ['pods'] }] }), [
      'rules[0].nonResourceURLs: Invalid value: []string{"/healthz"}: rules cannot apply to both regular resources and non-resource URLs',
    ]);
  });

  it('requires selectors on an aggregation rule', () => {
    assert.deepEqual(messages(clusterRoles, { metadata: { name: 'agg' }, aggregationRule: {} }), [
      'aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil',
    ]);
  });
});

describe('RBAC bindings', () => {
  it('defaults the roleRef and User/Group subject api groups', () => {
    const object = binding({ roleRef: { kind: 'Role', name: 'reader' }, subjects: [{ kind: 'User', name: 'alice' }, { kind: 'ServiceAccount', name: 'default' }] });
    assert.deepEqual(messages(roleBindings, object), []);
    assert.equal(object.roleRef.apiGroup, 'rbac.authorization.k8s.io');
    assert.deepEqual(object.subjects, [
      { kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' },
      { kind: 'ServiceAccount', name: 'default' },
    ]);
  });

  it('checks subjects by kind: names, api groups, and a namespace for service accounts of cluster bindings', () => {
    const subjects = [
      { kind: 'ServiceAccount', name: 'Bad_Name', apiGroup: 'rbac.authorization.k8s.io' },
      { kind: 'User', name: '', apiGroup: 'example.com' },
      { kind: 'Robot', name: 'r2' },
    ];
    assert.deepEqual(messages(clusterRoleBindings, binding({ roleRef: { kind: 'ClusterRole', name: 'view' }, subjects }, 'ClusterRoleBinding')), [
      "subjects[0].name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      'subjects[0].apiGroup: Unsupported value: "rbac.authorization.k8s.io": supported values: ""',
      'subjects[0].namespace: Required value',
      'subjects[1].name: Required value',
      'subjects[1].apiGroup: Unsupported value: "example.com": supported values: "rbac.authorization.k8s.io"',
      'subjects[2].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
    ]);
    // In a RoleBinding the service account defaults to the binding's namespace.
    assert.deepEqual(messages(roleBindings, binding({ roleRef: { kind: 'Role', name: 'r' }, subjects: [{ kind: 'ServiceAccount', name: 'default' }] })), []);
  });

  it('lets cluster bindings reference only ClusterRoles', () => {
    assert.deepEqual(messages(clusterRoleBindings, binding({ roleRef: { kind: 'Role', name: 'r' } }, 'ClusterRoleBinding')), [
      'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
    ]);
    assert.deepEqual(messages(roleBindings, binding({ roleRef: { kind: 'Role' } })), ['roleRef.name: Required value']);
  });

  it('refuses to change the roleRef on update but allows changing subjects', () => {
    const old = binding({ roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' }, subjects: [] });
    const renamed = binding({ roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'writer' } });
    const errors = roleBindings.strategy.validateUpdate!(renamed, old, CONTEXT);
    assert.deepEqual(
      errors.map((error) => `${error.field}: ${error.detail}`),
      ['roleRef: cannot change roleRef'],
    );
    assert.equal(errors[0].type, 'FieldValueInvalid');
    const moreSubjects = binding({ roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' }, subjects: [{ kind: 'Group', name: 'devs', apiGroup: 'rbac.authorization.k8s.io' }] });
    assert.deepEqual(roleBindings.strategy.validateUpdate!(moreSubjects, old, CONTEXT), []);
  });
});

describe('RBAC printers', () => {
  it('prints Kind/name roles and subjects split into users, groups and namespace:name service accounts', () => {
    const object = binding({
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [
        { kind: 'User', name: 'alice' },
        { kind: 'User', name: 'bob' },
        { kind: 'Group', name: 'devs' },
        { kind: 'ServiceAccount', name: 'default', namespace: 'kube-system' },
      ],
    });
    assert.equal(roleRefString(object), 'ClusterRole/view');
    assert.deepEqual(subjectStrings(object), { users: 'alice, bob', groups: 'devs', serviceAccounts: 'kube-system:default' });
    assert.deepEqual(subjectStrings(binding({})), { users: '', groups: '', serviceAccounts: '' });
  });

  it('declares NAME ROLE AGE with wide USERS GROUPS SERVICEACCOUNTS, and no printer for roles', () => {
    for (const definition of [roleBindings, clusterRoleBindings]) {
      assert.deepEqual(
        columnsOf(definition).map((column) => `${column.name}${column.priority ? '*' : ''}`),
        ['Name', 'Role', 'Age', 'Users*', 'Groups*', 'ServiceAccounts*'],
      );
    }
    assert.deepEqual(columnsOf(roles).map((column) => column.name), ['Name', 'Created At']);
    assert.deepEqual(columnsOf(clusterRoles).map((column) => column.name), ['Name', 'Created At']);
  });
});
