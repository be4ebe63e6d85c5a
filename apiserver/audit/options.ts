// kube-apiserver's audit flags, shared by every server: a policy file and a log file (or "-" for standard
// output) with lumberjack rotation, the log backend's mode and batching, its format. Without both a policy
// and a path nothing is audited (as upstream: the log backend needs a path, and no policy means no events).

import type { FlagSpec, FlagValues } from '../server/flags.js';
import { boolFlag, FlagError, numberFlag, stringFlag } from '../server/flags.js';
import { parseDuration } from '../storage/etcd-options.js';
import type { LogMode } from './log-backend.js';
import { LOG_MODES, LogBackend } from './log-backend.js';
import { loadPolicyFile, PolicyError } from './policy.js';
import type { AuditConfig, LogFormat } from './request-audit.js';

const FORMATS: LogFormat[] = ['legacy', 'json'];

export const AUDIT_FLAGS: FlagSpec[] = [
  { name: 'audit-policy-file', type: 'string', description: 'Path to the file that defines the audit policy configuration.' },
  { name: 'audit-log-path', type: 'string', description: 'If set, all requests coming to the apiserver will be logged to this file.  \'-\' means standard out.' },
  { name: 'audit-log-maxsize', type: 'number', default: 0, description: 'The maximum size in megabytes of the audit log file before it gets rotated.' },
  { name: 'audit-log-maxbackup', type: 'number', default: 0, description: 'The maximum number of old audit log files to retain. Setting a value of 0 will mean there\'s no restriction on the number of files.' },
  { name: 'audit-log-maxage', type: 'number', default: 0, description: 'The maximum number of days to retain old audit log files based on the timestamp encoded in their filename.' },
  { name: 'audit-log-compress', type: 'boolean', default: false, description: 'If set, the rotated log files will be compressed using gzip.' },
  { name: 'audit-log-format', type: 'string', default: 'json', description: 'Format of saved audits. "legacy" indicates 1-line text format for each event. "json" indicates structured json format. Known formats are legacy,json.' },
  { name: 'audit-log-version', type: 'string', default: 'audit.k8s.io/v1', description: 'API group and version used for serializing audit events written to log.' },
  { name: 'audit-log-mode', type: 'string', default: 'blocking', description: 'Strategy for sending audit events. Blocking indicates sending events should block server responses. Batch causes the backend to buffer and write events asynchronously. Known modes are batch,blocking,blocking-strict.' },
  { name: 'audit-log-batch-buffer-size', type: 'number', default: 10000, description: 'The size of the buffer to store events before batching and writing. Only used in batch mode.' },
  { name: 'audit-log-batch-max-size', type: 'number', default: 1, description: 'The maximum size of a batch. Only used in batch mode.' },
  { name: 'audit-log-batch-max-wait', type: 'string', default: '0s', description: 'The amount of time to wait before force writing the batch that hadn\'t reached the max size. Only used in batch mode.' },
];

/** The log options the launcher hands to every server as given. */
export const PASSED_AUDIT_FLAGS = ['audit-log-mode', 'audit-log-format', 'audit-log-compress', 'audit-log-batch-buffer-size', 'audit-log-batch-max-size', 'audit-log-batch-max-wait'];

export function auditFromFlags(values: FlagValues): AuditConfig | undefined {
  const policyFile = stringFlag(values, 'audit-policy-file');
  const path = stringFlag(values, 'audit-log-path');
  if (!path) return undefined;
  // Upstream validates the log options whenever the log backend is enabled, with its messages.
  const mode = (stringFlag(values, 'audit-log-mode') ?? 'blocking') as LogMode;
  if (!LOG_MODES.includes(mode)) throw new FlagError(`invalid audit log mode ${mode}, allowed modes are "${LOG_MODES.join(',')}"`);
  const batch = {
    bufferSize: numberFlag(values, 'audit-log-batch-buffer-size') ?? 10000,
    maxSize: numberFlag(values, 'audit-log-batch-max-size') ?? 1,
    maxWaitMs: parseDuration(stringFlag(values, 'audit-log-batch-max-wait') ?? '0s', 'audit-log-batch-max-wait'),
  };
  if (mode === 'batch') {
    if (batch.bufferSize <= 0) throw new FlagError(`invalid audit batch log buffer size ${batch.bufferSize}, must be a positive number`);
    if (batch.maxSize <= 0) throw new FlagError(`invalid audit batch log max batch size ${batch.maxSize}, must be a positive number`);
  }
  const version = stringFlag(values, 'audit-log-version') ?? 'audit.k8s.io/v1';
  if (version !== 'audit.k8s.io/v1') throw new FlagError(`invalid group version, allowed versions are "[audit.k8s.io/v1]"`);
  const format = (stringFlag(values, 'audit-log-format') ?? 'json') as LogFormat;
  if (!FORMATS.includes(format)) throw new FlagError(`invalid audit log format ${format}, allowed formats are "${FORMATS.join(',')}"`);
  for (const [name, flag] of [['maxage', 'audit-log-maxage'], ['maxbackup', 'audit-log-maxbackup'], ['maxsize', 'audit-log-maxsize']]) {
    const value = numberFlag(values, flag) ?? 0;
    if (value < 0) throw new FlagError(`--audit-log-${name} ${value} can't be a negative number`);
  }
  if (!policyFile) return undefined;
  let policy;
  try {
    policy = loadPolicyFile(policyFile);
  } catch (error) {
    if (error instanceof PolicyError) throw new FlagError(`loading audit policy file: ${error.message}`);
    throw error;
  }
  const backend = new LogBackend({
    path,
    maxSizeMB: numberFlag(values, 'audit-log-maxsize') ?? 0,
    maxBackups: numberFlag(values, 'audit-log-maxbackup') ?? 0,
    maxAgeDays: numberFlag(values, 'audit-log-maxage') ?? 0,
    compress: boolFlag(values, 'audit-log-compress'),
    mode,
    batch,
  });
  return { policy, backend, format };
}
