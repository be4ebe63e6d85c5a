// v1 PodTemplate and ReplicationController: their pod templates get the pod spec defaults and checks; a
// controller's selector and labels default to the template's labels, which the selector must match.

import { defineResource, statusSubresource } from '../../../apiserver/registry/resource.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import { isObject } from '../../../apiserver/registry/object.js';
import type { FieldError } from '../../../apiserver/request/status.js';
import { ageColumn, nameColumn } from '../../../apiserver/registry/table.js';
import { fieldDoc } from '../field-docs.js';
import { formatLabels } from '../services.js';
import type { Json } from './pod-defaults.js';
import { applyPodSpecDefaults, objectsOf } from './pod-defaults.js';
import { validatePodSpec } from './pod-validation.js';
import { scaleSubresource } from '../../../apiserver/registry/scale.js';

const RC_SPEC = 'io.k8s.api.core.v1.ReplicationControllerSpec';
const RC_STATUS = 'io.k8s.api.core.v1.ReplicationControllerStatus';

function record(value: unknown): Json {
  return isObject(value) ? value : {};
}

function templateSpec(template: unknown): Json {
  return record(record(template).spec);
}

function containerNames(template: unknown): string {
  return objectsOf(templateSpec(template).containers)
    .map((container) => String(container.name ?? ''))
    .join(',');
}

function containerImages(template: unknown): string {
  return objectsOf(templateSpec(template).containers)
    .map((container) => String(container.image ?? ''))
    .join(',');
}

function defaultTemplate(template: unknown): void {
  if (isObject(template) && isObject(template.spec)) applyPodSpecDefaults(template.spec);
}

function validateTemplate(template: unknown, path: string): FieldError[] {
  if (!isObject(template)) return [{ field: path, type: 'FieldValueRequired' }];
  return validatePodSpec(templateSpec(template), `${path}.spec`);
}

export const podTemplates = defineResource({
  group: '',
  version: 'v1',
  kind: 'PodTemplate',
  plural: 'podtemplates',
  namespaced: true,
  returnDeletedObject: true,
  schemaName: 'io.k8s.api.core.v1.PodTemplate',
  strategy: {
    prepareForCreate: (object) => defaultTemplate(object.template),
    prepareForUpdate: (object) => defaultTemplate(object.template),
    validate: (object) => validateTemplate(object.template, 'template'),
    validateUpdate: (object) => validateTemplate(object.template, 'template'),
  },
  printerColumns: [
    nameColumn,
    { name: 'Containers', type: 'string', description: 'Names of each container in the template.', value: (object) => containerNames(object.template) },
    { name: 'Images', type: 'string', description: 'Images referenced by each container in the template.', value: (object) => containerImages(object.template) },
    { name: 'Pod Labels', type: 'string', description: 'The labels for the pod template.', value: (object) => formatLabels(record(record(object.template).metadata).labels) },
  ],
});

function applyControllerDefaults(controller: KubeObject): void {
  if (!isObject(controller.spec)) controller.spec = {};
  const spec = controller.spec as Json;
  const labels = record(record(record(spec.template).metadata).labels);
  if (Object.keys(labels).length > 0) {
    if (Object.keys(record(spec.selector)).length === 0) spec.selector = { ...labels };
    if (Object.keys(controller.metadata.labels ?? {}).length === 0) controller.metadata.labels = { ...labels } as Record<string, string>;
  }
  spec.replicas ??= 1;
  defaultTemplate(spec.template);
}

function validateController(controller: KubeObject): FieldError[] {
  const spec = record(controller.spec);
  const errors: FieldError[] = [];
  const replicas = spec.replicas;
  if (typeof replicas === 'number' && replicas < 0) errors.push({ field: 'spec.replicas', type: 'FieldValueInvalid', value: replicas, detail: 'must be greater than or equal to 0' });
  const selector = record(spec.selector);
  if (Object.keys(selector).length === 0) errors.push({ field: 'spec.selector', type: 'FieldValueRequired' });
  if (!isObject(spec.template)) {
    errors.push({ field: 'spec.template', type: 'FieldValueRequired' });
    return errors;
  }
  const labels = record(record(spec.template.metadata).labels);
  if (Object.keys(selector).length > 0 && !Object.entries(selector).every(([key, value]) => labels[key] === value)) {
    errors.push({ field: 'spec.template.metadata.labels', type: 'FieldValueInvalid', value: labels, detail: 'selector does not match template labels' });
  }
  errors.push(...validateTemplate(spec.template, 'spec.template'));
  const restart = templateSpec(spec.template).restartPolicy;
  if (restart !== undefined && restart !== 'Always') errors.push({ field: 'spec.template.spec.restartPolicy', type: 'FieldValueNotSupported', value: restart, supported: ['Always'] });
  return errors;
}

function integer(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}

export const replicationControllers = defineResource({
  group: '',
  version: 'v1',
  kind: 'ReplicationController',
  plural: 'replicationcontrollers',
  namespaced: true,
  shortNames: ['rc'],
  categories: ['all'],
  schemaName: 'io.k8s.api.core.v1.ReplicationController',
  generation: true,
  subresources: { status: statusSubresource, scale: scaleSubresource() },
  selectableFields: { 'status.replicas': (controller) => String(integer(record(controller.status).replicas)) },
  strategy: {
    defaultGarbageCollectionPolicy: 'Orphan', // v1 orphans its pods by default, for backward compatibility
    prepareForCreate(controller) {
      applyControllerDefaults(controller);
      // `replicas` is not omitempty in v1: a new controller shows `status: {replicas: 0}`.
      controller.status = { replicas: 0 };
    },
    prepareForUpdate: applyControllerDefaults,
    validate: validateController,
    validateUpdate: validateController,
  },
  printerColumns: [
    nameColumn,
    { name: 'Desired', type: 'integer', get description() { return fieldDoc(RC_SPEC, 'replicas'); }, value: (rc) => integer(record(rc.spec).replicas) },
    { name: 'Current', type: 'integer', get description() { return fieldDoc(RC_STATUS, 'replicas'); }, value: (rc) => integer(record(rc.status).replicas) },
    { name: 'Ready', type: 'integer', get description() { return fieldDoc(RC_STATUS, 'readyReplicas'); }, value: (rc) => integer(record(rc.status).readyReplicas) },
    ageColumn,
    { name: 'Containers', type: 'string', priority: 1, description: 'Names of each container in the template.', value: (rc) => containerNames(record(rc.spec).template) },
    { name: 'Images', type: 'string', priority: 1, description: 'Images referenced by each container in the template.', value: (rc) => containerImages(record(rc.spec).template) },
    { name: 'Selector', type: 'string', priority: 1, get description() { return fieldDoc(RC_SPEC, 'selector'); }, value: (rc) => formatLabels(record(rc.spec).selector) },
  ],
});
