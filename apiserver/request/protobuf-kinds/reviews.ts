// Protobuf tables of the reviews kubectl posts: `auth can-i` (SelfSubjectAccessReview), `can-i --list`
// (SelfSubjectRulesReview) and `auth whoami` (SelfSubjectReview).

import type { MessageSpec } from '../protobuf.js';
import { LabelSelectorRequirement, metadata } from './meta.js';

// metav1.FieldSelectorRequirement has the shape of LabelSelectorRequirement.
const SelectorRequirement = LabelSelectorRequirement;

const SelectorAttributes: MessageSpec = {
  1: { name: 'rawSelector', type: 'string' },
  2: { name: 'requirements', type: 'message', repeated: true, message: SelectorRequirement },
};

const ResourceAttributes: MessageSpec = {
  1: { name: 'namespace', type: 'string' },
  2: { name: 'verb', type: 'string' },
  3: { name: 'group', type: 'string' },
  4: { name: 'version', type: 'string' },
  5: { name: 'resource', type: 'string' },
  6: { name: 'subresource', type: 'string' },
  7: { name: 'name', type: 'string' },
  8: { name: 'fieldSelector', type: 'message', message: SelectorAttributes },
  9: { name: 'labelSelector', type: 'message', message: SelectorAttributes },
};

const SelfSubjectAccessReview: MessageSpec = {
  1: metadata,
  2: {
    name: 'spec',
    type: 'message',
    message: {
      1: { name: 'resourceAttributes', type: 'message', message: ResourceAttributes },
      2: {
        name: 'nonResourceAttributes',
        type: 'message',
        message: { 1: { name: 'path', type: 'string' }, 2: { name: 'verb', type: 'string' } },
      },
    },
  },
  3: {
    name: 'status',
    type: 'message',
    message: {
      1: { name: 'allowed', type: 'bool' },
      2: { name: 'reason', type: 'string' },
      3: { name: 'evaluationError', type: 'string' },
      4: { name: 'denied', type: 'bool' },
    },
  },
};

const SelfSubjectRulesReview: MessageSpec = {
  1: metadata,
  2: { name: 'spec', type: 'message', message: { 1: { name: 'namespace', type: 'string' } } },
  3: {
    name: 'status',
    type: 'message',
    message: {
      1: {
        name: 'resourceRules',
        type: 'message',
        repeated: true,
        message: {
          1: { name: 'verbs', type: 'string', repeated: true },
          2: { name: 'apiGroups', type: 'string', repeated: true },
          3: { name: 'resources', type: 'string', repeated: true },
          4: { name: 'resourceNames', type: 'string', repeated: true },
        },
      },
      2: {
        name: 'nonResourceRules',
        type: 'message',
        repeated: true,
        message: {
          1: { name: 'verbs', type: 'string', repeated: true },
          2: { name: 'nonResourceURLs', type: 'string', repeated: true },
        },
      },
      3: { name: 'incomplete', type: 'bool' },
      4: { name: 'evaluationError', type: 'string' },
    },
  },
};

const UserInfo: MessageSpec = {
  1: { name: 'username', type: 'string' },
  2: { name: 'uid', type: 'string' },
  3: { name: 'groups', type: 'string', repeated: true },
  4: { name: 'extra', type: 'map', mapValue: 'stringList' },
};

const SelfSubjectReview: MessageSpec = {
  1: metadata,
  2: { name: 'status', type: 'message', message: { 1: { name: 'userInfo', type: 'message', message: UserInfo } } },
};

// `kubectl create token` (authentication.k8s.io/v1 TokenRequest to serviceaccounts/token) and TokenReview.
const TokenRequest: MessageSpec = {
  1: metadata,
  2: {
    name: 'spec',
    type: 'message',
    message: {
      1: { name: 'audiences', type: 'string', repeated: true },
      4: { name: 'expirationSeconds', type: 'int64', pointer: true },
      3: {
        name: 'boundObjectRef',
        type: 'message',
        message: { 1: { name: 'kind', type: 'string' }, 2: { name: 'apiVersion', type: 'string' }, 3: { name: 'name', type: 'string' }, 4: { name: 'uid', type: 'string' } },
      },
    },
  },
  3: { name: 'status', type: 'message', message: { 1: { name: 'token', type: 'string' }, 2: { name: 'expirationTimestamp', type: 'time' } } },
};

const TokenReview: MessageSpec = {
  1: metadata,
  2: { name: 'spec', type: 'message', message: { 1: { name: 'token', type: 'string' }, 2: { name: 'audiences', type: 'string', repeated: true } } },
  3: {
    name: 'status',
    type: 'message',
    message: {
      1: { name: 'authenticated', type: 'bool' },
      2: { name: 'user', type: 'message', message: UserInfo },
      3: { name: 'error', type: 'string' },
      4: { name: 'audiences', type: 'string', repeated: true },
    },
  },
};

export const reviewKinds = {
  'authorization.k8s.io/v1': { SelfSubjectAccessReview, SelfSubjectRulesReview },
  // kubectl auth whoami tries v1, then v1beta1, then v1alpha1: the message is the same in all three.
  'authentication.k8s.io/v1': { SelfSubjectReview, TokenRequest, TokenReview },
  'authentication.k8s.io/v1beta1': { SelfSubjectReview },
  'authentication.k8s.io/v1alpha1': { SelfSubjectReview },
};
