// policy/v1 PodDisruptionBudget (k8s.io/api policy/v1/generated.proto): what `kubectl create pdb` sends.

import type { MessageSpec } from '../protobuf.js';
import { LabelSelector, metadata } from './meta.js';

const PodDisruptionBudgetSpec: MessageSpec = {
  1: { name: 'minAvailable', type: 'intOrString', pointer: true },
  2: { name: 'selector', type: 'message', message: LabelSelector },
  3: { name: 'maxUnavailable', type: 'intOrString', pointer: true },
  4: { name: 'unhealthyPodEvictionPolicy', type: 'string', pointer: true },
};

const PodDisruptionBudgetStatus: MessageSpec = {
  1: { name: 'observedGeneration', type: 'int64' },
  3: { name: 'disruptionsAllowed', type: 'int32' },
  4: { name: 'currentHealthy', type: 'int32' },
  5: { name: 'desiredHealthy', type: 'int32' },
  6: { name: 'expectedPods', type: 'int32' },
};

const PodDisruptionBudget: MessageSpec = {
  1: metadata,
  2: { name: 'spec', type: 'message', message: PodDisruptionBudgetSpec },
  3: { name: 'status', type: 'message', message: PodDisruptionBudgetStatus },
};

export const policyKinds = {
  'policy/v1': { PodDisruptionBudget },
} as const;
