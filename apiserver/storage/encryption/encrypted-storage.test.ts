import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MemoryStorage } from '../memory.js';
import type { StorageEvent } from '../interface.js';
import { StatusError } from '../../request/status.js';
import { parseEncryptionConfig, ruleFor } from './config.js';
import { EncryptedStorage, groupResourceOfKey } from './encrypted-storage.js';

const key32 = () => randomBytes(32).toString('base64');

function config(resources: string[], providers: unknown[]): string {
  return JSON.stringify({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration', resources: [{ resources, providers }] });
}

const secret = (name: string, value: string) => JSON.stringify({ kind: 'Secret', metadata: { name, namespace: 'default' }, data: { password: value } });

test('keys map to the group and resource they store', () => {
  assert.deepEqual(groupResourceOfKey('/registry/secrets/default/a'), ['', 'secrets']);
  assert.deepEqual(groupResourceOfKey('/registry/apps/deployments/default/a'), ['apps', 'deployments']);
  assert.deepEqual(groupResourceOfKey('/registry/stable.example.com/crontabs/default/a'), ['stable.example.com', 'crontabs']);
  assert.equal(groupResourceOfKey('/other/x'), undefined);
});

test('a resource takes the first rule naming it exactly or by a group or global wildcard', () => {
  const rules = parseEncryptionConfig(JSON.stringify({
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'EncryptionConfiguration',
    resources: [
      { resources: ['secrets', 'deployments.apps'], providers: [{ aescbc: { keys: [{ name: 'a', secret: key32() }] } }] },
      { resources: ['*.example.com'], providers: [{ secretbox: { keys: [{ name: 'b', secret: key32() }] } }] },
      { resources: ['*.'], providers: [{ aesgcm: { keys: [{ name: 'c', secret: key32() }] } }] },
      { resources: ['*.*'], providers: [{ identity: {} }] },
    ],
  }));
  const kindOf = (group: string, resource: string) => ruleFor(rules, group, resource)?.transformers.transformers[0].kind;
  assert.equal(kindOf('', 'secrets'), 'aescbc');
  assert.equal(kindOf('apps', 'deployments'), 'aescbc');
  assert.equal(kindOf('stable.example.com', 'crontabs'), 'identity', 'a wildcard group matches the group itself only');
  assert.equal(kindOf('example.com', 'widgets'), 'secretbox');
  assert.equal(kindOf('', 'configmaps'), 'aesgcm');
  assert.equal(kindOf('batch', 'jobs'), 'identity');
});

for (const provider of ['aesgcm', 'aescbc', 'secretbox']) {
  test(`${provider}: the backend holds ciphertext behind k8s:enc:${provider}:v1:<key>:, readers see plaintext`, async () => {
    const inner = new MemoryStorage();
    const storage = new EncryptedStorage(inner, parseEncryptionConfig(config(['secrets'], [{ [provider]: { keys: [{ name: 'key1', secret: key32() }] } }, { identity: {} }])));
    await storage.create('/registry/secrets/default/a', secret('a', 'c3VwZXJzZWNyZXQ='));
    await storage.create('/registry/configmaps/default/a', '{"data":{"x":"plain"}}');
    const raw = await inner.get('/registry/secrets/default/a');
    assert.ok(raw!.value.startsWith(`k8s:enc:${provider}:v1:key1:`));
    assert.ok(!raw!.value.includes('c3VwZXJzZWNyZXQ='));
    assert.equal((await inner.get('/registry/configmaps/default/a'))!.value, '{"data":{"x":"plain"}}');
    const read = await storage.get('/registry/secrets/default/a');
    assert.equal(read!.value, secret('a', 'c3VwZXJzZWNyZXQ='));
    assert.equal(read!.stale, undefined);
    const listed = await storage.list('/registry/secrets/');
    assert.deepEqual(listed.items.map((item) => item.value), [secret('a', 'c3VwZXJzZWNyZXQ=')]);
  });
}

test('aesgcm binds a value to its key: moved to another key it does not open', async () => {
  const inner = new MemoryStorage();
  const storage = new EncryptedStorage(inner, parseEncryptionConfig(config(['secrets'], [{ aesgcm: { keys: [{ name: 'k', secret: key32() }] } }])));
  await storage.create('/registry/secrets/default/a', secret('a', 'x'));
  await inner.create('/registry/secrets/default/b', (await inner.get('/registry/secrets/default/a'))!.value);
  await assert.rejects(storage.get('/registry/secrets/default/b'), (error: unknown) => error instanceof StatusError && error.code === 500 && /unable to transform key "\/registry\/secrets\/default\/b": cipher: message authentication failed/.test(error.message));
});

test('rotation: a new first key writes, the old one still reads and marks the value stale', async () => {
  const inner = new MemoryStorage();
  const old = { name: 'key1', secret: key32() };
  const first = new EncryptedStorage(inner, parseEncryptionConfig(config(['secrets'], [{ aescbc: { keys: [old] } }])));
  await first.create('/registry/secrets/default/a', secret('a', 'one'));
  const rotated = new EncryptedStorage(inner, parseEncryptionConfig(config(['secrets'], [{ aescbc: { keys: [{ name: 'key2', secret: key32() }, old] } }])));
  const read = await rotated.get('/registry/secrets/default/a');
  assert.equal(read!.value, secret('a', 'one'));
  assert.equal(read!.stale, true);
  await rotated.update('/registry/secrets/default/a', read!.value, read!.modRevision);
  assert.ok((await inner.get('/registry/secrets/default/a'))!.value.startsWith('k8s:enc:aescbc:v1:key2:'));
  assert.equal((await rotated.get('/registry/secrets/default/a'))!.stale, undefined);
});

test('identity first reads encrypted data and plaintext, and writes plaintext', async () => {
  const inner = new MemoryStorage();
  const keys = { keys: [{ name: 'key1', secret: key32() }] };
  await new EncryptedStorage(inner, parseEncryptionConfig(config(['*.*'], [{ secretbox: keys }]))).create('/registry/secrets/default/a', secret('a', 'enc'));
  const decrypting = new EncryptedStorage(inner, parseEncryptionConfig(config(['*.*'], [{ identity: {} }, { secretbox: keys }])));
  assert.equal((await decrypting.get('/registry/secrets/default/a'))!.value, secret('a', 'enc'));
  await decrypting.create('/registry/secrets/default/b', secret('b', 'plain'));
  assert.equal((await inner.get('/registry/secrets/default/b'))!.value, secret('b', 'plain'));
});

test('an unreadable object fails its own read with InternalError and is left out of lists and watches', async () => {
  const inner = new MemoryStorage();
  const lost = new EncryptedStorage(inner, parseEncryptionConfig(config(['secrets'], [{ aesgcm: { keys: [{ name: 'lost', secret: key32() }] } }])));
  await lost.create('/registry/secrets/default/a', secret('a', 'gone'));
  const storage = new EncryptedStorage(inner, parseEncryptionConfig(config(['secrets'], [{ aesgcm: { keys: [{ name: 'key1', secret: key32() }] } }, { identity: {} }])));
  await storage.create('/registry/secrets/default/b', secret('b', 'kept'));
  await assert.rejects(storage.get('/registry/secrets/default/a'), (error: unknown) => error instanceof StatusError && error.code === 500 && error.message === 'Internal error occurred: unable to transform key "/registry/secrets/default/a": no matching prefix found');
  assert.deepEqual((await storage.list('/registry/secrets/')).items.map((item) => item.key), ['/registry/secrets/default/b']);
  assert.deepEqual((await storage.list('/registry/secrets/', { limit: 1 })).items.map((item) => item.key), ['/registry/secrets/default/b']);
  const events: StorageEvent[] = [];
  const progress: number[] = [];
  const watcher = storage.watch('/registry/secrets/', 0, { onEvent: (event) => events.push(event), onProgress: (revision) => progress.push(revision) });
  await storage.create('/registry/secrets/default/c', secret('c', 'new'));
  await new Promise((resolve) => setTimeout(resolve, 20));
  watcher.stop();
  assert.deepEqual(events.map((event) => [event.key, event.value]), [
    ['/registry/secrets/default/b', secret('b', 'kept')],
    ['/registry/secrets/default/c', secret('c', 'new')],
  ]);
  assert.ok(progress.length >= 1);
});

test('a broken configuration names the field and never echoes a secret', () => {
  assert.throws(() => parseEncryptionConfig(config(['secrets'], [{ aescbc: { keys: [{ name: 'k', secret: randomBytes(10).toString('base64') }] } }])), /resources\[0\]\.providers\[0\]\.aescbc\.keys\[0\]\.secret: Invalid value: "REDACTED": secret is not of the expected length, got 10, expected one of \[32\]/);
  assert.throws(() => parseEncryptionConfig(config(['secrets'], [{ rot13: {} }])), /resources\[0\]\.providers\[0\]: Invalid value: provider does not contain any of the expected providers/);
  assert.throws(() => parseEncryptionConfig('kind: Other\napiVersion: apiserver.config.k8s.io/v1\nresources: []\n'), /kind: Invalid value: "Other"/);
  assert.throws(() => parseEncryptionConfig(config(['*.*', 'secrets'], [{ identity: {} }])), /resource "secrets" is masked by earlier rule "\*\.\*"/);
  const yaml = `apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets, '*.example.com']\n  providers:\n  - aesgcm: {keys: [{name: k, secret: ${key32()}}]}\n  - identity: {}\n`;
  assert.equal(parseEncryptionConfig(yaml)[0].resources.length, 2);
});
