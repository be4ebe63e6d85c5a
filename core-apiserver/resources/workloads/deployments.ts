// apps/v1 Deployment and ReplicaSet: upstream's apps/v1 defaulting, ValidateDeploymentSpec /
// ValidateReplicaSetSpec (selector required, non-empty and matching the template; pods restart Always;
// rolling update bounds), the immutable apps/v1 selector, and the kubectl printers.
// The scale subresource (autoscaling/v1 Scale) is not declared: the framework cannot serve another kind yet.

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
  specOf,
  statusOf,
  validateAppsSelector,
  validateImmutable,
  validateIntOrPercent,
  validateNonNegative,
  validateNotOver100Percent,
} from './workload-fields.js';
import { labelSelectorFromMatch, type LabelSelectorSpec } from '../../../apiserver/registry/labels.js';
import { scaleSubresource } from '../../../apiserver/registry/scale.js';

const STATUS_SUBRESOURCE = { status: statusSubresource };
const STRATEGY_TYPES = ['Recreate', 'RollingUpdate'];

/** SetDefaults_Deployment (apps/v1) and the template's pod defaults. */
export function applyDeploymentDefaults(deployment: KubeObject): void {
  const spec = mutableSpec(deployment);
  spec.replicas ??= 1;
  if (!isObject(spec.strategy)) spec.strategy = {};
  const strategy = spec.strategy as Json;
  strategy.type ||= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    if (!isObject(strategy.rollingUpdate)) strategy.rollingUpdate = {};
    const rollingUpdate = strategy.rollingUpdate as Json;
    rollingUpdate.maxUnavailable ??= '25%';
    rollingUpdate.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  applyPodTemplateDefaults(mutableTemplate(spec));
}

/** ValidatePodTemplateSpecForReplicaSet, after the selector checks: pods of a replica set always restart. */
export function validateReplicatedTemplate(spec: Json): FieldError[] {
  const errors = validatePodTemplate(spec.template, 'spec.template');
  if (!isObject(spec.template)) return errors;
  const podSpec = podSpecOf(spec.template);
  if (podSpec.restartPolicy !== 'Always') errors.push({ field: 'spec.template.spec.restartPolicy', type: 'FieldValueNotSupported', value: podSpec.restartPolicy, supported: ['Always'] });
  if (podSpec.activeDeadlineSeconds !== undefined) {
    errors.push({ field: 'spec.template.spec.activeDeadlineSeconds', type: 'FieldValueForbidden', detail: 'activeDeadlineSeconds in ReplicaSet is not Supported' });
  }
  return errors;
}

function validateStrategy(strategy: unknown): FieldError[] {
  const path = 'spec.strategy';
  const value = isObject(strategy) ? strategy : {};
  if (value.type === 'Recreate') {
    return value.rollingUpdate !== undefined ? [{ field: `${path}.rollingUpdate`, type: 'FieldValueForbidden', detail: "may not be specified when strategy `type` is 'Recreate'" }] : [];
  }
  if (value.type !== 'RollingUpdate') return [{ field: `${path}.type`, type: 'FieldValueNotSupported', value: value.type, supported: STRATEGY_TYPES }];
  if (!isObject(value.rollingUpdate)) return [{ field: `${path}.rollingUpdate`, type: 'FieldValueRequired', detail: 'this should be defaulted and never be nil' }];
  const { maxUnavailable, maxSurge } = value.rollingUpdate;
  const errors = [...validateIntOrPercent(maxUnavailable, `${path}.rollingUpdate.maxUnavailable`), ...validateIntOrPercent(maxSurge, `${path}.rollingUpdate.maxSurge`)];
  if (intOrPercentValue(maxUnavailable) === 0 && intOrPercentValue(maxSurge) === 0) {
    errors.push({ field: `${path}.rollingUpdate.maxUnavailable`, type: 'FieldValueInvalid', value: maxUnavailable, detail: 'may not be 0 when `maxSurge` is 0' });
  }
  errors.push(...validateNotOver100Percent(maxUnavailable, `${path}.rollingUpdate.maxUnavailable`));
  return errors;
}

/** ValidateDeploymentSpec, on the defaulted object. */
export function validateDeployment(deployment: KubeObject): FieldError[] {
  const spec = specOf(deployment);
  const errors = [...validateNonNegative(spec.replicas, 'spec.replicas'), ...validateAppsSelector(spec, 'deployment'), ...validateReplicatedTemplate(spec)];
  errors.push(...validateStrategy(spec.strategy));
  errors.push(...validateNonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errors.push(...validateNonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  if (typeof spec.progressDeadlineSeconds === 'number') {
    errors.push(...validateNonNegative(spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds'));
    if (spec.progressDeadlineSeconds <= count(spec.minReadySeconds)) {
      errors.push({ field: 'spec.progressDeadlineSeconds', type: 'FieldValueInvalid', value: spec.progressDeadlineSeconds, detail: 'must be greater than minReadySeconds' });
    }
  }
  return errors;
}

/** The wide SELECTOR cell of Deployments and ReplicaSets (LabelSelectorAsSelector(...).String()). */
export function selectorString(selector: unknown): string {
  if (!isObject(selector)) return '';
  try {
    return labelSelectorFromMatch(selector as LabelSelectorSpec).toString();
  } catch {
    return '';
  }
}

const DEPLOYMENT_STATUS = 'io.k8s.api.apps.v1.DeploymentStatus';

export const deployments = defineResource({
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  namespaced: true,
  shortNames: ['deploy'],
  categories: ['all'],
  schemaName: 'io.k8s.api.apps.v1.Deployment',
  subresources: { ...STATUS_SUBRESOURCE, scale: scaleSubresource() },
  generation: true,
  strategy: {
    prepareForCreate(deployment) {
      applyDeploymentDefaults(deployment);
      // DeploymentStatus is a struct with only omitempty fields: a new Deployment shows `status: {}`.
      deployment.status = {};
    },
    prepareForUpdate(deployment) {
      applyDeploymentDefaults(deployment);
    },
    validate: validateDeployment,
    validateUpdate: (deployment, old) => [...validateDeployment(deployment), ...validateImmutable(specOf(deployment).selector, specOf(old).selector, 'spec.selector')],
  },
  printerColumns: [
    nameColumn,
    { name: 'Ready', type: 'string', description: READY_DESCRIPTION, value: (d) => `${count(statusOf(d).readyReplicas)}/${count(specOf(d).replicas)}` },
    { name: 'Up-to-date', type: 'integer', get description() { return doc(DEPLOYMENT_STATUS, 'updatedReplicas'); }, value: (d) => count(statusOf(d).updatedReplicas) },
    { name: 'Available', type: 'integer', get description() { return doc(DEPLOYMENT_STATUS, 'availableReplicas'); }, value: (d) => count(statusOf(d).availableReplicas) },
    ageColumn,
    { name: 'Containers', type: 'string', priority: 1, description: CONTAINERS_DESCRIPTION, value: (d) => containerCells(specOf(d).template).names },
    { name: 'Images', type: 'string', priority: 1, description: IMAGES_DESCRIPTION, value: (d) => containerCells(specOf(d).template).images },
    { name: 'Selector', type: 'string', priority: 1, get description() { return doc('io.k8s.api.apps.v1.DeploymentSpec', 'selector'); }, value: (d) => selectorString(specOf(d).selector) },
  ],
});

/** ValidateReplicaSetSpec. */
export function validateReplicaSet(replicaSet: KubeObject): FieldError[] {
  const spec = specOf(replicaSet);
  return [
    ...validateNonNegative(spec.replicas, 'spec.replicas'),
    ...validateNonNegative(spec.minReadySeconds, 'spec.minReadySeconds'),
    // Upstream's ReplicaSet validation says "for deployment" too.
    ...validateAppsSelector(spec, 'deployment'),
    ...validateReplicatedTemplate(spec),
  ];
}

function applyReplicaSetDefaults(replicaSet: KubeObject): void {
  const spec = mutableSpec(replicaSet);
  spec.replicas ??= 1;
  applyPodTemplateDefaults(mutableTemplate(spec));
}

const REPLICA_SET_STATUS = 'io.k8s.api.apps.v1.ReplicaSetStatus';

export const replicaSets = defineResource({
  group: 'apps',
  version: 'v1',
  kind: 'ReplicaSet',
  plural: 'replicasets',
  namespaced: true,
  shortNames: ['rs'],
  categories: ['all'],
  schemaName: 'io.k8s.api.apps.v1.ReplicaSet',
  subresources: { ...STATUS_SUBRESOURCE, scale: scaleSubresource() },
  generation: true,
  selectableFields: { 'status.replicas': (replicaSet) => String(count(statusOf(replicaSet).replicas)) },
  strategy: {
    prepareForCreate(replicaSet) {
      applyReplicaSetDefaults(replicaSet);
      // `replicas` is the one ReplicaSetStatus field without omitempty.
      replicaSet.status = { replicas: 0 };
    },
    prepareForUpdate: applyReplicaSetDefaults,
    validate: validateReplicaSet,
    validateUpdate: (replicaSet, old) => [...validateReplicaSet(replicaSet), ...validateImmutable(specOf(replicaSet).selector, specOf(old).selector, 'spec.selector')],
  },
  printerColumns: [
    nameColumn,
    { name: 'Desired', type: 'integer', get description() { return doc('io.k8s.api.apps.v1.ReplicaSetSpec', 'replicas'); }, value: (rs) => count(specOf(rs).replicas) },
    { name: 'Current', type: 'integer', get description() { return doc(REPLICA_SET_STATUS, 'replicas'); }, value: (rs) => count(statusOf(rs).replicas) },
    { name: 'Ready', type: 'integer', get description() { return doc(REPLICA_SET_STATUS, 'readyReplicas'); }, value: (rs) => count(statusOf(rs).readyReplicas) },
    ageColumn,
    { name: 'Containers', type: 'string', priority: 1, description: CONTAINERS_DESCRIPTION, value: (rs) => containerCells(specOf(rs).template).names },
    { name: 'Images', type: 'string', priority: 1, description: IMAGES_DESCRIPTION, value: (rs) => containerCells(specOf(rs).template).images },
    { name: 'Selector', type: 'string', priority: 1, get description() { return doc('io.k8s.api.apps.v1.ReplicaSetSpec', 'selector'); }, value: (rs) => formatSelector(specOf(rs).selector) },
  ],
});
