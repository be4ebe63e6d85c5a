// The chain on a real etcd: the launcher with --etcd-servers driven by the real kubectl (keys in upstream's
// layout, resourceVersions = etcd revisions, controllers behind Leases), and two core-apiserver replicas on
// one etcd (a write through one is watched on the other; concurrent Service creates never share a
// ClusterIP).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import { Cluster, kubectlBinary } from './harness.js';
import { ETCD_MISSING, EtcdTestCluster, etcdAvailable } from '../apiserver/storage/etcd-test-server.js';

// The etcd backend is part of what ships: without an etcd binary this suite fails rather than skips.
if (!etcdAvailable()) throw new Error(ETCD_MISSING);
import { freePort, waitForReady } from '../launcher/ports.js';
import { ensurePki, type PkiPaths } from '../launcher/pki.js';
import { writeAdminKubeconfig } from '../launcher/kubeconfig.js';
import { startAllInOne } from '../launcher/all-in-one.js';
import { execFile } from 'node:child_process';
import https from 'node:https';
import { readFileSync } from 'node:fs';

const distRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));

async function eventually<T>(attempt: () => Promise<T | undefined>, describe: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out: ${describe}`);
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 300));
  }
}

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.etcd.example.com}
spec:
  group: etcd.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
`;

describe('the chain on etcd (npm start -- --etcd-servers)', () => {
  let etcd: EtcdTestCluster;
  let cluster: Cluster;
  let raw: Etcd3;

  async function ok(args: string[], input?: string): Promise<string> {
    const result = await cluster.kubectl(args, { input });
    assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
    return result.stdout;
  }

  before(async () => {
    etcd = await EtcdTestCluster.start();
    raw = new Etcd3({ hosts: etcd.endpoints });
    cluster = await Cluster.start([`--etcd-servers=${etcd.endpoints.join(',')}`]);
  });

  after(async () => {
    const code = await cluster?.stop();
    cluster?.cleanup();
    raw?.close();
    await etcd?.stop();
    assert.equal(code, 0, 'the launcher exits cleanly on SIGTERM');
  });

  it('objects written with kubectl are etcd keys in upstream\'s layout, and resourceVersions are etcd revisions', async () => {
    await ok(['create', 'namespace', 'on-etcd']);
    await ok(['-n', 'on-etcd', 'create', 'configmap', 'settings', '--from-literal=mode=etcd']);
    const resourceVersion = Number(await ok(['-n', 'on-etcd', 'get', 'configmap', 'settings', '-o', 'jsonpath={.metadata.resourceVersion}']));
    const stored = await raw.get('/registry/configmaps/on-etcd/settings').exec();
    assert.equal(stored.kvs.length, 1);
    assert.equal(Number(stored.kvs[0].mod_revision), resourceVersion);
    assert.equal(JSON.parse(stored.kvs[0].value.toString()).data.mode, 'etcd');
    assert.ok(await raw.get('/registry/namespaces/on-etcd').string());
    assert.ok(await raw.get('/registry/apiregistration.k8s.io/apiservices/v1.apps').string(), 'the aggregator\'s APIServices share the etcd');
  });

  it('lists, watches, updates and deletes through the chain', async () => {
    for (const name of ['a', 'b', 'c']) await ok(['-n', 'on-etcd', 'create', 'secret', 'generic', `s-${name}`, `--from-literal=k=${name}`]);
    assert.match(await ok(['-n', 'on-etcd', 'get', 'secrets', '--chunk-size=1']), /s-a[\s\S]*s-b[\s\S]*s-c/);
    const watch = spawn(kubectlBinary(), [`--kubeconfig=${cluster.kubeconfig}`, '-n', 'on-etcd', 'get', 'configmaps', '--watch-only', '-o', 'name'], { env: { ...process.env, HOME: cluster.dataDir } });
    let watched = '';
    watch.stdout.on('data', (chunk: Buffer) => (watched += chunk.toString()));
    try {
      await new Promise((resolvePromise) => setTimeout(resolvePromise, 1500));
      await ok(['-n', 'on-etcd', 'create', 'configmap', 'watched']);
      await eventually(async () => (watched.includes('configmap/watched') ? true : undefined), `the watch saw the create (got ${JSON.stringify(watched)})`);
    } finally {
      watch.kill();
    }
    await ok(['-n', 'on-etcd', 'label', 'configmap', 'settings', 'tier=storage']);
    assert.match(await ok(['-n', 'on-etcd', 'get', 'configmaps', '-l', 'tier=storage', '-o', 'name']), /^configmap\/settings$/m);
    await ok(['-n', 'on-etcd', 'delete', 'configmap', 'settings']);
    assert.equal(await raw.get('/registry/configmaps/on-etcd/settings').string(), null);
  });

  it('a CRD becomes Established and its custom resources are stored in etcd', async () => {
    await ok(['apply', '-f', '-'], CRD);
    await eventually(async () => {
      const result = await cluster.kubectl(['get', 'crd', 'widgets.etcd.example.com', '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}']);
      return result.stdout === 'True' ? true : undefined;
    }, 'the CRD is Established');
    await eventually(async () => ((await cluster.kubectl(['apply', '-f', '-'], { input: 'apiVersion: etcd.example.com/v1\nkind: Widget\nmetadata: {name: w1, namespace: on-etcd}\nspec: {size: 3}\n' })).code === 0 ? true : undefined), 'the custom resource is accepted');
    assert.equal(await ok(['-n', 'on-etcd', 'get', 'widget', 'w1', '-o', 'jsonpath={.spec.size}']), '3');
    assert.ok(await raw.get('/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.etcd.example.com').string());
    assert.ok(await raw.get('/registry/etcd.example.com/widgets/on-etcd/w1').string());
  });

  it('each server\'s run-once controllers hold a Lease in kube-system', async () => {
    const leases = await eventually(async () => {
      const listed = await ok(['-n', 'kube-system', 'get', 'leases', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.spec.holderIdentity}{"\\n"}{end}']);
      return ['core-apiserver', 'apiextensions', 'aggregator'].every((name) => new RegExp(`^${name}=\\S+_`, 'm').test(listed)) ? listed : undefined;
    }, 'leases of every server');
    assert.match(leases, /^core-apiserver=/m);
  });

  it('deleting a namespace finalizes it (the aggregator\'s leader-elected finalizer)', async () => {
    await ok(['delete', 'namespace', 'on-etcd', '--wait=false']);
    await eventually(async () => ((await cluster.kubectl(['get', 'namespace', 'on-etcd'])).code !== 0 ? true : undefined), 'the namespace is gone', 60_000);
  });
});

/** One server process (core-apiserver by default) on etcd, with its own kubeconfig. */
class CoreReplica {
  process!: ChildProcess;
  output = '';
  kubeconfig = '';
  url = '';

  static async start(dataDir: string, pki: PkiPaths, endpoints: string[], name: string, component = 'core-apiserver'): Promise<CoreReplica> {
    const replica = new CoreReplica();
    const port = await freePort();
    replica.url = `https://127.0.0.1:${port}`;
    const directory = join(dataDir, name);
    mkdirSync(directory, { recursive: true });
    replica.kubeconfig = await writeAdminKubeconfig(directory, replica.url, pki);
    replica.process = spawn(process.execPath, [
      join(distRoot, component, 'main.js'),
      `--secure-port=${port}`,
      `--tls-cert-file=${pki.serving[component].cert}`,
      `--tls-private-key-file=${pki.serving[component].key}`,
      `--client-ca-file=${pki.caCert}`,
      '--storage-backend=etcd3',
      `--etcd-servers=${endpoints.join(',')}`,
      '--leader-elect',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [replica.process.stdout, replica.process.stderr]) stream?.on('data', (chunk: Buffer) => (replica.output += chunk.toString()));
    try {
      await waitForReady(replica.url, pki, 60_000);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${replica.output}`);
    }
    return replica;
  }

  kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolvePromise) => {
      execFile(kubectlBinary(), [`--kubeconfig=${this.kubeconfig}`, ...args], { timeout: 60_000, env: { ...process.env, HOME: join(this.kubeconfig, '..') } }, (error, stdout, stderr) => {
        resolvePromise({ code: error ? 1 : 0, stdout, stderr });
      });
    });
  }

  async stop(): Promise<void> {
    if (this.process.exitCode !== null) return;
    await new Promise((resolvePromise) => {
      this.process.once('exit', resolvePromise);
      this.process.kill('SIGTERM');
    });
  }
}

describe('two replicas each of core-apiserver and apiextensions on one etcd', () => {
  let etcd: EtcdTestCluster;
  let dataDir: string;
  let pki: PkiPaths;
  let replicas: CoreReplica[] = [];
  let crdReplicas: CoreReplica[] = [];

  before(async () => {
    etcd = await EtcdTestCluster.start();
    dataDir = mkdtempSync(join(tmpdir(), 'kdc-replicas-'));
    pki = await ensurePki(dataDir, ['core-apiserver', 'apiextensions']);
    replicas = await Promise.all(['one', 'two'].map((name) => CoreReplica.start(dataDir, pki, etcd.endpoints, name)));
  });

  after(async () => {
    await Promise.all([...replicas, ...crdReplicas].map((replica) => replica.stop()));
    await etcd?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a write through one replica is seen by kubectl get -w on the other', async () => {
    const [one, two] = replicas;
    const watch = spawn(kubectlBinary(), [`--kubeconfig=${two.kubeconfig}`, 'get', 'configmaps', '-n', 'default', '-w', '-o', 'name'], { env: { ...process.env, HOME: dataDir } });
    let watched = '';
    watch.stdout.on('data', (chunk: Buffer) => (watched += chunk.toString()));
    try {
      await new Promise((resolvePromise) => setTimeout(resolvePromise, 1500));
      const created = await one.kubectl(['create', 'configmap', 'from-one', '-n', 'default']);
      assert.equal(created.code, 0, created.stderr);
      await eventually(async () => (watched.includes('configmap/from-one') ? true : undefined), `replica two's watch saw it (got ${JSON.stringify(watched)})`);
    } finally {
      watch.kill();
    }
    // Read-your-writes across replicas: a consistent read on the other one has it at once.
    const read = await two.kubectl(['get', 'configmap', 'from-one', '-n', 'default', '-o', 'jsonpath={.metadata.name}']);
    assert.equal(read.stdout, 'from-one');
  });

  it('Services created concurrently on both replicas never share a ClusterIP', async () => {
    const count = 12;
    const manifests = replicas.map((_, index) =>
      Array.from({ length: count }, (__, item) => `apiVersion: v1\nkind: Service\nmetadata: {name: svc-${index}-${item}, namespace: default}\nspec:\n  ports: [{port: 80}]\n`).join('---\n'),
    );
    const files = manifests.map((text, index) => {
      const file = join(dataDir, `services-${index}.yaml`);
      writeFileSync(file, text);
      return file;
    });
    const results = await Promise.all(replicas.map((replica, index) => replica.kubectl(['create', '-f', files[index]])));
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    const listed = await replicas[0].kubectl(['get', 'services', '-n', 'default', '-o', 'jsonpath={range .items[*]}{.spec.clusterIP}{"\\n"}{end}']);
    const ips = listed.stdout.trim().split('\n');
    assert.equal(ips.length, 2 * count + 1, 'every Service plus kubernetes');
    assert.equal(new Set(ips).size, ips.length, `duplicate ClusterIPs: ${ips.join(' ')}`);
  });

  it('a CRD created through one apiextensions replica is Established once and served by both', async () => {
    crdReplicas = await Promise.all(['crd-one', 'crd-two'].map((name) => CoreReplica.start(dataDir, pki, etcd.endpoints, name, 'apiextensions')));
    const [first, second] = crdReplicas;
    const file = join(dataDir, 'crd.yaml');
    writeFileSync(file, CRD);
    const applied = await first.kubectl(['apply', '-f', file]);
    assert.equal(applied.code, 0, applied.stderr);
    const widget = join(dataDir, 'widget.yaml');
    writeFileSync(widget, 'apiVersion: etcd.example.com/v1\nkind: Widget\nmetadata: {name: w2, namespace: default}\nspec: {size: 5}\n');
    // The other replica serves the custom resources once the leader has written the CRD's status.
    await eventually(async () => ((await second.kubectl(['create', '-f', widget])).code === 0 ? true : undefined), 'replica two serves widgets');
    assert.equal((await first.kubectl(['get', 'widget', 'w2', '-n', 'default', '-o', 'jsonpath={.spec.size}'])).stdout, '5');
    const leaders = crdReplicas.filter((replica) => /became the leader of kube-system\/apiextensions/.test(replica.output));
    assert.equal(leaders.length, 1, 'one apiextensions replica leads');
    const holder = await replicas[0].kubectl(['get', 'lease', 'apiextensions', '-n', 'kube-system', '-o', 'jsonpath={.spec.holderIdentity}']);
    assert.ok(leaders[0].output.includes(`${holder.stdout} became the leader`), 'core serves the Lease apiextensions elects with');
  });

  it('exactly one replica leads; when it stops, the other takes over and keeps creating default ServiceAccounts', async () => {
    const holder = async (replica: CoreReplica) => {
      const result = await replica.kubectl(['get', 'lease', 'core-apiserver', '-n', 'kube-system', '-o', 'jsonpath={.spec.holderIdentity}']);
      return result.code === 0 && result.stdout ? result.stdout : undefined;
    };
    const first = await eventually(() => holder(replicas[0]), 'a leader');
    const leaderIndex = replicas.findIndex((replica) => replica.output.includes(`${first} became the leader`));
    assert.ok(leaderIndex >= 0, 'the holder is one of the replicas');
    assert.equal(replicas.filter((replica) => /became the leader of kube-system\/core-apiserver/.test(replica.output)).length, 1);
    const survivor = replicas[1 - leaderIndex];
    await replicas[leaderIndex].stop();
    const second = await eventually(async () => {
      const current = await holder(survivor);
      return current && current !== first ? current : undefined;
    }, 'the lease changed hands');
    assert.ok(survivor.output.includes(`${second} became the leader`));
    const created = await survivor.kubectl(['create', 'namespace', 'after-failover']);
    assert.equal(created.code, 0, created.stderr);
    await eventually(async () => ((await survivor.kubectl(['get', 'serviceaccount', 'default', '-n', 'after-failover'])).code === 0 ? true : undefined), 'the new leader created the default ServiceAccount');
  });

  it('while etcd is down requests fail with a Status error and the server stays up; it recovers when etcd returns', async () => {
    const survivor = replicas.find((replica) => replica.process.exitCode === null)!;
    await etcd.kill(etcd.members[0]);
    const failed = await survivor.kubectl(['create', 'configmap', 'during-outage', '-n', 'default', '--request-timeout=40s']);
    assert.notEqual(failed.code, 0);
    assert.match(failed.stderr, /Internal error occurred: etcd request failed|Timeout|timed out/i, failed.stderr);
    assert.equal(survivor.process.exitCode, null, 'the server is still running');
    await etcd.restart(etcd.members[0]);
    await eventually(async () => ((await survivor.kubectl(['create', 'configmap', 'after-outage', '-n', 'default'])).code === 0 ? true : undefined), 'writes work again', 60_000);
    await eventually(async () => ((await survivor.kubectl(['get', 'configmap', 'after-outage', '-n', 'default'])).code === 0 ? true : undefined), 'reads work again');
  });
});

/** POSTs a ConfigMap as the admin; resolves with the HTTP status (0 when the connection failed). */
function postConfigMap(replica: CoreReplica, pki: PkiPaths, name: string): Promise<number> {
  return new Promise((resolvePromise) => {
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { written: name } });
    const request = https.request(`${replica.url}/api/v1/namespaces/default/configmaps`, {
      method: 'POST',
      ca: readFileSync(pki.caCert),
      cert: readFileSync(pki.adminCert),
      key: readFileSync(pki.adminKey),
      headers: { 'Content-Type': 'application/json' },
      timeout: 30_000,
    }, (response) => {
      response.resume();
      response.on('end', () => resolvePromise(response.statusCode ?? 0));
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', () => resolvePromise(0));
    request.end(body);
  });
}

describe('a three-member etcd cluster losing its leader during a stream of writes', () => {
  let etcd: EtcdTestCluster;
  let dataDir: string;
  let pki: PkiPaths;
  let replica: CoreReplica;

  before(async () => {
    etcd = await EtcdTestCluster.start({ members: 3 });
    dataDir = mkdtempSync(join(tmpdir(), 'kdc-failover-'));
    pki = await ensurePki(dataDir, ['core-apiserver']);
    replica = await CoreReplica.start(dataDir, pki, etcd.endpoints, 'server');
  });

  after(async () => {
    await replica?.stop();
    await etcd?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('loses no acknowledged write, and the server recovers on its own', async () => {
    const watch = spawn(kubectlBinary(), [`--kubeconfig=${replica.kubeconfig}`, 'get', 'configmaps', '-n', 'default', '-w', '-o', 'name'], { env: { ...process.env, HOME: dataDir } });
    let watched = '';
    watch.stdout.on('data', (chunk: Buffer) => (watched += chunk.toString()));
    // Listed or watched, the sentinel shows kubectl has started (it watches right after its list).
    assert.equal(await postConfigMap(replica, pki, 'sentinel'), 201);
    await eventually(async () => (watched.includes('configmap/sentinel') ? true : undefined), 'the watch started');
    const acknowledged: string[] = [];
    let failed = 0;
    let writing = true;
    const writer = (async () => {
      for (let index = 0; writing; index++) {
        const name = `stream-${index}`;
        const status = await postConfigMap(replica, pki, name);
        if (status === 201) acknowledged.push(name);
        else failed++;
      }
    })();
    try {
      await eventually(async () => (acknowledged.length >= 30 ? true : undefined), 'writes before the kill');
      const leader = await eventually(() => etcd.leader(), 'an etcd leader');
      await etcd.kill(leader);
      const atKill = acknowledged.length;
      // The remaining two members elect a new leader; writes go on succeeding without a restart.
      await eventually(async () => (acknowledged.length >= atKill + 30 ? true : undefined), `writes after the kill (${failed} failed meanwhile)`, 60_000);
    } finally {
      writing = false;
      await writer;
    }
    try {
      const last = acknowledged.at(-1)!;
      await eventually(async () => (watched.includes(`configmap/${last}`) ? true : undefined), 'the watch kept streaming through the failover', 30_000);
    } finally {
      watch.kill();
    }
    const listed = await replica.kubectl(['get', 'configmaps', '-n', 'default', '-o', 'name']);
    assert.equal(listed.code, 0, listed.stderr);
    const present = new Set(listed.stdout.trim().split('\n'));
    const lost = acknowledged.filter((name) => !present.has(`configmap/${name}`));
    assert.deepEqual(lost, [], 'every acknowledged write is still there');
    for (const name of acknowledged) assert.ok(watched.includes(`configmap/${name}\n`), `the watch saw ${name}`);
  });
});

describe('the all-in-one chain on etcd', () => {
  it('serves kubectl from one process on etcd', async () => {
    const etcd = await EtcdTestCluster.start();
    const dataDir = mkdtempSync(join(tmpdir(), 'kdc-aio-etcd-'));
    const chain = await startAllInOne({ dataDir, etcdServers: etcd.endpoints });
    const raw = new Etcd3({ hosts: etcd.endpoints });
    try {
      const kubectl = (args: string[]) =>
        new Promise<{ code: number; stdout: string; stderr: string }>((resolvePromise) =>
          execFile(kubectlBinary(), [`--kubeconfig=${chain.kubeconfig}`, ...args], { env: { ...process.env, HOME: dataDir } }, (error, stdout, stderr) => resolvePromise({ code: error ? 1 : 0, stdout, stderr })),
        );
      const created = await eventually(async () => {
        const result = await kubectl(['create', 'configmap', 'in-one', '-n', 'default']);
        return result.code === 0 ? result : undefined;
      }, 'the chain accepts a ConfigMap');
      assert.match(created.stdout, /configmap\/in-one created/);
      assert.ok(await raw.get('/registry/configmaps/default/in-one').string());
      assert.match((await kubectl(['get', 'namespaces'])).stdout, /kube-system/);
    } finally {
      raw.close();
      await chain.stop();
      await etcd.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
