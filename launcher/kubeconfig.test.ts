import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { renderKubeconfig, writeAdminKubeconfig } from './kubeconfig.js';
import { ensurePki } from './pki.js';

const kubectlAvailable = (() => {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

interface Kubeconfig {
  apiVersion: string;
  kind: string;
  clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { name: string; user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  contexts: { name: string; context: { cluster: string; user: string; namespace: string } }[];
  'current-context': string;
}

async function withDataDir(body: (dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'kubeconfig-test-'));
  try {
    await body(dataDir);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

test('renderKubeconfig inlines base64 credentials and selects its one context in namespace default', () => {
  const text = renderKubeconfig({
    server: 'https://127.0.0.1:6443',
    caPem: 'CA PEM\n',
    clientCertPem: 'CERT PEM\n',
    clientKeyPem: 'KEY PEM\n',
  });
  const config = parse(text) as Kubeconfig;
  assert.equal(config.apiVersion, 'v1');
  assert.equal(config.kind, 'Config');
  assert.equal(config.clusters.length, 1);
  assert.equal(config.clusters[0].cluster.server, 'https://127.0.0.1:6443');
  assert.equal(Buffer.from(config.clusters[0].cluster['certificate-authority-data'], 'base64').toString(), 'CA PEM\n');
  assert.equal(Buffer.from(config.users[0].user['client-certificate-data'], 'base64').toString(), 'CERT PEM\n');
  assert.equal(Buffer.from(config.users[0].user['client-key-data'], 'base64').toString(), 'KEY PEM\n');
  assert.equal(config.contexts.length, 1);
  assert.equal(config['current-context'], config.contexts[0].name);
  assert.deepEqual(config.contexts[0].context, { cluster: config.clusters[0].name, user: config.users[0].name, namespace: 'default' });
});

test('renderKubeconfig uses the given cluster, user and namespace names', () => {
  const config = parse(
    renderKubeconfig({ server: 'https://x', caPem: 'a', clientCertPem: 'b', clientKeyPem: 'c', clusterName: 'lab', userName: 'jane', namespace: 'dev' }),
  ) as Kubeconfig;
  assert.equal(config.clusters[0].name, 'lab');
  assert.equal(config.users[0].name, 'jane');
  assert.deepEqual(config.contexts[0].context, { cluster: 'lab', user: 'jane', namespace: 'dev' });
});

test('writeAdminKubeconfig writes a private admin.kubeconfig carrying the PKI files that kubectl reads back', async () => {
  await withDataDir(async (dataDir) => {
    const pki = await ensurePki(dataDir, []);
    const file = await writeAdminKubeconfig(dataDir, 'https://127.0.0.1:6443', pki);
    assert.equal(file, path.join(dataDir, 'admin.kubeconfig'));
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const config = parse(await readFile(file, 'utf8')) as Kubeconfig;
    const decoded = Buffer.from(config.users[0].user['client-key-data'], 'base64').toString();
    assert.equal(decoded, await readFile(pki.adminKey, 'utf8'));
    if (kubectlAvailable) {
      const server = execFileSync(
        'kubectl',
        ['config', 'view', '--kubeconfig', file, '--raw', '-o', 'jsonpath={.clusters[0].cluster.server}'],
        { encoding: 'utf8' },
      );
      assert.equal(server, 'https://127.0.0.1:6443');
    }
  });
});

test('kubectl trusts the serving certificate and presents the admin certificate from the kubeconfig', { skip: !kubectlAvailable && 'kubectl is not on PATH' }, async () => {
  await withDataDir(async (dataDir) => {
    const pki = await ensurePki(dataDir, ['aggregator']);
    const seen: { authorized: boolean; commonName: unknown; organization: unknown }[] = [];
    const server = https.createServer(
      {
        cert: await readFile(pki.serving.aggregator.cert, 'utf8'),
        key: await readFile(pki.serving.aggregator.key, 'utf8'),
        ca: [await readFile(pki.caCert, 'utf8')],
        requestCert: true,
        rejectUnauthorized: false,
      },
      (request, response) => {
        const socket = request.socket as TLSSocket;
        const subject = socket.getPeerCertificate().subject;
        seen.push({ authorized: socket.authorized, commonName: subject?.CN, organization: subject?.O });
        response.setHeader('Content-Type', 'text/plain');
        response.end('ok');
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const file = await writeAdminKubeconfig(dataDir, `https://127.0.0.1:${port}`, pki);
      // Asynchronous: the server answering kubectl runs on this same event loop.
      const { stdout } = await promisify(execFile)('kubectl', ['--kubeconfig', file, 'get', '--raw', '/healthz'], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      assert.equal(stdout.trim(), 'ok');
      assert.ok(seen.length > 0);
      assert.deepEqual(seen[0], { authorized: true, commonName: 'admin', organization: 'system:masters' });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
