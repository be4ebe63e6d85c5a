// core/v1 pod messages shared by the workload kinds (k8s.io/api core/v1/generated.proto): PodTemplateSpec,
// PodSpec, Container and what they contain. This is the subset `kubectl create deployment|job|cronjob`
// and ordinary manifests use; fields missing here (volumes, probes, affinity, …) are skipped by the decoder.

import type { MessageSpec } from '../protobuf.js';
import { metadata } from './meta.js';

/** resource.Quantity maps (core/v1 ResourceList): rendered as the quantity's string. */
export const ResourceList = { type: 'map', mapValue: 'quantity' } as const;

export const LocalObjectReference: MessageSpec = {
  1: { name: 'name', type: 'string' },
};

/** Go embeds LocalObjectReference in the key selectors and env sources: JSON shows `name` inline. */
const inlineLocalObjectReference = {
  name: 'localObjectReference',
  type: 'message',
  message: LocalObjectReference,
  inline: true,
} as const;

export const ResourceRequirements: MessageSpec = {
  1: { name: 'limits', ...ResourceList },
  2: { name: 'requests', ...ResourceList },
  3: {
    name: 'claims',
    type: 'message',
    repeated: true,
    message: { 1: { name: 'name', type: 'string' }, 2: { name: 'request', type: 'string' } },
  },
};

const ContainerPort: MessageSpec = {
  1: { name: 'name', type: 'string' },
  2: { name: 'hostPort', type: 'int32' },
  3: { name: 'containerPort', type: 'int32' },
  4: { name: 'protocol', type: 'string' },
  5: { name: 'hostIP', type: 'string' },
};

const KeySelector: MessageSpec = {
  1: inlineLocalObjectReference,
  2: { name: 'key', type: 'string' },
  3: { name: 'optional', type: 'bool', pointer: true },
};

const EnvVarSource: MessageSpec = {
  1: {
    name: 'fieldRef',
    type: 'message',
    message: { 1: { name: 'apiVersion', type: 'string' }, 2: { name: 'fieldPath', type: 'string' } },
  },
  // 2 resourceFieldRef.divisor (3) is a bare Quantity message, which has no field type here: keep the rest.
  2: {
    name: 'resourceFieldRef',
    type: 'message',
    message: { 1: { name: 'containerName', type: 'string' }, 2: { name: 'resource', type: 'string' } },
  },
  3: { name: 'configMapKeyRef', type: 'message', message: KeySelector },
  4: { name: 'secretKeyRef', type: 'message', message: KeySelector },
};

const EnvVar: MessageSpec = {
  1: { name: 'name', type: 'string' },
  2: { name: 'value', type: 'string' },
  3: { name: 'valueFrom', type: 'message', message: EnvVarSource },
};

const EnvSource: MessageSpec = {
  1: inlineLocalObjectReference,
  2: { name: 'optional', type: 'bool', pointer: true },
};

const EnvFromSource: MessageSpec = {
  1: { name: 'prefix', type: 'string' },
  2: { name: 'configMapRef', type: 'message', message: EnvSource },
  3: { name: 'secretRef', type: 'message', message: EnvSource },
};

const VolumeMount: MessageSpec = {
  1: { name: 'name', type: 'string' },
  2: { name: 'readOnly', type: 'bool' },
  3: { name: 'mountPath', type: 'string' },
  4: { name: 'subPath', type: 'string' },
  5: { name: 'mountPropagation', type: 'string', pointer: true },
  6: { name: 'subPathExpr', type: 'string' },
  7: { name: 'recursiveReadOnly', type: 'string', pointer: true },
};

const SecurityContext: MessageSpec = {
  1: {
    name: 'capabilities',
    type: 'message',
    message: { 1: { name: 'add', type: 'string', repeated: true }, 2: { name: 'drop', type: 'string', repeated: true } },
  },
  2: { name: 'privileged', type: 'bool', pointer: true },
  4: { name: 'runAsUser', type: 'int64', pointer: true },
  5: { name: 'runAsNonRoot', type: 'bool', pointer: true },
  6: { name: 'readOnlyRootFilesystem', type: 'bool', pointer: true },
  7: { name: 'allowPrivilegeEscalation', type: 'bool', pointer: true },
  8: { name: 'runAsGroup', type: 'int64', pointer: true },
  9: { name: 'procMount', type: 'string', pointer: true },
};

export const Container: MessageSpec = {
  1: { name: 'name', type: 'string' },
  2: { name: 'image', type: 'string' },
  3: { name: 'command', type: 'string', repeated: true },
  4: { name: 'args', type: 'string', repeated: true },
  5: { name: 'workingDir', type: 'string' },
  6: { name: 'ports', type: 'message', repeated: true, message: ContainerPort },
  7: { name: 'env', type: 'message', repeated: true, message: EnvVar },
  8: { name: 'resources', type: 'message', message: ResourceRequirements },
  9: { name: 'volumeMounts', type: 'message', repeated: true, message: VolumeMount },
  13: { name: 'terminationMessagePath', type: 'string' },
  14: { name: 'imagePullPolicy', type: 'string' },
  15: { name: 'securityContext', type: 'message', message: SecurityContext },
  16: { name: 'stdin', type: 'bool' },
  17: { name: 'stdinOnce', type: 'bool' },
  18: { name: 'tty', type: 'bool' },
  19: { name: 'envFrom', type: 'message', repeated: true, message: EnvFromSource },
  20: { name: 'terminationMessagePolicy', type: 'string' },
  24: { name: 'restartPolicy', type: 'string', pointer: true },
};

const PodSecurityContext: MessageSpec = {
  2: { name: 'runAsUser', type: 'int64', pointer: true },
  3: { name: 'runAsNonRoot', type: 'bool', pointer: true },
  4: { name: 'supplementalGroups', type: 'int64', repeated: true },
  5: { name: 'fsGroup', type: 'int64', pointer: true },
  6: { name: 'runAsGroup', type: 'int64', pointer: true },
  9: { name: 'fsGroupChangePolicy', type: 'string', pointer: true },
  12: { name: 'supplementalGroupsPolicy', type: 'string', pointer: true },
  13: { name: 'seLinuxChangePolicy', type: 'string', pointer: true },
};

const Toleration: MessageSpec = {
  1: { name: 'key', type: 'string' },
  2: { name: 'operator', type: 'string' },
  3: { name: 'value', type: 'string' },
  4: { name: 'effect', type: 'string' },
  5: { name: 'tolerationSeconds', type: 'int64', pointer: true },
};

export const PodSpec: MessageSpec = {
  2: { name: 'containers', type: 'message', repeated: true, message: Container },
  3: { name: 'restartPolicy', type: 'string' },
  4: { name: 'terminationGracePeriodSeconds', type: 'int64', pointer: true },
  5: { name: 'activeDeadlineSeconds', type: 'int64', pointer: true },
  6: { name: 'dnsPolicy', type: 'string' },
  7: { name: 'nodeSelector', type: 'map', mapValue: 'string' },
  8: { name: 'serviceAccountName', type: 'string' },
  9: { name: 'serviceAccount', type: 'string' },
  10: { name: 'nodeName', type: 'string' },
  11: { name: 'hostNetwork', type: 'bool' },
  12: { name: 'hostPID', type: 'bool' },
  13: { name: 'hostIPC', type: 'bool' },
  14: { name: 'securityContext', type: 'message', message: PodSecurityContext },
  15: { name: 'imagePullSecrets', type: 'message', repeated: true, message: LocalObjectReference },
  16: { name: 'hostname', type: 'string' },
  17: { name: 'subdomain', type: 'string' },
  19: { name: 'schedulerName', type: 'string' },
  20: { name: 'initContainers', type: 'message', repeated: true, message: Container },
  21: { name: 'automountServiceAccountToken', type: 'bool', pointer: true },
  22: { name: 'tolerations', type: 'message', repeated: true, message: Toleration },
  24: { name: 'priorityClassName', type: 'string' },
  25: { name: 'priority', type: 'int32', pointer: true },
  27: { name: 'shareProcessNamespace', type: 'bool', pointer: true },
  29: { name: 'runtimeClassName', type: 'string', pointer: true },
  30: { name: 'enableServiceLinks', type: 'bool', pointer: true },
  31: { name: 'preemptionPolicy', type: 'string', pointer: true },
  35: { name: 'setHostnameAsFQDN', type: 'bool', pointer: true },
  37: { name: 'hostUsers', type: 'bool', pointer: true },
  40: { name: 'resources', type: 'message', message: ResourceRequirements },
  41: { name: 'hostnameOverride', type: 'string', pointer: true },
};

export const PodTemplateSpec: MessageSpec = {
  1: metadata,
  2: { name: 'spec', type: 'message', message: PodSpec },
};
