import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../apiserver/registry/object.js';
import { columnsOf, tableRow } from '../apiserver/registry/table.js';
import { apiServices, availableCondition } from './apiservices.js';
import type { ApiServiceStore } from './test-support.js';
import { apiServiceStore, CA_BUNDLE, causeFor, localApiService, remoteApiService, statusErrorOf, systemContext } from './test-support.js';

let env: ApiServiceStore;

before(async () => {
  env = await apiServiceStore();
});

after(async () => {
  await env.close();
});

const create = (object: KubeObject) => env.store.create(object, systemContext());

describe('APIService validation', () => {
  it('accepts a valid local APIService and leaves it without a service', async () => {
    const { object } = await create(localApiService('local.example.com', 'v1'));
    assert.equal(object.metadata.name, 'v1.local.example.com');
    assert.equal(object.spec.service, undefined);
    assert.equal(object.spec.groupPriorityMinimum, 1000);
    assert.equal(object.spec.versionPriority, 100);
  });

  it('accepts a valid remote APIService and defaults its service port to 443', async () => {
    const { object } = await create(remoteApiService('metrics.k8s.io', 'v1beta1'));
    assert.deepEqual(object.spec.service, { namespace: 'kube-system', name: 'metrics-server', port: 443 });
    const stored = await env.store.getObject('', 'v1beta1.metrics.k8s.io');
    assert.equal(stored.spec.service.port, 443);
  });

  it('keeps an explicit service port and accepts a caBundle on a remote APIService', async () => {
    const { object } = await create(
      remoteApiService('ca.example.com', 'v1', { insecureSkipTLSVerify: undefined, caBundle: CA_BUNDLE, service: { namespace: 'ns', name: 'svc', port: 8443 } }),
    );
    assert.equal(object.spec.service.port, 8443);
    assert.equal(object.spec.caBundle, CA_BUNDLE);
  });

  it('accepts the upper bounds 20000 and 1000 for the priorities, as upstream does', async () => {
    await create(localApiService('bounds.example.com', 'v1', { groupPriorityMinimum: 20000, versionPriority: 1000 }));
  });

  it('rejects a name other than <version>.<group> with 422 on metadata.name', async () => {
    const object = localApiService('wrong.example.com', 'v1');
    object.metadata.name = 'v2.wrong.example.com';
    const error = await statusErrorOf(create(object));
    const cause = causeFor(error, 'metadata.name');
    assert.equal(cause.reason, 'FieldValueInvalid');
    assert.match(error.message, /^APIService\.apiregistration\.k8s\.io "v2\.wrong\.example\.com" is invalid: metadata\.name: Invalid value: "v2\.wrong\.example\.com"/);
  });

  for (const value of [0, 20001]) {
    it(`rejects groupPriorityMinimum ${value} with "must be positive and less than 20000"`, async () => {
      const error = await statusErrorOf(create(localApiService(`gp${value}.example.com`, 'v1', { groupPriorityMinimum: value })));
      const cause = causeFor(error, 'spec.groupPriorityMinimum');
      assert.equal(cause.reason, 'FieldValueInvalid');
      assert.equal(cause.message, `Invalid value: ${value}: must be positive and less than 20000`);
    });
  }

  for (const value of [0, 1001]) {
    it(`rejects versionPriority ${value} with "must be positive and less than 1000"`, async () => {
      const error = await statusErrorOf(create(localApiService(`vp${value}.example.com`, 'v1', { versionPriority: value })));
      const cause = causeFor(error, 'spec.versionPriority');
      assert.equal(cause.message, `Invalid value: ${value}: must be positive and less than 1000`);
    });
  }

  it('rejects a remote APIService with both caBundle and insecureSkipTLSVerify', async () => {
    const error = await statusErrorOf(create(remoteApiService('both.example.com', 'v1', { caBundle: CA_BUNDLE, insecureSkipTLSVerify: true })));
    const cause = causeFor(error, 'spec.insecureSkipTLSVerify');
    assert.equal(cause.message, 'Invalid value: true: may not be true if caBundle is present');
  });

  it('rejects a local APIService with a caBundle', async () => {
    const error = await statusErrorOf(create(localApiService('localca.example.com', 'v1', { caBundle: CA_BUNDLE })));
    const cause = causeFor(error, 'spec.caBundle');
    assert.match(cause.message ?? '', /local APIServices may not have a caBundle/);
  });

  it('rejects a local APIService with insecureSkipTLSVerify', async () => {
    const error = await statusErrorOf(create(localApiService('localskip.example.com', 'v1', { insecureSkipTLSVerify: true })));
    assert.match(causeFor(error, 'spec.insecureSkipTLSVerify').message ?? '', /local APIServices may not have insecureSkipTLSVerify/);
  });

  it('rejects a remote APIService without service namespace and name as Required', async () => {
    const error = await statusErrorOf(create(remoteApiService('noservice.example.com', 'v1', { service: { port: 443 } })));
    assert.equal(causeFor(error, 'spec.service.namespace').reason, 'FieldValueRequired');
    assert.equal(causeFor(error, 'spec.service.name').reason, 'FieldValueRequired');
    assert.equal(causeFor(error, 'spec.service.name').message, 'Required value');
  });

  it('rejects a service port outside 1..65535', async () => {
    const error = await statusErrorOf(create(remoteApiService('badport.example.com', 'v1', { service: { namespace: 'ns', name: 'svc', port: 70000 } })));
    causeFor(error, 'spec.service.port');
  });

  it('allows an empty group only for version v1 (the legacy core group)', async () => {
    const { object } = await create(localApiService('', 'v1', { groupPriorityMinimum: 18000, versionPriority: 1 }));
    assert.equal(object.metadata.name, 'v1.');
    const error = await statusErrorOf(create(localApiService('', 'v2')));
    assert.equal(causeFor(error, 'spec.group').reason, 'FieldValueRequired');
  });

  it('rejects a missing version with 422 on spec.version', async () => {
    const object = localApiService('noversion.example.com', '');
    const error = await statusErrorOf(create(object));
    causeFor(error, 'spec.version');
  });

  it('rejects a version that is not a DNS-1035 label', async () => {
    const error = await statusErrorOf(create(localApiService('badversion.example.com', '1v')));
    assert.equal(causeFor(error, 'spec.version').reason, 'FieldValueInvalid');
  });

  it('rejects a group that is not a DNS-1123 subdomain', async () => {
    const error = await statusErrorOf(create(localApiService('Bad_Group', 'v1')));
    assert.equal(causeFor(error, 'spec.group').reason, 'FieldValueInvalid');
  });

  it('validates updates too', async () => {
    await create(localApiService('update.example.com', 'v1'));
    const current = await env.store.getObject('', 'v1.update.example.com');
    current.spec.versionPriority = 0;
    const error = await statusErrorOf(env.store.update('v1.update.example.com', current, systemContext()));
    causeFor(error, 'spec.versionPriority');
  });

  it('defaults the service port on update when it is dropped', async () => {
    await create(remoteApiService('updateport.example.com', 'v1'));
    const current = await env.store.getObject('', 'v1.updateport.example.com');
    delete current.spec.service.port;
    const { object } = await env.store.update('v1.updateport.example.com', current, systemContext());
    assert.equal(object.spec.service.port, 443);
  });
});

describe('APIService table printer', () => {
  const columns = columnsOf(apiServices);
  const withAvailable = (object: KubeObject, condition?: Record<string, unknown>): KubeObject => ({
    ...object,
    metadata: { ...object.metadata, creationTimestamp: new Date(Date.now() - 90_000).toISOString() },
    status: condition ? { conditions: [{ type: 'Available', lastTransitionTime: new Date().toISOString(), ...condition }] } : {},
  });
  const cells = (object: KubeObject) => tableRow(columns, object, 'None').cells as unknown[];

  it('has the columns NAME SERVICE AVAILABLE AGE', () => {
    assert.deepEqual(
      columns.map((column) => column.name),
      ['Name', 'Service', 'Available', 'Age'],
    );
  });

  it('prints Local for a local APIService and ns/name for a remote one', () => {
    assert.equal(cells(withAvailable(localApiService('apps', 'v1'), { status: 'True', reason: 'Local' }))[1], 'Local');
    assert.equal(cells(withAvailable(remoteApiService('metrics.k8s.io', 'v1beta1'), { status: 'True', reason: 'Passed' }))[1], 'kube-system/metrics-server');
  });

  it('prints True for an available APIService', () => {
    const row = cells(withAvailable(localApiService('apps', 'v1'), { status: 'True', reason: 'Local', message: 'Local APIServices are always available' }));
    assert.deepEqual(row.slice(0, 3), ['v1.apps', 'Local', 'True']);
    assert.equal(row[3], '90s');
  });

  it('prints False with the reason for an unavailable APIService', () => {
    const object = withAvailable(remoteApiService('metrics.k8s.io', 'v1beta1'), { status: 'False', reason: 'FailedDiscoveryCheck', message: 'failing or missing response' });
    assert.equal(cells(object)[2], 'False (FailedDiscoveryCheck)');
  });

  it('prints Unknown when there is no Available condition', () => {
    const object = withAvailable(remoteApiService('metrics.k8s.io', 'v1beta1'));
    assert.equal(availableCondition(object), undefined);
    assert.equal(cells(object)[2], 'Unknown');
  });
});
