// The walking skeleton, end to end: the real launcher (four processes, SQLite, TLS, front proxy) driven by
// the real kubectl — the installed one (1.32 via the dispatcher) and the versioned 1.27 and 1.33 binaries.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from './harness.js';

let cluster: Cluster;

before(async () => {
  cluster = await Cluster.start();
});

after(async () => {
  const code = await cluster.stop();
  cluster.cleanup();
  assert.equal(code, 0, 'the launcher exits cleanly on SIGTERM');
});

async function ok(args: string[], version = '', input?: string): Promise<string> {
  const result = await cluster.kubectl(args, { version, input });
  assert.equal(result.code, 0, `kubectl ${version} ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
  return result.stdout;
}

async function fails(args: string[], version = ''): Promise<string> {
  const result = await cluster.kubectl(args, { version });
  assert.notEqual(result.code, 0, `kubectl ${args.join(' ')} should fail:\n${result.stdout}`);
  return result.stderr;
}

function manifest(name: string, content: string): string {
  const file = join(cluster.dataDir, name);
  writeFileSync(file, content);
  return file;
}

for (const version of ['', '1.27', '1.33']) {
  const label = version || 'installed (1.32)';
  const ns = `team-${version.replace('.', '') || 'default'}`;

  describe(`kubectl ${label}`, () => {
    it('creates a namespace (protobuf body) and lists it', async () => {
      assert.match(await ok(['create', 'namespace', ns], version), new RegExp(`namespace/${ns} created`));
      const table = await ok(['get', 'namespaces'], version);
      assert.match(table, /NAME\s+STATUS\s+AGE/);
      assert.match(table, new RegExp(`${ns}\\s+Active`));
      assert.match(table, /kube-system\s+Active/);
    });

    it('creates a configmap from literals and reads it back as YAML', async () => {
      assert.match(await ok(['-n', ns, 'create', 'configmap', 'settings', '--from-literal=color=blue', '--from-literal=size=3'], version), /configmap\/settings created/);
      const yaml = await ok(['-n', ns, 'get', 'configmap', 'settings', '-o', 'yaml'], version);
      assert.match(yaml, /color: blue/);
      assert.match(yaml, /size: "3"/);
      assert.match(yaml, /resourceVersion: "\d+"/);
      assert.match(yaml, /uid: [0-9a-f-]{36}/);
      const table = await ok(['-n', ns, 'get', 'configmaps'], version);
      assert.match(table, /settings\s+2\s+\d+s/);
    });

    it('creates a generic secret whose data is base64', async () => {
      await ok(['-n', ns, 'create', 'secret', 'generic', 'creds', '--from-literal=password=hunter2'], version);
      const data = await ok(['-n', ns, 'get', 'secret', 'creds', '-o', 'jsonpath={.data.password}'], version);
      assert.equal(Buffer.from(data, 'base64').toString(), 'hunter2');
      assert.match(await ok(['-n', ns, 'get', 'secrets'], version), /creds\s+Opaque\s+1/);
    });

    it('applies a manifest, then applies a change to it', async () => {
      const file = manifest(`applied-${ns}.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  namespace: ${ns}\n  labels: {tier: web}\ndata:\n  mode: first\n  keep: "yes"\n`);
      assert.match(await ok(['apply', '-f', file], version), /configmap\/applied created/);
      manifest(`applied-${ns}.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  namespace: ${ns}\n  labels: {tier: batch}\ndata:\n  mode: second\n`);
      assert.match(await ok(['apply', '-f', file], version), /configmap\/applied configured/);
      const object = JSON.parse(await ok(['-n', ns, 'get', 'configmap', 'applied', '-o', 'json'], version));
      assert.deepEqual(object.data, { mode: 'second' }, 'the removed key is gone, the changed one updated');
      assert.equal(object.metadata.labels.tier, 'batch');
      assert.match(await ok(['apply', '-f', file], version), /configmap\/applied unchanged/);
    });

    it('watches a change with get -w', async () => {
      const watcher = cluster.spawnKubectl(['-n', ns, 'get', 'configmaps', '-w'], version);
      let output = '';
      watcher.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const deadline = Date.now() + 15_000;
      while (!output.includes('settings') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await ok(['-n', ns, 'create', 'configmap', 'watched', '--from-literal=a=b'], version);
      while (!output.includes('watched') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      watcher.kill();
      assert.match(output, /watched\s+1/, `the watch printed the new object:\n${output}`);
    });

    it('pages with --chunk-size and keeps every item', async () => {
      for (let index = 0; index < 5; index++) await ok(['-n', ns, 'create', 'configmap', `page-${index}`, `--from-literal=i=${index}`], version);
      const names = (await ok(['-n', ns, 'get', 'configmaps', '--chunk-size=2', '-o', 'name'], version)).trim().split('\n');
      for (let index = 0; index < 5; index++) assert.ok(names.includes(`configmap/page-${index}`), names.join(','));
      const table = await ok(['-n', ns, 'get', 'configmaps', '--chunk-size=2'], version);
      assert.equal((table.match(/^NAME/gm) ?? []).length, 1, 'one header across pages');
    });

    it('refuses a replace with a stale resourceVersion (Conflict)', async () => {
      const object = JSON.parse(await ok(['-n', ns, 'get', 'configmap', 'settings', '-o', 'json'], version));
      await ok(['-n', ns, 'label', 'configmap', 'settings', 'touched=yes'], version);
      object.data.color = 'red';
      const file = manifest(`stale-${ns}.json`, JSON.stringify(object));
      const stderr = await fails(['replace', '-f', file], version);
      assert.match(stderr, /Conflict/);
      assert.match(stderr, /the object has been modified; please apply your changes to the latest version and try again/);
    });

    it('lists the API with api-resources and api-versions', async () => {
      const resources = await ok(['api-resources'], version);
      assert.match(resources, /configmaps\s+cm\s+v1\s+true\s+ConfigMap/);
      assert.match(resources, /namespaces\s+ns\s+v1\s+false\s+Namespace/);
      assert.match(resources, /customresourcedefinitions\s+crd,crds\s+apiextensions.k8s.io\/v1\s+false\s+CustomResourceDefinition/);
      assert.match(resources, /nodes\s+metrics.k8s.io\/v1beta1\s+false\s+NodeMetrics/);
      const versions = (await ok(['api-versions'], version)).trim().split('\n');
      assert.ok(versions.includes('v1') && versions.includes('apiextensions.k8s.io/v1') && versions.includes('metrics.k8s.io/v1beta1'), versions.join(','));
    });

    it('explains a field from the served OpenAPI', async () => {
      const output = await ok(['explain', 'configmap.data'], version);
      assert.match(output, /Data contains the configuration data/);
    });

    it('deletes a namespace and waits until its content and itself are gone', async () => {
      const output = await ok(['delete', 'namespace', ns, '--timeout=60s'], version);
      assert.match(output, new RegExp(`namespace "${ns}" deleted`));
      const stderr = await fails(['get', 'namespace', ns], version);
      assert.match(stderr, new RegExp(`namespaces "${ns}" not found`));
    });
  });
}

describe('kubectl on the wire', () => {
  it('reports readiness of every check through the aggregator', async () => {
    const output = await ok(['get', '--raw', '/readyz?verbose']);
    assert.match(output, /\[\+\]backends ok/);
    assert.match(output, /readyz check passed/);
  });

  it('serves OpenAPI v2 as JSON when asked, lazily merged from the v3 documents', async () => {
    const response = await cluster.request('GET', '/openapi/v2', { headers: { Accept: 'application/json' } });
    assert.equal(response.status, 200);
    const document = JSON.parse(response.body) as { swagger: string; definitions: Record<string, unknown>; paths: Record<string, unknown> };
    assert.equal(document.swagger, '2.0');
    assert.ok(document.definitions['io.k8s.api.core.v1.ConfigMap']);
    assert.ok(document.paths['/api/v1/namespaces/{namespace}/configmaps/{name}']);
  });

  it('explains a field from OpenAPI v3', async () => {
    const output = await ok(['explain', 'configmap.data']);
    assert.match(output, /KIND:\s+ConfigMap/);
    assert.match(output, /Data contains the configuration data/);
  });

  it('refuses writes into a namespace that does not exist', async () => {
    const stderr = await fails(['-n', 'nowhere', 'create', 'configmap', 'x', '--from-literal=a=b']);
    assert.match(stderr, /namespaces "nowhere" not found/);
  });

  it('shows strict field validation errors from apply', async () => {
    const file = manifest('bogus.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bogus\ndata:\n  a: b\nbogus: true\n');
    const stderr = await fails(['apply', '-f', file]);
    assert.match(stderr, /unknown field "bogus"/);
  });

  it('creates a service from a protobuf body and allocates its cluster IP', async () => {
    assert.match(await ok(['create', 'service', 'clusterip', 'web', '--tcp=80:8080']), /service\/web created/);
    const service = JSON.parse(await ok(['get', 'service', 'web', '-o', 'json'])) as { spec: { clusterIP: string; ports: { port: number; targetPort: number }[] } };
    assert.match(service.spec.clusterIP, /^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/);
    assert.deepEqual([service.spec.ports[0].port, service.spec.ports[0].targetPort], [80, 8080]);
    assert.match(await ok(['get', 'services']), /kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443\/TCP/);
  });

  it('gives every namespace a default ServiceAccount, and pods get the usual defaults', async () => {
    await ok(['create', 'namespace', 'sa-check']);
    let accounts = '';
    for (let attempt = 0; attempt < 50 && !accounts.includes('default'); attempt++) {
      accounts = (await cluster.kubectl(['-n', 'sa-check', 'get', 'serviceaccounts'])).stdout;
      if (!accounts.includes('default')) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.match(accounts, /default\s+0/);
    await ok(['-n', 'sa-check', 'run', 'web', '--image=nginx:1.27']);
    const pod = JSON.parse(await ok(['-n', 'sa-check', 'get', 'pod', 'web', '-o', 'json'])) as { spec: { serviceAccountName: string; containers: { imagePullPolicy: string }[] }; status: { phase: string; qosClass: string } };
    assert.equal(pod.spec.serviceAccountName, 'default');
    assert.equal(pod.spec.containers[0].imagePullPolicy, 'IfNotPresent');
    assert.deepEqual([pod.status.phase, pod.status.qosClass], ['Pending', 'BestEffort']);
    assert.match(await ok(['-n', 'sa-check', 'get', 'pods']), /web\s+0\/1\s+Pending\s+0/);
  });

  it('runs every kubectl create subcommand (protobuf bodies) against the built-in kinds', async () => {
    const commands: [string[], RegExp][] = [
      [['create', 'deployment', 'web', '--image=nginx', '--replicas=2', '--port=80'], /deployment.apps\/web created/],
      [['create', 'job', 'pi', '--image=perl'], /job.batch\/pi created/],
      [['create', 'cronjob', 'tick', '--image=busybox', '--schedule=*/5 * * * *'], /cronjob.batch\/tick created/],
      [['create', 'role', 'reader', '--verb=get', '--resource=pods'], /role.rbac.authorization.k8s.io\/reader created/],
      [['create', 'rolebinding', 'reader-binding', '--role=reader', '--user=jane'], /rolebinding.rbac.authorization.k8s.io\/reader-binding created/],
      [['create', 'clusterrole', 'node-reader', '--verb=get', '--resource=nodes'], /clusterrole.rbac.authorization.k8s.io\/node-reader created/],
      [['create', 'clusterrolebinding', 'node-readers', '--clusterrole=node-reader', '--group=ops'], /clusterrolebinding.rbac.authorization.k8s.io\/node-readers created/],
      [['create', 'quota', 'small', '--hard=pods=2'], /resourcequota\/small created/],
      [['create', 'priorityclass', 'high', '--value=1000'], /priorityclass.scheduling.k8s.io\/high created/],
      [['create', 'poddisruptionbudget', 'web-pdb', '--selector=app=web', '--min-available=1'], /poddisruptionbudget.policy\/web-pdb created/],
      [['create', 'ingress', 'web', '--rule=example.com/=web:80'], /ingress.networking.k8s.io\/web created/],
      [['create', 'serviceaccount', 'robot'], /serviceaccount\/robot created/],
    ];
    for (const [args, expected] of commands) assert.match(await ok(['-n', 'default', ...args]), expected);
    const deployments = await ok(['get', 'deployments', '-o', 'wide']);
    // No node agent runs here: the ReplicaSet's pods stay Pending, so none is ready or available.
    assert.match(deployments, /web\s+0\/2\s+\d+\s+0\s+\d+s\s+nginx\s+nginx\s+app=web/);
    const job = JSON.parse(await ok(['get', 'job', 'pi', '-o', 'json'])) as { metadata: { uid: string }; spec: { template: { metadata: { labels: Record<string, string> } } } };
    assert.equal(job.spec.template.metadata.labels['batch.kubernetes.io/controller-uid'], job.metadata.uid);
    assert.match(await ok(['get', 'rolebinding', 'reader-binding', '-o', 'wide']), /reader-binding\s+Role\/reader\s+\d+s\s+jane/);
  });

  it('answers kubectl auth can-i / whoami with the real policy, and honours --as impersonation', async () => {
    assert.equal((await ok(['auth', 'can-i', 'create', 'pods'])).trim(), 'yes');
    // jane holds get on pods through the reader RoleBinding created above, nothing more.
    assert.equal((await ok(['auth', 'can-i', 'get', 'pods', '--as=jane'])).trim(), 'yes');
    const denied = await cluster.kubectl(['auth', 'can-i', 'delete', 'pods', '--as=jane']);
    assert.equal(denied.code, 1);
    assert.equal(denied.stdout.trim(), 'no');
    assert.match(await ok(['auth', 'whoami']), /Username\s+admin[\s\S]*Groups\s+\[system:masters system:authenticated\]/);
    assert.match(await ok(['auth', 'whoami', '--as=jane', '--as-group=devs']), /Username\s+jane[\s\S]*Groups\s+\[devs system:authenticated\]/);
    assert.match(await ok(['auth', 'can-i', '--list']), /\*\.\*\s+\[\]\s+\[\]\s+\[\*\]/);
    const forbidden = await cluster.kubectl(['get', 'configmaps', '--as=jane']);
    assert.match(forbidden.stderr, /configmaps is forbidden: User "jane" cannot list resource "configmaps" in API group "" in the namespace "default"/);
  });

  it('scales a deployment through its autoscaling/v1 Scale subresource', async () => {
    await ok(['create', 'deployment', 'scaled', '--image=nginx']);
    assert.match(await ok(['scale', 'deployment', 'scaled', '--replicas=3']), /deployment.apps\/scaled scaled/);
    const scale = JSON.parse(await ok(['get', '--raw', '/apis/apps/v1/namespaces/default/deployments/scaled/scale'])) as { kind: string; apiVersion: string; spec: { replicas: number }; status: { selector: string } };
    assert.deepEqual([scale.kind, scale.apiVersion, scale.spec.replicas, scale.status.selector], ['Scale', 'autoscaling/v1', 3, 'app=scaled']);
    const deployment = JSON.parse(await ok(['get', 'deployment', 'scaled', '-o', 'json'])) as { spec: { replicas: number }; metadata: { generation: number } };
    assert.deepEqual([deployment.spec.replicas, deployment.metadata.generation], [3, 2]);
    const stale = await cluster.kubectl(['scale', 'deployment', 'scaled', '--current-replicas=2', '--replicas=5']);
    assert.notEqual(stale.code, 0, 'the --current-replicas precondition is checked against the Scale');
  });

  it('cannot delete the default namespace', async () => {
    const stderr = await fails(['delete', 'namespace', 'default']);
    assert.match(stderr, /Forbidden.*this namespace may not be deleted/);
  });
});

describe('identity', () => {
  it('the aggregator ignores X-Remote-* headers sent by a client', async () => {
    const response = await cluster.request('GET', '/api/v1/namespaces', { asAdmin: false, headers: { 'X-Remote-User': 'admin', 'X-Remote-Group': 'system:masters' } });
    assert.equal(response.status, 403);
    assert.match(response.body, /User \\"system:anonymous\\" cannot list resource \\"namespaces\\"/);
  });

  it('a backend refuses identity headers from a caller without a front-proxy certificate', async () => {
    const corePort = Number(/\[core-apiserver\] \{"component":"core-apiserver","listening":"https:\/\/127\.0\.0\.1:(\d+)"\}/.exec(cluster.output)?.[1]);
    const spoofed = await cluster.request('GET', '/api/v1/namespaces', { port: corePort, asAdmin: false, headers: { 'X-Remote-User': 'admin', 'X-Remote-Group': 'system:masters' } });
    assert.equal(spoofed.status, 401);
    assert.match(spoofed.body, /request did not come from a trusted aggregator/);
    const withClientCert = await cluster.request('GET', '/api/v1/namespaces', { port: corePort, headers: { 'X-Remote-User': 'mallory', 'X-Remote-Group': 'system:masters' } });
    assert.equal(withClientCert.status, 401, 'a client certificate that is not the front proxy cannot assert identities');
  });

  it('anonymous callers may read health and version only', async () => {
    assert.equal((await cluster.request('GET', '/healthz', { asAdmin: false })).status, 200);
    assert.equal((await cluster.request('GET', '/version', { asAdmin: false })).status, 200);
    assert.equal((await cluster.request('GET', '/api/v1/namespaces/default/configmaps', { asAdmin: false })).status, 403);
  });
});

describe('bad input gets a Status, never a 500', () => {
  const status = (body: string) => JSON.parse(body) as { kind: string; code: number; reason: string; details?: { causes?: { field: string }[] } };

  it('malformed JSON is 400 BadRequest', async () => {
    const response = await cluster.request('POST', '/api/v1/namespaces/default/configmaps', { body: '{"metadata": ', headers: { 'Content-Type': 'application/json' } });
    assert.equal(response.status, 400);
    assert.equal(status(response.body).reason, 'BadRequest');
  });

  it('an unsupported content type is 415', async () => {
    const response = await cluster.request('POST', '/api/v1/namespaces/default/configmaps', { body: 'x', headers: { 'Content-Type': 'text/csv' } });
    assert.equal(response.status, 415);
    assert.equal(status(response.body).reason, 'UnsupportedMediaType');
  });

  it('a body over 3 MiB is 413', async () => {
    const body = JSON.stringify({ metadata: { name: 'big' }, data: { a: 'x'.repeat(3 * 1024 * 1024 + 10) } });
    const response = await cluster.request('POST', '/api/v1/namespaces/default/configmaps', { body, headers: { 'Content-Type': 'application/json' } });
    assert.equal(response.status, 413);
    assert.equal(status(response.body).reason, 'RequestEntityTooLarge');
  });

  it('an invalid name is 422 Invalid with causes', async () => {
    const response = await cluster.request('POST', '/api/v1/namespaces/default/configmaps', { body: JSON.stringify({ metadata: { name: 'Not_Valid' } }), headers: { 'Content-Type': 'application/json' } });
    assert.equal(response.status, 422);
    const body = status(response.body);
    assert.equal(body.reason, 'Invalid');
    assert.equal(body.details?.causes?.[0].field, 'metadata.name');
  });

  it('an unknown resource is a 404 Status', async () => {
    const response = await cluster.request('GET', '/api/v1/namespaces/default/widgets');
    assert.equal(response.status, 404);
    assert.equal(status(response.body).kind, 'Status');
    const unknownGroup = await cluster.request('GET', '/apis/nothing.example.com/v1/things');
    assert.equal(unknownGroup.status, 404);
  });

  it('the servers still answer after all of it', async () => {
    assert.match(await ok(['get', 'namespace', 'default']), /default\s+Active/);
  });
});
