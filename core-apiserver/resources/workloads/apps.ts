// apps/v1 StatefulSet, DaemonSet and ControllerRevision: apps/v1 defaulting, the spec validation users
// meet (selector, template, update strategies), what may change on update, and the kubectl printers.
// StatefulSet's scale subresource is not declared: the framework cannot serve another kind yet.

import { defineResource, statusSubresource } from '../../../apiserver/registry/resource.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import { isObject } from '../../../apiserver/registry/object.js';
import type { FieldError } from '../../../apiserver/request/status.js';
import { ageColumn, nameColumn } from '../../../apiserver/registry/table.js';
import { applyPodTemplateDefaults, containerCells, podSpecOf, validatePodTemplate } from './pod-template.js';
import type { Json } from './workload-fields.js';
import {
  CONTAINERS_DESCRIPTION,
  count,
  doc,
  formatSelector,
  IMAGES_DESCRIPTION,
  intOrPercentValue,
  mutableSpec,
  mutableTemplate,
  READY_DESCRIPTION,
  sameJson,
  specOf,
  statusOf,
  validateAppsSelector,
  validateImmutable,
  validateIntOrPercent,
  validateNonNegative,
  validateNotOver100Percent,
} from './workload-fields.js';
import { formatLabels } from '../services.js';
import { scaleSubresource } from '../../../apiserver/registry/scale.js';

const STATUS_SUBRESOURCE = { status: statusSubresource };
const RETENTION_POLICIES = ['Retain', 'Delete'];
const TEMPLATE_GENERATION = 'deprecated.daemonset.template.generation';

/** Pods of a controller restart Always and have no deadline (`kindName` appears in upstream's text). */
function validateControllerTemplate(spec: Json, kindName: string): FieldError[] {
  const errors = validatePodTemplate(spec.template, 'spec.template');
  if (!isObject(spec.template)) return errors;
  const podSpec = podSpecOf(spec.template);
  if (podSpec.restartPolicy !== 'Always') errors.push({ field: 'spec.template.spec.restartPolicy', type: 'FieldValueNotSupported', value: podSpec.restartPolicy, supported: ['Always'] });
  if (podSpec.activeDeadlineSeconds !== undefined) {
    errors.push({ field: 'spec.template.spec.activeDeadlineSeconds', type: 'FieldValueForbidden', detail: `activeDeadlineSeconds in ${kindName} is not Supported` });
  }
  return errors;
}

function objectField(parent: Json, key: string): Json {
  if (!isObject(parent[key])) parent[key] = {};
  return parent[key] as Json;
}

// ---- StatefulSet ----------------------------------------------------------------------------------

/** SetDefaults_StatefulSet (apps/v1), with the claim templates' PVC defaults. */
export function applyStatefulSetDefaults(statefulSet: KubeObject): void {
  const spec = mutableSpec(statefulSet);
  spec.podManagementPolicy ||= 'OrderedReady';
  const updateStrategy = objectField(spec, 'updateStrategy');
  updateStrategy.type ||= 'RollingUpdate';
  if (updateStrategy.type === 'RollingUpdate') objectField(updateStrategy, 'rollingUpdate').partition ??= 0;
  const retention = objectField(spec, 'persistentVolumeClaimRetentionPolicy');
  retention.whenDeleted ||= 'Retain';
  retention.whenScaled ||= 'Retain';
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= 10;
  applyPodTemplateDefaults(mutableTemplate(spec));
  for (const claim of Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : []) {
    if (!isObject(claim)) continue;
    objectField(claim, 'spec').volumeMode ??= 'Filesystem';
    objectField(claim, 'status').phase ||= 'Pending';
  }
}

export function validateStatefulSet(statefulSet: KubeObject): FieldError[] {
  const spec = specOf(statefulSet);
  const errors: FieldError[] = [];
  const policy = spec.podManagementPolicy;
  if (!policy) errors.push({ field: 'spec.podManagementPolicy', type: 'FieldValueRequired' });
  else if (policy !== 'OrderedReady' && policy !== 'Parallel') errors.push({ field: 'spec.podManagementPolicy', type: 'FieldValueInvalid', value: policy, detail: "must be 'OrderedReady' or 'Parallel'" });
  const updateStrategy = isObject(spec.updateStrategy) ? spec.updateStrategy : {};
  switch (updateStrategy.type) {
    case 'OnDelete':
      if (updateStrategy.rollingUpdate !== undefined) {
        errors.push({ field: 'spec.updateStrategy.rollingUpdate', type: 'FieldValueInvalid', value: updateStrategy.rollingUpdate, detail: "only allowed for updateStrategy 'RollingUpdate'" });
      }
      break;
    case 'RollingUpdate':
      if (isObject(updateStrategy.rollingUpdate)) errors.push(...validateNonNegative(updateStrategy.rollingUpdate.partition, 'spec.updateStrategy.rollingUpdate.partition'));
      break;
    case undefined:
    case '':
      errors.push({ field: 'spec.updateStrategy', type: 'FieldValueRequired' });
      break;
    default:
      errors.push({ field: 'spec.updateStrategy', type: 'FieldValueInvalid', value: updateStrategy.type, detail: "must be 'RollingUpdate' or 'OnDelete'" });
  }
  const retention = isObject(spec.persistentVolumeClaimRetentionPolicy) ? spec.persistentVolumeClaimRetentionPolicy : {};
  for (const key of ['whenDeleted', 'whenScaled']) {
    if (!RETENTION_POLICIES.includes(String(retention[key]))) {
      errors.push({ field: `spec.persistentVolumeClaimRetentionPolicy.${key}`, type: 'FieldValueNotSupported', value: retention[key], supported: RETENTION_POLICIES });
    }
  }
  errors.push(...validateNonNegative(spec.replicas, 'spec.replicas'), ...validateNonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errors.push(...validateAppsSelector(spec, 'statefulset'), ...validateControllerTemplate(spec, 'StatefulSet'));
  return errors;
}

const STATEFUL_SET_MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

/** ValidateStatefulSetUpdate: only a few spec fields may change. */
export function validateStatefulSetUpdate(statefulSet: KubeObject, old: KubeObject): FieldError[] {
  const strip = (spec: Json) => Object.fromEntries(Object.entries(spec).filter(([key]) => !STATEFUL_SET_MUTABLE.includes(key)));
  const errors = validateStatefulSet(statefulSet);
  if (!sameJson(strip(specOf(statefulSet)), strip(specOf(old)))) {
    errors.push({
      field: 'spec',
      type: 'FieldValueForbidden',
      detail: "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    });
  }
  return errors;
}

export const statefulSets = defineResource({
  group: 'apps',
  version: 'v1',
  kind: 'StatefulSet',
  plural: 'statefulsets',
  namespaced: true,
  shortNames: ['sts'],
  categories: ['all'],
  schemaName: 'io.k8s.api.apps.v1.StatefulSet',
  subresources: { ...STATUS_SUBRESOURCE, scale: scaleSubresource() },
  generation: true,
  strategy: {
    prepareForCreate(statefulSet) {
      applyStatefulSetDefaults(statefulSet);
      // replicas and availableReplicas are the StatefulSetStatus fields without omitempty.
      statefulSet.status = { replicas: 0, availableReplicas: 0 };
    },
    prepareForUpdate: applyStatefulSetDefaults,
    validate: validateStatefulSet,
    validateUpdate: validateStatefulSetUpdate,
  },
  printerColumns: [
    nameColumn,
    { name: 'Ready', type: 'string', description: READY_DESCRIPTION, value: (sts) => `${count(statusOf(sts).readyReplicas)}/${count(specOf(sts).replicas)}` },
    ageColumn,
    { name: 'Containers', type: 'string', priority: 1, description: CONTAINERS_DESCRIPTION, value: (sts) => containerCells(specOf(sts).template).names },
    { name: 'Images', type: 'string', priority: 1, description: IMAGES_DESCRIPTION, value: (sts) => containerCells(specOf(sts).template).images },
  ],
});

// ---- DaemonSet ------------------------------------------------------------------------------------

/** SetDefaults_DaemonSet (apps/v1). */
export function applyDaemonSetDefaults(daemonSet: KubeObject): void {
  const spec = mutableSpec(daemonSet);
  const updateStrategy = objectField(spec, 'updateStrategy');
  updateStrategy.type ||= 'RollingUpdate';
  if (updateStrategy.type === 'RollingUpdate') {
    const rollingUpdate = objectField(updateStrategy, 'rollingUpdate');
    rollingUpdate.maxUnavailable ??= 1;
    rollingUpdate.maxSurge ??= 0;
  }
  spec.revisionHistoryLimit ??= 10;
  applyPodTemplateDefaults(mutableTemplate(spec));
}

function validateDaemonSetStrategy(strategy: unknown): FieldError[] {
  const value = isObject(strategy) ? strategy : {};
  if (value.type === 'OnDelete') return [];
  if (value.type !== 'RollingUpdate') return [{ field: 'spec.updateStrategy', type: 'FieldValueNotSupported', value: value.type, supported: ['RollingUpdate', 'OnDelete'] }];
  if (!isObject(value.rollingUpdate)) return [{ field: 'spec.updateStrategy.rollingUpdate', type: 'FieldValueRequired' }];
  const path = 'spec.updateStrategy.rollingUpdate';
  const { maxUnavailable, maxSurge } = value.rollingUpdate;
  const errors = [
    ...validateIntOrPercent(maxUnavailable, `${path}.maxUnavailable`),
    ...validateIntOrPercent(maxSurge, `${path}.maxSurge`),
    ...validateNotOver100Percent(maxUnavailable, `${path}.maxUnavailable`),
    ...validateNotOver100Percent(maxSurge, `${path}.maxSurge`),
  ];
  const hasUnavailable = intOrPercentValue(maxUnavailable) !== 0;
  const hasSurge = intOrPercentValue(maxSurge) !== 0;
  if (hasUnavailable && hasSurge) errors.push({ field: `${path}.maxSurge`, type: 'FieldValueInvalid', value: maxSurge, detail: 'may not be set when maxUnavailable is non-zero' });
  if (!hasUnavailable && !hasSurge) errors.push({ field: `${path}.maxUnavailable`, type: 'FieldValueRequired', detail: 'cannot be 0 when maxSurge is 0' });
  return errors;
}

export function validateDaemonSet(daemonSet: KubeObject): FieldError[] {
  const spec = specOf(daemonSet);
  return [
    ...validateAppsSelector(spec, 'daemonset'),
    ...validateControllerTemplate(spec, 'DaemonSet'),
    ...validateNonNegative(spec.minReadySeconds, 'spec.minReadySeconds'),
    ...validateDaemonSetStrategy(spec.updateStrategy),
    ...validateNonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'),
  ];
}

function annotationsOf(object: KubeObject): Record<string, string> {
  object.metadata.annotations ??= {};
  return object.metadata.annotations;
}

const DAEMON_SET_STATUS = 'io.k8s.api.apps.v1.DaemonSetStatus';

export const daemonSets = defineResource({
  group: 'apps',
  version: 'v1',
  kind: 'DaemonSet',
  plural: 'daemonsets',
  namespaced: true,
  shortNames: ['ds'],
  categories: ['all'],
  schemaName: 'io.k8s.api.apps.v1.DaemonSet',
  subresources: STATUS_SUBRESOURCE,
  generation: true,
  strategy: {
    prepareForCreate(daemonSet) {
      applyDaemonSetDefaults(daemonSet);
      // The four DaemonSetStatus counters without omitempty.
      daemonSet.status = { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 };
      // apps/v1 carries the internal templateGeneration in this annotation.
      annotationsOf(daemonSet)[TEMPLATE_GENERATION] = '1';
    },
    prepareForUpdate(daemonSet, old) {
      applyDaemonSetDefaults(daemonSet);
      const previous = Number(old.metadata.annotations?.[TEMPLATE_GENERATION] ?? '1') || 1;
      const changed = !sameJson(specOf(daemonSet).template, specOf(old).template);
      annotationsOf(daemonSet)[TEMPLATE_GENERATION] = String(changed ? previous + 1 : previous);
    },
    validate: validateDaemonSet,
    validateUpdate: (daemonSet, old) => [...validateDaemonSet(daemonSet), ...validateImmutable(specOf(daemonSet).selector, specOf(old).selector, 'spec.selector')],
  },
  printerColumns: [
    nameColumn,
    { name: 'Desired', type: 'integer', get description() { return doc(DAEMON_SET_STATUS, 'desiredNumberScheduled'); }, value: (ds) => count(statusOf(ds).desiredNumberScheduled) },
    { name: 'Current', type: 'integer', get description() { return doc(DAEMON_SET_STATUS, 'currentNumberScheduled'); }, value: (ds) => count(statusOf(ds).currentNumberScheduled) },
    { name: 'Ready', type: 'integer', get description() { return doc(DAEMON_SET_STATUS, 'numberReady'); }, value: (ds) => count(statusOf(ds).numberReady) },
    { name: 'Up-to-date', type: 'integer', get description() { return doc(DAEMON_SET_STATUS, 'updatedNumberScheduled'); }, value: (ds) => count(statusOf(ds).updatedNumberScheduled) },
    { name: 'Available', type: 'integer', get description() { return doc(DAEMON_SET_STATUS, 'numberAvailable'); }, value: (ds) => count(statusOf(ds).numberAvailable) },
    { name: 'Node Selector', type: 'string', get description() { return doc('io.k8s.api.core.v1.PodSpec', 'nodeSelector'); }, value: (ds) => formatLabels(podSpecOf(specOf(ds).template).nodeSelector) },
    ageColumn,
    { name: 'Containers', type: 'string', priority: 1, description: CONTAINERS_DESCRIPTION, value: (ds) => containerCells(specOf(ds).template).names },
    { name: 'Images', type: 'string', priority: 1, description: IMAGES_DESCRIPTION, value: (ds) => containerCells(specOf(ds).template).images },
    { name: 'Selector', type: 'string', priority: 1, get description() { return doc('io.k8s.api.apps.v1.DaemonSetSpec', 'selector'); }, value: (ds) => formatSelector(specOf(ds).selector) },
  ],
});

// ---- ControllerRevision ---------------------------------------------------------------------------

/** The CONTROLLER cell: `<kind>.<group>/<name>` in lower case, `<none>` without a controller reference. */
export function controllerOf(object: KubeObject): string {
  const reference = (object.metadata.ownerReferences ?? []).find((owner) => owner.controller === true);
  if (!reference) return '<none>';
  const apiVersion = String(reference.apiVersion ?? '');
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  const groupKind = group ? `${reference.kind}.${group}` : String(reference.kind ?? '');
  return groupKind ? `${groupKind.toLowerCase()}/${reference.name}` : String(reference.name);
}

function validateControllerRevision(revision: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  if (revision.data === undefined || revision.data === null) errors.push({ field: 'data', type: 'FieldValueRequired', detail: 'data is mandatory' });
  errors.push(...validateNonNegative(revision.revision, 'revision'));
  return errors;
}

export const controllerRevisions = defineResource({
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  plural: 'controllerrevisions',
  namespaced: true,
  schemaName: 'io.k8s.api.apps.v1.ControllerRevision',
  strategy: {
    validate: validateControllerRevision,
    validateUpdate: (revision, old) => [...validateControllerRevision(revision), ...validateImmutable(revision.data, old.data, 'data')],
  },
  printerColumns: [
    nameColumn,
    { name: 'Controller', type: 'string', description: 'Controller of the object', value: controllerOf },
    { name: 'Revision', type: 'integer', get description() { return doc('io.k8s.api.apps.v1.ControllerRevision', 'revision'); }, value: (revision) => count(revision.revision) },
    ageColumn,
  ],
});
