// batch/v1 CronJob: defaulting, schedule and time zone validation (robfig/cron syntax, IANA zones), the
// job template checks (its selector is always generated later, by the controller), and the printer.

import { defineResource, statusSubresource } from '../../../apiserver/registry/resource.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import { isObject } from '../../../apiserver/registry/object.js';
import type { FieldError } from '../../../apiserver/request/status.js';
import { ageColumn, nameColumn, since } from '../../../apiserver/registry/table.js';
import { applyPodTemplateDefaults, containerCells } from './pod-template.js';
import { cronScheduleError, isKnownTimeZone } from './cron-schedule.js';
import { CONCURRENCY_POLICIES, validateJobSpecFields } from './jobs.js';
import type { Json } from './workload-fields.js';
import { CONTAINERS_DESCRIPTION, doc, formatSelector, IMAGES_DESCRIPTION, mutableSpec, specOf, statusOf, validateNonNegative } from './workload-fields.js';

const STATUS_SUBRESOURCE = { status: statusSubresource };
/** DNS-1035 label length less the 11 characters the controller appends to job names. */
const MAX_NAME_LENGTH = 52;

function jobSpecOf(cronJob: KubeObject): Json {
  const jobTemplate = specOf(cronJob).jobTemplate;
  return isObject(jobTemplate) && isObject(jobTemplate.spec) ? jobTemplate.spec : {};
}

/** SetDefaults_CronJob (batch/v1); the job template gets pod defaults only, not Job defaults. */
export function applyCronJobDefaults(cronJob: KubeObject): void {
  const spec = mutableSpec(cronJob);
  spec.concurrencyPolicy ||= 'Allow';
  spec.suspend ??= false;
  spec.successfulJobsHistoryLimit ??= 3;
  spec.failedJobsHistoryLimit ??= 1;
  if (!isObject(spec.jobTemplate)) spec.jobTemplate = {};
  const jobTemplate = spec.jobTemplate as Json;
  if (!isObject(jobTemplate.spec)) jobTemplate.spec = {};
  const jobSpec = jobTemplate.spec as Json;
  if (!isObject(jobSpec.template)) jobSpec.template = {};
  applyPodTemplateDefaults(jobSpec.template as Json);
}

/** validateTimeZone. */
function validateTimeZone(timeZone: unknown): FieldError[] {
  if (timeZone === undefined || timeZone === null) return [];
  const field = 'spec.timeZone';
  const zone = String(timeZone);
  if (zone === '') return [{ field, type: 'FieldValueInvalid', value: zone, detail: 'timeZone must be nil or non-empty string' }];
  const errors: FieldError[] = [];
  for (const part of zone.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !/^[A-Za-z._+\-0-9]+$/.test(part)) {
      errors.push({ field, type: 'FieldValueInvalid', value: zone, detail: `unknown time zone ${zone}` });
    }
  }
  if (zone.toLowerCase() === 'local') {
    errors.push({ field, type: 'FieldValueInvalid', value: zone, detail: 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones' });
  } else if (!isKnownTimeZone(zone)) {
    errors.push({ field, type: 'FieldValueInvalid', value: zone, detail: `unknown time zone ${zone}` });
  }
  return errors;
}

function validateSchedule(schedule: unknown, allowTZ: boolean, timeZone: unknown): FieldError[] {
  const field = 'spec.schedule';
  if (typeof schedule !== 'string' || schedule === '') return [{ field, type: 'FieldValueRequired' }];
  const errors: FieldError[] = [];
  const problem = cronScheduleError(schedule);
  if (problem) errors.push({ field, type: 'FieldValueInvalid', value: schedule, detail: problem });
  if (allowTZ && schedule.includes('TZ') && timeZone !== undefined && timeZone !== null) {
    errors.push({ field, type: 'FieldValueInvalid', value: schedule, detail: 'cannot use both timeZone field and TZ or CRON_TZ in schedule' });
  } else if (!allowTZ && schedule.includes('TZ')) {
    errors.push({ field, type: 'FieldValueInvalid', value: schedule, detail: 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead' });
  }
  return errors;
}

/** validateCronJobSpec; `old` is the stored object on update (a TZ= schedule already there stays legal). */
export function validateCronJob(cronJob: KubeObject, old?: KubeObject): FieldError[] {
  const spec = specOf(cronJob);
  const oldSpec = old ? specOf(old) : undefined;
  const errors: FieldError[] = [];
  const name = cronJob.metadata.name ?? '';
  if (name.length > MAX_NAME_LENGTH) errors.push({ field: 'metadata.name', type: 'FieldValueInvalid', value: name, detail: `must be no more than ${MAX_NAME_LENGTH} characters` });
  const allowTZ = typeof oldSpec?.schedule === 'string' && oldSpec.schedule.includes('TZ');
  errors.push(...validateSchedule(spec.schedule, allowTZ, spec.timeZone));
  errors.push(...validateNonNegative(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  if (!oldSpec || oldSpec.timeZone !== spec.timeZone) errors.push(...validateTimeZone(spec.timeZone));
  if (!spec.concurrencyPolicy) errors.push({ field: 'spec.concurrencyPolicy', type: 'FieldValueRequired' });
  else if (!CONCURRENCY_POLICIES.includes(String(spec.concurrencyPolicy))) {
    errors.push({ field: 'spec.concurrencyPolicy', type: 'FieldValueNotSupported', value: spec.concurrencyPolicy, supported: CONCURRENCY_POLICIES });
  }
  const jobSpec = jobSpecOf(cronJob);
  errors.push(...validateJobSpecFields(jobSpec, 'spec.jobTemplate.spec'));
  if (jobSpec.selector !== undefined) errors.push({ field: 'spec.jobTemplate.spec.selector', type: 'FieldValueInvalid', value: jobSpec.selector, detail: '`selector` will be auto-generated' });
  if (jobSpec.manualSelector === true) errors.push({ field: 'spec.jobTemplate.spec.manualSelector', type: 'FieldValueNotSupported', value: 'true', supported: ['nil', 'false'] });
  errors.push(...validateNonNegative(spec.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'));
  errors.push(...validateNonNegative(spec.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));
  return errors;
}

/** printBoolPtr: `<unset>`, `True` or `False`. */
function boolCell(value: unknown): string {
  if (typeof value !== 'boolean') return '<unset>';
  return value ? 'True' : 'False';
}

const CRON_JOB_SPEC = 'io.k8s.api.batch.v1.CronJobSpec';

export const cronJobs = defineResource({
  group: 'batch',
  version: 'v1',
  kind: 'CronJob',
  plural: 'cronjobs',
  namespaced: true,
  shortNames: ['cj'],
  categories: ['all'],
  schemaName: 'io.k8s.api.batch.v1.CronJob',
  subresources: STATUS_SUBRESOURCE,
  generation: true,
  strategy: {
    prepareForCreate(cronJob) {
      applyCronJobDefaults(cronJob);
      cronJob.status = {};
    },
    prepareForUpdate: applyCronJobDefaults,
    validate: (cronJob) => validateCronJob(cronJob),
    validateUpdate: (cronJob, old) => validateCronJob(cronJob, old),
  },
  printerColumns: [
    nameColumn,
    { name: 'Schedule', type: 'string', get description() { return doc(CRON_JOB_SPEC, 'schedule'); }, value: (cj) => String(specOf(cj).schedule ?? '') },
    { name: 'Timezone', type: 'string', get description() { return doc(CRON_JOB_SPEC, 'timeZone'); }, value: (cj) => (typeof specOf(cj).timeZone === 'string' ? specOf(cj).timeZone : '<none>') },
    { name: 'Suspend', type: 'boolean', get description() { return doc(CRON_JOB_SPEC, 'suspend'); }, value: (cj) => boolCell(specOf(cj).suspend) },
    { name: 'Active', type: 'integer', get description() { return doc('io.k8s.api.batch.v1.CronJobStatus', 'active'); }, value: (cj) => (Array.isArray(statusOf(cj).active) ? (statusOf(cj).active as unknown[]).length : 0) },
    {
      name: 'Last Schedule',
      type: 'string',
      get description() {
        return doc('io.k8s.api.batch.v1.CronJobStatus', 'lastScheduleTime');
      },
      value: (cj) => (typeof statusOf(cj).lastScheduleTime === 'string' ? since(statusOf(cj).lastScheduleTime as string) : '<none>'),
    },
    ageColumn,
    { name: 'Containers', type: 'string', priority: 1, description: CONTAINERS_DESCRIPTION, value: (cj) => containerCells(jobSpecOf(cj).template).names },
    { name: 'Images', type: 'string', priority: 1, description: IMAGES_DESCRIPTION, value: (cj) => containerCells(jobSpecOf(cj).template).images },
    { name: 'Selector', type: 'string', priority: 1, get description() { return doc('io.k8s.api.batch.v1.JobSpec', 'selector'); }, value: (cj) => formatSelector(jobSpecOf(cj).selector) },
  ],
});
