// Every resource core-apiserver serves: adding a built-in kind is adding its declaration here (or to the
// group's own index).

import type { ResourceDefinition } from '../../apiserver/registry/resource.js';
import { configMaps } from './configmaps.js';
import { endpoints } from './endpoints.js';
import { endpointSlices } from './endpointslices.js';
import { namespaces } from './namespaces.js';
import { secrets } from './secrets.js';
import { services } from './services.js';
import { infraPriorities, infraResources } from './infra/index.js';
import { core1Resources } from './corev1/index.js';
import { workloadPriorities, workloadResources } from './workloads/index.js';

export const coreResources: ResourceDefinition[] = [namespaces, configMaps, secrets, services, endpoints, endpointSlices, ...core1Resources, ...workloadResources, ...infraResources];

/** Discovery priorities of the group-versions served here (upstream's APIService priorities). */
export const corePriorities: Record<string, { group: number; version: number }> = {
  '/v1': { group: 18000, version: 1 },
  'discovery.k8s.io/v1': { group: 16200, version: 15 },
  'authentication.k8s.io/v1': { group: 17700, version: 15 },
  'authorization.k8s.io/v1': { group: 17600, version: 15 },
  ...workloadPriorities,
  ...infraPriorities,
};
