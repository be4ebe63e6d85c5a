// autoscaling/v1 HorizontalPodAutoscaler (k8s.io/api autoscaling/v1/generated.proto): what
// `kubectl autoscale` (1.32) sends.

import type { MessageSpec } from '../protobuf.js';
import { metadata } from './meta.js';

const CrossVersionObjectReference: MessageSpec = {
  1: { name: 'kind', type: 'string' },
  2: { name: 'name', type: 'string' },
  3: { name: 'apiVersion', type: 'string' },
};

const HorizontalPodAutoscalerSpec: MessageSpec = {
  1: { name: 'scaleTargetRef', type: 'message', message: CrossVersionObjectReference },
  2: { name: 'minReplicas', type: 'int32', pointer: true },
  3: { name: 'maxReplicas', type: 'int32' },
  4: { name: 'targetCPUUtilizationPercentage', type: 'int32', pointer: true },
};

const HorizontalPodAutoscalerStatus: MessageSpec = {
  1: { name: 'observedGeneration', type: 'int64', pointer: true },
  2: { name: 'lastScaleTime', type: 'time', pointer: true },
  3: { name: 'currentReplicas', type: 'int32' },
  4: { name: 'desiredReplicas', type: 'int32' },
  5: { name: 'currentCPUUtilizationPercentage', type: 'int32', pointer: true },
};

const HorizontalPodAutoscaler: MessageSpec = {
  1: metadata,
  2: { name: 'spec', type: 'message', message: HorizontalPodAutoscalerSpec },
  3: { name: 'status', type: 'message', message: HorizontalPodAutoscalerStatus },
};

export const autoscalingKinds = {
  'autoscaling/v1': { HorizontalPodAutoscaler },
} as const;
