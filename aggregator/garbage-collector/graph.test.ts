import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject, OwnerReference } from '../../apiserver/registry/object.js';
import type { GraphWork } from './graph.js';
import { diffReferences, OwnershipGraph } from './graph.js';

function configMap(name: string, uid: string, owners: OwnerReference[] = [], extra: Partial<KubeObject['metadata']> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', uid, ...(owners.length ? { ownerReferences: owners } : {}), ...extra } };
}

const ref = (name: string, uid: string, blockOwnerDeletion?: boolean): OwnerReference => ({ apiVersion: 'v1', kind: 'ConfigMap', name, uid, ...(blockOwnerDeletion === undefined ? {} : { blockOwnerDeletion }) });
const names = (work: GraphWork[]) => work.map((item) => `${item.queue}:${item.node.identity.name}`).sort();

describe('ownership graph', () => {
  it('an owner referenced before it is seen is virtual and checked; seeing it makes it real', () => {
    const graph = new OwnershipGraph();
    const work = graph.apply('ADDED', configMap('child', 'c1', [ref('parent', 'p1')]));
    assert.deepEqual(names(work), ['delete:parent']);
    assert.equal(graph.node('p1')!.virtual, true);
    assert.equal(graph.node('p1')!.identity.namespace, 'default', 'a virtual owner is looked for in its dependent\'s namespace');
    assert.deepEqual(graph.apply('ADDED', configMap('parent', 'p1')), []);
    assert.equal(graph.node('p1')!.virtual, false);
    assert.deepEqual([...graph.node('p1')!.dependents].map((node) => node.identity.name), ['child']);
  });

  it('deleting an owner queues its dependents; confirming a virtual owner absent does the same', () => {
    const graph = new OwnershipGraph();
    graph.apply('ADDED', configMap('parent', 'p1'));
    graph.apply('ADDED', configMap('a', 'a1', [ref('parent', 'p1')]));
    graph.apply('ADDED', configMap('b', 'b1', [ref('parent', 'p1')]));
    assert.deepEqual(names(graph.apply('DELETED', configMap('parent', 'p1'))), ['delete:a', 'delete:b']);
    assert.equal(graph.node('p1'), undefined);
    graph.apply('ADDED', configMap('orphan', 'o1', [ref('ghost', 'g1')]));
    assert.deepEqual(names(graph.confirmAbsent(graph.node('g1')!)), ['delete:orphan']);
  });

  it('foreground deletion queues the owner and its dependents; a removed blocking dependent re-queues the owner', () => {
    const graph = new OwnershipGraph();
    graph.apply('ADDED', configMap('parent', 'p1'));
    graph.apply('ADDED', configMap('blocker', 'b1', [ref('parent', 'p1', true)]));
    graph.apply('ADDED', configMap('loose', 'l1', [ref('parent', 'p1')]));
    const deleting = configMap('parent', 'p1', [], { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['foregroundDeletion'] });
    assert.deepEqual(names(graph.apply('MODIFIED', deleting, configMap('parent', 'p1'))), ['delete:blocker', 'delete:loose', 'delete:parent']);
    const owner = graph.node('p1')!;
    assert.equal(owner.deletingDependents, true);
    assert.deepEqual(graph.blockingDependents(owner).map((node) => node.identity.name), ['blocker']);
    assert.deepEqual(names(graph.apply('DELETED', configMap('blocker', 'b1', [ref('parent', 'p1', true)]))), ['delete:parent']);
    assert.deepEqual(graph.blockingDependents(owner), []);
  });

  it('orphan deletion queues the owner for orphaning once', () => {
    const graph = new OwnershipGraph();
    const live = configMap('parent', 'p1');
    graph.apply('ADDED', live);
    const orphaning = configMap('parent', 'p1', [], { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['orphan'] });
    assert.deepEqual(names(graph.apply('MODIFIED', orphaning, live)), ['orphan:parent']);
    assert.deepEqual(names(graph.apply('MODIFIED', orphaning, orphaning)), []);
  });

  it('changed owner references move the dependent and unblock the old owner', () => {
    const graph = new OwnershipGraph();
    graph.apply('ADDED', configMap('p', 'p1'));
    graph.apply('ADDED', configMap('q', 'q1'));
    graph.apply('ADDED', configMap('child', 'c1', [ref('p', 'p1', true)]));
    const work = graph.apply('MODIFIED', configMap('child', 'c1', [ref('q', 'q1')]));
    assert.deepEqual(names(work), ['delete:p']);
    assert.equal(graph.node('p1')!.dependents.size, 0);
    assert.equal(graph.node('q1')!.dependents.size, 1);
  });

  it('a dependent naming an observed owner in another namespace is re-checked', () => {
    const graph = new OwnershipGraph();
    graph.apply('ADDED', { ...configMap('parent', 'p1'), metadata: { name: 'parent', namespace: 'other', uid: 'p1' } });
    assert.deepEqual(names(graph.apply('ADDED', configMap('child', 'c1', [ref('parent', 'p1')]))), ['delete:child']);
  });

  it('diffReferences reports additions, removals and references that stopped blocking', () => {
    const diff = diffReferences([ref('a', '1', true), ref('b', '2')], [ref('a', '1', false), ref('c', '3')]);
    assert.deepEqual(diff.added.map((reference) => reference.uid), ['3']);
    assert.deepEqual(diff.removed.map((reference) => reference.uid), ['2']);
    assert.deepEqual(diff.unblocked, ['1']);
  });
});
