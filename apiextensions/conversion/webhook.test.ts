// The webhook converter against a real HTTPS webhook: the happy path, then each way a webhook can fail,
// with upstream's messages.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { StatusError } from '../../apiserver/request/status.js';
import { WebhookConverter } from './webhook.js';
import { convertCronTabs, startTestWebhook, type ConversionRequest, type TestWebhook } from './test-webhook.js';
import { crdConverter } from './converter.js';

let webhook: TestWebhook;

before(async () => {
  webhook = await startTestWebhook();
});

after(async () => {
  await webhook.close();
});

function cronTab(name = 'a'): KubeObject {
  return {
    apiVersion: 'stable.example.com/v1beta1',
    kind: 'CronTab',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: '7', labels: { app: 'x' }, creationTimestamp: '2024-01-01T00:00:00Z' },
    spec: { cronSpec: '* * * * *' },
  };
}

function converter(overrides: Record<string, unknown> = {}): WebhookConverter {
  return new WebhookConverter({ clientConfig: { url: webhook.url, caBundle: webhook.caBundle }, conversionReviewVersions: ['v1'], ...overrides }, undefined);
}

/** Answers well, then lets `change` spoil the response. */
function spoil(change: (response: Record<string, any>, request: ConversionRequest) => void): (request: ConversionRequest) => unknown { // eslint-disable-line @typescript-eslint/no-explicit-any
  return (request) => {
    const answer = convertCronTabs(request) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    change(answer, request);
    return answer;
  };
}

async function failure(promise: Promise<unknown>): Promise<StatusError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof StatusError, String(error));
    return error;
  }
  assert.fail('expected the conversion to fail');
}

describe('conversion strategy None', () => {
  it('rewrites apiVersion only', async () => {
    const none = crdConverter({ group: 'stable.example.com', scope: 'Namespaced', names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList' }, versions: [{ name: 'v1', served: true, storage: true }], conversion: { strategy: 'None' } }, undefined);
    assert.equal(none.storageVersion, 'v1');
    const [converted] = await none.convert([cronTab()], 'v1');
    assert.deepEqual(converted, { ...cronTab(), apiVersion: 'stable.example.com/v1' });
  });
});

describe('conversion webhook', () => {
  it('sends a v1 ConversionReview and returns the converted objects, metadata kept', async () => {
    webhook.answer = convertCronTabs;
    const converted = await converter().convert([cronTab('a'), cronTab('b')], 'v1', 'stable.example.com');
    const review = webhook.reviews.at(-1)!;
    assert.equal(review.desiredAPIVersion, 'stable.example.com/v1');
    assert.equal(review.objects.length, 2);
    assert.match(review.uid, /^[0-9a-f-]{36}$/);
    assert.deepEqual(converted.map((object) => [object.apiVersion, object.metadata.name, object.spec]), [
      ['stable.example.com/v1', 'a', { schedule: '* * * * *' }],
      ['stable.example.com/v1', 'b', { schedule: '* * * * *' }],
    ]);
  });

  it('takes label and annotation changes but restores the rest of metadata', async () => {
    webhook.answer = spoil((answer) => {
      const metadata = answer.response.convertedObjects[0].metadata;
      metadata.labels = { app: 'y' };
      metadata.annotations = { note: 'converted' };
      metadata.resourceVersion = '999';
      metadata.finalizers = ['sneaky'];
    });
    const [converted] = await converter().convert([cronTab()], 'v1', 'stable.example.com');
    assert.deepEqual(converted.metadata, { ...cronTab().metadata, labels: { app: 'y' }, annotations: { note: 'converted' } });
  });

  const failures: { name: string; answer: (request: ConversionRequest) => unknown; message: string | RegExp }[] = [
    { name: 'a different uid', answer: spoil((answer) => (answer.response.uid = 'other')), message: /^conversion webhook for stable\.example\.com\/v1beta1, Kind=CronTab failed: expected response\.uid="[0-9a-f-]+", got "other"$/ },
    { name: 'a failed result with a message', answer: spoil((answer) => (answer.response.result = { status: 'Failure', message: 'cannot convert cronSpec' })), message: 'conversion webhook for stable.example.com/v1beta1, Kind=CronTab failed: cannot convert cronSpec' },
    { name: 'a failed result without a message', answer: spoil((answer) => (answer.response.result = { status: 'Failure' })), message: "conversion webhook for stable.example.com/v1beta1, Kind=CronTab failed: response.result.status was 'Failure', not 'Success'" },
    { name: 'no response', answer: spoil((answer) => delete answer.response), message: 'conversion webhook for stable.example.com/v1beta1, Kind=CronTab failed: no response provided' },
    { name: 'a response of another kind', answer: spoil((answer) => (answer.kind = 'AdmissionReview')), message: 'conversion webhook for stable.example.com/v1beta1, Kind=CronTab failed: expected webhook response of apiextensions.k8s.io/v1, Kind=ConversionReview, got apiextensions.k8s.io/v1, Kind=AdmissionReview' },
    { name: 'too few objects', answer: spoil((answer) => (answer.response.convertedObjects = [])), message: 'conversion webhook for stable.example.com/v1beta1, Kind=CronTab returned 0 objects, expected 1' },
    { name: 'the wrong apiVersion', answer: spoil((answer) => (answer.response.convertedObjects[0].apiVersion = 'stable.example.com/v1beta1')), message: 'conversion webhook for stable.example.com/v1beta1, Kind=CronTab returned invalid converted object at index 0: invalid groupVersion (expected stable.example.com/v1, received stable.example.com/v1beta1)' },
    { name: 'the wrong kind', answer: spoil((answer) => (answer.response.convertedObjects[0].kind = 'Other')), message: 'conversion webhook for stable.example.com/v1beta1, Kind=CronTab returned invalid converted object at index 0: invalid kind (expected CronTab, received Other)' },
    { name: 'a changed name', answer: spoil((answer) => (answer.response.convertedObjects[0].metadata.name = 'renamed')), message: 'conversion webhook for stable.example.com/v1beta1, Kind=CronTab returned invalid converted object at index 0: must have the same name: a != renamed' },
    { name: 'a changed uid', answer: spoil((answer) => (answer.response.convertedObjects[0].metadata.uid = 'x')), message: 'conversion webhook for stable.example.com/v1beta1, Kind=CronTab returned invalid converted object at index 0: must have the same UID: uid-a != x' },
    { name: 'invalid labels', answer: spoil((answer) => (answer.response.convertedObjects[0].metadata.labels = { 'bad key!': 'v' })), message: /^conversion webhook for stable\.example\.com\/v1beta1, Kind=CronTab returned invalid metadata in object at index 0: metadata\.labels: Invalid value: "bad key!": / },
    { name: 'missing metadata', answer: spoil((answer) => delete answer.response.convertedObjects[0].metadata), message: 'conversion webhook for stable.example.com/v1beta1, Kind=CronTab returned invalid converted object at index 0: must have the same name: a != ' },
    { name: 'an HTTP error', answer: () => [500, 'boom'], message: 'conversion webhook for stable.example.com/v1beta1, Kind=CronTab failed: an error on the server ("boom") has prevented the request from succeeding' },
    { name: 'a body that is not JSON', answer: () => [200, 'not json'], message: /^conversion webhook for stable\.example\.com\/v1beta1, Kind=CronTab failed: couldn't decode the webhook response: / },
  ];
  for (const { name, answer, message } of failures) {
    it(`fails with a 500 on ${name}`, async () => {
      webhook.answer = answer;
      const error = await failure(converter().convert([cronTab()], 'v1', 'stable.example.com'));
      assert.equal(error.code, 500);
      if (typeof message === 'string') assert.equal(error.message, message);
      else assert.match(error.message, message);
    });
  }

  it('fails when the webhook cannot be reached', async () => {
    const error = await failure(new WebhookConverter({ clientConfig: { url: 'https://127.0.0.1:1/convert', caBundle: webhook.caBundle }, conversionReviewVersions: ['v1'] }, undefined).convert([cronTab()], 'v1', 'stable.example.com'));
    assert.match(error.message, /^conversion webhook for stable\.example\.com\/v1beta1, Kind=CronTab failed: Post "https:\/\/127\.0\.0\.1:1\/convert\?timeout=30s": connect ECONNREFUSED/);
  });

  it('fails when the webhook certificate is not signed by the caBundle', async () => {
    webhook.answer = convertCronTabs;
    const error = await failure(converter({ clientConfig: { url: webhook.url } }).convert([cronTab()], 'v1', 'stable.example.com'));
    assert.match(error.message, /failed: Post "https:\/\/127\.0\.0\.1:\d+\/convert\?timeout=30s": .*(self-signed|unable to verify|issuer)/);
  });

  it('resolves a service reference through the resolver and verifies the service name', async () => {
    const service = await startTestWebhook(['conversion.webhooks.svc']);
    try {
      const resolved: string[] = [];
      const resolver = {
        resolve: async (namespace: string, name: string, port: number) => {
          resolved.push(`${namespace}/${name}:${port}`);
          return `https://127.0.0.1:${service.port}`;
        },
      };
      const viaService = new WebhookConverter({ clientConfig: { service: { namespace: 'webhooks', name: 'conversion', path: '/convert', port: 8443 }, caBundle: service.caBundle }, conversionReviewVersions: ['v1beta1', 'v1'] }, resolver);
      const [converted] = await viaService.convert([cronTab()], 'v1', 'stable.example.com');
      assert.deepEqual(resolved, ['webhooks/conversion:8443']);
      assert.deepEqual(converted.spec, { schedule: '* * * * *' });
    } finally {
      await service.close();
    }
  });
});
