// v1 PersistentVolume (cluster-scoped) and PersistentVolumeClaim: defaults, the checks users hit first
// (capacity, access modes, one volume type, claim spec frozen) and upstream's printers.

import { defineResource, statusSubresource } from '../../../apiserver/registry/resource.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import { isObject, nowTimestamp } from '../../../apiserver/registry/object.js';
import type { FieldError } from '../../../apiserver/request/status.js';
import { ageColumn, nameColumn } from '../../../apiserver/registry/table.js';
import { fieldDoc } from '../field-docs.js';
import type { Json } from './pod-defaults.js';
import { quantityString } from '../../../apiserver/registry/quantity.js';

const PV_SPEC = 'io.k8s.api.core.v1.PersistentVolumeSpec';
const PV_STATUS = 'io.k8s.api.core.v1.PersistentVolumeStatus';
const PVC_SPEC = 'io.k8s.api.core.v1.PersistentVolumeClaimSpec';
const PVC_STATUS = 'io.k8s.api.core.v1.PersistentVolumeClaimStatus';
const BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';
const ACCESS_MODES: [string, string][] = [
  ['ReadWriteOnce', 'RWO'],
  ['ReadOnlyMany', 'ROX'],
  ['ReadWriteMany', 'RWX'],
  ['ReadWriteOncePod', 'RWOP'],
];
const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'];
const VOLUME_MODES = ['Block', 'Filesystem'];
const PV_SOURCES = [
  'awsElasticBlockStore', 'azureDisk', 'azureFile', 'cephfs', 'cinder', 'csi', 'fc', 'flexVolume', 'flocker', 'gcePersistentDisk', 'glusterfs',
  'hostPath', 'iscsi', 'local', 'nfs', 'photonPersistentDisk', 'portworxVolume', 'quobyte', 'rbd', 'scaleIO', 'storageos', 'vsphereVolume',
];

function record(value: unknown): Json {
  return isObject(value) ? value : {};
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** `RWO,RWX`: in upstream's fixed order, each mode once. */
export function accessModesString(modes: unknown): string {
  const list = Array.isArray(modes) ? modes : [];
  return ACCESS_MODES.filter(([mode]) => list.includes(mode))
    .map(([, short]) => short)
    .join(',');
}

function storageClass(object: KubeObject): string {
  const annotation = object.metadata.annotations?.[BETA_STORAGE_CLASS];
  return annotation !== undefined ? annotation : text(record(object.spec).storageClassName);
}

/** `namespace/name` of the bound claim. */
function claimCell(volume: KubeObject): string {
  const ref = record(volume.spec).claimRef;
  return isObject(ref) ? `${text(ref.namespace)}/${text(ref.name)}` : '';
}

function specOf(object: KubeObject): Json {
  if (!isObject(object.spec)) object.spec = {};
  return object.spec as Json;
}

function phaseCell(object: KubeObject): string {
  return object.metadata.deletionTimestamp ? 'Terminating' : text(record(object.status).phase);
}

function optionalCell(value: unknown): string {
  return typeof value === 'string' ? value : '<unset>';
}

function validateAccessModes(modes: unknown, path: string, detail?: string): FieldError[] {
  const list = Array.isArray(modes) ? modes : [];
  if (list.length === 0) return [{ field: path, type: 'FieldValueRequired', ...(detail ? { detail } : {}) }];
  const supported = ACCESS_MODES.map(([mode]) => mode);
  return list.filter((mode) => !supported.includes(String(mode))).map((mode) => ({ field: path, type: 'FieldValueNotSupported' as const, value: mode, supported }));
}

function validateVolumeMode(mode: unknown, path: string): FieldError[] {
  return mode === undefined || VOLUME_MODES.includes(String(mode)) ? [] : [{ field: path, type: 'FieldValueNotSupported', value: mode, supported: VOLUME_MODES }];
}

function validatePersistentVolume(volume: KubeObject): FieldError[] {
  const spec = record(volume.spec);
  const errors = validateAccessModes(spec.accessModes, 'spec.accessModes');
  const capacity = record(spec.capacity);
  if (Object.keys(capacity).length === 0) errors.push({ field: 'spec.capacity', type: 'FieldValueRequired' });
  else if (!('storage' in capacity) || Object.keys(capacity).length > 1) {
    errors.push({ field: 'spec.capacity', type: 'FieldValueNotSupported', value: Object.keys(capacity).filter((key) => key !== 'storage')[0] ?? '', supported: ['storage'] });
  }
  const reclaim = spec.persistentVolumeReclaimPolicy;
  if (reclaim !== undefined && !RECLAIM_POLICIES.includes(String(reclaim))) {
    errors.push({ field: 'spec.persistentVolumeReclaimPolicy', type: 'FieldValueNotSupported', value: reclaim, supported: RECLAIM_POLICIES });
  }
  const sources = PV_SOURCES.filter((source) => isObject(spec[source]));
  if (sources.length === 0) errors.push({ field: 'spec', type: 'FieldValueRequired', detail: 'must specify a volume type' });
  for (const source of sources.slice(1)) errors.push({ field: `spec.${source}`, type: 'FieldValueForbidden', detail: 'may not specify more than 1 volume type' });
  errors.push(...validateVolumeMode(spec.volumeMode, 'spec.volumeMode'));
  return errors;
}

export const persistentVolumes = defineResource({
  group: '',
  version: 'v1',
  kind: 'PersistentVolume',
  plural: 'persistentvolumes',
  namespaced: false,
  returnDeletedObject: true,
  shortNames: ['pv'],
  schemaName: 'io.k8s.api.core.v1.PersistentVolume',
  subresources: { status: statusSubresource },
  strategy: {
    prepareForCreate(volume) {
      const spec = specOf(volume);
      spec.persistentVolumeReclaimPolicy ??= 'Retain';
      spec.volumeMode ??= 'Filesystem';
      volume.status = { phase: 'Pending', lastPhaseTransitionTime: nowTimestamp() };
    },
    prepareForUpdate(volume) {
      const spec = specOf(volume);
      spec.persistentVolumeReclaimPolicy ??= 'Retain';
      spec.volumeMode ??= 'Filesystem';
    },
    validate: validatePersistentVolume,
    validateUpdate: validatePersistentVolume,
  },
  printerColumns: [
    nameColumn,
    { name: 'Capacity', type: 'string', get description() { return fieldDoc(PV_SPEC, 'capacity'); }, value: (pv) => quantityString(record(record(pv.spec).capacity).storage) },
    { name: 'Access Modes', type: 'string', get description() { return fieldDoc(PV_SPEC, 'accessModes'); }, value: (pv) => accessModesString(record(pv.spec).accessModes) },
    { name: 'Reclaim Policy', type: 'string', get description() { return fieldDoc(PV_SPEC, 'persistentVolumeReclaimPolicy'); }, value: (pv) => text(record(pv.spec).persistentVolumeReclaimPolicy) },
    { name: 'Status', type: 'string', get description() { return fieldDoc(PV_STATUS, 'phase'); }, value: phaseCell },
    { name: 'Claim', type: 'string', get description() { return fieldDoc(PV_SPEC, 'claimRef'); }, value: claimCell },
    { name: 'StorageClass', type: 'string', description: 'StorageClass of the pv', value: storageClass },
    { name: 'VolumeAttributesClass', type: 'string', description: 'VolumeAttributesClass of the pv', value: (pv) => optionalCell(record(pv.spec).volumeAttributesClassName) },
    { name: 'Reason', type: 'string', get description() { return fieldDoc(PV_STATUS, 'reason'); }, value: (pv) => text(record(pv.status).reason) },
    ageColumn,
    { name: 'VolumeMode', type: 'string', priority: 1, get description() { return fieldDoc(PV_SPEC, 'volumeMode'); }, value: (pv) => optionalCell(record(pv.spec).volumeMode) },
  ],
});

function validateClaim(claim: KubeObject): FieldError[] {
  const spec = record(claim.spec);
  const errors = validateAccessModes(spec.accessModes, 'spec.accessModes', 'at least 1 access mode is required');
  const requests = record(record(spec.resources).requests);
  if (requests.storage === undefined) errors.push({ field: 'spec.resources[storage]', type: 'FieldValueRequired' });
  errors.push(...validateVolumeMode(spec.volumeMode, 'spec.volumeMode'));
  return errors;
}

const CLAIM_SPEC_IMMUTABLE = 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims';

function validateClaimUpdate(claim: KubeObject, old: KubeObject): FieldError[] {
  const errors = validateClaim(claim);
  const spec = structuredClone(record(claim.spec));
  const oldSpec = record(old.spec);
  // A claim may be bound (volumeName set once) and, when bound, resized.
  if (!oldSpec.volumeName) spec.volumeName = oldSpec.volumeName;
  if (oldSpec.volumeName) spec.resources = oldSpec.resources;
  spec.volumeAttributesClassName = oldSpec.volumeAttributesClassName;
  if (JSON.stringify(sorted(spec)) !== JSON.stringify(sorted(oldSpec))) errors.push({ field: 'spec', type: 'FieldValueForbidden', detail: CLAIM_SPEC_IMMUTABLE });
  return errors;
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort()
      .map((key) => [key, sorted(value[key])]),
  );
}

export const persistentVolumeClaims = defineResource({
  group: '',
  version: 'v1',
  kind: 'PersistentVolumeClaim',
  plural: 'persistentvolumeclaims',
  namespaced: true,
  returnDeletedObject: true,
  shortNames: ['pvc'],
  schemaName: 'io.k8s.api.core.v1.PersistentVolumeClaim',
  subresources: { status: statusSubresource },
  strategy: {
    prepareForCreate(claim) {
      specOf(claim).volumeMode ??= 'Filesystem';
      claim.status = { phase: 'Pending' };
    },
    prepareForUpdate(claim) {
      specOf(claim).volumeMode ??= 'Filesystem';
    },
    validate: validateClaim,
    validateUpdate: validateClaimUpdate,
  },
  printerColumns: [
    nameColumn,
    { name: 'Status', type: 'string', get description() { return fieldDoc(PVC_STATUS, 'phase'); }, value: phaseCell },
    { name: 'Volume', type: 'string', get description() { return fieldDoc(PVC_SPEC, 'volumeName'); }, value: (pvc) => text(record(pvc.spec).volumeName) },
    {
      name: 'Capacity',
      type: 'string',
      get description() { return fieldDoc(PVC_STATUS, 'capacity'); },
      value: (pvc) => (text(record(pvc.spec).volumeName) ? quantityString(record(record(pvc.status).capacity).storage) : ''),
    },
    {
      name: 'Access Modes',
      type: 'string',
      get description() { return fieldDoc(PVC_STATUS, 'accessModes'); },
      value: (pvc) => (text(record(pvc.spec).volumeName) ? accessModesString(record(pvc.status).accessModes) : ''),
    },
    { name: 'StorageClass', type: 'string', description: 'StorageClass of the pvc', value: storageClass },
    { name: 'VolumeAttributesClass', type: 'string', description: 'VolumeAttributesClass of the pvc', value: (pvc) => optionalCell(record(pvc.spec).volumeAttributesClassName) },
    ageColumn,
    { name: 'VolumeMode', type: 'string', priority: 1, get description() { return fieldDoc(PVC_SPEC, 'volumeMode'); }, value: (pvc) => optionalCell(record(pvc.spec).volumeMode) },
  ],
});
