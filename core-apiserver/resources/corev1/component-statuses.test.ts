import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import { MemoryStorage } from '../../../apiserver/storage/memory.js';
import { EtcdTestCluster, ETCD_MISSING, etcdAvailable } from '../../../apiserver/storage/etcd-test-server.js';
import { LEASE_STORAGE_PREFIX, type Leadership } from '../../../apiserver/server/leader-election.js';
import { freePort } from '../../../launcher/ports.js';
import { ComponentStatusStorage, controlPlaneProbes, componentStatuses, type ComponentProbe } from './component-statuses.js';
import { tableRow } from '../../../apiserver/registry/table.js';

const NOT_LEADING: Leadership = { isLeader: false, onChange: () => undefined };

async function statuses(probes: ComponentProbe[]): Promise<Record<string, Record<string, unknown>>> {
  const result: Record<string, Record<string, unknown>> = {};
  for (const probe of probes) {
    const outcome = await probe.probe();
    result[probe.name] = { ...outcome };
  }
  return result;
}

describe('componentstatuses probes', () => {
  it('embedded storage is etcd-0; controllers running here make controller-manager healthy', async () => {
    const probes = controlPlaneProbes({ storage: new MemoryStorage(), values: { 'storage-backend': 'sqlite' }, leaseName: 'core-apiserver' });
    assert.deepEqual(await statuses(probes), { 'etcd-0': { healthy: true, message: 'ok' }, 'controller-manager': { healthy: true, message: 'ok' } });
  });

  it('a storage that fails its read makes etcd-0 unhealthy with the reason', async () => {
    const storage = new MemoryStorage();
    storage.currentRevision = () => Promise.reject(new Error('database is locked'));
    const [etcd] = controlPlaneProbes({ storage, values: {}, leaseName: 'core-apiserver' });
    assert.deepEqual(await etcd.probe(), { healthy: false, error: 'memory storage: database is locked' });
  });

  it('a replica that does not lead reports the controllers by the Lease: current is healthy, expired is not', async () => {
    const storage = new MemoryStorage();
    const key = `${LEASE_STORAGE_PREFIX}kube-system/core-apiserver`;
    const lease = (renewTime: string) => JSON.stringify({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'core-apiserver', namespace: 'kube-system' }, spec: { holderIdentity: 'other', leaseDurationSeconds: 15, renewTime } });
    const probe = controlPlaneProbes({ storage, values: {}, leadership: NOT_LEADING, leaseName: 'core-apiserver' }).find((candidate) => candidate.name === 'controller-manager')!;
    assert.deepEqual(await probe.probe(), { healthy: false, error: 'no replica holds a current kube-system/core-apiserver Lease: the controllers are not running' });
    const created = await storage.create(key, lease(new Date().toISOString()));
    assert.deepEqual(await probe.probe(), { healthy: true, message: 'ok' });
    await storage.update(key, lease(new Date(Date.now() - 60_000).toISOString()), created.modRevision);
    assert.equal((await probe.probe()).healthy, false);
  });

  // Fails rather than skips without etcd, like the other etcd tests: CI installs it.
  describe('on etcd', () => {
    let etcd: EtcdTestCluster;
    before(async () => {
      if (!etcdAvailable()) throw new Error(ETCD_MISSING);
      etcd = await EtcdTestCluster.start();
    });
    after(async () => {
      await etcd?.stop();
    });

    it('one entry per --etcd-servers member, each probed on its own /health', async () => {
      const dead = `http://127.0.0.1:${await freePort()}`;
      const probes = controlPlaneProbes({ storage: new MemoryStorage(), values: { 'storage-backend': 'etcd3', 'etcd-servers': [etcd.endpoints[0], dead] }, leaseName: 'core-apiserver' });
      assert.deepEqual(probes.map((probe) => probe.name), ['etcd-0', 'etcd-1', 'controller-manager']);
      const found = await statuses(probes);
      assert.deepEqual(found['etcd-0'], { healthy: true, message: 'ok' });
      assert.equal(found['etcd-1'].healthy, false);
      assert.match(String(found['etcd-1'].error), new RegExp(`^Get "${dead}/health": .*ECONNREFUSED`));
    });
  });
});

describe('componentstatuses storage', () => {
  it('each read of the revision probes again and records only what changed', async () => {
    let healthy = true;
    let probed = 0;
    const storage = new ComponentStatusStorage([{ name: 'etcd-0', probe: async () => (probed++, healthy ? { healthy, message: 'ok' } : { healthy, error: 'down' }) }]);
    const first = await storage.currentRevision();
    const listed = await storage.list(componentStatuses.storagePrefix);
    const object = JSON.parse(listed.items[0].value) as KubeObject;
    assert.deepEqual(object, { kind: 'ComponentStatus', apiVersion: 'v1', metadata: { name: 'etcd-0', creationTimestamp: null }, conditions: [{ type: 'Healthy', status: 'True', message: 'ok' }] });
    assert.deepEqual(tableRow(componentStatuses.printerColumns!, object, 'None').cells, ['etcd-0', 'Healthy', 'ok', '']);
    // A get probes its component at once; an unchanged answer writes nothing.
    await storage.get(`${componentStatuses.storagePrefix}etcd-0`);
    assert.equal(await storage.currentRevision(), first);
    healthy = false;
    const fresh = await storage.get(`${componentStatuses.storagePrefix}etcd-0`);
    const failed = JSON.parse(fresh!.value) as KubeObject;
    assert.deepEqual(tableRow(componentStatuses.printerColumns!, failed, 'None').cells, ['etcd-0', 'Unhealthy', '', 'down']);
    assert.ok(probed >= 3);
    assert.equal(await storage.get(`${componentStatuses.storagePrefix}scheduler`), undefined);
  });
});
