// APIService priorities of the built-in group-versions (upstream's apiservice priority table), which
// order groups in discovery. Group-versions not listed (CRDs) get 1000/100, as auto-registered CRD
// APIServices do; metrics.k8s.io gets metrics-server's 100/100.

const PRIORITIES: Record<string, [number, number]> = {
  '/v1': [18000, 1],
  'apiregistration.k8s.io/v1': [18000, 1],
  'apps/v1': [17800, 15],
  'events.k8s.io/v1': [17750, 15],
  'authentication.k8s.io/v1': [17700, 15],
  'authorization.k8s.io/v1': [17600, 15],
  'autoscaling/v2': [17500, 30],
  'autoscaling/v1': [17500, 15],
  'batch/v1': [17400, 15],
  'certificates.k8s.io/v1': [17300, 15],
  'networking.k8s.io/v1': [17200, 15],
  'policy/v1': [17100, 15],
  'rbac.authorization.k8s.io/v1': [17000, 15],
  'storage.k8s.io/v1': [16800, 15],
  'admissionregistration.k8s.io/v1': [16700, 15],
  'apiextensions.k8s.io/v1': [16700, 15],
  'scheduling.k8s.io/v1': [16600, 15],
  'coordination.k8s.io/v1': [16500, 15],
  'node.k8s.io/v1': [16300, 15],
  'discovery.k8s.io/v1': [16200, 15],
  'flowcontrol.apiserver.k8s.io/v1': [16100, 21],
  'metrics.k8s.io/v1beta1': [100, 100],
  'metrics.k8s.io/v1': [100, 200],
};

export function priorityOf(group: string, version: string): { group: number; version: number } {
  const entry = PRIORITIES[`${group}/${version}`];
  if (entry) return { group: entry[0], version: entry[1] };
  const sameGroup = Object.entries(PRIORITIES).find(([key]) => key.startsWith(`${group}/`));
  return { group: sameGroup ? sameGroup[1][0] : 1000, version: 100 };
}
