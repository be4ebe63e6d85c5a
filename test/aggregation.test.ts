// A user registers their own extension API server the way they would on a real cluster — a selector-less
// Service, an Endpoints object and an APIService with a caBundle — and the aggregator routes to it,
// watches its availability, and keeps discovery whole when it dies.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import tls from 'node:tls';
import { join } from 'node:path';
import { Cluster } from './harness.js';
import { ExtensionServer } from './extension-server.js';
import { createCertificateAuthority, issueCertificate } from '../launcher/pki.js';

let cluster: Cluster;
let extension: ExtensionServer;
let caBundle: string;

async function ok(args: string[]): Promise<string> {
  const result = await cluster.kubectl(args);
  assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
  return result.stdout;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<{ value: T; elapsedMs: number }> {
  const started = Date.now();
  let last: unknown;
  while (Date.now() - started < timeoutMs) {
    try {
      const value = await probe();
      if (value !== undefined) return { value, elapsedMs: Date.now() - started };
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms (${String(last ?? '')})`);
}

async function availableCondition(): Promise<{ status: string; reason: string; message: string } | undefined> {
  const response = await cluster.request('GET', '/apis/apiregistration.k8s.io/v1/apiservices/v1alpha1.wardle.example.com');
  if (response.status !== 200) return undefined;
  const apiService = JSON.parse(response.body) as { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } };
  return apiService.status?.conditions?.find((condition) => condition.type === 'Available');
}

before(async () => {
  cluster = await Cluster.start();
  const authentication = JSON.parse(await ok(['-n', 'kube-system', 'get', 'configmap', 'extension-apiserver-authentication', '-o', 'json'])) as { data: Record<string, string> };
  const ca = await createCertificateAuthority('wardle-ca');
  const serving = await issueCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, commonName: 'wardle', usage: 'server', dnsNames: ['wardle.wardle-system.svc'], ipAddresses: ['127.0.0.1'] });
  caBundle = Buffer.from(ca.certPem).toString('base64');
  extension = new ExtensionServer({ cert: serving.certPem, key: serving.keyPem, requestHeaderCa: authentication.data['requestheader-client-ca-file'] });
  const port = await extension.start();
  const manifest = join(cluster.dataDir, 'wardle.yaml');
  writeFileSync(
    manifest,
    `apiVersion: v1
kind: Namespace
metadata: {name: wardle-system}
---
apiVersion: v1
kind: Service
metadata: {name: wardle, namespace: wardle-system}
spec:
  ports: [{name: https, port: 443, targetPort: ${port}}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: wardle, namespace: wardle-system}
subsets:
- addresses: [{ip: 127.0.0.1}]
  ports: [{name: https, port: ${port}}]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1alpha1.wardle.example.com}
spec:
  group: wardle.example.com
  version: v1alpha1
  service: {namespace: wardle-system, name: wardle, port: 443}
  caBundle: ${caBundle}
  groupPriorityMinimum: 1000
  versionPriority: 15
`,
  );
  await ok(['apply', '-f', manifest]);
});

after(async () => {
  await extension?.stop();
  await cluster.stop();
  cluster.cleanup();
});

describe('a user-registered extension API server', () => {
  it('becomes Available and appears in discovery', async () => {
    await eventually('Available=True', async () => ((await availableCondition())?.status === 'True' ? true : undefined), 10_000);
    const condition = await availableCondition();
    assert.equal(condition?.reason, 'Passed');
    assert.match(condition?.message ?? '', /all checks passed \(last probe .*GET https:\/\/127\.0\.0\.1:\d+\/apis\/wardle\.example\.com\/v1alpha1 answered 200 in \d+ms\)/);
    const table = await ok(['get', 'apiservices']);
    assert.match(table, /v1alpha1\.wardle\.example\.com\s+wardle-system\/wardle\s+True/);
    assert.match(table, /v1\.\s+Local\s+True/);
    await eventually('flunders in discovery', async () => ((await ok(['api-resources'])).includes('flunders') ? true : undefined), 10_000);
    assert.match(await ok(['api-resources']), /flunders\s+fl\s+wardle\.example\.com\/v1alpha1\s+true\s+Flunder/);
  });

  it('receives requests with the front-proxy certificate and identity, never the caller credentials', async () => {
    const output = await ok(['get', 'flunders']);
    assert.match(output, /seen-by-admin/);
    const request = extension.seen.filter((seen) => seen.path.includes('/flunders')).at(-1)!;
    assert.equal(request.peerCommonName, 'front-proxy-client');
    assert.equal(request.peerAuthorized, true);
    assert.equal(request.user, 'admin');
    assert.ok(request.groups.includes('system:masters'));
    assert.equal(request.authorization, undefined);
  });

  it('streams an upgraded connection (exec-style) through to it with the proxy identity', async () => {
    const socket = tls.connect({ host: '127.0.0.1', port: cluster.port, ca: readFileSync(cluster.pki.caCert), cert: readFileSync(cluster.pki.adminCert), key: readFileSync(cluster.pki.adminKey) });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve());
      socket.once('error', reject);
    });
    socket.write('GET /apis/wardle.example.com/v1alpha1/namespaces/default/flunders/x/exec HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nAuthorization: Bearer secret\r\n\r\n');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    await eventually('101', async () => (received.includes('\r\n\r\n') ? true : undefined), 5000);
    assert.match(received, /^HTTP\/1\.1 101 Switching Protocols/);
    received = '';
    socket.write('ping');
    await eventually('echo', async () => (received === 'ping' ? true : undefined), 5000);
    socket.destroy();
    const request = extension.seen.filter((seen) => seen.path.endsWith('/exec')).at(-1)!;
    assert.equal(request.user, 'admin');
    assert.equal(request.authorization, undefined);
    assert.equal(request.peerCommonName, 'front-proxy-client');
  });

  it('is reported unavailable within 5 s of dying, without breaking discovery of everything else', async () => {
    await extension.stop();
    const { elapsedMs } = await eventually('Available=False', async () => ((await availableCondition())?.status === 'False' ? true : undefined), 10_000);
    assert.ok(elapsedMs <= 5000, `noticed after ${elapsedMs} ms`);
    assert.equal((await availableCondition())?.reason, 'FailedDiscoveryCheck');
    // kubectl still knows flunders from its discovery cache: the request reaches the aggregator and gets a
    // Status naming the APIService and why it is unavailable.
    const get = await cluster.kubectl(['get', 'flunders']);
    assert.notEqual(get.code, 0);
    assert.match(get.stderr, /Error from server \(ServiceUnavailable\): the server is currently unable to handle the request: APIService v1alpha1\.wardle\.example\.com is not available \(FailedDiscoveryCheck/);
    const raw = await cluster.request('GET', '/apis/wardle.example.com/v1alpha1/namespaces/default/flunders');
    assert.equal(raw.status, 503);
    const status = JSON.parse(raw.body) as { kind: string; reason: string; details: { name: string } };
    assert.equal(status.kind, 'Status');
    assert.equal(status.details.name, 'v1alpha1.wardle.example.com');
    // Discovery stays whole: the dead group-version is marked Stale, everything else is listed, no errors.
    const resources = await cluster.kubectl(['api-resources']);
    assert.equal(resources.code, 0, resources.stderr);
    assert.equal(resources.stderr.trim(), '', 'no error lines');
    assert.match(resources.stdout, /configmaps\s+cm\s+v1/);
    const aggregated = await cluster.request('GET', '/apis', { headers: { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' } });
    const wardle = (JSON.parse(aggregated.body) as { items: { metadata: { name: string }; versions: { freshness: string; resources: { resource: string }[] }[] }[] }).items.find((item) => item.metadata.name === 'wardle.example.com');
    assert.equal(wardle?.versions[0].freshness, 'Stale');
    assert.equal(wardle?.versions[0].resources[0].resource, 'flunders', 'the last known resources are kept');
    assert.match(await ok(['get', 'apiservices']), /v1alpha1\.wardle\.example\.com\s+wardle-system\/wardle\s+False \(FailedDiscoveryCheck\)/);
  });

  it('blocks namespace deletion while it is down (it serves deletable namespaced resources), naming itself', async () => {
    await ok(['create', 'namespace', 'doomed']);
    await ok(['delete', 'namespace', 'doomed', '--wait=false']);
    const { value } = await eventually(
      'a discovery-failure condition',
      async () => {
        const namespace = JSON.parse(await ok(['get', 'namespace', 'doomed', '-o', 'json'])) as { status: { phase: string; conditions?: { type: string; status: string; message: string }[] } };
        const condition = namespace.status.conditions?.find((candidate) => candidate.type === 'NamespaceDeletionDiscoveryFailure' && candidate.status === 'True');
        return condition ? { phase: namespace.status.phase, message: condition.message } : undefined;
      },
      10_000,
    );
    assert.equal(value.phase, 'Terminating');
    assert.match(value.message, /APIService v1alpha1\.wardle\.example\.com is unavailable; its namespaced resources fischers cannot be deleted/);
  });

  it('is Available again within 5 s of coming back, and the blocked namespace then goes away', async () => {
    await extension.start();
    const { elapsedMs } = await eventually('Available=True', async () => ((await availableCondition())?.status === 'True' ? true : undefined), 10_000);
    assert.ok(elapsedMs <= 5000, `noticed after ${elapsedMs} ms`);
    assert.match(await ok(['get', 'flunders']), /seen-by-admin/);
    await eventually('namespace doomed deleted', async () => ((await cluster.kubectl(['get', 'namespace', 'doomed'])).code !== 0 ? true : undefined), 15_000);
  });

  it('leaves discovery when its APIService is deleted', async () => {
    await ok(['delete', 'apiservice', 'v1alpha1.wardle.example.com']);
    await eventually('flunders gone', async () => (!(await ok(['api-resources'])).includes('flunders') ? true : undefined), 5_000);
    const get = await cluster.kubectl(['get', '--raw', '/apis/wardle.example.com/v1alpha1']);
    assert.notEqual(get.code, 0);
    assert.match(get.stderr, /NotFound/);
  });
});
