// batch/v1 Job and CronJob (k8s.io/api batch/v1/generated.proto): what `kubectl create job|cronjob` send.
// Status is decoded as an empty object: clients do not set it, and the server owns it.

import type { MessageSpec } from '../protobuf.js';
import { LabelSelector, metadata } from './meta.js';
import { PodTemplateSpec } from './pod.js';

const JobSpec: MessageSpec = {
  1: { name: 'parallelism', type: 'int32', pointer: true },
  2: { name: 'completions', type: 'int32', pointer: true },
  3: { name: 'activeDeadlineSeconds', type: 'int64', pointer: true },
  4: { name: 'selector', type: 'message', message: LabelSelector },
  5: { name: 'manualSelector', type: 'bool', pointer: true },
  6: { name: 'template', type: 'message', message: PodTemplateSpec },
  7: { name: 'backoffLimit', type: 'int32', pointer: true },
  8: { name: 'ttlSecondsAfterFinished', type: 'int32', pointer: true },
  9: { name: 'completionMode', type: 'string', pointer: true },
  10: { name: 'suspend', type: 'bool', pointer: true },
  12: { name: 'backoffLimitPerIndex', type: 'int32', pointer: true },
  13: { name: 'maxFailedIndexes', type: 'int32', pointer: true },
  14: { name: 'podReplacementPolicy', type: 'string', pointer: true },
  15: { name: 'managedBy', type: 'string', pointer: true },
};

const Job: MessageSpec = {
  1: metadata,
  2: { name: 'spec', type: 'message', message: JobSpec },
  3: { name: 'status', type: 'message', message: {} },
};

const CronJobSpec: MessageSpec = {
  1: { name: 'schedule', type: 'string' },
  2: { name: 'startingDeadlineSeconds', type: 'int64', pointer: true },
  3: { name: 'concurrencyPolicy', type: 'string' },
  4: { name: 'suspend', type: 'bool', pointer: true },
  5: {
    name: 'jobTemplate',
    type: 'message',
    message: { 1: metadata, 2: { name: 'spec', type: 'message', message: JobSpec } },
  },
  6: { name: 'successfulJobsHistoryLimit', type: 'int32', pointer: true },
  7: { name: 'failedJobsHistoryLimit', type: 'int32', pointer: true },
  8: { name: 'timeZone', type: 'string', pointer: true },
};

const CronJob: MessageSpec = {
  1: metadata,
  2: { name: 'spec', type: 'message', message: CronJobSpec },
  3: { name: 'status', type: 'message', message: {} },
};

export const batchKinds = {
  'batch/v1': { Job, CronJob },
} as const;
