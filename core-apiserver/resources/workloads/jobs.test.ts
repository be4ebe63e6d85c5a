import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import type { ResourceDefinition, StrategyContext } from '../../../apiserver/registry/resource.js';
import { columnsOf, tableRow } from '../../../apiserver/registry/table.js';
import { fieldErrorMessage } from '../../../apiserver/request/status.js';
import { cronScheduleError } from './cron-schedule.js';
import { cronJobs } from './cronjobs.js';
import { jobCompletions, jobDuration, jobs, jobStatus } from './jobs.js';

const USER: StrategyContext = { user: { username: 'alice', groups: [] }, warnings: [], dryRun: false };
const UID = '0f6c1a9e-1111-4222-8333-944455556666';

function job(spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'pi', namespace: 'default', ...metadata }, spec };
}

function piSpec(extra: Record<string, unknown> = {}, restartPolicy: string | null = 'Never'): Record<string, unknown> {
  return { template: { spec: { containers: [{ name: 'pi', image: 'perl:5.34' }], ...(restartPolicy ? { restartPolicy } : {}) } }, ...extra };
}

function messages(definition: ResourceDefinition, object: KubeObject): string[] {
  definition.strategy.prepareForCreate!(object, USER);
  return definition.strategy.validate!(object, USER).map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
}

function cells(definition: ResourceDefinition, object: KubeObject): unknown[] {
  return tableRow(columnsOf(definition), object, 'None').cells as unknown[];
}

describe('Job defaults and generated selector', () => {
  it('defaults counts, modes and policies, and labels pods with the job name and uid', () => {
    const object = job(piSpec(), { uid: UID });
    assert.deepEqual(messages(jobs, object), []);
    const { template, ...spec } = object.spec;
    assert.deepEqual(spec, {
      completions: 1,
      parallelism: 1,
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      suspend: false,
      podReplacementPolicy: 'TerminatingOrFailed',
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': UID } },
    });
    const generated = { 'job-name': 'pi', 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': UID, 'batch.kubernetes.io/controller-uid': UID };
    assert.deepEqual(template.metadata.labels, generated);
    // A Job without labels of its own shows its pods' labels.
    assert.deepEqual(object.metadata.labels, generated);
    assert.equal(object.spec.manualSelector, undefined);
    assert.deepEqual(object.status, {});
  });

  it('assigns the uid the labels are made from when none is set yet', () => {
    const object = job(piSpec());
    assert.deepEqual(messages(jobs, object), []);
    assert.match(object.metadata.uid!, /^[0-9a-f-]{36}$/);
    assert.equal(object.spec.selector.matchLabels['batch.kubernetes.io/controller-uid'], object.metadata.uid);
  });

  it('keeps a job its own labels and leaves completions unset for a work queue', () => {
    const object = job({ ...piSpec({ parallelism: 3 }), template: { metadata: { labels: { app: 'pi' } }, spec: { containers: [{ name: 'pi', image: 'perl' }], restartPolicy: 'OnFailure' } } }, { uid: UID });
    assert.deepEqual(messages(jobs, object), []);
    assert.equal(object.spec.completions, undefined);
    assert.equal(object.spec.parallelism, 3);
    assert.deepEqual(object.metadata.labels, { app: 'pi' });
    assert.equal(object.spec.template.metadata.labels.app, 'pi');
  });

  it('refuses a hand-written selector unless manualSelector is set, and then requires it to match', () => {
    const rude = job(piSpec({ selector: { matchLabels: { app: 'pi' } } }), { uid: UID });
    assert.deepEqual(messages(jobs, rude), [
      'spec.selector: Invalid value: "object": `selector` not auto-generated',
      'spec.template.metadata.labels: Invalid value: map[string]string{"batch.kubernetes.io/controller-uid":"0f6c1a9e-1111-4222-8333-944455556666", "batch.kubernetes.io/job-name":"pi", "controller-uid":"0f6c1a9e-1111-4222-8333-944455556666", "job-name":"pi"}: `selector` does not match template `labels`',
    ]);
    const manual = job(piSpec({ manualSelector: true, selector: { matchLabels: { app: 'pi' } } }), { uid: UID });
    assert.deepEqual(messages(jobs, manual), ['spec.template.metadata.labels: Invalid value: "object": `selector` does not match template `labels`']);
    assert.equal(manual.spec.template.metadata?.labels, undefined);
  });
});

describe('Job validation', () => {
  it('accepts only Never and OnFailure pods, so an unset restart policy (Always) is refused', () => {
    assert.deepEqual(messages(jobs, job(piSpec({}, null), { uid: UID })), [
      'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
    ]);
    assert.deepEqual(messages(jobs, job(piSpec({ podFailurePolicy: { rules: [] } }, 'OnFailure'), { uid: UID })), [
      'spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified',
    ]);
  });

  it('checks counts and the completion mode', () => {
    assert.deepEqual(messages(jobs, job(piSpec({ parallelism: -1, backoffLimit: -2, completionMode: 'Sometimes' }), { uid: UID })), [
      'spec.parallelism: Invalid value: -1: must be greater than or equal to 0',
      'spec.backoffLimit: Invalid value: -2: must be greater than or equal to 0',
      'spec.completionMode: Unsupported value: "Sometimes": supported values: "NonIndexed", "Indexed"',
    ]);
    assert.deepEqual(messages(jobs, job(piSpec({ parallelism: 2, completionMode: 'Indexed' }), { uid: UID })), ['spec.completions: Required value: when completion mode is Indexed']);
  });

  it('keeps the template, selector and completions for good, except scheduling of a suspended job', () => {
    const old = job(piSpec(), { uid: UID });
    jobs.strategy.prepareForCreate!(old, USER);
    const next = structuredClone(old);
    next.spec.template.spec.containers[0].image = 'perl:5.36';
    next.spec.completions = 2;
    const errors = jobs.strategy.validateUpdate!(next, old, USER).map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
    assert.deepEqual(errors, ['spec.completions: Invalid value: 2: field is immutable', 'spec.template: Invalid value: "object": field is immutable']);
    const suspended = job(piSpec({ suspend: true }), { uid: UID });
    jobs.strategy.prepareForCreate!(suspended, USER);
    const moved = structuredClone(suspended);
    moved.spec.template.spec.nodeSelector = { zone: 'a' };
    assert.deepEqual(jobs.strategy.validateUpdate!(moved, suspended, USER), []);
  });
});

describe('Job printer', () => {
  it('prints status, completions and duration as kubectl does', () => {
    const object = job(piSpec({ completions: 3, parallelism: 1 }), { uid: UID });
    jobs.strategy.prepareForCreate!(object, USER);
    object.status = { succeeded: 1, startTime: '2024-01-01T00:00:00Z', completionTime: '2024-01-01T00:01:05Z', conditions: [{ type: 'Complete', status: 'True' }] };
    assert.deepEqual(columnsOf(jobs).map((c) => c.name), ['Name', 'Status', 'Completions', 'Duration', 'Age', 'Containers', 'Images', 'Selector']);
    const row = cells(jobs, object);
    assert.deepEqual([row[0], row[1], row[2], row[3], row[5], row[6], row[7]], ['pi', 'Complete', '1/3', '65s', 'pi', 'perl:5.34', `batch.kubernetes.io/controller-uid=${UID}`]);
    assert.equal(jobStatus(job({})), 'Running');
    assert.equal(jobStatus({ ...job({}), status: { conditions: [{ type: 'Suspended', status: 'True' }] } }), 'Suspended');
    assert.equal(jobStatus({ ...job({}), status: { conditions: [{ type: 'Failed', status: 'True' }] } }), 'Failed');
    assert.equal(jobCompletions(job({ parallelism: 4 })), '0/1 of 4');
    assert.equal(jobCompletions(job({ parallelism: 1 })), '0/1');
    assert.equal(jobDuration(job({})), '');
    assert.equal(jobs.selectableFields['status.successful'](object), '1');
    assert.equal(jobs.selectableFields['status.successful'](job({})), '0');
    assert.equal(jobDuration({ ...job({}), status: { startTime: '2024-01-01T00:00:00Z' } }, Date.parse('2024-01-01T00:20:00Z')), '20m');
  });
});

describe('cron schedules', () => {
  it('accepts five-field schedules, names, steps and descriptors', () => {
    for (const schedule of ['*/5 * * * *', '0 0 1,15 * MON-FRI', '30 2 ? jan sun', '0 9-17/2 * * 1-5', '@hourly', '@every 1h30m', 'CRON_TZ=UTC 0 0 * * *']) {
      assert.equal(cronScheduleError(schedule), undefined, schedule);
    }
  });

  it("refuses what robfig/cron refuses, with the parser's words", () => {
    assert.equal(cronScheduleError('bad'), 'expected exactly 5 fields, found 1: [bad]');
    assert.equal(cronScheduleError('60 * * * *'), 'end of range (60) above maximum (59): 60');
    assert.equal(cronScheduleError('* * 0 * *'), 'beginning of range (0) below minimum (1): 0');
    assert.equal(cronScheduleError('5-1 * * * *'), 'beginning of range (5) beyond end of range (1): 5-1');
    assert.equal(cronScheduleError('x * * * *'), 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax');
    assert.equal(cronScheduleError('*/0 * * * *'), 'step of range should be a positive number: */0');
    assert.equal(cronScheduleError('@fortnightly'), 'unrecognized descriptor: @fortnightly');
  });
});

describe('CronJob', () => {
  function cronJob(spec: Record<string, unknown>, name = 'nightly'): KubeObject {
    return { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name, namespace: 'default' }, spec };
  }

  it('defaults policies and history limits, and gives the job template pod defaults only', () => {
    const object = cronJob({ schedule: '0 0 * * *', jobTemplate: { spec: piSpec({}, 'OnFailure') } });
    assert.deepEqual(messages(cronJobs, object), []);
    const { jobTemplate, ...spec } = object.spec;
    assert.deepEqual(spec, { schedule: '0 0 * * *', concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
    assert.deepEqual(Object.keys(jobTemplate.spec), ['template']);
    assert.equal(jobTemplate.spec.template.spec.dnsPolicy, 'ClusterFirst');
    assert.deepEqual(object.status, {});
  });

  it('checks the schedule, time zone, policy, job template and name length', () => {
    const object = cronJob(
      { schedule: 'TZ=UTC * * * *', timeZone: 'Mars/Olympus', concurrencyPolicy: 'Sometimes', jobTemplate: { spec: { ...piSpec({}, 'Always'), selector: { matchLabels: { a: 'b' } } } } },
      'x'.repeat(53),
    );
    assert.deepEqual(messages(cronJobs, object), [
      `metadata.name: Invalid value: "${'x'.repeat(53)}": must be no more than 52 characters`,
      'spec.schedule: Invalid value: "TZ=UTC * * * *": expected exactly 5 fields, found 4: [* * * *]',
      'spec.schedule: Invalid value: "TZ=UTC * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
      'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus',
      'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
      'spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
      'spec.jobTemplate.spec.selector: Invalid value: "object": `selector` will be auto-generated',
    ]);
    assert.deepEqual(messages(cronJobs, cronJob({ jobTemplate: { spec: piSpec() } })), ['spec.schedule: Required value']);
  });

  it('prints schedule, time zone, suspend, active jobs and the last schedule', () => {
    const object = cronJob({ schedule: '*/1 * * * *', timeZone: 'Europe/Paris', suspend: true, jobTemplate: { spec: piSpec() } });
    object.status = { active: [{ name: 'a' }, { name: 'b' }], lastScheduleTime: new Date(Date.now() - 30_000).toISOString() };
    assert.deepEqual(columnsOf(cronJobs).map((c) => c.name), ['Name', 'Schedule', 'Timezone', 'Suspend', 'Active', 'Last Schedule', 'Age', 'Containers', 'Images', 'Selector']);
    const row = cells(cronJobs, object);
    assert.deepEqual([row[0], row[1], row[2], row[3], row[4], row[5], row[7], row[8], row[9]], ['nightly', '*/1 * * * *', 'Europe/Paris', 'True', 2, '30s', 'pi', 'perl:5.34', '<none>']);
    const bare = cells(cronJobs, cronJob({ schedule: '@daily' }));
    assert.deepEqual([bare[2], bare[3], bare[4], bare[5]], ['<none>', '<unset>', 0, '<none>']);
  });
});
