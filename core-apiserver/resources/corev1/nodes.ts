// v1 Node (cluster-scoped): allocatable defaults to capacity, taints are checked, podCIDR(s) are set once,
// and the printer derives STATUS from the Ready condition and ROLES from the role labels.

import { defineResource, statusSubresource } from '../../../apiserver/registry/resource.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import { isObject } from '../../../apiserver/registry/object.js';
import type { FieldError } from '../../../apiserver/request/status.js';
import { isQualifiedName } from '../../../apiserver/registry/names.js';
import { ageColumn, nameColumn } from '../../../apiserver/registry/table.js';
import { fieldDoc } from '../field-docs.js';
import type { Json } from './pod-defaults.js';
import { objectsOf } from './pod-defaults.js';

const NODE_INFO = 'io.k8s.api.core.v1.NodeSystemInfo';
const NODE_STATUS = 'io.k8s.api.core.v1.NodeStatus';
const ROLE_PREFIX = 'node-role.kubernetes.io/';
const LEGACY_ROLE_LABEL = 'kubernetes.io/role';
const TAINT_EFFECTS = ['NoExecute', 'NoSchedule', 'PreferNoSchedule'];

function statusOf(node: KubeObject): Json {
  return isObject(node.status) ? node.status : {};
}

function nodeInfo(node: KubeObject): Json {
  const info = statusOf(node).nodeInfo;
  return isObject(info) ? info : {};
}

/** `Ready`, `NotReady` or `Unknown`, then `SchedulingDisabled` for a cordoned node. */
export function nodeStatusCell(node: KubeObject): string {
  const ready = objectsOf(statusOf(node).conditions).filter((condition) => condition.type === 'Ready').pop();
  const status = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (isObject(node.spec) && node.spec.unschedulable === true) status.push('SchedulingDisabled');
  return status.join(',');
}

/** Roles from `node-role.kubernetes.io/<role>` keys and `kubernetes.io/role=<role>`, sorted, or `<none>`. */
export function nodeRoles(node: KubeObject): string {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(node.metadata.labels ?? {})) {
    if (key.startsWith(ROLE_PREFIX) && key.length > ROLE_PREFIX.length) roles.add(key.slice(ROLE_PREFIX.length));
    else if (key === LEGACY_ROLE_LABEL && value) roles.add(value);
  }
  return roles.size > 0 ? [...roles].sort().join(',') : '<none>';
}

function address(node: KubeObject, type: string): string {
  const found = objectsOf(statusOf(node).addresses).find((entry) => entry.type === type);
  return typeof found?.address === 'string' ? found.address : '<none>';
}

function infoCell(node: KubeObject, field: string): string {
  const value = nodeInfo(node)[field];
  return typeof value === 'string' && value ? value : '<unknown>';
}

function applyNodeDefaults(node: KubeObject): void {
  const status = node.status;
  if (isObject(status) && isObject(status.capacity) && !isObject(status.allocatable)) status.allocatable = { ...status.capacity };
}

function validateNode(node: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const spec: Json = isObject(node.spec) ? node.spec : {};
  objectsOf(spec.taints).forEach((taint, index) => {
    const path = `spec.taints[${index}]`;
    const key = typeof taint.key === 'string' ? taint.key : '';
    if (!key) errors.push({ field: `${path}.key`, type: 'FieldValueRequired' });
    else for (const detail of isQualifiedName(key)) errors.push({ field: `${path}.key`, type: 'FieldValueInvalid', value: key, detail });
    if (!taint.effect) errors.push({ field: `${path}.effect`, type: 'FieldValueRequired' });
    else if (!TAINT_EFFECTS.includes(String(taint.effect))) errors.push({ field: `${path}.effect`, type: 'FieldValueNotSupported', value: taint.effect, supported: TAINT_EFFECTS });
  });
  return errors;
}

function validateNodeUpdate(node: KubeObject, old: KubeObject): FieldError[] {
  const errors = validateNode(node);
  const spec: Json = isObject(node.spec) ? node.spec : {};
  const oldSpec: Json = isObject(old.spec) ? old.spec : {};
  // Once allocated, the pod CIDRs and the provider ID stay.
  if (typeof oldSpec.podCIDR === 'string' && oldSpec.podCIDR && spec.podCIDR !== oldSpec.podCIDR) {
    errors.push({ field: 'spec.podCIDRs', type: 'FieldValueForbidden', detail: 'node updates may not change podCIDR except from "" to valid' });
  }
  if (typeof oldSpec.providerID === 'string' && oldSpec.providerID && spec.providerID !== oldSpec.providerID) {
    errors.push({ field: 'spec.providerID', type: 'FieldValueForbidden', detail: 'node updates may not change providerID except from "" to valid' });
  }
  return errors;
}

export const nodes = defineResource({
  group: '',
  version: 'v1',
  kind: 'Node',
  plural: 'nodes',
  namespaced: false,
  shortNames: ['no'],
  schemaName: 'io.k8s.api.core.v1.Node',
  subresources: { status: statusSubresource },
  keepStatusOnCreate: true,
  selectableFields: { 'spec.unschedulable': (node) => String(isObject(node.spec) && node.spec.unschedulable === true) },
  strategy: {
    prepareForCreate: applyNodeDefaults,
    prepareForUpdate: applyNodeDefaults,
    validate: validateNode,
    validateUpdate: validateNodeUpdate,
  },
  printerColumns: [
    nameColumn,
    { name: 'Status', type: 'string', description: 'The status of the node', value: nodeStatusCell },
    { name: 'Roles', type: 'string', description: 'The roles of the node', value: nodeRoles },
    ageColumn,
    { name: 'Version', type: 'string', get description() { return fieldDoc(NODE_INFO, 'kubeletVersion'); }, value: (node) => String(nodeInfo(node).kubeletVersion ?? '') },
    { name: 'Internal-IP', type: 'string', priority: 1, get description() { return fieldDoc(NODE_STATUS, 'addresses'); }, value: (node) => address(node, 'InternalIP') },
    { name: 'External-IP', type: 'string', priority: 1, get description() { return fieldDoc(NODE_STATUS, 'addresses'); }, value: (node) => address(node, 'ExternalIP') },
    { name: 'OS-Image', type: 'string', priority: 1, get description() { return fieldDoc(NODE_INFO, 'osImage'); }, value: (node) => infoCell(node, 'osImage') },
    { name: 'Kernel-Version', type: 'string', priority: 1, get description() { return fieldDoc(NODE_INFO, 'kernelVersion'); }, value: (node) => infoCell(node, 'kernelVersion') },
    { name: 'Container-Runtime', type: 'string', priority: 1, get description() { return fieldDoc(NODE_INFO, 'containerRuntimeVersion'); }, value: (node) => infoCell(node, 'containerRuntimeVersion') },
  ],
});
