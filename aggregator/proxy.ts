// Proxying to backends over each backend's keep-alive connections (upstream-connections.ts). Bodies and
// watch streams are passed on as they arrive, never parsed. The caller's own credentials are not
// forwarded: the backend sees the aggregator's front-proxy certificate and the authenticated identity in
// X-Remote-User/Group/Extra-*. Upgrades (exec, attach, port-forward) take upgrade.ts instead.
//
// Written on TLS sockets rather than with http-proxy or https.request: on a warm connection a proxied
// GET then costs one write of the request head, one parse of the response head and one writeHead, which
// took the aggregator's CPU per proxied GET from 5× a raw Node request to about 3×.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UserInfo } from '../apiserver/registry/object.js';
import { serviceUnavailable } from '../apiserver/request/status.js';
import { writeStatusError } from '../apiserver/request/response.js';
import type { ProxyTarget } from './remote-discovery.js';
import type { ResponseHandler, ResponseHead } from './response-parser.js';
import { ResponseParser } from './response-parser.js';
import type { ConnectionUser, UpstreamConnection } from './upstream-connections.js';
import { connectionsOf } from './backend-client.js';

/**
 * Request headers never passed on: hop-by-hop ones, the caller's credentials, the audit ID and forwarding
 * chain (replaced by ours). X-Remote-* and Impersonate-* are dropped by prefix: the identity they carried
 * is the authenticated (or impersonated) user, sent in our own X-Remote-* headers.
 */
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'expect', 'authorization', 'proxy-authorization', 'audit-id', 'x-forwarded-for']);
/** Response headers that describe the backend's connection, not the answer (Node frames the client's). */
const NOT_RETURNED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);
/** Bodies up to this size with a Content-Length are collected and written with the head in one call. */
const BUFFERED_BODY_BYTES = 64 * 1024;
/** Methods a connection that went stale may be retried with (nothing of the request reached the backend's handler). */
const RETRYABLE = new Set(['GET', 'HEAD', 'OPTIONS']);

export class BackendProxy {
  /** Proxies the request; resolves when the response is finished or the client went away. */
  forward(req: IncomingMessage, res: ServerResponse, backend: ProxyTarget, user: UserInfo): Promise<void> {
    // In-process delegate: the same handler code, no HTTP hop, the identity passed as a value.
    if (backend.inProcess) return backend.inProcess.serveAuthenticated(req, res, user);
    return new Promise((resolve) => new Exchange(req, res, backend, resolve).start(user));
  }
}

/** One proxied request: the request written to a backend connection, its response relayed to the client. */
class Exchange implements ConnectionUser, ResponseHandler {
  private connection: UpstreamConnection | undefined;
  private parser!: ResponseParser;
  private head = '';
  private hasBody = false;
  private chunkedBody = false;
  private requestSent = false;
  private finished = false;
  private retried = false;
  /** The response body so far when it is collected (small, with a Content-Length). */
  private collected: Buffer[] | undefined;
  private flushHead = false;
  private keepAliveTimeoutMs: number | undefined;
  private reusable = false;
  private auditID: unknown;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly backend: ProxyTarget,
    private readonly resolve: () => void,
  ) {}

  start(user: UserInfo): void {
    const { req, res } = this;
    try {
      this.auditID = res.getHeader('audit-id');
      this.head = requestHead(req, user, this.auditID, this.backend.target);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    const length = req.headers['content-length'];
    const transferEncoding = req.headers['transfer-encoding'];
    this.chunkedBody = transferEncoding !== undefined && /(?:^|,)\s*chunked\s*$/i.test(transferEncoding);
    this.hasBody = this.chunkedBody || (length !== undefined && length !== '0');
    // A client that leaves before the answer ends (a watch, usually), or a response ended by the request
    // timeout, ends the backend request too.
    res.once('close', () => {
      if (!this.finished) this.abandon();
      this.resolve();
    });
    if (!this.hasBody) {
      this.requestSent = true;
      this.send(false);
    } else if (!this.chunkedBody && Number(length) <= BUFFERED_BODY_BYTES) {
      this.sendWithBody();
    } else {
      this.send(false);
      this.pumpBody();
    }
  }

  private send(fresh: boolean, body?: Buffer): void {
    this.parser = new ResponseParser(this, this.req.method === 'HEAD');
    const target = this.backend.target;
    this.connection = connectionsOf(this.backend.agent).acquire(target.host, target.port, this, fresh);
    const socket = this.connection.socket;
    if (!body) {
      socket.write(this.head, 'latin1');
      return;
    }
    socket.cork();
    socket.write(this.head, 'latin1');
    socket.write(body);
    socket.uncork();
  }

  /** A small body with a Content-Length is collected first: head and body then leave in one write. */
  private sendWithBody(): void {
    const { req } = this;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => {
      if (this.finished) return;
      this.requestSent = true;
      this.send(false, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    });
  }

  private pumpBody(): void {
    const { req } = this;
    req.on('data', (chunk: Buffer) => {
      const connection = this.connection;
      if (!connection || this.finished) return;
      const socket = connection.socket;
      let flowing: boolean;
      if (this.chunkedBody) {
        socket.cork();
        socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
        socket.write(chunk);
        flowing = socket.write('\r\n', 'latin1');
        socket.uncork();
      } else {
        flowing = socket.write(chunk);
      }
      if (!flowing) {
        req.pause();
        socket.once('drain', () => req.resume());
      }
    });
    req.once('end', () => {
      if (!this.connection || this.finished) return;
      if (this.chunkedBody) this.connection.socket.write('0\r\n\r\n', 'latin1');
      this.requestSent = true;
    });
  }

  onData(data: Buffer): void {
    if (this.finished) return;
    try {
      this.parser.execute(data);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    // A watch answers with its head and then nothing until the first event: the head goes out now, not
    // with the first body write (the client would wait for it: kubectl wait).
    if (this.flushHead && !this.finished) {
      this.flushHead = false;
      this.res.flushHeaders();
    }
  }

  onError(error: Error): void {
    this.onClose(error);
  }

  onClose(error?: Error): void {
    if (this.finished) return;
    const connection = this.connection;
    this.connection = undefined;
    // Its 'close' follows its 'error': neither may reach a retry on another connection.
    if (connection) connection.user = undefined;
    if (!error) {
      try {
        this.parser.end();
        return; // a body delimited by the close of the connection is complete
      } catch (cut) {
        error = cut as Error;
      }
    }
    // A kept-alive connection the backend closed just as it was reused: nothing reached the backend's
    // handler, so the request goes again on a new connection.
    if (connection?.reused && !this.parser.started && !this.hasBody && !this.retried && RETRYABLE.has(this.req.method ?? '')) {
      this.retried = true;
      this.send(true);
      return;
    }
    this.fail(error);
  }

  onHead(head: ResponseHead): void {
    const { res } = this;
    if (res.writableEnded || res.destroyed) {
      this.abandon();
      return;
    }
    this.keepAliveTimeoutMs = head.keepAliveTimeoutMs;
    this.reusable = head.keepAlive;
    const raw = head.rawHeaders;
    const listed = connectionListed(head.connection);
    // The backend's headers replace ours of the same name (its Audit-Id is ours anyway), repeated ones
    // stay repeated (Warning). Set one by one: writeHead with a list would keep only the last of each
    // name once a header is already set on the response.
    const names: string[] = [];
    try {
      for (let index = 0; index < raw.length; index += 2) {
        const lower = raw[index].toLowerCase();
        if (NOT_RETURNED.has(lower) || listed?.has(lower)) continue;
        // The body is re-framed for the client: a length that does not describe it is not passed on.
        if (lower === 'content-length' && head.framing !== 'length' && head.framing !== 'none') continue;
        if (names.includes(lower)) {
          res.appendHeader(raw[index], raw[index + 1]);
        } else {
          names.push(lower);
          res.setHeader(raw[index], raw[index + 1]);
        }
      }
      res.writeHead(head.statusCode, head.statusMessage || undefined);
    } catch (error) {
      // None of the backend's headers describe the Status that goes out instead.
      for (const name of names) res.removeHeader(name);
      if (typeof this.auditID === 'string') res.setHeader('Audit-Id', this.auditID);
      this.fail(new Error(`invalid response headers: ${(error as Error).message}`));
      return;
    }
    if (head.framing === 'length' && head.contentLength <= BUFFERED_BODY_BYTES) this.collected = [];
    else if (head.framing !== 'none') this.flushHead = true;
  }

  onBody(chunk: Buffer): void {
    if (this.finished) return;
    if (this.res.writableEnded || this.res.destroyed) {
      // Ended for the client meanwhile (request timeout, shutdown ending watches): a write now would be an error.
      this.abandon();
      return;
    }
    if (this.collected) {
      this.collected.push(chunk);
      return;
    }
    this.flushHead = false;
    if (!this.res.write(chunk)) {
      const socket = this.connection?.socket;
      if (!socket) return;
      socket.pause();
      this.res.once('drain', () => socket.resume());
    }
  }

  onComplete(): void {
    if (this.finished) return;
    if (this.res.writableEnded || this.res.destroyed) {
      this.abandon();
      return;
    }
    this.finished = true;
    const connection = this.connection;
    this.connection = undefined;
    const collected = this.collected;
    if (collected) this.res.end(collected.length === 1 ? collected[0] : Buffer.concat(collected));
    else this.res.end();
    if (connection) {
      // A connection goes back to the pool only between whole exchanges.
      if (this.reusable && this.requestSent && !this.parser.extraneous && !connection.socket.isPaused()) connectionsOf(this.backend.agent).release(connection, this.keepAliveTimeoutMs);
      else connection.destroy();
    }
    this.discardBody();
    this.resolve();
  }

  /** The backend answered before the request body was through: the rest is read and dropped (the client's connection stays usable). */
  private discardBody(): void {
    if (this.hasBody && !this.requestSent) this.req.resume();
  }

  /** The client is gone (or the response was ended for it): the backend's request ends too. */
  private abandon(): void {
    this.finished = true;
    this.connection?.destroy();
    this.connection = undefined;
    this.discardBody();
  }

  private fail(error: Error): void {
    this.finished = true;
    this.connection?.destroy();
    this.connection = undefined;
    this.discardBody();
    const { res, backend } = this;
    if (!res.writableEnded) {
      writeStatusError(res, serviceUnavailable(`the server is currently unable to handle the request: backend ${backend.name} (${backend.url}) did not answer: ${error.message}`, 1));
    }
    this.resolve();
  }
}

/** The request as the backend gets it: the client's headers, less credentials and hop-by-hop ones, plus the identity. */
function requestHead(req: IncomingMessage, user: UserInfo, auditID: unknown, target: ProxyTarget['target']): string {
  let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
  const raw = req.rawHeaders;
  const listed = connectionListed(req.headers.connection);
  let forwardedFor: string | undefined;
  let host = false;
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index];
    const lower = name.toLowerCase();
    if (NOT_FORWARDED.has(lower) || lower.startsWith('x-remote-') || lower.startsWith('impersonate-') || listed?.has(lower)) {
      if (lower === 'x-forwarded-for') forwardedFor = forwardedFor === undefined ? raw[index + 1] : `${forwardedFor}, ${raw[index + 1]}`;
      continue;
    }
    if (lower === 'host') host = true;
    head += `${name}: ${raw[index + 1]}\r\n`;
  }
  if (!host) head += `Host: ${target.host}:${target.port}\r\n`;
  head += `X-Remote-User: ${headerValue(user.username)}\r\n`;
  if (user.uid) head += `X-Remote-Uid: ${headerValue(user.uid)}\r\n`;
  for (const group of user.groups) head += `X-Remote-Group: ${headerValue(group)}\r\n`;
  if (user.extra) {
    for (const key of Object.keys(user.extra)) {
      const name = `X-Remote-Extra-${encodeURIComponent(key)}`;
      for (const value of user.extra[key]) head += `${name}: ${headerValue(value)}\r\n`;
    }
  }
  // One request, one audit ID in every server's log; the backend trusts it from the front proxy.
  if (typeof auditID === 'string') head += `Audit-Id: ${auditID}\r\n`;
  // The client's address for the backend's audit sourceIPs, appended as upstream's proxy does.
  const client = clientAddress(req);
  if (client) head += `X-Forwarded-For: ${forwardedFor ? `${forwardedFor}, ${client}` : client}\r\n`;
  else if (forwardedFor) head += `X-Forwarded-For: ${forwardedFor}\r\n`;
  return `${head}\r\n`;
}

function clientAddress(req: IncomingMessage): string | undefined {
  const address = req.socket.remoteAddress;
  return address?.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

const PLAIN_VALUE = /^[\t\x20-\x7e]*$/;
const FORBIDDEN_IN_VALUE = /[\r\n\0]/;

/** An identity value as header bytes: UTF-8 as Go's proxy sends it; never a line break (header injection). */
function headerValue(value: string): string {
  if (PLAIN_VALUE.test(value)) return value;
  if (FORBIDDEN_IN_VALUE.test(value)) throw new Error(`the identity ${JSON.stringify(value)} cannot be sent in a header`);
  return Buffer.from(value, 'utf8').toString('latin1');
}

/** Header names a Connection header lists as hop-by-hop (beyond close and keep-alive), lowercased. */
function connectionListed(connection: string | undefined): Set<string> | undefined {
  if (!connection || connection === 'keep-alive' || connection === 'close' || connection === 'Keep-Alive') return undefined;
  let listed: Set<string> | undefined;
  for (const token of connection.split(',')) {
    const name = token.trim().toLowerCase();
    if (name && name !== 'close' && name !== 'keep-alive') (listed ??= new Set()).add(name);
  }
  return listed;
}
