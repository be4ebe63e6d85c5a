// CRDs in several versions with the real launcher and the real kubectl: create through a deprecated
// version (warning on stderr), read in the storage version, storedVersions, field selectors on
// selectableFields, a conversion webhook reached through a Service and its Endpoints (HTTPS, served by
// this test process with a certificate from the project's PKI helpers), and a non-structural CRD
// rejected with its violations grouped by cause.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Cluster } from './harness.js';
import { startTestWebhook, type TestWebhook } from '../apiextensions/conversion/test-webhook.js';

let cluster: Cluster;
let webhook: TestWebhook;

async function ok(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const result = await cluster.kubectl(args);
  assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
  return result;
}

/** Retries while discovery catches up (kubectl's cache and the aggregator's one-second poll). */
async function eventually(args: string[], accept: (stdout: string) => boolean, timeoutMs = 15_000): Promise<{ stdout: string; stderr: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await cluster.kubectl(args);
    if (result.code === 0 && accept(result.stdout)) return result;
    if (Date.now() > deadline) assert.fail(`kubectl ${args.join(' ')} never succeeded:\n${result.stderr}\n${result.stdout}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

function manifest(name: string, content: string): string {
  const file = join(cluster.dataDir, name);
  writeFileSync(file, content);
  return file;
}

const versionSchema = (field: string) => `
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              ${field}: {type: string}
              color: {type: string}
              replicas: {type: integer}`;

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]}
  versions:
  - name: v1beta1
    served: true
    storage: false
    deprecated: true${versionSchema('cronSpec')}
    selectableFields: [{jsonPath: .spec.color}]
  - name: v1
    served: true
    storage: true${versionSchema('cronSpec')}
    selectableFields: [{jsonPath: .spec.color}]
    additionalPrinterColumns:
    - {name: Color, type: string, jsonPath: .spec.color}
`;

const cronTab = (name: string, color: string) => `apiVersion: stable.example.com/v1beta1
kind: CronTab
metadata: {name: ${name}, namespace: default}
spec: {cronSpec: "* * * * */5", color: ${color}, replicas: 1}
`;

describe('CRD versions with kubectl', () => {
  before(async () => {
    cluster = await Cluster.start();
    webhook = await startTestWebhook(['crontab-conversion.webhooks.svc']);
  });

  after(async () => {
    await webhook.close();
    const code = await cluster.stop();
    cluster.cleanup();
    assert.equal(code, 0, 'the launcher exits cleanly on SIGTERM');
  });

  it('creates through the deprecated version, with the deprecation warning on stderr', async () => {
    await ok(['apply', '-f', manifest('crd.yaml', CRD)]);
    await ok(['wait', '--for=condition=Established', 'crd/crontabs.stable.example.com', '--timeout=30s']);
    const created = await eventually(['apply', '-f', manifest('cr.yaml', cronTab('my-cron', 'blue'))], () => true);
    assert.match(created.stdout, /crontab.stable.example.com\/my-cron created/);
    assert.match(created.stderr, /Warning: stable\.example\.com\/v1beta1 CronTab is deprecated; use stable\.example\.com\/v1 CronTab/);
    await ok(['apply', '-f', manifest('cr2.yaml', cronTab('other-cron', 'red'))]);
  });

  it('reads it in the storage version', async () => {
    const yaml = parse((await ok(['get', 'crontabs.v1.stable.example.com', 'my-cron', '-o', 'yaml'])).stdout) as { apiVersion: string; spec: unknown };
    assert.equal(yaml.apiVersion, 'stable.example.com/v1');
    assert.deepEqual(yaml.spec, { cronSpec: '* * * * */5', color: 'blue', replicas: 1 });
    const beta = await ok(['get', 'crontabs.v1beta1.stable.example.com', 'my-cron', '-o', 'jsonpath={.apiVersion}']);
    assert.equal(beta.stdout, 'stable.example.com/v1beta1');
    assert.match(beta.stderr, /Warning: stable\.example\.com\/v1beta1 CronTab is deprecated/);
    assert.match((await ok(['get', 'crontabs'])).stdout, /my-cron\s+blue/);
    assert.equal((await ok(['get', 'crd', 'crontabs.stable.example.com', '-o', 'jsonpath={.status.storedVersions}'])).stdout, '["v1"]');
  });

  it('selects by a selectableField with --field-selector', async () => {
    const blue = await ok(['get', 'crontabs', '--field-selector', 'spec.color=blue', '-o', 'name']);
    assert.equal(blue.stdout.trim(), 'crontab.stable.example.com/my-cron');
    const notRed = await ok(['get', 'crontabs', '--field-selector', 'spec.color!=red,metadata.namespace=default', '-o', 'name']);
    assert.equal(notRed.stdout.trim(), 'crontab.stable.example.com/my-cron');
    const unknown = await cluster.kubectl(['get', 'crontabs', '--field-selector', 'spec.replicas=1']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /field label not supported: spec\.replicas/);
  });

  it('converts through a webhook behind a Service and its Endpoints', async () => {
    const caBundle = webhook.caBundle;
    await ok(['create', 'namespace', 'webhooks']);
    await ok([
      'apply',
      '-f',
      manifest(
        'webhook-service.yaml',
        `apiVersion: v1
kind: Service
metadata: {name: crontab-conversion, namespace: webhooks}
spec: {ports: [{name: https, port: 443}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: crontab-conversion, namespace: webhooks}
subsets: [{addresses: [{ip: 127.0.0.1}], ports: [{name: https, port: ${webhook.port}}]}]
`,
      ),
    ]);
    const webhookCrd = CRD.replace(/crontabs\.stable\.example\.com/g, 'crontabs.conv.example.com')
      .replace('group: stable.example.com', 'group: conv.example.com')
      .replace(`storage: true${versionSchema('cronSpec')}`, `storage: true${versionSchema('schedule')}`)
      .replace('  versions:\n', `  conversion:\n    strategy: Webhook\n    webhook:\n      conversionReviewVersions: [v1]\n      clientConfig:\n        caBundle: ${caBundle}\n        service: {namespace: webhooks, name: crontab-conversion, path: /convert, port: 443}\n  versions:\n`);
    await ok(['apply', '-f', manifest('webhook-crd.yaml', webhookCrd)]);
    await ok(['wait', '--for=condition=Established', 'crd/crontabs.conv.example.com', '--timeout=30s']);
    const created = await eventually(['apply', '-f', manifest('conv-cr.yaml', cronTab('converted', 'green').replace('stable.example.com', 'conv.example.com'))], () => true);
    assert.match(created.stdout, /crontab.conv.example.com\/converted created/);
    const v1 = parse((await ok(['get', 'crontabs.v1.conv.example.com', 'converted', '-o', 'yaml'])).stdout) as { apiVersion: string; spec: unknown };
    assert.equal(v1.apiVersion, 'conv.example.com/v1');
    assert.deepEqual(v1.spec, { schedule: '* * * * */5', color: 'green', replicas: 1 });
    assert.ok(webhook.reviews.some((review) => review.desiredAPIVersion === 'conv.example.com/v1'), 'the webhook was asked');

    webhook.answer = (review) => ({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'ConversionReview', response: { uid: review.uid, result: { status: 'Failure', message: 'conversion is down' } } });
    const failed = await cluster.kubectl(['get', 'crontabs.v1beta1.conv.example.com', 'converted']);
    assert.notEqual(failed.code, 0);
    assert.match(failed.stderr, /Error from server: conversion webhook for conv\.example\.com\/v1, Kind=CronTab failed: conversion is down/);
  });

  it('rejects a non-structural CRD with the violations grouped by cause and their fixes', async () => {
    const bad = CRD.replace(/crontabs\.stable\.example\.com/g, 'badcrons.stable.example.com')
      .replace('plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]', 'plural: badcrons, singular: badcron, kind: BadCron')
      .replace(/          spec:\n            type: object\n/g, '          spec:\n')
      .replace(/              replicas: \{type: integer\}/g, '              replicas: {type: integer}\n              extra: {description: untyped}');
    const result = await cluster.kubectl(['apply', '-f', manifest('bad-crd.yaml', bad)]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /"badcrons.stable.example.com" is invalid/);
    // Both versions share one schema, which upstream's internal version holds at spec.validation: each
    // violation is reported once, grouped by cause, with its fix (upstream's path and prefix first).
    const typeErrors = [
      'spec.validation.openAPIV3Schema.properties[spec].properties[extra].type: Required value: must not be empty for specified object fields — fix: add a type',
      'spec.validation.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields — fix: add "type: object" at properties.spec',
    ];
    let last = -1;
    for (const text of typeErrors) {
      const index = result.stderr.indexOf(text);
      assert.ok(index > last, `expected, in order: ${text}\n${result.stderr}`);
      last = index;
    }
  });
});
