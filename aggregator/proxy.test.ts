import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createCertificateAuthority, issueCertificate } from '../launcher/pki.js';
import { backendAgent } from './backend-client.js';
import { Backend } from './backend.js';
import { BackendProxy } from './proxy.js';

interface Seen {
  headers: http.IncomingHttpHeaders;
  peerCommonName: string;
  body: string;
}

let backendServer: https.Server;
let frontServer: http.Server;
let frontPort: number;
const seen: Seen[] = [];

before(async () => {
  const clusterCa = await createCertificateAuthority('test-ca');
  const frontProxyCa = await createCertificateAuthority('test-front-proxy-ca');
  const serving = await issueCertificate({ caCertPem: clusterCa.certPem, caKeyPem: clusterCa.keyPem, commonName: 'backend', usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const proxyClient = await issueCertificate({ caCertPem: frontProxyCa.certPem, caKeyPem: frontProxyCa.keyPem, commonName: 'front-proxy-client', usage: 'client' });
  backendServer = https.createServer({ cert: serving.certPem, key: serving.keyPem, ca: frontProxyCa.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ headers: req.headers, peerCommonName: String((req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? ''), body });
      if (req.url?.startsWith('/watch')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write('{"type":"ADDED"}\n');
        setTimeout(() => res.end('{"type":"MODIFIED"}\n'), 50);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => backendServer.listen(0, '127.0.0.1', resolve));
  const backendUrl = `https://127.0.0.1:${(backendServer.address() as AddressInfo).port}`;
  const backend = new Backend('test', backendUrl, backendAgent({ proxyClientCert: proxyClient.certPem, proxyClientKey: proxyClient.keyPem, backendCa: clusterCa.certPem }), () => undefined);
  const proxy = new BackendProxy();
  frontServer = http.createServer((req, res) => {
    void proxy.forward(req, res, backend, { username: 'alice', groups: ['developers', 'system:authenticated'], extra: { 'acme.com/project': ['x'] } });
  });
  await new Promise<void>((resolve) => frontServer.listen(0, '127.0.0.1', resolve));
  frontPort = (frontServer.address() as AddressInfo).port;
});

after(() => {
  backendServer.close();
  frontServer.close();
});

function send(path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string; chunks: number }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port: frontPort, path, method: body ? 'POST' : 'GET', headers }, (response) => {
      let text = '';
      let chunks = 0;
      response.on('data', (chunk: Buffer) => {
        chunks++;
        text += chunk.toString();
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text, chunks }));
    });
    request.on('error', reject);
    if (body) request.write(body);
    request.end();
  });
}

describe('the aggregator proxy', () => {
  it('presents the front-proxy certificate and the authenticated identity, never the caller credentials', async () => {
    const response = await send('/api/v1/namespaces', { Authorization: 'Bearer secret-token', 'X-Remote-User': 'mallory', 'X-Remote-Group': 'system:masters' });
    assert.equal(response.status, 200);
    const request = seen.at(-1)!;
    assert.equal(request.peerCommonName, 'front-proxy-client');
    assert.equal(request.headers.authorization, undefined);
    assert.equal(request.headers['x-remote-user'], 'alice');
    assert.equal(request.headers['x-remote-group'], 'developers, system:authenticated');
    assert.equal(request.headers['x-remote-extra-acme.com%2fproject'], 'x');
  });

  it('passes request bodies through unchanged', async () => {
    const body = JSON.stringify({ metadata: { name: 'x' }, data: { big: 'y'.repeat(100_000) } });
    const response = await send('/api/v1/namespaces/default/configmaps', { 'Content-Type': 'application/json' }, body);
    assert.equal(response.status, 200);
    assert.equal(seen.at(-1)!.body, body);
  });

  it('streams a watch as the backend writes it', async () => {
    const response = await send('/watch', {});
    assert.equal(response.body, '{"type":"ADDED"}\n{"type":"MODIFIED"}\n');
    assert.ok(response.chunks >= 2, 'events arrive as separate chunks, not buffered to the end');
  });

  it('answers a 503 Status naming the backend when it is down', async () => {
    const port = (backendServer.address() as AddressInfo).port;
    await new Promise<void>((resolve) => backendServer.close(() => resolve()));
    backendServer.closeAllConnections();
    const response = await send('/api/v1/namespaces', {});
    assert.equal(response.status, 503);
    const status = JSON.parse(response.body) as { kind: string; reason: string; message: string };
    assert.equal(status.kind, 'Status');
    assert.equal(status.reason, 'ServiceUnavailable');
    assert.match(status.message, new RegExp(`backend test \\(https://127.0.0.1:${port}\\)`));
  });
});
