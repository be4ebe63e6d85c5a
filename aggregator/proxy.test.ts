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
  rawHeaders: string[];
  peerCommonName: string;
  body: string;
}

let backendServer: https.Server;
let frontServer: http.Server;
let frontPort: number;
let proxy: BackendProxy;
let backend: Backend;
const seen: Seen[] = [];
/** Backend connections opened, and a flag set when a watch's request was closed by the proxy. */
let backendConnections = 0;
let watchClosed: Promise<void> | undefined;
let droppedOnce = false;
let resetOnce = false;
let watchResponse: http.ServerResponse | undefined;

before(async () => {
  const clusterCa = await createCertificateAuthority('test-ca');
  const frontProxyCa = await createCertificateAuthority('test-front-proxy-ca');
  const serving = await issueCertificate({ caCertPem: clusterCa.certPem, caKeyPem: clusterCa.keyPem, commonName: 'backend', usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const proxyClient = await issueCertificate({ caCertPem: frontProxyCa.certPem, caKeyPem: frontProxyCa.keyPem, commonName: 'front-proxy-client', usage: 'client' });
  backendServer = https.createServer({ cert: serving.certPem, key: serving.keyPem, ca: frontProxyCa.certPem, requestCert: true, rejectUnauthorized: true, keepAliveTimeout: 60_000 }, (req, res) => {
    const socket = req.socket as TLSSocket & { served?: number };
    socket.served = (socket.served ?? 0) + 1;
    if (req.url === '/drop-reused' && socket.served > 1 && !droppedOnce) {
      // The backend closed the kept-alive connection just as the proxy reused it.
      droppedOnce = true;
      socket.destroy();
      return;
    }
    if (req.url === '/reset-reused' && socket.served > 1 && !resetOnce) {
      // Or reset it (the proxy's side sees ECONNRESET, then the close).
      resetOnce = true;
      (socket as TLSSocket & { _parent: { resetAndDestroy(): void } })._parent.resetAndDestroy();
      return;
    }
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ headers: req.headers, rawHeaders: req.rawHeaders, peerCommonName: String(socket.getPeerCertificate().subject?.CN ?? ''), body });
      if (req.url?.startsWith('/watch')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write('{"type":"ADDED"}\n');
        setTimeout(() => res.end('{"type":"MODIFIED"}\n'), 50);
        return;
      }
      if (req.url === '/slow-watch') {
        // Headers first, the first event much later: the client must see the headers at once.
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        watchClosed = new Promise((resolve) => res.once('close', () => resolve()));
        watchResponse = res;
        return;
      }
      if (req.url === '/large') {
        const large = Buffer.alloc(300_000, 'x');
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': large.length });
        res.end(large);
        return;
      }
      if (req.url === '/hop-by-hop') {
        res.writeHead(200, [['Content-Type', 'application/json'], ['Connection', 'X-Backend-Only'], ['X-Backend-Only', 'secret'], ['Warning', '299 - "one"'], ['Warning', '299 - "two"'], ['Content-Length', '2']].flat());
        res.end('{}');
        return;
      }
      if (req.url === '/broken') {
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n');
        return;
      }
      if (req.url === '/bad-header') {
        socket.end('HTTP/1.1 200 OK\r\nX-Bad: a\x01b\r\nContent-Length: 2\r\n\r\n{}');
        return;
      }
      if (req.url === '/cut') {
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"partial":');
        return;
      }
      if (req.url === '/echo') {
        res.writeHead(201, { 'Content-Type': 'application/json' });
        res.end(body);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(req.method === 'HEAD' ? undefined : '{"ok":true}');
    });
  });
  backendServer.on('secureConnection', () => backendConnections++);
  await new Promise<void>((resolve) => backendServer.listen(0, '127.0.0.1', resolve));
  const backendUrl = `https://127.0.0.1:${(backendServer.address() as AddressInfo).port}`;
  backend = new Backend('test', backendUrl, backendAgent({ proxyClientCert: proxyClient.certPem, proxyClientKey: proxyClient.keyPem, backendCa: clusterCa.certPem }), () => undefined);
  proxy = new BackendProxy();
  frontServer = http.createServer((req, res) => {
    res.setHeader('Audit-Id', 'audit-1234');
    // As the server ends proxied watches at shutdown: the response ends while the backend still streams.
    if (req.headers['x-test-end-after-ms']) setTimeout(() => res.end(), Number(req.headers['x-test-end-after-ms']));
    void proxy.forward(req, res, backend, { username: 'alice', uid: 'u-1', groups: ['developers', 'system:authenticated'], extra: { 'acme.com/project': ['x'] } });
  });
  await new Promise<void>((resolve) => frontServer.listen(0, '127.0.0.1', resolve));
  frontPort = (frontServer.address() as AddressInfo).port;
});

after(() => {
  backendServer.close();
  backendServer.closeAllConnections();
  frontServer.close();
  frontServer.closeAllConnections();
  backend.agent.destroy();
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
  chunks: number;
}

const frontAgent = new http.Agent({ keepAlive: true });

function send(path: string, headers: Record<string, string>, body?: string | string[], method?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port: frontPort, path, method: method ?? (body ? 'POST' : 'GET'), headers, agent: frontAgent }, (response) => {
      let text = '';
      let chunks = 0;
      response.on('data', (chunk: Buffer) => {
        chunks++;
        text += chunk.toString();
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, rawHeaders: response.rawHeaders, body: text, chunks }));
      response.on('error', reject);
    });
    request.on('error', reject);
    for (const part of typeof body === 'string' ? [body] : body ?? []) request.write(part);
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

  it('passes on the client headers without hop-by-hop ones, impersonation or a client audit ID, and adds the audit ID and forwarding chain', async () => {
    const response = await send('/api/v1/pods?watch=false', {
      Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
      'User-Agent': 'kubectl/v1.32.0',
      'Impersonate-User': 'bob',
      'Impersonate-Group': 'admins',
      'Proxy-Authorization': 'Basic eDp5',
      'X-Remote-Extra-Scopes': 'all',
      'Audit-Id': 'client-chosen',
      'X-Forwarded-For': '10.0.0.1',
      Connection: 'keep-alive, X-Hop',
      'X-Hop': 'local',
      'Keep-Alive': 'timeout=5',
    });
    assert.equal(response.status, 200);
    const request = seen.at(-1)!;
    assert.equal(request.headers.accept, 'application/json;as=Table;v=v1;g=meta.k8s.io');
    assert.equal(request.headers['user-agent'], 'kubectl/v1.32.0');
    assert.equal(request.headers.host, `127.0.0.1:${frontPort}`);
    for (const name of ['impersonate-user', 'impersonate-group', 'proxy-authorization', 'x-remote-extra-scopes', 'x-hop', 'keep-alive']) assert.equal(request.headers[name], undefined, name);
    assert.equal(request.headers['audit-id'], 'audit-1234');
    assert.equal(request.headers['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
    assert.equal(request.headers['x-remote-uid'], 'u-1');
    assert.deepEqual(
      request.rawHeaders.filter((_, index) => index % 2 === 0 && request.rawHeaders[index].toLowerCase() === 'x-remote-group').length,
      2,
      'one X-Remote-Group line per group',
    );
  });

  it('returns the backend status and headers, repeated ones kept, its connection headers not', async () => {
    const response = await send('/hop-by-hop', {});
    assert.equal(response.status, 200);
    assert.equal(response.body, '{}');
    assert.equal(response.headers['x-backend-only'], undefined);
    assert.equal(response.headers['audit-id'], 'audit-1234');
    assert.deepEqual(
      response.rawHeaders.filter((_, index) => index % 2 === 1 && response.rawHeaders[index - 1] === 'Warning'),
      ['299 - "one"', '299 - "two"'],
    );
  });

  it('reuses backend connections between requests', async () => {
    await send('/api/v1/namespaces', {});
    const before = backendConnections;
    for (let index = 0; index < 5; index++) assert.equal((await send('/api/v1/namespaces', {})).status, 200);
    assert.equal(backendConnections, before);
  });

  it('retries a GET once on a new connection when the backend closed the reused one', async () => {
    await send('/api/v1/namespaces', {});
    const response = await send('/drop-reused', {});
    assert.ok(droppedOnce, 'the backend dropped a reused connection');
    assert.equal(response.status, 200);
    assert.equal(response.body, '{"ok":true}');
  });

  it('retries a GET once on a new connection when the backend reset the reused one', async () => {
    await send('/api/v1/namespaces', {});
    const response = await send('/reset-reused', {});
    assert.ok(resetOnce, 'the backend reset a reused connection');
    assert.equal(response.status, 200);
    assert.equal(response.body, '{"ok":true}');
  });

  it('answers HEAD without a body and keeps the connection usable', async () => {
    const head = await send('/api/v1/namespaces', {}, undefined, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal((await send('/api/v1/namespaces', {})).body, '{"ok":true}');
  });

  it('passes a small request body with its Content-Length through unchanged', async () => {
    const body = JSON.stringify({ metadata: { name: 'small' }, data: { a: 'ü' } });
    const response = await send('/echo', { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) }, body);
    assert.equal(response.status, 201);
    assert.equal(response.body, body);
    assert.equal(seen.at(-1)!.headers['content-length'], String(Buffer.byteLength(body)));
  });

  it('passes a chunked request body (no Content-Length) through unchanged', async () => {
    const parts = ['{"metadata":', '{"name":"chunked"}', '}'];
    const response = await send('/echo', { 'Content-Type': 'application/json' }, parts, 'PATCH');
    assert.equal(response.status, 201);
    assert.equal(response.body, parts.join(''));
    assert.equal(seen.at(-1)!.headers['transfer-encoding'], 'chunked');
  });

  it('passes large response bodies through unchanged', async () => {
    const response = await send('/large', {});
    assert.equal(response.status, 200);
    assert.equal(response.body.length, 300_000);
    assert.equal(response.headers['content-length'], '300000');
  });

  it('sends a watch its headers before the first event, and ends the backend request when the client leaves', async () => {
    const request = http.request({ host: '127.0.0.1', port: frontPort, path: '/slow-watch' });
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      request.on('response', resolve);
      request.on('error', reject);
      request.end();
    });
    assert.equal(response.statusCode, 200);
    request.destroy();
    await watchClosed;
  });

  it('stops relaying, and ends the backend request, when the response was ended for the client meanwhile', async () => {
    const request = http.request({ host: '127.0.0.1', port: frontPort, path: '/slow-watch', headers: { 'X-Test-End-After-Ms': '50' } });
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      request.on('response', resolve);
      request.on('error', reject);
      request.end();
    });
    let text = '';
    response.on('data', (chunk: Buffer) => (text += chunk.toString()));
    await new Promise((resolve) => response.on('end', resolve));
    // The backend writes after the client's response ended: nothing reaches it, nothing breaks.
    watchResponse!.write('{"type":"ADDED"}\n');
    await watchClosed;
    assert.equal(text, '');
    assert.equal((await send('/api/v1/namespaces', {})).status, 200);
  });

  it('answers a 503 Status when the backend sends a malformed response', async () => {
    const response = await send('/broken', {});
    assert.equal(response.status, 503);
    assert.match((JSON.parse(response.body) as { message: string }).message, /invalid Content-Length/);
  });

  it('answers a 503 Status, with none of the backend headers, when the backend sends a header the client cannot get', async () => {
    const response = await send('/bad-header', {});
    assert.equal(response.status, 503);
    assert.equal(response.headers['x-bad'], undefined);
    assert.equal(response.headers['audit-id'], 'audit-1234');
    assert.match((JSON.parse(response.body) as { message: string }).message, /invalid response headers/);
  });

  it('cuts the client response short when the backend connection ends in the middle of the body', async () => {
    await assert.rejects(send('/cut', {}));
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
