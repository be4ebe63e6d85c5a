// Dynamic admission with the real launcher and the real kubectl: webhooks served by this test process
// (allow, deny, JSONPatch, failure policies against a dead and a hanging webhook, selectors and match
// conditions, a Service + Endpoints reference, warnings, dry runs, reinvocation) and
// ValidatingAdmissionPolicies (a Deployment replica limit, Warn, parameters from a ConfigMap, RBAC checks
// through CEL's authorizer).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Cluster } from './harness.js';
import { freePort } from '../launcher/ports.js';
import { startAdmissionWebhookServer, type AdmissionWebhookServer } from './admission-webhook-server.js';

let cluster: Cluster;
let server: AdmissionWebhookServer;

async function ok(args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  const result = await cluster.kubectl(args, { input });
  assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
  return result;
}

/** Retries until `accept` holds: a configuration reaches the server's cache a moment after it is created. */
async function eventually(args: string[], accept: (result: { code: number; stdout: string; stderr: string }) => boolean, input?: string, timeoutMs = 20_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await cluster.kubectl(args, { input });
    if (accept(result)) return result;
    if (Date.now() > deadline) assert.fail(`kubectl ${args.join(' ')} never gave the expected result:\n${result.stderr}\n${result.stdout}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

function manifest(name: string, content: string): string {
  const file = join(cluster.dataDir, name);
  writeFileSync(file, content);
  return file;
}

interface WebhookSpec {
  name: string;
  path?: string;
  url?: string;
  service?: string;
  selectorCase: string;
  failurePolicy?: 'Fail' | 'Ignore';
  timeoutSeconds?: number;
  reinvocationPolicy?: 'IfNeeded' | 'Never';
  namespaceSelector?: string;
  matchConditions?: { name: string; expression: string }[];
  sideEffects?: string;
}

/** A webhook on ConfigMaps whose objects carry the label `case: <selectorCase>`. */
function webhookYaml(spec: WebhookSpec, mutating: boolean): string {
  const clientConfig = spec.service
    ? `service: {namespace: webhooks, name: ${spec.service}, path: "${spec.path}", port: 443}`
    : `url: "${spec.url ?? server.url(spec.path!)}"`;
  return `- name: ${spec.name}
  clientConfig:
    ${clientConfig}
    caBundle: ${server.caBundle}
  rules: [{operations: ["CREATE", "UPDATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["configmaps"]}]
  objectSelector: {matchLabels: {case: ${spec.selectorCase}}}
  ${spec.namespaceSelector ? `namespaceSelector: ${spec.namespaceSelector}` : ''}
  failurePolicy: ${spec.failurePolicy ?? 'Fail'}
  timeoutSeconds: ${spec.timeoutSeconds ?? 10}
  sideEffects: ${spec.sideEffects ?? 'None'}
  admissionReviewVersions: ["v1"]
  ${mutating ? `reinvocationPolicy: ${spec.reinvocationPolicy ?? 'Never'}` : ''}
  ${spec.matchConditions ? `matchConditions: ${JSON.stringify(spec.matchConditions)}` : ''}
`;
}

function configuration(kind: 'Validating' | 'Mutating', name: string, webhooks: WebhookSpec[]): string {
  return `apiVersion: admissionregistration.k8s.io/v1
kind: ${kind}WebhookConfiguration
metadata: {name: ${name}}
webhooks:
${webhooks.map((webhook) => webhookYaml(webhook, kind === 'Mutating')).join('')}`;
}

function configMap(name: string, selectorCase: string, namespace = 'default'): string {
  return `apiVersion: v1
kind: ConfigMap
metadata: {name: ${name}, namespace: ${namespace}, labels: {case: ${selectorCase}}}
data: {a: "1"}
`;
}

const failed = (pattern: string) => (result: { code: number; stderr: string }) => result.code !== 0 && result.stderr.includes(pattern);

describe('admission webhooks with kubectl', { timeout: 600_000 }, () => {
  before(async () => {
    cluster = await Cluster.start();
    server = await startAdmissionWebhookServer(['localhost', 'hooks.webhooks.svc']);
  });
  after(async () => {
    await cluster?.stop();
    await server?.close();
    cluster?.cleanup();
  });

  it('an allowing webhook sees the request; a denying one stops it with its message', async () => {
    server.handlers.set('/allow', () => ({ allowed: true }));
    server.handlers.set('/deny', (request) => ({ allowed: request.object?.metadata?.name !== 'forbidden-cm', status: { code: 403, reason: 'Forbidden', message: 'this name is not allowed' } }));
    await ok(['create', '-f', manifest('allow.yaml', configuration('Validating', 'allow-and-deny', [
      { name: 'allow.example.com', path: '/allow', selectorCase: 'allow' },
      { name: 'deny.example.com', path: '/deny', selectorCase: 'deny' },
    ]))]);
    await eventually(['create', '-f', '-'], (result) => result.code === 0 && (server.reviews.get('/allow') ?? []).length > 0, configMap('allowed-cm', 'allow'));
    const review = server.reviews.get('/allow')!.at(-1)!;
    assert.equal(review.operation, 'CREATE');
    assert.deepEqual(review.resource, { group: '', version: 'v1', resource: 'configmaps' });
    assert.deepEqual(review.kind, { group: '', version: 'v1', kind: 'ConfigMap' });
    assert.equal(review.namespace, 'default');
    assert.equal(review.object.metadata.name, 'allowed-cm');
    assert.equal(review.userInfo.username, 'admin');
    assert.equal(review.dryRun, false);
    assert.equal(review.options.kind, 'CreateOptions');

    const denied = await eventually(['create', '-f', '-'], failed('denied the request'), configMap('forbidden-cm', 'deny'));
    assert.match(denied.stderr, /admission webhook "deny\.example\.com" denied the request: this name is not allowed/);
    assert.equal((await cluster.kubectl(['get', 'configmap', 'forbidden-cm'])).code, 1);
    // Another name passes the same webhook; an update of it is reviewed with the old object.
    await ok(['create', '-f', '-'], configMap('fine-cm', 'deny'));
    await ok(['label', 'configmap', 'fine-cm', 'extra=yes']);
    const update = server.reviews.get('/deny')!.at(-1)!;
    assert.equal(update.operation, 'UPDATE');
    assert.equal(update.oldObject.metadata.labels.extra, undefined);
    assert.equal(update.object.metadata.labels.extra, 'yes');
  });

  it('deletes are reviewed with the old object; kubectl 1.27 and 1.33 show a denial the same way', async () => {
    server.handlers.set('/no-delete', (request) => ({ allowed: request.operation !== 'DELETE', status: { message: `keep ${request.oldObject?.metadata?.name}` } }));
    await ok(['create', '-f', '-'], configMap('kept-cm', 'no-delete'));
    await ok(['create', '-f', '-'], `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: no-delete}
webhooks:
- name: no-delete.example.com
  clientConfig: {url: "${server.url('/no-delete')}", caBundle: ${server.caBundle}}
  rules: [{operations: ["DELETE"], apiGroups: [""], apiVersions: ["v1"], resources: ["configmaps"]}]
  objectSelector: {matchLabels: {case: no-delete}}
  sideEffects: None
  admissionReviewVersions: ["v1"]
`);
    const denied = await eventually(['delete', 'configmap', 'kept-cm'], failed('denied the request'));
    assert.match(denied.stderr, /admission webhook "no-delete\.example\.com" denied the request: keep kept-cm/);
    const review = server.reviews.get('/no-delete')!.at(-1)!;
    assert.equal(review.operation, 'DELETE');
    assert.equal(review.object, null);
    assert.equal(review.options.kind, 'DeleteOptions');
    // The webhook gave no reason, so there is none to print (upstream keeps the webhook's status as is).
    for (const version of ['1.27', '1.33']) {
      const result = await cluster.kubectl(['delete', 'configmap', 'kept-cm'], { version });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /Error from server: admission webhook "no-delete\.example\.com" denied the request: keep kept-cm/, `kubectl ${version}`);
    }
    await ok(['get', 'configmap', 'kept-cm']);
  });

  it('a mutating webhook patches the object with a JSONPatch', async () => {
    server.handlers.set('/mutate', (request) => ({
      allowed: true,
      patch: request.object.metadata.labels?.mutated ? [] : [{ op: 'add', path: '/metadata/labels/mutated', value: 'by-webhook' }],
    }));
    await ok(['create', '-f', manifest('mutate.yaml', configuration('Mutating', 'mutate', [{ name: 'mutate.example.com', path: '/mutate', selectorCase: 'mutate' }]))]);
    await eventually(['create', '-f', '-'], (result) => result.code === 0, configMap('mutated-cm', 'mutate'));
    await eventually(['get', 'configmap', 'mutated-cm', '-o', 'yaml'], (result) => result.code === 0);
    const object = parse((await ok(['get', 'configmap', 'mutated-cm', '-o', 'yaml'])).stdout) as { metadata: { labels: Record<string, string> } };
    if (object.metadata.labels.mutated === undefined) {
      // The configuration reached the cache after the create: a second object shows the patch.
      await ok(['create', '-f', '-'], configMap('mutated-cm-2', 'mutate'));
      const second = parse((await ok(['get', 'configmap', 'mutated-cm-2', '-o', 'yaml'])).stdout) as { metadata: { labels: Record<string, string> } };
      assert.equal(second.metadata.labels.mutated, 'by-webhook');
    } else assert.equal(object.metadata.labels.mutated, 'by-webhook');
  });

  it('failurePolicy Fail refuses when the webhook is down or too slow; Ignore lets the request through', async () => {
    const deadPort = await freePort();
    server.handlers.set('/slow', async () => {
      await new Promise((resolve) => setTimeout(resolve, 4000));
      return { allowed: false, status: { message: 'too late to matter' } };
    });
    await ok(['create', '-f', manifest('failing.yaml', configuration('Validating', 'failing', [
      { name: 'down-fail.example.com', url: `https://127.0.0.1:${deadPort}/down`, selectorCase: 'down-fail' },
      { name: 'down-ignore.example.com', url: `https://127.0.0.1:${deadPort}/down`, selectorCase: 'down-ignore', failurePolicy: 'Ignore' },
      { name: 'slow-fail.example.com', path: '/slow', selectorCase: 'slow-fail', timeoutSeconds: 1 },
      { name: 'slow-ignore.example.com', path: '/slow', selectorCase: 'slow-ignore', timeoutSeconds: 1, failurePolicy: 'Ignore' },
    ]))]);
    const down = await eventually(['create', '-f', '-'], failed('failed calling webhook'), configMap('down-fail', 'down-fail'));
    assert.ok(
      down.stderr.includes(`Internal error occurred: failed calling webhook "down-fail.example.com": failed to call webhook: Post "https://127.0.0.1:${deadPort}/down?timeout=10s": dial tcp 127.0.0.1:${deadPort}: connect: connection refused`),
      down.stderr,
    );
    await ok(['create', '-f', '-'], configMap('down-ignore', 'down-ignore'));
    const slow = await cluster.kubectl(['create', '-f', '-'], { input: configMap('slow-fail', 'slow-fail') });
    assert.notEqual(slow.code, 0);
    assert.ok(slow.stderr.includes(`failed calling webhook "slow-fail.example.com": failed to call webhook: Post "${server.url('/slow')}?timeout=1s": context deadline exceeded`), slow.stderr);
    await ok(['create', '-f', '-'], configMap('slow-ignore', 'slow-ignore'));
  });

  it('namespaceSelector, objectSelector and matchConditions decide which requests a webhook sees', async () => {
    server.handlers.set('/strict', () => ({ allowed: false, status: { message: 'strict namespace' } }));
    await ok(['create', 'namespace', 'relaxed']);
    await ok(['create', 'namespace', 'strict']);
    await ok(['label', 'namespace', 'strict', 'admission=strict']);
    await ok(['create', '-f', manifest('selectors.yaml', configuration('Validating', 'selectors', [
      {
        name: 'strict.example.com',
        path: '/strict',
        selectorCase: 'selectors',
        namespaceSelector: '{matchLabels: {admission: strict}}',
        matchConditions: [{ name: 'not-exempt', expression: "!object.metadata.name.startsWith('exempt-')" }],
      },
    ]))]);
    const denied = await eventually(['create', '-f', '-'], failed('strict namespace'), configMap('in-strict', 'selectors', 'strict'));
    assert.match(denied.stderr, /admission webhook "strict\.example\.com" denied the request: strict namespace/);
    await ok(['create', '-f', '-'], configMap('in-relaxed', 'selectors', 'relaxed')); // namespace labels do not match
    await ok(['create', '-f', '-'], configMap('unlabelled', 'other', 'strict')); // object labels do not match
    await ok(['create', '-f', '-'], configMap('exempt-by-condition', 'selectors', 'strict')); // matchCondition false
    const seen = (server.reviews.get('/strict') ?? []).map((request) => request.name);
    assert.ok(!seen.includes('in-relaxed') && !seen.includes('unlabelled') && !seen.includes('exempt-by-condition'), seen.join(','));
  });

  it('a webhook named by a service reference is reached through its Service and Endpoints', async () => {
    server.handlers.set('/by-service', () => ({ allowed: false, status: { message: 'reached through the service' } }));
    await ok(['create', 'namespace', 'webhooks']);
    await ok(['create', '-f', '-'], `apiVersion: v1
kind: Service
metadata: {name: hooks, namespace: webhooks}
spec: {ports: [{name: https, port: 443}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: hooks, namespace: webhooks}
subsets: [{addresses: [{ip: 127.0.0.1}], ports: [{name: https, port: ${server.port}}]}]
`);
    await ok(['create', '-f', manifest('service.yaml', configuration('Validating', 'by-service', [{ name: 'service.example.com', service: 'hooks', path: '/by-service', selectorCase: 'by-service' }]))]);
    const denied = await eventually(['create', '-f', '-'], failed('reached through the service'), configMap('via-service', 'by-service'));
    assert.match(denied.stderr, /admission webhook "service\.example\.com" denied the request: reached through the service/);
    // A service whose endpoint is down: the error names the service URL, as upstream's client addresses it.
    const deadPort = await freePort();
    await ok(['create', '-f', '-'], `apiVersion: v1
kind: Service
metadata: {name: dead-hooks, namespace: webhooks}
spec: {ports: [{name: https, port: 443}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: dead-hooks, namespace: webhooks}
subsets: [{addresses: [{ip: 127.0.0.1}], ports: [{name: https, port: ${deadPort}}]}]
`);
    await ok(['create', '-f', manifest('dead-service.yaml', configuration('Validating', 'dead-service', [{ name: 'dead-service.example.com', service: 'dead-hooks', path: '/check', selectorCase: 'dead-service' }]))]);
    const down = await eventually(['create', '-f', '-'], failed('failed calling webhook'), configMap('via-dead-service', 'dead-service'));
    assert.ok(
      down.stderr.includes(`failed calling webhook "dead-service.example.com": failed to call webhook: Post "https://dead-hooks.webhooks.svc:443/check?timeout=10s": dial tcp 127.0.0.1:${deadPort}: connect: connection refused`),
      down.stderr,
    );
  });

  it('warnings from a webhook are shown by kubectl; a server-side dry run reaches webhooks without side effects', async () => {
    server.handlers.set('/warn', () => ({ allowed: true, warnings: ['this ConfigMap is watched closely'] }));
    await ok(['create', '-f', manifest('warn.yaml', configuration('Validating', 'warn', [{ name: 'warn.example.com', path: '/warn', selectorCase: 'warn', sideEffects: 'NoneOnDryRun' }]))]);
    const warned = await eventually(['create', '-f', '-'], (result) => result.code === 0 && result.stderr.includes('Warning: this ConfigMap is watched closely'), configMap('warned-cm', 'warn'));
    assert.equal(warned.code, 0);
    const dry = await ok(['create', '--dry-run=server', '-f', '-'], configMap('dry-cm', 'warn'));
    assert.match(dry.stderr, /Warning: this ConfigMap is watched closely/);
    const review = server.reviews.get('/warn')!.at(-1)!;
    assert.equal(review.name, 'dry-cm');
    assert.equal(review.dryRun, true);
    assert.equal((await cluster.kubectl(['get', 'configmap', 'dry-cm'])).code, 1);
  });

  it('a mutating webhook with reinvocationPolicy IfNeeded runs again after a later webhook changed the object', async () => {
    server.handlers.set('/first', (request) => {
      const labels = request.object.metadata.labels ?? {};
      // Counts its own calls in an annotation, so the test sees whether it ran twice.
      const calls = Number(request.object.metadata.annotations?.['first-calls'] ?? '0') + 1;
      const annotations = request.object.metadata.annotations;
      const patch: unknown[] = [annotations ? { op: 'add', path: '/metadata/annotations/first-calls', value: String(calls) } : { op: 'add', path: '/metadata/annotations', value: { 'first-calls': String(calls) } }];
      if (labels.second) patch.push({ op: 'add', path: '/metadata/labels/first-saw-second', value: 'true' });
      return { allowed: true, patch };
    });
    server.handlers.set('/second', (request) => ({ allowed: true, patch: request.object.metadata.labels?.second ? [] : [{ op: 'add', path: '/metadata/labels/second', value: 'done' }] }));
    await ok(['create', '-f', '-'], `${configuration('Mutating', 'reinvoke-1', [{ name: 'first.example.com', path: '/first', selectorCase: 'reinvoke', reinvocationPolicy: 'IfNeeded' }])}---
${configuration('Mutating', 'reinvoke-2', [{ name: 'second.example.com', path: '/second', selectorCase: 'reinvoke' }])}`);
    let index = 0;
    // Create objects until both configurations are in the cache; the last one shows the reinvocation.
    for (;;) {
      const name = `reinvoked-${index++}`;
      await ok(['create', '-f', '-'], configMap(name, 'reinvoke'));
      const object = parse((await ok(['get', 'configmap', name, '-o', 'yaml'])).stdout) as { metadata: { labels: Record<string, string>; annotations?: Record<string, string> } };
      if (object.metadata.labels.second === 'done' && object.metadata.annotations?.['first-calls']) {
        assert.equal(object.metadata.labels['first-saw-second'], 'true');
        assert.equal(object.metadata.annotations['first-calls'], '2');
        break;
      }
      assert.ok(index < 40, 'the mutating configurations never took effect');
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  });

  it('a ValidatingAdmissionPolicy bound with Deny refuses Deployments with more than 5 replicas', async () => {
    await ok(['create', '-f', '-'], `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replica-limit}
spec:
  failurePolicy: Fail
  matchConstraints:
    # The scale subresource is a resource of its own to match (an autoscaling/v1 Scale), as upstream.
    resourceRules: [{apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["deployments", "deployments/scale"]}]
  validations:
  - expression: "object.spec.replicas <= 5"
    message: "replicas must be no greater than 5"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replica-limit-binding}
spec:
  policyName: replica-limit
  validationActions: [Deny]
`);
    const listed = await ok(['get', 'validatingadmissionpolicies']);
    assert.match(listed.stdout, /NAME\s+VALIDATIONS\s+PARAMKIND\s+AGE/);
    assert.match(listed.stdout, /replica-limit\s+1\s+<unset>/);
    const deployment = (name: string, replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: default}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: web, image: nginx}]}
`;
    const denied = await eventually(['create', '-f', '-'], failed('denied request'), deployment('too-big', 6));
    // kubectl's rendering of upstream's 422 (reason Invalid, one cause without a field), as on a real cluster.
    assert.ok(denied.stderr.includes(`The deployments "too-big" is invalid: : ValidatingAdmissionPolicy 'replica-limit' with binding 'replica-limit-binding' denied request: replicas must be no greater than 5`), denied.stderr);
    await ok(['create', '-f', '-'], deployment('small-enough', 3));
    const scaled = await cluster.kubectl(['scale', 'deployment', 'small-enough', '--replicas=9']);
    assert.notEqual(scaled.code, 0);
    assert.match(scaled.stderr, /replicas must be no greater than 5/);
  });

  it('a Warn binding turns a failed validation into a warning; params come from a ConfigMap', async () => {
    await ok(['create', 'namespace', 'policy-params']);
    await ok(['create', 'configmap', 'max-keys', '-n', 'policy-params', '--from-literal=max=2']);
    await ok(['create', '-f', '-'], `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: configmap-size}
spec:
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["configmaps"]}]
    objectSelector: {matchLabels: {case: sized}}
  validations:
  - expression: "size(object.data) <= int(params.data.max)"
    messageExpression: "'too many keys: ' + string(size(object.data)) + ' > ' + params.data.max"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: configmap-size-warn}
spec:
  policyName: configmap-size
  validationActions: [Warn]
  paramRef: {name: max-keys, namespace: policy-params, parameterNotFoundAction: Deny}
`);
    const sized = (name: string, keys: number) => `apiVersion: v1
kind: ConfigMap
metadata: {name: ${name}, namespace: default, labels: {case: sized}}
data: {${Array.from({ length: keys }, (_, index) => `k${index}: "v"`).join(', ')}}
`;
    const warned = await eventually(['create', '-f', '-'], (result) => result.code === 0 && result.stderr.includes('Warning:'), sized('many-keys', 3));
    assert.match(warned.stderr, /Warning: Validation failed for ValidatingAdmissionPolicy 'configmap-size' with binding 'configmap-size-warn': too many keys: 3 > 2/);
    const quiet = await ok(['create', '-f', '-'], sized('few-keys', 1));
    assert.doesNotMatch(quiet.stderr, /Warning/);
    // Without its param the binding denies (parameterNotFoundAction Deny).
    await ok(['delete', 'configmap', 'max-keys', '-n', 'policy-params']);
    const missing = await eventually(['create', '-f', '-'], failed('no params found'), sized('no-params', 1));
    assert.match(missing.stderr, /ValidatingAdmissionPolicy 'configmap-size' with binding 'configmap-size-warn' denied request: failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction/);
  });

  it('custom resources served by apiextensions go through the webhooks configured in core', async () => {
    server.handlers.set('/widgets', (request) => ({
      allowed: request.object.spec?.size !== 'huge',
      status: { message: 'huge widgets are not allowed' },
      patch: request.object.metadata.labels?.checked ? [] : [{ op: 'add', path: '/metadata/labels', value: { ...(request.object.metadata.labels ?? {}), checked: 'yes' } }],
    }));
    await ok(['create', '-f', '-'], `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.hooks.example.com}
spec:
  group: hooks.example.com
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
          spec: {type: object, properties: {size: {type: string}}}
`);
    await ok(['create', '-f', '-'], `apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: widgets}
webhooks:
- name: widgets.hooks.example.com
  clientConfig: {url: "${server.url('/widgets')}", caBundle: ${server.caBundle}}
  rules: [{operations: ["CREATE"], apiGroups: ["hooks.example.com"], apiVersions: ["*"], resources: ["widgets"], scope: Namespaced}]
  sideEffects: None
  admissionReviewVersions: ["v1"]
`);
    const widget = (name: string, size: string) => `apiVersion: hooks.example.com/v1
kind: Widget
metadata: {name: ${name}, namespace: default}
spec: {size: ${size}}
`;
    const denied = await eventually(['create', '-f', '-'], failed('huge widgets'), widget('big-widget', 'huge'), 40_000);
    assert.match(denied.stderr, /admission webhook "widgets\.hooks\.example\.com" denied the request: huge widgets are not allowed/);
    await ok(['create', '-f', '-'], widget('small-widget', 'small'));
    const object = parse((await ok(['get', 'widgets', 'small-widget', '-o', 'yaml'])).stdout) as { metadata: { labels: Record<string, string> } };
    assert.equal(object.metadata.labels.checked, 'yes');
    const review = server.reviews.get('/widgets')!.at(-1)!;
    assert.deepEqual(review.resource, { group: 'hooks.example.com', version: 'v1', resource: 'widgets' });
  });

  it('a policy asks RBAC through CEL’s authorizer: only users who may read the namespace’s secrets may write its ConfigMaps', async () => {
    await ok(['create', 'namespace', 'guarded']);
    await ok(['create', '-f', '-'], `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: config-guard}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["configmaps"]}]
  variables:
  - name: readsSecrets
    expression: "authorizer.group('').resource('secrets').namespace(request.namespace).check('get').allowed()"
  validations:
  - expression: "request.namespace != 'guarded' || variables.readsSecrets"
    messageExpression: "'user ' + request.userInfo.username + ' may not read secrets in ' + request.namespace + ' (may create configmaps: ' + string(authorizer.requestResource.check('create').allowed()) + ')'"
    reason: Forbidden
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: config-guard}
spec:
  policyName: config-guard
  validationActions: [Deny]
`);
    await ok(['create', 'role', 'cm-writer', '-n', 'guarded', '--verb=create', '--resource=configmaps']);
    await ok(['create', 'rolebinding', 'cm-writer', '-n', 'guarded', '--role=cm-writer', '--user=bob']);
    const denied = await eventually(['create', 'configmap', 'first', '-n', 'guarded', '--as=bob'], failed('may not read secrets'));
    assert.equal(denied.stderr.trim(), `error: failed to create configmap: configmaps "first" is forbidden: ValidatingAdmissionPolicy 'config-guard' with binding 'config-guard' denied request: user bob may not read secrets in guarded (may create configmaps: true)`);
    await ok(['create', 'configmap', 'by-admin', '-n', 'guarded']);
    await ok(['create', 'role', 'secret-reader', '-n', 'guarded', '--verb=get', '--resource=secrets']);
    await ok(['create', 'rolebinding', 'secret-reader', '-n', 'guarded', '--role=secret-reader', '--user=bob']);
    await eventually(['create', 'configmap', 'second', '-n', 'guarded', '--as=bob'], (result) => result.code === 0);
  });

  it('policies apply to custom resources too, with params from core read by apiextensions', async () => {
    await ok(['create', 'configmap', 'widget-sizes', '-n', 'default', '--from-literal=allowed=small,medium']);
    await ok(['create', '-f', '-'], `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: widget-sizes}
spec:
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules: [{apiGroups: ["hooks.example.com"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["widgets"]}]
  validations:
  - expression: "object.spec.size in params.data.allowed.split(',')"
    messageExpression: "'size ' + object.spec.size + ' is not one of ' + params.data.allowed"
    reason: Forbidden
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: widget-sizes}
spec:
  policyName: widget-sizes
  validationActions: [Deny]
  paramRef: {name: widget-sizes, namespace: default, parameterNotFoundAction: Deny}
`);
    const widget = (name: string, size: string) => `apiVersion: hooks.example.com/v1
kind: Widget
metadata: {name: ${name}, namespace: default}
spec: {size: ${size}}
`;
    const denied = await eventually(['create', '-f', '-'], failed('is not one of'), widget('large-widget', 'large'), 40_000);
    assert.ok(denied.stderr.includes(`Error from server (Forbidden): error when creating "STDIN": widgets.hooks.example.com "large-widget" is forbidden: ValidatingAdmissionPolicy 'widget-sizes' with binding 'widget-sizes' denied request: size large is not one of small,medium`), denied.stderr);
    await ok(['create', '-f', '-'], widget('medium-widget', 'medium'));
  });

  it('configurations whose CEL does not compile, or bindings that both deny and warn, are refused with 422', async () => {
    const result = await cluster.kubectl(['create', '-f', '-'], {
      input: `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: bad-condition}
webhooks:
- name: bad.example.com
  clientConfig: {url: "https://127.0.0.1:1/x"}
  rules: [{operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["configmaps"]}]
  sideEffects: None
  admissionReviewVersions: ["v1"]
  matchConditions: [{name: typo, expression: "object.metadata.name ==== 'x'"}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: bad-policy}
spec:
  matchConstraints: {resourceRules: [{apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["deployments"]}]}
  validations: [{expression: "object.spec.replicas <"}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: bad-binding}
spec: {policyName: x, validationActions: [Deny, Warn]}
`,
    });
    assert.notEqual(result.code, 0);
    assert.ok(result.stderr.includes(`ValidatingWebhookConfiguration.admissionregistration.k8s.io "bad-condition" is invalid: webhooks[0].matchConditions[0].expression: Invalid value: "object.metadata.name ==== 'x'": compilation failed: ERROR: <input>:1:24:`), result.stderr);
    assert.ok(result.stderr.includes(`ValidatingAdmissionPolicy.admissionregistration.k8s.io "bad-policy" is invalid: spec.validations[0].expression: Invalid value: "object.spec.replicas <": compilation failed: ERROR: <input>:1:23:`), result.stderr);
    assert.ok(result.stderr.includes('spec.validationActions: Invalid value: []string{"Deny", "Warn"}: must not contain both Deny and Warn'), result.stderr);
  });
});
