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
import { formatUsage, missingCompute, quotaSelects, usageOf } from './quota-usage.js';
import { persistentVolumeClaims } from '../resources/corev1/volumes.js';
import { attributesOf, pod } from './test-support.js';

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

describe('ResourceQuota on updates', () => {
  const storage = new MemoryStorage();
  const chain = new AdmissionChain();
  const quotas = new GenericStore(resourceQuotas, storage);
  const claims = new GenericStore(persistentVolumeClaims, storage, { admission: chain });
  const ledger = new QuotaLedger();
  const controller = new QuotaController(quotas, () => [quotas, claims], ledger);
  const plugin = new ResourceQuotaAdmission(quotas, ledger);
  chain.register(plugin);

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
  const claim = (name: string, storageRequest: string) => ({
    metadata: { name },
    spec: { accessModes: ['ReadWriteOnce'], volumeName: `pv-${name}`, resources: { requests: { storage: storageRequest } } },
  });
  const resize = async (name: string, storageRequest: string) => {
    const current = await claims.getObject('ns', name);
    const next = structuredClone(current);
    (next.spec as { resources: { requests: Record<string, string> } }).resources.requests.storage = storageRequest;
    return claims.update(name, next, context('ns'));
  };

  it('charges a claim’s growth against the old object and refuses growth past hard with upstream’s message', async () => {
    await quotas.create({ metadata: { name: 'storage' }, spec: { hard: { 'requests.storage': '10Gi', persistentvolumeclaims: '5' } } }, context('ns'));
    await eventually(async () => (await used('storage'))?.['requests.storage'] === '0');
    await claims.create(claim('data', '4Gi'), context('ns'));
    assert.deepEqual(await used('storage'), { 'requests.storage': '4Gi', persistentvolumeclaims: '1' });
    await resize('data', '8Gi');
    assert.deepEqual(await used('storage'), { 'requests.storage': '8Gi', persistentvolumeclaims: '1' }, 'only the 4Gi delta is charged; the object count is not');
    await assert.rejects(resize('data', '12Gi'), (error: unknown) => {
      assert.ok(error instanceof StatusError);
      assert.equal(error.code, 403);
      assert.equal(error.message, 'persistentvolumeclaims "data" is forbidden: exceeded quota: storage, requested: requests.storage=4Gi, used: requests.storage=8Gi, limited: requests.storage=10Gi');
      return true;
    });
    assert.equal((await claims.getObject('ns', 'data')).spec?.resources?.requests?.storage, '8Gi');
  });

  it('an update that changes no usage is not charged, and a dry-run update charges nothing', async () => {
    const current = await claims.getObject('ns', 'data');
    await claims.update('data', { ...current, metadata: { ...current.metadata, labels: { touched: 'yes' } } }, context('ns'));
    const dry = structuredClone(await claims.getObject('ns', 'data'));
    dry.spec.resources.requests.storage = '9Gi';
    await claims.update('data', dry, context('ns', true));
    assert.deepEqual(await used('storage'), { 'requests.storage': '8Gi', persistentvolumeclaims: '1' });
  });

  it('a delete gives its usage back through the quota controller', async () => {
    await claims.delete('data', {}, context('ns'));
    await eventually(async () => (await used('storage'))?.['requests.storage'] === '0' && (await used('storage'))?.persistentvolumeclaims === '0');
  });

  it('a service turned into a load balancer is charged services.loadbalancers and its node ports', async () => {
    const quota = { metadata: { name: 'lb', namespace: 'ns', resourceVersion: '1' }, spec: { hard: { 'services.loadbalancers': '0', 'services.nodeports': '5' } }, status: { hard: { 'services.loadbalancers': '0', 'services.nodeports': '5' }, used: { 'services.loadbalancers': '0', 'services.nodeports': '0' } } };
    const sideStorage = new MemoryStorage();
    const sideQuotas = new GenericStore(resourceQuotas, sideStorage);
    await sideQuotas.storage.create(sideQuotas.key('ns', 'lb'), JSON.stringify(quota));
    const side = new ResourceQuotaAdmission(sideQuotas, new QuotaLedger());
    const old = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'ns', resourceVersion: '5' }, spec: { type: 'ClusterIP', ports: [{ port: 80 }, { port: 443 }] } };
    const asLoadBalancer = { ...old, spec: { ...old.spec, type: 'LoadBalancer' } };
    await assert.rejects(side.validate(attributesOf('services', asLoadBalancer, { operation: 'UPDATE', oldObject: old })), /exceeded quota: lb, requested: services.loadbalancers=1, used: services.loadbalancers=0, limited: services.loadbalancers=0$/);
    // Without a load balancer quota to break, NodePort charges the two ports.
    await side.validate(attributesOf('services', { ...old, spec: { ...old.spec, type: 'NodePort' } }, { operation: 'UPDATE', oldObject: old }));
    assert.equal((JSON.parse((await sideQuotas.storage.get(sideQuotas.key('ns', 'lb')))!.value) as { status: { used: Record<string, string> } }).status.used['services.nodeports'], '2');
    await sideStorage.close();
  });
});

describe('quota scopes', () => {
  const quota = (spec: Record<string, unknown>) => ({ metadata: { name: 'q' }, spec: { hard: { pods: '1' }, ...spec } });
  const plain = pod('p', { containers: [{ name: 'c' }] });
  const critical = pod('p', { priorityClassName: 'critical', activeDeadlineSeconds: 30, containers: [{ name: 'c', resources: { requests: { cpu: '1' } } }] });

  it('matches spec.scopes and scopeSelector expressions as upstream’s pod evaluator does', () => {
    assert.equal(quotaSelects(quota({ scopes: ['BestEffort', 'NotTerminating'] }), '', 'pods', plain), true);
    assert.equal(quotaSelects(quota({ scopes: ['BestEffort'] }), '', 'pods', critical), false);
    assert.equal(quotaSelects(quota({ scopes: ['Terminating', 'NotBestEffort'] }), '', 'pods', critical), true);
    const priority = (operator: string, values?: string[]) => quota({ scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator, values }] } });
    assert.equal(quotaSelects(priority('In', ['critical', 'high']), '', 'pods', critical), true);
    assert.equal(quotaSelects(priority('In', ['high']), '', 'pods', critical), false);
    assert.equal(quotaSelects(priority('NotIn', ['high']), '', 'pods', plain), true);
    assert.equal(quotaSelects(priority('Exists'), '', 'pods', plain), false);
    assert.equal(quotaSelects(priority('Exists'), '', 'pods', critical), true);
    assert.equal(quotaSelects(priority('DoesNotExist'), '', 'pods', plain), false, 'the PriorityClass key is always present');
    const crossNamespace = pod('x', { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: { topologyKey: 'k', namespaceSelector: {} } }] } }, containers: [] });
    const scoped = quota({ scopeSelector: { matchExpressions: [{ scopeName: 'CrossNamespacePodAffinity', operator: 'Exists' }] } });
    assert.equal(quotaSelects(scoped, '', 'pods', crossNamespace), true);
    assert.equal(quotaSelects(scoped, '', 'pods', plain), false);
    assert.equal(quotaSelects(scoped, '', 'configmaps', { metadata: {} }), false, 'scoped quotas count pods only');
    assert.equal(quotaSelects(quota({}), '', 'configmaps', { metadata: {} }), true);
  });
});
