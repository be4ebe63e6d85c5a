// Services over real HTTP: cluster IPs and node ports are allocated from storage, refused with
// upstream's messages, given back on failures and deletes, and never handed out twice by two servers
// sharing one storage.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request, TABLE_ACCEPT } from '../../apiserver/server/test-server.js';
import { MemoryStorage } from '../../apiserver/storage/memory.js';
import { CLUSTER_IP_PREFIX, NODE_PORT_PREFIX } from './allocators.js';
import type { ServiceServer } from './service-test-server.js';
import { recordKeys, service, SERVICES, ENDPOINTS, startServiceServer } from './service-test-server.js';

function inRange(ip: string): boolean {
  const [a, b] = ip.split('.').map(Number);
  return a === 10 && b >= 96 && b <= 111 && ip !== '10.96.0.0' && ip !== '10.96.0.1' && ip !== '10.111.255.255';
}

describe('services on one server', () => {
  let t: ServiceServer;
  const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => request(t.port, method, path, { body, headers });

  before(async () => {
    t = await startServiceServer();
  });
  after(async () => {
    await t.close();
  });

  it('allocates a cluster IP in the range and shows the defaults kubectl users see', async () => {
    const response = await call('POST', SERVICES, service('web'));
    assert.equal(response.status, 201, response.text);
    const spec = response.json.spec;
    assert.ok(inRange(spec.clusterIP), spec.clusterIP);
    assert.deepEqual(spec.clusterIPs, [spec.clusterIP]);
    assert.deepEqual(
      { ...spec, clusterIP: undefined, clusterIPs: undefined },
      {
        selector: { app: 'web' },
        ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
        type: 'ClusterIP',
        sessionAffinity: 'None',
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        internalTrafficPolicy: 'Cluster',
        clusterIP: undefined,
        clusterIPs: undefined,
      },
    );
    assert.deepEqual(response.json.status, { loadBalancer: {} });
    assert.deepEqual(await recordKeys(t.storage, CLUSTER_IP_PREFIX), [spec.clusterIP]);
  });

  it('refuses a chosen cluster IP that is taken, or outside the range, with upstream messages', async () => {
    assert.equal((await call('POST', SERVICES, service('chosen-a', { clusterIP: '10.96.0.10' }))).status, 201);
    const taken = await call('POST', SERVICES, service('chosen-b', { clusterIP: '10.96.0.10' }));
    assert.equal(taken.status, 422);
    assert.equal(taken.json.reason, 'Invalid');
    assert.equal(taken.json.message, 'Service "chosen-b" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: failed to allocate IP 10.96.0.10: provided IP is already allocated');
    const outside = await call('POST', SERVICES, service('chosen-c', { clusterIP: '1.2.3.4' }));
    assert.equal(outside.status, 422);
    assert.equal(
      outside.json.message,
      'Service "chosen-c" is invalid: spec.clusterIPs: Invalid value: []string{"1.2.3.4"}: failed to allocate IP 1.2.3.4: the provided IP (1.2.3.4) is not in the valid range. The range of valid IPs is 10.96.0.0/12',
    );
  });

  it('releases the cluster IP when the Service is deleted', async () => {
    assert.equal((await call('POST', SERVICES, service('short-lived', { clusterIP: '10.96.0.11' }))).status, 201);
    assert.equal((await call('DELETE', `${SERVICES}/short-lived`)).status, 200);
    assert.ok(!(await recordKeys(t.storage, CLUSTER_IP_PREFIX)).includes('10.96.0.11'));
    assert.equal((await call('POST', SERVICES, service('successor', { clusterIP: '10.96.0.11' }))).status, 201);
  });

  it('gives the IP back when the create fails after allocation (name taken, invalid object)', async () => {
    assert.equal((await call('POST', SERVICES, service('dup', { clusterIP: '10.96.0.12' }))).status, 201);
    const duplicate = await call('POST', SERVICES, service('dup', { clusterIP: '10.96.0.13' }));
    assert.equal(duplicate.status, 409);
    const invalidPort = await call('POST', SERVICES, service('bad-port', { clusterIP: '10.96.0.14', ports: [{ port: 70000 }] }));
    assert.equal(invalidPort.status, 422);
    assert.match(invalidPort.json.message, /spec\.ports\[0\]\.port: Invalid value: 70000: must be between 1 and 65535, inclusive/);
    const unnamed = await call('POST', SERVICES, service('no-names', { type: 'NodePort', ports: [{ port: 80 }, { port: 81 }] }));
    assert.equal(unnamed.status, 422);
    assert.equal(unnamed.json.message, 'Service "no-names" is invalid: [spec.ports[0].name: Required value, spec.ports[1].name: Required value]');
    const keys = await recordKeys(t.storage, CLUSTER_IP_PREFIX);
    assert.ok(!keys.includes('10.96.0.13') && !keys.includes('10.96.0.14'));
    assert.ok(keys.includes('10.96.0.12'));
    assert.equal(keys.length, (await call('GET', SERVICES)).json.items.length);
    assert.equal((await recordKeys(t.storage, NODE_PORT_PREFIX)).length, 0);
  });

  it('allocates nothing for headless Services and defaults their families as upstream', async () => {
    const before = (await recordKeys(t.storage, CLUSTER_IP_PREFIX)).length;
    const withSelector = await call('POST', SERVICES, service('headless', { clusterIP: 'None' }));
    assert.equal(withSelector.status, 201, withSelector.text);
    assert.deepEqual(withSelector.json.spec.clusterIPs, ['None']);
    assert.deepEqual(withSelector.json.spec.ipFamilies, ['IPv4']);
    assert.equal(withSelector.json.spec.ipFamilyPolicy, 'SingleStack');
    const selectorless = await call('POST', SERVICES, { metadata: { name: 'headless-bare' }, spec: { clusterIP: 'None' } });
    assert.equal(selectorless.status, 201, selectorless.text);
    assert.deepEqual(selectorless.json.spec.ipFamilies, ['IPv4', 'IPv6']);
    assert.equal(selectorless.json.spec.ipFamilyPolicy, 'RequireDualStack');
    assert.equal((await recordKeys(t.storage, CLUSTER_IP_PREFIX)).length, before);
  });

  // Node ports chosen by hand here are below 30086: random picks stay above that (the static band) until the rest is full.
  it('allocates node ports for NodePort Services and refuses a taken one', async () => {
    const auto = await call('POST', SERVICES, service('np-auto', { type: 'NodePort' }));
    assert.equal(auto.status, 201, auto.text);
    const nodePort = auto.json.spec.ports[0].nodePort;
    assert.ok(nodePort >= 30000 && nodePort <= 32767);
    assert.equal(auto.json.spec.externalTrafficPolicy, 'Cluster');
    assert.equal((await call('POST', SERVICES, service('np-a', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }))).status, 201);
    const taken = await call('POST', SERVICES, service('np-b', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }));
    assert.equal(taken.status, 422);
    assert.equal(taken.json.message, 'Service "np-b" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated');
    assert.deepEqual((await recordKeys(t.storage, NODE_PORT_PREFIX)).sort(), [String(nodePort), '30080'].sort());
  });

  it('gives TCP and UDP on the same port one node port', async () => {
    const response = await call('POST', SERVICES, service('dns', { type: 'NodePort', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] }));
    assert.equal(response.status, 201, response.text);
    const [udp, tcp] = response.json.spec.ports;
    assert.equal(udp.nodePort, tcp.nodePort);
  });

  it('keeps allocated values when a client resubmits its manifest, and refuses to change the cluster IP', async () => {
    const created = (await call('POST', SERVICES, service('resubmit', { type: 'NodePort' }))).json;
    const replaced = await call('PUT', `${SERVICES}/resubmit`, service('resubmit', { type: 'NodePort' }));
    assert.equal(replaced.status, 200, replaced.text);
    assert.equal(replaced.json.spec.clusterIP, created.spec.clusterIP);
    assert.equal(replaced.json.spec.ports[0].nodePort, created.spec.ports[0].nodePort);
    const changed = await call('PUT', `${SERVICES}/resubmit`, service('resubmit', { type: 'NodePort', clusterIP: '10.96.0.99', clusterIPs: ['10.96.0.99'] }));
    assert.equal(changed.status, 422);
    assert.equal(changed.json.message, 'Service "resubmit" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.0.99"}: may not change once set');
  });

  it('allocates node ports when the type becomes NodePort and releases them when it goes back', async () => {
    const created = (await call('POST', SERVICES, service('switch'))).json;
    const merge = { 'Content-Type': 'application/merge-patch+json' };
    const toNodePort = await call('PATCH', `${SERVICES}/switch`, { spec: { type: 'NodePort' } }, merge);
    assert.equal(toNodePort.status, 200, toNodePort.text);
    const nodePort = toNodePort.json.spec.ports[0].nodePort;
    assert.ok(nodePort >= 30000);
    assert.equal(toNodePort.json.spec.clusterIP, created.spec.clusterIP);
    assert.ok((await recordKeys(t.storage, NODE_PORT_PREFIX)).includes(String(nodePort)));
    const back = await call('PATCH', `${SERVICES}/switch`, { spec: { type: 'ClusterIP' } }, merge);
    assert.equal(back.status, 200, back.text);
    assert.equal(back.json.spec.ports[0].nodePort, undefined);
    assert.equal(back.json.spec.externalTrafficPolicy, undefined);
    assert.ok(!(await recordKeys(t.storage, NODE_PORT_PREFIX)).includes(String(nodePort)));
  });

  it('releases the cluster IP when the type becomes ExternalName', async () => {
    const created = (await call('POST', SERVICES, service('to-cname'))).json;
    const patched = await call('PATCH', `${SERVICES}/to-cname`, { spec: { type: 'ExternalName', externalName: 'example.com' } }, { 'Content-Type': 'application/merge-patch+json' });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.json.spec.clusterIP, undefined);
    assert.equal(patched.json.spec.ipFamilies, undefined);
    assert.ok(!(await recordKeys(t.storage, CLUSTER_IP_PREFIX)).includes(created.spec.clusterIP));
  });

  it('allocates a health check node port for LoadBalancers with externalTrafficPolicy Local', async () => {
    const response = await call('POST', SERVICES, service('lb-local', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }));
    assert.equal(response.status, 201, response.text);
    const { healthCheckNodePort, ports } = response.json.spec;
    assert.ok(healthCheckNodePort >= 30000 && healthCheckNodePort !== ports[0].nodePort);
    assert.ok((await recordKeys(t.storage, NODE_PORT_PREFIX)).includes(String(healthCheckNodePort)));
    await call('DELETE', `${SERVICES}/lb-local`);
    const left = await recordKeys(t.storage, NODE_PORT_PREFIX);
    assert.ok(!left.includes(String(healthCheckNodePort)) && !left.includes(String(ports[0].nodePort)));
  });

  it('moves to a newly chosen node port and releases the old one only once the update is stored', async () => {
    const created = (await call('POST', SERVICES, service('moving', { type: 'NodePort', ports: [{ port: 80, nodePort: 30060 }] }))).json;
    const moved = await call('PUT', `${SERVICES}/moving`, { ...created, spec: { ...created.spec, ports: [{ port: 80, nodePort: 30061 }] } });
    assert.equal(moved.status, 200, moved.text);
    const keys = await recordKeys(t.storage, NODE_PORT_PREFIX);
    assert.ok(keys.includes('30061') && !keys.includes('30060'));
    const stale = await call('PUT', `${SERVICES}/moving`, { ...created, spec: { ...created.spec, ports: [{ port: 80, nodePort: 30062 }] } });
    assert.equal(stale.status, 409);
    assert.ok(!(await recordKeys(t.storage, NODE_PORT_PREFIX)).includes('30062'));
  });

  it('allocates a cluster IP when an ExternalName Service becomes ClusterIP', async () => {
    await call('POST', SERVICES, { metadata: { name: 'from-cname' }, spec: { type: 'ExternalName', externalName: 'example.com' } });
    const patched = await call('PATCH', `${SERVICES}/from-cname`, { spec: { type: 'ClusterIP', externalName: null, ports: [{ port: 80 }] } }, { 'Content-Type': 'application/merge-patch+json' });
    assert.equal(patched.status, 200, patched.text);
    assert.ok(inRange(patched.json.spec.clusterIP));
    assert.ok((await recordKeys(t.storage, CLUSTER_IP_PREFIX)).includes(patched.json.spec.clusterIP));
  });

  it('allocates nothing on a dry run (upstream answers the network address)', async () => {
    const before = await recordKeys(t.storage, CLUSTER_IP_PREFIX);
    const response = await call('POST', `${SERVICES}?dryRun=All`, service('dry', { type: 'NodePort' }));
    assert.equal(response.status, 201, response.text);
    assert.equal(response.json.spec.clusterIP, '10.96.0.0');
    assert.ok(response.json.spec.ports[0].nodePort >= 30000);
    assert.deepEqual(await recordKeys(t.storage, CLUSTER_IP_PREFIX), before);
  });

  it('prints TYPE, CLUSTER-IP, EXTERNAL-IP, PORT(S) and the wide SELECTOR as upstream', async () => {
    await call('POST', SERVICES, service('lb', { type: 'LoadBalancer', ports: [{ port: 443, nodePort: 30043 }] }));
    await call('POST', SERVICES, { metadata: { name: 'cname' }, spec: { type: 'ExternalName', externalName: 'example.com' } });
    const table = await call('GET', SERVICES, undefined, { Accept: TABLE_ACCEPT });
    assert.deepEqual(
      table.json.columnDefinitions.map((column: { name: string; priority: number }) => `${column.name}/${column.priority}`),
      ['Name/0', 'Type/0', 'Cluster-IP/0', 'External-IP/0', 'Port(s)/0', 'Age/0', 'Selector/1'],
    );
    const rows = new Map<string, unknown[]>(table.json.rows.map((row: { cells: unknown[] }) => [row.cells[0], row.cells]));
    const lb = rows.get('lb')!;
    assert.deepEqual([lb[1], lb[3], lb[4], lb[6]], ['LoadBalancer', '<pending>', '443:30043/TCP', 'app=lb']);
    const web = rows.get('web')!;
    assert.deepEqual([web[1], web[3], web[4]], ['ClusterIP', '<none>', '80/TCP']);
    assert.deepEqual(rows.get('cname')!.slice(1, 5), ['ExternalName', '<none>', 'example.com', '<none>']);
    assert.equal(rows.get('headless-bare')![6], '<none>');
  });

  it('allocates on a server-side apply create and keeps the allocation on re-apply', async () => {
    const apply = { 'Content-Type': 'application/apply-patch+yaml' };
    const manifest = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: applied\nspec:\n  type: NodePort\n  selector:\n    app: applied\n  ports:\n  - port: 8080\n';
    const created = await call('PATCH', `${SERVICES}/applied?fieldManager=kubectl`, manifest, apply);
    assert.equal(created.status, 201, created.text);
    assert.ok(inRange(created.json.spec.clusterIP));
    const nodePort = created.json.spec.ports[0].nodePort;
    assert.ok(nodePort >= 30000);
    const reapplied = await call('PATCH', `${SERVICES}/applied?fieldManager=kubectl`, `${manifest}    targetPort: 9090\n`, apply);
    assert.equal(reapplied.status, 200, reapplied.text);
    assert.equal(reapplied.json.spec.clusterIP, created.json.spec.clusterIP);
    assert.deepEqual(reapplied.json.spec.ports, [{ port: 8080, protocol: 'TCP', targetPort: 9090, nodePort }]);
  });

  it('defaults ipMode and shows the ingress address once a load balancer reports one through /status', async () => {
    const created = (await call('POST', SERVICES, service('lb-ready', { type: 'LoadBalancer' }))).json;
    const status = await call('PUT', `${SERVICES}/lb-ready/status`, { ...created, status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } } });
    assert.equal(status.status, 200, status.text);
    assert.deepEqual(status.json.status.loadBalancer.ingress, [{ ip: '203.0.113.7', ipMode: 'VIP' }]);
    const row = (await call('GET', `${SERVICES}/lb-ready`, undefined, { Accept: TABLE_ACCEPT })).json.rows[0];
    assert.equal(row.cells[3], '203.0.113.7');
    const bad = await call('PUT', `${SERVICES}/lb-ready/status`, { ...created, status: { loadBalancer: { ingress: [{ ip: 'not-an-ip' }] } } });
    assert.equal(bad.status, 422);
    assert.match(bad.json.message, /status\.loadBalancer\.ingress\[0\]\.ip: Invalid value: "not-an-ip": must be a valid IP address/);
  });

  it('deletes the Endpoints of a deleted Service', async () => {
    await call('POST', SERVICES, service('with-ep'));
    const created = await call('POST', ENDPOINTS, { metadata: { name: 'with-ep' }, subsets: [{ addresses: [{ ip: '10.1.0.5' }], ports: [{ port: 80 }] }] });
    assert.equal(created.status, 201, created.text);
    await call('DELETE', `${SERVICES}/with-ep`);
    assert.equal((await call('GET', `${ENDPOINTS}/with-ep`)).status, 404);
  });
});

describe('services across replicas and small ranges', () => {
  it('never gives two Services the same IP when two servers on one storage create 50 concurrently', async () => {
    const storage = new MemoryStorage();
    // 62 usable addresses: random picks for 50 Services collide often, so the compare-and-swap decides.
    const replicas = [await startServiceServer({ storage, clusterIpRange: '10.0.0.0/26' }), await startServiceServer({ storage, clusterIpRange: '10.0.0.0/26' })];
    try {
      const responses = await Promise.all(Array.from({ length: 50 }, (_, index) => request(replicas[index % 2].port, 'POST', SERVICES, { body: service(`svc-${index}`) })));
      assert.deepEqual(
        responses.map((response) => response.status),
        responses.map(() => 201),
      );
      const ips = responses.map((response) => response.json.spec.clusterIP as string);
      assert.equal(new Set(ips).size, 50);
      assert.deepEqual((await recordKeys(storage, CLUSTER_IP_PREFIX)).sort(), [...ips].sort());
    } finally {
      for (const replica of replicas) await replica.close();
    }
  });

  it('answers 500 "range is full" when no address is left, as upstream', async () => {
    const t = await startServiceServer({ clusterIpRange: '192.168.7.0/29' });
    try {
      for (let index = 0; index < 5; index++) assert.equal((await request(t.port, 'POST', SERVICES, { body: service(`fill-${index}`) })).status, 201);
      const full = await request(t.port, 'POST', SERVICES, { body: service('one-too-many') });
      assert.equal(full.status, 500);
      assert.equal(full.json.reason, 'InternalError');
      assert.equal(full.json.message, 'Internal error occurred: failed to allocate a serviceIP: range is full');
    } finally {
      await t.close();
    }
  });

  it('answers 500 when no node port is left, and keeps nothing of the failed create', async () => {
    const t = await startServiceServer({ nodePortRange: '30000-30000' });
    try {
      assert.equal((await request(t.port, 'POST', SERVICES, { body: service('np-1', { type: 'NodePort' }) })).status, 201);
      const full = await request(t.port, 'POST', SERVICES, { body: service('np-2', { type: 'NodePort' }) });
      assert.equal(full.status, 500);
      assert.equal(full.json.message, 'Internal error occurred: failed to allocate a nodePort: range is full');
      assert.equal((await recordKeys(t.storage, CLUSTER_IP_PREFIX)).length, 1);
    } finally {
      await t.close();
    }
  });
});
