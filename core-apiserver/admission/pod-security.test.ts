import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatusError } from '../../apiserver/request/status.js';
import { describe as describeViolations, evaluate } from './pod-security-checks.js';
import { PodSecurity } from './pod-security.js';
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
  const plugin = new PodSecurity(async (namespace) => labels[namespace]);
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
    assert.equal(workload.warnings[0], 'would violate PodSecurity "baseline:v1.32": privileged (container "c" must not set securityContext.privileged=true)');
    const audit = newContext();
    await plugin.validate(attributesOf('pods', pod('p', privileged), { namespace: 'audited' }), audit);
    assert.match(audit.auditAnnotations['pod-security.kubernetes.io/audit-violations'], /^would violate PodSecurity "restricted:latest": /);
    assert.deepEqual(audit.warnings, []);
  });
});
