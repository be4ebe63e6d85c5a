// The admission chain end to end with the real kubectl: NamespaceLifecycle (terminating, missing and
// immortal namespaces), ServiceAccount and LimitRanger defaults on a pod, LimitRanger and quota refusals,
// ResourceQuota usage under concurrent creates and on updates, DefaultStorageClass, PodSecurity enforce and
// warn (for pods and workload templates, pod updates, raised namespace levels), and dry runs going through
// the same chain.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Cluster, type KubectlResult } from './harness.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('admission through the launcher', () => {
  let cluster: Cluster;

  const kubectl = (args: string[], input?: string): Promise<KubectlResult> => cluster.kubectl(args, { input, timeoutMs: 90_000 });
  const ok = async (args: string[], input?: string): Promise<KubectlResult> => {
    const result = await kubectl(args, input);
    assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
    return result;
  };
  const fails = async (args: string[], input?: string): Promise<string> => {
    const result = await kubectl(args, input);
    assert.notEqual(result.code, 0, `kubectl ${args.join(' ')} should have failed:\n${result.stdout}`);
    return result.stderr.trim();
  };
  const eventually = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
      await sleep(250);
    }
  };
  const quotaStatus = async (namespace: string, name: string): Promise<{ hard?: Record<string, string>; used?: Record<string, string> }> => {
    const quota = parse((await ok(['get', 'quota', name, '-n', namespace, '-o', 'yaml'])).stdout) as { status?: { hard?: Record<string, string>; used?: Record<string, string> } };
    return quota.status ?? {};
  };

  before(async () => {
    cluster = await Cluster.start();
  });

  after(async () => {
    const code = await cluster.stop();
    cluster.cleanup();
    assert.equal(code, 0);
  });

  it('refuses new content in a terminating namespace, any write in a missing one, and deleting immortal namespaces', async () => {
    await ok(['create', 'namespace', 'doomed']);
    // A finalizer nobody removes keeps the namespace Terminating.
    await ok(['apply', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  namespace: doomed\n  finalizers: [example.com/hold]\n');
    await ok(['delete', 'namespace', 'doomed', '--wait=false']);
    await eventually('the namespace is Terminating', async () => (await kubectl(['get', 'ns', 'doomed', '-o', 'jsonpath={.status.phase}'])).stdout === 'Terminating');
    assert.equal(
      await fails(['create', 'configmap', 'late', '-n', 'doomed']),
      'error: failed to create configmap: configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated',
    );
    const raw = await cluster.request('POST', '/api/v1/namespaces/doomed/secrets', { body: JSON.stringify({ metadata: { name: 's' } }), headers: { 'content-type': 'application/json' } });
    assert.equal(raw.status, 403);
    const status = JSON.parse(raw.body) as { reason: string; details: { causes: { reason: string; message: string; field: string }[] } };
    assert.equal(status.reason, 'Forbidden');
    assert.deepEqual(status.details.causes, [{ reason: 'NamespaceTerminating', message: 'namespace doomed is being terminated', field: 'metadata.namespace' }]);
    // Updates of what is there still work (this is how the finalizer goes away).
    await ok(['patch', 'configmap', 'held', '-n', 'doomed', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await eventually('the namespace is gone', async () => (await kubectl(['get', 'ns', 'doomed'])).code !== 0);

    assert.equal(await fails(['create', 'configmap', 'x', '-n', 'nowhere']), 'error: failed to create configmap: namespaces "nowhere" not found');
    assert.equal(await fails(['delete', 'namespace', 'kube-public']), 'Error from server (Forbidden): namespaces "kube-public" is forbidden: this namespace may not be deleted');
  });

  it('defaults the service account and LimitRange resources of a pod, and refuses what the LimitRange forbids', async () => {
    await ok(['create', 'namespace', 'limits']);
    await ok(
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: LimitRange
metadata: {name: limits, namespace: limits}
spec:
  limits:
  - type: Container
    default: {cpu: 500m, memory: 256Mi}
    defaultRequest: {cpu: 100m, memory: 128Mi}
    max: {cpu: "1"}
`,
    );
    await ok(['run', 'web', '--image=nginx', '-n', 'limits']);
    const pod = parse((await ok(['get', 'pod', 'web', '-n', 'limits', '-o', 'yaml'])).stdout) as {
      metadata: { annotations: Record<string, string> };
      spec: { serviceAccountName: string; containers: { resources: unknown }[] };
      status: { qosClass: string };
    };
    assert.equal(pod.spec.serviceAccountName, 'default');
    assert.deepEqual(pod.spec.containers[0].resources, { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } });
    assert.equal(pod.metadata.annotations['kubernetes.io/limit-ranger'], 'LimitRanger plugin set: cpu, memory request for container web; cpu, memory limit for container web');
    assert.equal(pod.status.qosClass, 'Burstable');

    assert.equal(
      await fails(['run', 'big', '--image=nginx', '-n', 'limits', '--overrides', '{"spec":{"containers":[{"name":"big","image":"nginx","resources":{"limits":{"cpu":"2"}}}]}}']),
      'Error from server (Forbidden): pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2',
    );
    assert.equal(
      await fails(['run', 'ghost', '--image=nginx', '-n', 'limits', '--overrides', '{"spec":{"serviceAccountName":"ghost"}}']),
      'Error from server (Forbidden): pods "ghost" is forbidden: error looking up service account limits/ghost: serviceaccount "ghost" not found',
    );
  });

  it('keeps ResourceQuota usage and refuses what exceeds it, also for dry runs', async () => {
    await ok(['create', 'namespace', 'quota']);
    await ok(['create', 'quota', 'objects', '-n', 'quota', '--hard=count/configmaps=2,pods=2,secrets=10']);
    await ok(['create', 'quota', 'compute', '-n', 'quota', '--hard=requests.cpu=1,limits.memory=1Gi']);
    await eventually('the quota has its status', async () => (await quotaStatus('quota', 'objects')).used?.['count/configmaps'] === '0');
    await ok(['create', 'configmap', 'one', '-n', 'quota']);
    await ok(['create', 'configmap', 'two', '-n', 'quota']);
    // A dry run is admitted the same way, and charges nothing.
    assert.equal(
      await fails(['create', 'configmap', 'three', '-n', 'quota', '--dry-run=server']),
      'error: failed to create configmap: configmaps "three" is forbidden: exceeded quota: objects, requested: count/configmaps=1, used: count/configmaps=2, limited: count/configmaps=2',
    );
    await ok(['create', 'secret', 'generic', 'dry', '-n', 'quota', '--from-literal=a=b', '--dry-run=server']);
    await ok(['create', 'secret', 'generic', 'real', '-n', 'quota', '--from-literal=a=b']);
    await eventually('the secret is counted', async () => (await quotaStatus('quota', 'objects')).used?.secrets === '1');
    const pod = (name: string, cpu: string) =>
      `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: quota}\nspec:\n  containers:\n  - name: app\n    image: nginx\n    resources:\n      requests: {cpu: ${cpu}}\n      limits: {cpu: ${cpu}, memory: 256Mi}\n`;
    await ok(['create', '-f', '-'], pod('p1', '400m'));
    await ok(['create', '-f', '-'], pod('p2', '400m'));
    assert.equal(
      await fails(['create', '-f', '-'], pod('p3', '400m')),
      'Error from server (Forbidden): error when creating "STDIN": pods "p3" is forbidden: exceeded quota: compute, requested: requests.cpu=400m, used: requests.cpu=800m, limited: requests.cpu=1',
    );
    assert.match(
      await fails(['run', 'bare', '--image=nginx', '-n', 'quota']),
      /pods "bare" is forbidden: failed quota: compute: must specify limits.memory for: bare; requests.cpu for: bare/,
    );
    const compute = await quotaStatus('quota', 'compute');
    assert.deepEqual(compute.hard, { 'limits.memory': '1Gi', 'requests.cpu': '1' });
    assert.deepEqual(compute.used, { 'limits.memory': '512Mi', 'requests.cpu': '800m' });
    const described = (await ok(['describe', 'quota', 'objects', '-n', 'quota'])).stdout;
    assert.match(described, /count\/configmaps\s+2\s+2/);
    assert.match(described, /pods\s+2\s+2/);

    // Deleting releases usage (the quota controller recalculates).
    await ok(['delete', 'pod', 'p1', '-n', 'quota']);
    await eventually('the pod usage is released', async () => (await quotaStatus('quota', 'compute')).used?.['requests.cpu'] === '400m');
    await ok(['create', '-f', '-'], pod('p3', '400m'));
  });

  it('charges updates that raise usage: a claim resized past its quota, a service turned LoadBalancer', async () => {
    await ok(['create', 'namespace', 'claims']);
    await ok(['create', 'quota', 'storage', '-n', 'claims', '--hard=requests.storage=5Gi,persistentvolumeclaims=3,services.loadbalancers=0,services.nodeports=1']);
    await eventually('the quota has its status', async () => (await quotaStatus('claims', 'storage')).used?.['requests.storage'] === '0');
    // Bound (volumeName set), so the claim may be resized.
    await ok(['create', '-f', '-'], 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: claims}\nspec:\n  volumeName: pv-data\n  storageClassName: ""\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests: {storage: 2Gi}\n');
    await ok(['patch', 'pvc', 'data', '-n', 'claims', '-p', '{"spec":{"resources":{"requests":{"storage":"4Gi"}}}}']);
    assert.deepEqual((await quotaStatus('claims', 'storage')).used, { 'requests.storage': '4Gi', persistentvolumeclaims: '1', 'services.loadbalancers': '0', 'services.nodeports': '0' });
    assert.equal(
      await fails(['patch', 'pvc', 'data', '-n', 'claims', '-p', '{"spec":{"resources":{"requests":{"storage":"6Gi"}}}}']),
      'Error from server (Forbidden): persistentvolumeclaims "data" is forbidden: exceeded quota: storage, requested: requests.storage=2Gi, used: requests.storage=4Gi, limited: requests.storage=5Gi',
    );
    await ok(['create', 'service', 'clusterip', 'web', '-n', 'claims', '--tcp=80:80', '--tcp=443:443']);
    assert.equal(
      await fails(['patch', 'service', 'web', '-n', 'claims', '-p', '{"spec":{"type":"LoadBalancer"}}']),
      'Error from server (Forbidden): services "web" is forbidden: exceeded quota: storage, requested: services.loadbalancers=1,services.nodeports=2, used: services.loadbalancers=0,services.nodeports=0, limited: services.loadbalancers=0,services.nodeports=1',
    );
    // Deleting the claim gives its storage back.
    await ok(['delete', 'pvc', 'data', '-n', 'claims']);
    await eventually('the storage is released', async () => (await quotaStatus('claims', 'storage')).used?.['requests.storage'] === '0');
  });

  it('never lets concurrent creates exceed a quota', async () => {
    await ok(['create', 'namespace', 'race']);
    await ok(['create', 'quota', 'cap', '-n', 'race', '--hard=count/configmaps=7']);
    await eventually('the quota has its status', async () => (await quotaStatus('race', 'cap')).used?.['count/configmaps'] === '0');
    const results = await Promise.all(Array.from({ length: 20 }, (_, index) => kubectl(['create', 'configmap', `c${index}`, '-n', 'race'])));
    const created = results.filter((result) => result.code === 0).length;
    assert.equal(created, 7, results.map((result) => result.stderr).join(''));
    for (const result of results.filter((each) => each.code !== 0)) assert.match(result.stderr, /exceeded quota: cap, requested: count\/configmaps=1, used: count\/configmaps=7, limited: count\/configmaps=7/);
    assert.equal((await ok(['get', 'configmaps', '-n', 'race', '-o', 'name'])).stdout.trim().split('\n').length, 7);
    assert.equal((await quotaStatus('race', 'cap')).used?.['count/configmaps'], '7');
  });

  it('gives a claim without a class the default StorageClass', async () => {
    await ok(['apply', '-f', '-'], 'apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: standard\n  annotations: {storageclass.kubernetes.io/is-default-class: "true"}\nprovisioner: example.com/none\n');
    const claim = (name: string, extra = '') => `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: ${name}, namespace: default}\nspec:\n${extra}  accessModes: [ReadWriteOnce]\n  resources:\n    requests: {storage: 1Gi}\n`;
    await ok(['create', '-f', '-'], claim('data'));
    assert.equal((await ok(['get', 'pvc', 'data', '-o', 'jsonpath={.spec.storageClassName}'])).stdout, 'standard');
    await ok(['create', '-f', '-'], claim('none', '  storageClassName: ""\n'));
    assert.equal((await ok(['get', 'pvc', 'none', '-o', 'jsonpath={.spec.storageClassName}'])).stdout, '');
  });

  it('enforces and warns PodSecurity levels from namespace labels', async () => {
    await ok(['create', 'namespace', 'secure']);
    await ok(['label', 'namespace', 'secure', 'pod-security.kubernetes.io/enforce=restricted']);
    const restrictedProblems =
      'allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")';
    assert.equal(await fails(['run', 'app', '--image=nginx', '-n', 'secure']), `Error from server (Forbidden): pods "app" is forbidden: violates PodSecurity "restricted:latest": ${restrictedProblems}`);
    assert.equal(await fails(['run', 'app', '--image=nginx', '-n', 'secure', '--dry-run=server']), `Error from server (Forbidden): pods "app" is forbidden: violates PodSecurity "restricted:latest": ${restrictedProblems}`);
    const compliant = '{"spec":{"securityContext":{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"app","image":"nginx","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}';
    await ok(['run', 'app', '--image=nginx', '-n', 'secure', '--overrides', compliant]);
    // A workload is never refused, and judged for warn and audit only (upstream applies enforce to pods alone).
    const deployment = await ok(['create', 'deployment', 'web', '--image=nginx', '-n', 'secure']);
    assert.equal(deployment.stderr.trim(), '');
    await ok(['label', 'namespace', 'secure', 'pod-security.kubernetes.io/warn=restricted']);
    const warnedDeployment = await ok(['create', 'deployment', 'web2', '--image=nginx', '-n', 'secure']);
    assert.match(warnedDeployment.stderr, new RegExp(`Warning: would violate PodSecurity "restricted:latest": ${escape(restrictedProblems.replaceAll('"app"', '"nginx"'))}`));
    // A pod update that touches only metadata is not judged again (the compliant pod stays updatable either way).
    await ok(['label', 'pod', 'app', '-n', 'secure', 'touched=yes']);

    await ok(['create', 'namespace', 'watched']);
    await ok(['label', 'namespace', 'watched', 'pod-security.kubernetes.io/warn=baseline', 'pod-security.kubernetes.io/warn-version=v1.32']);
    const warned = await ok(['run', 'root', '--image=nginx', '-n', 'watched', '--overrides', '{"spec":{"hostNetwork":true,"containers":[{"name":"root","image":"nginx","securityContext":{"privileged":true}}]}}']);
    assert.equal(warned.stderr.trim(), 'Warning: would violate PodSecurity "baseline:v1.32": host namespaces (hostNetwork=true), privileged (container "root" must not set securityContext.privileged=true)');
    assert.equal((await ok(['get', 'pod', 'root', '-n', 'watched', '-o', 'name'])).stdout.trim(), 'pod/root');
  });

  it('warns about existing pods when a namespace’s enforce level is raised, and skips insignificant pod updates', async () => {
    await ok(['create', 'namespace', 'legacy']);
    for (const name of ['web-1', 'web-2', 'web-3']) await ok(['run', name, '--image=nginx', '-n', 'legacy']);
    await ok(['run', 'node-agent', '--image=nginx', '-n', 'legacy', '--overrides', '{"spec":{"hostNetwork":true,"containers":[{"name":"node-agent","image":"nginx"}]}}']);
    const raised = await ok(['label', 'namespace', 'legacy', 'pod-security.kubernetes.io/enforce=restricted', '--overwrite']);
    assert.equal(raised.stdout.trim(), 'namespace/legacy labeled');
    const restricted = 'allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile';
    assert.deepEqual(raised.stderr.trim().split('\n'), [
      'Warning: existing pods in namespace "legacy" violate the new PodSecurity enforce level "restricted:latest"',
      'Warning: node-agent: allowPrivilegeEscalation != false, unrestricted capabilities, host namespaces, runAsNonRoot != true, seccompProfile',
      `Warning: web-1 (and 2 other pods): ${restricted}`,
    ]);
    // Relaxing the level checks nothing.
    const relaxed = await ok(['label', 'namespace', 'legacy', 'pod-security.kubernetes.io/enforce=baseline', '--overwrite']);
    assert.equal(relaxed.stderr.trim(), '');
    // The existing pods stay: their metadata can still change, their images cannot (that would be judged).
    await ok(['label', 'pod', 'web-1', '-n', 'legacy', 'tier=front']);
    assert.equal(
      await fails(['set', 'image', 'pod/node-agent', 'node-agent=nginx:1.27', '-n', 'legacy']),
      'error: failed to patch image update to pod template: pods "node-agent" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true)',
    );
    assert.equal(
      await fails(['label', 'namespace', 'legacy', 'pod-security.kubernetes.io/audit=strict', '--overwrite']),
      'The Namespace "legacy" is invalid: metadata.labels[pod-security.kubernetes.io/audit]: Invalid value: "strict": must be one of privileged, baseline, restricted',
    );
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('admission configured by --admission-control-config-file', () => {
  let cluster: Cluster;
  const configFile = join(tmpdir(), `admission-config-${process.pid}.yaml`);

  before(async () => {
    writeFileSync(
      configFile,
      `apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  configuration:
    apiVersion: pod-security.admission.config.k8s.io/v1
    kind: PodSecurityConfiguration
    defaults: {enforce: baseline}
    exemptions: {usernames: [ci-bot]}
`,
    );
    cluster = await Cluster.start([`--admission-control-config-file=${configFile}`]);
  });

  after(async () => {
    const code = await cluster.stop();
    cluster.cleanup();
    assert.equal(code, 0);
  });

  it('PodSecurity enforces the configured default level on unlabelled namespaces and never judges exempt users', async () => {
    const privileged = ['run', 'root', '--image=nginx', '--overrides', '{"spec":{"containers":[{"name":"root","image":"nginx","securityContext":{"privileged":true}}]}}'];
    const refused = await cluster.kubectl(privileged, { timeoutMs: 90_000 });
    assert.notEqual(refused.code, 0);
    assert.equal(refused.stderr.trim(), 'Error from server (Forbidden): pods "root" is forbidden: violates PodSecurity "baseline:latest": privileged (container "root" must not set securityContext.privileged=true)');
    const exempt = await cluster.kubectl([...privileged, '--as=ci-bot', '--as-group=system:masters'], { timeoutMs: 90_000 });
    assert.equal(exempt.code, 0, exempt.stderr);
  });
});
