// networking.k8s.io/v1 Ingress (k8s.io/api networking/v1/generated.proto): what `kubectl create ingress`
// sends. IngressRule embeds IngressRuleValue (field 2), which JSON flattens: `{host, http}`.

import type { MessageSpec } from '../protobuf.js';
import { metadata } from './meta.js';

const ServiceBackendPort: MessageSpec = {
  1: { name: 'name', type: 'string' },
  2: { name: 'number', type: 'int32' },
};

const IngressBackend: MessageSpec = {
  3: {
    name: 'resource',
    type: 'message',
    message: {
      1: { name: 'apiGroup', type: 'string', pointer: true },
      2: { name: 'kind', type: 'string' },
      3: { name: 'name', type: 'string' },
    },
  },
  4: {
    name: 'service',
    type: 'message',
    message: { 1: { name: 'name', type: 'string' }, 2: { name: 'port', type: 'message', message: ServiceBackendPort } },
  },
};

const HTTPIngressPath: MessageSpec = {
  1: { name: 'path', type: 'string' },
  2: { name: 'backend', type: 'message', message: IngressBackend },
  3: { name: 'pathType', type: 'string', pointer: true },
};

const IngressRule: MessageSpec = {
  1: { name: 'host', type: 'string' },
  2: {
    name: 'ingressRuleValue',
    type: 'message',
    inline: true,
    message: {
      1: {
        name: 'http',
        type: 'message',
        message: { 1: { name: 'paths', type: 'message', repeated: true, message: HTTPIngressPath } },
      },
    },
  },
};

const IngressSpec: MessageSpec = {
  1: { name: 'defaultBackend', type: 'message', message: IngressBackend },
  2: {
    name: 'tls',
    type: 'message',
    repeated: true,
    message: { 1: { name: 'hosts', type: 'string', repeated: true }, 2: { name: 'secretName', type: 'string' } },
  },
  3: { name: 'rules', type: 'message', repeated: true, message: IngressRule },
  4: { name: 'ingressClassName', type: 'string', pointer: true },
};

const Ingress: MessageSpec = {
  1: metadata,
  2: { name: 'spec', type: 'message', message: IngressSpec },
  // IngressStatus.loadBalancer is a non-pointer message Go always writes: `status: {loadBalancer: {}}`.
  3: { name: 'status', type: 'message', message: { 1: { name: 'loadBalancer', type: 'message', message: {} } } },
};

export const networkingKinds = {
  'networking.k8s.io/v1': { Ingress },
} as const;
