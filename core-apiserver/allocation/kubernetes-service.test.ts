import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request, TABLE_ACCEPT } from '../../apiserver/server/test-server.js';
import { CLUSTER_IP_PREFIX } from './allocators.js';
import type { ServiceServer } from './service-test-server.js';
import { ENDPOINT_SLICES, ENDPOINTS, recordKeys, service, SERVICES, startServiceServer } from './service-test-server.js';

describe('default/kubernetes', () => {
  let t: ServiceServer;
  const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => request(t.port, method, path, { body, headers });

  before(async () => {
    t = await startServiceServer();
    await t.support.start();
  });
  after(async () => {
    await t.close();
  });

  it('is created at startup with the first address of the range, port 443 to the advertised port', async () => {
    const response = await call('GET', `${SERVICES}/kubernetes`);
    assert.equal(response.status, 200);
    assert.deepEqual(response.json.metadata.labels, { component: 'apiserver', provider: 'kubernetes' });
    assert.deepEqual(response.json.spec, {
      type: 'ClusterIP',
      clusterIP: '10.96.0.1',
      clusterIPs: ['10.96.0.1'],
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }],
    });
    assert.deepEqual(await recordKeys(t.storage, CLUSTER_IP_PREFIX), ['10.96.0.1']);
  });

  it('has Endpoints and an EndpointSlice naming the advertised address, printed as kubectl shows them', async () => {
    const endpoints = await call('GET', `${ENDPOINTS}/kubernetes`);
    assert.deepEqual(endpoints.json.subsets, [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }]);
    assert.equal(endpoints.json.metadata.labels['endpointslice.kubernetes.io/skip-mirror'], 'true');
    const table = await call('GET', `${ENDPOINTS}/kubernetes`, undefined, { Accept: TABLE_ACCEPT });
    assert.deepEqual(table.json.rows[0].cells.slice(0, 2), ['kubernetes', '127.0.0.1:6443']);
    const slice = await call('GET', `${ENDPOINT_SLICES}/kubernetes`);
    assert.equal(slice.json.addressType, 'IPv4');
    assert.deepEqual(slice.json.endpoints, [{ addresses: ['127.0.0.1'], conditions: { ready: true } }]);
    assert.equal(slice.json.metadata.labels['kubernetes.io/service-name'], 'kubernetes');
  });

  it('is left alone by a second start (another replica, a restart)', async () => {
    const before = (await call('GET', `${SERVICES}/kubernetes`)).json.metadata.resourceVersion;
    const endpointsBefore = (await call('GET', `${ENDPOINTS}/kubernetes`)).json.metadata.resourceVersion;
    await t.support.start();
    assert.equal((await call('GET', `${SERVICES}/kubernetes`)).json.metadata.resourceVersion, before);
    assert.equal((await call('GET', `${ENDPOINTS}/kubernetes`)).json.metadata.resourceVersion, endpointsBefore);
  });

  it('keeps its address: a user asking for it is refused', async () => {
    const response = await call('POST', SERVICES, service('squatter', { clusterIP: '10.96.0.1' }));
    assert.equal(response.status, 422);
    assert.match(response.json.message, /failed to allocate IP 10\.96\.0\.1: provided IP is already allocated/);
  });

  it('refuses link-local endpoint addresses but not loopback ones (every backend here listens on loopback)', async () => {
    const linkLocal = await call('POST', ENDPOINTS, { metadata: { name: 'metadata-server' }, subsets: [{ addresses: [{ ip: '169.254.169.254' }] }] });
    assert.equal(linkLocal.status, 422);
    assert.equal(
      linkLocal.json.message,
      'Endpoints "metadata-server" is invalid: subsets[0].addresses[0].ip: Invalid value: "169.254.169.254": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
    );
    const loopback = await call('POST', ENDPOINTS, { metadata: { name: 'local-backend' }, subsets: [{ addresses: [{ ip: '127.0.0.1' }] }] });
    assert.equal(loopback.status, 201, loopback.text);
  });
});
