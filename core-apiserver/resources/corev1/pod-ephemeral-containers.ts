// pods/ephemeralcontainers: how `kubectl debug` adds a debugging container to a running pod. A write through
// it changes only spec.ephemeralContainers, and upstream's rules hold: containers can be added but never
// removed or changed, their names are unique among all of the pod's containers, and what would make them
// part of the workload (ports, probes, resources, lifecycle hooks, subPath mounts) is forbidden.

import type { KubeObject } from '../../../apiserver/registry/object.js';
import { isObject } from '../../../apiserver/registry/object.js';
import type { SubresourceDefinition } from '../../../apiserver/registry/resource.js';
import type { FieldError } from '../../../apiserver/request/status.js';
import type { Json } from './pod-defaults.js';
import { allContainers, defaultContainer, objectsOf } from './pod-defaults.js';
import { validateContainer, validatePodSpec } from './pod-validation.js';

const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
const NOT_FOR_EPHEMERAL = 'cannot be set for an Ephemeral Container';

/** EphemeralContainerCommon's fields an ephemeral container may not set, in the struct's order (upstream's allow list inverted). */
const FORBIDDEN_FIELDS = ['ports', 'resources', 'resizePolicy', 'restartPolicy', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle'];

/** Whether a field holds something other than its Go zero value. */
function isSet(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isObject(value)) return Object.values(value).some(isSet);
  return value !== '' && value !== 0 && value !== false;
}

/** validateEphemeralContainers: each container, with the names of the pod's other containers. */
export function validateEphemeralContainers(spec: Json, path = 'spec.ephemeralContainers'): FieldError[] {
  const errors: FieldError[] = [];
  const others = new Set(allContainers(spec).map((container) => String(container.name ?? '')));
  const names = new Set(others);
  objectsOf(spec.ephemeralContainers).forEach((container, index) => {
    const at = `${path}[${index}]`;
    errors.push(...validateContainer(container, at, names));
    const target = container.targetContainerName;
    if (typeof target === 'string' && target !== '' && !others.has(target)) errors.push({ field: `${at}.targetContainerName`, type: 'FieldValueNotFound', value: target });
    for (const field of FORBIDDEN_FIELDS) {
      if (isSet(container[field])) errors.push({ field: `${at}.${field}`, type: 'FieldValueForbidden', detail: NOT_FOR_EPHEMERAL });
    }
    objectsOf(container.volumeMounts).forEach((mount, mountIndex) => {
      for (const field of ['subPath', 'subPathExpr']) {
        if (typeof mount[field] === 'string' && mount[field] !== '') errors.push({ field: `${at}.volumeMounts[${mountIndex}].${field}`, type: 'FieldValueForbidden', detail: NOT_FOR_EPHEMERAL });
      }
    });
  });
  return errors;
}

/** Semantic equality of two containers: key order and empty lists do not count. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .filter((key) => isSet(value[key]) || typeof value[key] === 'boolean' || typeof value[key] === 'number')
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The fields in which two versions of one ephemeral container differ, as a short diff for the message. */
function differences(old: Json, next: Json): string {
  const keys = [...new Set([...Object.keys(old), ...Object.keys(next)])].sort();
  return keys
    .filter((key) => canonical(old[key]) !== canonical(next[key]))
    .map((key) => `  ${key}: ${JSON.stringify(old[key] ?? null)} -> ${JSON.stringify(next[key] ?? null)}`)
    .join('\n');
}

/** ValidatePodEphemeralContainersUpdate: the whole pod stays valid, and existing ephemeral containers stay as they were. */
export function validateEphemeralContainersUpdate(pod: KubeObject, old: KubeObject): FieldError[] {
  if (isObject(old.metadata.annotations) && MIRROR_POD_ANNOTATION in old.metadata.annotations) {
    return [{ field: '', type: 'FieldValueForbidden', detail: 'static pods do not support ephemeral containers' }];
  }
  const spec: Json = isObject(pod.spec) ? pod.spec : {};
  const oldSpec: Json = isObject(old.spec) ? old.spec : {};
  const errors = [...validatePodSpec(spec, 'spec'), ...validateEphemeralContainers(spec)];
  const byName = new Map(objectsOf(spec.ephemeralContainers).map((container) => [String(container.name ?? ''), container]));
  for (const existing of objectsOf(oldSpec.ephemeralContainers)) {
    const name = String(existing.name ?? '');
    const next = byName.get(name);
    if (!next) errors.push({ field: 'spec.ephemeralContainers', type: 'FieldValueForbidden', detail: `existing ephemeral containers ${JSON.stringify(name)} may not be removed\n` });
    else if (canonical(existing) !== canonical(next)) {
      errors.push({ field: 'spec.ephemeralContainers', type: 'FieldValueForbidden', detail: `existing ephemeral containers ${JSON.stringify(name)} may not be changed\n${differences(existing, next)}` });
    }
  }
  return errors;
}

export const ephemeralContainersSubresource: SubresourceDefinition = {
  verbs: ['get', 'patch', 'update'],
  // What a write here may change; the rest of the pod, metadata included, keeps its stored value.
  updates: ['spec.ephemeralContainers'],
  prepareForUpdate(pod) {
    const spec: Json = isObject(pod.spec) ? pod.spec : {};
    for (const container of objectsOf(spec.ephemeralContainers)) defaultContainer(container, false);
  },
  validateUpdate: (pod, old) => validateEphemeralContainersUpdate(pod, old),
};
