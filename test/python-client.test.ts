// The official Python client (Debian's python3-kubernetes) against the whole chain: test/python/client_sweep.py
// drives CoreV1Api, AppsV1Api, BatchV1Api, RBAC, the review APIs, CustomObjectsApi, kubernetes.dynamic,
// kubernetes.watch and kubernetes.utils and asserts what kube-apiserver 1.32 would answer (delete bodies,
// Status errors, pagination, watch semantics, pretty output, CRDs served once Established).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Cluster } from './harness.js';

const PYTHON = '/usr/bin/python3';
const SWEEP = fileURLToPath(new URL('../../test/python/client_sweep.py', import.meta.url));

// Real clients are part of what is checked: without the client this suite fails rather than skips (CI installs it).
try {
  execFileSync(PYTHON, ['-c', 'import kubernetes'], { stdio: 'ignore' });
} catch {
  throw new Error(`${PYTHON} cannot import kubernetes: install Debian's python3-kubernetes (apt-get install python3-kubernetes)`);
}

function runSweep(kubeconfig: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(PYTHON, [SWEEP, kubeconfig], { timeout: 180_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

describe('the Python client (python3-kubernetes)', () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await Cluster.start();
  });
  after(async () => {
    await cluster?.stop();
  });

  it('every check of the sweep passes', async () => {
    const { code, output } = await runSweep(cluster.kubeconfig);
    const failed = output.split('\n').filter((line) => line.startsWith('FAIL '));
    assert.deepEqual(failed, [], output);
    // Each check reports: one that never ran (the script died half way) fails the suite too.
    const checks = (readFileSync(SWEEP, 'utf8').match(/^@check\(/gm) ?? []).length;
    const passed = output.split('\n').filter((line) => line.startsWith('PASS ')).length;
    assert.equal(passed, checks, output);
    assert.equal(code, 0, output);
  });
});
