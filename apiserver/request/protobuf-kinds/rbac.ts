// rbac.authorization.k8s.io/v1 (k8s.io/api rbac/v1/generated.proto): what `kubectl create role|rolebinding|
// clusterrole|clusterrolebinding` send.

import type { MessageSpec } from '../protobuf.js';
import { LabelSelector, metadata } from './meta.js';

export const PolicyRule: MessageSpec = {
  1: { name: 'verbs', type: 'string', repeated: true },
  2: { name: 'apiGroups', type: 'string', repeated: true },
  3: { name: 'resources', type: 'string', repeated: true },
  4: { name: 'resourceNames', type: 'string', repeated: true },
  5: { name: 'nonResourceURLs', type: 'string', repeated: true },
};

const RoleRef: MessageSpec = {
  1: { name: 'apiGroup', type: 'string' },
  2: { name: 'kind', type: 'string' },
  3: { name: 'name', type: 'string' },
};

const Subject: MessageSpec = {
  1: { name: 'kind', type: 'string' },
  2: { name: 'apiGroup', type: 'string' },
  3: { name: 'name', type: 'string' },
  4: { name: 'namespace', type: 'string' },
};

const AggregationRule: MessageSpec = {
  1: { name: 'clusterRoleSelectors', type: 'message', repeated: true, message: LabelSelector },
};

const Role: MessageSpec = {
  1: metadata,
  2: { name: 'rules', type: 'message', repeated: true, message: PolicyRule },
};

const ClusterRole: MessageSpec = {
  ...Role,
  3: { name: 'aggregationRule', type: 'message', message: AggregationRule },
};

/** RoleBinding and ClusterRoleBinding share their message layout. */
const RoleBinding: MessageSpec = {
  1: metadata,
  2: { name: 'subjects', type: 'message', repeated: true, message: Subject },
  3: { name: 'roleRef', type: 'message', message: RoleRef },
};

export const rbacKinds = {
  'rbac.authorization.k8s.io/v1': { Role, ClusterRole, RoleBinding, ClusterRoleBinding: RoleBinding },
} as const;
