// The infra kinds over real HTTP on one ApiServer: what kubectl sees for RBAC bindings (roleRef frozen,
// wide columns), StorageClass defaults and the (default) marker, CSR approval, and shared event storage.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ApiServer } from '../../../apiserver/server/api-server.js';
import { MemoryStorage } from '../../../apiserver/storage/memory.js';
import { builtinSchemas } from '../../../apiserver/schema/builtin.js';
import { structuralCheckFor } from '../../../apiserver/schema/structural-check.js';
import { schemaPatchMeta } from '../../../apiserver/schema/patch-meta.js';
import { request, TABLE_ACCEPT } from '../../../apiserver/server/test-server.js';
import { infraPriorities, infraResources } from './index.js';

const RBAC = '/apis/rbac.authorization.k8s.io/v1';
const STORAGE = '/apis/storage.k8s.io/v1';
const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const PEM = Buffer.from('-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n').toString('base64');

describe('infra kinds over HTTP', () => {
  const storage = new MemoryStorage();
  let server: ApiServer;
  let httpServer: http.Server;
  let port = 0;
  const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => request(port, method, path, { body, headers });

  before(async () => {
    const definitions = builtinSchemas();
    server = new ApiServer({ name: 'infra-test', authentication: { clientCa: [], untrustedIdentityHeaders: 'strip' }, authorizer: async () => ({ allowed: true }) });
    for (const definition of infraResources) {
      const schema = definitions[definition.schemaName!];
      server.addResource({ definition, storage, hooks: { structuralCheck: structuralCheckFor(schema, definitions) }, patchMeta: schemaPatchMeta(schema, definitions) });
    }
    for (const [groupVersion, priority] of Object.entries(infraPriorities)) server.discovery.priorities.set(groupVersion, priority);
    await server.startCaches();
    httpServer = http.createServer(server.callback());
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    port = (httpServer.address() as AddressInfo).port;
  });
  after(async () => {
    await server.shutdown(1000);
    httpServer.closeAllConnections();
    await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    await storage.close();
  });

  it('creates a RoleBinding with defaulted subject groups and refuses to change its roleRef', async () => {
    const body = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'read-pods' },
      // roleRef.apiGroup is defaulted upstream, but the schema's required-field check runs before defaulting here.
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
      subjects: [{ kind: 'User', name: 'jane' }, { kind: 'ServiceAccount', name: 'builder', namespace: 'ci' }],
    };
    const created = await call('POST', `${RBAC}/namespaces/default/rolebindings`, body);
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.subjects[0].apiGroup, 'rbac.authorization.k8s.io');

    const changed = { ...created.json, roleRef: { ...created.json.roleRef, name: 'pod-writer' } };
    const refused = await call('PUT', `${RBAC}/namespaces/default/rolebindings/read-pods`, changed);
    assert.equal(refused.status, 422, refused.text);
    assert.match(refused.json.message, /^RoleBinding\.rbac\.authorization\.k8s\.io "read-pods" is invalid: roleRef: Invalid value: .*: cannot change roleRef$/);

    const table = await call('GET', `${RBAC}/namespaces/default/rolebindings`, undefined, { Accept: TABLE_ACCEPT });
    assert.equal(table.status, 200, table.text);
    assert.deepEqual(
      table.json.columnDefinitions.map((column: { name: string; priority: number }) => `${column.name}/${column.priority}`),
      ['Name/0', 'Role/0', 'Age/0', 'Users/1', 'Groups/1', 'ServiceAccounts/1'],
    );
    const cells = table.json.rows[0].cells;
    assert.deepEqual([cells[0], cells[1], cells[3], cells[4], cells[5]], ['read-pods', 'Role/pod-reader', 'jane', '', 'ci:builder']);
  });

  it('refuses a ClusterRoleBinding whose service account has no namespace', async () => {
    const response = await call('POST', `${RBAC}/clusterrolebindings`, {
      metadata: { name: 'system:builders' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [{ kind: 'ServiceAccount', name: 'builder' }],
    });
    assert.equal(response.status, 422, response.text);
    assert.equal(response.json.message, 'ClusterRoleBinding.rbac.authorization.k8s.io "system:builders" is invalid: subjects[0].namespace: Required value');
  });

  it('defaults a StorageClass, marks the default class in tables and freezes its provisioner', async () => {
    const created = await call('POST', `${STORAGE}/storageclasses`, {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'rancher.io/local-path',
    });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual([created.json.reclaimPolicy, created.json.volumeBindingMode], ['Delete', 'Immediate']);

    const table = await call('GET', `${STORAGE}/storageclasses`, undefined, { Accept: TABLE_ACCEPT });
    assert.deepEqual(table.json.rows[0].cells.slice(0, 5), ['standard (default)', 'rancher.io/local-path', 'Delete', 'Immediate', false]);

    const patched = await call('PATCH', `${STORAGE}/storageclasses/standard`, { provisioner: 'example.com/other' }, { 'Content-Type': 'application/merge-patch+json' });
    assert.equal(patched.status, 422, patched.text);
    assert.match(patched.json.message, /provisioner: Forbidden: updates to provisioner are forbidden\./);

    const discovery = await call('GET', STORAGE);
    const resource = discovery.json.resources.find((entry: { name: string }) => entry.name === 'storageclasses');
    assert.deepEqual([resource.namespaced, resource.shortNames], [false, ['sc']]);
  });

  it('records the requesting user on a CSR and approves it only through /approval', async () => {
    const created = await call('POST', CSRS, {
      metadata: { name: 'node-csr' },
      spec: { request: PEM, signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], username: 'someone-else' },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.spec.username, 'system:anonymous');
    assert.deepEqual(created.json.spec.groups, ['system:unauthenticated']);

    const condition = { type: 'Approved', status: 'True', reason: 'KubectlApprove', message: 'approved by test' };
    const ignored = await call('PUT', `${CSRS}/node-csr`, { ...created.json, status: { conditions: [condition] } });
    assert.equal(ignored.status, 200, ignored.text);
    assert.equal(ignored.json.status?.conditions, undefined);

    const approved = await call('PUT', `${CSRS}/node-csr/approval`, { ...ignored.json, status: { conditions: [condition] } });
    assert.equal(approved.status, 200, approved.text);
    assert.equal(approved.json.status.conditions[0].type, 'Approved');

    const table = await call('GET', CSRS, undefined, { Accept: TABLE_ACCEPT });
    const cells = table.json.rows[0].cells;
    assert.deepEqual([cells[0], cells[2], cells[3], cells[4], cells[5]], ['node-csr', 'kubernetes.io/kube-apiserver-client', 'system:anonymous', '<none>', 'Approved']);
  });

  it('stores events.k8s.io Events under the shared events prefix', async () => {
    const created = await call('POST', '/apis/events.k8s.io/v1/namespaces/default/events', {
      metadata: { name: 'web.1' },
      eventTime: '2024-01-01T00:00:00.000000Z',
      type: 'Normal',
      reason: 'Scheduled',
      action: 'Binding',
      reportingController: 'example.com/scheduler',
      reportingInstance: 'scheduler-1',
      regarding: { kind: 'Pod', name: 'web', namespace: 'default' },
      note: 'Successfully assigned default/web ',
    });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual((await storage.list('/registry/events/')).items.map((item) => item.key), ['/registry/events/default/web.1']);
    const table = await call('GET', '/apis/events.k8s.io/v1/namespaces/default/events', undefined, { Accept: TABLE_ACCEPT });
    const cells = table.json.rows[0].cells;
    assert.deepEqual([cells[1], cells[2], cells[3], cells[6], cells[8], cells[9]], ['Normal', 'Scheduled', 'pod/web', 'Successfully assigned default/web', 1, 'web.1']);
  });

  it('defaults webhooks to the v1 behaviour and requires side effects and review versions', async () => {
    const path = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';
    const webhook = { name: 'pods.example.com', clientConfig: { service: { name: 'hook', namespace: 'default' } }, rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }] };
    const refused = await call('POST', path, { metadata: { name: 'hooks' }, webhooks: [webhook] });
    assert.equal(refused.status, 422, refused.text);
    // The schema's required-field check answers before the strategy's own (more detailed) messages.
    assert.match(refused.json.message, /webhooks\[0\]\.sideEffects: Required value/);
    assert.match(refused.json.message, /webhooks\[0\]\.admissionReviewVersions: Required value/);
    const created = await call('POST', path, { metadata: { name: 'hooks' }, webhooks: [{ ...webhook, sideEffects: 'None', admissionReviewVersions: ['v1'] }] });
    assert.equal(created.status, 201, created.text);
    const stored = created.json.webhooks[0];
    assert.deepEqual(
      [stored.failurePolicy, stored.matchPolicy, stored.namespaceSelector, stored.objectSelector, stored.timeoutSeconds, stored.reinvocationPolicy, stored.rules[0].scope, stored.clientConfig.service.port],
      ['Fail', 'Equivalent', {}, {}, 10, 'Never', '*', 443],
    );
  });
});
