// Every resource core-apiserver serves: adding a built-in kind is adding its declaration here (or to the
// group's own index).

import type { ResourceDefinition } from '../../apiserver/registry/resource.js';
import type { GenericStore } from '../../apiserver/registry/store.js';
import type { AdmissionChain } from '../../apiserver/admission/interface.js';
import { BindingStore } from './corev1/bindings.js';
import { ComponentStatusStore, controlPlaneProbes, type ComponentSources } from './corev1/component-statuses.js';
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

/** What the kinds that are never stored need from the server. */
export interface ComputedResourceSources {
  /** The stored kinds' stores by plural (bindings write pods). */
  store(plural: string): GenericStore;
  admission: AdmissionChain;
  components: ComponentSources;
}

/** Kinds that are not stored objects (v1 bindings, componentstatuses): each brings a store of its own. */
export function computedResourceStores(sources: ComputedResourceSources): GenericStore[] {
  return [new BindingStore(() => sources.store('pods'), sources.admission), new ComponentStatusStore(controlPlaneProbes(sources.components))];
}
