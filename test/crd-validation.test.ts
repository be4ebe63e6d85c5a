// Custom-resource validation end to end with the real kubectl: a CRD whose schema uses value keywords,
// list types, defaults and an embedded resource; kubectl create/apply fail with upstream's messages;
// unknown fields get a "did you mean" under Strict and Warn; a default under an absent parent is
// reported as a Warning; a CR made invalid by a tightened schema can still be updated where it did not
// change (ratcheting), and a default added later shows on objects stored before it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from './harness.js';

let cluster: Cluster;

async function ok(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const result = await cluster.kubectl(args);
  assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
  return result;
}

async function fails(args: string[]): Promise<string> {
  const result = await cluster.kubectl(args);
  assert.notEqual(result.code, 0, `kubectl ${args.join(' ')} unexpectedly succeeded:\n${result.stdout}`);
  return result.stderr;
}

/** Retries while discovery and the served schema catch up. */
async function eventually<T>(attempt: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`never happened: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

function manifest(name: string, content: string): string {
  const file = join(cluster.dataDir, name);
  writeFileSync(file, content);
  return file;
}

function crd(maxReplicas: number, extraSpecProperties = ''): string {
  return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.shop.example.com
spec:
  group: shop.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [name]
            properties:
              name: {type: string, pattern: '^[a-z]+$'}
              replicas: {type: integer, minimum: 0, maximum: ${maxReplicas}}
              type: {type: string, enum: [a, b]}
              items: {type: array, maxItems: 3, items: {type: string}}
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
              template:
                type: object
                properties:
                  replicas: {type: integer, default: 1}
${extraSpecProperties}          status:
            type: object
            properties:
              readyReplicas: {type: integer, minimum: 0}
`;
}

function widget(name: string, spec: string): string {
  return `apiVersion: shop.example.com/v1
kind: Widget
metadata:
  name: ${name}
  namespace: default
spec:
${spec}`;
}

describe('custom resource validation with kubectl', () => {
  before(async () => {
    cluster = await Cluster.start();
    await ok(['apply', '-f', manifest('crd.yaml', crd(10))]);
    // Polled, as test/crd.test.ts does: the condition `kubectl wait --for=condition=Established` watches for.
    await eventually(async () => {
      const result = await cluster.kubectl(['get', 'crd', 'widgets.shop.example.com', '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}']);
      return result.stdout === 'True' ? true : undefined;
    }, 'the CRD is Established');
  });

  after(async () => {
    await cluster.stop();
    cluster.cleanup();
  });

  it('kubectl create fails with one upstream-worded cause per violated keyword', async () => {
    const file = manifest('bad.yaml', widget('bad', '  name: X\n  replicas: 11\n  type: c\n  items: [a, b, c, d]\n  ports: [{name: a, port: 1}, {name: a, port: 2}]\n'));
    const stderr = await eventually(async () => {
      const result = await cluster.kubectl(['create', '-f', file]);
      return result.code !== 0 && result.stderr.includes('is invalid') ? result.stderr : undefined;
    }, 'the custom resource is served');
    assert.match(stderr, /The Widget "bad" is invalid:/);
    assert.ok(stderr.includes(`* spec.name: Invalid value: "X": spec.name in body should match '^[a-z]+$'`), stderr);
    assert.ok(stderr.includes('* spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10'), stderr);
    assert.ok(stderr.includes('* spec.type: Unsupported value: "c": supported values: "a", "b"'), stderr);
    assert.ok(stderr.includes('* spec.items: Too many: 4: must have at most 3 items'), stderr);
    assert.ok(stderr.includes('* spec.ports[1]: Duplicate value: map[string]interface {}{"name":"a"}'), stderr);
  });

  it('a missing required field and a wrong type are reported like upstream', async () => {
    const stderr = await fails(['create', '-f', manifest('typed.yaml', widget('typed', '  replicas: "three"\n'))]);
    assert.ok(stderr.includes('* spec.name: Required value'), stderr);
    assert.ok(stderr.includes('* spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"'), stderr);
  });

  it('strict field validation names the unknown field and what was probably meant', async () => {
    const stderr = await fails(['apply', '-f', manifest('typo.yaml', widget('typo', '  name: ok\n  replica: 3\n'))]);
    assert.ok(stderr.includes('unknown field "spec.replica", did you mean "spec.replicas"?'), stderr);
  });

  it('warn field validation creates the object and warns with the suggestion', async () => {
    const { stdout, stderr } = await ok(['apply', '--validate=warn', '-f', manifest('typo-warn.yaml', widget('typo', '  name: ok\n  replica: 3\n  名前: x\n'))]);
    assert.match(stdout, /widget.shop.example.com\/typo created/);
    assert.ok(stderr.includes('Warning: unknown field "spec.replica", did you mean "spec.replicas"?'), stderr);
    // A field name outside Latin-1 travels in the Warning header as UTF-8.
    assert.ok(stderr.includes('Warning: unknown field "spec.名前"'), stderr);
  });

  it('a default under an absent parent produces a warning, and applies once the parent exists', async () => {
    const absent = await ok(['create', '-f', manifest('nodefault.yaml', widget('nodefault', '  name: plain\n'))]);
    assert.ok(absent.stderr.includes('Warning: spec.template.replicas: default not applied because parent spec.template is absent'), absent.stderr);
    const present = await ok(['create', '-f', manifest('withdefault.yaml', widget('withdefault', '  name: plain\n  template: {}\n'))]);
    assert.doesNotMatch(present.stderr, /default not applied/);
    assert.equal((await ok(['get', 'widget', 'withdefault', '-o', 'jsonpath={.spec.template.replicas}'])).stdout, '1');
  });

  it('a status write is validated against the status schema', async () => {
    const stderr = await fails(['patch', 'widget', 'withdefault', '--subresource=status', '--type=merge', '-p', '{"status":{"readyReplicas":-1}}']);
    assert.ok(stderr.includes('status.readyReplicas: Invalid value: -1: readyReplicas in body should be greater than or equal to 0'), stderr);
    await ok(['patch', 'widget', 'withdefault', '--subresource=status', '--type=merge', '-p', '{"status":{"readyReplicas":2}}']);
    assert.equal((await ok(['get', 'widget', 'withdefault', '-o', 'jsonpath={.status.readyReplicas}'])).stdout, '2');
  });

  it('after the schema tightens, an unchanged invalid value does not block updates (ratcheting)', async () => {
    await ok(['create', '-f', manifest('big.yaml', widget('big', '  name: big\n  replicas: 8\n'))]);
    // Tighten maximum to 5 and add a defaulted field: existing objects now violate the schema.
    await ok(['apply', '-f', manifest('crd-tight.yaml', crd(5, '              color: {type: string, default: blue}\n'))]);
    await eventually(async () => {
      const result = await cluster.kubectl(['create', '--dry-run=server', '-f', manifest('probe.yaml', widget('probe', '  name: probe\n  replicas: 6\n'))]);
      return result.code !== 0 && result.stderr.includes('less than or equal to 5') ? true : undefined;
    }, 'the tightened schema is served');
    // The default added later is applied when the old object is read.
    assert.equal((await ok(['get', 'widget', 'big', '-o', 'jsonpath={.spec.color}'])).stdout, 'blue');
    // spec.replicas is unchanged: a label change and an unrelated spec change both go through.
    await ok(['label', 'widget', 'big', 'tier=gold']);
    await ok(['patch', 'widget', 'big', '--type=merge', '-p', '{"spec":{"type":"a"}}']);
    // Changing the invalid value itself is checked against the new schema.
    const stderr = await fails(['patch', 'widget', 'big', '--type=merge', '-p', '{"spec":{"replicas":7}}']);
    assert.ok(stderr.includes('spec.replicas: Invalid value: 7: spec.replicas in body should be less than or equal to 5'), stderr);
  });

  // ---- the CRD object itself (upstream's CRD validation, at the internal version's field paths) ----

  function gadgetCrd(options: { group?: string; annotations?: string; versions?: string; schema?: string } = {}): string {
    const group = options.group ?? 'toys.example.com';
    return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.${group}
${options.annotations ?? ''}spec:
  group: ${group}
  scope: Namespaced
  names: {plural: gadgets, kind: Gadget}
  versions:
${
  options.versions ??
  `  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
${options.schema ?? '        type: object\n'}`
}`;
  }

  it('a CRD with a non-structural schema is refused at upstream path, type and wording, with the fix after it', async () => {
    const stderr = await fails(['apply', '-f', manifest('gadget-bad.yaml', gadgetCrd({ schema: '        type: object\n        properties:\n          spec:\n            properties:\n              size: {type: integer}\n' }))]);
    assert.match(stderr, /The CustomResourceDefinition "gadgets.toys.example.com" is invalid/);
    assert.ok(stderr.includes('spec.validation.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields — fix: add "type: object" at properties.spec'), stderr);
  });

  it('printer columns, scale paths and conversion settings are checked with upstream messages', async () => {
    const versions = `  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object}}
    additionalPrinterColumns: [{name: Size, type: int, jsonPath: .spec.size}]
    subresources: {scale: {specReplicasPath: .status.replicas, statusReplicasPath: .status.replicas}}
  conversion:
    strategy: None
    webhook: {conversionReviewVersions: [v1]}
`;
    const stderr = await fails(['create', '-f', manifest('gadget-fields.yaml', gadgetCrd({ versions }))]);
    assert.ok(stderr.includes('spec.additionalPrinterColumns[0].type: Invalid value: "int": must be one of boolean,date,integer,number,string'), stderr);
    assert.ok(stderr.includes('spec.subresources.scale.specReplicasPath: Invalid value: ".status.replicas": should be a json path under .spec'), stderr);
    assert.ok(stderr.includes('spec.conversion.conversionReviewVersions: Forbidden: should not be set when strategy is not set to Webhook'), stderr);
  });

  it('a CRD in a Kubernetes group needs the API approval annotation, and its condition says how it was approved', async () => {
    const missing = await fails(['create', '-f', manifest('gadget-k8s.yaml', gadgetCrd({ group: 'toys.k8s.io' }))]);
    assert.ok(
      missing.includes('metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation "api-approved.kubernetes.io", see https://github.com/kubernetes/enhancements/pull/1111'),
      missing,
    );
    await ok(['create', '-f', manifest('gadget-k8s-ok.yaml', gadgetCrd({ group: 'toys.k8s.io', annotations: '  annotations: {api-approved.kubernetes.io: "unapproved, testing only"}\n' }))]);
    const condition = await eventually(async () => {
      const result = await cluster.kubectl(['get', 'crd', 'gadgets.toys.k8s.io', '-o', 'jsonpath={.status.conditions[?(@.type=="KubernetesAPIApprovalPolicyConformant")].reason} {.status.conditions[?(@.type=="KubernetesAPIApprovalPolicyConformant")].message}']);
      return result.stdout.trim() ? result.stdout : undefined;
    }, 'the approval condition is set');
    assert.equal(condition, 'UnapprovedAnnotation not approved: "unapproved, testing only"');
  });

  it('a version still in status.storedVersions cannot be removed from spec.versions', async () => {
    const twoVersions = `  - name: v1alpha1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object}}
  - name: v1
    served: true
    storage: false
    schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object}}}}
`;
    await ok(['apply', '-f', manifest('gadget-v.yaml', gadgetCrd({ versions: twoVersions }))]);
    const onlyV1 = '  - name: v1\n    served: true\n    storage: true\n    schema: {openAPIV3Schema: {type: object}}\n';
    const stderr = await fails(['apply', '-f', manifest('gadget-v1.yaml', gadgetCrd({ versions: onlyV1 }))]);
    assert.ok(stderr.includes('status.storedVersions[0]: Invalid value: "v1alpha1": must appear in spec.versions — fix: '), stderr);
    // The way out: make v1 the storage version (it joins storedVersions), migrate the objects, drop
    // v1alpha1 from the status with the command the error suggests, and then from the spec.
    const twoThenOne = twoVersions.replace('storage: true', 'storage: false').replace(/storage: false\n(    schema: \{openAPIV3Schema: \{type: object, properties)/, 'storage: true\n$1');
    await ok(['apply', '-f', manifest('gadget-v1-storage.yaml', gadgetCrd({ versions: twoThenOne }))]);
    assert.equal((await ok(['get', 'crd', 'gadgets.toys.example.com', '-o', 'jsonpath={.status.storedVersions}'])).stdout, '["v1alpha1","v1"]');
    const again = await fails(['apply', '-f', manifest('gadget-v1.yaml', gadgetCrd({ versions: onlyV1 }))]);
    const suggested = /kubectl patch crd (\S+) --subresource=status --type=json -p '([^']+)'/.exec(again);
    assert.ok(suggested, again);
    await ok(['patch', 'crd', suggested[1], '--subresource=status', '--type=json', '-p', suggested[2]]);
    await ok(['apply', '-f', manifest('gadget-v1-only.yaml', gadgetCrd({ versions: onlyV1 }))]);
    assert.equal((await ok(['get', 'crd', 'gadgets.toys.example.com', '-o', 'jsonpath={.status.storedVersions}'])).stdout, '["v1"]');
  });

  it('hostile CRDs get a 4xx, never a 500: a schema nested too deeply, a body too deep to process, malformed JSON', async () => {
    const deep = (depth: number) => {
      const schema = '{"type":"object","properties":{"a":'.repeat(depth) + '{"type":"object"}' + '}}'.repeat(depth);
      return `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"deeps.x.example.com"},"spec":{"group":"x.example.com","scope":"Namespaced","names":{"plural":"deeps","kind":"Deep"},"versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":${schema}}}]}}`;
    };
    const post = (name: string, body: string) => cluster.kubectl(['create', '--raw', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', '-f', manifest(name, body)]);
    const nested = await post('deep-600.json', deep(600));
    assert.ok(nested.stderr.includes('spec.validation.openAPIV3Schema: Forbidden: must not nest more than 500 levels deep'), nested.stderr);
    const tooDeep = await post('deep-5000.json', deep(5000));
    assert.match(tooDeep.stderr, /Error from server \(BadRequest\)/);
    const malformed = await post('malformed.json', deep(1).replace('"default"', '').slice(0, 180));
    assert.match(malformed.stderr, /Error from server \(BadRequest\)/);
    assert.notEqual((await cluster.kubectl(['get', 'crd', 'deeps.x.example.com'])).code, 0, 'nothing was stored');
  });
});
