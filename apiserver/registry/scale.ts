// The scale subresource (autoscaling/v1 Scale), a view of a replicated object: GET shows it, PUT/PATCH of
// the view write spec.replicas back through the main resource's update path (so validation, generation and
// conflicts behave as for any update). `kubectl scale` and HPAs use it.

import type { KubeObject } from './object.js';
import { isObject } from './object.js';
import type { SubresourceDefinition } from './resource.js';
import { invalid } from '../request/status.js';

function read(object: unknown, path: string): unknown {
  let current: unknown = object;
  for (const part of path.split('.')) current = isObject(current) ? current[part] : undefined;
  return current;
}

function write(object: KubeObject, path: string, value: unknown): void {
  const parts = path.split('.');
  let current: Record<string, unknown> = object;
  for (const part of parts.slice(0, -1)) {
    if (!isObject(current[part])) current[part] = {};
    current = current[part] as Record<string, unknown>;
  }
  current[parts[parts.length - 1]] = value;
}

/** metav1.FormatLabelSelector for a LabelSelector (or a plain label map, as ReplicationControllers use). */
export function formatSelector(selector: unknown): string {
  if (typeof selector === 'string') return selector; // CRDs point labelSelectorPath at a serialized selector
  if (!isObject(selector)) return '';
  const isLabelSelector = 'matchLabels' in selector || 'matchExpressions' in selector;
  const labels = (isLabelSelector ? selector.matchLabels : selector) as Record<string, string> | undefined;
  const parts = Object.entries(isObject(labels) ? labels : {}).sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, value]) => `${key}=${value}`);
  if (isLabelSelector && Array.isArray(selector.matchExpressions)) {
    for (const expression of selector.matchExpressions as { key: string; operator: string; values?: string[] }[]) {
      const values = [...(expression.values ?? [])].sort().join(',');
      if (expression.operator === 'In') parts.push(`${expression.key} in (${values})`);
      else if (expression.operator === 'NotIn') parts.push(`${expression.key} notin (${values})`);
      else if (expression.operator === 'Exists') parts.push(expression.key);
      else if (expression.operator === 'DoesNotExist') parts.push(`!${expression.key}`);
    }
  }
  return parts.join(',');
}

export interface ScaleOptions {
  specReplicasPath?: string;
  statusReplicasPath?: string;
  selectorPath?: string;
}

export function scaleSubresource(options: ScaleOptions = {}): SubresourceDefinition {
  const specPath = options.specReplicasPath ?? 'spec.replicas';
  const statusPath = options.statusReplicasPath ?? 'status.replicas';
  const selectorPath = options.selectorPath ?? 'spec.selector';
  return {
    kind: 'Scale',
    group: 'autoscaling',
    version: 'v1',
    verbs: ['get', 'patch', 'update'],
    view: {
      toView(object) {
        const metadata = object.metadata;
        const view: KubeObject = {
          kind: 'Scale',
          apiVersion: 'autoscaling/v1',
          metadata: { name: metadata.name, namespace: metadata.namespace, uid: metadata.uid, resourceVersion: metadata.resourceVersion, creationTimestamp: metadata.creationTimestamp },
          spec: { replicas: Number(read(object, specPath) ?? 0) },
          status: { replicas: Number(read(object, statusPath) ?? 0) },
        };
        const selector = selectorPath ? formatSelector(read(object, selectorPath)) : '';
        if (selector) view.status.selector = selector;
        return view;
      },
      applyView(object, view) {
        const replicas = isObject(view.spec) ? view.spec.replicas : undefined;
        if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
          throw invalid('Scale', 'autoscaling', object.metadata.name ?? '', [
            { field: 'spec.replicas', type: 'FieldValueInvalid', value: replicas as number, detail: 'must be greater than or equal to 0' },
          ]);
        }
        write(object, specPath, replicas);
        return object;
      },
    },
  };
}
