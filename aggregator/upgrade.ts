// Upgrade requests (kubectl exec/attach/port-forward over SPDY or websockets, any other protocol switch)
// streamed to the backend: the same credentials and identity headers as proxied requests, then the two
// sockets are spliced together. Written here rather than with http-proxy, whose upgrade path accepts
// websockets only.

import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { UserInfo } from '../apiserver/registry/object.js';
import type { ProxyTarget } from './remote-discovery.js';

const HOP_BY_HOP = new Set(['authorization', 'proxy-authorization', 'host']);

export function forwardUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: ProxyTarget, user: UserInfo): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || name.startsWith('x-remote-') || name.startsWith('impersonate-')) continue;
    headers[name] = value;
  }
  headers['x-remote-user'] = user.username;
  if (user.uid) headers['x-remote-uid'] = user.uid;
  if (user.groups.length) headers['x-remote-group'] = user.groups;
  for (const [key, values] of Object.entries(user.extra ?? {})) headers[`x-remote-extra-${encodeURIComponent(key)}`] = values;
  const upstream = https.request({ host: target.target.host, port: target.target.port, method: req.method, path: req.url, headers, agent: target.agent });
  upstream.on('upgrade', (response, upstreamSocket, upstreamHead) => {
    const lines = [`HTTP/1.1 ${response.statusCode} ${response.statusMessage}`];
    for (let index = 0; index < response.rawHeaders.length; index += 2) lines.push(`${response.rawHeaders[index]}: ${response.rawHeaders[index + 1]}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (upstreamHead.length) socket.write(upstreamHead);
    if (head.length) upstreamSocket.write(head);
    upstreamSocket.pipe(socket).pipe(upstreamSocket);
    upstreamSocket.on('error', () => socket.destroy());
    socket.on('error', () => upstreamSocket.destroy());
    socket.on('close', () => upstreamSocket.destroy());
  });
  upstream.on('response', (response) => {
    // The backend refused to switch protocols: relay its answer as it is.
    const lines = [`HTTP/1.1 ${response.statusCode} ${response.statusMessage}`];
    for (let index = 0; index < response.rawHeaders.length; index += 2) {
      if (/^(transfer-encoding|connection)$/i.test(response.rawHeaders[index])) continue;
      lines.push(`${response.rawHeaders[index]}: ${response.rawHeaders[index + 1]}`);
    }
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => {
      const body = Buffer.concat(chunks);
      socket.end(Buffer.concat([Buffer.from(`${lines.filter((line) => !/^content-length:/i.test(line)).join('\r\n')}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`), body]));
    });
  });
  upstream.on('error', (error) => {
    const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `the server is currently unable to handle the request: backend ${target.name} did not answer: ${error.message}`, reason: 'ServiceUnavailable', code: 503 });
    socket.end(`HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  upstream.end();
}
