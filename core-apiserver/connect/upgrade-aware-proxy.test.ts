// The upgrade-aware proxy against a real backend: credentials stay behind, upgrades are spliced both ways,
// a refused upgrade reaches the client as the backend wrote it, dial failures are upstream's errors.

import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ConnectRequest } from '../../apiserver/registry/resource.js';
import { toStatusError } from '../../apiserver/request/status.js';
import type { ProxyBehaviour, ProxyLocation } from './upgrade-aware-proxy.js';
import { proxyConnect } from './upgrade-aware-proxy.js';

const PROXY_PREFIX = '/api/v1/namespaces/x/services/web/proxy';

describe('upgrade-aware proxy', () => {
  let backend: http.Server;
  let front: http.Server;
  let backendPort = 0;
  let frontPort = 0;
  let behaviour: ProxyBehaviour = { rewrite: true, upgradeRequired: false };
  let targetPort = () => backendPort;

  function location(req: http.IncomingMessage): ProxyLocation {
    const url = new URL(req.url ?? '/', 'http://front.invalid');
    return { scheme: 'http', host: '127.0.0.1', port: targetPort(), path: url.pathname.slice(PROXY_PREFIX.length), query: url.search.slice(1) };
  }

  function connectRequest(req: http.IncomingMessage, extra: Partial<ConnectRequest>): ConnectRequest {
    return { req, namespace: 'x', name: 'web', subpath: '', query: new URLSearchParams(), user: { username: 'admin', groups: [] }, store: undefined as never, resource: () => undefined, ...extra };
  }

  before(async () => {
    backend = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.url === '/moved') {
          res.writeHead(301, { Location: 'http://127.0.0.1:1/elsewhere', 'X-Other': 'kept' });
          res.end();
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*' });
        res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() }));
      });
    });
    backend.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      if (req.url?.startsWith('/refuse')) {
        socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n\r\nnope!\n');
        return;
      }
      if (req.url?.startsWith('/plain')) {
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\nX-Saw-Authorization: ${req.headers.authorization ?? 'none'}\r\n\r\n`);
      if (head.length) socket.write(head);
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    backendPort = (backend.address() as AddressInfo).port;

    front = http.createServer((req, res) => {
      proxyConnect(connectRequest(req, { res }), location(req), { insecure: true }, behaviour).catch((error: unknown) => {
        const status = toStatusError(error);
        res.writeHead(status.code, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(status.toStatus()));
      });
    });
    front.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      proxyConnect(connectRequest(req, { upgrade: { socket, head } }), location(req), { insecure: true }, behaviour).catch((error: unknown) => {
        const status = toStatusError(error);
        socket.end(`HTTP/1.1 ${status.code} Error\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${JSON.stringify(status.toStatus())}`);
      });
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    frontPort = (front.address() as AddressInfo).port;
  });

  after(() => {
    front.closeAllConnections();
    backend.closeAllConnections();
    front.close();
    backend.close();
  });

  function get(path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
    return new Promise((resolve, reject) => {
      const request = http.request({ host: '127.0.0.1', port: frontPort, path, method: options.method ?? 'GET', headers: options.headers }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      });
      request.on('error', reject);
      request.end(options.body);
    });
  }

  /** A raw upgrade exchange: sends the request (and `send` after the answer), collects what comes back. */
  function upgrade(path: string, send = ''): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(frontPort, '127.0.0.1', () => {
        socket.write(`GET ${path} HTTP/1.1\r\nHost: front\r\nConnection: Upgrade\r\nUpgrade: echo\r\nAuthorization: Bearer secret\r\n\r\n`);
      });
      let received = '';
      let sent = false;
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        received += chunk;
        if (send && !sent && received.includes('\r\n\r\n') && received.startsWith('HTTP/1.1 101')) {
          sent = true;
          socket.write(send);
        }
        if (send && received.endsWith(send)) socket.end();
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(received));
    });
  }

  it('passes method, path, query and body, but neither credentials nor identity headers', async () => {
    behaviour = { rewrite: true, upgradeRequired: false };
    const answer = await get(`${PROXY_PREFIX}/a/b?c=d`, { method: 'POST', body: 'payload', headers: { Authorization: 'Bearer secret', 'X-Remote-User': 'admin', 'Impersonate-User': 'bob', 'Keep-Alive': 'timeout=5', 'X-Custom': 'yes' } });
    assert.equal(answer.status, 200);
    const seen = JSON.parse(answer.body) as { method: string; url: string; headers: Record<string, string>; body: string };
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/a/b?c=d');
    assert.equal(seen.body, 'payload');
    assert.equal(seen.headers['x-custom'], 'yes');
    for (const header of ['authorization', 'x-remote-user', 'impersonate-user', 'keep-alive']) assert.equal(seen.headers[header], undefined, header);
    assert.equal(seen.headers['x-forwarded-uri'], `${PROXY_PREFIX}/a/b`);
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(answer.headers['access-control-allow-origin'], undefined);
  });

  it('redirects the bare proxy root to its trailing slash', async () => {
    const answer = await get(`${PROXY_PREFIX}?x=1`);
    assert.equal(answer.status, 301);
    assert.equal(answer.headers.location, `${PROXY_PREFIX}/?x=1`);
  });

  it('keeps a redirect to another host as it is', async () => {
    const answer = await get(`${PROXY_PREFIX}/moved`);
    assert.equal(answer.status, 301);
    assert.equal(answer.headers.location, 'http://127.0.0.1:1/elsewhere');
    assert.equal(answer.headers['x-other'], 'kept');
  });

  it('splices an upgraded connection both ways, without the caller\'s credentials', async () => {
    const received = await upgrade(`${PROXY_PREFIX}/ws`, 'ping-pong');
    assert.match(received, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(received, /X-Saw-Authorization: none/);
    assert.ok(received.endsWith('ping-pong'), received);
  });

  it('relays a refused upgrade as the backend wrote it', async () => {
    const received = await upgrade(`${PROXY_PREFIX}/refuse`);
    assert.match(received, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.ok(received.endsWith('nope!\n'));
  });

  it('a backend that answers an upgrade with a success is an error', async () => {
    const received = await upgrade(`${PROXY_PREFIX}/plain`);
    assert.match(received, /invalid upgrade response: status code 200/);
  });

  it('upstream errors for backends that cannot be reached', async () => {
    targetPort = () => 1;
    try {
      const plain = await get(`${PROXY_PREFIX}/x`);
      assert.equal(plain.status, 503);
      assert.equal(JSON.parse(plain.body).message, 'error trying to reach service: dial tcp 127.0.0.1:1: connect: connection refused');
      const upgraded = await upgrade(`${PROXY_PREFIX}/x`);
      assert.match(upgraded, /Internal error occurred: error dialing backend: dial tcp 127\.0\.0\.1:1: connect: connection refused/);
    } finally {
      targetPort = () => backendPort;
    }
  });

  it('exec-like connects refuse plain requests', async () => {
    behaviour = { rewrite: false, upgradeRequired: true };
    try {
      const answer = await get(`${PROXY_PREFIX}/x`);
      assert.equal(answer.status, 400);
      assert.equal(JSON.parse(answer.body).message, 'Upgrade request required');
    } finally {
      behaviour = { rewrite: true, upgradeRequired: false };
    }
  });
});
