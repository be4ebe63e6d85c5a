// autoscaling/v1 and v2 HorizontalPodAutoscaler (k8s.io/api autoscaling/v1 and v2 generated.proto): what
// `kubectl autoscale` sends (v1 up to 1.32; 1.33 tries v2 first), and what typed clients write.

import type { MessageSpec } from '../protobuf.js';
import { LabelSelector, metadata } from './meta.js';

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

// ---- autoscaling/v2 ---------------------------------------------------------------------------------

const MetricTarget: MessageSpec = {
  1: { name: 'type', type: 'string' },
  2: { name: 'value', type: 'quantity', pointer: true },
  3: { name: 'averageValue', type: 'quantity', pointer: true },
  4: { name: 'averageUtilization', type: 'int32', pointer: true },
};

const MetricValueStatus: MessageSpec = {
  1: { name: 'value', type: 'quantity', pointer: true },
  2: { name: 'averageValue', type: 'quantity', pointer: true },
  3: { name: 'averageUtilization', type: 'int32', pointer: true },
};

const MetricIdentifier: MessageSpec = {
  1: { name: 'name', type: 'string' },
  2: { name: 'selector', type: 'message', message: LabelSelector },
};

const reference = { type: 'message', message: CrossVersionObjectReference } as const;
const identifier = { type: 'message', message: MetricIdentifier } as const;
const target = { name: 'target', type: 'message', message: MetricTarget } as const;
const current = { name: 'current', type: 'message', message: MetricValueStatus } as const;

const MetricSpec: MessageSpec = {
  1: { name: 'type', type: 'string' },
  2: { name: 'object', type: 'message', message: { 1: { name: 'describedObject', ...reference }, 2: target, 3: { name: 'metric', ...identifier } } },
  3: { name: 'pods', type: 'message', message: { 1: { name: 'metric', ...identifier }, 2: target } },
  4: { name: 'resource', type: 'message', message: { 1: { name: 'name', type: 'string' }, 2: target } },
  5: { name: 'external', type: 'message', message: { 1: { name: 'metric', ...identifier }, 2: target } },
  7: { name: 'containerResource', type: 'message', message: { 1: { name: 'name', type: 'string' }, 2: target, 3: { name: 'container', type: 'string' } } },
};

const MetricStatus: MessageSpec = {
  1: { name: 'type', type: 'string' },
  2: { name: 'object', type: 'message', message: { 1: { name: 'metric', ...identifier }, 2: current, 3: { name: 'describedObject', ...reference } } },
  3: { name: 'pods', type: 'message', message: { 1: { name: 'metric', ...identifier }, 2: current } },
  4: { name: 'resource', type: 'message', message: { 1: { name: 'name', type: 'string' }, 2: current } },
  5: { name: 'external', type: 'message', message: { 1: { name: 'metric', ...identifier }, 2: current } },
  7: { name: 'containerResource', type: 'message', message: { 1: { name: 'name', type: 'string' }, 2: current, 3: { name: 'container', type: 'string' } } },
};

const HPAScalingRules: MessageSpec = {
  1: { name: 'selectPolicy', type: 'string', pointer: true },
  2: { name: 'policies', type: 'message', repeated: true, message: { 1: { name: 'type', type: 'string' }, 2: { name: 'value', type: 'int32' }, 3: { name: 'periodSeconds', type: 'int32' } } },
  3: { name: 'stabilizationWindowSeconds', type: 'int32', pointer: true },
};

const HorizontalPodAutoscalerSpecV2: MessageSpec = {
  1: { name: 'scaleTargetRef', ...reference },
  2: { name: 'minReplicas', type: 'int32', pointer: true },
  3: { name: 'maxReplicas', type: 'int32' },
  4: { name: 'metrics', type: 'message', repeated: true, message: MetricSpec },
  5: { name: 'behavior', type: 'message', message: { 1: { name: 'scaleUp', type: 'message', message: HPAScalingRules }, 2: { name: 'scaleDown', type: 'message', message: HPAScalingRules } } },
};

const HorizontalPodAutoscalerStatusV2: MessageSpec = {
  1: { name: 'observedGeneration', type: 'int64', pointer: true },
  2: { name: 'lastScaleTime', type: 'time', pointer: true },
  3: { name: 'currentReplicas', type: 'int32' },
  4: { name: 'desiredReplicas', type: 'int32' },
  5: { name: 'currentMetrics', type: 'message', repeated: true, message: MetricStatus },
  6: {
    name: 'conditions',
    type: 'message',
    repeated: true,
    message: { 1: { name: 'type', type: 'string' }, 2: { name: 'status', type: 'string' }, 3: { name: 'lastTransitionTime', type: 'time' }, 4: { name: 'reason', type: 'string' }, 5: { name: 'message', type: 'string' } },
  },
};

const HorizontalPodAutoscalerV2: MessageSpec = {
  1: metadata,
  2: { name: 'spec', type: 'message', message: HorizontalPodAutoscalerSpecV2 },
  3: { name: 'status', type: 'message', message: HorizontalPodAutoscalerStatusV2 },
};

export const autoscalingKinds = {
  'autoscaling/v1': { HorizontalPodAutoscaler },
  'autoscaling/v2': { HorizontalPodAutoscaler: HorizontalPodAutoscalerV2 },
} as const;
