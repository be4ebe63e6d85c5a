// metrics.k8s.io/v1beta1 NodeMetrics and PodMetrics: get and list only, as metrics-server serves them.

import { defineResource } from '../apiserver/registry/resource.js';
import type { PrinterColumn } from '../apiserver/registry/resource.js';
import { nameColumn } from '../apiserver/registry/table.js';

const window: PrinterColumn = { name: 'Window', type: 'string', description: 'Window of the sample', value: (metrics) => metrics.window ?? '' };

export const nodeMetrics = defineResource({
  group: 'metrics.k8s.io',
  version: 'v1beta1',
  kind: 'NodeMetrics',
  plural: 'nodes',
  singular: '',
  namespaced: false,
  verbs: ['get', 'list'],
  schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  printerColumns: [
    nameColumn,
    { name: 'CPU', type: 'string', format: 'quantity', value: (m) => m.usage?.cpu ?? '' },
    { name: 'Memory', type: 'string', format: 'quantity', value: (m) => m.usage?.memory ?? '' },
    window,
  ],
});

export const podMetrics = defineResource({
  group: 'metrics.k8s.io',
  version: 'v1beta1',
  kind: 'PodMetrics',
  plural: 'pods',
  singular: '',
  namespaced: true,
  verbs: ['get', 'list'],
  schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  printerColumns: [nameColumn, window],
});
