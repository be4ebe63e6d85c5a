// apps/v1 Deployment (k8s.io/api apps/v1/generated.proto): what `kubectl create deployment` sends.

import type { MessageSpec } from '../protobuf.js';
import { LabelSelector, metadata } from './meta.js';
import { PodTemplateSpec } from './pod.js';

const DeploymentStrategy: MessageSpec = {
  1: { name: 'type', type: 'string' },
  2: {
    name: 'rollingUpdate',
    type: 'message',
    message: {
      1: { name: 'maxUnavailable', type: 'intOrString', pointer: true },
      2: { name: 'maxSurge', type: 'intOrString', pointer: true },
    },
  },
};

const DeploymentSpec: MessageSpec = {
  1: { name: 'replicas', type: 'int32', pointer: true },
  2: { name: 'selector', type: 'message', message: LabelSelector },
  3: { name: 'template', type: 'message', message: PodTemplateSpec },
  4: { name: 'strategy', type: 'message', message: DeploymentStrategy },
  5: { name: 'minReadySeconds', type: 'int32' },
  6: { name: 'revisionHistoryLimit', type: 'int32', pointer: true },
  7: { name: 'paused', type: 'bool' },
  9: { name: 'progressDeadlineSeconds', type: 'int32', pointer: true },
};

const DeploymentStatus: MessageSpec = {
  1: { name: 'observedGeneration', type: 'int64' },
  2: { name: 'replicas', type: 'int32' },
  3: { name: 'updatedReplicas', type: 'int32' },
  4: { name: 'availableReplicas', type: 'int32' },
  5: { name: 'unavailableReplicas', type: 'int32' },
  7: { name: 'readyReplicas', type: 'int32' },
  8: { name: 'collisionCount', type: 'int32', pointer: true },
  9: { name: 'terminatingReplicas', type: 'int32', pointer: true },
};

const Deployment: MessageSpec = {
  1: metadata,
  2: { name: 'spec', type: 'message', message: DeploymentSpec },
  3: { name: 'status', type: 'message', message: DeploymentStatus },
};

export const appsKinds = {
  'apps/v1': { Deployment },
} as const;
