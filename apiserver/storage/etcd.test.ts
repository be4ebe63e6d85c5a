import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { storageConformance } from './conformance.js';
import { recordWatch, waitUntil } from './conformance-helpers.js';
import { CompactedError, StorageError } from './interface.js';
import { EtcdStorage } from './etcd.js';
import { startEtcdCompactor } from './etcd-compactor.js';
import { ETCD_MISSING, EtcdTestCluster, etcdAvailable } from './etcd-test-server.js';
import { freePort } from '../../launcher/ports.js';
import { createCertificateAuthority, issueCertificate } from '../../launcher/pki.js';
import { openEtcdStorage, parseDuration } from './etcd-options.js';
import { FlagError } from '../server/flags.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The etcd backend is part of what ships: without an etcd binary these tests fail rather than skip.
if (!etcdAvailable()) throw new Error(ETCD_MISSING);
{
  const etcd = await EtcdTestCluster.start();
  after(() => etcd.stop());
  const open = (prefix?: string) => new EtcdStorage({ endpoints: etcd.endpoints, prefix });

  storageConformance('etcd', () => open(), { progress: true });

  describe('etcd storage', () => {
    it('the default prefix keeps our keys as they are (upstream layout); another prefix replaces /registry', async () => {
      const plain = open();
      const custom = open('/tenant-a/');
      await plain.create('/registry/configmaps/default/layout', 'plain');
      await custom.create('/registry/configmaps/default/layout', 'custom');
      const raw = plain.client;
      assert.equal(await raw.get('/registry/configmaps/default/layout').string(), 'plain');
      assert.equal(await raw.get('/tenant-a/configmaps/default/layout').string(), 'custom');
      assert.deepEqual((await custom.list('/registry/configmaps/default/')).items.map((item) => [item.key, item.value]), [['/registry/configmaps/default/layout', 'custom']]);
      await Promise.all([plain.close(), custom.close()]);
    });

    it('two clients on one etcd: a write through one is seen by a watcher on the other, at the same revision', async () => {
      const first = open();
      const second = open();
      const start = await second.currentRevision();
      const recorded = recordWatch(second, '/registry/replicas/', start);
      const written = await first.create('/registry/replicas/a', 'v');
      await recorded.reach(written.modRevision);
      assert.deepEqual(recorded.events.map((event) => [event.key, event.revision]), [['/registry/replicas/a', written.modRevision]]);
      recorded.watcher.stop();
      await Promise.all([first.close(), second.close()]);
    });

    it('lists larger than gRPC\'s default 4 MiB message come back whole', async () => {
      const storage = open();
      const value = JSON.stringify({ data: 'x'.repeat(500_000) });
      for (let index = 0; index < 12; index++) await storage.create(`/registry/large/item-${String(index).padStart(2, '0')}`, value);
      const listed = await storage.list('/registry/large/');
      assert.equal(listed.items.length, 12);
      assert.ok(listed.items.every((item) => item.value === value));
      await storage.close();
    });

    it('an unreachable etcd fails requests with a StorageError instead of hanging or crashing', async () => {
      const storage = new EtcdStorage({ endpoints: [`http://127.0.0.1:${await freePort()}`], requestTimeoutMs: 1000 });
      await assert.rejects(storage.get('/registry/pods/a'), (error: unknown) => error instanceof StorageError && /etcd request failed/.test(error.message));
      await assert.rejects(storage.create('/registry/pods/a', 'v'), StorageError);
      await storage.close();
    });

    it('compactors of several servers take turns: one compaction per round, to the revision seen a round earlier', async () => {
      const first = open();
      const second = open();
      const compactions: [string, number][] = [];
      for (const [name, storage] of [['first', first], ['second', second]] as const) {
        const compact = storage.compact.bind(storage);
        storage.compact = (revision) => (compactions.push([name, revision]), compact(revision));
      }
      const one = startEtcdCompactor(first, { intervalMs: 3_600_000 });
      const two = startEtcdCompactor(second, { intervalMs: 3_600_000 });
      // Both start with a round (only recording where they are); one of them wins it.
      await Promise.all([one.runOnce(), two.runOnce()]);
      const written = await first.create('/registry/compaction/a', 'v1');
      const seen = await first.currentRevision();
      await one.runOnce(); // compacts to what it saw in its previous round
      await two.runOnce(); // lost the race again: catches up only
      assert.equal(compactions.length, 1);
      assert.equal(compactions[0][0], 'first');
      assert.ok(compactions[0][1] < written.modRevision, 'the first round compacts to a revision from before the write');
      await one.runOnce();
      assert.equal(compactions.length, 2);
      const compacted = await second.compactedRevision();
      assert.ok(compacted > seen, `compacted to ${compacted}, seen ${seen}`);
      await assert.rejects(first.get('/registry/compaction/a', written.modRevision), CompactedError);
      assert.equal((await first.get('/registry/compaction/a'))?.modRevision, written.modRevision);
      assert.throws(() => second.watch('/registry/compaction/', written.modRevision, { onEvent: () => undefined }), CompactedError);
      one.stop();
      two.stop();
      await Promise.all([first.close(), second.close()]);
    });

    it('a watch survives etcd restarting: events after the restart arrive once, in order', async () => {
      const storage = open();
      const start = await storage.currentRevision();
      const recorded = recordWatch(storage, '/registry/restart/', start);
      const before = await storage.create('/registry/restart/a', '1');
      await recorded.reach(before.modRevision);
      await etcd.kill(etcd.members[0]);
      await etcd.restart(etcd.members[0]);
      let written = before;
      for (let attempt = 0; ; attempt++) {
        try {
          written = await storage.update('/registry/restart/a', '2', before.modRevision);
          break;
        } catch (error) {
          if (attempt > 50) throw error;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
      await waitUntil(() => (recorded.events.at(-1)?.revision ?? 0) >= written.modRevision, () => 'no event after restart', 20_000);
      assert.deepEqual(recorded.events.map((event) => event.value), ['1', '2']);
      assert.deepEqual(recorded.errors, []);
      recorded.watcher.stop();
      await storage.close();
    });
  });

  describe('etcd over TLS', () => {
    it('connects with --etcd-cafile, --etcd-certfile and --etcd-keyfile to an etcd that requires client certificates', async () => {
      const directory = mkdtempSync(join(tmpdir(), 'etcd-tls-'));
      const ca = await createCertificateAuthority('etcd-ca');
      const server = await issueCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, commonName: 'etcd', usage: 'server', ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'] });
      const client = await issueCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, commonName: 'kube-apiserver-etcd-client', usage: 'client' });
      const file = (name: string, text: string) => {
        writeFileSync(join(directory, name), text);
        return join(directory, name);
      };
      const tls = {
        caFile: file('ca.crt', ca.certPem),
        serverCertFile: file('server.crt', server.certPem),
        serverKeyFile: file('server.key', server.keyPem),
        clientCertFile: file('client.crt', client.certPem),
        clientKeyFile: file('client.key', client.keyPem),
      };
      const secured = await EtcdTestCluster.start({ tls });
      try {
        assert.match(secured.endpoints[0], /^https:/);
        const storage = openEtcdStorage({ 'etcd-servers': secured.endpoints, 'etcd-cafile': tls.caFile, 'etcd-certfile': tls.clientCertFile, 'etcd-keyfile': tls.clientKeyFile });
        const created = await storage.create('/registry/configmaps/default/over-tls', 'v');
        assert.deepEqual(await storage.get('/registry/configmaps/default/over-tls'), created);
        await storage.close();
        const anonymous = new EtcdStorage({ endpoints: secured.endpoints, tls: { ca: Buffer.from(ca.certPem) }, requestTimeoutMs: 2000 });
        await assert.rejects(anonymous.get('/registry/configmaps/default/over-tls'), StorageError, 'no client certificate, no access');
        await anonymous.close();
      } finally {
        await secured.stop();
        rmSync(directory, { recursive: true, force: true });
      }
    });
  });

  describe('etcd flags', () => {
    it('--etcd-compaction-interval takes Go durations, 0 disables', () => {
      assert.equal(parseDuration('5m0s', 'x'), 300_000);
      assert.equal(parseDuration('1h30m', 'x'), 5_400_000);
      assert.equal(parseDuration('90s', 'x'), 90_000);
      assert.equal(parseDuration('0', 'x'), 0);
      assert.throws(() => parseDuration('5 minutes', 'etcd-compaction-interval'), /invalid argument "5 minutes" for "--etcd-compaction-interval" flag/);
    });

    it('--storage-backend=etcd3 needs --etcd-servers, as scheme://host:port', () => {
      assert.throws(() => openEtcdStorage({ 'etcd-servers': [] }), FlagError);
      assert.throws(() => openEtcdStorage({ 'etcd-servers': ['127.0.0.1:2379'] }), /not scheme:\/\/host:port/);
      assert.throws(() => openEtcdStorage({ 'etcd-servers': ['http://127.0.0.1:2379', 'https://127.0.0.1:2380'] }), /all http:\/\/ or all https:\/\//);
      const someFile = new URL(import.meta.url).pathname;
      assert.throws(() => openEtcdStorage({ 'etcd-servers': ['https://127.0.0.1:2379'], 'etcd-certfile': someFile }), /--etcd-certfile and --etcd-keyfile must be given together/);
    });
  });
}
