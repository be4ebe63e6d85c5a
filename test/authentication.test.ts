// Authentication end to end: the real launcher with a static token file and an OIDC issuer this test runs
// on loopback HTTPS, driven by the real kubectl with nothing but a bearer token (a kubeconfig without
// client certificates): ServiceAccount tokens from `kubectl create token`, their death with the
// ServiceAccount or bound Pod, static tokens, OIDC ID tokens, anonymous requests, TokenReview, issuer
// discovery, tokens at an extension server (TokenReview to core), and the authentication ConfigMap.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { spawn } from 'node:child_process';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import { freePort } from '../launcher/ports.js';
import { Cluster } from './harness.js';
import { startTestIssuer, type TestIssuer } from '../apiserver/authentication/test-oidc-issuer.js';

let cluster: Cluster;
let issuer: TestIssuer;
let files: string;
let tokenKubeconfig: string;

const UNAUTHORIZED = 'error: You must be logged in to the server (Unauthorized)';

before(async () => {
  issuer = await startTestIssuer();
  files = mkdtempSync(join(tmpdir(), 'kdc-authn-'));
  writeFileSync(join(files, 'tokens.csv'), 'static-token-for-alice,alice,alice-uid,"developers,reviewers"\n');
  writeFileSync(join(files, 'oidc-ca.crt'), issuer.caPem);
  cluster = await Cluster.start([
    `--token-auth-file=${join(files, 'tokens.csv')}`,
    `--oidc-issuer-url=${issuer.url}`,
    '--oidc-client-id=kubernetes',
    '--oidc-groups-claim=groups',
    '--oidc-groups-prefix=oidc:',
    `--oidc-ca-file=${join(files, 'oidc-ca.crt')}`,
  ]);
  // A kubeconfig with the cluster and no credentials: every identity below comes from --token alone.
  tokenKubeconfig = join(cluster.dataDir, 'token-only.kubeconfig');
  writeFileSync(
    tokenKubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: cluster.url, 'certificate-authority-data': readFileSync(cluster.pki.caCert).toString('base64') } }],
      users: [{ name: 'nobody', user: {} }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'nobody', namespace: 'default' } }],
      'current-context': 'c',
    }),
  );
});

after(async () => {
  const code = await cluster.stop();
  cluster.cleanup();
  await issuer.close();
  rmSync(files, { recursive: true, force: true });
  assert.equal(code, 0, 'the launcher exits cleanly on SIGTERM');
});

async function ok(args: string[], input?: string, version = ''): Promise<string> {
  const result = await cluster.kubectl(args, { input, version });
  assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
  return result.stdout;
}

function withToken(token: string, args: string[], version = '') {
  return cluster.kubectl([`--kubeconfig=${tokenKubeconfig}`, `--token=${token}`, ...args], { version });
}

async function whoami(token: string, version = ''): Promise<{ username: string; uid?: string; groups: string[]; extra?: Record<string, string[]> }> {
  const result = await withToken(token, ['auth', 'whoami', '-o', 'json'], version);
  assert.equal(result.code, 0, `whoami failed: ${result.stderr}`);
  return JSON.parse(result.stdout).status.userInfo;
}

/** Polls until kubectl with the token is refused (the object caches catch up within moments). */
async function eventuallyUnauthorized(token: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const result = await withToken(token, ['auth', 'whoami']);
    if (result.code !== 0 || Date.now() > deadline) return result.stderr.trim();
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}

describe('ServiceAccount tokens', () => {
  it('kubectl create token gives a token that kubectl auth whoami shows as the ServiceAccount', async () => {
    const token = (await ok(['create', 'token', 'default', '-n', 'default'])).trim();
    const account = JSON.parse(await ok(['get', 'serviceaccount', 'default', '-n', 'default', '-o', 'json']));
    const user = await whoami(token);
    assert.equal(user.username, 'system:serviceaccount:default:default');
    assert.equal(user.uid, account.metadata.uid);
    assert.deepEqual(user.groups, ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);
    assert.match(user.extra?.['authentication.kubernetes.io/credential-id']?.[0] ?? '', /^JTI=[0-9a-f-]{36}$/);
    const table = (await withToken(token, ['auth', 'whoami'])).stdout;
    assert.match(table, /Username\s+system:serviceaccount:default:default/);
    // Authenticated, not authorized: the bootstrap policy gives a ServiceAccount no pods.
    const pods = await withToken(token, ['get', 'pods']);
    assert.match(pods.stderr, /User "system:serviceaccount:default:default" cannot list resource "pods"/);
  });

  it('kubectl 1.27 and 1.33 create and use tokens too', async () => {
    for (const version of ['1.27', '1.33']) {
      const token = (await ok(['create', 'token', 'default', '-n', 'kube-system'], undefined, version)).trim();
      // kubectl 1.27's whoami asks only for v1alpha1/v1beta1 SelfSubjectReview: check the token with the installed one.
      assert.equal((await whoami(token, version === '1.27' ? '' : version)).username, 'system:serviceaccount:kube-system:default');
    }
  });

  it('--duration sets the lifetime; less than 10 minutes is refused in upstream words', async () => {
    const token = (await ok(['create', 'token', 'default', '--duration', '10m'])).trim();
    const claims = claimsOf(token);
    assert.equal(Number(claims.exp) - Number(claims.iat), 600);
    assert.deepEqual(claims.aud, ['https://kubernetes.default.svc.cluster.local']);
    const short = await cluster.kubectl(['create', 'token', 'default', '--duration', '1m']);
    assert.notEqual(short.code, 0);
    assert.match(short.stderr, /spec\.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes/);
  });

  it('a token for another audience is refused by the API, and a TokenReview for that audience accepts it', async () => {
    const token = (await ok(['create', 'token', 'default', '--audience', 'vault'])).trim();
    assert.equal((await withToken(token, ['auth', 'whoami'])).stderr.trim(), UNAUTHORIZED);
    const review = JSON.parse(await ok(['create', '-o', 'json', '-f', '-'], JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: ['vault'] } })));
    assert.equal(review.status.authenticated, true);
    assert.deepEqual(review.status.audiences, ['vault']);
  });

  it('a token stops working when its ServiceAccount is deleted', async () => {
    await ok(['create', 'serviceaccount', 'robot']);
    const token = (await ok(['create', 'token', 'robot'])).trim();
    assert.equal((await whoami(token)).username, 'system:serviceaccount:default:robot');
    await ok(['delete', 'serviceaccount', 'robot']);
    assert.equal(await eventuallyUnauthorized(token), UNAUTHORIZED);
    // Recreating the ServiceAccount (a new uid) does not revive the old token.
    await ok(['create', 'serviceaccount', 'robot']);
    assert.equal((await withToken(token, ['auth', 'whoami'])).stderr.trim(), UNAUTHORIZED);
  });

  it('a token bound to a pod names the pod and stops working when the pod is deleted', async () => {
    await ok(['create', 'serviceaccount', 'runner']);
    await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'worker', namespace: 'default' }, spec: { serviceAccountName: 'runner', containers: [{ name: 'c', image: 'busybox' }] } }));
    const pod = JSON.parse(await ok(['get', 'pod', 'worker', '-o', 'json']));
    const token = (await ok(['create', 'token', 'runner', '--bound-object-kind', 'Pod', '--bound-object-name', 'worker'])).trim();
    const user = await whoami(token);
    assert.deepEqual(user.extra?.['authentication.kubernetes.io/pod-name'], ['worker']);
    assert.deepEqual(user.extra?.['authentication.kubernetes.io/pod-uid'], [pod.metadata.uid]);
    await ok(['delete', 'pod', 'worker', '--wait=false']);
    assert.equal(await eventuallyUnauthorized(token), UNAUTHORIZED);
    const review = JSON.parse(await ok(['create', '-o', 'json', '-f', '-'], JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } })));
    assert.equal(review.status.authenticated, undefined);
    assert.equal(review.status.error, 'service account token has been invalidated');
  });

  it('binding to a pod of another ServiceAccount is refused', async () => {
    await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'other', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }));
    const result = await cluster.kubectl(['create', 'token', 'runner', '--bound-object-kind', 'Pod', '--bound-object-name', 'other']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /cannot bind token for serviceaccount "runner" to pod running with serviceaccount "default"/);
  });

  it('a legacy token Secret is filled in by the tokens controller, and its token dies with the Secret', async () => {
    await ok(['create', 'serviceaccount', 'legacy']);
    await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token', metadata: { name: 'legacy-token', namespace: 'default', annotations: { 'kubernetes.io/service-account.name': 'legacy' } } }));
    let encoded = '';
    for (let attempt = 0; attempt < 100 && !encoded; attempt++) {
      encoded = await ok(['get', 'secret', 'legacy-token', '-o', 'jsonpath={.data.token}']);
      if (!encoded) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const token = Buffer.from(encoded, 'base64').toString();
    assert.equal(claimsOf(token).iss, 'kubernetes/serviceaccount');
    const account = JSON.parse(await ok(['get', 'serviceaccount', 'legacy', '-o', 'json']));
    const user = await whoami(token);
    assert.deepEqual({ username: user.username, uid: user.uid }, { username: 'system:serviceaccount:default:legacy', uid: account.metadata.uid });
    const described = await ok(['describe', 'secret', 'legacy-token']);
    assert.match(described, /ca\.crt:\s+\d+ bytes/);
    await ok(['delete', 'secret', 'legacy-token']);
    assert.equal(await eventuallyUnauthorized(token), UNAUTHORIZED);
  });

  it('discovery lists serviceaccounts/token with verb create (TokenRequest)', async () => {
    const list = JSON.parse(await ok(['get', '--raw', '/api/v1']));
    const token = list.resources.find((resource: { name: string }) => resource.name === 'serviceaccounts/token');
    assert.deepEqual({ kind: token.kind, group: token.group, version: token.version, verbs: token.verbs }, { kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] });
  });

  it('issuer discovery and the key set are served through the aggregator to ServiceAccounts, not to anonymous', async () => {
    const token = (await ok(['create', 'token', 'default'])).trim();
    const configuration = await cluster.request('GET', '/.well-known/openid-configuration', { asAdmin: false, headers: { Authorization: `Bearer ${token}` } });
    assert.equal(configuration.status, 200);
    const document = JSON.parse(configuration.body);
    assert.equal(document.issuer, 'https://kubernetes.default.svc.cluster.local');
    assert.equal(document.jwks_uri, `https://127.0.0.1:${cluster.port}/openid/v1/jwks`);
    const jwks = await cluster.request('GET', '/openid/v1/jwks', { asAdmin: false, headers: { Authorization: `Bearer ${token}` } });
    assert.equal(jwks.headers['content-type'], 'application/jwk-set+json');
    const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
    assert.ok(JSON.parse(jwks.body).keys.some((key: { kid: string }) => key.kid === header.kid), 'the token is signed by a published key');
    const anonymous = await cluster.request('GET', '/openid/v1/jwks', { asAdmin: false });
    assert.equal(anonymous.status, 403);
  });
});

describe('static tokens and OIDC', () => {
  it('a --token-auth-file user is who the file says', async () => {
    const user = await whoami('static-token-for-alice');
    assert.deepEqual(user, { username: 'alice', uid: 'alice-uid', groups: ['developers', 'reviewers', 'system:authenticated'] });
  });

  it('an ID token from the OIDC issuer is its subject, prefixed with the issuer, with prefixed groups', async () => {
    const token = await issuer.sign({ sub: 'jane', aud: 'kubernetes', groups: ['platform'] });
    const user = await whoami(token);
    assert.equal(user.username, `${issuer.url}#jane`);
    assert.deepEqual(user.groups, ['oidc:platform', 'system:authenticated']);
  });

  it('an expired ID token, or one for another client, is Unauthorized', async () => {
    const expired = await issuer.sign({ sub: 'jane', aud: 'kubernetes' }, { expiresInSeconds: -120 });
    assert.equal((await withToken(expired, ['auth', 'whoami'])).stderr.trim(), UNAUTHORIZED);
    const otherClient = await issuer.sign({ sub: 'jane', aud: 'dashboard' });
    assert.equal((await withToken(otherClient, ['auth', 'whoami'])).stderr.trim(), UNAUTHORIZED);
  });
});

describe('anonymous requests and rejected tokens', () => {
  it('no credentials: /version is allowed, namespaces are forbidden to system:anonymous', async () => {
    const version = await cluster.request('GET', '/version', { asAdmin: false });
    assert.equal(version.status, 200);
    assert.equal(JSON.parse(version.body).minor, '32');
    const namespaces = await cluster.request('GET', '/api/v1/namespaces', { asAdmin: false });
    assert.equal(namespaces.status, 403);
    assert.match(JSON.parse(namespaces.body).message, /User "system:anonymous" cannot list resource "namespaces"/);
  });

  it('a client certificate from an untrusted CA is 401, not anonymous', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const request = https.request(`${cluster.url}/version`, { ca: readFileSync(cluster.pki.caCert), cert: readFileSync(cluster.pki.frontProxyClientCert), key: readFileSync(cluster.pki.frontProxyClientKey) }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      request.end();
    });
    assert.equal(status, 401);
  });

  it('an invalid token is 401 with the Unauthorized Status, never anonymous', async () => {
    const response = await cluster.request('GET', '/version', { asAdmin: false, headers: { Authorization: 'Bearer not-a-token' } });
    assert.equal(response.status, 401);
    assert.deepEqual(JSON.parse(response.body), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    assert.equal((await withToken('not-a-token', ['get', 'namespaces'])).stderr.trim(), UNAUTHORIZED);
  });
});

describe('TokenReview and extension servers', () => {
  it('kubectl create -f a TokenReview answers from the same authenticators', async () => {
    const manifest = join(cluster.dataDir, 'review.yaml');
    writeFileSync(manifest, stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'static-token-for-alice' } }));
    const review = JSON.parse(await ok(['create', '-f', manifest, '-o', 'json']));
    assert.equal(review.status.authenticated, true);
    assert.deepEqual(review.status.user, { username: 'alice', uid: 'alice-uid', groups: ['developers', 'reviewers', 'system:authenticated'] });
    assert.deepEqual(review.status.audiences, ['https://kubernetes.default.svc.cluster.local']);
    const unknown = JSON.parse(await ok(['create', '-o', 'json', '-f', '-'], JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'nobody-knows-this' } })));
    assert.equal(unknown.status.authenticated, undefined);
    assert.deepEqual(unknown.status.user, {});
    assert.equal(unknown.status.error, 'invalid bearer token');
  });

  it('an extension server authenticates bearer tokens by TokenReview to core', async () => {
    const port = Number(/"component":"apiextensions","listening":"https:\/\/127\.0\.0\.1:(\d+)"/.exec(cluster.output)?.[1]);
    assert.ok(port, 'the apiextensions port is in the launcher output');
    const token = (await ok(['create', 'token', 'default'])).trim();
    const accepted = await cluster.request('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { port, asAdmin: false, headers: { Authorization: `Bearer ${token}` } });
    assert.equal(accepted.status, 403, accepted.body);
    assert.match(JSON.parse(accepted.body).message, /User "system:serviceaccount:default:default" cannot list/);
    const rejected = await cluster.request('GET', '/apis', { port, asAdmin: false, headers: { Authorization: 'Bearer forged' } });
    assert.equal(rejected.status, 401);
  });

  it('a framework extension server given only --authentication-kubeconfig trusts the front proxy and client CA named in that ConfigMap', async () => {
    const port = await freePort();
    const distRoot = fileURLToPath(new URL('..', import.meta.url));
    const child = spawn(process.execPath, [
      join(distRoot, 'sample-extension', 'main.js'),
      `--secure-port=${port}`,
      `--tls-cert-file=${cluster.pki.serving['sample-extension'].cert}`,
      `--tls-private-key-file=${cluster.pki.serving['sample-extension'].key}`,
      `--authentication-kubeconfig=${join(cluster.dataDir, 'pki', 'delegator.kubeconfig')}`,
    ]);
    try {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const deadline = Date.now() + 30_000;
      while (!output.includes('listening') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.match(output, /listening/, output);
      const get = (path: string, options: { cert?: string; key?: string; headers?: Record<string, string> }) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const request = https.request(`https://127.0.0.1:${port}${path}`, { ca: readFileSync(cluster.pki.caCert), cert: options.cert && readFileSync(options.cert), key: options.key && readFileSync(options.key), headers: options.headers }, (response) => {
            let body = '';
            response.on('data', (chunk: Buffer) => (body += chunk.toString()));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
          });
          request.on('error', reject);
          request.end();
        });
      const proxied = await get('/apis/metrics.k8s.io/v1beta1/nodes', { cert: cluster.pki.frontProxyClientCert, key: cluster.pki.frontProxyClientKey, headers: { 'X-Remote-User': 'admin', 'X-Remote-Group': 'system:masters' } });
      assert.equal(proxied.status, 200, proxied.body);
      const direct = await get('/apis/metrics.k8s.io/v1beta1/nodes', { cert: cluster.pki.adminCert, key: cluster.pki.adminKey });
      assert.equal(direct.status, 200, direct.body);
      const spoofed = await get('/apis/metrics.k8s.io/v1beta1/nodes', { headers: { 'X-Remote-User': 'admin', 'X-Remote-Group': 'system:masters' } });
      assert.equal(spoofed.status, 401);
      assert.match(JSON.parse(spoofed.body).message, /did not come from a trusted aggregator/);
      const token = (await ok(['create', 'token', 'default'])).trim();
      const withBearer = await get('/apis/metrics.k8s.io/v1beta1/nodes', { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(withBearer.status, 403, withBearer.body);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('core publishes kube-system/extension-apiserver-authentication with upstream keys', async () => {
    const configMap = JSON.parse(await ok(['get', 'configmap', 'extension-apiserver-authentication', '-n', 'kube-system', '-o', 'json']));
    assert.match(configMap.data['client-ca-file'], /BEGIN CERTIFICATE/);
    assert.match(configMap.data['requestheader-client-ca-file'], /BEGIN CERTIFICATE/);
    assert.deepEqual(JSON.parse(configMap.data['requestheader-allowed-names']), ['front-proxy-client']);
    assert.deepEqual(JSON.parse(configMap.data['requestheader-username-headers']), ['X-Remote-User']);
    assert.deepEqual(JSON.parse(configMap.data['requestheader-group-headers']), ['X-Remote-Group']);
    assert.deepEqual(JSON.parse(configMap.data['requestheader-extra-headers-prefix']), ['X-Remote-Extra-']);
  });
});
