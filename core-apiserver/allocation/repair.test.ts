import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStorage } from '../../apiserver/storage/memory.js';
import { request } from '../../apiserver/server/test-server.js';
import { CLUSTER_IP_PREFIX, NODE_PORT_PREFIX } from './allocators.js';
import { repairAllocations } from './repair.js';
import { recordKeys, service, SERVICES, startServiceServer } from './service-test-server.js';

describe('repairAllocations', () => {
  it('recreates the records of stored Services that lack them', async () => {
    const t = await startServiceServer();
    try {
      const created = (await request(t.port, 'POST', SERVICES, { body: service('old', { type: 'NodePort' }) })).json;
      // As if the Service had been stored before allocation records existed.
      await t.storage.delete(`${CLUSTER_IP_PREFIX}${created.spec.clusterIP}`);
      await t.storage.delete(`${NODE_PORT_PREFIX}${created.spec.ports[0].nodePort}`);
      const result = await repairAllocations(t.stores.get('services')!, t.allocators);
      assert.deepEqual(result, { recreated: 2, released: 0 });
      assert.deepEqual(await recordKeys(t.storage, CLUSTER_IP_PREFIX), [created.spec.clusterIP]);
      assert.deepEqual(await recordKeys(t.storage, NODE_PORT_PREFIX), [String(created.spec.ports[0].nodePort)]);
    } finally {
      await t.close();
    }
  });

  it('releases orphaned records once they are older than the grace period, never young ones', async () => {
    const storage = new MemoryStorage();
    const t = await startServiceServer({ storage });
    try {
      await t.allocators.clusterIps.allocate('10.96.0.50', 'default/crashed');
      await t.allocators.nodePorts.allocate(30050, 'default/crashed');
      const services = t.stores.get('services')!;
      assert.deepEqual(await repairAllocations(services, t.allocators), { recreated: 0, released: 0 });
      const later = Date.now() + 11 * 60 * 1000;
      assert.deepEqual(await repairAllocations(services, t.allocators, { now: later }), { recreated: 0, released: 2 });
      assert.deepEqual(await recordKeys(storage, CLUSTER_IP_PREFIX), []);
      assert.deepEqual(await recordKeys(storage, NODE_PORT_PREFIX), []);
    } finally {
      await t.close();
    }
  });
});
