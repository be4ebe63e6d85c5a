// batch/v1 Job and CronJob: batch/v1 defaulting, the generated selector and pod labels of a Job (from
// its uid, as upstream's job strategy generates them), ValidateJob / ValidateCronJob for the fields users
// meet, what may change on update, and the kubectl printers.

import { randomUUID } from 'node:crypto';
import { defineResource, statusSubresource } from '../../../apiserver/registry/resource.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import { isObject } from '../../../apiserver/registry/object.js';
import type { FieldError } from '../../../apiserver/request/status.js';
import { ageColumn, humanDuration, nameColumn, since } from '../../../apiserver/registry/table.js';
import { applyPodTemplateDefaults, containerCells, podSpecOf, validatePodTemplate } from './pod-template.js';
import type { Json } from './workload-fields.js';
import {
  CONTAINERS_DESCRIPTION,
  count,
  doc,
  formatSelector,
  IMAGES_DESCRIPTION,
  mutableSpec,
  mutableTemplate,
  sameJson,
  specOf,
  statusOf,
  validateImmutable,
  validateLabelSelector,
  validateNonNegative,
  validateSelectorMatchesTemplate,
} from './workload-fields.js';

export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
export const LEGACY_JOB_NAME_LABEL = 'job-name';

const STATUS_SUBRESOURCE = { status: statusSubresource };
const COMPLETION_MODES = ['NonIndexed', 'Indexed'];
const REPLACEMENT_POLICIES = ['TerminatingOrFailed', 'Failed'];
const CONCURRENCY_POLICIES = ['Allow', 'Forbid', 'Replace'];
const MAX_INT32 = 2147483647;

function templateMetadata(template: Json): Json {
  if (!isObject(template.metadata)) template.metadata = {};
  return template.metadata as Json;
}

/** SetDefaults_Job (batch/v1) and the template's pod defaults. */
export function applyJobDefaults(job: KubeObject): void {
  const spec = mutableSpec(job);
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= spec.backoffLimitPerIndex !== undefined ? MAX_INT32 : 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= isObject(spec.podFailurePolicy) ? 'Failed' : 'TerminatingOrFailed';
  const template = mutableTemplate(spec);
  applyPodTemplateDefaults(template);
  // A Job without labels takes its pods' labels (re-applied on every decode upstream, so the generated
  // ones show up too).
  const labels = templateMetadata(template).labels;
  if (isObject(labels) && Object.keys(labels).length > 0 && Object.keys(job.metadata.labels ?? {}).length === 0) {
    job.metadata.labels = { ...(labels as Record<string, string>) };
  }
}

/**
 * generateSelector: the pods carry the job's name and uid, and the selector picks the uid. Labels the
 * client already set are left for validation to judge.
 */
export function generateJobSelector(job: KubeObject): void {
  const spec = mutableSpec(job);
  const metadata = templateMetadata(mutableTemplate(spec));
  if (!isObject(metadata.labels)) metadata.labels = {};
  const labels = metadata.labels as Record<string, string>;
  const name = job.metadata.name ?? '';
  const uid = job.metadata.uid ?? '';
  labels[LEGACY_JOB_NAME_LABEL] ??= name;
  labels[JOB_NAME_LABEL] ??= name;
  labels[LEGACY_CONTROLLER_UID_LABEL] ??= uid;
  labels[CONTROLLER_UID_LABEL] ??= uid;
  if (!isObject(spec.selector)) spec.selector = {};
  const selector = spec.selector as Json;
  if (!isObject(selector.matchLabels)) selector.matchLabels = {};
  (selector.matchLabels as Record<string, string>)[CONTROLLER_UID_LABEL] ??= uid;
}

function hasLabel(labels: Record<string, string>, key: string, expected: string): FieldError[] {
  const field = `spec.template.metadata.labels[${key}]`;
  if (!(key in labels)) return [{ field, type: 'FieldValueRequired', detail: expected }];
  return labels[key] === expected ? [] : [{ field, type: 'FieldValueInvalid', value: labels, detail: expected }];
}

/** validateGeneratedSelector: unless the selector is manual, it and the pod labels are exactly the generated ones. */
function validateGeneratedSelector(job: KubeObject): FieldError[] {
  const spec = specOf(job);
  if (spec.manualSelector === true) return [];
  const uid = job.metadata.uid ?? '';
  const name = job.metadata.name ?? '';
  const errors: FieldError[] = [];
  if (!uid) errors.push({ field: 'metadata.uid', type: 'FieldValueRequired' });
  const template = isObject(spec.template) ? spec.template : {};
  const labels = (isObject(template.metadata) && isObject(template.metadata.labels) ? template.metadata.labels : {}) as Record<string, string>;
  errors.push(...hasLabel(labels, LEGACY_CONTROLLER_UID_LABEL, uid), ...hasLabel(labels, LEGACY_JOB_NAME_LABEL, name));
  errors.push(...hasLabel(labels, CONTROLLER_UID_LABEL, uid), ...hasLabel(labels, JOB_NAME_LABEL, name));
  if (isObject(spec.selector) && !sameJson(spec.selector, { matchLabels: { [CONTROLLER_UID_LABEL]: uid } })) {
    errors.push({ field: 'spec.selector', type: 'FieldValueInvalid', value: spec.selector, detail: '`selector` not auto-generated' });
  }
  return errors;
}

/** validateJobSpec: the checks a Job and a CronJob's job template share. `path` is the JobSpec's path. */
export function validateJobSpecFields(spec: Json, path: string): FieldError[] {
  const errors = [
    ...validateNonNegative(spec.parallelism, `${path}.parallelism`),
    ...validateNonNegative(spec.completions, `${path}.completions`),
    ...validateNonNegative(spec.activeDeadlineSeconds, `${path}.activeDeadlineSeconds`),
    ...validateNonNegative(spec.backoffLimit, `${path}.backoffLimit`),
    ...validateNonNegative(spec.ttlSecondsAfterFinished, `${path}.ttlSecondsAfterFinished`),
  ];
  if (spec.completionMode !== undefined) {
    if (!COMPLETION_MODES.includes(String(spec.completionMode))) {
      errors.push({ field: `${path}.completionMode`, type: 'FieldValueNotSupported', value: spec.completionMode, supported: COMPLETION_MODES });
    } else if (spec.completionMode === 'Indexed' && spec.completions === undefined) {
      errors.push({ field: `${path}.completions`, type: 'FieldValueRequired', detail: 'when completion mode is Indexed' });
    }
  }
  if (spec.podReplacementPolicy !== undefined && !REPLACEMENT_POLICIES.includes(String(spec.podReplacementPolicy))) {
    errors.push({ field: `${path}.podReplacementPolicy`, type: 'FieldValueNotSupported', value: spec.podReplacementPolicy, supported: REPLACEMENT_POLICIES });
  }
  errors.push(...validatePodTemplate(spec.template, `${path}.template`));
  const restartPolicy = podSpecOf(spec.template).restartPolicy;
  if (restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') {
    errors.push({ field: `${path}.template.spec.restartPolicy`, type: 'FieldValueNotSupported', value: restartPolicy, supported: ['OnFailure', 'Never'] });
  } else if (restartPolicy === 'OnFailure' && spec.podFailurePolicy !== undefined) {
    errors.push({ field: `${path}.template.spec.restartPolicy`, type: 'FieldValueInvalid', value: restartPolicy, detail: 'only "Never" is supported when podFailurePolicy is specified' });
  }
  return errors;
}

/** ValidateJob, on the defaulted object with its selector generated. */
export function validateJob(job: KubeObject): FieldError[] {
  const spec = specOf(job);
  const errors = [...validateGeneratedSelector(job), ...validateJobSpecFields(spec, 'spec')];
  if (!isObject(spec.selector)) errors.push({ field: 'spec.selector', type: 'FieldValueRequired' });
  else errors.push(...validateLabelSelector(spec.selector, 'spec.selector'), ...validateSelectorMatchesTemplate(spec.selector, spec.template, 'spec.template'));
  return errors;
}

const SCHEDULING_DIRECTIVES = ['nodeSelector', 'affinity', 'tolerations', 'schedulingGates'];

/** The template without what a suspended, never-started Job may still change. */
function withoutSchedulingDirectives(template: unknown): unknown {
  if (!isObject(template)) return template;
  const spec = Object.fromEntries(Object.entries(podSpecOf(template)).filter(([key]) => !SCHEDULING_DIRECTIVES.includes(key)));
  const metadata = isObject(template.metadata) ? Object.fromEntries(Object.entries(template.metadata).filter(([key]) => key !== 'labels' && key !== 'annotations')) : {};
  return { ...template, metadata, spec };
}

/** ValidateJobSpecUpdate: the selector, template, completions and modes are fixed once created. */
export function validateJobUpdate(job: KubeObject, old: KubeObject): FieldError[] {
  const spec = specOf(job);
  const oldSpec = specOf(old);
  const errors = [...validateJob(job), ...validateImmutable(spec.completions, oldSpec.completions, 'spec.completions'), ...validateImmutable(spec.selector, oldSpec.selector, 'spec.selector')];
  const mutableScheduling = oldSpec.suspend === true && statusOf(old).startTime === undefined;
  if (mutableScheduling) {
    if (!sameJson(withoutSchedulingDirectives(spec.template), withoutSchedulingDirectives(oldSpec.template))) errors.push({ field: 'spec.template', type: 'FieldValueInvalid', value: spec.template, detail: 'field is immutable' });
  } else {
    errors.push(...validateImmutable(spec.template, oldSpec.template, 'spec.template'));
  }
  for (const field of ['completionMode', 'podFailurePolicy', 'backoffLimitPerIndex', 'managedBy', 'successPolicy']) errors.push(...validateImmutable(spec[field], oldSpec[field], `spec.${field}`));
  return errors;
}

function hasCondition(job: KubeObject, type: string): boolean {
  const conditions = Array.isArray(statusOf(job).conditions) ? (statusOf(job).conditions as unknown[]) : [];
  return conditions.some((condition) => isObject(condition) && condition.type === type && condition.status === 'True');
}

/** The STATUS cell of `kubectl get jobs`. */
export function jobStatus(job: KubeObject): string {
  if (hasCondition(job, 'Complete')) return 'Complete';
  if (hasCondition(job, 'Failed')) return 'Failed';
  if (job.metadata.deletionTimestamp) return 'Terminating';
  if (hasCondition(job, 'Suspended')) return 'Suspended';
  if (hasCondition(job, 'FailureTarget')) return 'FailureTarget';
  if (hasCondition(job, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

/** The COMPLETIONS cell: `1/3`, or `0/1 of 4` for a work queue with parallelism. */
export function jobCompletions(job: KubeObject): string {
  const spec = specOf(job);
  const succeeded = count(statusOf(job).succeeded);
  if (typeof spec.completions === 'number') return `${succeeded}/${spec.completions}`;
  const parallelism = count(spec.parallelism);
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

/** The DURATION cell: since start (until completion), empty before the job starts. */
export function jobDuration(job: KubeObject, now = Date.now()): string {
  const status = statusOf(job);
  if (typeof status.startTime !== 'string') return '';
  const start = Date.parse(status.startTime);
  const end = typeof status.completionTime === 'string' ? Date.parse(status.completionTime) : now;
  return humanDuration(end - start);
}

/** The DURATION cell of a running job reads the clock, so it is rendered at response time. */
function jobDurationCell(job: KubeObject): unknown {
  const status = statusOf(job);
  if (typeof status.startTime === 'string' && typeof status.completionTime !== 'string' && !Number.isNaN(Date.parse(status.startTime))) return since(status.startTime);
  return jobDuration(job);
}

export const jobs = defineResource({
  group: 'batch',
  version: 'v1',
  kind: 'Job',
  plural: 'jobs',
  namespaced: true,
  categories: ['all'],
  schemaName: 'io.k8s.api.batch.v1.Job',
  subresources: STATUS_SUBRESOURCE,
  generation: true,
  selectableFields: { 'status.successful': (job) => String(count(statusOf(job).succeeded)) },
  strategy: {
    defaultGarbageCollectionPolicy: 'Orphan', // batch/v1 keeps its pods by default, for backward compatibility
    defaultPropagationWarning: 'child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning',
    prepareForCreate(job) {
      // Upstream assigns the uid before validation, which generates the selector from it.
      job.metadata.uid ||= randomUUID();
      applyJobDefaults(job);
      if (specOf(job).manualSelector !== true) generateJobSelector(job);
      applyJobDefaults(job);
      job.status = {};
    },
    prepareForUpdate: applyJobDefaults,
    validate: validateJob,
    validateUpdate: validateJobUpdate,
  },
  printerColumns: [
    nameColumn,
    { name: 'Status', type: 'string', description: 'Status of the job.', value: jobStatus },
    { name: 'Completions', type: 'string', get description() { return doc('io.k8s.api.batch.v1.JobStatus', 'succeeded'); }, value: jobCompletions },
    { name: 'Duration', type: 'string', description: 'Time required to complete the job.', value: jobDurationCell },
    ageColumn,
    { name: 'Containers', type: 'string', priority: 1, description: CONTAINERS_DESCRIPTION, value: (job) => containerCells(specOf(job).template).names },
    { name: 'Images', type: 'string', priority: 1, description: IMAGES_DESCRIPTION, value: (job) => containerCells(specOf(job).template).images },
    { name: 'Selector', type: 'string', priority: 1, get description() { return doc('io.k8s.api.batch.v1.JobSpec', 'selector'); }, value: (job) => formatSelector(specOf(job).selector) },
  ],
});

export { CONCURRENCY_POLICIES };
