// scheduling.k8s.io/v1 PriorityClass (k8s.io/api scheduling/v1/generated.proto): what
// `kubectl create priorityclass` sends.

import type { MessageSpec } from '../protobuf.js';
import { metadata } from './meta.js';

const PriorityClass: MessageSpec = {
  1: metadata,
  2: { name: 'value', type: 'int32' },
  3: { name: 'globalDefault', type: 'bool' },
  4: { name: 'description', type: 'string' },
  5: { name: 'preemptionPolicy', type: 'string', pointer: true },
};

export const schedulingKinds = {
  'scheduling.k8s.io/v1': { PriorityClass },
} as const;
