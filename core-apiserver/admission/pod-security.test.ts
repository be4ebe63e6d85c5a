import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatusError } from '../../apiserver/request/status.js';
import { describe as describeViolations, evaluate } from './pod-security-checks.js';
import { isSignificantPodUpdate, PodSecurity } from './pod-security.js';
import { attributesOf, newContext, pod } from './test-support.js';

describe('Pod Security Standards checks', () => {
  it('baseline: host namespaces, privileged, capabilities, hostPath, hostPorts, Unconfined seccomp', () => {
    const spec = {
      hostNetwork: true,
      hostPID: true,
      volumes: [{ name: 'root', hostPath: { path: '/' } }],
      containers: [
        { name: 'a', image: 'x', ports: [{ containerPort: 80, hostPort: 8080 }], securityContext: { privileged: true, capabilities: { add: ['NET_ADMIN', 'CHOWN'] } } },
        { name: 'b', image: 'x', securityContext: { privileged: true, seccompProfile: { type: 'Unconfined' } } },
      ],
    };
    assert.equal(
      describeViolations(evaluate('baseline', spec)),
      'non-default capabilities (container "a" must not include "NET_ADMIN" in securityContext.capabilities.add), host namespaces (hostNetwork=true, hostPID=true), hostPath volumes (volume "root"), hostPort (container "a" uses hostPort 8080), privileged (containers "a", "b" must not set securityContext.privileged=true), seccompProfile (container "b" must not set securityContext.seccompProfile.type to "Unconfined")',
    );
  });

  it('restricted: the upstream message for a plain pod, and nothing for a compliant one', () => {
    assert.equal(
      describeViolations(evaluate('restricted', { containers: [{ name: 'c', image: 'x' }] })),
      'allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
    const compliant = {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      volumes: [{ name: 'data', emptyDir: {} }],
      containers: [{ name: 'c', image: 'x', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } } }],
    };
    assert.deepEqual(evaluate('restricted', compliant), []);
    assert.deepEqual(evaluate('privileged', { hostNetwork: true, containers: [] }), []);
  });

  it('restricted: volume types replace the hostPath check; runAsUser=0 is refused', () => {
    const spec = {
      securityContext: { runAsNonRoot: true, runAsUser: 0, seccompProfile: { type: 'RuntimeDefault' } },
      volumes: [{ name: 'h', hostPath: { path: '/' } }, { name: 'n', nfs: { server: 's', path: '/' } }],
      containers: [{ name: 'c', image: 'x', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
    };
    assert.equal(describeViolations(evaluate('restricted', spec)), 'restricted volume types (volumes "h", "n" use restricted volume types "hostPath", "nfs"), runAsUser=0 (pod must not set runAsUser=0)');
  });
});

describe('Pod Security Standards checks: explicit settings', () => {
  it('reports who set a forbidden value ("pod and container …") before what must be opted into', () => {
    const spec = {
      securityContext: { runAsNonRoot: false, seccompProfile: { type: 'Unconfined' } },
      containers: [
        { name: 'a', image: 'x', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: false, runAsUser: 0 } },
        { name: 'b', image: 'x', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'Localhost' } } },
      ],
    };
    assert.equal(
      describeViolations(evaluate('restricted', spec)),
      'runAsNonRoot != true (pod and container "a" must not set securityContext.runAsNonRoot=false), runAsUser=0 (container "a" must not set runAsUser=0), seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")',
    );
  });
});

describe('PodSecurity admission', () => {
  const labels: Record<string, Record<string, string>> = {
    enforced: { 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/enforce-version': 'v1.32', 'pod-security.kubernetes.io/warn': 'restricted' },
    audited: { 'pod-security.kubernetes.io/audit': 'restricted' },
  };
  const plugin = new PodSecurity({ namespaceLabels: async (namespace) => labels[namespace], pods: async () => [] });
  const privileged = { containers: [{ name: 'c', image: 'x', securityContext: { privileged: true } }] };

  it('refuses a pod that violates the enforce level', async () => {
    const context = newContext();
    await assert.rejects(plugin.validate(attributesOf('pods', pod('p', privileged), { namespace: 'enforced' }), context), (error: unknown) => {
      assert.ok(error instanceof StatusError);
      assert.equal(error.code, 403);
      assert.equal(error.message, 'pods "p" is forbidden: violates PodSecurity "baseline:v1.32": privileged (container "c" must not set securityContext.privileged=true)');
      return true;
    });
  });

  it('warns for the warn level and for workload templates; annotates audit violations', async () => {
    const context = newContext();
    await plugin.validate(attributesOf('pods', pod('p', { containers: [{ name: 'c', image: 'x' }] }), { namespace: 'enforced' }), context);
    assert.equal(context.warnings.length, 1);
    assert.match(context.warnings[0], /^would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false/);
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'enforced' }, spec: { template: { spec: privileged } } };
    const workload = newContext();
    await plugin.validate(attributesOf('deployments.apps', deployment, { namespace: 'enforced' }), workload);
    assert.equal(workload.warnings.length, 1, 'a workload is judged for warn (and audit) only, never refused');
    assert.match(workload.warnings[0], /^would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false .*, privileged \(container "c" must not set securityContext.privileged=true\), /);
    const audit = newContext();
    await plugin.validate(attributesOf('pods', pod('p', privileged), { namespace: 'audited' }), audit);
    assert.match(audit.auditAnnotations['pod-security.kubernetes.io/audit-violations'], /^would violate PodSecurity "restricted:latest": /);
    assert.deepEqual(audit.warnings, []);
  });
});

describe('PodSecurity on updates, namespaces and exemptions', () => {
  const labels: Record<string, Record<string, string>> = {
    strict: { 'pod-security.kubernetes.io/enforce': 'baseline' },
    open: {},
  };
  const privilegedSpec = { containers: [{ name: 'c', image: 'x', securityContext: { privileged: true } }] };
  const hostSpec = { hostNetwork: true, containers: [{ name: 'c', image: 'x' }] };
  const existing = [pod('web-b', privilegedSpec), pod('web-a', privilegedSpec), pod('db', hostSpec), pod('ok', { containers: [{ name: 'c', image: 'x' }] }), pod('web-c', privilegedSpec)];
  const plugin = new PodSecurity({ namespaceLabels: async (namespace) => labels[namespace], pods: async () => existing }, { exemptions: { usernames: ['system:serviceaccount:kube-system:trusted'], namespaces: ['exempt'], runtimeClasses: ['kata'] } });
  const namespace = (name: string, nsLabels: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: nsLabels } });
  const nsAttributes = (name: string, next: Record<string, string>, old?: Record<string, string>) =>
    attributesOf('namespaces', namespace(name, next), { namespace: '', name, operation: old ? 'UPDATE' : 'CREATE', oldObject: old ? namespace(name, old) : undefined });

  it('a pod update that changes nothing the standards check is not judged; an image change is', async () => {
    const old = pod('p', privilegedSpec, { namespace: 'strict', resourceVersion: '3' });
    const relabelled = pod('p', privilegedSpec, { namespace: 'strict', labels: { a: 'b' } });
    await plugin.validate(attributesOf('pods', relabelled, { namespace: 'strict', operation: 'UPDATE', oldObject: old }), newContext());
    await plugin.validate(attributesOf('pods', relabelled, { namespace: 'strict', operation: 'UPDATE', oldObject: old, subresource: 'status' }), newContext());
    const reimaged = pod('p', { containers: [{ ...privilegedSpec.containers[0], image: 'y' }] }, { namespace: 'strict' });
    await assert.rejects(plugin.validate(attributesOf('pods', reimaged, { namespace: 'strict', operation: 'UPDATE', oldObject: old }), newContext()), /violates PodSecurity "baseline:latest": privileged/);
    assert.equal(isSignificantPodUpdate(pod('p', { containers: [], ephemeralContainers: [{ name: 'debug', image: 'x' }] }), pod('p', { containers: [] })), true, 'an added ephemeral container counts');
    assert.equal(isSignificantPodUpdate(pod('p', privilegedSpec, { annotations: { 'container.seccomp.security.alpha.kubernetes.io/c': 'unconfined' } }), pod('p', privilegedSpec)), true);
  });

  it('raising a namespace’s enforce level warns about the existing pods it would refuse, as upstream words it', async () => {
    const context = newContext();
    await plugin.validate(nsAttributes('apps', { 'pod-security.kubernetes.io/enforce': 'baseline' }, {}), context);
    assert.deepEqual(context.warnings, [
      'existing pods in namespace "apps" violate the new PodSecurity enforce level "baseline:latest"',
      'db: host namespaces',
      'web-a (and 2 other pods): privileged',
    ]);
    const relaxed = newContext();
    await plugin.validate(nsAttributes('apps', { 'pod-security.kubernetes.io/enforce': 'baseline' }, { 'pod-security.kubernetes.io/enforce': 'restricted' }), relaxed);
    await plugin.validate(nsAttributes('apps', { 'pod-security.kubernetes.io/enforce': 'baseline', other: 'x' }, { 'pod-security.kubernetes.io/enforce': 'baseline' }), relaxed);
    await plugin.validate(nsAttributes('exempt', { 'pod-security.kubernetes.io/enforce': 'restricted' }, {}), relaxed);
    assert.deepEqual(relaxed.warnings, [], 'relaxed, unchanged or exempt: no pods are checked');
  });

  it('refuses namespace labels that do not parse, with upstream’s Invalid wording', async () => {
    await assert.rejects(plugin.validate(nsAttributes('bad', { 'pod-security.kubernetes.io/enforce': 'strict' }), newContext()), (error: unknown) => {
      assert.ok(error instanceof StatusError);
      assert.equal(error.code, 422);
      assert.equal(error.message, 'Namespace "bad" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted');
      return true;
    });
    await assert.rejects(plugin.validate(nsAttributes('bad', { 'pod-security.kubernetes.io/warn-version': '1.30' }, {}), newContext()), /warn-version\]: Invalid value: "1.30": must be "latest" or "v1.x"$/);
    // Unchanged bad labels do not block other updates.
    await plugin.validate(nsAttributes('bad', { 'pod-security.kubernetes.io/enforce': 'strict', x: 'y' }, { 'pod-security.kubernetes.io/enforce': 'strict' }), newContext());
  });

  it('exempt users, namespaces and runtime classes are not judged (and say so in the audit annotations)', async () => {
    const byUser = newContext();
    await plugin.validate(attributesOf('pods', pod('p', privilegedSpec, { namespace: 'strict' }), { namespace: 'strict', user: { username: 'system:serviceaccount:kube-system:trusted', groups: [] } }), byUser);
    assert.equal(byUser.auditAnnotations['pod-security.kubernetes.io/exempt'], 'user');
    const byRuntime = newContext();
    await plugin.validate(attributesOf('pods', pod('p', { ...privilegedSpec, runtimeClassName: 'kata' }, { namespace: 'strict' }), { namespace: 'strict' }), byRuntime);
    assert.equal(byRuntime.auditAnnotations['pod-security.kubernetes.io/exempt'], 'runtimeClass');
    await assert.rejects(plugin.validate(attributesOf('pods', pod('p', privilegedSpec, { namespace: 'strict' }), { namespace: 'strict' }), newContext()), /forbidden/);
  });
});
