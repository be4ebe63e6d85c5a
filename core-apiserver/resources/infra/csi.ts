// The CSI kinds of storage.k8s.io/v1: CSIDriver (what a driver needs from Kubernetes), CSINode (which
// drivers a node runs), CSIStorageCapacity (what a driver can still provision where) and VolumeAttachment
// (the attach/detach controller's request to an attacher). Defaults, validation and immutability follow
// pkg/apis/storage (1.32); the columns follow kubectl's printers.

import { defineResource, statusSubresource } from '../../../apiserver/registry/resource.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import type { FieldError } from '../../../apiserver/request/status.js';
import { isDns1123Subdomain, isQualifiedName } from '../../../apiserver/registry/names.js';
import { parseQuantity, quantityString } from '../../../apiserver/registry/quantity.js';
import { ageColumn, nameColumn } from '../../../apiserver/registry/table.js';
import { fieldDoc } from '../field-docs.js';
import { ensureSpec, immutable, invalidEach, isObject, notSupported, objectsOf, required, specOf, stringsOf, validateLabelSelector } from './common.js';

const FS_GROUP_POLICIES = ['File', 'None', 'ReadWriteOnceWithFSType'];
const LIFECYCLE_MODES = ['Persistent', 'Ephemeral'];
const MIN_TOKEN_SECONDS = 10 * 60;
const MAX_TOKEN_SECONDS = 2 ** 32;
const CSI_NODE_ID_MAX = 192;
const CSI_NODE_ID_LONG_MAX = 256;
const MAX_ATTACHMENT_METADATA_BYTES = 256 * 1024;
const MAX_VOLUME_ERROR_MESSAGE = 1024;
const MAX_INT32 = 2 ** 31 - 1;

const doc = (definition: string, property: string) => fieldDoc(`io.k8s.api.storage.v1.${definition}`, property);
const flag = (value: unknown, fallback: boolean): boolean => (typeof value === 'boolean' ? value : fallback);

/** apivalidation.ValidateCSIDriverName: a driver name is a DNS subdomain of at most 63 characters. */
function validateDriverName(name: unknown, field: string): FieldError[] {
  const text = typeof name === 'string' ? name : '';
  const errors: FieldError[] = [];
  if (text === '') errors.push(required(field));
  if (text.length > 63) errors.push({ field, type: 'FieldValueTooLong', value: text, detail: 'must have at most 63 bytes' });
  errors.push(...invalidEach(field, text, isDns1123Subdomain(text.toLowerCase())));
  return errors;
}

// ---- CSIDriver ------------------------------------------------------------------------------------

/** SetDefaults_CSIDriver (storage/v1), with SELinuxMountReadWriteOncePod on as in 1.32. */
function defaultCsiDriver(driver: KubeObject): void {
  const spec = ensureSpec(driver);
  spec.attachRequired ??= true;
  spec.podInfoOnMount ??= false;
  spec.storageCapacity ??= false;
  spec.fsGroupPolicy ??= 'ReadWriteOnceWithFSType';
  if (!Array.isArray(spec.volumeLifecycleModes) || spec.volumeLifecycleModes.length === 0) spec.volumeLifecycleModes = ['Persistent'];
  spec.requiresRepublish ??= false;
  spec.seLinuxMount ??= false;
}

function validateCsiDriverSpec(driver: KubeObject): FieldError[] {
  const spec = specOf(driver);
  const errors: FieldError[] = [];
  // Upstream's path says "attachedRequired"; clients see that name, so it stays.
  for (const [key, path] of [['attachRequired', 'spec.attachedRequired'], ['podInfoOnMount', 'spec.podInfoOnMount'], ['storageCapacity', 'spec.storageCapacity']]) {
    if (spec[key] === undefined || spec[key] === null) errors.push(required(path));
  }
  if (spec.fsGroupPolicy !== undefined && spec.fsGroupPolicy !== null && !FS_GROUP_POLICIES.includes(spec.fsGroupPolicy)) {
    errors.push(notSupported('spec.fsGroupPolicy', spec.fsGroupPolicy, FS_GROUP_POLICIES));
  }
  const audiences = new Set<string>();
  objectsOf(spec.tokenRequests).forEach((request, index) => {
    const path = `spec.tokenRequests[${index}]`;
    const audience = typeof request.audience === 'string' ? request.audience : '';
    if (audiences.has(audience)) {
      errors.push({ field: `${path}.audience`, type: 'FieldValueDuplicate', value: audience });
      return;
    }
    audiences.add(audience);
    const seconds = request.expirationSeconds;
    if (typeof seconds !== 'number') return;
    if (seconds < MIN_TOKEN_SECONDS) errors.push({ field: `${path}.expirationSeconds`, type: 'FieldValueInvalid', value: seconds, detail: 'may not specify a duration less than 10 minutes' });
    if (seconds > MAX_TOKEN_SECONDS) errors.push({ field: `${path}.expirationSeconds`, type: 'FieldValueInvalid', value: seconds, detail: 'may not specify a duration larger than 2^32 seconds' });
  });
  for (const mode of Array.isArray(spec.volumeLifecycleModes) ? spec.volumeLifecycleModes : []) {
    if (!LIFECYCLE_MODES.includes(mode)) errors.push(notSupported('spec.volumeLifecycleModes', mode, LIFECYCLE_MODES));
  }
  if (spec.seLinuxMount === undefined || spec.seLinuxMount === null) errors.push(required('spec.seLinuxMount'));
  return errors;
}

/** ValidateCSIDriverUpdate: attachRequired and volumeLifecycleModes never change (the rest became mutable in 1.29). */
function validateCsiDriverUpdate(driver: KubeObject, old: KubeObject): FieldError[] {
  return [
    ...validateCsiDriverSpec(driver),
    ...immutable(specOf(driver).attachRequired, specOf(old).attachRequired, 'spec.attachedRequired'),
    ...immutable(specOf(driver).volumeLifecycleModes, specOf(old).volumeLifecycleModes, 'spec.volumeLifecycleModes'),
  ];
}

export const csiDrivers = defineResource({
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'CSIDriver',
  plural: 'csidrivers',
  namespaced: false,
  schemaName: 'io.k8s.api.storage.v1.CSIDriver',
  strategy: {
    prepareForCreate: defaultCsiDriver,
    prepareForUpdate: defaultCsiDriver,
    validate: validateCsiDriverSpec,
    validateUpdate: validateCsiDriverUpdate,
  },
  printerColumns: [
    nameColumn,
    { name: 'AttachRequired', type: 'boolean', get description() { return doc('CSIDriverSpec', 'attachRequired'); }, value: (driver) => flag(specOf(driver).attachRequired, true) },
    { name: 'PodInfoOnMount', type: 'boolean', get description() { return doc('CSIDriverSpec', 'podInfoOnMount'); }, value: (driver) => flag(specOf(driver).podInfoOnMount, false) },
    { name: 'StorageCapacity', type: 'boolean', get description() { return doc('CSIDriverSpec', 'storageCapacity'); }, value: (driver) => flag(specOf(driver).storageCapacity, false) },
    {
      name: 'TokenRequests',
      type: 'string',
      get description() {
        return doc('CSIDriverSpec', 'tokenRequests');
      },
      value: (driver) => {
        const requests = objectsOf(specOf(driver).tokenRequests);
        return requests.length === 0 ? '<unset>' : requests.map((request) => String(request.audience ?? '')).join(',');
      },
    },
    { name: 'RequiresRepublish', type: 'boolean', get description() { return doc('CSIDriverSpec', 'requiresRepublish'); }, value: (driver) => flag(specOf(driver).requiresRepublish, false) },
    { name: 'Modes', type: 'string', get description() { return doc('CSIDriverSpec', 'volumeLifecycleModes'); }, value: (driver) => stringsOf(specOf(driver).volumeLifecycleModes).join(',') || '<none>' },
    ageColumn,
  ],
});

// ---- CSINode --------------------------------------------------------------------------------------

function validateCsiNode(node: KubeObject, allowLongNodeId = false): FieldError[] {
  const errors: FieldError[] = [];
  const names = new Set<string>();
  objectsOf(specOf(node).drivers).forEach((driver, index) => {
    const path = `spec.drivers[${index}]`;
    errors.push(...validateDriverName(driver.name, `${path}.name`));
    const nodeId = typeof driver.nodeID === 'string' ? driver.nodeID : '';
    if (nodeId === '') errors.push(required(`${path}.nodeID`));
    const maxLength = allowLongNodeId ? CSI_NODE_ID_LONG_MAX : CSI_NODE_ID_MAX;
    if (nodeId.length > maxLength) errors.push({ field: `${path}.nodeID`, type: 'FieldValueInvalid', value: nodeId, detail: `must be ${maxLength} characters or less` });
    const count = isObject(driver.allocatable) ? driver.allocatable.count : undefined;
    if (typeof count === 'number' && count < 0) errors.push({ field: `${path}.allocatable.count`, type: 'FieldValueInvalid', value: count, detail: 'must be greater than or equal to 0' });
    const name = typeof driver.name === 'string' ? driver.name : '';
    if (names.has(name)) errors.push({ field: `${path}.name`, type: 'FieldValueDuplicate', value: name });
    names.add(name);
    const keys = new Set<string>();
    for (const key of stringsOf(driver.topologyKeys)) {
      if (key === '') errors.push(required(path));
      if (keys.has(key)) errors.push({ field: path, type: 'FieldValueDuplicate', value: key });
      keys.add(key);
      errors.push(...invalidEach(path, key, isQualifiedName(key)));
    }
  });
  return errors;
}

/** A driver entry, once registered, never changes; entries may come and go. Long node IDs stay valid once stored. */
function validateCsiNodeUpdate(node: KubeObject, old: KubeObject): FieldError[] {
  const oldDrivers = objectsOf(specOf(old).drivers);
  const allowLong = oldDrivers.some((driver) => typeof driver.nodeID === 'string' && driver.nodeID.length > CSI_NODE_ID_MAX);
  const errors = validateCsiNode(node, allowLong);
  for (const previous of oldDrivers) {
    for (const driver of objectsOf(specOf(node).drivers)) {
      if (driver.name === previous.name) errors.push(...immutable(driver, previous, 'spec.drivers'));
    }
  }
  return errors;
}

export const csiNodes = defineResource({
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'CSINode',
  plural: 'csinodes',
  namespaced: false,
  schemaName: 'io.k8s.api.storage.v1.CSINode',
  strategy: {
    validate: (node) => validateCsiNode(node),
    validateUpdate: validateCsiNodeUpdate,
  },
  printerColumns: [
    nameColumn,
    { name: 'Drivers', type: 'integer', description: 'Drivers indicates the number of CSI drivers registered on the node', value: (node) => objectsOf(specOf(node).drivers).length },
    ageColumn,
  ],
});

// ---- CSIStorageCapacity ---------------------------------------------------------------------------

function validateCapacity(capacity: KubeObject): FieldError[] {
  const errors = validateLabelSelector(capacity.nodeTopology, 'nodeTopology');
  const className = typeof capacity.storageClassName === 'string' ? capacity.storageClassName : '';
  errors.push(...invalidEach('storageClassName', className, isDns1123Subdomain(className)));
  if (capacity.capacity !== undefined && capacity.capacity !== null) {
    const amount = parseQuantity(capacity.capacity);
    if (amount !== undefined && amount < 0) errors.push({ field: 'capacity', type: 'FieldValueInvalid', value: quantityString(capacity.capacity), detail: 'must be greater than or equal to 0' });
  }
  return errors;
}

/** The inputs of the driver's GetCapacity call are fixed; the answer (capacity, maximumVolumeSize) changes. */
function validateCapacityUpdate(capacity: KubeObject, old: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  if (JSON.stringify(capacity.nodeTopology ?? null) !== JSON.stringify(old.nodeTopology ?? null)) {
    errors.push({ field: 'nodeTopology', type: 'FieldValueInvalid', value: capacity.nodeTopology, detail: 'field is immutable' });
  }
  if (capacity.storageClassName !== old.storageClassName) errors.push({ field: 'storageClassName', type: 'FieldValueInvalid', value: capacity.storageClassName, detail: 'field is immutable' });
  return errors;
}

export const csiStorageCapacities = defineResource({
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'CSIStorageCapacity',
  plural: 'csistoragecapacities',
  namespaced: true,
  schemaName: 'io.k8s.api.storage.v1.CSIStorageCapacity',
  strategy: {
    validate: validateCapacity,
    validateUpdate: validateCapacityUpdate,
  },
  printerColumns: [
    nameColumn,
    { name: 'StorageClassName', type: 'string', get description() { return doc('CSIStorageCapacity', 'storageClassName'); }, value: (capacity) => capacity.storageClassName ?? '' },
    { name: 'Capacity', type: 'string', get description() { return doc('CSIStorageCapacity', 'capacity'); }, value: (capacity) => (capacity.capacity === undefined || capacity.capacity === null ? '<unset>' : quantityString(capacity.capacity)) },
  ],
});

// ---- VolumeAttachment -----------------------------------------------------------------------------

function validateVolumeError(error: unknown, path: string): FieldError[] {
  if (!isObject(error)) return [];
  const errors: FieldError[] = [];
  // Upstream reports the metadata limit here, not the message's own (a long-standing quirk).
  if (typeof error.message === 'string' && error.message.length > MAX_VOLUME_ERROR_MESSAGE) errors.push({ field: `${path}.message`, type: 'FieldValueTooLong', detail: `must have at most ${MAX_ATTACHMENT_METADATA_BYTES} bytes` });
  if (typeof error.errorCode === 'number' && error.errorCode < 0) errors.push({ field: `${path}.errorCode`, type: 'FieldValueInvalid', value: error.errorCode, detail: `must be between 0 and ${MAX_INT32}, inclusive` });
  return errors;
}

function validateAttachmentStatus(attachment: KubeObject): FieldError[] {
  const status = isObject(attachment.status) ? attachment.status : {};
  const errors: FieldError[] = [];
  const metadata = isObject(status.attachmentMetadata) ? status.attachmentMetadata : {};
  const size = Object.entries(metadata).reduce((total, [key, value]) => total + key.length + String(value).length, 0);
  if (size > MAX_ATTACHMENT_METADATA_BYTES) errors.push({ field: 'status.attachmentMetadata', type: 'FieldValueTooLong', detail: `must have at most ${MAX_ATTACHMENT_METADATA_BYTES} bytes` });
  errors.push(...validateVolumeError(status.attachError, 'status.attachError'), ...validateVolumeError(status.detachError, 'status.detachError'));
  return errors;
}

/** ValidateVolumeAttachment plus the v1 checks (attacher is a driver name, the PV name a valid name). */
function validateAttachment(attachment: KubeObject): FieldError[] {
  const spec = specOf(attachment);
  const errors = validateDriverName(spec.attacher, 'spec.attacher');
  const source = isObject(spec.source) ? spec.source : {};
  const hasPv = source.persistentVolumeName !== undefined && source.persistentVolumeName !== null;
  const hasInline = source.inlineVolumeSpec !== undefined && source.inlineVolumeSpec !== null;
  if (hasPv === hasInline) {
    const detail = 'must specify exactly one of inlineVolumeSpec and persistentVolumeName';
    errors.push(hasPv ? { field: 'spec.source', type: 'FieldValueForbidden', detail } : required('spec.source', detail));
  } else if (hasPv) {
    const pvName = String(source.persistentVolumeName);
    if (pvName === '') errors.push(required('spec.source.persistentVolumeName', 'must specify non empty persistentVolumeName'));
    else errors.push(...invalidEach('spec.source.persistentVolumeName', pvName, isDns1123Subdomain(pvName)));
  }
  const nodeName = typeof spec.nodeName === 'string' ? spec.nodeName : '';
  errors.push(...invalidEach('spec.nodeName', nodeName, isDns1123Subdomain(nodeName)));
  errors.push(...validateAttachmentStatus(attachment));
  return errors;
}

/** The spec is read-only: an attacher acts on it once; only the status moves. */
function validateAttachmentUpdate(attachment: KubeObject, old: KubeObject): FieldError[] {
  const errors = validateAttachment(attachment);
  if (JSON.stringify(attachment.spec ?? {}) !== JSON.stringify(old.spec ?? {})) errors.push({ field: 'spec', type: 'FieldValueInvalid', value: attachment.spec, detail: 'field is immutable' });
  return errors;
}

export const volumeAttachments = defineResource({
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'VolumeAttachment',
  plural: 'volumeattachments',
  namespaced: false,
  schemaName: 'io.k8s.api.storage.v1.VolumeAttachment',
  subresources: { status: statusSubresource },
  strategy: {
    // `attached` has no omitempty: a new attachment says it is not attached yet.
    prepareForCreate(attachment) {
      attachment.status = { attached: false };
    },
    validate: validateAttachment,
    validateUpdate: validateAttachmentUpdate,
    validateStatusUpdate: validateAttachmentUpdate,
  },
  printerColumns: [
    nameColumn,
    { name: 'Attacher', type: 'string', format: 'name', get description() { return doc('VolumeAttachmentSpec', 'attacher'); }, value: (attachment) => specOf(attachment).attacher ?? '' },
    { name: 'PV', type: 'string', get description() { return doc('VolumeAttachmentSource', 'persistentVolumeName'); }, value: (attachment) => (isObject(specOf(attachment).source) ? (specOf(attachment).source.persistentVolumeName ?? '') : '') },
    { name: 'Node', type: 'string', get description() { return doc('VolumeAttachmentSpec', 'nodeName'); }, value: (attachment) => specOf(attachment).nodeName ?? '' },
    { name: 'Attached', type: 'boolean', get description() { return doc('VolumeAttachmentStatus', 'attached'); }, value: (attachment) => (isObject(attachment.status) ? attachment.status.attached === true : false) },
    ageColumn,
  ],
});

export const csiResources = [csiDrivers, csiNodes, csiStorageCapacities, volumeAttachments];
