// Server-side apply end to end with the real kubectl: field ownership in managedFields, removal of fields a
// manager stops applying, conflicts between managers (and kubectl's message for them), --force-conflicts,
// the client-side → server-side apply migration, status and scale subresources, and custom resources.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from './harness.js';

let cluster: Cluster;

before(async () => {
  // The tests play the controller that owns Deployment status themselves.
  cluster = await Cluster.start(['--workload-controllers=false']);
});

after(async () => {
  await cluster.stop();
  cluster.cleanup();
});

async function ok(args: string[], version = ''): Promise<string> {
  const result = await cluster.kubectl(args, { version });
  assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
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

interface Entry {
  manager: string;
  operation: string;
  apiVersion: string;
  subresource?: string;
  fieldsV1: Record<string, unknown>;
}

async function managedFields(resource: string, ns = 'default'): Promise<Entry[]> {
  const object = JSON.parse(await ok(['-n', ns, 'get', resource, '-o', 'json', '--show-managed-fields'])) as { metadata: { managedFields?: Entry[] } };
  return object.metadata.managedFields ?? [];
}

function entry(entries: Entry[], manager: string, operation: string, subresource?: string): Entry | undefined {
  return entries.find((item) => item.manager === manager && item.operation === operation && item.subresource === subresource);
}

function deployment(options: { replicas?: number; image?: string; labels?: string } = {}): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {${options.labels ?? 'app: web, tier: front'}}
spec:
${options.replicas === undefined ? '' : `  replicas: ${options.replicas}\n`}  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: ${options.image ?? 'nginx:1.27'}
        ports: [{containerPort: 80}]
`;
}

describe('kubectl apply --server-side on a Deployment', () => {
  it('creates the object with an Apply entry for kubectl (containers by name, ports by containerPort)', async () => {
    assert.match(await ok(['apply', '--server-side', '-f', manifest('web.yaml', deployment({ replicas: 2 }))]), /deployment.apps\/web serverside-applied/);
    const yaml = await ok(['get', 'deployment', 'web', '-o', 'yaml', '--show-managed-fields']);
    assert.match(yaml, /manager: kubectl\n\s+operation: Apply/);
    assert.match(yaml, /f:selector: \{\}/);
    assert.match(yaml, /k:\{"name":"nginx"\}:\n\s+\.: \{\}\n\s+f:image: \{\}\n\s+f:name: \{\}\n\s+f:ports:\n\s+k:\{"containerPort":80,"protocol":"TCP"\}:/);
    const owned = entry(await managedFields('deployment/web'), 'kubectl', 'Apply');
    assert.deepEqual(owned?.fieldsV1['f:metadata'], { 'f:labels': { 'f:app': {}, 'f:tier': {} } });
  });

  it('re-applying changes a field and removes a field no longer applied', async () => {
    await ok(['apply', '--server-side', '-f', manifest('web.yaml', deployment({ replicas: 2, image: 'nginx:1.28', labels: 'app: web' }))]);
    const object = JSON.parse(await ok(['get', 'deployment', 'web', '-o', 'json'])) as { metadata: { labels: Record<string, string> }; spec: { template: { spec: { containers: { image: string }[] } } } };
    assert.deepEqual(object.metadata.labels, { app: 'web' });
    assert.equal(object.spec.template.spec.containers[0].image, 'nginx:1.28');
  });

  it('re-applying the same manifest writes nothing (same resourceVersion)', async () => {
    const before = await ok(['get', 'deployment', 'web', '-o', 'jsonpath={.metadata.resourceVersion}']);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a new managedFields timestamp alone is no change
    await ok(['apply', '--server-side', '-f', join(cluster.dataDir, 'web.yaml')]);
    assert.equal(await ok(['get', 'deployment', 'web', '-o', 'jsonpath={.metadata.resourceVersion}']), before);
  });

  it('another manager changing an owned field gets the conflict kubectl explains', async () => {
    const stderr = await fails(['apply', '--server-side', '--field-manager=other', '-f', manifest('web5.yaml', deployment({ replicas: 5, image: 'nginx:1.28', labels: 'app: web' }))]);
    assert.match(stderr, /Apply failed with 1 conflict: conflict with "kubectl": \.spec\.replicas/);
    assert.match(stderr, /--force-conflicts/);
    const raw = await cluster.request('PATCH', '/apis/apps/v1/namespaces/default/deployments/web?fieldManager=other', {
      body: JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 5 } }),
      headers: { 'Content-Type': 'application/apply-patch+yaml' },
    });
    assert.equal(raw.status, 409);
    const status = JSON.parse(raw.body) as { reason: string; details: { causes: unknown[] } };
    assert.equal(status.reason, 'Conflict');
    assert.deepEqual(status.details.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl"', field: '.spec.replicas' }]);
  });

  it('--force-conflicts takes ownership; applying the same value shares it', async () => {
    await ok(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', manifest('web5.yaml', deployment({ replicas: 5, image: 'nginx:1.28', labels: 'app: web' }))]);
    assert.equal(await ok(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}']), '5');
    let entries = await managedFields('deployment/web');
    assert.ok(JSON.stringify(entry(entries, 'other', 'Apply')?.fieldsV1).includes('f:replicas'));
    assert.ok(!JSON.stringify(entry(entries, 'kubectl', 'Apply')?.fieldsV1).includes('f:replicas'));
    await ok(['apply', '--server-side', '--field-manager=third', '-f', manifest('web-third.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 5}\n')]);
    entries = await managedFields('deployment/web');
    assert.ok(JSON.stringify(entry(entries, 'other', 'Apply')?.fieldsV1).includes('f:replicas'));
    assert.deepEqual(entry(entries, 'third', 'Apply')?.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
  });

  it('dry-run=server answers the result without storing it', async () => {
    const out = await ok(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '--dry-run=server', '-o', 'jsonpath={.spec.replicas}', '-f', manifest('web6.yaml', deployment({ replicas: 5, image: 'nginx:1.29', labels: 'app: web' }))]);
    assert.equal(out, '5');
    assert.equal(await ok(['get', 'deployment', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']), 'nginx:1.28');
  });

  it('kubectl scale records an Update through the scale subresource that apply then conflicts with', async () => {
    await ok(['scale', 'deployment', 'web', '--replicas=3']);
    const scale = entry(await managedFields('deployment/web'), 'kubectl', 'Update', 'scale');
    assert.deepEqual(scale?.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
    const stderr = await fails(['apply', '--server-side', '--field-manager=other', '-f', manifest('web5.yaml', deployment({ replicas: 5, image: 'nginx:1.28', labels: 'app: web' }))]);
    assert.match(stderr, /conflict with "kubectl" with subresource "scale" using apps\/v1: \.spec\.replicas/);
  });

  it('applies status through the status subresource, owned with subresource: status', async () => {
    const file = manifest('web-status.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nstatus:\n  observedGeneration: 1\n  conditions:\n  - {type: Available, status: "True", reason: MinimumReplicasAvailable}\n');
    await ok(['apply', '--server-side', '--subresource=status', '--field-manager=controller', '-f', file]);
    assert.equal(await ok(['get', 'deployment', 'web', '-o', 'jsonpath={.status.conditions[0].reason}']), 'MinimumReplicasAvailable');
    const status = entry(await managedFields('deployment/web'), 'controller', 'Apply', 'status');
    assert.deepEqual(status?.fieldsV1, { 'f:status': { 'f:conditions': { 'k:{"type":"Available"}': { '.': {}, 'f:reason': {}, 'f:status': {}, 'f:type': {} } }, 'f:observedGeneration': {} } });
  });

  it('repeated keys in an apply body fail with fieldValidation=Strict and warn with Warn', async () => {
    const body = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup"},"data":{"a":"1","a":"2"}}';
    const headers = { 'Content-Type': 'application/apply-patch+yaml' };
    const strict = await cluster.request('PATCH', '/api/v1/namespaces/default/configmaps/dup?fieldManager=x&fieldValidation=Strict', { body, headers });
    assert.equal(strict.status, 400);
    assert.match(JSON.parse(strict.body).message, /^error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  line 1: key "a" already set in map$/);
    const warn = await cluster.request('PATCH', '/api/v1/namespaces/default/configmaps/dup?fieldManager=x&fieldValidation=Warn', { body, headers });
    assert.equal(warn.status, 201);
    assert.match(String(warn.headers.warning), /key \\"a\\" already set in map/);
  });

  it('rejects fields the schema does not declare with upstream\'s message', async () => {
    const stderr = await fails(['apply', '--server-side', '--validate=false', '-f', manifest('bad.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad}\ndata: {a: "1"}\nbogus: 1\n')]);
    assert.match(stderr, /failed to create typed patch object \(default\/bad; \/v1, Kind=ConfigMap\): \.bogus: field not declared in schema/);
  });
});

describe('client-side apply and server-side apply together (ConfigMap)', () => {
  const configMap = (color: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, labels: {team: a}}\ndata: {color: ${color}, size: "3"}\n`;

  it('kubectl apply --server-side migrates a client-side applied object to kubectl\'s Apply manager', async () => {
    await ok(['apply', '-f', manifest('cm.yaml', configMap('blue'))]);
    assert.ok(entry(await managedFields('configmap/settings'), 'kubectl-client-side-apply', 'Update'));
    assert.match(await ok(['apply', '--server-side', '-f', manifest('cm.yaml', configMap('red'))]), /configmap\/settings serverside-applied/);
    const entries = await managedFields('configmap/settings');
    assert.equal(entry(entries, 'kubectl-client-side-apply', 'Update'), undefined, JSON.stringify(entries));
    assert.deepEqual(entry(entries, 'kubectl', 'Apply')?.fieldsV1, { 'f:data': { 'f:color': {}, 'f:size': {} }, 'f:metadata': { 'f:labels': { 'f:team': {} } } });
    assert.equal(await ok(['get', 'configmap', 'settings', '-o', 'jsonpath={.data.color}']), 'red');
  });

  it('client-side apply keeps working after server-side apply, and server-side apply after it', async () => {
    assert.match(await ok(['apply', '-f', manifest('cm.yaml', configMap('green'))]), /configmap\/settings configured/);
    assert.equal(await ok(['get', 'configmap', 'settings', '-o', 'jsonpath={.data.color}']), 'green');
    await ok(['apply', '--server-side', '-f', manifest('cm.yaml', configMap('yellow'))]);
    assert.equal(await ok(['get', 'configmap', 'settings', '-o', 'jsonpath={.data.color}']), 'yellow');
  });

  it('an edit (Update) takes a field away from the applier', async () => {
    await ok(['patch', 'configmap', 'settings', '--type=merge', '-p', '{"data":{"size":"4"}}']);
    const entries = await managedFields('configmap/settings');
    assert.deepEqual(entry(entries, 'kubectl-patch', 'Update')?.fieldsV1, { 'f:data': { 'f:size': {} } });
    assert.ok(!JSON.stringify(entry(entries, 'kubectl', 'Apply')?.fieldsV1).includes('f:size'));
  });

  it('a merge patch of [{}] clears managedFields', async () => {
    await ok(['patch', 'configmap', 'settings', '--type=merge', '-p', '{"metadata":{"managedFields":[{}]}}']);
    assert.deepEqual(await managedFields('configmap/settings'), []);
  });
});

const CRD = `apiVersion: apiextensions.k8s.io/v1
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
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
              ports:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string}
                    port: {type: integer}
              tags:
                type: array
                x-kubernetes-list-type: set
                items: {type: string}
`;

describe('server-side apply of a custom resource', () => {
  it('merges list-type map and set items of two managers and conflicts on a shared scalar', async () => {
    await ok(['apply', '--server-side', '-f', manifest('crd.yaml', CRD)]);
    await ok(['wait', '--for=condition=Established', 'crd/widgets.example.com', '--timeout=30s']);
    const first = manifest('w1.yaml', 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3, ports: [{name: http, port: 80}], tags: [a]}\n');
    let applied = await cluster.kubectl(['apply', '--server-side', '-f', first]);
    for (let attempt = 0; applied.code !== 0 && attempt < 20; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      applied = await cluster.kubectl(['apply', '--server-side', '-f', first]);
    }
    assert.equal(applied.code, 0, applied.stderr);
    await ok(['apply', '--server-side', '--field-manager=b', '-f', manifest('w1-b.yaml', 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {ports: [{name: metrics, port: 9090}], tags: [b]}\n')]);
    const spec = JSON.parse(await ok(['get', 'widget', 'w1', '-o', 'jsonpath={.spec}'])) as { ports: unknown[]; tags: string[] };
    assert.deepEqual(spec.ports, [{ name: 'http', port: 80 }, { name: 'metrics', port: 9090 }]);
    assert.deepEqual(spec.tags, ['a', 'b']);
    const b = entry(await managedFields('widget/w1'), 'b', 'Apply');
    assert.deepEqual(b?.fieldsV1, { 'f:spec': { 'f:ports': { 'k:{"name":"metrics"}': { '.': {}, 'f:name': {}, 'f:port': {} } }, 'f:tags': { 'v:"b"': {} } } });
    const stderr = await fails(['apply', '--server-side', '--field-manager=b', '-f', manifest('w1-size.yaml', 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 4}\n')]);
    assert.match(stderr, /Apply failed with 1 conflict: conflict with "kubectl": \.spec\.size/);
  });
});

describe('server-side apply with the other kubectl versions', () => {
  for (const version of ['1.27', '1.33']) {
    it(`kubectl ${version}: apply, conflict with another manager, force`, async () => {
      const name = `cm-${version.replace('.', '')}`;
      const manifestFor = (value: string) => manifest(`${name}-${value}.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {key: ${value}}\n`);
      assert.match(await ok(['apply', '--server-side', '-f', manifestFor('one')], version), new RegExp(`configmap/${name} serverside-applied`));
      const stderr = await fails(['apply', '--server-side', '--field-manager=other', '-f', manifestFor('two')], version);
      assert.match(stderr, /Apply failed with 1 conflict: conflict with "kubectl": \.data\.key/);
      await ok(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', manifestFor('two')], version);
      assert.equal(await ok(['get', 'configmap', name, '-o', 'jsonpath={.data.key}'], version), 'two');
    });
  }
});

describe('server-side apply through the scale subresource', () => {
  const path = '/apis/apps/v1/namespaces/default/deployments/scaled';
  const applyHeaders = { 'Content-Type': 'application/apply-patch+yaml' };
  const scale = (replicas: number) => JSON.stringify({ kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'scaled', namespace: 'default' }, spec: { replicas } });
  const replicaOwners = async () => {
    const object = JSON.parse((await cluster.request('GET', path)).body) as { spec: { replicas: number }; metadata: { managedFields: Entry[] } };
    const owners = object.metadata.managedFields.filter((item) => isOwningReplicas(item)).map((item) => `${item.manager}/${item.operation}${item.subresource ? `/${item.subresource}` : ''}`);
    return { replicas: object.spec.replicas, owners: owners.sort() };
  };
  const isOwningReplicas = (item: Entry) => Object.hasOwn((item.fieldsV1['f:spec'] ?? {}) as object, 'f:replicas');

  it('conflicts with the applier of the object, takes replicas with force, shares them when equal', async () => {
    await ok(['apply', '--server-side', '--field-manager=apply_test', '-f', manifest('scaled.yaml', deployment({ replicas: 1 }).replace('name: web', 'name: scaled'))]);
    const conflicted = await cluster.request('PATCH', `${path}/scale?fieldManager=apply_scale`, { body: scale(17), headers: applyHeaders });
    assert.equal(conflicted.status, 409);
    assert.match(JSON.parse(conflicted.body).message, /conflict with "apply_test": \.spec\.replicas/);
    const forced = await cluster.request('PATCH', `${path}/scale?fieldManager=apply_scale&force=true`, { body: scale(17), headers: applyHeaders });
    assert.equal(forced.status, 200, forced.body);
    assert.equal(JSON.parse(forced.body).kind, 'Scale');
    assert.deepEqual(await replicaOwners(), { replicas: 17, owners: ['apply_scale/Apply/scale'] });
    const replaced = await cluster.request('PUT', `${path}/scale?fieldManager=replace_test`, { body: scale(7), headers: { 'Content-Type': 'application/json' } });
    assert.equal(replaced.status, 200, replaced.body);
    assert.deepEqual(await replicaOwners(), { replicas: 7, owners: ['replace_test/Update/scale'] });
    const shared = await cluster.request('PATCH', `${path}/scale?fieldManager=co_owning_test`, { body: scale(7), headers: applyHeaders });
    assert.equal(shared.status, 200, shared.body);
    assert.deepEqual(await replicaOwners(), { replicas: 7, owners: ['co_owning_test/Apply/scale', 'replace_test/Update/scale'] });
  });
});
