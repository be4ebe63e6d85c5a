import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deletionFinalizers } from './delete-propagation.js';
import type { TestServer } from '../server/test-server.js';
import { request, startTestServer, widget, WIDGETS } from '../server/test-server.js';
import { MemoryStorage } from '../storage/memory.js';
import { defineResource } from './resource.js';
import { GenericStore, type WriteContext } from './store.js';

describe('deletion finalizers for the garbage collector', () => {
  it('Foreground adds foregroundDeletion, Orphan adds orphan, Background adds nothing', () => {
    assert.deepEqual(deletionFinalizers(undefined, { propagationPolicy: 'Foreground' }), ['foregroundDeletion']);
    assert.deepEqual(deletionFinalizers(['example.com/x'], { propagationPolicy: 'Orphan' }), ['example.com/x', 'orphan']);
    assert.equal(deletionFinalizers(undefined, { propagationPolicy: 'Background' }), undefined);
    assert.equal(deletionFinalizers(['example.com/x'], {}), undefined);
  });

  it('an explicit policy replaces the finalizer of an earlier delete', () => {
    assert.deepEqual(deletionFinalizers(['orphan'], { propagationPolicy: 'Foreground' }), ['foregroundDeletion']);
    assert.deepEqual(deletionFinalizers(['foregroundDeletion', 'a'], { propagationPolicy: 'Background' }), ['a']);
    assert.equal(deletionFinalizers(['foregroundDeletion'], {}), undefined, 'no options keep the existing choice');
  });

  it('the deprecated orphanDependents wins over finalizers and defaults', () => {
    assert.deepEqual(deletionFinalizers(['foregroundDeletion'], { orphanDependents: true }), ['orphan']);
    assert.deepEqual(deletionFinalizers(undefined, { orphanDependents: false }, 'Orphan'), undefined);
  });

  it("a kind's default applies only without options, and Unsupported never adds finalizers", () => {
    assert.deepEqual(deletionFinalizers(undefined, {}, 'Orphan'), ['orphan']);
    assert.equal(deletionFinalizers(undefined, { propagationPolicy: 'Background' }, 'Orphan'), undefined);
    assert.equal(deletionFinalizers(undefined, { propagationPolicy: 'Foreground' }, 'Unsupported'), undefined);
    assert.deepEqual(deletionFinalizers(['orphan', 'x'], { propagationPolicy: 'Orphan' }, 'Unsupported'), ['x']);
  });
});

describe('DELETE with propagation options', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(async () => server.close());
  const call = (method: string, path: string, body?: unknown) => request(server.port, method, path, { body });

  it('foreground deletion keeps the object with deletionTimestamp and the foregroundDeletion finalizer', async () => {
    assert.equal((await call('POST', WIDGETS, widget('fg'))).status, 201);
    const deleted = await call('DELETE', `${WIDGETS}/fg`, { propagationPolicy: 'Foreground' });
    assert.equal(deleted.status, 200, deleted.text);
    assert.deepEqual(deleted.json.metadata.finalizers, ['foregroundDeletion']);
    assert.ok(deleted.json.metadata.deletionTimestamp);
    const orphan = await call('DELETE', `${WIDGETS}/fg?propagationPolicy=Orphan`);
    assert.deepEqual(orphan.json.metadata.finalizers, ['orphan'], 'a repeated delete may change the policy');
    const gone = await call('DELETE', `${WIDGETS}/fg`, { propagationPolicy: 'Background' });
    assert.equal(gone.status, 200);
    assert.equal((await call('GET', `${WIDGETS}/fg`)).status, 404);
  });

  it('orphanDependents=false answers 202 while the object waits for its dependents', async () => {
    await call('POST', WIDGETS, widget('legacy'));
    const deleted = await call('DELETE', `${WIDGETS}/legacy`, { orphanDependents: false, kind: 'DeleteOptions', apiVersion: 'v1' });
    assert.equal(deleted.status, 200, 'orphanDependents=false is background: nothing waits');
    assert.equal((await call('GET', `${WIDGETS}/legacy`)).status, 404);
  });

  it('rejects both orphanDependents and propagationPolicy, and unknown policies, with 422', async () => {
    await call('POST', WIDGETS, widget('both'));
    const both = await call('DELETE', `${WIDGETS}/both`, { orphanDependents: true, propagationPolicy: 'Orphan' });
    assert.equal(both.status, 422);
    assert.match(both.json.message, /propagationPolicy: Invalid value: "Orphan": orphanDependents and deletionPropagation cannot be both set/);
    const unknown = await call('DELETE', `${WIDGETS}/both?propagationPolicy=Sideways`);
    assert.equal(unknown.status, 422);
    assert.match(unknown.json.message, /propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan", "nil"/);
    assert.equal((await call('GET', `${WIDGETS}/both`)).status, 200);
  });
});

describe("a kind that orphans by default", () => {
  it('keeps the object for the garbage collector with the orphan finalizer, and warns when no policy was named', async () => {
    const storage = new MemoryStorage();
    const legacy = defineResource({ group: 'example.com', version: 'v1', kind: 'Legacy', plural: 'legacies', namespaced: false, strategy: { defaultGarbageCollectionPolicy: 'Orphan', defaultPropagationWarning: 'dependents are kept' } });
    const store = new GenericStore(legacy, storage);
    const context = (): WriteContext => ({ user: { username: 'test', groups: [] }, namespace: '', warnings: [], dryRun: false, fieldManager: 'test', fieldValidation: 'Strict' });
    await store.create({ metadata: { name: 'a' } }, context());
    const implicit = context();
    const kept = await store.delete('a', {}, implicit);
    assert.equal(kept.deleted, false);
    assert.deepEqual(kept.object.metadata.finalizers, ['orphan']);
    assert.deepEqual(implicit.warnings, ['dependents are kept']);
    await store.create({ metadata: { name: 'b' } }, context());
    const explicit = context();
    assert.equal((await store.delete('b', { propagationPolicy: 'Background' }, explicit)).deleted, true);
    assert.deepEqual(explicit.warnings, []);
    await storage.close();
  });
});
