// The core v1 kinds beyond the ones core-apiserver started with; the integrator adds them to the server.

import type { ResourceDefinition } from '../../../apiserver/registry/resource.js';
import { events, serviceAccounts } from './accounts-events.js';
import { podTemplates, replicationControllers } from './controllers.js';
import { nodes } from './nodes.js';
import { pods } from './pods.js';
import { limitRanges, resourceQuotas } from './quotas.js';
import { persistentVolumeClaims, persistentVolumes } from './volumes.js';

export const core1Resources: ResourceDefinition[] = [
  pods,
  nodes,
  serviceAccounts,
  events,
  limitRanges,
  resourceQuotas,
  persistentVolumes,
  persistentVolumeClaims,
  podTemplates,
  replicationControllers,
];

/** All of these are in the legacy core group, whose discovery needs no APIService priority. */
export const core1Priorities: Record<string, { group: number; version: number }> = {};
