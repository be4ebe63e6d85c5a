// Upstream's UpgradeAwareHandler (k8s.io/apimachinery/pkg/util/proxy): a connect request is streamed to a
// backend location — plain requests through an HTTP client with both bodies piped, protocol upgrades (SPDY,
// websockets) by writing the request on a fresh connection and splicing the two sockets once the backend
// answers. The caller's credentials and identity headers never leave the server; hop-by-hop headers are
// dropped; for proxy subresources redirects are rewritten to stay under the proxy path and a backend that
// cannot be reached is a 503 `error trying to reach service: …`.

import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { ConnectRequest } from '../../apiserver/registry/resource.js';
import { badRequest, internalError, serviceUnavailable, StatusError } from '../../apiserver/request/status.js';
import { backendError } from './dial-errors.js';

/** Where a connect request goes. `path` and `query` are already escaped. */
export interface ProxyLocation {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  path: string;
  query: string;
}

/** How to reach a backend over TLS (kubelets: the apiserver's client certificate; pods and services: unverified). */
export interface ProxyTransport {
  ca?: string;
  cert?: string;
  key?: string;
  /** Do not verify the backend's certificate (no CA configured, or insecureSkipTLSVerifyBackend). */
  insecure: boolean;
  agent?: https.Agent;
}

export interface ProxyBehaviour {
  /** Upstream's wrapTransport (proxy subresources): X-Forwarded-Uri, Location rewriting, CORS headers dropped. */
  rewrite: boolean;
  /** exec, attach, port-forward: a plain request is refused. */
  upgradeRequired: boolean;
}

// RFC 7230's hop-by-hop headers, which a proxy never passes on (Go's httputil.ReverseProxy list).
const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
const CORS_HEADERS = new Set(['access-control-allow-credentials', 'access-control-allow-headers', 'access-control-allow-methods', 'access-control-allow-origin']);
// Go's dialer gives up on a connection after 30 s (utilnet.SetTransportDefaults).
const DIAL_TIMEOUT_MS = 30_000;

/** The caller's credentials and identity never reach a backend (upstream's authentication filters remove them). */
function isCredential(name: string): boolean {
  return name === 'authorization' || name.startsWith('impersonate-') || name.startsWith('x-remote-');
}

function clientAddress(req: IncomingMessage): string | undefined {
  return req.socket.remoteAddress?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
}

function forwardedFor(req: IncomingMessage): string | undefined {
  const client = clientAddress(req);
  if (!client) return undefined;
  const prior = req.headers['x-forwarded-for'];
  return typeof prior === 'string' && prior ? `${prior}, ${client}` : client;
}

/** Headers of the request as the backend gets them; `upgrade` keeps Connection and Upgrade. */
function outgoingHeaders(headers: IncomingHttpHeaders, upgrade: boolean): OutgoingHttpHeaders {
  const connectionTokens = new Set(String(headers.connection ?? '').toLowerCase().split(',').map((token) => token.trim()).filter(Boolean));
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || isCredential(name)) continue;
    if (!upgrade && (HOP_BY_HOP.has(name) || connectionTokens.has(name))) continue;
    out[name] = value;
  }
  return out;
}

function requestPath(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const index = url.indexOf('?');
  return index < 0 ? url : url.slice(0, index);
}

function requestQuery(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const index = url.indexOf('?');
  return index < 0 ? '' : url.slice(index + 1);
}

export function tlsOptions(location: ProxyLocation, transport: ProxyTransport): tls.ConnectionOptions {
  return {
    ca: transport.ca,
    cert: transport.cert,
    key: transport.key,
    rejectUnauthorized: !transport.insecure,
    // SNI only for names; the certificate is checked against the address dialed, as Go's client does.
    servername: net.isIP(location.host) ? '' : location.host,
    checkServerIdentity: (_host, certificate) => tls.checkServerIdentity(location.host, certificate),
  };
}

function joinPath(prefix: string, path: string): string {
  const joined = `${prefix.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`.replace(/\/+$/, '');
  return joined || '/';
}

/**
 * The proxy Transport's rewriteURL: a redirect to the backend itself (or to no host) is made to go through
 * the proxy path; other hosts and relative references are left alone.
 */
export function rewriteLocation(location: string, pathPrepend: string, backendHost: string, requestHost: string): string {
  let target: URL;
  const absolute = /^[a-z][a-z0-9+.-]*:/i.test(location) || location.startsWith('//');
  try {
    target = new URL(location, 'http://placeholder.invalid');
  } catch {
    return location;
  }
  const host = absolute ? target.host : '';
  const differentHost = host !== '' && host !== backendHost && host !== requestHost;
  const relative = !absolute && !location.startsWith('/');
  if (differentHost || relative) return location;
  const suffix = `${target.search}${target.hash}`;
  if (target.pathname.startsWith(pathPrepend)) return `${target.pathname}${suffix}`;
  let path = joinPath(pathPrepend, target.pathname);
  if (target.pathname.endsWith('/') && !path.endsWith('/')) path += '/';
  return `${path}${suffix}`;
}

/** Streams one connect request to `location` and its answer back. Resolves when the exchange is over. */
export async function proxyConnect(request: ConnectRequest, location: ProxyLocation, transport: ProxyTransport, behaviour: ProxyBehaviour): Promise<void> {
  if (request.upgrade) return proxyUpgrade(request, request.upgrade, location, transport);
  if (behaviour.upgradeRequired) throw badRequest('Upgrade request required');
  return proxyPlain(request, location, transport, behaviour);
}

async function proxyPlain(request: ConnectRequest, location: ProxyLocation, transport: ProxyTransport, behaviour: ProxyBehaviour): Promise<void> {
  const { req } = request;
  const res = request.res!;
  const incomingPath = requestPath(req);
  let path = location.path;
  if (!path.endsWith('/') && incomingPath.endsWith('/')) path += '/';
  // Upstream's proxyRedirectsforRootPath: the proxy root without its slash is redirected to it (k/k#4958).
  if (path === '' && (req.method === 'GET' || req.method === 'HEAD')) {
    const query = requestQuery(req);
    res.writeHead(301, { Location: `${incomingPath}/${query ? `?${query}` : ''}` });
    res.end();
    return;
  }
  const headers = outgoingHeaders(req.headers, false);
  const forwarded = forwardedFor(req);
  if (forwarded) headers['x-forwarded-for'] = forwarded;
  // The part of the request's path that names the proxy itself (upstream's PathPrepend).
  const suffix = location.path.endsWith('/') || !incomingPath.endsWith('/') ? location.path : `${location.path}/`;
  const pathPrepend = incomingPath.endsWith(suffix) ? incomingPath.slice(0, incomingPath.length - suffix.length) : incomingPath;
  if (behaviour.rewrite) headers['x-forwarded-uri'] = path.startsWith('/') ? `${pathPrepend}${path}` : joinPath(pathPrepend, path);
  const target = `${path || '/'}${location.query ? `?${location.query}` : ''}`;
  const backendHost = net.isIPv6(location.host) ? `[${location.host}]:${location.port}` : `${location.host}:${location.port}`;

  await new Promise<void>((resolve, reject) => {
    const options = { host: location.host, port: location.port, method: req.method, path: target, headers, ...(location.scheme === 'https' ? { ...tlsOptions(location, transport), agent: transport.agent } : {}) };
    const outgoing = location.scheme === 'https' ? https.request(options) : http.request(options);
    outgoing.setNoDelay(true);
    let connected = false;
    outgoing.on('socket', (socket) => {
      const timer = setTimeout(() => outgoing.destroy(Object.assign(new Error('i/o timeout'), { code: 'ETIMEDOUT' })), DIAL_TIMEOUT_MS);
      const done = () => {
        connected = true;
        clearTimeout(timer);
      };
      if (!socket.connecting) done();
      else socket.once(location.scheme === 'https' ? 'secureConnect' : 'connect', done);
      socket.once('close', () => clearTimeout(timer));
    });
    outgoing.on('response', (response) => {
      const out: OutgoingHttpHeaders = {};
      const connectionTokens = new Set(String(response.headers.connection ?? '').toLowerCase().split(',').map((token) => token.trim()));
      for (const [name, value] of Object.entries(response.headers)) {
        if (value === undefined || HOP_BY_HOP.has(name) || connectionTokens.has(name)) continue;
        if (behaviour.rewrite && CORS_HEADERS.has(name)) continue;
        out[name] = value;
      }
      if (behaviour.rewrite && typeof response.headers.location === 'string') {
        out.location = rewriteLocation(response.headers.location, pathPrepend, backendHost, req.headers.host ?? '');
      }
      res.writeHead(response.statusCode ?? 502, out);
      // Streams (a followed log, server-sent events) reach the client as they come.
      res.flushHeaders();
      response.pipe(res);
      response.on('error', () => res.destroy());
      res.once('close', () => {
        if (!res.writableFinished) response.destroy();
        resolve();
      });
      res.once('finish', resolve);
    });
    outgoing.on('error', (error: Error & { code?: string }) => {
      if (res.headersSent) {
        res.destroy();
        resolve();
        return;
      }
      const reason = backendError(error, location, connected);
      reject(serviceUnavailable(`error trying to reach service: ${reason}`));
    });
    res.once('close', () => {
      if (!res.writableFinished) outgoing.destroy();
    });
    req.pipe(outgoing);
  });
}

/** Reads the backend's response head (up to the blank line) and whatever came with it. */
function readResponseHead(socket: Duplex): Promise<{ status: number; raw: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buffered.length > 64 * 1024) fail(new Error('the backend sent a response head over 64 KiB'));
        return;
      }
      cleanup();
      const statusLine = buffered.subarray(0, buffered.indexOf('\r\n')).toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
      if (!match) return reject(new Error(`malformed HTTP response ${JSON.stringify(statusLine)}`));
      socket.pause();
      resolve({ status: Number(match[1]), raw: buffered });
    };
    const fail = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onEnd = () => fail(new Error(buffered.length ? 'unexpected EOF' : 'EOF'));
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('error', fail);
      socket.off('end', onEnd);
    };
    socket.on('data', onData);
    socket.on('error', fail);
    socket.on('end', onEnd);
  });
}

function dial(location: ProxyLocation, transport: ProxyTransport): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket =
      location.scheme === 'https'
        ? tls.connect({ host: location.host, port: location.port, ...tlsOptions(location, transport) })
        : net.connect({ host: location.host, port: location.port });
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error('i/o timeout'), { code: 'ETIMEDOUT' })), DIAL_TIMEOUT_MS);
    socket.setNoDelay(true);
    socket.once(location.scheme === 'https' ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** tryUpgrade: the request goes out as it came (credentials removed), the sockets are spliced after the backend's answer. */
async function proxyUpgrade(request: ConnectRequest, upgrade: { socket: Duplex; head: Buffer }, location: ProxyLocation, transport: ProxyTransport): Promise<void> {
  const { req } = request;
  let backend: Duplex;
  try {
    backend = await dial(location, transport);
  } catch (error) {
    throw internalError(`error dialing backend: ${backendError(error as Error, location, false)}`);
  }
  const headers = outgoingHeaders(req.headers, true);
  const forwarded = forwardedFor(req);
  if (forwarded) headers['x-forwarded-for'] = forwarded;
  const lines = [`${req.method} ${location.path || '/'}${location.query ? `?${location.query}` : ''} HTTP/1.1`];
  for (const [name, value] of Object.entries(headers)) {
    for (const item of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${String(item)}`);
  }
  backend.write(`${lines.join('\r\n')}\r\n\r\n`);
  if (upgrade.head.length) backend.write(upgrade.head);
  let answer: { status: number; raw: Buffer };
  try {
    answer = await readResponseHead(backend);
  } catch (error) {
    backend.destroy();
    throw internalError(`error reading the backend's answer: ${(error as Error).message}`);
  }
  // A backend that neither switched protocols nor failed gets no say: the client gets an error (upstream).
  if (answer.status !== 101 && answer.status < 400) {
    backend.destroy();
    throw new StatusError(500, 'InternalError', `Internal error occurred: invalid upgrade response: status code ${answer.status}`);
  }
  const client = upgrade.socket;
  // The backend's answer goes through as it is, an error included (kubectl reads the kubelet's text).
  client.write(answer.raw);
  backend.pipe(client);
  client.pipe(backend);
  backend.resume();
  const close = () => {
    backend.destroy();
    client.destroy();
  };
  backend.on('error', close);
  client.on('error', close);
  backend.on('close', () => client.end());
  client.on('close', () => backend.destroy());
}
