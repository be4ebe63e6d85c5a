// Protobuf tables of the core v1 kinds kubectl creates from typed clients: namespace, configmap, secret,
// serviceaccount, service.

import type { MessageSpec } from '../protobuf.js';
import { metadata } from './meta.js';

const NamespaceCondition: MessageSpec = {
  1: { name: 'type', type: 'string' },
  2: { name: 'status', type: 'string' },
  4: { name: 'lastTransitionTime', type: 'time' },
  5: { name: 'reason', type: 'string' },
  6: { name: 'message', type: 'string' },
};

const Namespace: MessageSpec = {
  1: metadata,
  2: { name: 'spec', type: 'message', message: { 1: { name: 'finalizers', type: 'string', repeated: true } } },
  3: {
    name: 'status',
    type: 'message',
    message: {
      1: { name: 'phase', type: 'string' },
      2: { name: 'conditions', type: 'message', repeated: true, message: NamespaceCondition },
    },
  },
};

const ConfigMap: MessageSpec = {
  1: metadata,
  2: { name: 'data', type: 'map', mapValue: 'string' },
  3: { name: 'binaryData', type: 'map', mapValue: 'bytes' },
  4: { name: 'immutable', type: 'bool', pointer: true },
};

const Secret: MessageSpec = {
  1: metadata,
  2: { name: 'data', type: 'map', mapValue: 'bytes' },
  3: { name: 'type', type: 'string' },
  4: { name: 'stringData', type: 'map', mapValue: 'string' },
  5: { name: 'immutable', type: 'bool', pointer: true },
};

const ServicePort: MessageSpec = {
  1: { name: 'name', type: 'string' },
  2: { name: 'protocol', type: 'string' },
  3: { name: 'port', type: 'int32' },
  4: { name: 'targetPort', type: 'intOrString' },
  5: { name: 'nodePort', type: 'int32' },
  6: { name: 'appProtocol', type: 'string', pointer: true },
};

const Service: MessageSpec = {
  1: metadata,
  2: {
    name: 'spec',
    type: 'message',
    message: {
      1: { name: 'ports', type: 'message', repeated: true, message: ServicePort },
      2: { name: 'selector', type: 'map', mapValue: 'string' },
      3: { name: 'clusterIP', type: 'string' },
      4: { name: 'type', type: 'string' },
      5: { name: 'externalIPs', type: 'string', repeated: true },
      7: { name: 'sessionAffinity', type: 'string' },
      8: { name: 'loadBalancerIP', type: 'string' },
      9: { name: 'loadBalancerSourceRanges', type: 'string', repeated: true },
      10: { name: 'externalName', type: 'string' },
      11: { name: 'externalTrafficPolicy', type: 'string' },
      12: { name: 'healthCheckNodePort', type: 'int32' },
      13: { name: 'publishNotReadyAddresses', type: 'bool' },
      17: { name: 'ipFamilyPolicy', type: 'string', pointer: true },
      18: { name: 'clusterIPs', type: 'string', repeated: true },
      19: { name: 'ipFamilies', type: 'string', repeated: true },
      20: { name: 'allocateLoadBalancerNodePorts', type: 'bool', pointer: true },
      21: { name: 'loadBalancerClass', type: 'string', pointer: true },
      22: { name: 'internalTrafficPolicy', type: 'string', pointer: true },
      23: { name: 'trafficDistribution', type: 'string', pointer: true },
    },
  },
  3: { name: 'status', type: 'message', message: {} },
};

const ObjectReference: MessageSpec = {
  1: { name: 'kind', type: 'string' },
  2: { name: 'namespace', type: 'string' },
  3: { name: 'name', type: 'string' },
  4: { name: 'uid', type: 'string' },
  5: { name: 'apiVersion', type: 'string' },
  6: { name: 'resourceVersion', type: 'string' },
  7: { name: 'fieldPath', type: 'string' },
};

const ServiceAccount: MessageSpec = {
  1: metadata,
  2: { name: 'secrets', type: 'message', repeated: true, message: ObjectReference },
  3: { name: 'imagePullSecrets', type: 'message', repeated: true, message: { 1: { name: 'name', type: 'string' } } },
  4: { name: 'automountServiceAccountToken', type: 'bool', pointer: true },
};

/** metav1.FieldSelectorRequirement and metav1.LabelSelectorRequirement share this shape. */

export const coreV1Kinds = { Namespace, ConfigMap, Secret, ServiceAccount, Service };
