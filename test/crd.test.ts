// CustomResourceDefinitions end to end: the real launcher and the real kubectl create a CRD, wait for it to
// be Established, use its custom resources (printer columns, short name, strict field validation), see the
// aggregator register its group-version, and delete it again.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startAllInOne, type RunningChain } from '../launcher/all-in-one.js';
import { Cluster, kubectlBinary } from './harness.js';

let cluster: Cluster;

async function ok(args: string[]): Promise<string> {
  const result = await cluster.kubectl(args);
  assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
  return result.stdout;
}

/** Retries while discovery catches up (kubectl's cache and the aggregator's one-second poll). */
async function eventually(args: string[], accept: (stdout: string) => boolean, timeoutMs = 8000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await cluster.kubectl(args);
    if (result.code === 0 && accept(result.stdout)) return result.stdout;
    if (Date.now() > deadline) assert.fail(`kubectl ${args.join(' ')} never succeeded:\n${result.stderr}\n${result.stdout}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

function manifest(name: string, content: string): string {
  const file = join(cluster.dataDir, name);
  writeFileSync(file, content);
  return file;
}

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
    shortNames: [ct]
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              cronSpec: {type: string}
              image: {type: string}
              replicas: {type: integer}
          status:
            type: object
            properties:
              replicas: {type: integer}
              selector: {type: string}
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas, labelSelectorPath: .status.selector}
    additionalPrinterColumns:
    - {name: Spec, type: string, jsonPath: .spec.cronSpec}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
`;

const CR = `apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: my-cron
  namespace: default
spec:
  cronSpec: "* * * * */5"
  image: my-cron-image
  replicas: 1
`;

describe('CustomResourceDefinitions with kubectl', () => {
  before(async () => {
    cluster = await Cluster.start();
  });

  after(async () => {
    const code = await cluster.stop();
    cluster.cleanup();
    assert.equal(code, 0, 'the launcher exits cleanly on SIGTERM');
  });

  it('applies a CRD and waits for it to be Established', async () => {
    assert.match(await ok(['apply', '-f', manifest('crd.yaml', CRD)]), /customresourcedefinition.apiextensions.k8s.io\/crontabs.stable.example.com created/);
    // Polled rather than `kubectl wait` (see the last test): the condition is what wait would watch for.
    await eventually(['get', 'crd', 'crontabs.stable.example.com', '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}'], (stdout) => stdout === 'True');
    assert.match(await ok(['get', 'crd']), /crontabs\.stable\.example\.com\s+\d{4}-\d{2}-\d{2}T/);
  });

  it('applies a custom resource and prints its printer columns', async () => {
    const file = manifest('cr.yaml', CR);
    assert.match(await eventually(['apply', '-f', file], () => true), /crontab.stable.example.com\/my-cron created/);
    const table = await ok(['get', 'crontabs']);
    assert.match(table, /NAME\s+SPEC\s+REPLICAS\s+AGE/);
    assert.match(table, /my-cron\s+\* \* \* \* \*\/5\s+1\s+\d+s/);
    assert.match(await ok(['get', 'ct']), /my-cron/);
  });

  it('scales a custom resource through its scale subresource', async () => {
    assert.match(await ok(['scale', 'crontab', 'my-cron', '--replicas=4']), /crontab.stable.example.com\/my-cron scaled/);
    assert.equal(await ok(['get', 'crontab', 'my-cron', '-o', 'jsonpath={.spec.replicas}']), '4');
    const scale = JSON.parse(await ok(['get', '--raw', '/apis/stable.example.com/v1/namespaces/default/crontabs/my-cron/scale'])) as { kind: string; spec: { replicas: number } };
    assert.deepEqual([scale.kind, scale.spec.replicas], ['Scale', 4]);
  });

  it('re-applies a changed custom resource (merge patch) and explains its schema', async () => {
    const file = manifest('cr.yaml', CR.replace('replicas: 1', 'replicas: 3'));
    assert.match(await ok(['apply', '-f', file]), /crontab.stable.example.com\/my-cron configured/);
    assert.equal(await ok(['get', 'ct', 'my-cron', '-o', 'jsonpath={.spec.replicas}']), '3');
    const explained = await ok(['explain', 'crontabs.spec']);
    assert.match(explained, /GROUP:\s+stable\.example\.com/);
    assert.match(explained, /cronSpec\s+<string>/);
  });

  it('rejects an unknown field under strict field validation', async () => {
    const file = manifest('bad-cr.yaml', CR.replace('name: my-cron', 'name: bad-cron').replace('replicas: 1', 'replicas: 1\n  bogus: true'));
    const result = await cluster.kubectl(['apply', '-f', file]);
    assert.notEqual(result.code, 0, result.stdout);
    assert.match(result.stderr, /unknown field "spec\.bogus"/);
  });

  it('is registered with the aggregator as a Local APIService', async () => {
    await eventually(['get', 'apiservices'], (stdout) => /v1\.stable\.example\.com\s+Local\s+True/.test(stdout));
  });

  it('deletes the CRD, and its APIService goes away', async () => {
    assert.match(await ok(['delete', 'crd', 'crontabs.stable.example.com', '--timeout=20s']), /customresourcedefinition.apiextensions.k8s.io "crontabs.stable.example.com" deleted/);
    assert.match((await cluster.kubectl(['get', 'crd', 'crontabs.stable.example.com'])).stderr, /NotFound/);
    await eventually(['get', 'apiservices'], (stdout) => !stdout.includes('v1.stable.example.com'));
  });

  // kubectl wait watches: the aggregator must pass a watch's response headers on before the first event.
  it('kubectl wait --for=condition=Established sees the condition', async () => {
    assert.match(await ok(['apply', '-f', manifest('crd-again.yaml', CRD)]), /created/);
    const result = await cluster.kubectl(['wait', '--for=condition=Established', 'crd/crontabs.stable.example.com', '--timeout=20s'], { input: '', timeoutMs: 25_000 });
    assert.match(result.stdout, /condition met/, result.stderr);
  });
});

// The same `kubectl wait` on the all-in-one chain, where it is reliable.
describe('kubectl wait on the in-process chain', () => {
  let chain: RunningChain;
  let dataDir: string;
  const run = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = execFile(kubectlBinary(), [`--kubeconfig=${chain.kubeconfig}`, `--cache-dir=${join(dataDir, 'cache')}`, ...args], { env: { ...process.env, HOME: dataDir }, timeout: 40_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? 1 : 0, stdout: stdout.toString(), stderr: stderr.toString() });
      });
      child.stdin?.end();
    });

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'kdc-crd-inprocess-'));
    chain = await startAllInOne({ dataDir, securePort: 0 });
  });

  after(async () => {
    await chain.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('waits for condition=Established on a new CRD', async () => {
    const file = join(dataDir, 'crd.yaml');
    writeFileSync(file, CRD);
    const deadline = Date.now() + 10_000;
    let applied = await run(['apply', '-f', file]);
    while (applied.code !== 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      applied = await run(['apply', '-f', file]);
    }
    assert.equal(applied.code, 0, applied.stderr);
    const waited = await run(['wait', '--for=condition=Established', 'crd/crontabs.stable.example.com', '--timeout=30s']);
    assert.equal(waited.code, 0, waited.stderr);
    assert.match(waited.stdout, /crontabs.stable.example.com condition met/);
  });
});
