// The pod template every workload embeds: upstream's core/v1 defaulting (SetDefaults_PodSpec, _Container,
// _Probe, _Volume, ...), which runs on every decode, and the subset of pod spec validation that users
// meet in practice (containers, names, images, policies, ports), with upstream's paths and texts.

import { isObject } from '../../../apiserver/registry/object.js';
import type { FieldError } from '../../../apiserver/request/status.js';
import { validateLabels, validateAnnotations } from '../../../apiserver/registry/validate-meta.js';
import { validateDns1123Label, validatePortNumber, validateProtocol, portNameProblems } from '../network-fields.js';
import { applyPodSpecDefaults } from '../corev1/pod-defaults.js';

type Json = Record<string, unknown>;

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const TERMINATION_MESSAGE_POLICIES = ['File', 'FallbackToLogsOnError'];
const DEFAULT_MODE = 0o644;

function records(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter((item): item is Json => isObject(item)) : [];
}




const VOLUME_SOURCES_WITH_MODE = ['configMap', 'secret', 'downwardAPI', 'projected'];


/** Defaults a PodTemplateSpec in place (creating `spec` when missing, as Go's zero value would). */
export function applyPodTemplateDefaults(template: Json): void {
  // Go marshals the template's zero ObjectMeta.CreationTimestamp as null (1.32 prints `creationTimestamp: null`).
  if (!isObject(template.metadata)) template.metadata = {};
  const metadata = template.metadata as Json;
  if (metadata.creationTimestamp === undefined) metadata.creationTimestamp = null;
  if (!isObject(template.spec)) template.spec = {};
  const spec = template.spec as Json;
  // The same PodSpec defaults as pods (upstream's SetDefaults_PodSpec serves both).
  applyPodSpecDefaults(spec);
}

/** The template's spec, or an empty one. */
export function podSpecOf(template: unknown): Json {
  return isObject(template) && isObject(template.spec) ? template.spec : {};
}

export function templateLabels(template: unknown): Record<string, string> {
  const metadata = isObject(template) && isObject(template.metadata) ? template.metadata : {};
  return isObject(metadata.labels) ? (metadata.labels as Record<string, string>) : {};
}

function validateContainers(containers: Json[], path: string, names: Set<string>): FieldError[] {
  const errors: FieldError[] = [];
  containers.forEach((container, index) => {
    const at = `${path}[${index}]`;
    const name = typeof container.name === 'string' ? container.name : '';
    if (!name) errors.push({ field: `${at}.name`, type: 'FieldValueRequired' });
    else {
      errors.push(...validateDns1123Label(name, `${at}.name`));
      if (names.has(name)) errors.push({ field: `${at}.name`, type: 'FieldValueDuplicate', value: name });
      names.add(name);
    }
    if (typeof container.image !== 'string' || container.image.trim() === '') errors.push({ field: `${at}.image`, type: 'FieldValueRequired' });
    if (!PULL_POLICIES.includes(String(container.imagePullPolicy))) {
      errors.push({ field: `${at}.imagePullPolicy`, type: 'FieldValueNotSupported', value: container.imagePullPolicy, supported: PULL_POLICIES });
    }
    if (!TERMINATION_MESSAGE_POLICIES.includes(String(container.terminationMessagePolicy))) {
      errors.push({ field: `${at}.terminationMessagePolicy`, type: 'FieldValueNotSupported', value: container.terminationMessagePolicy, supported: TERMINATION_MESSAGE_POLICIES });
    }
    const portNames = new Set<string>();
    records(container.ports).forEach((port, portIndex) => {
      const portPath = `${at}.ports[${portIndex}]`;
      if (typeof port.name === 'string' && port.name) {
        for (const detail of portNameProblems(port.name)) errors.push({ field: `${portPath}.name`, type: 'FieldValueInvalid', value: port.name, detail });
        if (portNames.has(port.name)) errors.push({ field: `${portPath}.name`, type: 'FieldValueDuplicate', value: port.name });
        portNames.add(port.name);
      }
      if (port.containerPort === undefined || port.containerPort === 0) errors.push({ field: `${portPath}.containerPort`, type: 'FieldValueRequired' });
      else errors.push(...validatePortNumber(port.containerPort, `${portPath}.containerPort`));
      if (port.hostPort !== undefined && port.hostPort !== 0) errors.push(...validatePortNumber(port.hostPort, `${portPath}.hostPort`));
      errors.push(...validateProtocol(port.protocol, `${portPath}.protocol`));
    });
  });
  return errors;
}

/** ValidatePodTemplateSpec, for the fields checked here; `path` is where the template sits (spec.template). */
export function validatePodTemplate(template: unknown, path: string): FieldError[] {
  if (!isObject(template)) return [{ field: path, type: 'FieldValueRequired' }];
  const metadata = isObject(template.metadata) ? template.metadata : {};
  const errors = [...validateLabels(metadata.labels, `${path}.metadata.labels`), ...validateAnnotations(metadata.annotations, `${path}.metadata.annotations`)];
  const spec = podSpecOf(template);
  const specPath = `${path}.spec`;
  const names = new Set<string>();
  const containers = records(spec.containers);
  if (containers.length === 0) errors.push({ field: `${specPath}.containers`, type: 'FieldValueRequired' });
  errors.push(...validateContainers(records(spec.initContainers), `${specPath}.initContainers`, names));
  errors.push(...validateContainers(containers, `${specPath}.containers`, names));
  if (!RESTART_POLICIES.includes(String(spec.restartPolicy))) {
    errors.push({ field: `${specPath}.restartPolicy`, type: 'FieldValueNotSupported', value: spec.restartPolicy, supported: RESTART_POLICIES });
  }
  if (!DNS_POLICIES.includes(String(spec.dnsPolicy))) errors.push({ field: `${specPath}.dnsPolicy`, type: 'FieldValueNotSupported', value: spec.dnsPolicy, supported: DNS_POLICIES });
  if (typeof spec.terminationGracePeriodSeconds === 'number' && spec.terminationGracePeriodSeconds < 0) {
    errors.push({ field: `${specPath}.terminationGracePeriodSeconds`, type: 'FieldValueInvalid', value: spec.terminationGracePeriodSeconds, detail: 'must be >= 0' });
  }
  const volumeNames = new Set<string>();
  records(spec.volumes).forEach((volume, index) => {
    const name = typeof volume.name === 'string' ? volume.name : '';
    if (!name) errors.push({ field: `${specPath}.volumes[${index}].name`, type: 'FieldValueRequired' });
    else if (volumeNames.has(name)) errors.push({ field: `${specPath}.volumes[${index}].name`, type: 'FieldValueDuplicate', value: name });
    volumeNames.add(name);
  });
  return errors;
}

/** The wide CONTAINERS and IMAGES cells: names and images joined by commas. */
export function containerCells(template: unknown): { names: string; images: string } {
  const containers = records(podSpecOf(template).containers);
  return { names: containers.map((c) => String(c.name ?? '')).join(','), images: containers.map((c) => String(c.image ?? '')).join(',') };
}
