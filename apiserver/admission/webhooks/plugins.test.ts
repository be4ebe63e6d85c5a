import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../registry/object.js';
import type { AdmissionAttributes, AdmissionContext } from '../interface.js';
import type { ObjectSource } from '../sources.js';
import { mutatingWebhookPlugin, validatingWebhookPlugin } from './plugins.js';
import { startAdmissionWebhookServer, type AdmissionWebhookServer } from '../../../test/admission-webhook-server.js';

let server: AdmissionWebhookServer;

function source(objects: KubeObject[]): ObjectSource {
  return { synced: true, list: () => objects, get: (_namespace, name) => objects.find((object) => object.metadata.name === name) };
}

const namespaces = source([{ metadata: { name: 'default' } }]);

function configuration(name: string, webhooks: Record<string, unknown>[], resourceVersion = '1'): KubeObject {
  return {
    metadata: { name, uid: name, resourceVersion },
    webhooks: webhooks.map((webhook) => ({
      rules: [{ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*'] }],
      sideEffects: 'None',
      failurePolicy: 'Fail',
      admissionReviewVersions: ['v1'],
      namespaceSelector: {},
      objectSelector: {},
      ...webhook,
      clientConfig: { url: server.url(String(webhook.path)), caBundle: server.caBundle },
    })),
  };
}

function attributes(overrides: Partial<AdmissionAttributes> = {}): AdmissionAttributes {
  return {
    operation: 'CREATE',
    resource: { group: '', version: 'v1', resource: 'configmaps' },
    subresource: '',
    kind: { group: '', version: 'v1', kind: 'ConfigMap' },
    namespace: 'default',
    name: 'cm',
    object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'default' }, data: { a: '1' } },
    dryRun: false,
    user: { username: 'admin', groups: ['system:masters'] },
    ...overrides,
  };
}

const context = (): AdmissionContext => ({ warnings: [], auditAnnotations: {} });

describe('admission webhook plugins', () => {
  before(async () => {
    server = await startAdmissionWebhookServer();
  });
  after(() => server.close());

  it('a webhook with side effects refuses a dry run as upstream (400)', async () => {
    server.handlers.set('/effects', () => ({ allowed: true }));
    const plugin = validatingWebhookPlugin({ configurations: source([configuration('effects', [{ name: 'effects.example.com', path: '/effects', sideEffects: 'Some' }])]), namespaces });
    await assert.rejects(plugin.validate!(attributes({ dryRun: true }), context()), (error: { code: number; message: string }) => error.code === 400 && error.message === 'admission webhook "effects.example.com" does not support dry run');
    await plugin.validate!(attributes(), context());
  });

  it('a denial keeps the webhook\'s code and reason, at least 400, and says who denied it', async () => {
    server.handlers.set('/deny-422', () => ({ allowed: false, status: { code: 422, reason: 'Invalid', message: 'no' } }));
    server.handlers.set('/deny-bare', () => ({ allowed: false, status: { code: 200 } }));
    const plugin = validatingWebhookPlugin({ configurations: source([configuration('deny', [{ name: 'deny.example.com', path: '/deny-422' }])]), namespaces });
    await assert.rejects(plugin.validate!(attributes(), context()), (error: { code: number; reason: string; message: string }) => error.code === 422 && error.reason === 'Invalid' && error.message === 'admission webhook "deny.example.com" denied the request: no');
    const bare = validatingWebhookPlugin({ configurations: source([configuration('bare', [{ name: 'bare.example.com', path: '/deny-bare' }])]), namespaces });
    await assert.rejects(bare.validate!(attributes(), context()), (error: { code: number; message: string }) => error.code === 400 && error.message === 'admission webhook "bare.example.com" denied the request without explanation');
  });

  it('an unusable answer (a patch from a validating webhook) is a call failure judged by the failure policy', async () => {
    server.handlers.set('/patching-validator', () => ({ allowed: true, patch: [{ op: 'add', path: '/data/b', value: '2' }] }));
    const failing = validatingWebhookPlugin({ configurations: source([configuration('patcher', [{ name: 'patcher.example.com', path: '/patching-validator' }])]), namespaces });
    await assert.rejects(failing.validate!(attributes(), context()), (error: { code: number; message: string }) =>
      error.code === 500 && error.message === 'Internal error occurred: failed calling webhook "patcher.example.com": received invalid webhook response: validating webhook may not return response.patch');
    const ignoring = validatingWebhookPlugin({ configurations: source([configuration('patcher', [{ name: 'patcher.example.com', path: '/patching-validator', failurePolicy: 'Ignore' }])]), namespaces });
    const ctx = context();
    await ignoring.validate!(attributes(), ctx);
    assert.equal(ctx.auditAnnotations['failed-open.validating.webhook.admission.k8s.io/round_0_index_0'], 'patcher.example.com');
  });

  it('an answer to another review (uid) fails a v1 webhook; a v1beta1-only webhook gets a v1beta1 review, never checked for it', async () => {
    server.handlers.set('/other-uid', () => ({ uid: 'someone-else', allowed: false, status: { message: 'denied anyway' } }));
    const v1 = validatingWebhookPlugin({ configurations: source([configuration('uid', [{ name: 'uid.example.com', path: '/other-uid' }])]), namespaces });
    await assert.rejects(v1.validate!(attributes(), context()), (error: { message: string }) => /failed calling webhook "uid\.example\.com": received invalid webhook response: expected response\.uid="[^"]+", got "someone-else"$/.test(error.message));
    const v1beta1 = validatingWebhookPlugin({ configurations: source([configuration('uid', [{ name: 'uid.example.com', path: '/other-uid', admissionReviewVersions: ['v1beta1'] }])]), namespaces });
    await assert.rejects(v1beta1.validate!(attributes(), context()), (error: { message: string }) => error.message === 'admission webhook "uid.example.com" denied the request: denied anyway');
    const unknown = validatingWebhookPlugin({ configurations: source([configuration('uid', [{ name: 'uid.example.com', path: '/other-uid', admissionReviewVersions: ['v2'] }])]), namespaces });
    await assert.rejects(unknown.validate!(attributes(), context()), (error: { message: string }) => error.message.endsWith('could not create admission objects: webhook does not accept known AdmissionReview versions'));
  });

  it('warnings and audit annotations from responses reach the request context', async () => {
    server.handlers.set('/notes', () => ({ allowed: true, warnings: ['be careful'], auditAnnotations: { reviewed: 'yes' } }));
    const plugin = validatingWebhookPlugin({ configurations: source([configuration('notes', [{ name: 'notes.example.com', path: '/notes' }])]), namespaces });
    const ctx = context();
    await plugin.validate!(attributes(), ctx);
    assert.deepEqual(ctx.warnings, ['be careful']);
    assert.equal(ctx.auditAnnotations['notes.example.com/reviewed'], 'yes');
  });

  it('a mutating webhook patches in place; it may not move the object to another namespace', async () => {
    server.handlers.set('/add', () => ({ allowed: true, patch: [{ op: 'add', path: '/data/added', value: 'yes' }] }));
    server.handlers.set('/move', () => ({ allowed: true, patch: [{ op: 'replace', path: '/metadata/namespace', value: 'elsewhere' }] }));
    const plugin = mutatingWebhookPlugin({ configurations: source([configuration('add', [{ name: 'add.example.com', path: '/add' }])]), namespaces });
    const request = attributes();
    const object = request.object!;
    const ctx = context();
    await plugin.admit!(request, ctx);
    assert.equal(object.data.added, 'yes');
    assert.equal(request.object, object);
    assert.equal(ctx.auditAnnotations['mutation.webhook.admission.k8s.io/round_0_index_0'], JSON.stringify({ configuration: 'add', webhook: 'add.example.com', mutated: true }));
    const mover = mutatingWebhookPlugin({ configurations: source([configuration('move', [{ name: 'move.example.com', path: '/move' }])]), namespaces });
    await assert.rejects(mover.admit!(attributes(), context()), (error: { code: number; message: string }) => error.code === 400 && error.message === 'the namespace of the provided object does not match the namespace sent on the request');
  });

  it('a matchCondition that cannot be evaluated fails closed, or is skipped with Ignore', async () => {
    server.handlers.set('/conditional', () => ({ allowed: false, status: { message: 'called' } }));
    const condition = [{ name: 'broken', expression: 'object.nothing.here == 1' }];
    const closed = validatingWebhookPlugin({ configurations: source([configuration('cond', [{ name: 'cond.example.com', path: '/conditional', matchConditions: condition }])]), namespaces });
    await assert.rejects(closed.validate!(attributes(), context()), (error: { code: number; message: string }) => error.code === 500 && error.message.startsWith('Internal error occurred: failed calling webhook "cond.example.com": failed to evaluate'));
    const open = validatingWebhookPlugin({ configurations: source([configuration('cond', [{ name: 'cond.example.com', path: '/conditional', matchConditions: condition, failurePolicy: 'Ignore' }])]), namespaces });
    await open.validate!(attributes(), context());
  });

  it('matchConditions may ask the authorizer: the webhook is called only for users the check selects', async () => {
    let calls = 0;
    server.handlers.set('/authorized', () => {
      calls++;
      return { allowed: true };
    });
    // Only users who may not read secrets in the namespace go through this webhook.
    const condition = [{ name: 'untrusted', expression: "!authorizer.group('').resource('secrets').namespace(request.namespace).check('get').allowed()" }];
    const plugin = validatingWebhookPlugin({
      configurations: source([configuration('authz', [{ name: 'authz.example.com', path: '/authorized', matchConditions: condition }])]),
      namespaces,
      authorizer: () => async (user, info) => ({ allowed: user.username === 'admin' && info.resource === 'secrets' && info.namespace === 'default' }),
    });
    await plugin.validate!(attributes(), context());
    assert.equal(calls, 0);
    await plugin.validate!(attributes({ user: { username: 'bob', groups: [] } }), context());
    assert.equal(calls, 1);
  });
});
