import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startCompactor } from './compactor.js';
import { MemoryStorage } from './memory.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function compactedEventually(storage: MemoryStorage, expected: number): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    if ((await storage.compactedRevision()) === expected) return;
    await sleep(5);
  }
  assert.equal(await storage.compactedRevision(), expected);
}

async function storeWithRevisions(writes: number): Promise<{ storage: MemoryStorage; revision: number }> {
  const storage = new MemoryStorage();
  let value = await storage.create('/registry/pods/a', '0');
  for (let index = 1; index < writes; index++) value = await storage.update('/registry/pods/a', String(index), value.modRevision);
  return { storage, revision: value.modRevision };
}

describe('compactor', () => {
  it('compacts to the current revision minus the kept revisions, and stops when asked', async () => {
    const { storage, revision } = await storeWithRevisions(10);
    const compactor = startCompactor(storage, { intervalMs: 5, keepRevisions: 4 });
    await compactedEventually(storage, revision - 4);
    compactor.stop();
    await storage.create('/registry/pods/b', 'later');
    await sleep(30);
    assert.equal(await storage.compactedRevision(), revision - 4);
    await storage.close();
  });

  it('does nothing while the store holds fewer revisions than it keeps', async () => {
    const { storage } = await storeWithRevisions(3);
    const compactor = startCompactor(storage, { intervalMs: 5, keepRevisions: 100 });
    await sleep(30);
    assert.equal(await storage.compactedRevision(), 0);
    compactor.stop();
    await storage.close();
  });

  it('reports a failed compaction and tries again at the next interval', async () => {
    const { storage, revision } = await storeWithRevisions(6);
    const compact = storage.compact.bind(storage);
    let failures = 1;
    storage.compact = async (target) => {
      if (failures-- > 0) throw new Error('disk full');
      return compact(target);
    };
    const errors: unknown[] = [];
    const compactor = startCompactor(storage, { intervalMs: 5, keepRevisions: 1, onError: (error) => errors.push(error) });
    await compactedEventually(storage, revision - 1);
    assert.deepEqual(errors.map((error) => (error as Error).message), ['disk full']);
    compactor.stop();
    await storage.close();
  });
});
