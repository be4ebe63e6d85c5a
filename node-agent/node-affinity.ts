// Required node affinity (spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution), as
// kube-scheduler's NodeAffinity filter reads it: the terms are ORed, a term's matchExpressions (node labels)
// and matchFields (only metadata.name) are ANDed, and an empty term matches nothing. DaemonSet pods name
// their node this way.

import type { KubeObject } from '../apiserver/registry/object.js';

interface Requirement {
  key: string;
  operator: string;
  values?: string[];
}

interface Term {
  matchExpressions?: Requirement[];
  matchFields?: Requirement[];
}

function matches(requirement: Requirement, value: string | undefined): boolean {
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || !/^-?\d+$/.test(value) || values.length !== 1) return false;
      return requirement.operator === 'Gt' ? Number(value) > Number(values[0]) : Number(value) < Number(values[0]);
    }
    default:
      return false;
  }
}

export function requiredAffinityTerms(pod: KubeObject): Term[] | undefined {
  const affinity = (pod.spec as { affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: Term[] } } } } | undefined)?.affinity;
  return affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
}

/** Whether the pod's required node affinity (if any) admits the node. */
export function nodeAffinityAdmits(pod: KubeObject, node: KubeObject): boolean {
  const terms = requiredAffinityTerms(pod);
  if (!terms) return true;
  const labels = node.metadata.labels ?? {};
  const fields: Record<string, string> = { 'metadata.name': node.metadata.name ?? '' };
  return terms.some((term) => {
    const expressions = term.matchExpressions ?? [];
    const matchFields = term.matchFields ?? [];
    if (expressions.length === 0 && matchFields.length === 0) return false;
    return expressions.every((requirement) => matches(requirement, labels[requirement.key])) && matchFields.every((requirement) => matches(requirement, fields[requirement.key]));
  });
}
