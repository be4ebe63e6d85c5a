import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storageConformance } from './conformance.js';
import { instrumentStorage } from './instrumented.js';
import { MemoryStorage } from './memory.js';
import { registry } from '../metrics/registry.js';
import { registerStorageType } from '../metrics/storage-objects.js';

// The decorator changes nothing about the storage's semantics.
storageConformance('instrumented memory', () => instrumentStorage(new MemoryStorage()), { progress: true });

describe('storage metrics', () => {
  it('times each operation as etcd_request_duration_seconds{operation,type} with the resource as type', async () => {
    registerStorageType('/registry/apps/deployments/', 'deployments.apps');
    const storage = instrumentStorage(new MemoryStorage());
    const created = await storage.create('/registry/apps/deployments/default/a', '{}');
    await storage.get('/registry/apps/deployments/default/a');
    await storage.update('/registry/apps/deployments/default/a', '{"x":1}', created.modRevision).catch(() => undefined);
    await storage.list('/registry/configmaps/default/');
    await assert.rejects(storage.create('/registry/apps/deployments/default/a', '{}'));
    const text = await registry.getSingleMetricAsString('etcd_request_duration_seconds');
    const count = (operation: string, type: string) => Number(new RegExp(`^etcd_request_duration_seconds_count\\{operation="${operation}",type="${type.replace('.', '\\.')}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    assert.equal(count('create', 'deployments.apps'), 2);
    assert.equal(count('get', 'deployments.apps'), 1);
    assert.equal(count('update', 'deployments.apps'), 1);
    assert.equal(count('list', 'configmaps'), 1);
    // A key exists answer is not a storage failure.
    assert.doesNotMatch(await registry.getSingleMetricAsString('etcd_request_errors_total'), /deployments\.apps/);
    await storage.close();
  });
});
