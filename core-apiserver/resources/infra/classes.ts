// Cluster-scoped "class" kinds: storage.k8s.io StorageClass, scheduling.k8s.io PriorityClass and
// node.k8s.io RuntimeClass. Each is referenced by name from other objects, so the fields that decide what
// a reference means (provisioner, parameters, value, handler) are frozen once created.

import { defineResource } from '../../../apiserver/registry/resource.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import type { FieldError } from '../../../apiserver/request/status.js';
import { isDns1123Label, isQualifiedName } from '../../../apiserver/registry/names.js';
import { ageColumn, nameColumn } from '../../../apiserver/registry/table.js';
import { fieldDoc } from '../field-docs.js';
import { immutable, invalidEach, isObject, notSupported, required } from './common.js';

// ---- storage.k8s.io/v1 StorageClass ---------------------------------------------------------------

export const DEFAULT_STORAGE_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
const BETA_DEFAULT_STORAGE_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';
const MAX_PARAMETERS = 512;
const MAX_PARAMETERS_BYTES = 256 * 1024;

function defaultStorageClass(storageClass: KubeObject): void {
  storageClass.reclaimPolicy ??= 'Delete';
  storageClass.volumeBindingMode ??= 'Immediate';
}

function validateStorageClass(storageClass: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const provisioner = typeof storageClass.provisioner === 'string' ? storageClass.provisioner : '';
  if (!provisioner) errors.push(required('provisioner'));
  else errors.push(...invalidEach('provisioner', provisioner, isQualifiedName(provisioner.toLowerCase())));
  const parameters = isObject(storageClass.parameters) ? storageClass.parameters : {};
  const keys = Object.keys(parameters);
  if (keys.length > MAX_PARAMETERS) errors.push({ field: 'parameters', type: 'FieldValueInvalid', value: '', detail: `cannot have more than ${MAX_PARAMETERS} parameters` });
  let size = 0;
  for (const key of keys) {
    if (!key) errors.push({ field: 'parameters', type: 'FieldValueInvalid', value: '', detail: 'field can not be empty.' });
    size += key.length + String(parameters[key]).length;
  }
  if (size > MAX_PARAMETERS_BYTES) errors.push({ field: 'parameters', type: 'FieldValueTooLong', detail: `must have at most ${MAX_PARAMETERS_BYTES} bytes` });
  if (storageClass.reclaimPolicy !== undefined && !['Delete', 'Retain'].includes(storageClass.reclaimPolicy)) {
    errors.push(notSupported('reclaimPolicy', storageClass.reclaimPolicy, ['Delete', 'Retain']));
  }
  if (storageClass.volumeBindingMode === undefined || storageClass.volumeBindingMode === null) errors.push(required('volumeBindingMode'));
  else if (!['Immediate', 'WaitForFirstConsumer'].includes(storageClass.volumeBindingMode)) {
    errors.push(notSupported('volumeBindingMode', storageClass.volumeBindingMode, ['Immediate', 'WaitForFirstConsumer']));
  }
  return errors;
}

function validateStorageClassUpdate(storageClass: KubeObject, old: KubeObject): FieldError[] {
  const errors = validateStorageClass(storageClass);
  if (JSON.stringify(storageClass.parameters ?? {}) !== JSON.stringify(old.parameters ?? {})) {
    errors.push({ field: 'parameters', type: 'FieldValueForbidden', detail: 'updates to parameters are forbidden.' });
  }
  if (storageClass.provisioner !== old.provisioner) errors.push({ field: 'provisioner', type: 'FieldValueForbidden', detail: 'updates to provisioner are forbidden.' });
  if (storageClass.reclaimPolicy !== old.reclaimPolicy) errors.push({ field: 'reclaimPolicy', type: 'FieldValueForbidden', detail: 'updates to reclaimPolicy are forbidden.' });
  errors.push(...immutable(storageClass.volumeBindingMode, old.volumeBindingMode, 'volumeBindingMode'));
  return errors;
}

/** storageutil.IsDefaultAnnotation: the GA annotation, or the beta one, set to "true". */
export function isDefaultStorageClass(storageClass: KubeObject): boolean {
  const annotations = storageClass.metadata?.annotations ?? {};
  return annotations[DEFAULT_STORAGE_CLASS_ANNOTATION] === 'true' || annotations[BETA_DEFAULT_STORAGE_CLASS_ANNOTATION] === 'true';
}

function storageClassDoc(property: string) {
  return fieldDoc('io.k8s.api.storage.v1.StorageClass', property);
}

export const storageClasses = defineResource({
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'StorageClass',
  plural: 'storageclasses',
  namespaced: false,
  returnDeletedObject: true,
  shortNames: ['sc'],
  schemaName: 'io.k8s.api.storage.v1.StorageClass',
  strategy: {
    prepareForCreate: defaultStorageClass,
    prepareForUpdate: defaultStorageClass,
    validate: validateStorageClass,
    validateUpdate: validateStorageClassUpdate,
  },
  printerColumns: [
    { ...nameColumn, value: (storageClass) => `${storageClass.metadata?.name ?? ''}${isDefaultStorageClass(storageClass) ? ' (default)' : ''}` },
    { name: 'Provisioner', type: 'string', get description() { return storageClassDoc('provisioner'); }, value: (storageClass) => storageClass.provisioner ?? '' },
    { name: 'ReclaimPolicy', type: 'string', get description() { return storageClassDoc('reclaimPolicy'); }, value: (storageClass) => storageClass.reclaimPolicy ?? 'Delete' },
    { name: 'VolumeBindingMode', type: 'string', get description() { return storageClassDoc('volumeBindingMode'); }, value: (storageClass) => storageClass.volumeBindingMode ?? 'Immediate' },
    { name: 'AllowVolumeExpansion', type: 'string', get description() { return storageClassDoc('allowVolumeExpansion'); }, value: (storageClass) => storageClass.allowVolumeExpansion === true },
    ageColumn,
  ],
});

// ---- scheduling.k8s.io/v1 PriorityClass -----------------------------------------------------------

const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
const SYSTEM_PRIORITY_CLASSES: Record<string, number> = { 'system-node-critical': 2_000_001_000, 'system-cluster-critical': 2_000_000_000 };

/** scheduling.IsKnownSystemPriorityClass: the reason a `system-` class is refused, or undefined. */
function systemClassProblem(name: string, value: unknown, globalDefault: unknown): string | undefined {
  if (!(name in SYSTEM_PRIORITY_CLASSES)) return `${name} is not a known system priority class`;
  if (value !== SYSTEM_PRIORITY_CLASSES[name]) return `value of ${name} PriorityClass must be ${SYSTEM_PRIORITY_CLASSES[name]}`;
  if (globalDefault === true) return `globalDefault of ${name} PriorityClass must be false`;
  return undefined;
}

function validatePriorityClass(priorityClass: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const name = priorityClass.metadata?.name ?? '';
  if (name.startsWith('system-')) {
    const problem = systemClassProblem(name, priorityClass.value, priorityClass.globalDefault);
    if (problem) errors.push({ field: 'metadata.name', type: 'FieldValueForbidden', detail: `priority class names with 'system-' prefix are reserved for system use only. error: ${problem}` });
  } else if (typeof priorityClass.value === 'number' && priorityClass.value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    errors.push({ field: 'value', type: 'FieldValueForbidden', detail: `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}` });
  }
  if (priorityClass.preemptionPolicy !== undefined && !['Never', 'PreemptLowerPriority'].includes(priorityClass.preemptionPolicy)) {
    errors.push(notSupported('preemptionPolicy', priorityClass.preemptionPolicy, ['Never', 'PreemptLowerPriority']));
  }
  return errors;
}

function validatePriorityClassUpdate(priorityClass: KubeObject, old: KubeObject): FieldError[] {
  const errors = validatePriorityClass(priorityClass);
  if (priorityClass.value !== old.value) errors.push({ field: 'value', type: 'FieldValueForbidden', detail: 'may not be changed in an update.' });
  errors.push(...immutable(priorityClass.preemptionPolicy, old.preemptionPolicy, 'preemptionPolicy'));
  return errors;
}

function priorityClassDoc(property: string) {
  return fieldDoc('io.k8s.api.scheduling.v1.PriorityClass', property);
}

export const priorityClasses = defineResource({
  group: 'scheduling.k8s.io',
  version: 'v1',
  kind: 'PriorityClass',
  plural: 'priorityclasses',
  namespaced: false,
  shortNames: ['pc'],
  schemaName: 'io.k8s.api.scheduling.v1.PriorityClass',
  strategy: {
    prepareForCreate(priorityClass) {
      priorityClass.preemptionPolicy ??= 'PreemptLowerPriority';
    },
    prepareForUpdate(priorityClass) {
      priorityClass.preemptionPolicy ??= 'PreemptLowerPriority';
    },
    validate: validatePriorityClass,
    validateUpdate: validatePriorityClassUpdate,
  },
  printerColumns: [
    nameColumn,
    { name: 'Value', type: 'integer', get description() { return priorityClassDoc('value'); }, value: (priorityClass) => priorityClass.value ?? 0 },
    { name: 'Global-Default', type: 'boolean', get description() { return priorityClassDoc('globalDefault'); }, value: (priorityClass) => priorityClass.globalDefault === true },
    ageColumn,
    { name: 'PreemptionPolicy', type: 'string', get description() { return priorityClassDoc('preemptionPolicy'); }, value: (priorityClass) => priorityClass.preemptionPolicy ?? '' },
  ],
});

// ---- node.k8s.io/v1 RuntimeClass --------------------------------------------------------------------

function validateRuntimeClass(runtimeClass: KubeObject): FieldError[] {
  const handler = typeof runtimeClass.handler === 'string' ? runtimeClass.handler : '';
  if (!handler) return [required('handler')];
  return invalidEach('handler', handler, isDns1123Label(handler));
}

export const runtimeClasses = defineResource({
  group: 'node.k8s.io',
  version: 'v1',
  kind: 'RuntimeClass',
  plural: 'runtimeclasses',
  namespaced: false,
  schemaName: 'io.k8s.api.node.v1.RuntimeClass',
  strategy: {
    validate: validateRuntimeClass,
    validateUpdate: (runtimeClass, old) => [...validateRuntimeClass(runtimeClass), ...immutable(runtimeClass.handler, old.handler, 'handler')],
  },
  printerColumns: [
    nameColumn,
    { name: 'Handler', type: 'string', get description() { return fieldDoc('io.k8s.api.node.v1.RuntimeClass', 'handler'); }, value: (runtimeClass) => runtimeClass.handler ?? '' },
    ageColumn,
  ],
});
