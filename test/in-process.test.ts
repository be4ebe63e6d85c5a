// The whole chain inside the test process (startAllInOne), driven by the real kubectl: same handlers as the
// separate processes, with the aggregator calling its delegates in-process.

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

async function ok(args: string[]): Promise<string> {
  const result = await kubectl(args);
  assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'kdc-inprocess-'));
  chain = await startAllInOne({ dataDir, securePort: 0, nodeAgent: true, nodeName: 'inproc-node', metricResolutionSeconds: 1 });
  // The aggregator learns its delegates' discovery on its first poll.
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !(await kubectl(['api-resources'])).stdout.includes('configmaps')) await new Promise((r) => setTimeout(r, 100));
});

after(async () => {
  await chain.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the all-in-one chain', () => {
  it('serves kubectl through the in-process delegates', async () => {
    assert.match(await ok(['create', 'namespace', 'inproc']), /namespace\/inproc created/);
    await ok(['-n', 'inproc', 'create', 'configmap', 'c', '--from-literal=a=b']);
    assert.match(await ok(['-n', 'inproc', 'get', 'configmaps']), /c\s+1/);
    assert.match(await ok(['api-resources']), /customresourcedefinitions\s+crd,crds\s+apiextensions.k8s.io\/v1/);
    assert.match(await ok(['get', 'apiservices']), /v1\.\s+Local\s+True/);
    assert.match(await ok(['explain', 'configmap.data']), /Data contains the configuration data/);
  });
});

describe('kubectl top in one process', () => {
  it('schedules a kubectl run pod on the in-process node agent and shows its metrics', async () => {
    await ok(['run', 'inproc-web', '--image=nginx:1.27']);
    const deadline = Date.now() + 30_000;
    let top = '';
    while (Date.now() < deadline) {
      const result = await kubectl(['top', 'pods']);
      if (result.code === 0 && result.stdout.includes('inproc-web')) {
        top = result.stdout;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.match(top, /^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*\ninproc-web\s+\d+m\s+\d+Mi/);
    assert.match(await ok(['top', 'nodes']), /inproc-node\s+\d+m\s+\d+%/);
    assert.match(await ok(['get', 'pod', 'inproc-web', '-o', 'wide']), /Running.*inproc-node/);
  });
});
