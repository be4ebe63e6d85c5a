// The connect subresources in the all-in-one chain: the aggregator hands upgrades (exec) and streams (logs,
// nodes/proxy) to core in the same process, with the identity it established.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAllInOne, type RunningChain } from '../launcher/all-in-one.js';
import { kubectlBinary } from './harness.js';

let chain: RunningChain;
let dataDir: string;

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(kubectlBinary(), [`--kubeconfig=${chain.kubeconfig}`, `--cache-dir=${join(dataDir, 'cache')}`, ...args], { env: { ...process.env, HOME: dataDir }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? 1 : 0, stdout: stdout.toString(), stderr: stderr.toString() });
    });
  });
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'kdc-connect-inprocess-'));
  chain = await startAllInOne({ dataDir, securePort: 0, nodeAgent: true, nodeName: 'inproc-node', metricResolutionSeconds: 1 });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !(await kubectl(['api-resources'])).stdout.includes('configmaps')) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal((await kubectl(['run', 'web', '--image=nginx'])).code, 0);
  const running = Date.now() + 30_000;
  while (Date.now() < running && (await kubectl(['get', 'pod', 'web', '-o', 'jsonpath={.status.phase}'])).stdout !== 'Running') await new Promise((resolve) => setTimeout(resolve, 250));
});

after(async () => {
  await chain.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('connect subresources in one process', () => {
  it('nodes/proxy reaches the in-process node agent', async () => {
    const result = await kubectl(['get', '--raw', '/api/v1/nodes/inproc-node/proxy/metrics/resource']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^node_memory_working_set_bytes \d/m);
  });

  it('kubectl logs and exec reach the kubelet and print its refusal', async () => {
    const logs = await kubectl(['logs', 'web']);
    assert.match(logs.stderr, /Error from server \(BadRequest\): the node agent simulates containers and has no container runtime/);
    const exec = await kubectl(['exec', 'web', '--', 'ls']);
    assert.equal(exec.code, 1);
    assert.match(exec.stderr, /unable to upgrade connection: the node agent simulates containers and has no container runtime, so it cannot run a command in container "web" of pod "default\/web"/);
  });
});
