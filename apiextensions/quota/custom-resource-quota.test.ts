import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AdmissionAttributes } from '../../apiserver/admission/interface.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { CustomResourceQuota } from './custom-resource-quota.js';
import type { QuotaBackend } from './backends.js';

const COUNT = 'count/widgets.example.com';

/** One quota held in memory, written with compare-and-swap on its resourceVersion, as core's API would. */
function memoryBackend(hard: string, options: { conflictFirst?: boolean; scopes?: string[] } = {}) {
  let stored: KubeObject = {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: 'q', namespace: 'ns', uid: 'u1', resourceVersion: '1' },
    spec: { hard: { [COUNT]: hard }, ...(options.scopes ? { scopes: options.scopes } : {}) },
    status: { hard: { [COUNT]: hard }, used: { [COUNT]: '0' } },
  };
  let conflictNext = options.conflictFirst ?? false;
  const writes: string[] = [];
  const backend: QuotaBackend = {
    quotas: { synced: true, list: () => [structuredClone(stored)], get: () => structuredClone(stored) },
    quotasIn: (namespace) => (namespace === stored.metadata.namespace ? [structuredClone(stored)] : []),
    read: async () => structuredClone(stored),
    async writeStatus(quota) {
      if (conflictNext) {
        conflictNext = false;
        // Someone else charged one meanwhile.
        stored = { ...stored, metadata: { ...stored.metadata, resourceVersion: String(Number(stored.metadata.resourceVersion) + 1) }, status: { hard: { [COUNT]: hard }, used: { [COUNT]: '1' } } };
        return 'conflict';
      }
      if (quota.metadata.resourceVersion !== stored.metadata.resourceVersion) return 'conflict';
      writes.push(String((quota.status as { used: Record<string, string> }).used[COUNT]));
      stored = { ...structuredClone(quota), metadata: { ...quota.metadata, resourceVersion: String(Number(stored.metadata.resourceVersion) + 1) } };
      return structuredClone(stored);
    },
    onChange: () => undefined,
  };
  return { backend, writes, stored: () => stored };
}

function create(name: string, dryRun = false): AdmissionAttributes {
  return {
    operation: 'CREATE',
    resource: { group: 'example.com', version: 'v1', resource: 'widgets' },
    subresource: '',
    kind: { group: 'example.com', version: 'v1', kind: 'Widget' },
    namespace: 'ns',
    name,
    object: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name, namespace: 'ns' } },
    dryRun,
    user: { username: 'admin', groups: [] },
  };
}

describe('ResourceQuota on custom resources', () => {
  it('charges concurrent creates in one status write and refuses those over the limit with upstream wording', async () => {
    const { backend, writes, stored } = memoryBackend('3');
    const plugin = new CustomResourceQuota(backend, () => undefined);
    const results = await Promise.allSettled(['a', 'b', 'c', 'd', 'e'].map((name) => plugin.validate(create(name))));
    assert.deepEqual(results.map((result) => result.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
    const refused = (results[3] as PromiseRejectedResult).reason as { code: number; message: string };
    assert.equal(refused.code, 403);
    assert.equal(refused.message, `widgets.example.com "d" is forbidden: exceeded quota: q, requested: ${COUNT}=1, used: ${COUNT}=3, limited: ${COUNT}=3`);
    assert.deepEqual(writes, ['3'], 'one write for the batch');
    assert.equal((stored().status as { used: Record<string, string> }).used[COUNT], '3');
    plugin.stop();
  });

  it('re-reads the quota after a conflicting write and charges on top of it', async () => {
    const { backend, stored } = memoryBackend('2', { conflictFirst: true });
    const plugin = new CustomResourceQuota(backend, () => undefined);
    const results = await Promise.allSettled([plugin.validate(create('a')), plugin.validate(create('b'))]);
    assert.deepEqual(results.map((result) => result.status), ['fulfilled', 'rejected']);
    assert.equal((stored().status as { used: Record<string, string> }).used[COUNT], '2');
    plugin.stop();
  });

  it('leaves custom resources alone in a quota with scopes (they select pods only)', async () => {
    const { backend, writes } = memoryBackend('0', { scopes: ['Terminating'] });
    const plugin = new CustomResourceQuota(backend, () => undefined);
    await plugin.validate(create('a'));
    assert.deepEqual(writes, []);
    plugin.stop();
  });

  it('checks but does not charge a dry run, and ignores kinds no quota counts', async () => {
    const { backend, writes } = memoryBackend('1');
    const plugin = new CustomResourceQuota(backend, () => undefined);
    await plugin.validate(create('dry', true));
    await plugin.validate({ ...create('other'), resource: { group: 'other.example.com', version: 'v1', resource: 'gadgets' } });
    assert.deepEqual(writes, []);
    plugin.stop();
  });
});
