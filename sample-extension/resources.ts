// metrics.k8s.io NodeMetrics and PodMetrics: get and list only, with metrics-server's table (Name, cpu,
// memory, Window; a pod's usage summed over its containers) and its NotFound wording.

import { defineResource } from '../apiserver/registry/resource.js';
import type { PrinterColumn, ResourceDefinition } from '../apiserver/registry/resource.js';
import type { KubeObject } from '../apiserver/registry/object.js';
import { notFound } from '../apiserver/request/status.js';
import { formatBytes, formatCores, parseQuantity } from '../apiserver/registry/quantity.js';

type Usage = { cpu?: string; memory?: string };

function podUsage(metrics: KubeObject): { cpu: string; memory: string } {
  const containers = (metrics.containers as { usage?: Usage }[] | undefined) ?? [];
  const sum = (name: keyof Usage) => containers.reduce((total, container) => total + (parseQuantity(container.usage?.[name]) ?? 0), 0);
  return { cpu: formatCores(sum('cpu')), memory: formatBytes(sum('memory')) };
}

function columns(usage: (metrics: KubeObject) => Usage): PrinterColumn[] {
  return [
    { name: 'Name', type: 'string', format: 'name', description: 'Name of the resource', value: (metrics) => metrics.metadata.name ?? '' },
    { name: 'cpu', type: 'string', format: 'quantity', value: (metrics) => usage(metrics).cpu ?? '0' },
    { name: 'memory', type: 'string', format: 'quantity', value: (metrics) => usage(metrics).memory ?? '0' },
    { name: 'Window', type: 'string', format: 'duration', value: (metrics) => metrics.window ?? '' },
  ];
}

/** Whether a Node or Pod exists decides the message, as in metrics-server. */
export interface Lookups {
  node(name: string): KubeObject | undefined;
  pod(namespace: string, name: string): KubeObject | undefined;
}

export function metricsResources(version: string, lookups: Lookups): ResourceDefinition[] {
  const common = { group: 'metrics.k8s.io', version, singular: '', verbs: ['get' as const, 'list' as const], schema: { type: 'object' as const, 'x-kubernetes-preserve-unknown-fields': true } };
  return [
    defineResource({
      ...common,
      kind: 'NodeMetrics',
      plural: 'nodes',
      namespaced: false,
      printerColumns: columns((metrics) => (metrics.usage as Usage | undefined) ?? {}),
      notFound: (_namespace, name) => (lookups.node(name) ? notFound({ group: 'metrics.k8s.io', resource: 'nodemetrics' }, name) : notFound({ group: '', resource: 'nodes' }, name)),
    }),
    defineResource({
      ...common,
      kind: 'PodMetrics',
      plural: 'pods',
      namespaced: true,
      printerColumns: columns(podUsage),
      notFound: (namespace, name) => (lookups.pod(namespace, name) ? notFound({ group: 'metrics.k8s.io', resource: 'podmetrics' }, `${namespace}/${name}`) : notFound({ group: '', resource: 'pods' }, name)),
    }),
  ];
}
