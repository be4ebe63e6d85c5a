// Encryption at rest end to end: the real launcher with --encryption-provider-config and the real kubectl.
// Secrets never reach the SQLite files in plaintext; a key rotation by re-writing every secret
// (`kubectl get secrets -A -o json | kubectl replace -f -`) moves them to the new key while all stay
// readable; an identity-first configuration still reads encrypted data; a value no configured key opens
// fails that object only, with upstream's InternalError; a broken configuration stops the server.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cluster } from './harness.js';

const distRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));
const key1 = { name: 'key1', secret: randomBytes(32).toString('base64') };
const key2 = { name: 'key2', secret: randomBytes(32).toString('base64') };
const key3 = { name: 'key3', secret: randomBytes(32).toString('base64') };
const SECRET_VALUE = 'plaintext-password-4b1d7e';
const CONFIG_VALUE = 'plaintext-config-8c2f9a';

let cluster: Cluster;
let files: string;
let configFile: string;

function writeConfig(providers: unknown[]): void {
  const resources = [{ resources: ['secrets'], providers }];
  writeFileSync(configFile, `apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources: ${JSON.stringify(resources)}\n`);
}

/** Every byte core-apiserver's SQLite storage holds (the database, its WAL and shared memory). */
function storageBytes(): string {
  return ['core-apiserver.db', 'core-apiserver.db-wal', 'core-apiserver.db-shm']
    .map((name) => join(cluster.dataDir, name))
    .filter((file) => existsSync(file))
    .map((file) => readFileSync(file).toString('latin1'))
    .join('');
}

async function secretValue(name: string): Promise<string> {
  const result = await cluster.kubectl(['get', 'secret', name, '-o', 'jsonpath={.data.password}']);
  assert.equal(result.code, 0, result.stderr);
  return Buffer.from(result.stdout, 'base64').toString();
}

before(async () => {
  files = mkdtempSync(join(tmpdir(), 'kdc-encryption-'));
  configFile = join(files, 'encryption.yaml');
  writeConfig([{ aescbc: { keys: [key1] } }, { identity: {} }]);
  cluster = await Cluster.start([`--encryption-provider-config=${configFile}`]);
});

after(async () => {
  await cluster?.stop();
  cluster?.cleanup();
  rmSync(files, { recursive: true, force: true });
});

describe('encryption at rest', { timeout: 600_000 }, () => {
  it('stores secrets encrypted with the first provider and serves them decrypted', async () => {
    let result = await cluster.kubectl(['create', 'secret', 'generic', 's1', `--from-literal=password=${SECRET_VALUE}`]);
    assert.equal(result.code, 0, result.stderr);
    result = await cluster.kubectl(['create', 'configmap', 'c1', `--from-literal=value=${CONFIG_VALUE}`]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await secretValue('s1'), SECRET_VALUE);
    const bytes = storageBytes();
    // The configmap is not encrypted: proof that the files are read where the data lands.
    assert.ok(bytes.includes(CONFIG_VALUE), 'the configmap value is in the storage files');
    assert.ok(!bytes.includes(SECRET_VALUE) && !bytes.includes(Buffer.from(SECRET_VALUE).toString('base64')), 'no plaintext secret in the storage files');
    assert.ok(bytes.includes('k8s:enc:aescbc:v1:key1:'), 'values carry the provider and key prefix');
  });

  it('rotates keys by re-writing every secret, keeping all of them readable', async () => {
    writeConfig([{ aescbc: { keys: [key2, key1] } }, { identity: {} }]);
    await cluster.restart([`--encryption-provider-config=${configFile}`]);
    assert.equal(await secretValue('s1'), SECRET_VALUE);
    const all = await cluster.kubectl(['get', 'secrets', '-A', '-o', 'json']);
    assert.equal(all.code, 0, all.stderr);
    const replaced = await cluster.kubectl(['replace', '-f', '-'], { input: all.stdout });
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.match(replaced.stdout, /secret\/s1 replaced/);
    // key1 is gone: only what was re-written with key2 can still be read.
    writeConfig([{ aescbc: { keys: [key2] } }, { identity: {} }]);
    await cluster.restart([`--encryption-provider-config=${configFile}`]);
    assert.equal(await secretValue('s1'), SECRET_VALUE);
    const list = await cluster.kubectl(['get', 'secrets', '-A', '-o', 'name']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /secret\/s1/);
  });

  it('an identity-first configuration reads encrypted data and writes plaintext', async () => {
    writeConfig([{ identity: {} }, { aescbc: { keys: [key2] } }]);
    await cluster.restart([`--encryption-provider-config=${configFile}`]);
    assert.equal(await secretValue('s1'), SECRET_VALUE);
    const result = await cluster.kubectl(['create', 'secret', 'generic', 's2', '--from-literal=password=now-in-the-clear-71a']);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(storageBytes().includes(Buffer.from('now-in-the-clear-71a').toString('base64')));
  });

  it('a secret no configured provider can open fails alone with an InternalError', async () => {
    writeConfig([{ aesgcm: { keys: [key3] } }]);
    await cluster.restart([`--encryption-provider-config=${configFile}`]);
    const result = await cluster.kubectl(['get', 'secret', 's1']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /Error from server \(InternalError\): Internal error occurred: unable to transform key "\/registry\/secrets\/default\/s1": no matching prefix found/);
    // Other resources and new secrets are unaffected.
    assert.equal((await cluster.kubectl(['get', 'configmap', 'c1'])).code, 0);
    const created = await cluster.kubectl(['create', 'secret', 'generic', 's3', '--from-literal=password=x']);
    assert.equal(created.code, 0, created.stderr);
    const list = await cluster.kubectl(['get', 'secrets', '-o', 'name']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /secret\/s3/);
  });

  it('a broken configuration file stops the server at start with a message', () => {
    const bad = join(files, 'bad.yaml');
    writeFileSync(bad, `apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - aesgcm: {keys: [{name: k, secret: ${randomBytes(7).toString('base64')}}]}\n`);
    const run = spawnSync(process.execPath, [join(distRoot, 'core-apiserver', 'main.js'), `--encryption-provider-config=${bad}`, '--storage-backend=memory', '--secure-port=0', `--tls-cert-file=${cluster.pki.serving['core-apiserver'].cert}`, `--tls-private-key-file=${cluster.pki.serving['core-apiserver'].key}`], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /Error: error while parsing file ".*bad\.yaml": resources\[0\]\.providers\[0\]\.aesgcm\.keys\[0\]\.secret: Invalid value: "REDACTED": secret is not of the expected length, got 7, expected one of \[16 24 32\]/);
  });
});
