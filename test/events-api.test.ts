// core/v1 and events.k8s.io/v1 Events are two views of one store, converted as upstream converts them:
// an event written through either API reads back through the other with its fields renamed.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, kubectlOk } from './harness.js';

let cluster: Cluster;
const ok = (args: string[], input?: string) => kubectlOk(cluster, args, { input });
const json = async (args: string[]) => JSON.parse(await ok([...args, '-o', 'json'])) as Record<string, unknown>;

before(async () => {
  cluster = await Cluster.start();
});

after(async () => {
  await cluster?.stop();
  cluster?.cleanup();
});

describe('Events in two API groups', () => {
  it('an events.k8s.io/v1 Event reads back through core/v1 with core field names, and patches through either', async () => {
    await ok(['create', '-f', '-'], JSON.stringify({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'synced', namespace: 'default' },
      eventTime: '2026-01-01T00:00:00.000000Z',
      reportingController: 'example.com/controller',
      reportingInstance: 'controller-1',
      action: 'Sync',
      reason: 'Synced',
      type: 'Normal',
      note: 'synced the widget',
      regarding: { kind: 'Pod', name: 'web', namespace: 'default' },
    }));
    const viaEvents = await json(['get', 'events.v1.events.k8s.io', 'synced']);
    assert.equal(viaEvents.apiVersion, 'events.k8s.io/v1');
    assert.equal(viaEvents.note, 'synced the widget');
    assert.deepEqual(viaEvents.regarding, { kind: 'Pod', name: 'web', namespace: 'default' });
    assert.equal(viaEvents.message, undefined);
    const viaCore = await json(['get', 'events.v1.', 'synced']);
    assert.equal(viaCore.apiVersion, 'v1');
    assert.equal(viaCore.message, 'synced the widget');
    assert.deepEqual(viaCore.involvedObject, { kind: 'Pod', name: 'web', namespace: 'default' });
    assert.equal(viaCore.reportingComponent, 'example.com/controller');
    assert.equal(viaCore.note, undefined);
    await ok(['patch', 'events.v1.events.k8s.io', 'synced', '--type=merge', '-p', '{"note":"synced again"}']);
    assert.equal(await ok(['get', 'events.v1.', 'synced', '-o', 'jsonpath={.message}']), 'synced again');
    assert.match(await ok(['get', 'events']), /Normal\s+Synced\s+pod\/web\s+synced again/);
  });

  it('a core/v1 Event reads back through events.k8s.io/v1 with deprecated* fields', async () => {
    await ok(['create', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'legacy', namespace: 'default' },
      involvedObject: { kind: 'Node', name: 'node-1' },
      message: 'disk is slow',
      reason: 'Slow',
      type: 'Warning',
      count: 3,
      source: { component: 'kubelet', host: 'node-1' },
      firstTimestamp: '2026-01-01T00:00:00Z',
      lastTimestamp: '2026-01-01T00:05:00Z',
    }));
    const event = await json(['get', 'events.v1.events.k8s.io', 'legacy']);
    assert.equal(event.note, 'disk is slow');
    assert.deepEqual(event.regarding, { kind: 'Node', name: 'node-1' });
    assert.equal(event.deprecatedCount, 3);
    assert.deepEqual(event.deprecatedSource, { component: 'kubelet', host: 'node-1' });
    assert.equal(event.deprecatedFirstTimestamp, '2026-01-01T00:00:00Z');
    assert.equal(event.deprecatedLastTimestamp, '2026-01-01T00:05:00Z');
    for (const field of ['message', 'involvedObject', 'count', 'source', 'firstTimestamp', 'lastTimestamp']) assert.equal(event[field], undefined, field);
    const listed = JSON.parse(await ok(['get', '--raw', '/apis/events.k8s.io/v1/namespaces/default/events'])) as { items: Record<string, unknown>[] };
    assert.deepEqual(listed.items.map((item) => [item.apiVersion, typeof item.note]).sort(), [['events.k8s.io/v1', 'string'], ['events.k8s.io/v1', 'string']]);
  });
});
