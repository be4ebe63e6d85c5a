// Upstream's e2e and integration cases for custom resources, driven the way those tests drive the server
// (test/e2e/apimachinery custom_resource_definition.go, crd_watch.go, crd_conversion_webhook.go,
// resource_quota.go, garbage_collector.go, apply.go, table_conversion.go; apiextensions-apiserver's
// test/integration basic, subresources, finalization, table, yaml and registration tests): the real kubectl
// where a user would use it, raw requests where upstream's test checks the wire.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { Cluster, eventually, kubectlOk } from './harness.js';
import { startTestWebhook, type TestWebhook } from '../apiextensions/conversion/test-webhook.js';

let cluster: Cluster;
let webhook: TestWebhook;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: string; json: Json }> {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const contentType: Record<string, string> =
    text === undefined ? {} : { 'Content-Type': typeof body === 'string' ? 'application/yaml' : 'application/json', 'Content-Length': String(Buffer.byteLength(text)) };
  const response = await cluster.request(method, path, { body: text, headers: { ...contentType, ...headers } });
  let json: Json = {};
  try {
    json = JSON.parse(response.body) as Json;
  } catch {
    // YAML or empty: the caller parses it
  }
  return { status: response.status, body: response.body, json };
}

/** Creates an object once its resource is routed (the aggregator learns a new group-version within seconds). */
async function createWhenServed(path: string, object: Json): Promise<Json> {
  return eventually(`create at ${path}`, async () => {
    const response = await call('POST', path, object);
    if (response.status === 201) return response.json;
    if (response.status !== 404 && response.status !== 503) throw new Error(`${response.status} ${response.body}`);
    return undefined;
  });
}

async function applyCrd(yaml: string, name: string): Promise<void> {
  await kubectlOk(cluster, ['apply', '-f', '-'], { input: yaml });
  await kubectlOk(cluster, ['wait', '--for=condition=Established', `crd/${name}`, '--timeout=30s']);
}

const preserve = 'schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}';

function crd(options: { plural: string; kind: string; group?: string; scope?: string; version?: string; extra?: string; labels?: string }): string {
  const group = options.group ?? 'mygroup.example.com';
  return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${options.plural}.${group}
  ${options.labels ? `labels: ${options.labels}` : ''}
spec:
  group: ${group}
  scope: ${options.scope ?? 'Namespaced'}
  names: {plural: ${options.plural}, singular: ${options.kind.toLowerCase()}, kind: ${options.kind}, listKind: ${options.kind}List}
  versions:
  - name: ${options.version ?? 'v1beta1'}
    served: true
    storage: true
    ${options.extra ?? preserve}
`;
}

describe('upstream custom resource e2e and integration cases', () => {
  before(async () => {
    cluster = await Cluster.start();
    webhook = await startTestWebhook();
  });

  after(async () => {
    await webhook.close();
    await cluster.stop();
    cluster.cleanup();
  });

  it('lists CRDs by label and deletes them as a collection, leaving the unlabeled one (listing custom resource definition objects works)', async () => {
    for (const index of [1, 2, 3]) await applyCrd(crd({ plural: `lists${index}`, kind: `List${index}`, scope: 'Cluster', labels: '{e2e-list-test-uuid: abc}' }), `lists${index}.mygroup.example.com`);
    await applyCrd(crd({ plural: 'unlabeled', kind: 'Unlabeled', scope: 'Cluster' }), 'unlabeled.mygroup.example.com');
    const listed = (await kubectlOk(cluster, ['get', 'crd', '-l', 'e2e-list-test-uuid=abc', '-o', 'name'])).trim().split('\n').sort();
    assert.deepEqual(listed, [1, 2, 3].map((index) => `customresourcedefinition.apiextensions.k8s.io/lists${index}.mygroup.example.com`));
    await kubectlOk(cluster, ['delete', 'crd', '-l', 'e2e-list-test-uuid=abc']);
    assert.match(await kubectlOk(cluster, ['get', 'crd']), /unlabeled\.mygroup\.example\.com/);
    await eventually('the labeled CRDs are gone', async () => ((await kubectlOk(cluster, ['get', 'crd', '-l', 'e2e-list-test-uuid=abc', '-o', 'name'])).trim() === '' ? true : undefined));
  });

  it('reads, updates and patches a CRD through its status subresource', async () => {
    const path = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/unlabeled.mygroup.example.com/status';
    const status = JSON.parse(await kubectlOk(cluster, ['get', '--raw', path])) as Json;
    status.status.conditions.push({ message: 'updated' });
    const updated = await call('PUT', path, status);
    assert.equal(updated.status, 200, updated.body);
    assert.ok(updated.json.status.conditions.some((condition: Json) => condition.message === 'updated'));
    const patched = JSON.parse(await kubectlOk(cluster, ['patch', 'crd', 'unlabeled.mygroup.example.com', '--subresource=status', '--type=json', '-p', '[{"op": "add", "path": "/status/conditions", "value": [{"message": "patched"}]}]', '-o', 'json'])) as Json;
    assert.deepEqual(patched.status.conditions, [{ message: 'patched' }]);
  });

  it('serves the apiextensions.k8s.io discovery documents', async () => {
    const apis = JSON.parse(await kubectlOk(cluster, ['get', '--raw', '/apis'])) as Json;
    const group = apis.groups.find((candidate: Json) => candidate.name === 'apiextensions.k8s.io');
    assert.ok(group.versions.some((version: Json) => version.version === 'v1'));
    const list = JSON.parse(await kubectlOk(cluster, ['get', '--raw', '/apis/apiextensions.k8s.io/v1'])) as Json;
    assert.equal(list.groupVersion, 'apiextensions.k8s.io/v1');
    assert.ok(list.resources.some((resource: Json) => resource.name === 'customresourcedefinitions'));
  });

  it('defaults on requests and from storage (custom resource defaulting for requests and from storage works)', async () => {
    const schema = 'schema: {openAPIV3Schema: {type: object, properties: {a: {type: string}, b: {type: string}}}}';
    await applyCrd(crd({ plural: 'defaults', kind: 'Defaulted', scope: 'Cluster', extra: schema }), 'defaults.mygroup.example.com');
    const base = '/apis/mygroup.example.com/v1beta1/defaults';
    await createWhenServed(base, { apiVersion: 'mygroup.example.com/v1beta1', kind: 'Defaulted', metadata: { name: 'cr-1' } });
    await kubectlOk(cluster, ['patch', 'crd', 'defaults.mygroup.example.com', '--type=json', '-p', '[{"op":"add","path":"/spec/versions/0/schema/openAPIV3Schema/properties/a/default","value":"A"}]']);
    await eventually('cr-1 is defaulted on read', async () => ((await call('GET', `${base}/cr-1`)).json.a === 'A' ? true : undefined));
    const second = await call('POST', base, { apiVersion: 'mygroup.example.com/v1beta1', kind: 'Defaulted', metadata: { name: 'cr-2' } });
    assert.equal(second.json.a, 'A');
    await kubectlOk(cluster, ['patch', 'crd', 'defaults.mygroup.example.com', '--type=json', '-p', '[{"op":"remove","path":"/spec/versions/0/schema/openAPIV3Schema/properties/a/default"},{"op":"add","path":"/spec/versions/0/schema/openAPIV3Schema/properties/b/default","value":"B"}]']);
    await eventually('cr-2 keeps a and gets b', async () => {
      const got = (await call('GET', `${base}/cr-2`)).json;
      return got.b === 'B' && got.a === 'A' ? true : undefined;
    });
  });

  it('a watch by name sees exactly its object added, modified and deleted (watch on custom resource definition objects)', async () => {
    await applyCrd(crd({ plural: 'watched', kind: 'Watched', scope: 'Cluster' }), 'watched.mygroup.example.com');
    const base = '/apis/mygroup.example.com/v1beta1/watched';
    await eventually('the resource is served', async () => ((await call('GET', base)).status === 200 ? true : undefined));
    const watcher = cluster.spawnKubectl(['get', '--raw', `${base}?watch=1&fieldSelector=metadata.name%3Dname1&timeoutSeconds=600`]);
    let output = '';
    watcher.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const created = await call('POST', base, { apiVersion: 'mygroup.example.com/v1beta1', kind: 'Watched', metadata: { name: 'name1' }, content: { key: 'value' } });
      await call('POST', base, { apiVersion: 'mygroup.example.com/v1beta1', kind: 'Watched', metadata: { name: 'name2' } });
      await kubectlOk(cluster, ['patch', 'watched', 'name1', '--type=json', '-p', '[{ "op": "add", "path": "/dummy", "value": "test" }]']);
      await kubectlOk(cluster, ['delete', 'watched', 'name1', 'name2']);
      const events = await eventually('three events', async () => {
        const lines = output.trim().split('\n').filter(Boolean);
        return lines.length >= 3 ? lines.map((line) => JSON.parse(line) as Json) : undefined;
      });
      assert.deepEqual(events.map((event) => `${event.type}/${event.object.metadata.name}`), ['ADDED/name1', 'MODIFIED/name1', 'DELETED/name1']);
      assert.deepEqual(events[0].object, created.json, 'the ADDED object is the created one');
      assert.equal(events[1].object.dummy, 'test');
    } finally {
      watcher.kill();
    }
  });

  it('keeps a custom resource count in a ResourceQuota and refuses creates over it (capture the life of a custom resource)', async () => {
    await applyCrd(crd({ plural: 'quotaed', kind: 'Quotaed' }), 'quotaed.mygroup.example.com');
    await kubectlOk(cluster, ['create', 'namespace', 'quota-ns']);
    await kubectlOk(cluster, ['create', 'quota', 'test-quota', '-n', 'quota-ns', '--hard=count/quotaed.mygroup.example.com=1,pods=5']);
    const used = () => kubectlOk(cluster, ['get', 'quota', 'test-quota', '-n', 'quota-ns', '-o', 'jsonpath={.status.used.count/quotaed\\.mygroup\\.example\\.com}']);
    await eventually('the quota counts none', async () => ((await used()) === '0' ? true : undefined));
    const base = '/apis/mygroup.example.com/v1beta1/namespaces/quota-ns/quotaed';
    await createWhenServed(base, { apiVersion: 'mygroup.example.com/v1beta1', kind: 'Quotaed', metadata: { name: 'test-cr-1' } });
    await eventually('the quota counts one', async () => ((await used()) === '1' ? true : undefined));
    const refused = await cluster.kubectl(['create', '-f', '-'], { input: 'apiVersion: mygroup.example.com/v1beta1\nkind: Quotaed\nmetadata: {name: test-cr-2, namespace: quota-ns}\n' });
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stderr,
      /Error from server \(Forbidden\).*quotaed\.mygroup\.example\.com "test-cr-2" is forbidden: exceeded quota: test-quota, requested: count\/quotaed\.mygroup\.example\.com=1, used: count\/quotaed\.mygroup\.example\.com=1, limited: count\/quotaed\.mygroup\.example\.com=1/,
    );
    await kubectlOk(cluster, ['delete', 'quotaed', 'test-cr-1', '-n', 'quota-ns']);
    await eventually('the quota is released', async () => ((await used()) === '0' ? true : undefined));
    await kubectlOk(cluster, ['create', '-f', '-'], { input: 'apiVersion: mygroup.example.com/v1beta1\nkind: Quotaed\nmetadata: {name: test-cr-2, namespace: quota-ns}\n' });
  });

  it('refuses custom resources in a missing namespace, and new ones in a terminating namespace (NamespaceLifecycle)', async () => {
    const manifest = (namespace: string, name: string, finalizers = '') => `apiVersion: mygroup.example.com/v1beta1\nkind: Quotaed\nmetadata: {name: ${name}, namespace: ${namespace}${finalizers}}\n`;
    const missing = await cluster.kubectl(['create', '-f', '-'], { input: manifest('no-such-namespace', 'x') });
    assert.match(missing.stderr, /Error from server \(NotFound\).*namespaces "no-such-namespace" not found/);
    await kubectlOk(cluster, ['create', 'namespace', 'ending']);
    await kubectlOk(cluster, ['create', '-f', '-'], { input: manifest('ending', 'held', ', finalizers: [example.com/hold]') });
    await kubectlOk(cluster, ['delete', 'namespace', 'ending', '--wait=false']);
    const refused = await cluster.kubectl(['create', '-f', '-'], { input: manifest('ending', 'late') });
    assert.match(refused.stderr, /Error from server \(Forbidden\).*quotaed\.mygroup\.example\.com "late" is forbidden: unable to create new content in namespace ending because it is being terminated/);
    await kubectlOk(cluster, ['patch', 'quotaed', 'held', '-n', 'ending', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
    await eventually('the namespace is gone', async () => ((await cluster.kubectl(['get', 'namespace', 'ending'])).code !== 0 ? true : undefined), 60_000);
  });

  it('answers in YAML where asked: objects, lists, errors, discovery; a YAML watch is 406 and a YAML patch 415', async () => {
    await applyCrd(crd({ plural: 'yamls', kind: 'Yaml', scope: 'Cluster' }), 'yamls.mygroup.example.com');
    const base = '/apis/mygroup.example.com/v1beta1/yamls';
    const yaml = { Accept: 'application/yaml' };
    await eventually('the resource is served', async () => ((await call('GET', base)).status === 200 ? true : undefined));
    const discovery = await call('GET', '/apis/mygroup.example.com/v1beta1', undefined, yaml);
    assert.deepEqual([discovery.status, parse(discovery.body).kind, parse(discovery.body).groupVersion], [200, 'APIResourceList', 'mygroup.example.com/v1beta1']);
    const missing = await call('GET', `${base}/missingname`, undefined, yaml);
    assert.equal(missing.status, 404);
    assert.deepEqual([parse(missing.body).kind, parse(missing.body).reason], ['Status', 'NotFound']);
    const created = await call('POST', base, 'apiVersion: mygroup.example.com/v1beta1\nkind: Yaml\nmetadata:\n  name: mytest\nvalues:\n  numVal: 1\n  boolVal: true\n  stringVal: "1"\n', yaml);
    assert.equal(created.status, 201, created.body);
    assert.deepEqual(parse(created.body).values, { numVal: 1, boolVal: true, stringVal: '1' });
    const list = await call('GET', base, undefined, yaml);
    assert.deepEqual([parse(list.body).kind, parse(list.body).items.length], ['YamlList', 1]);
    const watch = await call('GET', `${base}?watch=true`, undefined, yaml);
    assert.equal(watch.status, 406);
    assert.deepEqual([parse(watch.body).reason, parse(watch.body).code], ['NotAcceptable', 406]);
    const patch = await call('PATCH', `${base}/mytest`, 'values:\n  numVal: 3', { ...yaml, 'Content-Type': 'application/yaml' });
    assert.equal(patch.status, 415);
    assert.equal(parse(patch.body).reason, 'UnsupportedMediaType');
    const deleted = await call('DELETE', `${base}/mytest`, undefined, yaml);
    assert.deepEqual([parse(deleted.body).kind, parse(deleted.body).status], ['Status', 'Success']);
  });

  it('prints declared columns in a Table: lists as fmt prints them, wrong-typed values as null (TestTableGet)', async () => {
    const columns = `additionalPrinterColumns:
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    - {name: Alpha, type: string, jsonPath: .spec.alpha}
    - {name: Beta, type: integer, description: the beta field, format: int64, priority: 42, jsonPath: .spec.beta}
    - {name: Gamma, type: integer, description: a column with wrongly typed values, jsonPath: .spec.gamma}
    - {name: Epsilon, type: string, description: an array of integers as string, jsonPath: .spec.epsilon}
    ${preserve}`;
    await applyCrd(crd({ plural: 'tables', kind: 'Table', scope: 'Cluster', extra: columns }), 'tables.mygroup.example.com');
    const base = '/apis/mygroup.example.com/v1beta1/tables';
    await createWhenServed(base, { apiVersion: 'mygroup.example.com/v1beta1', kind: 'Table', metadata: { name: 'foo' }, spec: { alpha: 'foo_123', beta: 10, gamma: 'bar', delta: 'hello', epsilon: [1, 2, 3] } });
    const table = (await call('GET', base, undefined, { Accept: 'application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json' })).json;
    assert.deepEqual(table.columnDefinitions.slice(1).map((column: Json) => [column.name, column.type, column.format ?? '', column.priority ?? 0]), [
      ['Age', 'date', '', 0],
      ['Alpha', 'string', '', 0],
      ['Beta', 'integer', 'int64', 42],
      ['Gamma', 'integer', '', 0],
      ['Epsilon', 'string', '', 0],
    ]);
    const cells = table.rows[0].cells as unknown[];
    assert.equal(cells[0], 'foo');
    assert.match(String(cells[1]), /^\d+s$/);
    assert.deepEqual(cells.slice(2), ['foo_123', 10, null, '[1 2 3]']);
    assert.match(await kubectlOk(cluster, ['get', 'tables']), /foo\s+\d+s\s+foo_123\s+\[1 2 3\]/);
  });

  it('status and scale subresources: status ignored on create, spec ignored on status writes, generation only on spec changes, scale validated', async () => {
    const subresources = `subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas, labelSelectorPath: .status.selector}
    ${preserve}`;
    await applyCrd(crd({ plural: 'scalers', kind: 'Scaler', extra: subresources }), 'scalers.mygroup.example.com');
    const base = '/apis/mygroup.example.com/v1beta1/namespaces/default/scalers';
    const created = await createWhenServed(base, { apiVersion: 'mygroup.example.com/v1beta1', kind: 'Scaler', metadata: { name: 's1' }, spec: { num: 10, replicas: 3 }, status: { replicas: 7 } });
    assert.deepEqual([created.metadata.generation, created.status], [1, undefined]);
    const statusWrite = await call('PUT', `${base}/s1/status`, { ...created, spec: { num: 99, replicas: 3 }, status: { replicas: 5, selector: 'app=s1' } });
    assert.deepEqual([statusWrite.json.metadata.generation, statusWrite.json.spec.num, statusWrite.json.status.replicas], [1, 10, 5]);
    const mainWrite = await call('PUT', `${base}/s1`, { ...statusWrite.json, spec: { num: 11, replicas: 3 }, status: { replicas: 55 } });
    assert.deepEqual([mainWrite.json.metadata.generation, mainWrite.json.status.replicas], [2, 5]);
    await kubectlOk(cluster, ['scale', 'scaler', 's1', '--replicas=4']);
    const scale = JSON.parse(await kubectlOk(cluster, ['get', '--raw', `${base}/s1/scale`])) as Json;
    assert.deepEqual([scale.apiVersion, scale.kind, scale.spec.replicas, scale.status.replicas, scale.status.selector], ['autoscaling/v1', 'Scale', 4, 5, 'app=s1']);
    const invalid = await cluster.kubectl(['patch', 'scaler', 's1', '--subresource=scale', '--type=merge', '-p', '{"spec":{"replicas":-1}}']);
    assert.match(invalid.stderr, /The Scale "s1" is invalid: spec\.replicas: Invalid value: -1: must be greater than or equal to 0/);
    const rv = (await call('GET', `${base}/s1`)).json.metadata.resourceVersion;
    for (const subresource of ['status', 'scale']) {
      const noop = await call('PATCH', `${base}/s1/${subresource}`, '{}', { 'Content-Type': 'application/merge-patch+json' });
      assert.equal(noop.json.metadata.resourceVersion, rv, `an empty ${subresource} patch writes nothing`);
      const strategic = await cluster.kubectl(['patch', 'scaler', 's1', `--subresource=${subresource}`, '--type=strategic', '-p', '{"spec":{"replicas":2}}']);
      assert.match(strategic.stderr, /application\/strategic-merge-patch\+json is not supported/, `strategic merge on ${subresource}`);
    }
  });

  it('a finalizer keeps a custom resource, and deleting its CRD waits for it with Terminating (finalization_test)', async () => {
    await applyCrd(crd({ plural: 'finals', kind: 'Final' }), 'finals.mygroup.example.com');
    const base = '/apis/mygroup.example.com/v1beta1/namespaces/default/finals';
    const created = await createWhenServed(base, { apiVersion: 'mygroup.example.com/v1beta1', kind: 'Final', metadata: { name: 'foo123', finalizers: ['noxu.example.com/finalizer'] } });
    const precondition = { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: created.metadata.uid } };
    for (const attempt of [1, 2]) {
      const deleted = await call('DELETE', `${base}/foo123`, precondition);
      assert.equal(deleted.status, 200, `delete ${attempt}: ${deleted.body}`);
    }
    assert.ok((await call('GET', `${base}/foo123`)).json.metadata.deletionTimestamp);
    await kubectlOk(cluster, ['delete', 'crd', 'finals.mygroup.example.com', '--wait=false']);
    const terminating = await eventually('the CRD is Terminating', async () => {
      const conditions = (JSON.parse(await kubectlOk(cluster, ['get', 'crd', 'finals.mygroup.example.com', '-o', 'json'])) as Json).status.conditions as Json[];
      return conditions.find((condition) => condition.type === 'Terminating' && condition.status === 'True');
    });
    assert.deepEqual([terminating.reason, terminating.message], ['InstanceDeletionInProgress', 'CustomResource deletion is in progress']);
    const refused = await call('POST', base, { apiVersion: 'mygroup.example.com/v1beta1', kind: 'Final', metadata: { name: 'late' } });
    assert.deepEqual([refused.status, refused.json.message], [405, 'create not allowed while custom resource definition is terminating']);
    const current = (await call('GET', `${base}/foo123`)).json;
    delete current.metadata.finalizers;
    assert.equal((await call('PUT', `${base}/foo123`, current)).status, 200);
    assert.equal((await call('GET', `${base}/foo123`)).status, 404);
    await eventually('the CRD is gone', async () => ((await cluster.kubectl(['get', 'crd', 'finals.mygroup.example.com'])).code !== 0 ? true : undefined));
  });

  it('serves the same names in two groups apart, and a recreated CRD starts empty (registration_test)', async () => {
    const other = crd({ plural: 'scalers', kind: 'Scaler', group: 'othergroup.example.com' });
    await applyCrd(other, 'scalers.othergroup.example.com');
    await createWhenServed('/apis/othergroup.example.com/v1beta1/namespaces/default/scalers', { apiVersion: 'othergroup.example.com/v1beta1', kind: 'Scaler', metadata: { name: 'other' } });
    const names = async (group: string) => ((await call('GET', `/apis/${group}/v1beta1/namespaces/default/scalers`)).json.items as Json[]).map((item) => item.metadata.name);
    assert.deepEqual(await names('othergroup.example.com'), ['other']);
    assert.deepEqual(await names('mygroup.example.com'), ['s1']);
    await kubectlOk(cluster, ['delete', 'crd', 'scalers.othergroup.example.com']);
    await applyCrd(other, 'scalers.othergroup.example.com');
    await eventually('the recreated resource is served empty', async () => {
      const response = await call('GET', '/apis/othergroup.example.com/v1beta1/namespaces/default/scalers');
      return response.status === 200 ? response.json.items : undefined;
    }).then((items) => assert.deepEqual(items, []));
  });

  it('deletes a collection by label, and refuses an update that changes the uid (basic_test)', async () => {
    const base = '/apis/mygroup.example.com/v1beta1/namespaces/default/scalers';
    for (const name of ['d1', 'd2']) await call('POST', base, { apiVersion: 'mygroup.example.com/v1beta1', kind: 'Scaler', metadata: { name, labels: { collection: 'yes' } } });
    const deleted = await call('DELETE', `${base}?labelSelector=collection%3Dyes`);
    assert.deepEqual([deleted.json.kind, (deleted.json.items as Json[]).map((item) => item.metadata.name)], ['ScalerList', ['d1', 'd2']]);
    assert.deepEqual(((await call('GET', base)).json.items as Json[]).map((item) => item.metadata.name), ['s1']);
    const changed = await call('PATCH', `${base}/s1`, JSON.stringify({ metadata: { uid: 'wrong' } }), { 'Content-Type': 'application/merge-patch+json' });
    assert.deepEqual([changed.status, changed.json.message], [422, 'Scaler.mygroup.example.com "s1" is invalid: metadata.uid: Invalid value: "wrong": field is immutable']);
    const withoutUid = (await call('GET', `${base}/s1`)).json;
    delete withoutUid.metadata.uid;
    assert.equal((await call('PUT', `${base}/s1`, withoutUid)).status, 200, 'an update without a uid keeps the stored one');
  });

  it('refuses a strategic merge patch with 415 and upstream message (basic_test)', async () => {
    const result = await cluster.kubectl(['patch', 'scaler', 's1', '--type=strategic', '-p', '{"spec":{"num":1}}']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /application\/strategic-merge-patch\+json is not supported by mygroup\.example\.com\/v1beta1, Kind=Scaler: the body of the request was in an unknown format - accepted media types include: application\/json-patch\+json, application\/merge-patch\+json, application\/apply-patch\+yaml/);
  });

  it('server-side apply merges list-map items per key and reports one conflict per contested field (apply.go, should work for CRDs)', async () => {
    const schema = `schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-preserve-unknown-fields: true
            properties:
              ports:
                type: array
                x-kubernetes-list-map-keys: [containerPort, protocol]
                x-kubernetes-list-type: map
                items:
                  type: object
                  required: [containerPort, protocol]
                  properties: {containerPort: {type: integer, format: int32}, name: {type: string}, protocol: {type: string}}`;
    await applyCrd(crd({ plural: 'applies', kind: 'Applied', scope: 'Cluster', extra: schema }), 'applies.mygroup.example.com');
    const path = (manager: string, force = false) => `/apis/mygroup.example.com/v1beta1/applies/mytest?fieldManager=${manager}${force ? '&force=true' : ''}`;
    const apply = (manager: string, body: string, force = false) => call('PATCH', path(manager, force), body, { 'Content-Type': 'application/apply-patch+yaml' });
    const first = 'apiVersion: mygroup.example.com/v1beta1\nkind: Applied\nmetadata:\n  name: mytest\n  finalizers: [test-finalizer]\nspec:\n  replicas: 1\n  ports:\n  - {name: x, containerPort: 80, protocol: TCP}\n';
    await eventually('the first apply', async () => ((await apply('apply_test', first)).status === 201 ? true : undefined));
    const merge = (patch: Json) => call('PATCH', '/apis/mygroup.example.com/v1beta1/applies/mytest', JSON.stringify(patch), { 'Content-Type': 'application/merge-patch+json' });
    await merge({ metadata: { finalizers: ['test-finalizer', 'another-one'] } });
    assert.deepEqual((await apply('apply_test', first)).json.metadata.finalizers, ['test-finalizer', 'another-one']);
    await merge({ spec: { replicas: 5 } });
    const conflicted = await apply('apply_test', first);
    assert.deepEqual([conflicted.status, conflicted.json.details.causes.length], [409, 1]);
    assert.equal((await apply('apply_test', first, true)).json.spec.replicas, 1);
    const second = 'apiVersion: mygroup.example.com/v1beta1\nkind: Applied\nmetadata:\n  name: mytest\nspec:\n  ports:\n  - {name: "y", containerPort: 80, protocol: TCP}\n';
    const contested = await apply('apply_test_2', second);
    assert.deepEqual([contested.status, contested.json.details.causes.length], [409, 1]);
    assert.match(contested.json.message, /conflict with "apply_test": \.spec\.ports\[containerPort=80,protocol="TCP"\]\.name/);
    assert.equal((await apply('apply_test_2', second.replace('80', '8080'))).json.spec.ports.length, 2);
    await merge({ metadata: { finalizers: [] } });
  });

  it('converts through a URL webhook: create in one version, read in the other, list objects stored in both (crd_conversion_webhook.go)', async () => {
    const version = (name: string, field: string, storage: boolean) => `  - name: ${name}
    served: true
    storage: ${storage}
    schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {${field}: {type: string}}}}}}`;
    const definition = (storageV1: boolean) => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: crontabs.conv.example.com}
spec:
  group: conv.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab}
  conversion:
    strategy: Webhook
    webhook: {conversionReviewVersions: [v1, v1beta1], clientConfig: {url: "${webhook.url}", caBundle: ${webhook.caBundle}}}
  versions:
${version('v1beta1', 'cronSpec', !storageV1)}
${version('v1', 'schedule', storageV1)}
`;
    await applyCrd(definition(false), 'crontabs.conv.example.com');
    const base = (name: string) => `/apis/conv.example.com/${name}/namespaces/default/crontabs`;
    await createWhenServed(base('v1beta1'), { apiVersion: 'conv.example.com/v1beta1', kind: 'CronTab', metadata: { name: 'stored-beta' }, spec: { cronSpec: '* * * * */5' } });
    assert.deepEqual((await call('GET', `${base('v1')}/stored-beta`)).json.spec, { schedule: '* * * * */5' });
    await kubectlOk(cluster, ['apply', '-f', '-'], { input: definition(true) });
    await eventually('v1 is the storage version', async () => ((await kubectlOk(cluster, ['get', 'crd', 'crontabs.conv.example.com', '-o', 'jsonpath={.status.storedVersions}'])) === '["v1beta1","v1"]' ? true : undefined));
    await call('POST', base('v1'), { apiVersion: 'conv.example.com/v1', kind: 'CronTab', metadata: { name: 'stored-v1' }, spec: { schedule: '*/2 * * * *' } });
    const v1 = (await call('GET', base('v1'))).json.items as Json[];
    assert.deepEqual(v1.map((item) => [item.apiVersion, item.metadata.name, item.spec]), [
      ['conv.example.com/v1', 'stored-beta', { schedule: '* * * * */5' }],
      ['conv.example.com/v1', 'stored-v1', { schedule: '*/2 * * * *' }],
    ]);
    const beta = (await call('GET', base('v1beta1'))).json.items as Json[];
    assert.deepEqual(beta.map((item) => [item.apiVersion, item.spec]), [
      ['conv.example.com/v1beta1', { cronSpec: '* * * * */5' }],
      ['conv.example.com/v1beta1', { cronSpec: '*/2 * * * *' }],
    ]);
  });

  it('garbage-collects dependents of a deleted custom resource, or orphans them (garbage_collector.go)', async () => {
    const base = '/apis/mygroup.example.com/v1beta1/namespaces/default/scalers';
    const owner = async (name: string) => (await call('POST', base, { apiVersion: 'mygroup.example.com/v1beta1', kind: 'Scaler', metadata: { name } })).json;
    const dependent = (name: string, of: Json) => call('POST', base, { apiVersion: 'mygroup.example.com/v1beta1', kind: 'Scaler', metadata: { name, ownerReferences: [{ apiVersion: 'mygroup.example.com/v1beta1', kind: 'Scaler', name: of.metadata.name, uid: of.metadata.uid }] } });
    const cascading = await owner('owner');
    await dependent('dependent', cascading);
    await kubectlOk(cluster, ['delete', 'scaler', 'owner']);
    await eventually('the dependent is collected', async () => ((await call('GET', `${base}/dependent`)).status === 404 ? true : undefined));
    const orphaning = await owner('owner2');
    await dependent('orphan', orphaning);
    await kubectlOk(cluster, ['delete', 'scaler', 'owner2', '--cascade=orphan']);
    await eventually('the owner is gone', async () => ((await call('GET', `${base}/owner2`)).status === 404 ? true : undefined));
    const orphan = await eventually('the orphan loses its owner reference', async () => {
      const got = (await call('GET', `${base}/orphan`)).json;
      return got.metadata && !got.metadata.ownerReferences ? got : undefined;
    });
    assert.equal(orphan.metadata.name, 'orphan');
  });
});
