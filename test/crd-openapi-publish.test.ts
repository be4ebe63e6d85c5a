// Upstream's CustomResourcePublishOpenAPI and FieldValidation e2e cases (test/e2e/apimachinery/
// crd_publish_openapi.go, field_validation.go) replayed with the real kubectl: CRDs are created with
// kubectl, their definitions awaited in /openapi/v2 exactly as upstream's waitForDefinition does (by
// name, compared with the schema after dropping apiVersion, kind, metadata and the GVK extension, with
// the v2 document's ETag sent back), explained by old and new kubectl, and their custom resources created
// and applied; then the per-group-version /openapi/v3 documents and strict field validation.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { Cluster, eventually, kubectlOk } from './harness.js';

let cluster: Cluster;
const NS = 'crd-publish-openapi';

type Json = Record<string, unknown>;

const SCHEMA_FOO = `description: Foo CRD for Testing
type: object
properties:
  spec:
    type: object
    description: Specification of Foo
    properties:
      bars:
        description: List of Bars and their specs.
        type: array
        items:
          type: object
          required:
          - name
          properties:
            name:
              description: Name of Bar.
              type: string
            age:
              description: Age of Bar.
              type: string
            feeling:
              description: Whether Bar is feeling great.
              type: string
              enum:
              - Great
              - Down
            bazs:
              description: List of Bazs.
              items:
                type: string
              type: array
  status:
    description: Status of Foo
    type: object
    properties:
      bars:
        description: List of Bars and their statuses.
        type: array
        items:
          type: object
          properties:
            name:
              description: Name of Bar.
              type: string
            available:
              description: Whether the Bar is installed.
              type: boolean
            quxType:
              description: Indicates to external qux type.
              pattern: in-tree|out-of-tree
              type: string`;

const SCHEMA_WALDO = `description: Waldo CRD for Testing
type: object
properties:
  spec:
    description: Specification of Waldo
    type: object
    properties:
      dummy:
        description: Dummy property.
        type: object
  status:
    description: Status of Waldo
    type: object
    properties:
      bars:
        description: List of Bars and their statuses.
        type: array
        items:
          type: object`;

const preserving = (description: string, where: 'root' | 'spec') => {
  const schema = parseYaml(SCHEMA_WALDO) as Json;
  schema.description = description;
  if (where === 'root') schema['x-kubernetes-preserve-unknown-fields'] = true;
  else ((schema.properties as Json).spec as Json)['x-kubernetes-preserve-unknown-fields'] = true;
  return schema;
};

interface TestCrd {
  name: string;
  group: string;
  kind: string;
  plural: string;
  versions: string[];
}

let counter = 0;

/** upstream's setupCRD: group <basename>-test-<suffix>.example.com, one storage version first, all served. */
/** `expect` null: only the definition's existence is awaited (upstream's setupCRDAndVerifySchema with nil). */
async function setupCrd(suffix: string, schema: Json | undefined, versions: string[], expect?: Json | null): Promise<TestCrd> {
  counter += 1;
  const group = `crd-publish-openapi-test-${suffix}.example.com`;
  const singular = `e2e-test-crd-publish-openapi-${1000 + counter}-crd`;
  const kind = singular[0].toUpperCase() + singular.slice(1);
  const plural = `${singular}s`;
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural, singular, kind, listKind: `${kind}List` },
      versions: versions.map((name, index) => ({
        name,
        served: true,
        storage: index === 0,
        schema: { openAPIV3Schema: schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      })),
    },
  };
  await kubectlOk(cluster, ['create', '-f', '-'], { input: JSON.stringify(crd) });
  const test = { name: `${plural}.${group}`, group, kind, plural, versions };
  // With no schema upstream expects the published definition to be just an object.
  const expected = expect === null ? undefined : (expect ?? schema ?? { type: 'object' });
  for (const version of versions) await waitForDefinition(definitionName(test, version), expected);
  return test;
}

/** openapiutil.ToRESTFriendlyName("<group>/<version>/<kind>"): the group's labels reversed. */
function definitionName(crd: TestCrd, version: string): string {
  return `${crd.group.split('.').reverse().join('.')}.${version}.${crd.kind}`;
}

let v2Etag = '';
let v2Document: Json | undefined;

/** GET /openapi/v2 as upstream's waitForOpenAPISchema does: JSON, If-None-Match with the last ETag. */
async function openApiV2(): Promise<Json> {
  const headers: Record<string, string> = {};
  if (v2Etag) headers['If-None-Match'] = `"${v2Etag}"`;
  const response = await cluster.request('GET', '/openapi/v2', { headers });
  if (response.status === 304 && v2Document) return v2Document;
  assert.equal(response.status, 200, response.body.slice(0, 500));
  v2Etag = String(response.headers.etag ?? '').replace(/^"|"$/g, '');
  v2Document = JSON.parse(response.body) as Json;
  return v2Document;
}

/** Go's semantic equality as the check uses it: an empty map or list equals a missing one. */
function normalized(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalized);
  if (value === null || typeof value !== 'object') return value;
  const out: Json = {};
  for (const key of Object.keys(value).sort()) {
    const child = normalized((value as Json)[key]);
    if (child === undefined || (Array.isArray(child) && child.length === 0) || (typeof child === 'object' && child !== null && !Array.isArray(child) && Object.keys(child).length === 0)) continue;
    out[key] = child;
  }
  return out;
}

function definitionMatches(definition: Json | undefined, expected: Json | undefined): boolean {
  if (!definition) return false;
  if (!expected) return true;
  const copy = structuredClone(definition);
  const properties = copy.properties as Json | undefined;
  if (properties) for (const key of ['metadata', 'apiVersion', 'kind']) delete properties[key];
  delete copy['x-kubernetes-group-version-kind'];
  return JSON.stringify(normalized(copy)) === JSON.stringify(normalized(expected));
}

/** upstream's waitForDefinition, including its ten successes in a row. */
async function waitForDefinition(name: string, expected: Json | undefined): Promise<void> {
  let last: Json | undefined;
  await eventually(`definition ${name} published`, async () => {
    for (let i = 0; i < 10; i++) {
      last = ((await openApiV2()).definitions as Record<string, Json>)[name];
      if (!definitionMatches(last, expected)) return undefined;
    }
    return true;
  }, 60_000).catch((error: Error) => {
    throw new Error(`${error.message}\nlast: ${JSON.stringify(last)}\nexpected: ${JSON.stringify(expected)}`);
  });
}

async function waitForDefinitionCleanup(name: string): Promise<void> {
  await eventually(`definition ${name} removed`, async () => {
    for (let i = 0; i < 10; i++) if (((await openApiV2()).definitions as Json)[name]) return undefined;
    return true;
  }, 60_000);
}

async function cleanupCrd(crd: TestCrd): Promise<void> {
  await kubectlOk(cluster, ['delete', 'crd', crd.name]);
  for (const version of crd.versions) await waitForDefinitionCleanup(definitionName(crd, version));
}

function metaOf(crd: TestCrd, name: string, version = crd.versions[0]): string {
  return `"kind":"${crd.kind}","apiVersion":"${crd.group}/${version}","metadata":{"name":"${name}"}`;
}

/** kubectl create and apply of the same CR, each followed by a delete, as upstream does. */
async function createAndApply(crd: TestCrd, body: string, version = ''): Promise<void> {
  for (const verb of ['create', 'apply']) {
    await kubectlOk(cluster, [`--namespace=${NS}`, verb, '-f', '-'], { input: body, version });
    await kubectlOk(cluster, [`--namespace=${NS}`, 'delete', crd.plural, JSON.parse(body).metadata.name], { version });
  }
}

async function explainMatches(what: string, pattern: RegExp, version = ''): Promise<void> {
  // Discovery of a new group reaches kubectl's cache a moment after the definition is published.
  await eventually(`kubectl ${version} explain ${what}`, async () => {
    const result = await cluster.kubectl(['explain', what], { version });
    return result.code === 0 && pattern.test(result.stdout) ? true : undefined;
  }, 30_000);
}

const KUBECTLS = ['1.27', '1.33', ''];

before(async () => {
  cluster = await Cluster.start();
  await kubectlOk(cluster, ['create', 'namespace', NS]);
});

after(async () => {
  await cluster.stop();
  cluster.cleanup();
});

describe('CRD OpenAPI publishing (upstream CustomResourcePublishOpenAPI)', () => {

  it('works for CRD with validation schema', async () => {
    const crd = await setupCrd('foo', parseYaml(SCHEMA_FOO) as Json, ['v1']);
    const valid = `{${metaOf(crd, 'test-foo')},"spec":{"bars":[{"name":"test-bar"}]}}`;
    for (const version of KUBECTLS) {
      await createAndApply(crd, valid, version);
      await explainMatches(crd.plural, /DESCRIPTION:.*Foo CRD for Testing.*FIELDS:.*apiVersion.*<string>.*APIVersion defines.*spec.*<Object>.*Specification of Foo/s, version);
      await explainMatches(`${crd.plural}.metadata`, /DESCRIPTION:.*Standard object's metadata.*FIELDS:.*creationTimestamp.*<string>.*CreationTimestamp is a timestamp/s, version);
      await explainMatches(`${crd.plural}.spec`, /DESCRIPTION:.*Specification of Foo.*FIELDS:.*bars.*<\[\]Object>.*List of Bars and their specs/s, version);
      await explainMatches(`${crd.plural}.spec.bars`, /bars.*<\[\]Object>.*DESCRIPTION:.*List of Bars and their specs.*FIELDS:.*bazs.*<\[\]string>.*List of Bazs.*name.*<string>.*Name of Bar/s, version);
      const missing = await cluster.kubectl(['explain', `${crd.plural}.spec.bars2`], { version });
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /field "bars2" does not exist/);
    }
    // The swagger 2.0 explain (upstream's older pattern, RESOURCE: instead of FIELD:) reads /openapi/v2.
    const v2Explain = await kubectlOk(cluster, ['explain', `${crd.plural}.spec.bars`, '--output=plaintext-openapiv2'], { version: '1.27' });
    assert.match(v2Explain, /RESOURCE:.*bars.*<\[\]Object>.*DESCRIPTION:.*List of Bars and their specs.*FIELDS:.*bazs.*<\[\]string>.*List of Bazs.*name.*<string>.*Name of Bar/s);
    // Server-side validation answers what kubectl's client-side validation used to.
    const unknown = await cluster.kubectl([`--namespace=${NS}`, 'create', '-f', '-'], { input: `{${metaOf(crd, 'test-foo')},"spec":{"foo":true}}` });
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /unknown field "spec.foo"/);
    const noName = await cluster.kubectl([`--namespace=${NS}`, 'apply', '-f', '-'], { input: `{${metaOf(crd, 'test-foo')},"spec":{"bars":[{"age":"10"}]}}` });
    assert.notEqual(noName.code, 0);
    assert.match(noName.stderr, /spec.bars\[0\].name: Required value/);
    const enumValue = await cluster.kubectl([`--namespace=${NS}`, 'create', '-f', '-'], { input: `{${metaOf(crd, 'test-foo')},"spec":{"bars":[{"name":"test-bar","feeling":"NonExistentValue"}]}}` });
    assert.match(enumValue.stderr, /Unsupported value: "NonExistentValue"/);
    await cleanupCrd(crd);
  });

  it('works for CRD without validation schema (published as a bare object)', async () => {
    const crd = await setupCrd('empty', undefined, ['v1']);
    for (const version of KUBECTLS) {
      await createAndApply(crd, `{${metaOf(crd, 'test-cr')},"a":{"b":[{"c":"d"}]}}`, version);
      await explainMatches(crd.plural, /DESCRIPTION:.*<empty>/s, version);
    }
    // In v2 the object is bare: no fields listed, not even apiVersion or metadata.
    const v2Explain = await kubectlOk(cluster, ['explain', crd.plural, '--output=plaintext-openapiv2'], { version: '1.27' });
    assert.match(v2Explain, /DESCRIPTION:\s+<empty>\s*$/);
    await cleanupCrd(crd);
  });

  it('works for CRD preserving unknown fields at the schema root and in an embedded object', async () => {
    const root = await setupCrd('unknown-at-root', preserving('preserve-unknown-properties at root for Testing', 'root'), ['v1'], null);
    const nested = await setupCrd('unknown-in-nested', preserving('preserve-unknown-properties in nested field for Testing', 'spec'), ['v1'], null);
    // kubectl 1.27 validates against v2: the root is a bare object, the preserving field has no properties.
    const v2 = (await openApiV2()).definitions as Record<string, Json>;
    assert.deepEqual(v2[definitionName(root, 'v1')], { type: 'object', 'x-kubernetes-group-version-kind': [{ group: root.group, kind: root.kind, version: 'v1' }] });
    assert.deepEqual((v2[definitionName(nested, 'v1')].properties as Record<string, Json>).spec, { description: 'Specification of Waldo', type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
    for (const version of KUBECTLS) {
      await createAndApply(root, `{${metaOf(root, 'test-cr')},"a":{"b":[{"c":"d"}]}}`, version);
      await explainMatches(root.plural, new RegExp(`KIND:.*${root.kind}`, 's'), version);
      await createAndApply(nested, `{${metaOf(nested, 'test-cr')},"spec":{"a":null,"b":[{"c":"d"}]}}`, version);
      await explainMatches(nested.plural, /DESCRIPTION:.*preserve-unknown-properties in nested field for Testing/s, version);
    }
    await cleanupCrd(root);
    await cleanupCrd(nested);
  });

  it('works for multiple CRDs of different groups, of one group in different versions, and of different kinds', async () => {
    const foo = await setupCrd('foo', parseYaml(SCHEMA_FOO) as Json, ['v1']);
    const waldo = await setupCrd('waldo', parseYaml(SCHEMA_WALDO) as Json, ['v1beta1']);
    await waitForDefinition(definitionName(waldo, 'v1beta1'), parseYaml(SCHEMA_WALDO) as Json);
    await waitForDefinition(definitionName(foo, 'v1'), parseYaml(SCHEMA_FOO) as Json);
    const multi = await setupCrd('multi-ver', parseYaml(SCHEMA_FOO) as Json, ['v2', 'v3']);
    const v4 = await setupCrd('common-group', parseYaml(SCHEMA_FOO) as Json, ['v4']);
    const v5 = await setupCrd('common-group', parseYaml(SCHEMA_WALDO) as Json, ['v5']);
    const v6a = await setupCrd('common-group', parseYaml(SCHEMA_FOO) as Json, ['v6']);
    const v6b = await setupCrd('common-group', parseYaml(SCHEMA_WALDO) as Json, ['v6']);
    await waitForDefinition(definitionName(v6b, 'v6'), parseYaml(SCHEMA_WALDO) as Json);
    await waitForDefinition(definitionName(v6a, 'v6'), parseYaml(SCHEMA_FOO) as Json);
    for (const crd of [foo, waldo, multi, v4, v5, v6a, v6b]) await cleanupCrd(crd);
  });

  it('updates the published spec when one version gets renamed', async () => {
    const crd = await setupCrd('multi-ver', parseYaml(SCHEMA_FOO) as Json, ['v2', 'v3']);
    const patch = '[{"op":"test","path":"/spec/versions/1/name","value":"v3"},{"op":"replace","path":"/spec/versions/1/name","value":"v4"}]';
    await kubectlOk(cluster, ['patch', 'crd', crd.name, '--type=json', '-p', patch]);
    await waitForDefinition(definitionName(crd, 'v4'), parseYaml(SCHEMA_FOO) as Json);
    await waitForDefinitionCleanup(definitionName(crd, 'v3'));
    await waitForDefinition(definitionName(crd, 'v2'), parseYaml(SCHEMA_FOO) as Json);
    await cleanupCrd({ ...crd, versions: ['v2', 'v4'] });
  });

  it('removes definition from spec when one version gets changed to not be served', async () => {
    const crd = await setupCrd('multi-to-single-ver', parseYaml(SCHEMA_FOO) as Json, ['v5', 'v6alpha1']);
    await kubectlOk(cluster, ['patch', 'crd', crd.name, '--type=json', '-p', '[{"op":"replace","path":"/spec/versions/1/served","value":false}]']);
    await waitForDefinitionCleanup(definitionName(crd, 'v6alpha1'));
    await waitForDefinition(definitionName(crd, 'v5'), parseYaml(SCHEMA_FOO) as Json);
    await cleanupCrd(crd);
  });

  it('serves each CRD group-version in /openapi/v3 with ETags, without strategic merge, and follows schema changes', async () => {
    const crd = await setupCrd('v3-doc', parseYaml(SCHEMA_FOO) as Json, ['v1']);
    const key = `apis/${crd.group}/v1`;
    const index = async () => ((JSON.parse((await cluster.request('GET', '/openapi/v3')).body) as Json).paths as Record<string, { serverRelativeURL: string }>)[key]?.serverRelativeURL;
    const url = await eventually('the group-version in the v3 index', index);
    const first = await cluster.request('GET', url);
    assert.equal(first.status, 200);
    assert.equal(first.headers['cache-control'], 'public, immutable');
    assert.equal((await cluster.request('GET', url, { headers: { 'If-None-Match': String(first.headers.etag) } })).status, 304);
    const document = JSON.parse(first.body) as { paths: Record<string, Record<string, Json>>; components: { schemas: Record<string, Json> } };
    const item = document.paths[`/apis/${crd.group}/v1/namespaces/{namespace}/${crd.plural}/{name}`];
    assert.deepEqual(Object.keys((item.patch.requestBody as { content: Json }).content).sort(), ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json']);
    assert.ok((item.patch.parameters as { name: string }[]).some((parameter) => parameter.name === 'fieldValidation'));
    assert.deepEqual(document.components.schemas[definitionName(crd, 'v1')]['x-kubernetes-group-version-kind'], [{ group: crd.group, version: 'v1', kind: crd.kind }]);

    await kubectlOk(cluster, ['patch', 'crd', crd.name, '--type=json', '-p', '[{"op":"add","path":"/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/newField","value":{"type":"string","description":"A field added later."}}]']);
    const changed = await eventually('a new hash in the v3 index', async () => ((await index()) !== url ? index() : undefined));
    assert.equal((await cluster.request('GET', url)).status, 301, 'the old hash redirects to the current document');
    assert.match(JSON.stringify(JSON.parse((await cluster.request('GET', changed!)).body)), /A field added later/);
    await explainMatches(`${crd.plural}.spec.newField`, /A field added later/);
    await cleanupCrd(crd);
  });

  it('publishes embedded resources with apiVersion, kind and metadata, and int-or-string as anyOf', async () => {
    const schema = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            template: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object', description: 'The template spec.' } } },
            port: { 'x-kubernetes-int-or-string': true },
          },
        },
      },
    };
    const crd = await setupCrd('embedded', schema, ['v1'], null);
    const url = await eventually('the v3 index entry', async () => ((JSON.parse((await cluster.request('GET', '/openapi/v3')).body) as Json).paths as Record<string, { serverRelativeURL: string }>)[`apis/${crd.group}/v1`]?.serverRelativeURL);
    const published = (JSON.parse((await cluster.request('GET', url)).body) as { components: { schemas: Record<string, any> } }).components.schemas[definitionName(crd, 'v1')];
    const template = published.properties.spec.properties.template;
    assert.deepEqual(Object.keys(template.properties).sort(), ['apiVersion', 'kind', 'metadata', 'spec']);
    assert.deepEqual(template.required, ['kind', 'apiVersion']);
    assert.deepEqual(published.properties.spec.properties.port.anyOf, [{ type: 'integer' }, { type: 'string' }]);
    await explainMatches(`${crd.plural}.spec.template.metadata`, /FIELDS:.*creationTimestamp/s);
    await cleanupCrd(crd);
  });
});

describe('Field validation (upstream FieldValidation)', () => {
  const request = (method: string, path: string, body: string, contentType: string) => cluster.request(method, path, { body, headers: { 'Content-Type': contentType } });

  const deployment = (metadata: string, spec: string) =>
    `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{${metadata}"labels":{"app":"nginx"}},"spec":{${spec}"selector":{"matchLabels":{"app":"nginx"}},"template":{"metadata":{"labels":{"app":"nginx"}},"spec":{"containers":[{"name":"nginx","image":"nginx:latest"}]}}}}`;

  it('detects unknown and duplicate fields of a typed object', async () => {
    const response = await request('POST', '/apis/apps/v1/namespaces/default/deployments?fieldManager=field_validation_mgr&fieldValidation=Strict', deployment('"name":"my-dep",', '"unknownField":"foo","replicas":2,"replicas":3,'), 'application/json');
    assert.equal(response.status, 400);
    assert.match(JSON.parse(response.body).message, /strict decoding error: unknown field "spec.unknownField", duplicate field "spec.replicas"$/);
    const meta = await request('POST', '/apis/apps/v1/namespaces/default/deployments?fieldValidation=Strict', deployment('"name":"my-dep","unknownMeta":"foo",', ''), 'application/json');
    assert.match(JSON.parse(meta.body).message, /strict decoding error: unknown field "metadata.unknownMeta"$/);
  });

  it('warns, in document order, about each repeated key (a YAML body: one warning per line) and ignores them with Ignore', async () => {
    const body = deployment('"name":"dupename","name":"warned",', '"unknownDupe":1,"unknownDupe":2,"paused":true,"paused":false,');
    const warned = await request('POST', '/apis/apps/v1/namespaces/default/deployments?fieldValidation=Warn', body, 'application/json');
    assert.equal(warned.status, 201);
    assert.deepEqual(
      String(warned.headers.warning).split(/,\s*(?=299)/),
      ['299 - "duplicate field \\"metadata.name\\""', '299 - "unknown field \\"spec.unknownDupe\\""', '299 - "duplicate field \\"spec.paused\\""'],
    );
    const yaml = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: yaml-dup\n  name: yaml-dup\nspec:\n  paused: true\n  paused: false\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec: {containers: [{name: a, image: a}]}\n';
    const strict = await request('POST', '/apis/apps/v1/namespaces/default/deployments?fieldValidation=Strict', yaml, 'application/yaml');
    assert.equal(JSON.parse(strict.body).message, 'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: yaml: unmarshal errors:\n  line 5: key "name" already set in map\n  line 8: key "paused" already set in map');
    const yamlWarned = await request('POST', '/apis/apps/v1/namespaces/default/deployments', yaml, 'application/yaml');
    assert.equal(yamlWarned.status, 201);
    assert.match(String(yamlWarned.headers.warning), /^299 - "line 5: key \\"name\\" already set in map", 299 - "line 8: key \\"paused\\" already set in map"$/);
    const ignored = await request('POST', '/apis/apps/v1/namespaces/default/deployments?fieldValidation=Ignore', yaml.replaceAll('yaml-dup', 'yaml-ignored'), 'application/yaml');
    assert.equal(ignored.status, 201);
    assert.equal(ignored.headers.warning, undefined);
  });

  it('reports a patch body\'s own repeated keys before the patched object\'s unknown fields', async () => {
    const created = await request('POST', '/apis/apps/v1/namespaces/default/deployments', deployment('"name":"patched",', ''), 'application/json');
    assert.equal(created.status, 201);
    const merge = '{"spec":{"unknown1":"val1","unknownDupe":"valDupe","unknownDupe":"valDupe2","paused":true,"paused":false,"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:latest","unknownNested":"val1","imagePullPolicy":"Always","imagePullPolicy":"Never"}]}}}}';
    const expected = 'strict decoding error: duplicate field "spec.unknownDupe", duplicate field "spec.paused", duplicate field "spec.template.spec.containers[0].imagePullPolicy", unknown field "spec.template.spec.containers[0].unknownNested", unknown field "spec.unknown1", unknown field "spec.unknownDupe"';
    for (const type of ['application/merge-patch+json', 'application/strategic-merge-patch+json']) {
      const strict = await request('PATCH', '/apis/apps/v1/namespaces/default/deployments/patched?fieldValidation=Strict', merge, type);
      assert.equal(strict.status, 422);
      assert.ok(JSON.parse(strict.body).message.endsWith(expected), JSON.parse(strict.body).message);
    }
    const jsonPatch = '[{"op":"add","path":"/spec/unknown1","value":"val1","foo":"bar"},{"op":"add","path":"/spec/unknown2","path":"/spec/unknown3","value":"val1"},{"op":"add","path":"/spec/paused","value":true}]';
    const warned = await request('PATCH', '/apis/apps/v1/namespaces/default/deployments/patched?fieldValidation=Warn', jsonPatch, 'application/json-patch+json');
    assert.equal(warned.status, 200);
    assert.equal(String(warned.headers.warning), '299 - "json patch unknown field \\"[0].foo\\"", 299 - "json patch duplicate field \\"[1].path\\"", 299 - "unknown field \\"spec.unknown1\\"", 299 - "unknown field \\"spec.unknown3\\""');
  });

  it('validates custom resources: valid apply, no schema, unknown fields, unknown metadata and duplicates', async () => {
    const ports = { type: 'array', 'x-kubernetes-list-map-keys': ['containerPort', 'protocol'], 'x-kubernetes-list-type': 'map', items: { type: 'object', required: ['containerPort', 'protocol'], properties: { containerPort: { type: 'integer', format: 'int32' }, hostIP: { type: 'string' }, hostPort: { type: 'integer', format: 'int32' }, name: { type: 'string' }, protocol: { type: 'string' } } } };
    const cronSpec = { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' };
    const template = { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { metadata: { type: 'object', properties: { name: { type: 'string' } } }, spec: { type: 'object' } } };
    const schemas: Record<string, Json> = {
      valid: { type: 'object', properties: { spec: { type: 'object', properties: { foo: { type: 'string' }, cronSpec, ports } } } },
      none: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      embedded: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { template, foo: { type: 'string' }, cronSpec, ports } } } },
    };
    for (const [tag, schema] of Object.entries(schemas)) {
      const crd = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: `noxus${tag}.mygroup.example.com` }, spec: { group: 'mygroup.example.com', scope: 'Cluster', names: { plural: `noxus${tag}`, singular: `noxu${tag}`, kind: `Noxu${tag}`, listKind: `Noxu${tag}List` }, versions: [{ name: 'v1beta1', served: true, storage: true, schema: { openAPIV3Schema: schema } }] } };
      await kubectlOk(cluster, ['create', '-f', '-'], { input: JSON.stringify(crd) });
    }
    const apply = (tag: string, name: string, yaml: string, metadata = '') =>
      eventually(`apply to noxus${tag}`, async () => {
        const response = await request('PATCH', `/apis/mygroup.example.com/v1beta1/noxus${tag}/${name}?fieldManager=field_validation_mgr&fieldValidation=Strict`, `\napiVersion: mygroup.example.com/v1beta1\nkind: Noxu${tag}\nmetadata:\n  name: ${name}\n${metadata}  finalizers:\n  - test-finalizer\n${yaml}`, 'application/apply-patch+yaml');
        return response.status === 404 ? undefined : response;
      });
    const spec = 'spec:\n  foo: foo1\n  cronSpec: "* * * * */5"\n  ports:\n  - name: x\n    containerPort: 80\n    protocol: TCP';
    assert.equal((await apply('valid', 'mytest', spec)).status, 201);
    assert.equal((await apply('none', 'mytest', spec.replace('foo: foo1', 'unknown: uk1'))).status, 201);
    assert.match((await apply('valid', 'unknown', `unknownField: unknown\n${spec}`)).body, /\.unknownField: field not declared in schema/);
    const embedded = await apply('embedded', 'embedded', 'spec:\n  template:\n    apiversion: foo/v1\n    kind: Sub\n    metadata:\n        unknownSubMeta: unknown\n        name: subobject\n        namespace: default\n  foo: foo1', '  unknownMeta: unknown\n');
    assert.match(embedded.body, /\.spec\.template\.metadata\.unknownSubMeta: field not declared in schema|\.metadata\.unknownMeta: field not declared in schema/);
    const duplicated = await apply('embedded', 'dups', 'spec:\n  unknown: uk1\n  foo: foo1\n  foo: foo2\n  cronSpec: "* * * * */5"');
    assert.match(duplicated.body, /line 11: key \\"foo\\" already set in map/);
    // A custom resource is decoded into a map before it is pruned: its repeated keys come first.
    const strict = await request('POST', '/apis/mygroup.example.com/v1beta1/noxusvalid?fieldValidation=Strict', '{"apiVersion":"mygroup.example.com/v1beta1","kind":"Noxuvalid","metadata":{"name":"dup"},"spec":{"foo":"a","foo":"b","bogus":1}}', 'application/json');
    assert.equal(JSON.parse(strict.body).message, 'Noxuvalid in version "v1beta1" cannot be handled as a Noxuvalid: strict decoding error: duplicate field "spec.foo", unknown field "spec.bogus"');
  });
});
