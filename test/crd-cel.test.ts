// CEL x-kubernetes-validations end to end: the real kubectl applies a CRD with rules, and create, apply
// and patch of its custom resources fail with the rules' messages; a transition rule (oldSelf) blocks an
// update; a CRD with a rule that does not compile, or costs too much, is rejected at `kubectl apply`.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from './harness.js';

let cluster: Cluster;

async function ok(args: string[]): Promise<string> {
  const result = await cluster.kubectl(args);
  assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
  return result.stdout;
}

async function fails(args: string[]): Promise<string> {
  const result = await cluster.kubectl(args);
  assert.notEqual(result.code, 0, `kubectl ${args.join(' ')} succeeded:\n${result.stdout}`);
  return result.stderr;
}

function manifest(name: string, content: string): string {
  const file = join(cluster.dataDir, name);
  writeFileSync(file, content);
  return file;
}

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: webapps.cel.example.com
spec:
  group: cel.example.com
  scope: Namespaced
  names: {plural: webapps, singular: webapp, kind: WebApp}
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
            x-kubernetes-validations:
            - rule: self.replicas <= self.maxReplicas
              messageExpression: "self.replicas > 2 * self.maxReplicas ? 'replicas is more than twice maxReplicas' : 'replicas must not exceed maxReplicas'"
            - rule: self.tier == oldSelf.tier
              message: tier is immutable
            - rule: "!has(self.owner) || self.owner.matches('^[a-z]+$')"
              message: owner must be lower-case letters
              fieldPath: .owner
              reason: FieldValueForbidden
            properties:
              replicas: {type: integer}
              maxReplicas: {type: integer, default: 10}
              tier: {type: string, maxLength: 16}
              owner: {type: string, maxLength: 32}
`;

const WEBAPP = `apiVersion: cel.example.com/v1
kind: WebApp
metadata:
  name: shop
  namespace: default
spec:
  replicas: 3
  tier: gold
`;

describe('CEL validation rules with kubectl', () => {
  before(async () => {
    cluster = await Cluster.start();
  });

  after(async () => {
    const code = await cluster.stop();
    cluster.cleanup();
    assert.equal(code, 0, 'the launcher exits cleanly on SIGTERM');
  });

  it('applies a CRD with rules and waits for it to be Established', async () => {
    assert.match(await ok(['apply', '-f', manifest('crd.yaml', CRD)]), /webapps.cel.example.com created/);
    const result = await cluster.kubectl(['wait', '--for=condition=Established', 'crd/webapps.cel.example.com', '--timeout=30s'], { input: '', timeoutMs: 35_000 });
    assert.match(result.stdout, /condition met/, result.stderr);
  });

  it('creates a valid custom resource (defaults are visible to the rules)', async () => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const result = await cluster.kubectl(['create', '-f', manifest('webapp.yaml', WEBAPP)]);
      if (result.code === 0) break;
      // Discovery may lag right after Established; anything else is a failure.
      if (!/the server doesn't have a resource type|no matches for kind/.test(result.stderr) || Date.now() > deadline) assert.fail(result.stderr);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    assert.equal(await ok(['get', 'webapp', 'shop', '-o', 'jsonpath={.spec.maxReplicas}']), '10');
  });

  it('kubectl create fails with the messageExpression of a failing rule', async () => {
    const stderr = await fails(['create', '-f', manifest('too-many.yaml', WEBAPP.replace('name: shop', 'name: big').replace('replicas: 3', 'replicas: 12'))]);
    assert.match(stderr, /The WebApp "big" is invalid: spec: Invalid value: "object": replicas must not exceed maxReplicas/);
  });

  it('kubectl apply reports a rule with fieldPath and reason at that field', async () => {
    const stderr = await fails(['apply', '-f', manifest('owner.yaml', WEBAPP.replace('tier: gold', 'tier: gold\n  owner: Bob'))]);
    assert.match(stderr, /The WebApp "shop" is invalid: spec\.owner: Forbidden: owner must be lower-case letters/);
  });

  it('kubectl patch is checked against the rules too', async () => {
    const stderr = await fails(['patch', 'webapp', 'shop', '--type=merge', '-p', '{"spec":{"replicas":25}}']);
    assert.match(stderr, /spec: Invalid value: "object": replicas is more than twice maxReplicas/);
    assert.match(await ok(['patch', 'webapp', 'shop', '--type=merge', '-p', '{"spec":{"replicas":5}}']), /webapp.cel.example.com\/shop patched/);
  });

  it('a transition rule (oldSelf) blocks an update but not the create', async () => {
    const stderr = await fails(['patch', 'webapp', 'shop', '--type=merge', '-p', '{"spec":{"tier":"silver"}}']);
    assert.match(stderr, /The WebApp "shop" is invalid: spec: Invalid value: "object": tier is immutable/);
    assert.equal(await ok(['get', 'webapp', 'shop', '-o', 'jsonpath={.spec.tier}']), 'gold');
    assert.match(await ok(['create', '-f', manifest('silver.yaml', WEBAPP.replace('name: shop', 'name: other').replace('tier: gold', 'tier: silver'))]), /created/);
  });

  it('ratchets: after a rule is tightened, an unchanged invalid field only warns while other fields change', async () => {
    const tightened = CRD.replace('tier: {type: string, maxLength: 16}', "tier: {type: string, maxLength: 16, x-kubernetes-validations: [{rule: 'self.size() <= 3', message: 'tier must be at most 3 characters'}]}");
    assert.match(await ok(['apply', '-f', manifest('crd.yaml', tightened)]), /configured/);
    // The new rule is served once the controller re-registers the version: a new object with tier "gold" fails.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const result = await cluster.kubectl(['create', '-f', manifest('gold.yaml', WEBAPP.replace('name: shop', 'name: third'))]);
      if (result.code !== 0 && /spec\.tier: Invalid value: "string": tier must be at most 3 characters/.test(result.stderr)) break;
      if (result.code === 0) await cluster.kubectl(['delete', 'webapp', 'third']);
      if (Date.now() > deadline) assert.fail(`the tightened rule was never enforced: ${result.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    // "shop" still has tier "gold": changing replicas leaves tier as it was, so its rule only warns.
    const patched = await cluster.kubectl(['patch', 'webapp', 'shop', '--type=merge', '-p', '{"spec":{"replicas":6}}']);
    assert.equal(patched.code, 0, patched.stderr);
    assert.match(patched.stderr, /Warning: spec\.tier: Invalid value: "string": tier must be at most 3 characters/);
    assert.equal(await ok(['get', 'webapp', 'shop', '-o', 'jsonpath={.spec.replicas}']), '6');
  });

  it('rejects a CRD whose rule does not compile at kubectl apply', async () => {
    const broken = CRD.replace('webapps.cel.example.com', 'brokens.cel.example.com')
      .replace('{plural: webapps, singular: webapp, kind: WebApp}', '{plural: brokens, singular: broken, kind: Broken}')
      .replace('rule: self.replicas <= self.maxReplicas', 'rule: self.replicas <= self.nope');
    const stderr = await fails(['apply', '-f', manifest('broken.yaml', broken)]);
    // A single version's schema is reported where upstream's internal version holds it: spec.validation.
    assert.match(stderr, /The CustomResourceDefinition "brokens\.cel\.example\.com" is invalid: spec\.validation\.openAPIV3Schema\.properties\[spec\]\.x-kubernetes-validations\[0\]\.rule: Invalid value: apiextensions\.ValidationRule\{Rule:"self\.replicas <= self\.nope".*compilation failed: ERROR: <input>:1:\d+: undefined field 'nope'/s);
  });

  it('rejects a CRD whose rule is estimated to cost too much', async () => {
    const expensive = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: costlies.cel.example.com
spec:
  group: cel.example.com
  scope: Namespaced
  names: {plural: costlies, singular: costly, kind: Costly}
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
              names:
                type: array
                items: {type: string}
                x-kubernetes-validations:
                - rule: self.all(a, self.exists(b, a != b && a.contains(b)))
`;
    const stderr = await fails(['apply', '-f', manifest('costly.yaml', expensive)]);
    assert.match(stderr, /properties\[names\]\.x-kubernetes-validations\[0\]\.rule: Forbidden: estimated rule cost exceeds budget by factor of more than 100x \(try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared\)/);
  });

  it('rejects a messageExpression concatenating string(int), whose size upstream cannot bound (kubernetes#124234)', async () => {
    const unbounded = CRD.replace('webapps.cel.example.com', 'attempts.cel.example.com')
      .replace('{plural: webapps, singular: webapp, kind: WebApp}', '{plural: attempts, singular: attempt, kind: Attempt}')
      .replace(/messageExpression: .*\n/, `messageExpression: "'replicas: ' + string(self.replicas)"\n`);
    const stderr = await fails(['apply', '-f', manifest('attempts.yaml', unbounded)]);
    assert.match(stderr, /properties\[spec\]\.x-kubernetes-validations\[0\]\.messageExpression: Forbidden: estimated messageExpression cost exceeds budget by factor of more than 100x/);
    assert.match(stderr, /properties\[spec\]\.x-kubernetes-validations\[0\]\.messageExpression: Forbidden: contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema/);
    assert.match(stderr, /openAPIV3Schema: Forbidden: x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema exceeds budget by factor of more than 100x/);
  });
});
