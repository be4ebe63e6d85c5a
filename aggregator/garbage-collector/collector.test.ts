// The garbage collector against a server in this process (namespaced Widgets, cluster-scoped Gadgets):
// live reads by uid decide which references are dangling.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject, OwnerReference } from '../../apiserver/registry/object.js';
import { aggregatedResources } from '../../apiserver/discovery/documents.js';
import type { TestServer } from '../../apiserver/server/test-server.js';
import { gadgets, request, startTestServer, widget, widgets, WIDGETS, GADGETS } from '../../apiserver/server/test-server.js';
import type { ProxyTarget } from '../remote-discovery.js';
import { GarbageCollector } from './collector.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('garbage collector', () => {
  let server: TestServer;
  let collector: GarbageCollector;
  const call = (method: string, path: string, body?: unknown) => request(server.port, method, path, { body });
  const eventually = async (what: string, check: () => Promise<boolean>): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
      await sleep(50);
    }
  };
  const ownerRef = (object: KubeObject, extra: Partial<OwnerReference> = {}): OwnerReference => ({ apiVersion: 'example.com/v1', kind: String(object.kind), name: object.metadata.name!, uid: object.metadata.uid!, ...extra });
  const create = async (path: string, object: KubeObject): Promise<KubeObject> => {
    const response = await call('POST', path, object);
    assert.equal(response.status, 201, response.text);
    return response.json as KubeObject;
  };

  before(async () => {
    server = await startTestServer();
    const target = { name: 'test', url: 'in-process://test', agent: undefined as never, target: { protocol: 'https:', host: '127.0.0.1', port: 0 }, inProcess: server.server as never } satisfies ProxyTarget;
    const router = {
      versions: () => [{ group: 'example.com', version: 'v1', groupPriority: 1000, versionPriority: 15, resources: aggregatedResources({ group: 'example.com', version: 'v1', resources: [widgets, gadgets] }), stale: false }],
      route: () => ({ kind: 'proxy' as const, target }),
    };
    collector = new GarbageCollector(router, target);
    collector.start();
  });
  after(async () => {
    collector.stop();
    await server.close();
  });

  it('removes the reference to a gone owner from a dependent that still has a live one', async () => {
    const live = await create(WIDGETS, widget('live-owner'));
    const gone = { kind: 'Widget', metadata: { name: 'gone-owner', uid: '6f0c8a2e-0000-4000-8000-000000000000' } } as KubeObject;
    await create(WIDGETS, widget('two-owners', { color: 'red' }, { ownerReferences: [ownerRef(live), ownerRef(gone)] }));
    await eventually('the dangling reference is removed', async () => {
      const object = (await call('GET', `${WIDGETS}/two-owners`)).json as KubeObject;
      return object.metadata.ownerReferences?.length === 1;
    });
    const object = (await call('GET', `${WIDGETS}/two-owners`)).json as KubeObject;
    assert.equal(object.metadata.ownerReferences![0].uid, live.metadata.uid);
  });

  it('a namespaced dependent may have a cluster-scoped owner; an owner recreated with another uid is gone', async () => {
    const gadget = await create(GADGETS, { apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'cluster-owner' } });
    await create(WIDGETS, widget('owned-by-gadget', { color: 'blue' }, { ownerReferences: [ownerRef(gadget)] }));
    await sleep(300);
    assert.equal((await call('GET', `${WIDGETS}/owned-by-gadget`)).status, 200, 'a cluster-scoped owner is found from any namespace');
    await call('DELETE', `${GADGETS}/cluster-owner`);
    await create(GADGETS, { apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'cluster-owner' } });
    await eventually('the dependent of the old gadget is collected', async () => (await call('GET', `${WIDGETS}/owned-by-gadget`)).status === 404);
  });

  it('a cluster-scoped object naming a namespaced owner is left alone', async () => {
    await create(GADGETS, { apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'invalid', ownerReferences: [{ apiVersion: 'example.com/v1', kind: 'Widget', name: 'w', uid: '6f0c8a2e-0000-4000-8000-000000000001' }] } });
    await sleep(500);
    assert.equal((await call('GET', `${GADGETS}/invalid`)).status, 200);
  });

  it('orphaning removes the owner reference from every dependent, then the owner goes', async () => {
    const owner = await create(WIDGETS, widget('orphaner'));
    for (const name of ['kid-1', 'kid-2']) await create(WIDGETS, widget(name, { color: 'green' }, { ownerReferences: [ownerRef(owner, { blockOwnerDeletion: true })] }));
    await sleep(200);
    const deleted = await call('DELETE', `${WIDGETS}/orphaner`, { propagationPolicy: 'Orphan' });
    assert.deepEqual(deleted.json.metadata.finalizers, ['orphan']);
    await eventually('the owner is gone', async () => (await call('GET', `${WIDGETS}/orphaner`)).status === 404);
    for (const name of ['kid-1', 'kid-2']) assert.equal(((await call('GET', `${WIDGETS}/${name}`)).json as KubeObject).metadata.ownerReferences, undefined);
  });

  it('a dependent with dependents of its own, whose owner is deleted in the foreground, goes in the foreground too', async () => {
    const top = await create(WIDGETS, widget('top'));
    const middle = await create(WIDGETS, widget('middle', { color: 'red' }, { ownerReferences: [ownerRef(top, { blockOwnerDeletion: true })] }));
    await create(WIDGETS, widget('bottom', { color: 'red' }, { ownerReferences: [ownerRef(middle, { blockOwnerDeletion: true })], finalizers: ['example.com/hold'] }));
    await sleep(200);
    await call('DELETE', `${WIDGETS}/top`, { propagationPolicy: 'Foreground' });
    await eventually('the middle one waits for its own dependent', async () => {
      const object = (await call('GET', `${WIDGETS}/middle`)).json as KubeObject;
      return (object.metadata.finalizers ?? []).includes('foregroundDeletion');
    });
    assert.equal((await call('GET', `${WIDGETS}/top`)).status, 200, 'the top waits for the middle');
    const released = await request(server.port, 'PATCH', `${WIDGETS}/bottom`, { body: [{ op: 'remove', path: '/metadata/finalizers' }], headers: { 'Content-Type': 'application/json-patch+json' } });
    assert.equal(released.status, 200, released.text);
    await eventually('the whole chain is gone', async () => (await call('GET', `${WIDGETS}/top`)).status === 404);
    assert.equal((await call('GET', `${WIDGETS}/middle`)).status, 404);
    assert.equal((await call('GET', `${WIDGETS}/bottom`)).status, 404);
  });
});
