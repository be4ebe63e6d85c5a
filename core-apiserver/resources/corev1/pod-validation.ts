// Pod spec validation (shared with pod templates) and the pod update rules, with upstream's field paths
// and texts: kubectl prints them verbatim.

import type { KubeObject } from '../../../apiserver/registry/object.js';
import { isObject } from '../../../apiserver/registry/object.js';
import type { FieldError } from '../../../apiserver/request/status.js';
import { isDns1123Subdomain } from '../../../apiserver/registry/names.js';
import { portNameProblems, validateDns1123Label, validatePortNumber, SUPPORTED_PROTOCOLS } from '../network-fields.js';
import type { Json } from './pod-defaults.js';
import { objectsOf } from './pod-defaults.js';
import { parseQuantity } from '../../../apiserver/registry/quantity.js';

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const TERMINATION_MESSAGE_POLICIES = ['File', 'FallbackToLogsOnError'];
const TOLERATION_OPERATORS = ['Equal', 'Exists'];
const TAINT_EFFECTS = ['NoExecute', 'NoSchedule', 'PreferNoSchedule'];
const MAX_INT32 = 2147483647;

function validateContainerPorts(container: Json, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const names = new Set<string>();
  objectsOf(container.ports).forEach((port, index) => {
    const portPath = `${path}.ports[${index}]`;
    if (port.containerPort === undefined || port.containerPort === 0) errors.push({ field: `${portPath}.containerPort`, type: 'FieldValueRequired' });
    else errors.push(...validatePortNumber(port.containerPort, `${portPath}.containerPort`));
    if (port.hostPort !== undefined && port.hostPort !== 0) errors.push(...validatePortNumber(port.hostPort, `${portPath}.hostPort`));
    if (typeof port.name === 'string' && port.name) {
      const problems = portNameProblems(port.name);
      for (const detail of problems) errors.push({ field: `${portPath}.name`, type: 'FieldValueInvalid', value: port.name, detail });
      if (problems.length === 0 && names.has(port.name)) errors.push({ field: `${portPath}.name`, type: 'FieldValueDuplicate', value: port.name });
      names.add(port.name);
    }
    if (!port.protocol) errors.push({ field: `${portPath}.protocol`, type: 'FieldValueRequired' });
    else if (!SUPPORTED_PROTOCOLS.includes(String(port.protocol))) errors.push({ field: `${portPath}.protocol`, type: 'FieldValueNotSupported', value: port.protocol, supported: SUPPORTED_PROTOCOLS });
  });
  return errors;
}

function validateResources(container: Json, path: string): FieldError[] {
  const resources = isObject(container.resources) ? container.resources : {};
  const requests = isObject(resources.requests) ? resources.requests : {};
  const limits = isObject(resources.limits) ? resources.limits : {};
  const errors: FieldError[] = [];
  for (const [kind, values] of [['requests', requests], ['limits', limits]] as const) {
    for (const [name, value] of Object.entries(values)) {
      const quantity = parseQuantity(value);
      if (quantity !== undefined && quantity < 0) errors.push({ field: `${path}.resources.${kind}[${name}]`, type: 'FieldValueInvalid', value: String(value), detail: 'must be greater than or equal to 0' });
    }
  }
  for (const [name, value] of Object.entries(requests)) {
    if (!(name in limits)) continue;
    const request = parseQuantity(value);
    const limit = parseQuantity(limits[name]);
    if (request !== undefined && limit !== undefined && request > limit) {
      errors.push({ field: `${path}.resources.requests`, type: 'FieldValueInvalid', value: String(value), detail: `must be less than or equal to ${name} limit of ${String(limits[name])}` });
    }
  }
  return errors;
}

/** validateContainerCommon with the name's uniqueness among `names` (which it extends). */
export function validateContainer(container: Json, path: string, names: Set<string>): FieldError[] {
  const errors: FieldError[] = [];
  const name = typeof container.name === 'string' ? container.name : '';
  if (!name) errors.push({ field: `${path}.name`, type: 'FieldValueRequired' });
  else {
    const problems = validateDns1123Label(name, `${path}.name`);
    errors.push(...problems);
    if (problems.length === 0 && names.has(name)) errors.push({ field: `${path}.name`, type: 'FieldValueDuplicate', value: name });
    names.add(name);
  }
  if (typeof container.image !== 'string' || container.image === '') errors.push({ field: `${path}.image`, type: 'FieldValueRequired' });
  else if (container.image.trim() !== container.image) errors.push({ field: `${path}.image`, type: 'FieldValueInvalid', value: container.image, detail: 'must not have leading or trailing whitespace' });
  const policy = container.terminationMessagePolicy;
  if (!policy) errors.push({ field: `${path}.terminationMessagePolicy`, type: 'FieldValueRequired' });
  else if (!TERMINATION_MESSAGE_POLICIES.includes(String(policy))) {
    errors.push({ field: `${path}.terminationMessagePolicy`, type: 'FieldValueNotSupported', value: policy, supported: TERMINATION_MESSAGE_POLICIES });
  }
  errors.push(...validateContainerPorts(container, path));
  const pull = container.imagePullPolicy;
  if (!pull) errors.push({ field: `${path}.imagePullPolicy`, type: 'FieldValueRequired' });
  else if (!PULL_POLICIES.includes(String(pull))) errors.push({ field: `${path}.imagePullPolicy`, type: 'FieldValueNotSupported', value: pull, supported: PULL_POLICIES });
  errors.push(...validateResources(container, path));
  return errors;
}

function validateTolerations(tolerations: Json[], path: string): FieldError[] {
  const errors: FieldError[] = [];
  tolerations.forEach((toleration, index) => {
    const at = `${path}[${index}]`;
    const operator = toleration.operator ?? 'Equal';
    if (!TOLERATION_OPERATORS.includes(String(operator))) errors.push({ field: `${at}.operator`, type: 'FieldValueNotSupported', value: operator, supported: TOLERATION_OPERATORS });
    if (operator === 'Exists' && toleration.value) errors.push({ field: `${at}.operator`, type: 'FieldValueInvalid', value: toleration.value, detail: 'value must be empty when `operator` is \'Exists\'' });
    if (toleration.tolerationSeconds !== undefined && toleration.effect !== 'NoExecute') {
      errors.push({ field: `${at}.effect`, type: 'FieldValueInvalid', value: toleration.effect ?? '', detail: 'effect must be \'NoExecute\' when `tolerationSeconds` is set' });
    }
    if (toleration.effect && !TAINT_EFFECTS.includes(String(toleration.effect))) errors.push({ field: `${at}.effect`, type: 'FieldValueNotSupported', value: toleration.effect, supported: TAINT_EFFECTS });
  });
  return errors;
}

/** ValidatePodSpec for the fields this server checks; `path` is `spec` or `spec.template.spec`. */
export function validatePodSpec(spec: Json, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const volumeNames = new Set<string>();
  objectsOf(spec.volumes).forEach((volume, index) => {
    const at = `${path}.volumes[${index}].name`;
    const name = typeof volume.name === 'string' ? volume.name : '';
    if (!name) return errors.push({ field: at, type: 'FieldValueRequired' });
    const problems = validateDns1123Label(name, at);
    errors.push(...problems);
    if (problems.length === 0 && volumeNames.has(name)) errors.push({ field: at, type: 'FieldValueDuplicate', value: name });
    volumeNames.add(name);
  });
  const containers = objectsOf(spec.containers);
  const names = new Set<string>();
  objectsOf(spec.initContainers).forEach((container, index) => errors.push(...validateContainer(container, `${path}.initContainers[${index}]`, names)));
  if (containers.length === 0) errors.push({ field: `${path}.containers`, type: 'FieldValueRequired' });
  containers.forEach((container, index) => errors.push(...validateContainer(container, `${path}.containers[${index}]`, names)));
  const restart = spec.restartPolicy;
  if (!restart) errors.push({ field: `${path}.restartPolicy`, type: 'FieldValueRequired' });
  else if (!RESTART_POLICIES.includes(String(restart))) errors.push({ field: `${path}.restartPolicy`, type: 'FieldValueNotSupported', value: restart, supported: RESTART_POLICIES });
  const dns = spec.dnsPolicy;
  if (!dns) errors.push({ field: `${path}.dnsPolicy`, type: 'FieldValueRequired' });
  else if (!DNS_POLICIES.includes(String(dns))) errors.push({ field: `${path}.dnsPolicy`, type: 'FieldValueNotSupported', value: dns, supported: DNS_POLICIES });
  const deadline = spec.activeDeadlineSeconds;
  if (deadline !== undefined && (typeof deadline !== 'number' || deadline < 1 || deadline > MAX_INT32)) {
    errors.push({ field: `${path}.activeDeadlineSeconds`, type: 'FieldValueInvalid', value: deadline, detail: `must be between 1 and ${MAX_INT32}, inclusive` });
  }
  if (typeof spec.nodeName === 'string' && spec.nodeName) {
    for (const detail of isDns1123Subdomain(spec.nodeName)) errors.push({ field: `${path}.nodeName`, type: 'FieldValueInvalid', value: spec.nodeName, detail });
  }
  if (typeof spec.serviceAccountName === 'string' && spec.serviceAccountName) {
    for (const detail of isDns1123Subdomain(spec.serviceAccountName)) errors.push({ field: `${path}.serviceAccountName`, type: 'FieldValueInvalid', value: spec.serviceAccountName, detail });
  }
  errors.push(...validateTolerations(objectsOf(spec.tolerations), `${path}.tolerations`));
  return errors;
}

export const POD_UPDATE_FORBIDDEN =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      // Semantic equality: a nil and an empty list are the same.
      .filter((key) => value[key] !== undefined && !(Array.isArray(value[key]) && (value[key] as unknown[]).length === 0))
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function sameToleration(a: Json, b: Json): boolean {
  const { tolerationSeconds: _a, ...restA } = a;
  const { tolerationSeconds: _b, ...restB } = b;
  return canonical(restA) === canonical(restB);
}

/** ValidatePodUpdate: only images, the deadline (downwards), toleration additions and a negative grace period fix. */
export function validatePodSpecUpdate(pod: KubeObject, old: KubeObject): FieldError[] {
  const spec: Json = isObject(pod.spec) ? pod.spec : {};
  const oldSpec: Json = isObject(old.spec) ? old.spec : {};
  const errors: FieldError[] = [];
  const deadline = spec.activeDeadlineSeconds;
  const oldDeadline = oldSpec.activeDeadlineSeconds;
  if (typeof deadline === 'number') {
    if (typeof oldDeadline === 'number' && oldDeadline < deadline) {
      errors.push({ field: 'spec.activeDeadlineSeconds', type: 'FieldValueInvalid', value: deadline, detail: 'must be less than or equal to previous value' });
    }
  } else if (typeof oldDeadline === 'number') {
    errors.push({ field: 'spec.activeDeadlineSeconds', type: 'FieldValueInvalid', value: null, detail: 'must not update from a positive integer to nil value' });
  }
  const tolerations = objectsOf(spec.tolerations);
  for (const existing of objectsOf(oldSpec.tolerations)) {
    if (!tolerations.some((toleration) => sameToleration(toleration, existing))) {
      errors.push({ field: 'spec.tolerations', type: 'FieldValueForbidden', detail: 'existing toleration can not be modified except its tolerationSeconds' });
      break;
    }
  }
  // Set every field that may change back to its old value: what remains must be equal.
  const munged = structuredClone(spec);
  for (const list of ['containers', 'initContainers'] as const) {
    const oldList = objectsOf(oldSpec[list]);
    objectsOf(munged[list]).forEach((container, index) => {
      if (index < oldList.length) container.image = oldList[index].image;
    });
  }
  munged.activeDeadlineSeconds = oldSpec.activeDeadlineSeconds;
  munged.tolerations = oldSpec.tolerations;
  const oldGrace = oldSpec.terminationGracePeriodSeconds;
  if (typeof oldGrace === 'number' && oldGrace < 0 && munged.terminationGracePeriodSeconds === 1) munged.terminationGracePeriodSeconds = oldGrace;
  // Scheduling gates may only be removed.
  const oldGates = objectsOf(oldSpec.schedulingGates).map(canonical);
  if (objectsOf(munged.schedulingGates).every((gate) => oldGates.includes(canonical(gate)))) munged.schedulingGates = oldSpec.schedulingGates;
  if (canonical(munged) !== canonical(oldSpec)) errors.push({ field: 'spec', type: 'FieldValueForbidden', detail: POD_UPDATE_FORBIDDEN });
  return errors;
}
