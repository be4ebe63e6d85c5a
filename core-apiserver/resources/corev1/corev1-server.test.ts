// The core v1 declarations served over HTTP by the generic ApiServer, as kubectl drives them: defaults in
// the created object, 422s with upstream messages, Tables, the status subresource and field selectors.

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
import { core1Resources } from './index.js';

const PODS = '/api/v1/namespaces/default/pods';
const NODES = '/api/v1/nodes';
const EVENTS = '/api/v1/namespaces/default/events';

describe('core v1 kinds over HTTP', () => {
  let port = 0;
  let close: () => Promise<void>;
  const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => request(port, method, path, { body, headers });

  before(async () => {
    const storage = new MemoryStorage();
    const definitions = builtinSchemas();
    const server = new ApiServer({ name: 'core1-test', authentication: { clientCa: [], untrustedIdentityHeaders: 'strip' }, authorizer: async () => ({ allowed: true }) });
    for (const definition of core1Resources) {
      const schema = definitions[definition.schemaName!];
      server.addResource({ definition, storage, hooks: { structuralCheck: structuralCheckFor(schema, definitions) }, patchMeta: schemaPatchMeta(schema, definitions) });
    }
    await server.startCaches();
    const httpServer = http.createServer(server.callback());
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    port = (httpServer.address() as AddressInfo).port;
    close = async () => {
      await server.shutdown(1000);
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await storage.close();
    };
  });
  after(async () => close());

  it('creates a pod with the defaults and Pending status a real server returns', async () => {
    const response = await call('POST', PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } });
    assert.equal(response.status, 201, response.text);
    assert.equal(response.json.spec.containers[0].imagePullPolicy, 'IfNotPresent');
    assert.equal(response.json.spec.serviceAccountName, 'default');
    assert.equal(response.json.spec.tolerations.length, 2);
    assert.deepEqual(response.json.status, { phase: 'Pending', qosClass: 'BestEffort' });
    assert.equal(response.json.metadata.generation, undefined);
  });

  it('answers invalid pods and spec changes with 422 and upstream messages', async () => {
    const invalid = await call('POST', PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bad' }, spec: { containers: [{ name: 'a' }] } });
    assert.equal(invalid.status, 422);
    assert.equal(invalid.json.message, 'Pod "bad" is invalid: spec.containers[0].image: Required value');
    const patch = await call('PATCH', `${PODS}/web`, { spec: { restartPolicy: 'Never' } }, { 'Content-Type': 'application/merge-patch+json' });
    assert.equal(patch.status, 422);
    assert.match(patch.json.message, /^Pod "web" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/);
    const image = await call('PATCH', `${PODS}/web`, { spec: { containers: [{ name: 'web', image: 'nginx:1.28' }] } }, { 'Content-Type': 'application/strategic-merge-patch+json' });
    assert.equal(image.status, 200, image.text);
    assert.equal(image.json.spec.containers[0].image, 'nginx:1.28');
  });

  it('updates pod status through the subresource, prints it and selects by node and phase', async () => {
    const current = (await call('GET', `${PODS}/web`)).json;
    const status = { ...current.status, phase: 'Running', podIPs: [{ ip: '10.244.0.7' }], containerStatuses: [{ name: 'web', image: 'nginx:1.28', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] };
    const put = await call('PUT', `${PODS}/web/status`, { ...current, spec: { ...current.spec, nodeName: 'ignored' }, status });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.json.status.phase, 'Running');
    assert.equal(put.json.spec.nodeName, undefined);
    const table = await call('GET', PODS, undefined, { Accept: TABLE_ACCEPT });
    assert.equal(table.status, 200, table.text);
    assert.deepEqual(
      table.json.columnDefinitions.map((column: { name: string }) => column.name),
      ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP', 'Node', 'Nominated Node', 'Readiness Gates'],
    );
    const cells = table.json.rows[0].cells;
    assert.deepEqual([cells[0], cells[1], cells[2], cells[3], cells[5], cells[6]], ['web', '1/1', 'Running', '0', '10.244.0.7', '<none>']);
    const running = await call('GET', `${PODS}?fieldSelector=${encodeURIComponent('status.phase=Running,spec.nodeName=')}`);
    assert.deepEqual(running.json.items.map((item: { metadata: { name: string } }) => item.metadata.name), ['web']);
    const pending = await call('GET', `${PODS}?fieldSelector=status.phase%3DPending`);
    assert.equal(pending.json.items.length, 0);
  });

  it('serves cluster-scoped nodes with the node printer', async () => {
    const created = await call('POST', NODES, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node-1', labels: { 'node-role.kubernetes.io/control-plane': '' } },
      spec: { unschedulable: true },
    });
    assert.equal(created.status, 201, created.text);
    const current = created.json;
    const status = {
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
      addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
      capacity: { cpu: '4', pods: '110' },
      nodeInfo: { kubeletVersion: 'v1.32.4', osImage: 'Ubuntu', kernelVersion: '6.8', containerRuntimeVersion: 'containerd://1.7', architecture: 'amd64', operatingSystem: 'linux', machineID: '', systemUUID: '', bootID: '', kubeProxyVersion: '' },
    };
    const put = await call('PUT', `${NODES}/node-1/status`, { ...current, status });
    assert.equal(put.status, 200, put.text);
    const table = await call('GET', `${NODES}/node-1`, undefined, { Accept: TABLE_ACCEPT });
    const cells = table.json.rows[0].cells;
    assert.deepEqual([cells[0], cells[1], cells[2], cells[4], cells[5], cells[6], cells[7]], ['node-1', 'Ready,SchedulingDisabled', 'control-plane', 'v1.32.4', '10.0.0.1', '<none>', 'Ubuntu']);
  });

  it('validates events against their involved object and selects them by it', async () => {
    const event = (name: string, namespace: string) => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name },
      involvedObject: { kind: 'Pod', name: 'web', namespace },
      reason: 'Pulled',
      message: 'pulled ',
      type: 'Normal',
      firstTimestamp: new Date(Date.now() - 30 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      count: 2,
    });
    const wrong = await call('POST', EVENTS, event('web.1', 'other'));
    assert.equal(wrong.status, 422);
    assert.equal(wrong.json.message, 'Event "web.1" is invalid: involvedObject.namespace: Invalid value: "other": does not match event.namespace');
    assert.equal((await call('POST', EVENTS, event('web.2', 'default'))).status, 201);
    const table = await call('GET', `${EVENTS}?fieldSelector=${encodeURIComponent('involvedObject.kind=Pod,involvedObject.name=web')}`, undefined, { Accept: TABLE_ACCEPT });
    assert.equal(table.status, 200, table.text);
    assert.deepEqual(table.json.rows[0].cells, ['30m', 'Normal', 'Pulled', 'pod/web', '', '', 'pulled', '30m', 2, 'web.2']);
  });
});
