import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryStorage } from '../../apiserver/storage/memory.js';
import { GenericStore, type WriteContext } from '../../apiserver/registry/store.js';
import { AdmissionChain } from '../../apiserver/admission/interface.js';
import { StatusError } from '../../apiserver/request/status.js';
import { resourceQuotas } from '../resources/corev1/quotas.js';
import { configMaps } from '../resources/configmaps.js';
import { QuotaLedger, ResourceQuotaAdmission } from './resource-quota.js';
import { QuotaController } from './quota-controller.js';
import { formatUsage, missingCompute, usageOf } from './quota-usage.js';
import { pod } from './test-support.js';

const context = (namespace: string, dryRun = false): WriteContext => ({
  user: { username: 'admin', groups: ['system:masters'] },
  namespace,
  warnings: [],
  dryRun,
  fieldManager: 'test',
  fieldValidation: 'Strict',
});

describe('quota usage', () => {
  it('counts objects and a pod’s compute resources, formatted as upstream prints them', () => {
    const usage = usageOf('', 'pods', pod('p', { containers: [{ name: 'a', resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { memory: '128Mi' } } }, { name: 'b', resources: { requests: { cpu: '1' } } }] }));
    assert.deepEqual(Object.fromEntries([...usage].map(([name, amount]) => [name, formatUsage(name, amount)])), {
      'count/pods': '1',
      pods: '1',
      'requests.cpu': '1250m',
      cpu: '1250m',
      'requests.memory': '64Mi',
      memory: '64Mi',
      'limits.memory': '128Mi',
    });
    assert.deepEqual([...usageOf('apps', 'deployments', { metadata: {} })], [['count/deployments.apps', 1]]);
    assert.equal(usageOf('', 'pods', { metadata: {}, status: { phase: 'Succeeded' } }).size, 0, 'finished pods hold nothing');
  });

  it('requires every container to state a constrained compute resource', () => {
    assert.equal(missingCompute(['requests.cpu', 'limits.memory', 'pods'], pod('p', { containers: [{ name: 'b' }, { name: 'a', resources: { requests: { cpu: '1' } } }] })), 'must specify limits.memory for: a,b; requests.cpu for: b');
    assert.equal(missingCompute(['pods'], pod('p', { containers: [{ name: 'a' }] })), undefined);
  });
});

describe('ResourceQuota admission and the quota controller', () => {
  const storage = new MemoryStorage();
  const chain = new AdmissionChain();
  const quotas = new GenericStore(resourceQuotas, storage);
  const maps = new GenericStore(configMaps, storage, { admission: chain });
  const ledger = new QuotaLedger();
  const controller = new QuotaController(quotas, () => [quotas, maps], ledger);
  chain.register(new ResourceQuotaAdmission(quotas, ledger));

  before(async () => {
    await controller.start();
  });
  after(async () => {
    controller.stop();
    await storage.close();
  });

  const used = async (name: string, namespace = 'ns') => (await quotas.getObject(namespace, name)).status?.used as Record<string, string> | undefined;
  const eventually = async (check: () => Promise<boolean>) => {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > deadline) assert.fail('timed out');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it('never lets concurrent creates exceed hard, and status.used matches what was created', async () => {
    await quotas.create({ metadata: { name: 'cap' }, spec: { hard: { 'count/configmaps': '7' } } }, context('ns'));
    await eventually(async () => (await used('cap'))?.['count/configmaps'] === '0');
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, index) => maps.create({ metadata: { name: `c${index}` } }, context('ns'))));
    const created = results.filter((result) => result.status === 'fulfilled').length;
    assert.equal(created, 7);
    for (const result of results) {
      if (result.status === 'rejected') {
        assert.ok(result.reason instanceof StatusError);
        assert.equal(result.reason.code, 403);
        assert.match(result.reason.message, /^configmaps "c\d+" is forbidden: exceeded quota: cap, requested: count\/configmaps=1, used: count\/configmaps=7, limited: count\/configmaps=7$/);
      }
    }
    assert.equal((await used('cap'))?.['count/configmaps'], '7');
  });

  it('a dry run is checked but charges nothing; a delete is released by the controller', async () => {
    await assert.rejects(maps.create({ metadata: { name: 'dry' } }, context('ns', true)), /exceeded quota/);
    await maps.delete('c0', {}, context('ns'));
    await maps.delete('c1', {}, context('ns'));
    await eventually(async () => (await used('cap'))?.['count/configmaps'] === '5');
    await maps.create({ metadata: { name: 'dry' } }, context('ns', true));
    assert.equal((await used('cap'))?.['count/configmaps'], '5');
  });

  it('a charge whose object is never stored is released once it expires', async () => {
    await quotas.create({ metadata: { name: 'other' }, spec: { hard: { configmaps: '3' } } }, { ...context('side') });
    await eventually(async () => (await used('other', 'side'))?.configmaps === '0');
    await maps.create({ metadata: { name: 'taken' } }, context('side'));
    // The name is taken: the charge is made, the write fails.
    await assert.rejects(maps.create({ metadata: { name: 'taken' } }, context('side')), /already exists/);
    assert.equal((await used('other', 'side'))?.configmaps, '2');
    await controller.recalculate('side');
    assert.equal((await used('other', 'side'))?.configmaps, '2', 'a charge in flight still counts');
    await eventually(async () => (await used('other', 'side'))?.configmaps === '1');
  });
});
