// The generic REST behaviour of the framework over real HTTP: create, get, update, the status split,
// patches, deletes with preconditions and finalizers, dry runs and field validation, with upstream's
// status codes, reasons and messages.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestServer } from './test-server.js';
import { GADGETS, WIDGETS, request, startTestServer, watch, widget } from './test-server.js';

let t: TestServer;
const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => request(t.port, method, path, { body, headers });

before(async () => {
  t = await startTestServer();
});
after(async () => {
  await t.close();
});

describe('create', () => {
  it('answers 201 with uid, creationTimestamp, resourceVersion, generation and the namespace from the path', async () => {
    const response = await call('POST', WIDGETS, widget('c1', { color: 'red' }));
    assert.equal(response.status, 201);
    assert.equal(response.headers['content-type'], 'application/json');
    const object = response.json;
    assert.equal(object.kind, 'Widget');
    assert.equal(object.apiVersion, 'example.com/v1');
    assert.equal(object.metadata.name, 'c1');
    assert.equal(object.metadata.namespace, 'default');
    assert.match(object.metadata.uid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.match(object.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(object.metadata.resourceVersion, /^\d+$/);
    assert.equal(object.metadata.generation, 1);
    assert.deepEqual(object.spec, { color: 'red' });
    const get = await call('GET', `${WIDGETS}/c1`);
    assert.equal(get.status, 200);
    assert.deepEqual(get.json, object);
  });

  it('records the field manager from the query, else from the User-Agent product', async () => {
    const named = await call('POST', `${WIDGETS}?fieldManager=kubectl-create`, widget('fm1'));
    assert.equal(named.json.metadata.managedFields[0].manager, 'kubectl-create');
    assert.equal(named.json.metadata.managedFields[0].operation, 'Update');
    assert.deepEqual(named.json.metadata.managedFields[0].fieldsV1, { 'f:spec': { '.': {}, 'f:color': {} } });
    const agent = await call('POST', WIDGETS, widget('fm2'), { 'User-Agent': 'kubectl/v1.32.4 (linux/amd64) kubernetes/4cb5f07' });
    assert.equal(agent.json.metadata.managedFields[0].manager, 'kubectl');
  });

  it('generates a name from generateName', async () => {
    const response = await call('POST', WIDGETS, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { generateName: 'gen-' }, spec: {} });
    assert.equal(response.status, 201);
    assert.match(response.json.metadata.name, /^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.equal(response.json.metadata.generateName, 'gen-');
  });

  it('accepts a body without apiVersion and kind and fills them in', async () => {
    const response = await call('POST', WIDGETS, { metadata: { name: 'bare' } });
    assert.equal(response.status, 201);
    assert.equal(response.json.kind, 'Widget');
    assert.equal(response.json.apiVersion, 'example.com/v1');
  });

  it('accepts YAML bodies', async () => {
    const response = await call('POST', WIDGETS, 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: from-yaml\nspec:\n  color: green\n', {
      'Content-Type': 'application/yaml',
    });
    assert.equal(response.status, 201);
    assert.equal(response.json.spec.color, 'green');
  });

  it('drops status on create when the kind has a status subresource', async () => {
    const response = await call('POST', WIDGETS, { ...widget('nostatus'), status: { phase: 'Ready' } });
    assert.equal(response.status, 201);
    assert.equal(response.json.status, undefined);
  });

  it('a resourceVersion in a created object is refused with upstream\'s message, as a 400', async () => {
    const response = await call('POST', WIDGETS, widget('withrv', {}, { resourceVersion: '12' }));
    assert.equal(response.status, 400);
    assert.deepEqual(response.json, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'resourceVersion should not be set on objects to be created',
      reason: 'BadRequest',
      code: 400,
    });
    assert.equal((await call('GET', `${WIDGETS}/withrv`)).status, 404);
    assert.equal((await call('POST', WIDGETS, widget('withrv0', {}, { resourceVersion: '0' }))).status, 201);
  });

  it('409 AlreadyExists for an existing name', async () => {
    await call('POST', WIDGETS, widget('dup'));
    const response = await call('POST', WIDGETS, widget('dup'));
    assert.equal(response.status, 409);
    assert.deepEqual(response.json, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'widgets.example.com "dup" already exists',
      reason: 'AlreadyExists',
      details: { name: 'dup', group: 'example.com', kind: 'widgets' },
      code: 409,
    });
  });

  it('400 when the body namespace differs from the path namespace', async () => {
    const response = await call('POST', WIDGETS, widget('ns', {}, { namespace: 'other' }));
    assert.equal(response.status, 400);
    assert.equal(response.json.reason, 'BadRequest');
    assert.equal(response.json.message, 'the namespace of the provided object does not match the namespace sent on the request');
  });

  it('400 when apiVersion or kind do not match the endpoint', async () => {
    const version = await call('POST', WIDGETS, { ...widget('v'), apiVersion: 'example.com/v2' });
    assert.equal(version.status, 400);
    assert.equal(version.json.reason, 'BadRequest');
    assert.equal(version.json.message, 'the API version in the data (example.com/v2) does not match the expected API version (example.com/v1)');
    const kind = await call('POST', WIDGETS, { ...widget('k'), kind: 'Gizmo' });
    assert.equal(kind.status, 400);
    assert.equal(kind.json.reason, 'BadRequest');
  });

  it('422 Invalid with causes for an invalid name', async () => {
    const response = await call('POST', WIDGETS, widget('Bad_Name'));
    assert.equal(response.status, 422);
    const detail =
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    assert.deepEqual(response.json, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `Widget.example.com "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": ${detail}`,
      reason: 'Invalid',
      details: { name: 'Bad_Name', group: 'example.com', kind: 'Widget', causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: "Bad_Name": ${detail}`, field: 'metadata.name' }] },
      code: 422,
    });
  });

  it('422 when neither name nor generateName is given', async () => {
    const response = await call('POST', WIDGETS, { metadata: {} });
    assert.equal(response.status, 422);
    assert.equal(response.json.message, 'Widget.example.com "" is invalid: metadata.name: Required value: name or generateName is required');
  });

  it('a cluster-scoped kind drops a namespace in the body and is served without one', async () => {
    const response = await call('POST', GADGETS, { apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'g1', namespace: 'default' } });
    assert.equal(response.status, 201);
    assert.equal(response.json.metadata.namespace, undefined);
    assert.equal(response.json.metadata.generation, undefined);
    assert.equal((await call('GET', `${GADGETS}/g1`)).status, 200);
    assert.equal((await call('GET', '/apis/example.com/v1/namespaces/default/gadgets/g1')).status, 404);
  });

  it('the all-namespaces path of a namespaced kind refuses writes with 405', async () => {
    const create = await call('POST', '/apis/example.com/v1/widgets', widget('anywhere', {}, { namespace: 'default' }));
    assert.equal(create.status, 405);
    assert.equal(create.json.message, 'create is not supported on resources of kind "widgets.example.com"');
    assert.equal((await call('GET', `${WIDGETS}/anywhere`)).status, 404);
    const before = (await call('GET', '/apis/example.com/v1/widgets')).json.items.length;
    assert.equal((await call('DELETE', '/apis/example.com/v1/widgets')).status, 405);
    assert.equal((await call('GET', '/apis/example.com/v1/widgets')).json.items.length, before);
  });

  it('POST to an item path is 405 MethodNotAllowed', async () => {
    const response = await call('POST', `${WIDGETS}/c1`, widget('c1'));
    assert.equal(response.status, 405);
    assert.equal(response.json.reason, 'MethodNotAllowed');
  });
});

describe('get', () => {
  it('404 NotFound names the qualified resource', async () => {
    const response = await call('GET', `${WIDGETS}/x`);
    assert.equal(response.status, 404);
    assert.deepEqual(response.json, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'widgets.example.com "x" not found',
      reason: 'NotFound',
      details: { name: 'x', group: 'example.com', kind: 'widgets' },
      code: 404,
    });
  });

  it('404 for an unknown resource path with the generic message', async () => {
    const response = await call('GET', '/apis/example.com/v1/namespaces/default/nothings');
    assert.equal(response.status, 404);
    assert.equal(response.json.message, 'the server could not find the requested resource');
  });

  it('an object in another namespace is not found', async () => {
    await call('POST', WIDGETS, widget('scoped'));
    const response = await call('GET', '/apis/example.com/v1/namespaces/other/widgets/scoped');
    assert.equal(response.status, 404);
  });

  it('answers YAML when asked', async () => {
    const response = await call('GET', `${WIDGETS}/c1`, undefined, { Accept: 'application/yaml' });
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'application/yaml');
    assert.match(response.text, /^kind: Widget\napiVersion: example.com\/v1\nmetadata:\n/);
  });
});

describe('update', () => {
  it('PUT with the current resourceVersion replaces the object and bumps generation on spec changes', async () => {
    const created = (await call('POST', WIDGETS, widget('u1', { color: 'red' }))).json;
    const updated = await call('PUT', `${WIDGETS}/u1`, { ...created, spec: { color: 'blue' } });
    assert.equal(updated.status, 200);
    assert.equal(updated.json.spec.color, 'blue');
    assert.equal(updated.json.metadata.generation, 2);
    assert.equal(updated.json.metadata.uid, created.metadata.uid);
    assert.equal(updated.json.metadata.creationTimestamp, created.metadata.creationTimestamp);
    assert.ok(Number(updated.json.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
    const labelled = await call('PUT', `${WIDGETS}/u1`, { ...updated.json, metadata: { ...updated.json.metadata, labels: { a: 'b' } } });
    assert.equal(labelled.status, 200);
    assert.equal(labelled.json.metadata.generation, 2, 'metadata changes leave generation alone');
  });

  it('PUT with a stale resourceVersion is 409 Conflict with upstream\'s message', async () => {
    const created = (await call('POST', WIDGETS, widget('u2'))).json;
    await call('PUT', `${WIDGETS}/u2`, { ...created, spec: { color: 'blue' } });
    const stale = await call('PUT', `${WIDGETS}/u2`, { ...created, spec: { color: 'green' } });
    assert.equal(stale.status, 409);
    assert.deepEqual(stale.json, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Operation cannot be fulfilled on widgets.example.com "u2": the object has been modified; please apply your changes to the latest version and try again',
      reason: 'Conflict',
      details: { name: 'u2', group: 'example.com', kind: 'widgets' },
      code: 409,
    });
  });

  it('PUT without a resourceVersion is unconditional', async () => {
    await call('POST', WIDGETS, widget('u3'));
    await call('PATCH', `${WIDGETS}/u3`, { spec: { color: 'blue' } }, { 'Content-Type': 'application/merge-patch+json' });
    const response = await call('PUT', `${WIDGETS}/u3`, widget('u3', { color: 'green' }));
    assert.equal(response.status, 200);
    assert.equal(response.json.spec.color, 'green');
  });

  it('PUT of a missing object is 404 when the kind does not create on update', async () => {
    const response = await call('PUT', `${WIDGETS}/missing`, widget('missing'));
    assert.equal(response.status, 404);
    assert.equal(response.json.message, 'widgets.example.com "missing" not found');
  });

  it('PUT with a different name in the body is 400', async () => {
    await call('POST', WIDGETS, widget('u4'));
    const response = await call('PUT', `${WIDGETS}/u4`, widget('other'));
    assert.equal(response.status, 400);
    assert.equal(response.json.message, 'the name of the object (other) does not match the name on the URL (u4)');
  });

  it('an identical PUT writes nothing and keeps the resourceVersion', async () => {
    const created = (await call('POST', WIDGETS, widget('u5'))).json;
    const response = await call('PUT', `${WIDGETS}/u5`, created);
    assert.equal(response.status, 200);
    assert.equal(response.json.metadata.resourceVersion, created.metadata.resourceVersion);
  });

  it('the main resource ignores status and the status subresource changes only status', async () => {
    const created = (await call('POST', WIDGETS, widget('s1', { color: 'red' }))).json;
    const main = await call('PUT', `${WIDGETS}/s1`, { ...created, status: { phase: 'Ready' } });
    assert.equal(main.status, 200);
    assert.equal(main.json.status, undefined);
    assert.equal(main.json.metadata.resourceVersion, created.metadata.resourceVersion, 'a status-only change through the main resource is a no-op');

    const status = await call('PUT', `${WIDGETS}/s1/status`, {
      ...created,
      metadata: { ...created.metadata, labels: { ignored: 'yes' } },
      spec: { color: 'purple' },
      status: { phase: 'Ready' },
    });
    assert.equal(status.status, 200);
    assert.deepEqual(status.json.status, { phase: 'Ready' });
    assert.deepEqual(status.json.spec, { color: 'red' });
    assert.equal(status.json.metadata.labels, undefined);
    assert.equal(status.json.metadata.generation, 1, 'status writes never bump generation');
    const managers = status.json.metadata.managedFields.map((entry: { subresource?: string }) => entry.subresource ?? '');
    assert.ok(managers.includes('status'));

    const got = await call('GET', `${WIDGETS}/s1/status`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.json.status, { phase: 'Ready' });

    const patched = await call('PATCH', `${WIDGETS}/s1/status`, { status: { phase: 'Done' }, spec: { color: 'x' } }, { 'Content-Type': 'application/merge-patch+json' });
    assert.equal(patched.status, 200);
    assert.deepEqual(patched.json.status, { phase: 'Done' });
    assert.deepEqual(patched.json.spec, { color: 'red' });
  });

  it('a stale resourceVersion on the status subresource is a conflict too', async () => {
    const created = (await call('POST', WIDGETS, widget('s2'))).json;
    await call('PUT', `${WIDGETS}/s2/status`, { ...created, status: { phase: 'A' } });
    const response = await call('PUT', `${WIDGETS}/s2/status`, { ...created, status: { phase: 'B' } });
    assert.equal(response.status, 409);
    assert.equal(response.json.reason, 'Conflict');
  });

  it('an unknown subresource is 404', async () => {
    await call('POST', WIDGETS, widget('s3'));
    const response = await call('GET', `${WIDGETS}/s3/scale`);
    assert.equal(response.status, 404);
  });

  it('metadata.creationTimestamp keeps its stored value; a different uid is immutable, an absent one is kept', async () => {
    const created = (await call('POST', WIDGETS, widget('u6'))).json;
    const response = await call('PUT', `${WIDGETS}/u6`, { ...created, metadata: { ...created.metadata, creationTimestamp: '2000-01-01T00:00:00Z' } });
    assert.equal(response.status, 200);
    assert.equal(response.json.metadata.uid, created.metadata.uid);
    assert.equal(response.json.metadata.creationTimestamp, created.metadata.creationTimestamp);
    const { uid: _uid, ...withoutUid } = response.json.metadata;
    const kept = await call('PUT', `${WIDGETS}/u6`, { ...response.json, metadata: withoutUid });
    assert.equal(kept.status, 200);
    assert.equal(kept.json.metadata.uid, created.metadata.uid);
    const changed = await call('PUT', `${WIDGETS}/u6`, { ...kept.json, metadata: { ...kept.json.metadata, uid: 'other' } });
    assert.equal(changed.status, 422);
    assert.match(changed.json.message, /metadata\.uid: Invalid value: "other": field is immutable/);
  });
});

describe('patch', () => {
  const MERGE = { 'Content-Type': 'application/merge-patch+json' };
  const JSON_PATCH = { 'Content-Type': 'application/json-patch+json' };

  it('merge patch changes the listed fields only', async () => {
    await call('POST', WIDGETS, widget('p1', { color: 'red', size: 1 }));
    const response = await call('PATCH', `${WIDGETS}/p1`, { spec: { color: 'blue' }, metadata: { labels: { tier: 'a' } } }, MERGE);
    assert.equal(response.status, 200);
    assert.deepEqual(response.json.spec, { color: 'blue', size: 1 });
    assert.deepEqual(response.json.metadata.labels, { tier: 'a' });
    assert.equal(response.json.metadata.generation, 2);
  });

  it('a patch without a resourceVersion is applied again when another write lands in between; a pinned one is 409', async () => {
    await call('POST', WIDGETS, widget('race', { color: 'red', size: 1 }));
    const storage = t.storage;
    const update = storage.update.bind(storage);
    let concurrent = 0;
    // Another writer (a controller updating status, say) commits between the patch's read and its write.
    storage.update = async (key, value, expected) => {
      if (concurrent < 1 && key.endsWith('/race')) {
        concurrent++;
        const current = await storage.get(key);
        await update(key, current!.value, current!.modRevision);
      }
      return update(key, value, expected);
    };
    try {
      const patched = await call('PATCH', `${WIDGETS}/race`, { spec: { size: 2 } }, MERGE);
      assert.equal(patched.status, 200, patched.text);
      assert.deepEqual(patched.json.spec, { color: 'red', size: 2 });
      concurrent = 0;
      const pinned = await call('PATCH', `${WIDGETS}/race`, { spec: { size: 3 }, metadata: { resourceVersion: patched.json.metadata.resourceVersion } }, MERGE);
      assert.equal(pinned.status, 409);
    } finally {
      storage.update = update;
    }
  });

  it('merge patch with a stale metadata.resourceVersion is 409', async () => {
    const created = (await call('POST', WIDGETS, widget('p2'))).json;
    await call('PATCH', `${WIDGETS}/p2`, { spec: { color: 'blue' } }, MERGE);
    const response = await call('PATCH', `${WIDGETS}/p2`, { metadata: { resourceVersion: created.metadata.resourceVersion }, spec: { color: 'x' } }, MERGE);
    assert.equal(response.status, 409);
    assert.equal(response.json.reason, 'Conflict');
  });

  it('json patch applies operations and a failed test is 422 as upstream words it', async () => {
    await call('POST', WIDGETS, widget('p3', { color: 'red' }));
    const ok = await call('PATCH', `${WIDGETS}/p3`, [{ op: 'test', path: '/spec/color', value: 'red' }, { op: 'replace', path: '/spec/color', value: 'blue' }], JSON_PATCH);
    assert.equal(ok.status, 200);
    assert.equal(ok.json.spec.color, 'blue');
    const failed = await call('PATCH', `${WIDGETS}/p3`, [{ op: 'test', path: '/spec/color', value: 'red' }], JSON_PATCH);
    assert.equal(failed.status, 422);
    assert.deepEqual(failed.json, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'the server rejected our request due to an error in our request',
      reason: 'Invalid',
      details: { causes: [{ reason: 'UnexpectedServerResponse', message: 'testing value /spec/color failed: test failed' }] },
      code: 422,
    });
    const missing = await call('PATCH', `${WIDGETS}/p3`, [{ op: 'replace', path: '/spec/nothing/deeper', value: 1 }], JSON_PATCH);
    assert.equal(missing.status, 422);
    assert.equal(missing.json.details.causes[0].message, 'replace operation does not apply: doc is missing path: /spec/nothing/deeper: missing value');
  });

  it('json patch can rewrite metadata.managedFields with a resourceVersion precondition', async () => {
    const created = (await call('POST', WIDGETS, widget('p4'))).json;
    const response = await call(
      'PATCH',
      `${WIDGETS}/p4`,
      [
        { op: 'test', path: '/metadata/resourceVersion', value: created.metadata.resourceVersion },
        { op: 'replace', path: '/metadata/managedFields', value: [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'example.com/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } }] },
      ],
      JSON_PATCH,
    );
    assert.equal(response.status, 200);
    assert.equal(response.json.metadata.managedFields[0].manager, 'kubectl');
  });

  it('strategic merge patch is 415 for kinds without patch metadata', async () => {
    await call('POST', WIDGETS, widget('p5'));
    const response = await call('PATCH', `${WIDGETS}/p5`, { spec: { color: 'blue' } }, { 'Content-Type': 'application/strategic-merge-patch+json' });
    assert.equal(response.status, 415);
    assert.deepEqual(response.json, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
      reason: 'UnsupportedMediaType',
      code: 415,
    });
  });

  it('patch of a missing object is 404', async () => {
    const response = await call('PATCH', `${WIDGETS}/nope`, { spec: {} }, MERGE);
    assert.equal(response.status, 404);
    assert.equal(response.json.message, 'widgets.example.com "nope" not found');
  });

  it('force is forbidden on a non-apply patch', async () => {
    await call('POST', WIDGETS, widget('p8'));
    const response = await call('PATCH', `${WIDGETS}/p8?force=true`, { spec: {} }, MERGE);
    assert.equal(response.status, 422);
    assert.equal(response.json.message, 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch');
  });

  it('apply requires a fieldManager', async () => {
    const response = await call('PATCH', `${WIDGETS}/a1`, widget('a1'), { 'Content-Type': 'application/apply-patch+yaml' });
    assert.equal(response.status, 422);
    assert.equal(response.json.message, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    assert.deepEqual(response.json.details, {
      group: 'meta.k8s.io',
      kind: 'PatchOptions',
      causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }],
    });
  });

  it('apply creates a missing object (201) and then updates it (200)', async () => {
    const path = `${WIDGETS}/a2?fieldManager=kubectl&force=false`;
    const created = await call('PATCH', path, 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: a2\nspec:\n  color: red\n', { 'Content-Type': 'application/apply-patch+yaml' });
    assert.equal(created.status, 201);
    assert.equal(created.json.spec.color, 'red');
    assert.equal(created.json.metadata.namespace, 'default');
    const updated = await call('PATCH', path, widget('a2', { color: 'blue' }), { 'Content-Type': 'application/apply-patch+yaml' });
    assert.equal(updated.status, 200);
    assert.equal(updated.json.spec.color, 'blue');
    assert.equal(updated.json.metadata.uid, created.json.metadata.uid);
  });

  it('an unknown patch content type is 415', async () => {
    await call('POST', WIDGETS, widget('p6'));
    const response = await call('PATCH', `${WIDGETS}/p6`, { spec: {} }, { 'Content-Type': 'text/plain' });
    assert.equal(response.status, 415);
    assert.equal(response.json.reason, 'UnsupportedMediaType');
  });

  it('a malformed patch body is 400', async () => {
    await call('POST', WIDGETS, widget('p7'));
    const response = await call('PATCH', `${WIDGETS}/p7`, '{"spec":', MERGE);
    assert.equal(response.status, 400);
    assert.equal(response.json.reason, 'BadRequest');
  });
});

describe('delete', () => {
  it('deletes and answers 200 with a Success Status naming the resource; the object is gone afterwards', async () => {
    const created = (await call('POST', WIDGETS, widget('d1'))).json;
    const response = await call('DELETE', `${WIDGETS}/d1`, { propagationPolicy: 'Background' });
    assert.equal(response.status, 200);
    assert.deepEqual(response.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: 'd1', group: 'example.com', kind: 'widgets', uid: created.metadata.uid } });
    assert.equal((await call('GET', `${WIDGETS}/d1`)).status, 404);
    const again = await call('DELETE', `${WIDGETS}/d1`);
    assert.equal(again.status, 404);
    assert.equal(again.json.message, 'widgets.example.com "d1" not found');
  });

  it('uid and resourceVersion preconditions that do not match are 409 Conflict naming the kind (rest.BeforeDelete)', async () => {
    const created = (await call('POST', WIDGETS, widget('d2'))).json;
    const uid = await call('DELETE', `${WIDGETS}/d2`, { preconditions: { uid: 'wrong' } });
    assert.equal(uid.status, 409);
    assert.equal(uid.json.reason, 'Conflict');
    assert.equal(uid.json.message, `Operation cannot be fulfilled on Widget.example.com "d2": the UID in the precondition (wrong) does not match the UID in record (${created.metadata.uid}). The object might have been deleted and then recreated`);
    assert.deepEqual(uid.json.details, { name: 'd2', group: 'example.com', kind: 'Widget' });
    const rv = await call('DELETE', `${WIDGETS}/d2`, { preconditions: { resourceVersion: '1' } });
    assert.equal(rv.status, 409);
    assert.equal(
      rv.json.message,
      `Operation cannot be fulfilled on Widget.example.com "d2": the ResourceVersion in the precondition (1) does not match the ResourceVersion in record (${created.metadata.resourceVersion}). The object might have been modified`,
    );
    const matching = await call('DELETE', `${WIDGETS}/d2`, { preconditions: { uid: created.metadata.uid, resourceVersion: created.metadata.resourceVersion } });
    assert.equal(matching.status, 200);
  });

  it('finalizers keep the object with a deletionTimestamp until an update removes the last one', async () => {
    await call('POST', WIDGETS, widget('d3', { color: 'red' }, { finalizers: ['example.com/a', 'example.com/b'] }));
    const stream = await watch(t.port, `${WIDGETS}?watch=true&fieldSelector=metadata.name%3Dd3`);
    assert.equal((await stream.next()).type, 'ADDED');
    const deleting = await call('DELETE', `${WIDGETS}/d3`);
    assert.equal(deleting.status, 200);
    assert.equal(deleting.json.kind, 'Widget');
    assert.ok(deleting.json.metadata.deletionTimestamp);
    assert.equal(deleting.json.metadata.deletionGracePeriodSeconds, 0);
    assert.equal(deleting.json.metadata.generation, 2, 'marking for deletion bumps generation');
    assert.equal((await stream.next()).type, 'MODIFIED');

    const again = await call('DELETE', `${WIDGETS}/d3`);
    assert.equal(again.status, 200, 'deleting an object already being deleted answers it again');
    assert.equal(again.json.metadata.deletionTimestamp, deleting.json.metadata.deletionTimestamp);
    assert.equal(again.json.metadata.generation, 2);

    const one = await call('PATCH', `${WIDGETS}/d3`, [{ op: 'remove', path: '/metadata/finalizers/0' }], { 'Content-Type': 'application/json-patch+json' });
    assert.equal(one.status, 200);
    assert.deepEqual(one.json.metadata.finalizers, ['example.com/b']);
    assert.equal((await call('GET', `${WIDGETS}/d3`)).status, 200);
    assert.equal((await stream.next()).type, 'MODIFIED');

    const last = await call('PUT', `${WIDGETS}/d3`, { ...one.json, metadata: { ...one.json.metadata, finalizers: [] } });
    assert.equal(last.status, 200);
    assert.equal((await call('GET', `${WIDGETS}/d3`)).status, 404);
    const deleted = await stream.next();
    assert.equal(deleted.type, 'DELETED');
    assert.equal(deleted.object.metadata.name, 'd3');
    assert.ok(Number(deleted.object.metadata.resourceVersion) > Number(one.json.metadata.resourceVersion));
    stream.close();
  });

  it('an invalid propagationPolicy is rejected', async () => {
    await call('POST', WIDGETS, widget('d4'));
    const response = await call('DELETE', `${WIDGETS}/d4`, { propagationPolicy: 'Sometimes' });
    assert.equal(response.status, 422);
    assert.equal(response.json.reason, 'Invalid');
    assert.equal(response.json.message, 'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Sometimes": supported values: "Foreground", "Background", "Orphan", "nil"');
    assert.equal((await call('GET', `${WIDGETS}/d4`)).status, 200);
  });

  it('deletecollection deletes what the selectors match and nothing else', async () => {
    const ns = '/apis/example.com/v1/namespaces/dc/widgets';
    for (const [name, color, tier] of [['x1', 'red', 'a'], ['x2', 'red', 'b'], ['x3', 'blue', 'a']]) {
      await call('POST', ns, widget(name, { color }, { labels: { tier } }));
    }
    const response = await call('DELETE', `${ns}?labelSelector=tier%3Da&fieldSelector=spec.color%3Dred`);
    assert.equal(response.status, 200);
    assert.equal(response.json.kind, 'WidgetList');
    assert.deepEqual(response.json.items.map((item: { metadata: { name: string } }) => item.metadata.name), ['x1']);
    assert.match(response.json.metadata.resourceVersion, /^\d+$/);
    assert.equal(response.json.items[0].metadata.deletionTimestamp, undefined, 'the items as listed, before deletion');
    const left = await call('GET', ns);
    assert.deepEqual(left.json.items.map((item: { metadata: { name: string } }) => item.metadata.name), ['x2', 'x3']);
  });

  it('deletecollection with a limit deletes one page and returns it with its continue token', async () => {
    const ns = '/apis/example.com/v1/namespaces/dcl/widgets';
    for (const name of ['y1', 'y2', 'y3']) await call('POST', ns, widget(name));
    const response = await call('DELETE', `${ns}?limit=2`);
    assert.equal(response.status, 200);
    assert.deepEqual(response.json.items.map((item: { metadata: { name: string } }) => item.metadata.name), ['y1', 'y2']);
    assert.ok(response.json.metadata.continue);
    const left = await call('GET', ns);
    assert.deepEqual(left.json.items.map((item: { metadata: { name: string } }) => item.metadata.name), ['y3']);
  });

  it('deletecollection with dryRun=All deletes nothing', async () => {
    const ns = '/apis/example.com/v1/namespaces/dcd/widgets';
    await call('POST', ns, widget('z1'));
    assert.equal((await call('DELETE', `${ns}?dryRun=All`)).status, 200);
    assert.equal((await call('GET', `${ns}/z1`)).status, 200);
  });
});

describe('dryRun=All', () => {
  it('create returns the object and persists nothing', async () => {
    const before = (await call('GET', WIDGETS)).json.metadata.resourceVersion;
    const response = await call('POST', `${WIDGETS}?dryRun=All`, widget('dry1'));
    assert.equal(response.status, 201);
    assert.equal(response.json.metadata.name, 'dry1');
    assert.ok(response.json.metadata.uid);
    assert.equal(response.json.metadata.resourceVersion, undefined);
    assert.equal((await call('GET', `${WIDGETS}/dry1`)).status, 404);
    assert.equal((await call('GET', WIDGETS)).json.metadata.resourceVersion, before);
  });

  it('create of an existing name is 409 AlreadyExists even in a dry run', async () => {
    await call('POST', WIDGETS, widget('dryexists'));
    const response = await call('POST', `${WIDGETS}?dryRun=All`, widget('dryexists'));
    assert.equal(response.status, 409);
    assert.equal(response.json.reason, 'AlreadyExists');
  });

  it('update returns the new object and persists nothing', async () => {
    const created = (await call('POST', WIDGETS, widget('dry2', { color: 'red' }))).json;
    const response = await call('PUT', `${WIDGETS}/dry2?dryRun=All`, { ...created, spec: { color: 'blue' } });
    assert.equal(response.status, 200);
    assert.equal(response.json.spec.color, 'blue');
    const stored = (await call('GET', `${WIDGETS}/dry2`)).json;
    assert.equal(stored.spec.color, 'red');
    assert.equal(stored.metadata.resourceVersion, created.metadata.resourceVersion);
    const patched = await call('PATCH', `${WIDGETS}/dry2?dryRun=All`, { spec: { color: 'green' } }, { 'Content-Type': 'application/merge-patch+json' });
    assert.equal(patched.status, 200);
    assert.equal(patched.json.spec.color, 'green');
    assert.equal((await call('GET', `${WIDGETS}/dry2`)).json.spec.color, 'red');
  });

  it('delete answers and persists nothing, by query or by body', async () => {
    await call('POST', WIDGETS, widget('dry3'));
    assert.equal((await call('DELETE', `${WIDGETS}/dry3?dryRun=All`)).status, 200);
    assert.equal((await call('DELETE', `${WIDGETS}/dry3`, { dryRun: ['All'] })).status, 200);
    assert.equal((await call('GET', `${WIDGETS}/dry3`)).status, 200);
  });

  it('an unsupported dryRun value is rejected', async () => {
    const response = await call('POST', `${WIDGETS}?dryRun=Some`, widget('dry4'));
    assert.equal(response.status, 422);
    assert.equal(response.json.reason, 'Invalid');
    assert.equal(response.json.message, 'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"Some"}: supported values: "All"');
    assert.equal((await call('GET', `${WIDGETS}/dry4`)).status, 404);
  });
});

describe('fieldValidation', () => {
  const bogus = () => ({ ...widget('fv', { color: 'red', bogus: true }) });

  it('Strict rejects unknown fields on create with 400 and upstream\'s message', async () => {
    const response = await call('POST', `${WIDGETS}?fieldValidation=Strict`, bogus());
    assert.equal(response.status, 400);
    assert.equal(response.json.reason, 'BadRequest');
    assert.equal(response.json.message, 'Widget in version "v1" cannot be handled as a Widget: strict decoding error: unknown field "spec.bogus"');
    assert.equal((await call('GET', `${WIDGETS}/fv`)).status, 404);
  });

  it('Strict joins several unknown fields with ", "', async () => {
    const response = await call('POST', `${WIDGETS}?fieldValidation=Strict`, { ...widget('fv2', { color: 'red', bogus: 1 }), extra: 2 });
    assert.equal(response.status, 400);
    assert.equal(response.json.message, 'Widget in version "v1" cannot be handled as a Widget: strict decoding error: unknown field "extra", unknown field "spec.bogus"');
  });

  it('Warn (the default) succeeds with a Warning header and prunes the field', async () => {
    for (const query of ['?fieldValidation=Warn', '']) {
      const name = `fvw${query ? '1' : '2'}`;
      const response = await call('POST', `${WIDGETS}${query}`, { ...bogus(), metadata: { name } });
      assert.equal(response.status, 201);
      assert.equal(response.headers.warning, '299 - "unknown field \\"spec.bogus\\""');
      assert.deepEqual(response.json.spec, { color: 'red' });
    }
  });

  it('warnings raised before a failure are still sent with the error', async () => {
    const response = await call('POST', WIDGETS, { ...bogus(), metadata: { name: 'Bad_Name' } });
    assert.equal(response.status, 422);
    assert.equal(response.headers.warning, '299 - "unknown field \\"spec.bogus\\""');
  });

  it('Ignore succeeds silently and prunes the field', async () => {
    const response = await call('POST', `${WIDGETS}?fieldValidation=Ignore`, { ...bogus(), metadata: { name: 'fvi' } });
    assert.equal(response.status, 201);
    assert.equal(response.headers.warning, undefined);
    assert.deepEqual(response.json.spec, { color: 'red' });
  });

  it('Strict on PUT is a 400 as on create', async () => {
    const created = (await call('POST', WIDGETS, widget('fvu'))).json;
    const response = await call('PUT', `${WIDGETS}/fvu?fieldValidation=Strict`, { ...created, spec: { color: 'red', bogus: 1 } });
    assert.equal(response.status, 400);
    assert.equal(response.json.message, 'Widget in version "v1" cannot be handled as a Widget: strict decoding error: unknown field "spec.bogus"');
  });

  it('Strict on PATCH is 422 Invalid with one cause on field "patch"', async () => {
    await call('POST', WIDGETS, widget('fvp'));
    const response = await call('PATCH', `${WIDGETS}/fvp?fieldValidation=Strict`, { spec: { bogus: 1 } }, { 'Content-Type': 'application/merge-patch+json' });
    assert.equal(response.status, 422);
    assert.equal(response.json.reason, 'Invalid');
    assert.equal(response.json.details.causes.length, 1);
    assert.equal(response.json.details.causes[0].field, 'patch');
    assert.equal(response.json.details.kind, undefined, 'no kind or name: kubectl prints "The request is invalid"');
    assert.match(response.json.details.causes[0].message, /^Invalid value: "\{.*\\"bogus\\":1.*\}": strict decoding error: unknown field "spec.bogus"$/);
    assert.match(response.json.message, /^ "" is invalid: patch: Invalid value: ".*": strict decoding error: unknown field "spec.bogus"$/);
    assert.equal(response.json.details.causes[0].reason, 'FieldValueInvalid');
  });

  it('an unknown fieldValidation value is 422 on the CreateOptions', async () => {
    const response = await call('POST', `${WIDGETS}?fieldValidation=Loose`, widget('fvx'));
    assert.equal(response.status, 422);
    assert.equal(response.json.message, 'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Loose": supported values: "", "Ignore", "Strict", "Warn"');
    assert.deepEqual(response.json.details, {
      group: 'meta.k8s.io',
      kind: 'CreateOptions',
      causes: [{ reason: 'FieldValueNotSupported', message: 'Unsupported value: "Loose": supported values: "", "Ignore", "Strict", "Warn"', field: 'fieldValidation' }],
    });
  });

  it('a fieldManager over 128 bytes is 422 on the UpdateOptions', async () => {
    const created = (await call('POST', WIDGETS, widget('fvm'))).json;
    const response = await call('PUT', `${WIDGETS}/fvm?fieldManager=${'m'.repeat(129)}`, created);
    assert.equal(response.status, 422);
    assert.equal(response.json.message, 'UpdateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes');
  });

  it('a type error is 422 Invalid whatever the validation directive', async () => {
    const response = await call('POST', `${WIDGETS}?fieldValidation=Ignore`, widget('fvt', { size: 'big' }));
    assert.equal(response.status, 422);
    assert.equal(response.json.details.causes[0].field, 'spec.size');
  });
});
