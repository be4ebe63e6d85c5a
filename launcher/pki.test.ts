import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, unlink } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createCertificateAuthority, ensurePki, issueCertificate, type PkiPaths } from './pki.js';

const components = ['aggregator', 'core-apiserver', 'apiextensions', 'sample-extension', 'node-agent'];
const dayMilliseconds = 24 * 60 * 60 * 1000;
const serverAuth = '1.3.6.1.5.5.7.3.1';
const clientAuth = '1.3.6.1.5.5.7.3.2';

async function withDataDir(body: (dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pki-test-'));
  try {
    await body(dataDir);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function certificate(file: string): Promise<X509Certificate> {
  return new X509Certificate(await readFile(file, 'utf8'));
}

function validForDays(certificate: X509Certificate): number {
  return (new Date(certificate.validTo).getTime() - Date.now()) / dayMilliseconds;
}

function allFiles(pki: PkiPaths): string[] {
  const { serving, clients, ...single } = pki;
  return [...Object.values(single), ...[...Object.values(serving), ...Object.values(clients)].flatMap((pair) => [pair.cert, pair.key])];
}

async function snapshot(pki: PkiPaths): Promise<Map<string, string>> {
  return new Map(await Promise.all(allFiles(pki).map(async (file) => [file, await readFile(file, 'utf8')] as const)));
}

test('the first ensurePki writes every file under <dataDir>/pki with private permissions', async () => {
  await withDataDir(async (dataDir) => {
    const pki = await ensurePki(dataDir, components);
    const directory = path.join(dataDir, 'pki');
    assert.equal((await stat(directory)).mode & 0o777, 0o700);
    for (const file of allFiles(pki)) {
      assert.ok(path.isAbsolute(file), file);
      assert.equal(path.dirname(file), directory);
      if (file.endsWith('.key')) assert.equal((await stat(file)).mode & 0o777, 0o600, file);
    }
    assert.deepEqual(Object.keys(pki.serving).sort(), [...components].sort());
    assert.equal(pki.serving['core-apiserver'].cert, path.join(directory, 'core-apiserver.crt'));
    assert.equal(pki.serving['core-apiserver'].key, path.join(directory, 'core-apiserver.key'));
  });
});

test('both CAs are self-signed P-256 CA certificates valid for ten years', async () => {
  await withDataDir(async (dataDir) => {
    const pki = await ensurePki(dataDir, []);
    for (const file of [pki.caCert, pki.frontProxyCaCert]) {
      const authority = await certificate(file);
      assert.equal(authority.ca, true);
      assert.ok(authority.verify(authority.publicKey));
      assert.equal(authority.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
      assert.ok(Math.abs(validForDays(authority) - 3650) < 1);
    }
    const clusterCa = await certificate(pki.caCert);
    const frontProxyCa = await certificate(pki.frontProxyCaCert);
    assert.notEqual(clusterCa.fingerprint256, frontProxyCa.fingerprint256);
    assert.ok(clusterCa.checkPrivateKey(createPrivateKey(await readFile(pki.caKey, 'utf8'))));
  });
});

test('serving certificates are signed by the cluster CA for localhost, 127.0.0.1 and the component name', async () => {
  await withDataDir(async (dataDir) => {
    const pki = await ensurePki(dataDir, components);
    const clusterCa = await certificate(pki.caCert);
    for (const component of components) {
      const serving = await certificate(pki.serving[component].cert);
      assert.ok(serving.verify(clusterCa.publicKey), component);
      assert.equal(serving.ca, false);
      assert.equal(serving.checkHost('localhost'), 'localhost');
      assert.equal(serving.checkHost(component), component);
      assert.equal(serving.checkIP('127.0.0.1'), '127.0.0.1');
      assert.equal(serving.checkHost('example.com'), undefined);
      assert.deepEqual(serving.keyUsage, [serverAuth]);
      assert.ok(Math.abs(validForDays(serving) - 365) < 1);
      assert.ok(serving.checkPrivateKey(createPrivateKey(await readFile(pki.serving[component].key, 'utf8'))));
    }
    const extension = await certificate(pki.serving['sample-extension'].cert);
    assert.equal(extension.checkHost('metrics-server.kube-system.svc'), 'metrics-server.kube-system.svc');
    const core = await certificate(pki.serving['core-apiserver'].cert);
    assert.equal(core.checkHost('metrics-server.kube-system.svc'), undefined);
  });
});

test('the admin certificate is a system:masters client certificate from the cluster CA', async () => {
  await withDataDir(async (dataDir) => {
    const pki = await ensurePki(dataDir, []);
    const admin = await certificate(pki.adminCert);
    assert.ok(admin.verify((await certificate(pki.caCert)).publicKey));
    assert.match(admin.subject, /^CN=admin$/m);
    assert.match(admin.subject, /^O=system:masters$/m);
    assert.deepEqual(admin.keyUsage, [clientAuth]);
  });
});

test('the front-proxy client certificate is signed by the front-proxy CA and not the cluster CA', async () => {
  await withDataDir(async (dataDir) => {
    const pki = await ensurePki(dataDir, []);
    const client = await certificate(pki.frontProxyClientCert);
    assert.ok(client.verify((await certificate(pki.frontProxyCaCert)).publicKey));
    assert.equal(client.verify((await certificate(pki.caCert)).publicKey), false);
    assert.match(client.subject, /^CN=front-proxy-client$/m);
    assert.deepEqual(client.keyUsage, [clientAuth]);
  });
});

test('the service account key pair is a matching P-256 PKCS8 private key and SPKI public key', async () => {
  await withDataDir(async (dataDir) => {
    const pki = await ensurePki(dataDir, []);
    const privatePem = await readFile(pki.serviceAccountKey, 'utf8');
    const publicPem = await readFile(pki.serviceAccountPub, 'utf8');
    assert.match(privatePem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.match(publicPem, /^-----BEGIN PUBLIC KEY-----\n/);
    const publicKey = createPublicKey(publicPem);
    assert.equal(publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const signature = sign('sha256', Buffer.from('token'), createPrivateKey(privatePem));
    assert.ok(verify('sha256', Buffer.from('token'), publicKey, signature));
  });
});

test('a TLS handshake with a serving certificate and the admin client certificate authenticates admin', async () => {
  await withDataDir(async (dataDir) => {
    const pki = await ensurePki(dataDir, ['aggregator']);
    const caPem = await readFile(pki.caCert, 'utf8');
    const server = https.createServer(
      {
        cert: await readFile(pki.serving.aggregator.cert, 'utf8'),
        key: await readFile(pki.serving.aggregator.key, 'utf8'),
        ca: [caPem],
        requestCert: true,
        rejectUnauthorized: false,
      },
      (request, response) => {
        const socket = request.socket as import('node:tls').TLSSocket;
        const peer = socket.getPeerCertificate();
        response.end(JSON.stringify({ authorized: socket.authorized, subject: peer.subject }));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const options = {
        host: '127.0.0.1',
        port,
        path: '/',
        agent: false,
        ca: caPem,
        cert: await readFile(pki.adminCert, 'utf8'),
        key: await readFile(pki.adminKey, 'utf8'),
      };
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get(options, (response) => {
            let text = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => (text += chunk));
            response.on('end', () => resolve(text));
          })
          .on('error', reject);
      });
      const seen = JSON.parse(body) as { authorized: boolean; subject: Record<string, string> };
      assert.equal(seen.authorized, true);
      assert.equal(seen.subject.CN, 'admin');
      assert.equal(seen.subject.O, 'system:masters');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

test('a second ensurePki reuses every existing file unchanged and only adds a new component', async () => {
  await withDataDir(async (dataDir) => {
    const first = await ensurePki(dataDir, ['aggregator', 'core-apiserver']);
    const before = await snapshot(first);
    const second = await ensurePki(dataDir, ['aggregator', 'core-apiserver', 'apiextensions']);
    for (const [file, contents] of before) assert.equal(await readFile(file, 'utf8'), contents, file);
    const added = await certificate(second.serving.apiextensions.cert);
    assert.ok(added.verify((await certificate(second.caCert)).publicKey));
  });
});

test('when the cluster CA is lost, the certificates it signed are issued again by the new CA', async () => {
  await withDataDir(async (dataDir) => {
    const first = await ensurePki(dataDir, ['aggregator']);
    const frontProxyClientBefore = await readFile(first.frontProxyClientCert, 'utf8');
    await unlink(first.caKey);
    const second = await ensurePki(dataDir, ['aggregator']);
    const newCa = await certificate(second.caCert);
    assert.ok((await certificate(second.adminCert)).verify(newCa.publicKey));
    assert.ok((await certificate(second.serving.aggregator.cert)).verify(newCa.publicKey));
    assert.equal(await readFile(second.frontProxyClientCert, 'utf8'), frontProxyClientBefore);
  });
});

test('component names that would collide with CA or client files are rejected', async () => {
  await withDataDir(async (dataDir) => {
    await assert.rejects(ensurePki(dataDir, ['ca']), /invalid component name/);
    await assert.rejects(ensurePki(dataDir, ['../escape']), /invalid component name/);
  });
});

test('issueCertificate honours organizations, SANs, validity and gives each certificate a distinct serial', async () => {
  const authority = await createCertificateAuthority('test-ca');
  const options = {
    caCertPem: authority.certPem,
    caKeyPem: authority.keyPem,
    commonName: 'jane',
    organizations: ['developers', 'system:authenticated'],
    usage: 'client' as const,
    dnsNames: ['jane.example'],
    ipAddresses: ['10.0.0.1'],
    validDays: 2,
  };
  const one = new X509Certificate((await issueCertificate(options)).certPem);
  const two = new X509Certificate((await issueCertificate(options)).certPem);
  assert.ok(one.verify(new X509Certificate(authority.certPem).publicKey));
  assert.match(one.subject, /^O=developers$/m);
  assert.match(one.subject, /^O=system:authenticated$/m);
  assert.match(one.subject, /^CN=jane$/m);
  assert.equal(one.checkHost('jane.example'), 'jane.example');
  assert.equal(one.checkIP('10.0.0.1'), '10.0.0.1');
  assert.ok(Math.abs(validForDays(one) - 2) < 0.1);
  assert.equal(one.issuer, new X509Certificate(authority.certPem).subject);
  assert.notEqual(one.serialNumber, two.serialNumber);
  assert.ok(one.serialNumber.length <= 40);
});
