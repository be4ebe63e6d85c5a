// v1 Pod: defaulted as upstream's scheme and admission plugins do, validated with upstream's texts, spec
// frozen after creation except for the few mutable fields, printed as `kubectl get pods` prints.

import { defineResource, statusSubresource } from '../../../apiserver/registry/resource.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import { isObject, nowTimestamp } from '../../../apiserver/registry/object.js';
import { ageColumn, nameColumn } from '../../../apiserver/registry/table.js';
import { fieldDoc } from '../field-docs.js';
import { applyPodAdmissionDefaults, applyPodDefaults, podQOSClass, podSpecOf, schedulingGatedConditions } from './pod-defaults.js';
import { podCells, podIP, readinessGates } from './pod-printer.js';
import { validatePodSpec, validatePodSpecUpdate } from './pod-validation.js';
import { bindingSubresource } from './pod-binding.js';
import { evictionSubresource } from './pod-eviction.js';
import { ephemeralContainersSubresource } from './pod-ephemeral-containers.js';

const POD_SPEC = 'io.k8s.api.core.v1.PodSpec';
const POD_STATUS = 'io.k8s.api.core.v1.PodStatus';

function specField(pod: KubeObject, field: string): string | undefined {
  const value = isObject(pod.spec) ? pod.spec[field] : undefined;
  return value === undefined ? undefined : String(value);
}

function statusField(pod: KubeObject, field: string): string | undefined {
  const value = isObject(pod.status) ? pod.status[field] : undefined;
  return typeof value === 'string' ? value : undefined;
}

export const pods = defineResource({
  group: '',
  version: 'v1',
  kind: 'Pod',
  plural: 'pods',
  namespaced: true,
  returnDeletedObject: true,
  shortNames: ['po'],
  categories: ['all'],
  schemaName: 'io.k8s.api.core.v1.Pod',
  subresources: { status: statusSubresource, binding: bindingSubresource, eviction: evictionSubresource, ephemeralcontainers: ephemeralContainersSubresource },
  selectableFields: {
    'spec.nodeName': (pod) => specField(pod, 'nodeName'),
    'spec.restartPolicy': (pod) => specField(pod, 'restartPolicy'),
    'spec.schedulerName': (pod) => specField(pod, 'schedulerName'),
    'spec.serviceAccountName': (pod) => specField(pod, 'serviceAccountName'),
    'spec.hostNetwork': (pod) => specField(pod, 'hostNetwork') ?? 'false',
    'status.phase': (pod) => statusField(pod, 'phase'),
    'status.podIP': (pod) => statusField(pod, 'podIP'),
    'status.nominatedNodeName': (pod) => statusField(pod, 'nominatedNodeName'),
  },
  strategy: {
    prepareForCreate(pod) {
      applyPodDefaults(pod);
      applyPodAdmissionDefaults(pod);
      const spec = podSpecOf(pod);
      const conditions = schedulingGatedConditions(spec, nowTimestamp());
      pod.status = { phase: 'Pending', ...(conditions.length > 0 ? { conditions } : {}), qosClass: podQOSClass(spec) };
    },
    prepareForUpdate(pod) {
      applyPodDefaults(pod);
    },
    validate: (pod) => [
      ...validatePodSpec(podSpecOf(pod), 'spec'),
      // Only the ephemeralcontainers subresource adds them (upstream's ValidatePodCreate).
      ...(Array.isArray(podSpecOf(pod).ephemeralContainers) && (podSpecOf(pod).ephemeralContainers as unknown[]).length > 0
        ? [{ field: 'spec.ephemeralContainers', type: 'FieldValueForbidden' as const, detail: 'cannot be set on create' }]
        : []),
    ],
    validateUpdate: (pod, old) => [...validatePodSpec(podSpecOf(pod), 'spec'), ...validatePodSpecUpdate(pod, old)],
  },
  printerColumns: [
    nameColumn,
    { name: 'Ready', type: 'string', description: 'The aggregate readiness state of this pod for accepting traffic.', value: (pod) => podCells(pod).ready },
    { name: 'Status', type: 'string', description: 'The aggregate status of the containers in this pod.', value: (pod) => podCells(pod).status },
    {
      name: 'Restarts',
      type: 'string',
      description: 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
      value: (pod) => podCells(pod).restartsCell,
    },
    ageColumn,
    { name: 'IP', type: 'string', priority: 1, get description() { return fieldDoc(POD_STATUS, 'podIP'); }, value: podIP },
    { name: 'Node', type: 'string', priority: 1, get description() { return fieldDoc(POD_SPEC, 'nodeName'); }, value: (pod) => specField(pod, 'nodeName') || '<none>' },
    { name: 'Nominated Node', type: 'string', priority: 1, get description() { return fieldDoc(POD_STATUS, 'nominatedNodeName'); }, value: (pod) => statusField(pod, 'nominatedNodeName') || '<none>' },
    { name: 'Readiness Gates', type: 'string', priority: 1, get description() { return fieldDoc(POD_SPEC, 'readinessGates'); }, value: readinessGates },
  ],
});
