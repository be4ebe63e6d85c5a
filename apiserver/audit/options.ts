// kube-apiserver's audit flags, shared by every server: a policy file and a log file (or "-" for standard
// output) with lumberjack rotation. Without both, nothing is audited (as upstream: the log backend needs a
// path, and no policy means no events).

import type { FlagSpec, FlagValues } from '../server/flags.js';
import { FlagError, numberFlag, stringFlag } from '../server/flags.js';
import { LogBackend } from './log-backend.js';
import { loadPolicyFile, PolicyError } from './policy.js';
import type { AuditConfig } from './request-audit.js';

export const AUDIT_FLAGS: FlagSpec[] = [
  { name: 'audit-policy-file', type: 'string', description: 'Path to the file that defines the audit policy configuration (audit.k8s.io/v1 Policy).' },
  { name: 'audit-log-path', type: 'string', description: 'If set, all requests coming to the apiserver will be logged to this file. \'-\' means standard out.' },
  { name: 'audit-log-maxsize', type: 'number', default: 0, description: 'The maximum size in megabytes of the audit log file before it gets rotated (0: 100).' },
  { name: 'audit-log-maxbackup', type: 'number', default: 0, description: 'The maximum number of old audit log files to retain. Setting a value of 0 will mean there\'s no restriction on the number of files.' },
  { name: 'audit-log-maxage', type: 'number', default: 0, description: 'The maximum number of days to retain old audit log files based on the timestamp encoded in their filename.' },
  { name: 'audit-log-batch-buffer-size', type: 'number', default: 10000, description: 'The size of the buffer to store events before batching and writing; events beyond it are dropped (and counted in apiserver_audit_error_total).' },
];

export function auditFromFlags(values: FlagValues): AuditConfig | undefined {
  const policyFile = stringFlag(values, 'audit-policy-file');
  const path = stringFlag(values, 'audit-log-path');
  if (!policyFile || !path) return undefined;
  for (const name of ['audit-log-maxsize', 'audit-log-maxbackup', 'audit-log-maxage']) {
    if ((numberFlag(values, name) ?? 0) < 0) throw new FlagError(`--${name} must be greater than or equal to 0`);
  }
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
    bufferSize: numberFlag(values, 'audit-log-batch-buffer-size') ?? 10000,
  });
  return { policy, backend };
}
