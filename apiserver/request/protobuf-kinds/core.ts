// core/v1 ResourceQuota (k8s.io/api core/v1/generated.proto): what `kubectl create quota` sends.

import type { MessageSpec } from '../protobuf.js';
import { metadata } from './meta.js';
import { ResourceList } from './pod.js';

const ResourceQuotaSpec: MessageSpec = {
  1: { name: 'hard', ...ResourceList },
  2: { name: 'scopes', type: 'string', repeated: true },
  3: {
    name: 'scopeSelector',
    type: 'message',
    message: {
      1: {
        name: 'matchExpressions',
        type: 'message',
        repeated: true,
        message: {
          1: { name: 'scopeName', type: 'string' },
          2: { name: 'operator', type: 'string' },
          3: { name: 'values', type: 'string', repeated: true },
        },
      },
    },
  },
};

const ResourceQuota: MessageSpec = {
  1: metadata,
  2: { name: 'spec', type: 'message', message: ResourceQuotaSpec },
  3: {
    name: 'status',
    type: 'message',
    message: { 1: { name: 'hard', ...ResourceList }, 2: { name: 'used', ...ResourceList } },
  },
};

export const coreKinds = {
  v1: { ResourceQuota },
} as const;
