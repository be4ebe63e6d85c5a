// Garbage collection and the pod subresources kubectl relies on, end to end with the real kubectl:
// `kubectl delete --cascade=background|foreground|orphan` on owners with ConfigMap, Secret and custom
// resource dependents, collection of dependents whose owner never existed, and `kubectl drain` evicting
// pods bound to a node through pods/binding, blocked by a PodDisruptionBudget until it allows a disruption.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, kubectlBinary, type KubectlResult } from './harness.js';
import { startAllInOne, type RunningChain } from '../launcher/all-in-one.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What each scenario needs: run kubectl (with stdin) against some chain. */
type Kubectl = (args: string[], input?: string, timeoutMs?: number) => Promise<KubectlResult>;

function helpers(kubectl: Kubectl) {
  const ok = async (args: string[], input?: string): Promise<string> => {
    const result = await kubectl(args, input);
    assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
    return result.stdout;
  };
  const exists = async (kindAndName: string, namespace = 'default'): Promise<boolean> => {
    const result = await kubectl(['get', kindAndName, '-n', namespace, '-o', 'name']);
    if (result.code === 0) return true;
    assert.match(result.stderr, /NotFound/, result.stderr);
    return false;
  };
  const eventually = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
      await sleep(250);
    }
  };
  const uidOf = async (kindAndName: string): Promise<string> => ok(['get', kindAndName, '-o', 'jsonpath={.metadata.uid}']);
  /** A dependent of `owner` (kind ConfigMap) as YAML. */
  const dependent = (kind: string, apiVersion: string, name: string, owner: string, uid: string, extra = ''): string =>
    `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: ${name}\n${extra}  ownerReferences:\n  - {apiVersion: v1, kind: ConfigMap, name: ${owner}, uid: ${uid}, blockOwnerDeletion: true}\n`;
  return { ok, exists, eventually, uidOf, dependent };
}

describe('garbage collection and pod subresources through the launcher', () => {
  let cluster: Cluster;
  let h: ReturnType<typeof helpers>;

  before(async () => {
    // The drain test plays the disruption controller (it sets budget status by hand); the real one is
    // covered in workload-controllers.test.ts.
    cluster = await Cluster.start(['--workload-controllers=false']);
    h = helpers((args, input, timeoutMs) => cluster.kubectl(args, { input, timeoutMs }));
  });

  after(async () => {
    const code = await cluster.stop();
    cluster.cleanup();
    assert.equal(code, 0);
  });

  it('background cascade deletes ConfigMap, Secret and custom resource dependents after the owner', async () => {
    await h.ok(['apply', '-f', '-'], `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.gc.example.com}
spec:
  group: gc.example.com
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  scope: Namespaced
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}]
`);
    await h.eventually('the custom resource is served', async () => (await cluster.kubectl(['get', 'gadgets'])).code === 0);
    await h.ok(['create', 'configmap', 'bg-owner']);
    const uid = await h.uidOf('configmap/bg-owner');
    await h.ok(['apply', '-f', '-'], [h.dependent('ConfigMap', 'v1', 'bg-cm', 'bg-owner', uid), h.dependent('Secret', 'v1', 'bg-secret', 'bg-owner', uid), h.dependent('Gadget', 'gc.example.com/v1', 'bg-gadget', 'bg-owner', uid)].join('---\n'));
    await sleep(1000);
    assert.equal(await h.exists('configmap/bg-cm'), true, 'dependents of a live owner stay');
    await h.ok(['delete', 'configmap', 'bg-owner', '--cascade=background']);
    for (const name of ['configmap/bg-cm', 'secret/bg-secret', 'gadget/bg-gadget']) await h.eventually(`${name} is collected`, async () => !(await h.exists(name)));
  });

  it('foreground cascade keeps the owner until its blocking dependents are gone', async () => {
    await h.ok(['create', 'configmap', 'fg-owner']);
    const uid = await h.uidOf('configmap/fg-owner');
    // One dependent holds on with a finalizer of its own, so the owner's wait can be observed.
    await h.ok(['apply', '-f', '-'], [h.dependent('ConfigMap', 'v1', 'fg-held', 'fg-owner', uid, '  finalizers: [example.com/hold]\n'), h.dependent('Secret', 'v1', 'fg-secret', 'fg-owner', uid)].join('---\n'));
    await sleep(1000);
    await h.ok(['delete', 'configmap', 'fg-owner', '--cascade=foreground', '--wait=false']);
    await h.eventually('the held dependent is being deleted', async () => (await h.ok(['get', 'configmap', 'fg-held', '-o', 'jsonpath={.metadata.deletionTimestamp}'])) !== '');
    await h.eventually('the other dependent is gone', async () => !(await h.exists('secret/fg-secret')));
    assert.equal(await h.ok(['get', 'configmap', 'fg-owner', '-o', 'jsonpath={.metadata.finalizers}']), '["foregroundDeletion"]');
    await h.ok(['patch', 'configmap', 'fg-held', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
    await h.eventually('the owner goes after its dependents', async () => !(await h.exists('configmap/fg-owner')));
    assert.equal(await h.exists('configmap/fg-held'), false);
  });

  it('orphan cascade leaves the dependents without their owner reference', async () => {
    await h.ok(['create', 'configmap', 'or-owner']);
    const uid = await h.uidOf('configmap/or-owner');
    await h.ok(['apply', '-f', '-'], [h.dependent('ConfigMap', 'v1', 'or-cm', 'or-owner', uid), h.dependent('Secret', 'v1', 'or-secret', 'or-owner', uid)].join('---\n'));
    await sleep(1000);
    await h.ok(['delete', 'configmap', 'or-owner', '--cascade=orphan']);
    assert.equal(await h.exists('configmap/or-owner'), false);
    assert.equal(await h.ok(['get', 'configmap', 'or-cm', '-o', 'jsonpath={.metadata.ownerReferences}']), '');
    assert.equal(await h.ok(['get', 'secret', 'or-secret', '-o', 'jsonpath={.metadata.ownerReferences}']), '');
    await sleep(1500);
    assert.equal(await h.exists('configmap/or-cm'), true, 'orphans are not collected');
  });

  it('collects a dependent whose owner uid does not exist, and keeps one whose owner does', async () => {
    await h.ok(['create', 'configmap', 'real-owner']);
    const uid = await h.uidOf('configmap/real-owner');
    await h.ok(['apply', '-f', '-'], [
      h.dependent('ConfigMap', 'v1', 'stray', 'real-owner', '00000000-0000-0000-0000-000000000001'),
      h.dependent('ConfigMap', 'v1', 'kept', 'real-owner', uid),
    ].join('---\n'));
    await h.eventually('the dependent naming a stale uid is collected', async () => !(await h.exists('configmap/stray')));
    assert.equal(await h.exists('configmap/kept'), true);
  });

  it('rejects DeleteOptions with both orphanDependents and propagationPolicy', async () => {
    await h.ok(['create', 'configmap', 'opts']);
    const body = JSON.stringify({ orphanDependents: true, propagationPolicy: 'Orphan' });
    // Node frames a DELETE body only when its length is given.
    const response = await cluster.request('DELETE', '/api/v1/namespaces/default/configmaps/opts', { body, headers: { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) } });
    assert.equal(response.status, 422, response.body);
    assert.match(JSON.parse(response.body).message, /orphanDependents and deletionPropagation cannot be both set/);
  });

  it('kubectl drain evicts pods bound to the node and retries a pod its disruption budget protects', async () => {
    const discovery = JSON.parse(await h.ok(['get', '--raw', '/api/v1'])) as { resources: { name: string; group?: string; version?: string; kind: string; verbs: string[] }[] };
    assert.deepEqual(discovery.resources.find((resource) => resource.name === 'pods/eviction'), { name: 'pods/eviction', singularName: '', namespaced: true, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] });
    assert.deepEqual(discovery.resources.find((resource) => resource.name === 'pods/binding')?.verbs, ['create']);

    await h.ok(['create', '-f', '-'], 'apiVersion: v1\nkind: Node\nmetadata: {name: drain-node}\n');
    const bindingFile = join(cluster.dataDir, 'binding.json');
    for (const [pod, app] of [['drain-web-1', 'web'], ['drain-web-2', 'web'], ['drain-db', 'db']]) {
      await h.ok(['run', pod, '--image=nginx', `--labels=app=${app}`]);
      writeFileSync(bindingFile, JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: pod }, target: { kind: 'Node', name: 'drain-node' } }));
      assert.match(await h.ok(['create', '--raw', `/api/v1/namespaces/default/pods/${pod}/binding`, '-f', bindingFile]), /"status":"Success"/);
      await h.ok(['patch', 'pod', pod, '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}']);
    }
    const rebind = await cluster.kubectl(['create', '--raw', '/api/v1/namespaces/default/pods/drain-db/binding', '-f', bindingFile]);
    assert.notEqual(rebind.code, 0);
    assert.match(rebind.stderr, /pod drain-db is already assigned to node "drain-node"/);
    assert.equal(await h.ok(['get', 'pods', '--field-selector=spec.nodeName=drain-node', '-o', 'name']), 'pod/drain-db\npod/drain-web-1\npod/drain-web-2\n');

    await h.ok(['create', 'pdb', 'drain-db', '--selector=app=db', '--min-available=1']);
    await h.ok(['patch', 'pdb', 'drain-db', '--subresource=status', '--type=merge', '-p', '{"status":{"observedGeneration":1,"disruptionsAllowed":0,"currentHealthy":1,"desiredHealthy":1,"expectedPods":1}}']);
    const blocked = await cluster.kubectl(['drain', 'drain-node', '--ignore-daemonsets', '--force', '--timeout=8s'], { timeoutMs: 60_000 });
    assert.notEqual(blocked.code, 0, blocked.stdout);
    assert.match(blocked.stdout, /pod\/drain-web-1 evicted/);
    assert.match(blocked.stderr, /Cannot evict pod as it would violate the pod's disruption budget\./);
    assert.equal(await h.exists('pod/drain-web-2'), false);
    assert.equal(await h.exists('pod/drain-db'), true);
    assert.equal(await h.ok(['get', 'node', 'drain-node', '-o', 'jsonpath={.spec.unschedulable}']), 'true');

    await h.ok(['patch', 'pdb', 'drain-db', '--subresource=status', '--type=merge', '-p', '{"status":{"disruptionsAllowed":1,"currentHealthy":2}}']);
    const drained = await cluster.kubectl(['drain', 'drain-node', '--ignore-daemonsets', '--force', '--timeout=30s'], { timeoutMs: 60_000 });
    assert.equal(drained.code, 0, drained.stderr);
    assert.match(drained.stdout, /node\/drain-node drained/);
    assert.equal(await h.exists('pod/drain-db'), false);
    assert.equal(await h.ok(['get', 'pdb', 'drain-db', '-o', 'jsonpath={.status.disruptionsAllowed}']), '0');
  });
});

describe('garbage collection on the in-process chain', () => {
  let chain: RunningChain;
  let dataDir: string;
  let h: ReturnType<typeof helpers>;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'kdc-gc-inprocess-'));
    chain = await startAllInOne({ dataDir, securePort: 0 });
    h = helpers(
      (args, input, timeoutMs) =>
        new Promise((resolve) => {
          const child = execFile(kubectlBinary(), [`--kubeconfig=${chain.kubeconfig}`, `--cache-dir=${join(dataDir, 'cache')}`, ...args], { env: { ...process.env, HOME: dataDir }, timeout: timeoutMs ?? 40_000 }, (error, stdout, stderr) => {
            resolve({ code: error ? 1 : 0, stdout: stdout.toString(), stderr: stderr.toString() });
          });
          child.stdin?.end(input ?? '');
        }),
    );
  });

  after(async () => {
    await chain.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('collects dependents and carries out foreground deletion', async () => {
    await h.ok(['create', 'configmap', 'owner']);
    const uid = await h.uidOf('configmap/owner');
    await h.ok(['apply', '-f', '-'], [h.dependent('ConfigMap', 'v1', 'child', 'owner', uid), h.dependent('Secret', 'v1', 'child', 'owner', uid)].join('---\n'));
    await sleep(500);
    await h.ok(['delete', 'configmap', 'owner', '--cascade=foreground']);
    assert.equal(await h.exists('configmap/child'), false, 'a blocking dependent goes before its foreground owner');
    await h.eventually('the secret is collected', async () => !(await h.exists('secret/child')));
  });
});
