// The workload APIs (apps/v1, batch/v1, autoscaling/v2 and v1, policy/v1), for the integrator to serve next to
// the core resources, with the discovery priorities of upstream's APIService table.

import type { ResourceDefinition } from '../../../apiserver/registry/resource.js';
import { controllerRevisions, daemonSets, statefulSets } from './apps.js';
import { cronJobs } from './cronjobs.js';
import { deployments, replicaSets } from './deployments.js';
import { jobs } from './jobs.js';
import { horizontalPodAutoscalers, podDisruptionBudgets } from './scaling.js';
import { horizontalPodAutoscalersV1 } from './autoscaling-v1.js';

export const workloadResources: ResourceDefinition[] = [
  deployments,
  replicaSets,
  statefulSets,
  daemonSets,
  controllerRevisions,
  jobs,
  cronJobs,
  // Before v2: the server keeps one store per plural for its controllers, and that is the stored version's.
  horizontalPodAutoscalersV1,
  horizontalPodAutoscalers,
  podDisruptionBudgets,
];

export const workloadPriorities: Record<string, { group: number; version: number }> = {
  'apps/v1': { group: 17800, version: 15 },
  'autoscaling/v2': { group: 17500, version: 30 },
  'autoscaling/v1': { group: 17500, version: 15 },
  'batch/v1': { group: 17400, version: 15 },
  'policy/v1': { group: 17100, version: 15 },
};
