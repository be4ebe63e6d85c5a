// The infrastructure kinds (networking, RBAC, storage and scheduling classes, admission webhooks, leases,
// events, CSRs, flow control) and the discovery priorities of their groups, for the server to register.

import type { ResourceDefinition } from '../../../apiserver/registry/resource.js';
import { certificateSigningRequests, flowSchemas, priorityLevelConfigurations } from './certificates-flowcontrol.js';
import { priorityClasses, runtimeClasses, storageClasses } from './classes.js';
import { csiResources } from './csi.js';
import { events, leases } from './leases-events.js';
import { ingressClasses, ingresses, networkPolicies } from './networking.js';
import { rbacResources } from './rbac.js';
import { mutatingWebhookConfigurations, validatingWebhookConfigurations } from './webhooks.js';
import { validatingAdmissionPolicies, validatingAdmissionPolicyBindings } from './admission-policies.js';

export const infraResources: ResourceDefinition[] = [
  ingresses,
  ingressClasses,
  networkPolicies,
  leases,
  ...rbacResources,
  storageClasses,
  ...csiResources,
  priorityClasses,
  mutatingWebhookConfigurations,
  validatingWebhookConfigurations,
  validatingAdmissionPolicies,
  validatingAdmissionPolicyBindings,
  events,
  runtimeClasses,
  certificateSigningRequests,
  flowSchemas,
  priorityLevelConfigurations,
];

/** Upstream's APIService priorities (group, version) for the groups above. */
export const infraPriorities: Record<string, { group: number; version: number }> = {
  'events.k8s.io/v1': { group: 17750, version: 15 },
  'certificates.k8s.io/v1': { group: 17300, version: 15 },
  'networking.k8s.io/v1': { group: 17200, version: 15 },
  'rbac.authorization.k8s.io/v1': { group: 17000, version: 15 },
  'storage.k8s.io/v1': { group: 16800, version: 15 },
  'admissionregistration.k8s.io/v1': { group: 16700, version: 15 },
  'scheduling.k8s.io/v1': { group: 16600, version: 15 },
  'coordination.k8s.io/v1': { group: 16500, version: 15 },
  'node.k8s.io/v1': { group: 16300, version: 15 },
  'flowcontrol.apiserver.k8s.io/v1': { group: 16100, version: 21 },
};
