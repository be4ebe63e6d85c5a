// pods/binding and pods/eviction over HTTP: binding sets spec.nodeName once, eviction deletes the pod
// unless the PodDisruptionBudget selecting it allows no disruption.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ApiServer } from '../../../apiserver/server/api-server.js';
import { MemoryStorage } from '../../../apiserver/storage/memory.js';
import { builtinSchemas } from '../../../apiserver/schema/builtin.js';
import { structuralCheckFor } from '../../../apiserver/schema/structural-check.js';
import { schemaPatchMeta } from '../../../apiserver/schema/patch-meta.js';
import { request } from '../../../apiserver/server/test-server.js';
import { core1Resources } from './index.js';
import { podDisruptionBudgets } from '../workloads/scaling.js';

const PODS = '/api/v1/namespaces/default/pods';
const PDBS = '/apis/policy/v1/namespaces/default/poddisruptionbudgets';
const MERGE = { 'Content-Type': 'application/merge-patch+json' };

describe('pods/binding and pods/eviction', () => {
  let port = 0;
  let close: () => Promise<void>;
  const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => request(port, method, path, { body, headers });
  const pod = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
  const running = (name: string, ready = true) =>
    call('PATCH', `${PODS}/${name}/status`, { status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } }, MERGE);
  const evict = (name: string, version = 'policy/v1', extra: Record<string, unknown> = {}) =>
    call('POST', `${PODS}/${name}/eviction`, { apiVersion: version, kind: 'Eviction', metadata: { name, namespace: 'default' }, ...extra });

  before(async () => {
    const storage = new MemoryStorage();
    const definitions = builtinSchemas();
    const server = new ApiServer({ name: 'pods-test', authentication: { clientCa: [], untrustedIdentityHeaders: 'strip' }, authorizer: async () => ({ allowed: true }) });
    for (const definition of [...core1Resources, podDisruptionBudgets]) {
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

  it('discovery lists pods/binding and pods/eviction with the create verb', async () => {
    const discovery = await call('GET', '/api/v1');
    const binding = discovery.json.resources.find((resource: { name: string }) => resource.name === 'pods/binding');
    const eviction = discovery.json.resources.find((resource: { name: string }) => resource.name === 'pods/eviction');
    assert.deepEqual(binding, { name: 'pods/binding', singularName: '', namespaced: true, kind: 'Binding', verbs: ['create'] });
    assert.deepEqual(eviction, { name: 'pods/eviction', singularName: '', namespaced: true, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] });
  });

  it('binds a pod once and refuses a second binding with 409', async () => {
    assert.equal((await call('POST', PODS, pod('bound'))).status, 201);
    const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bound', annotations: { scheduled: 'yes' } }, target: { kind: 'Node', name: 'node-a' } };
    const bound = await call('POST', `${PODS}/bound/binding`, binding);
    assert.equal(bound.status, 201, bound.text);
    assert.equal(bound.json.status, 'Success');
    const stored = (await call('GET', `${PODS}/bound`)).json;
    assert.equal(stored.spec.nodeName, 'node-a');
    assert.equal(stored.metadata.annotations.scheduled, 'yes');
    assert.equal(stored.status.conditions.find((condition: { type: string }) => condition.type === 'PodScheduled').status, 'True');
    const again = await call('POST', `${PODS}/bound/binding`, { ...binding, target: { name: 'node-b' } });
    assert.equal(again.status, 409);
    assert.equal(again.json.message, 'Operation cannot be fulfilled on pods/binding "bound": pod bound is already assigned to node "node-a"');
    const missing = await call('POST', `${PODS}/bound/binding`, { ...binding, target: {} });
    assert.equal(missing.status, 422);
    const mismatch = await call('POST', `${PODS}/bound/binding`, { ...binding, metadata: { name: 'other' } });
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.json.message, 'name in URL does not match name in Binding object');
  });

  it('evicts a pod no budget selects (v1 and v1beta1 bodies)', async () => {
    await call('POST', PODS, pod('free'));
    await running('free');
    const evicted = await evict('free', 'policy/v1beta1');
    assert.equal(evicted.status, 201, evicted.text);
    assert.equal((await call('GET', `${PODS}/free`)).status, 404);
    assert.equal((await evict('free')).status, 404);
  });

  it('refuses an eviction the budget does not allow with 429 DisruptionBudget, then takes an allowed disruption', async () => {
    await call('POST', PODS, pod('guarded', { app: 'db' }));
    await running('guarded');
    assert.equal((await call('POST', PDBS, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'db' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'db' } } } })).status, 201);
    const processing = await evict('guarded');
    assert.equal(processing.status, 429, 'a budget the controller has not observed yet');
    assert.match(processing.json.details.causes[0].message, /still being processed/);
    await call('PATCH', `${PDBS}/db/status`, { status: { observedGeneration: 1, disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 } }, MERGE);
    const refused = await evict('guarded');
    assert.equal(refused.status, 429);
    assert.equal(refused.json.reason, 'TooManyRequests');
    assert.equal(refused.json.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.deepEqual(refused.json.details.causes, [{ reason: 'DisruptionBudget', message: 'The disruption budget db needs 1 healthy pods and has 1 currently' }]);
    assert.equal((await call('GET', `${PODS}/guarded`)).status, 200);

    await call('PATCH', `${PDBS}/db/status`, { status: { disruptionsAllowed: 1, currentHealthy: 2 } }, MERGE);
    const dryRun = await call('POST', `${PODS}/guarded/eviction?dryRun=All`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'guarded' } });
    assert.equal(dryRun.status, 201);
    assert.equal((await call('GET', `${PODS}/guarded`)).status, 200);
    assert.equal((await call('GET', `${PDBS}/db`)).json.status.disruptionsAllowed, 1);
    assert.equal((await evict('guarded')).status, 201);
    const budget = (await call('GET', `${PDBS}/db`)).json;
    assert.equal(budget.status.disruptionsAllowed, 0);
    assert.ok(budget.status.disruptedPods.guarded);
    assert.equal(budget.status.conditions[0].reason, 'InsufficientPods');
  });

  it('evicts terminal and pending pods without consulting budgets; two budgets are a 500', async () => {
    await call('POST', PODS, pod('done', { app: 'db' }));
    await call('PATCH', `${PODS}/done/status`, { status: { phase: 'Succeeded' } }, MERGE);
    assert.equal((await evict('done')).status, 201);
    await call('POST', PODS, pod('waiting', { app: 'db' }));
    assert.equal((await evict('waiting')).status, 201, 'pending pods go');
    await call('POST', PODS, pod('doubly', { app: 'db' }));
    await running('doubly');
    await call('POST', PDBS, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'db2' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'db' } } } });
    const two = await evict('doubly');
    assert.equal(two.status, 500);
    assert.equal(two.json.message, 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
  });
});
