// A pod's resource requests and limits as upstream's helpers add them up: the containers' sum, raised to
// any larger init container (init containers run one at a time, before the others).

import type { KubeObject } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';
import { parseQuantity } from '../../apiserver/registry/quantity.js';

export type ResourceAmounts = Map<string, number>;

function containersOf(pod: KubeObject, field: 'containers' | 'initContainers'): Record<string, unknown>[] {
  const spec = isObject(pod.spec) ? pod.spec : {};
  const list = spec[field];
  return Array.isArray(list) ? list.filter(isObject) : [];
}

/** A container's `resources.<bucket>` as numbers (unparseable quantities are left out). */
export function containerAmounts(container: Record<string, unknown>, bucket: 'requests' | 'limits'): ResourceAmounts {
  const resources = isObject(container.resources) ? container.resources : {};
  const values = isObject(resources[bucket]) ? resources[bucket] : {};
  const amounts: ResourceAmounts = new Map();
  for (const [name, value] of Object.entries(values)) {
    const amount = parseQuantity(value);
    if (amount !== undefined) amounts.set(name, amount);
  }
  return amounts;
}

export function podAmounts(pod: KubeObject, bucket: 'requests' | 'limits'): ResourceAmounts {
  const total: ResourceAmounts = new Map();
  for (const container of containersOf(pod, 'containers')) {
    for (const [name, amount] of containerAmounts(container, bucket)) total.set(name, (total.get(name) ?? 0) + amount);
  }
  for (const container of containersOf(pod, 'initContainers')) {
    for (const [name, amount] of containerAmounts(container, bucket)) if (amount > (total.get(name) ?? 0)) total.set(name, amount);
  }
  return total;
}

export { containersOf };
