// RBAC end to end: real users (client certificates from the cluster CA) and a ServiceAccount (impersonated
// by the admin) against namespaces, verbs and resources, checked with the real kubectl — the request itself
// (allowed, or a 403 in upstream's words) and `kubectl auth can-i` for the same cell — plus resourceNames,
// a subresource rule, a nonResourceURL rule, ClusterRole aggregation reaching a custom resource served by
// apiextensions (which asks core by SubjectAccessReview), and privilege-escalation prevention.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from './harness.js';
import { issueCertificate } from '../launcher/pki.js';
import { renderKubeconfig } from '../launcher/kubeconfig.js';

let cluster: Cluster;
const kubeconfigs: Record<string, string> = {};

async function userKubeconfig(name: string, groups: string[] = []): Promise<string> {
  const caPem = readFileSync(cluster.pki.caCert, 'utf8');
  const issued = await issueCertificate({ caCertPem: caPem, caKeyPem: readFileSync(cluster.pki.caKey, 'utf8'), commonName: name, organizations: groups, usage: 'client' });
  const file = join(cluster.dataDir, `${name}.kubeconfig`);
  writeFileSync(file, renderKubeconfig({ server: cluster.url, caPem, clientCertPem: issued.certPem, clientKeyPem: issued.keyPem, userName: name }));
  return file;
}

/** kubectl as someone: a user name with a kubeconfig, or any other identity impersonated by the admin. */
function as(who: string, args: string[]) {
  const identity = kubeconfigs[who] ? [`--kubeconfig=${kubeconfigs[who]}`] : [`--as=${who}`];
  return cluster.kubectl([...args, ...identity]);
}

async function admin(args: string[], input?: string): Promise<string> {
  const result = await cluster.kubectl(args, { input });
  assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

async function allowed(who: string, args: string[]): Promise<string> {
  const result = await as(who, args);
  assert.equal(result.code, 0, `${who}: kubectl ${args.join(' ')} should be allowed:\n${result.stderr}`);
  return result.stdout;
}

async function forbidden(who: string, args: string[], message: string | RegExp): Promise<void> {
  const result = await as(who, args);
  assert.notEqual(result.code, 0, `${who}: kubectl ${args.join(' ')} should be forbidden:\n${result.stdout}`);
  if (typeof message === 'string') assert.equal(result.stderr.trim(), message);
  else assert.match(result.stderr, message);
}

async function canI(who: string, args: string[], expected: 'yes' | 'no'): Promise<void> {
  const result = await as(who, ['auth', 'can-i', ...args]);
  assert.equal(result.stdout.trim(), expected, `${who}: can-i ${args.join(' ')}: ${result.stdout}${result.stderr}`);
  assert.equal(result.code, expected === 'yes' ? 0 : 1);
}

async function eventually(check: () => Promise<void>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

const SA = 'system:serviceaccount:team-a:ci';

before(async () => {
  cluster = await Cluster.start();
  kubeconfigs.alice = await userKubeconfig('alice', ['devs']);
  kubeconfigs.bob = await userKubeconfig('bob');
  kubeconfigs.carol = await userKubeconfig('carol');
  for (const namespace of ['team-a', 'team-b']) await admin(['create', 'namespace', namespace]);
  await admin(['create', 'rolebinding', 'alice-view', '-n', 'team-a', '--clusterrole=view', '--user=alice']);
  await admin(['create', 'role', 'settings-editor', '-n', 'team-b', '--verb=get,update,patch', '--resource=configmaps', '--resource-name=settings']);
  await admin(['create', 'rolebinding', 'devs-settings', '-n', 'team-b', '--role=settings-editor', '--group=devs']);
  await admin(['create', 'serviceaccount', 'ci', '-n', 'team-a']);
  await admin(['create', 'rolebinding', 'ci-edit', '-n', 'team-a', '--clusterrole=edit', '--serviceaccount=team-a:ci']);
  await admin(['create', 'clusterrole', 'status-and-health', '--verb=get', '--resource=pods/status', '--non-resource-url=/livez/*']);
  await admin(['create', 'clusterrolebinding', 'bob-status', '--clusterrole=status-and-health', '--user=bob']);
  await admin(['create', 'rolebinding', 'carol-admin', '-n', 'team-a', '--clusterrole=admin', '--user=carol']);
  for (const namespace of ['team-a', 'team-b']) {
    await admin(['create', 'configmap', 'settings', '-n', namespace, '--from-literal=a=1']);
    await admin(['create', 'configmap', 'other', '-n', namespace, '--from-literal=a=1']);
  }
  await admin(['run', 'web', '-n', 'team-a', '--image=nginx']);
});

after(async () => {
  const code = await cluster.stop();
  cluster.cleanup();
  assert.equal(code, 0);
});

describe('authorization matrix', () => {
  it('alice, bound to view in team-a only, reads there and nowhere else', async () => {
    assert.match(await allowed('alice', ['get', 'pods', '-n', 'team-a']), /web/);
    await canI('alice', ['list', 'pods', '-n', 'team-a'], 'yes');
    await canI('alice', ['list', 'deployments.apps', '-n', 'team-a'], 'yes');
    await forbidden('alice', ['get', 'pods', '-n', 'team-b'], 'Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "team-b"');
    await canI('alice', ['list', 'pods', '-n', 'team-b'], 'no');
    await forbidden('alice', ['get', 'pods', '-A'], 'Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" at the cluster scope');
    await forbidden('alice', ['get', 'secrets', '-n', 'team-a'], 'Error from server (Forbidden): secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" in the namespace "team-a"');
    await canI('alice', ['get', 'secrets', '-n', 'team-a'], 'no');
    await forbidden('alice', ['create', 'configmap', 'x', '-n', 'team-a'], /configmaps is forbidden: User "alice" cannot create resource "configmaps" in API group "" in the namespace "team-a"/);
    await canI('alice', ['create', 'configmaps', '-n', 'team-a'], 'no');
    await forbidden('alice', ['delete', 'configmap', 'other', '-n', 'team-a'], 'Error from server (Forbidden): configmaps "other" is forbidden: User "alice" cannot delete resource "configmaps" in API group "" in the namespace "team-a"');
    await forbidden('alice', ['get', 'nodes'], 'Error from server (Forbidden): nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope');
  });

  it('a group binding limited by resourceNames: one configmap, not the others, not the list', async () => {
    assert.match(await allowed('alice', ['get', 'configmap', 'settings', '-n', 'team-b', '-o', 'name']), /configmap\/settings/);
    await canI('alice', ['get', 'configmap/settings', '-n', 'team-b'], 'yes');
    await allowed('alice', ['label', 'configmap', 'settings', '-n', 'team-b', 'touched=yes']);
    await forbidden('alice', ['get', 'configmap', 'other', '-n', 'team-b'], 'Error from server (Forbidden): configmaps "other" is forbidden: User "alice" cannot get resource "configmaps" in API group "" in the namespace "team-b"');
    await canI('alice', ['get', 'configmap/other', '-n', 'team-b'], 'no');
    await forbidden('alice', ['get', 'configmaps', '-n', 'team-b'], /cannot list resource "configmaps"/);
    await forbidden('alice', ['delete', 'configmap', 'settings', '-n', 'team-b'], /cannot delete resource "configmaps"/);
  });

  it('a ServiceAccount bound to edit writes in its namespace but may not touch RBAC or other namespaces', async () => {
    assert.match(await allowed(SA, ['create', 'configmap', 'built', '-n', 'team-a', '--from-literal=x=1']), /configmap\/built created/);
    await canI(SA, ['create', 'configmaps', '-n', 'team-a'], 'yes');
    await allowed(SA, ['get', 'secrets', '-n', 'team-a']);
    assert.match(await allowed(SA, ['delete', 'configmap', 'built', '-n', 'team-a']), /deleted/);
    await canI(SA, ['delete', 'configmaps', '-n', 'team-a'], 'yes');
    await forbidden(SA, ['create', 'role', 'r', '-n', 'team-a', '--verb=get', '--resource=pods'], /roles.rbac.authorization.k8s.io is forbidden: User "system:serviceaccount:team-a:ci" cannot create resource "roles" in API group "rbac.authorization.k8s.io" in the namespace "team-a"/);
    await canI(SA, ['create', 'roles.rbac.authorization.k8s.io', '-n', 'team-a'], 'no');
    await forbidden(SA, ['create', 'configmap', 'built', '-n', 'team-b'], /cannot create resource "configmaps" in API group "" in the namespace "team-b"/);
    await canI(SA, ['create', 'configmaps', '-n', 'team-b'], 'no');
  });

  it('impersonating a ServiceAccount needs `impersonate` on it (edit grants it in its namespace)', async () => {
    const whoami = await allowed('carol', ['auth', 'whoami', `--as=${SA}`]);
    assert.match(whoami, /Username\s+system:serviceaccount:team-a:ci[\s\S]*Groups\s+\[system:serviceaccounts system:serviceaccounts:team-a system:authenticated\]/);
    assert.match(await allowed('carol', ['create', 'configmap', 'as-ci', '-n', 'team-a', `--as=${SA}`]), /created/);
    await forbidden('carol', ['get', 'pods', '-n', 'team-b', '--as=system:serviceaccount:team-b:default'], 'Error from server (Forbidden): serviceaccounts "default" is forbidden: User "carol" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "team-b"');
    await forbidden('carol', ['get', 'pods', '-n', 'team-a', '--as=alice'], 'Error from server (Forbidden): users "alice" is forbidden: User "carol" cannot impersonate resource "users" in API group "" at the cluster scope');
  });

  it('a subresource rule and a nonResourceURL rule', async () => {
    assert.match(await allowed('bob', ['get', '--raw', '/api/v1/namespaces/team-a/pods/web/status']), /"name":"web"/);
    await canI('bob', ['get', 'pods', '--subresource=status', '-n', 'team-a'], 'yes');
    await forbidden('bob', ['get', 'pod', 'web', '-n', 'team-a'], /pods "web" is forbidden: User "bob" cannot get resource "pods" in API group "" in the namespace "team-a"/);
    await canI('bob', ['get', 'pods', '-n', 'team-a'], 'no');
    assert.equal(await allowed('bob', ['get', '--raw', '/livez/ping']), 'ok');
    await canI('bob', ['get', '/livez/ping'], 'yes');
    await forbidden('alice', ['get', '--raw', '/livez/ping'], 'Error from server (Forbidden): forbidden: User "alice" cannot get path "/livez/ping"');
    await canI('alice', ['get', '/livez/ping'], 'no');
    // Everyone authenticated reads discovery and version (system:discovery, system:public-info-viewer).
    assert.match(await allowed('alice', ['get', '--raw', '/version']), /"minor":"32"/);
  });

  it('SubjectAccessReview and LocalSubjectAccessReview answer from RBAC, with the allowing binding as reason', async () => {
    const review = (kind: string, spec: string, namespace = '') =>
      `apiVersion: authorization.k8s.io/v1\nkind: ${kind}\nmetadata: {${namespace ? `namespace: ${namespace}` : ''}}\nspec:\n${spec}`;
    const sar = JSON.parse(await admin(['create', '-f', '-', '-o', 'json'], review('SubjectAccessReview', '  user: alice\n  groups: [devs]\n  resourceAttributes: {namespace: team-a, verb: list, resource: pods}\n')));
    assert.deepEqual(sar.status, { allowed: true, reason: 'RBAC: allowed by RoleBinding "alice-view/team-a" of ClusterRole "view" to User "alice"' });
    const local = JSON.parse(await admin(['create', '-f', '-', '-o', 'json'], review('LocalSubjectAccessReview', '  user: alice\n  resourceAttributes: {namespace: team-b, verb: get, resource: secrets}\n', 'team-b')));
    assert.deepEqual(local.status, { allowed: false });
    const nobody = await cluster.kubectl(['create', '-f', '-'], { input: review('SubjectAccessReview', '  nonResourceAttributes: {path: /version, verb: get}\n') });
    assert.match(nobody.stderr, /The SubjectAccessReview "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified/);
    const mismatch = await cluster.kubectl(['create', '-f', '-'], { input: review('LocalSubjectAccessReview', '  user: alice\n  resourceAttributes: {namespace: team-a, verb: get, resource: pods}\n', 'team-b') });
    assert.match(mismatch.stderr, /spec.resourceAttributes.namespace: Invalid value: "team-a": must match metadata.namespace/);
  });

  it('`kubectl auth can-i --list` lists the rules that apply, from RBAC', async () => {
    const list = await allowed('alice', ['auth', 'can-i', '--list', '-n', 'team-a']);
    assert.match(list, /^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs/);
    assert.match(list, /\npods\s+\[\]\s+\[\]\s+\[get list watch\]/);
    assert.match(list, /selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/);
    assert.match(list, /\[\/version\]\s+\[\]\s+\[get\]/);
    assert.doesNotMatch(list, /\nsecrets\s/);
    const named = await allowed('alice', ['auth', 'can-i', '--list', '-n', 'team-b']);
    assert.match(named, /configmaps\s+\[\]\s+\[settings\]\s+\[get update patch\]/);
    const adminList = await admin(['auth', 'can-i', '--list']);
    assert.match(adminList, /\*\.\*\s+\[\]\s+\[\]\s+\[\*\]/);
  });

  it('a ClusterRole labelled aggregate-to-view extends view to a custom resource served through the aggregator', async () => {
    await admin(
      ['apply', '-f', '-'],
      `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`,
    );
    await admin(['wait', '--for=condition=Established', 'crd/widgets.example.com', '--timeout=60s']);
    await eventually(async () => {
      await admin(['apply', '-f', '-'], 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1, namespace: team-a}\n');
    });
    await forbidden('alice', ['get', 'widgets', '-n', 'team-a'], 'Error from server (Forbidden): widgets.example.com is forbidden: User "alice" cannot list resource "widgets" in API group "example.com" in the namespace "team-a"');
    await admin(['create', 'clusterrole', 'widget-viewer', '--verb=get,list,watch', '--resource=widgets.example.com']);
    await admin(['label', 'clusterrole', 'widget-viewer', 'rbac.authorization.k8s.io/aggregate-to-view=true']);
    // The aggregator's RBAC cache follows at once; apiextensions may keep its denied review up to 10 s.
    await eventually(async () => {
      assert.match(await allowed('alice', ['get', 'widgets', '-n', 'team-a']), /w1/);
    });
    assert.match(await admin(['get', 'clusterrole', 'view', '-o', 'yaml']), /- example\.com/);
    await canI('alice', ['list', 'widgets.example.com', '-n', 'team-a'], 'yes');
    await forbidden('alice', ['get', 'widgets', '-n', 'team-b'], /widgets.example.com is forbidden: User "alice" cannot list resource "widgets" in API group "example.com" in the namespace "team-b"/);
    await forbidden('alice', ['delete', 'widget', 'w1', '-n', 'team-a'], /widgets.example.com "w1" is forbidden: User "alice" cannot delete resource "widgets"/);
  });

  it('view reads metrics from the remote metrics APIService, which asks core by SubjectAccessReview', async () => {
    const top = await as('alice', ['top', 'pods', '-n', 'team-a']);
    assert.match(top.stderr, /metrics not available yet/);
    await forbidden('alice', ['top', 'pods', '-n', 'team-b'], /pods.metrics.k8s.io is forbidden: User "alice" cannot list resource "pods" in API group "metrics.k8s.io" in the namespace "team-b"/);
    await forbidden('alice', ['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes'], /nodes.metrics.k8s.io is forbidden: User "alice" cannot list resource "nodes" in API group "metrics.k8s.io" at the cluster scope/);
  });

  it('privilege escalation is refused unless escalate or bind is granted', async () => {
    assert.match(await allowed('carol', ['create', 'role', 'pod-reader', '-n', 'team-a', '--verb=get', '--resource=pods']), /created/);
    await forbidden(
      'carol',
      ['create', 'role', 'node-reader', '-n', 'team-a', '--verb=get,list', '--resource=nodes'],
      'Error from server (Forbidden): roles.rbac.authorization.k8s.io "node-reader" is forbidden: user "carol" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["get" "list"]}',
    );
    await forbidden(
      'carol',
      ['create', 'rolebinding', 'dave-admin', '-n', 'team-a', '--clusterrole=cluster-admin', '--user=dave'],
      'error: failed to create rolebinding: rolebindings.rbac.authorization.k8s.io "dave-admin" is forbidden: user "carol" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}',
    );
    await admin(['create', 'clusterrole', 'role-escalator', '--verb=escalate', '--resource=roles.rbac.authorization.k8s.io']);
    await admin(['create', 'clusterrole', 'admin-binder', '--verb=bind', '--resource=clusterroles.rbac.authorization.k8s.io', '--resource-name=cluster-admin']);
    await admin(['create', 'rolebinding', 'carol-escalate', '-n', 'team-a', '--clusterrole=role-escalator', '--user=carol']);
    await admin(['create', 'rolebinding', 'carol-bind', '-n', 'team-a', '--clusterrole=admin-binder', '--user=carol']);
    await eventually(async () => {
      assert.match(await allowed('carol', ['create', 'role', 'node-reader', '-n', 'team-a', '--verb=get,list', '--resource=nodes']), /created/);
    });
    await eventually(async () => {
      assert.match(await allowed('carol', ['create', 'rolebinding', 'dave-admin', '-n', 'team-a', '--clusterrole=cluster-admin', '--user=dave']), /created/);
    });
    // The new binding takes effect for dave in team-a only.
    await eventually(async () => {
      await allowed('dave', ['get', 'secrets', '-n', 'team-a']);
    });
    await canI('dave', ['get', 'secrets', '-n', 'team-b'], 'no');
  });

  it('core authorizes on its own too: a user reaching it directly gets the same answers', async () => {
    const corePort = /\[core-apiserver\] \{"component":"core-apiserver","listening":"https:\/\/127\.0\.0\.1:(\d+)"\}/.exec(cluster.output)?.[1];
    assert.ok(corePort, 'core-apiserver port in the launcher output');
    const direct = [`--server=https://127.0.0.1:${corePort}`];
    assert.match(await allowed('alice', ['get', 'pods', '-n', 'team-a', ...direct]), /web/);
    await forbidden('alice', ['get', 'pods', '-n', 'team-b', ...direct], 'Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "team-b"');
    await forbidden('alice', ['get', 'secrets', '-n', 'team-a', ...direct], /secrets is forbidden: User "alice" cannot list resource "secrets"/);
  });

  it('kubectl 1.27 and 1.33 get the same answers', async () => {
    for (const version of ['1.27', '1.33']) {
      const yes = await cluster.kubectl(['auth', 'can-i', 'list', 'pods', '-n', 'team-a', `--kubeconfig=${kubeconfigs.alice}`], { version });
      assert.equal(yes.stdout.trim(), 'yes', `kubectl ${version}: ${yes.stderr}`);
      const no = await cluster.kubectl(['get', 'secrets', '-n', 'team-a', `--kubeconfig=${kubeconfigs.alice}`], { version });
      assert.match(no.stderr, /secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" in the namespace "team-a"/, `kubectl ${version}`);
    }
  });

  it('a binding to a missing role says so in the 403', async () => {
    await admin(['create', 'rolebinding', 'dangling', '-n', 'team-b', '--clusterrole=no-such-role', '--user=erin']);
    await eventually(async () => {
      await forbidden(
        'erin',
        ['get', 'pods', '-n', 'team-b'],
        'Error from server (Forbidden): pods is forbidden: User "erin" cannot list resource "pods" in API group "" in the namespace "team-b": RBAC: clusterrole.rbac.authorization.k8s.io "no-such-role" not found',
      );
    });
  });
});
