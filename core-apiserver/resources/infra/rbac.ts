// rbac.authorization.k8s.io/v1: Roles, ClusterRoles and their bindings. Names are path segments (RBAC
// names such as `system:controller:foo` are not DNS names), a binding's roleRef never changes once created
// (a different grant is a different binding), and subjects are checked per kind.

import { defineResource, type ResourceDefinition } from '../../../apiserver/registry/resource.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import type { FieldError } from '../../../apiserver/request/status.js';
import { isDns1123Subdomain, isValidPathSegmentName } from '../../../apiserver/registry/names.js';
import { ageColumn, nameColumn } from '../../../apiserver/registry/table.js';
import { fieldDoc } from '../field-docs.js';
import { invalidEach, isObject, notSupported, objectsOf, required, stringsOf, validateLabelSelector } from './common.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

function validateRules(object: KubeObject, namespaced: boolean): FieldError[] {
  const errors: FieldError[] = [];
  objectsOf(object.rules).forEach((rule, index) => {
    const path = `rules[${index}]`;
    if (stringsOf(rule.verbs).length === 0) errors.push(required(`${path}.verbs`, 'verbs must contain at least one value'));
    const urls = stringsOf(rule.nonResourceURLs);
    if (urls.length > 0) {
      if (namespaced) errors.push({ field: `${path}.nonResourceURLs`, type: 'FieldValueInvalid', value: urls, detail: 'namespaced rules cannot apply to non-resource URLs' });
      if (stringsOf(rule.apiGroups).length > 0 || stringsOf(rule.resources).length > 0 || stringsOf(rule.resourceNames).length > 0) {
        errors.push({ field: `${path}.nonResourceURLs`, type: 'FieldValueInvalid', value: urls, detail: 'rules cannot apply to both regular resources and non-resource URLs' });
      }
      return;
    }
    if (stringsOf(rule.apiGroups).length === 0) errors.push(required(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
    if (stringsOf(rule.resources).length === 0) errors.push(required(`${path}.resources`, 'resource rules must supply at least one resource'));
  });
  return errors;
}

function validateClusterRole(role: KubeObject): FieldError[] {
  const errors = validateRules(role, false);
  if (role.aggregationRule !== undefined && role.aggregationRule !== null) {
    const selectors = isObject(role.aggregationRule) ? objectsOf(role.aggregationRule.clusterRoleSelectors) : [];
    if (selectors.length === 0) errors.push(required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    selectors.forEach((selector, index) => errors.push(...validateLabelSelector(selector, `aggregationRule.clusterRoleSelectors[${index}]`)));
  }
  return errors;
}

/** v1 defaulting: the roleRef's group, and the RBAC group for User and Group subjects. */
function defaultBinding(binding: KubeObject): void {
  if (isObject(binding.roleRef) && !binding.roleRef.apiGroup) binding.roleRef.apiGroup = RBAC_GROUP;
  for (const subject of objectsOf(binding.subjects)) {
    if (!subject.apiGroup && (subject.kind === 'User' || subject.kind === 'Group')) subject.apiGroup = RBAC_GROUP;
  }
}

function validateSubject(subject: Record<string, any>, namespaced: boolean, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const name = typeof subject.name === 'string' ? subject.name : '';
  if (!name) errors.push(required(`${path}.name`));
  switch (subject.kind) {
    case 'ServiceAccount':
      if (name) errors.push(...invalidEach(`${path}.name`, name, isDns1123Subdomain(name)));
      if (subject.apiGroup) errors.push(notSupported(`${path}.apiGroup`, subject.apiGroup, ['']));
      // A RoleBinding's ServiceAccount defaults to the binding's namespace; a cluster binding has none.
      if (!namespaced && !subject.namespace) errors.push(required(`${path}.namespace`));
      break;
    case 'User':
    case 'Group':
      if (subject.apiGroup !== RBAC_GROUP) errors.push(notSupported(`${path}.apiGroup`, subject.apiGroup ?? '', [RBAC_GROUP]));
      break;
    default:
      errors.push(notSupported(`${path}.kind`, subject.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return errors;
}

function validateBinding(binding: KubeObject, namespaced: boolean): FieldError[] {
  const errors: FieldError[] = [];
  const roleRef = isObject(binding.roleRef) ? binding.roleRef : {};
  if (roleRef.apiGroup !== RBAC_GROUP) errors.push(notSupported('roleRef.apiGroup', roleRef.apiGroup ?? '', [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(roleRef.kind)) errors.push(notSupported('roleRef.kind', roleRef.kind ?? '', kinds));
  const name = typeof roleRef.name === 'string' ? roleRef.name : '';
  if (!name) errors.push(required('roleRef.name'));
  else errors.push(...invalidEach('roleRef.name', name, isValidPathSegmentName(name)));
  objectsOf(binding.subjects).forEach((subject, index) => errors.push(...validateSubject(subject, namespaced, `subjects[${index}]`)));
  return errors;
}

function validateBindingUpdate(binding: KubeObject, old: KubeObject, namespaced: boolean): FieldError[] {
  const errors = validateBinding(binding, namespaced);
  const ref = (object: KubeObject) => {
    const roleRef = isObject(object.roleRef) ? object.roleRef : {};
    return JSON.stringify([roleRef.apiGroup ?? '', roleRef.kind ?? '', roleRef.name ?? '']);
  };
  if (ref(binding) !== ref(old)) errors.push({ field: 'roleRef', type: 'FieldValueInvalid', value: binding.roleRef, detail: 'cannot change roleRef' });
  return errors;
}

/** rbac.SubjectsStrings: users, groups and `namespace:name` service accounts, each joined with ", ". */
export function subjectStrings(binding: KubeObject): { users: string; groups: string; serviceAccounts: string } {
  const users: string[] = [];
  const groups: string[] = [];
  const serviceAccounts: string[] = [];
  for (const subject of objectsOf(binding.subjects)) {
    if (subject.kind === 'User') users.push(subject.name ?? '');
    else if (subject.kind === 'Group') groups.push(subject.name ?? '');
    else if (subject.kind === 'ServiceAccount') serviceAccounts.push(`${subject.namespace ?? ''}:${subject.name ?? ''}`);
  }
  return { users: users.join(', '), groups: groups.join(', '), serviceAccounts: serviceAccounts.join(', ') };
}

export function roleRefString(binding: KubeObject): string {
  const roleRef = isObject(binding.roleRef) ? binding.roleRef : {};
  return `${roleRef.kind ?? ''}/${roleRef.name ?? ''}`;
}

function bindingColumns(scope: 'roleBinding' | 'clusterRoleBinding') {
  return [
    nameColumn,
    {
      name: 'Role',
      type: 'string' as const,
      get description() {
        return fieldDoc('io.k8s.api.rbac.v1.RoleBinding', 'roleRef');
      },
      value: roleRefString,
    },
    ageColumn,
    { name: 'Users', type: 'string' as const, priority: 1, description: `Users in the ${scope}`, value: (binding: KubeObject) => subjectStrings(binding).users },
    { name: 'Groups', type: 'string' as const, priority: 1, description: `Groups in the ${scope}`, value: (binding: KubeObject) => subjectStrings(binding).groups },
    { name: 'ServiceAccounts', type: 'string' as const, priority: 1, description: `ServiceAccounts in the ${scope}`, value: (binding: KubeObject) => subjectStrings(binding).serviceAccounts },
  ];
}

// Roles and ClusterRoles have no printer upstream: the default convertor's Name / Created At.
export const roles = defineResource({
  group: RBAC_GROUP,
  version: 'v1',
  kind: 'Role',
  plural: 'roles',
  namespaced: true,
  schemaName: 'io.k8s.api.rbac.v1.Role',
  nameValidation: 'path-segment',
  strategy: {
    validate: (role) => validateRules(role, true),
    validateUpdate: (role) => validateRules(role, true),
  },
});

export const clusterRoles = defineResource({
  group: RBAC_GROUP,
  version: 'v1',
  kind: 'ClusterRole',
  plural: 'clusterroles',
  namespaced: false,
  schemaName: 'io.k8s.api.rbac.v1.ClusterRole',
  nameValidation: 'path-segment',
  strategy: { validate: validateClusterRole, validateUpdate: (role) => validateClusterRole(role) },
});

export const roleBindings = defineResource({
  group: RBAC_GROUP,
  version: 'v1',
  kind: 'RoleBinding',
  plural: 'rolebindings',
  namespaced: true,
  schemaName: 'io.k8s.api.rbac.v1.RoleBinding',
  nameValidation: 'path-segment',
  strategy: {
    prepareForCreate: defaultBinding,
    prepareForUpdate: defaultBinding,
    validate: (binding) => validateBinding(binding, true),
    validateUpdate: (binding, old) => validateBindingUpdate(binding, old, true),
  },
  printerColumns: bindingColumns('roleBinding'),
});

export const clusterRoleBindings = defineResource({
  group: RBAC_GROUP,
  version: 'v1',
  kind: 'ClusterRoleBinding',
  plural: 'clusterrolebindings',
  namespaced: false,
  schemaName: 'io.k8s.api.rbac.v1.ClusterRoleBinding',
  nameValidation: 'path-segment',
  strategy: {
    prepareForCreate: defaultBinding,
    prepareForUpdate: defaultBinding,
    validate: (binding) => validateBinding(binding, false),
    validateUpdate: (binding, old) => validateBindingUpdate(binding, old, false),
  },
  printerColumns: bindingColumns('clusterRoleBinding'),
});

export const rbacResources: ResourceDefinition[] = [roles, roleBindings, clusterRoles, clusterRoleBindings];
