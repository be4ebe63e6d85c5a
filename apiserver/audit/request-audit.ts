// One request's audit trail, upstream's WithAudit filter: the policy is evaluated once the user is
// known; RequestReceived is written at once, ResponseStarted when a long-running request (a watch) sends
// its headers, and ResponseComplete (or Panic) when the response ends or the client goes away.
//
// Bodies are observed on the wire rather than inside handlers, so the same code audits resources served
// here and requests proxied elsewhere (the aggregator): the request body is tapped where the HTTP parser
// pushes it (installed before anything can read it), the response where it is written. Nothing is kept
// unless the level asks for it, so Metadata-level auditing costs one small object per request.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { parse as parseYaml } from 'yaml';
import type { UserInfo } from '../registry/object.js';
import type { RequestInfo } from '../request/request-info.js';
import { isLongRunning } from '../request/request-info.js';
import { decodeProtobufObject, isProtobufContentType } from '../request/protobuf.js';
import { auditLevelCounts, auditMetrics } from '../metrics/registry.js';
import type { AuditBackend } from './log-backend.js';
import type { Level, Policy, Stage } from './policy.js';
import { compilePolicy, levelAtLeast } from './policy.js';
import type { AuditEvent, SerializationCache } from './event.js';
import { completeObjectReference, legacyEventLine, microTimestamp, nowMicros, objectReferenceFor, responseStatusFrom, serializeEvent, withoutManagedFields } from './event.js';
import { internalError } from '../request/status.js';

export type LogFormat = 'json' | 'legacy';

export interface AuditConfig {
  policy: Policy;
  backend: AuditBackend;
  /** --audit-log-format (default json). */
  format?: LogFormat;
}

function countLevel(level: Level): void {
  auditLevelCounts.set(level, (auditLevelCounts.get(level) ?? 0) + 1);
}

/** Request bodies larger than this are not kept for the event (the request itself may still succeed). */
const MAX_CAPTURED_BYTES = 8 * 1024 * 1024;

type Pushable = IncomingMessage & { push(chunk: unknown, encoding?: BufferEncoding): boolean };

const AUDIT = Symbol('audit');
type AuditedResponse = ServerResponse & { [AUDIT]: RequestAudit };
type Write = (this: ServerResponse, chunk: unknown, encoding?: unknown, callback?: unknown) => boolean;
type End = (this: ServerResponse, chunk?: unknown, encoding?: unknown, callback?: unknown) => ServerResponse;
type WriteHead = (this: ServerResponse, ...args: unknown[]) => ServerResponse;

export class RequestAudit {
  private event: AuditEvent | undefined;
  private omitStages: readonly Stage[] = [];
  private omitManagedFields = false;
  private longRunning = false;
  private requestChunks: Buffer[] | undefined;
  private requestBytes = 0;
  private responseChunks: Buffer[] | undefined;
  private captureResponse: 'none' | 'errors' | 'all' = 'none';
  private codeSeen = false;
  private panicked = false;
  private finished = false;
  private restorePush: (() => void) | undefined;
  private serialized: SerializationCache | undefined;
  /** When the request arrived (upstream takes requestReceivedTimestamp before authentication). */
  private readonly receivedMicros = nowMicros();
  // The response's own methods, called by the shared wrappers below.
  writeHeadOriginal: WriteHead | undefined;
  writeOriginal: Write | undefined;
  endOriginal: End | undefined;

  constructor(
    private readonly config: AuditConfig,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    readonly auditID: string,
    private readonly annotations: Record<string, string>,
  ) {
    this.tapRequestBody();
  }

  /**
   * Evaluates the policy for the authenticated user (before impersonation, as upstream) and starts the
   * trail. Throws (a 500) when a blocking-strict backend could not store the RequestReceived event.
   */
  start(info: RequestInfo, user: UserInfo | undefined, announce = true): void {
    const decision = compilePolicy(this.config.policy).evaluate(info, user);
    countLevel(decision.level);
    if (decision.level === 'None') {
      this.stopTappingRequest();
      this.requestChunks = undefined;
      return;
    }
    this.omitStages = decision.omitStages;
    this.omitManagedFields = decision.omitManagedFields;
    this.longRunning = isLongRunning(info);
    // Creates and updates name their object in the body, which completes objectRef at every level.
    const wantsRequestBody = info.isResourceRequest && (info.verb === 'create' || info.verb === 'update' || levelAtLeast(decision.level, 'Request'));
    if (!wantsRequestBody) {
      this.stopTappingRequest();
      this.requestChunks = undefined;
    }
    this.captureResponse = levelAtLeast(decision.level, 'RequestResponse') && !this.longRunning ? 'all' : 'errors';
    const received = microTimestamp(this.receivedMicros);
    this.event = {
      level: decision.level,
      auditID: this.auditID,
      stage: 'RequestReceived',
      requestURI: this.req.url ?? '/',
      verb: info.verb,
      user: user ?? {},
      sourceIPs: sourceIPs(this.req),
      userAgent: this.req.headers['user-agent'],
      objectRef: objectReferenceFor(info),
      requestReceivedTimestamp: received,
      stageTimestamp: received,
    };
    this.tapResponse();
    if (announce && !this.emit('RequestReceived') && this.config.backend.failsRequests) {
      // Upstream's blocking-strict: a request that cannot be audited is not served (and has no other event).
      this.event = undefined;
      auditMetrics.rejected.inc();
      throw internalError('failed to store audit event');
    }
  }

  /** A request whose authentication failed: one ResponseStarted event with an anonymous user, as upstream. */
  failedAuthentication(info: RequestInfo): void {
    this.start(info, undefined, false);
    if (!this.event) return;
    this.event.responseStatus = { metadata: {}, message: authenticationMethods(this.req) };
    this.longRunning = true; // the 401's headers produce the event
    this.finished = true; // and nothing after it
  }

  impersonated(user: UserInfo): void {
    if (this.event) this.event.impersonatedUser = user;
  }

  /** The handler failed unexpectedly (upstream: it panicked). */
  panic(message: string): void {
    this.panicked = true;
    if (this.event) this.event.responseStatus = { metadata: {}, status: 'Failure', message: `APIServer panic'd: ${message}`, reason: 'InternalError', code: 500 };
  }

  /** Writes the event at `stage` unless the policy omits it; false if the backend could not take it. */
  private emit(stage: Stage): boolean {
    const event = this.event!;
    if (this.omitStages.length && this.omitStages.includes(stage)) return true;
    event.stage = stage;
    event.stageTimestamp = stage === 'RequestReceived' ? event.requestReceivedTimestamp : microTimestamp(nowMicros());
    // Serialized at once, so later changes to the request's annotations cannot leak into this event.
    event.annotations = this.annotations;
    const line = this.config.format === 'legacy' ? legacyEventLine(event) : serializeEvent(event, (this.serialized ??= {}));
    return this.config.backend.write(line);
  }

  /** The status code is known: headers are being sent. */
  observeHeaders(code: number): void {
    if (this.codeSeen || !this.event) return;
    this.codeSeen = true;
    this.event.responseStatus = this.event.responseStatus ? { ...this.event.responseStatus, code } : { metadata: {}, code };
    if (this.longRunning) this.emit('ResponseStarted');
    // Errors carry a Status, and so may a delete's success (upstream records any Status's fields).
    if (this.captureResponse === 'all' || (this.captureResponse === 'errors' && (code >= 300 || this.event.verb === 'delete'))) this.responseChunks = [];
  }

  /** A chunk of the response body (kept only when the event needs it). */
  observeBody(chunk: unknown, encoding: unknown): void {
    if (!this.responseChunks || chunk === undefined || chunk === null || typeof chunk === 'function') return;
    this.responseChunks.push(Buffer.isBuffer(chunk) ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk) : Buffer.from(String(chunk), typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
  }

  complete(): void {
    if (this.finished || !this.event) return;
    this.finished = true;
    this.stopTappingRequest();
    const event = this.event;
    const code = this.res.statusCode;
    if (this.panicked) {
      this.emit('Panic');
      return;
    }
    if (this.requestChunks && event.objectRef) {
      const object = decodeBody(Buffer.concat(this.requestChunks), this.req.headers['content-type'], undefined);
      if (object !== undefined) {
        if (this.req.method === 'POST' || this.req.method === 'PUT') event.objectRef = completeObjectReference(event.objectRef, object);
        if (levelAtLeast(event.level, 'Request')) event.requestObject = this.omitManagedFields ? withoutManagedFields(object) : object;
      }
    }
    if (!this.codeSeen) {
      // The client went away before any response (upstream fakes a success, and ResponseStarted for watches).
      event.responseStatus = { metadata: {}, status: 'Success', message: 'Connection closed early', code: 200 };
      if (this.longRunning) this.emit('ResponseStarted');
    } else {
      const previous = event.responseStatus;
      if (this.responseChunks) {
        const body = decodeBody(Buffer.concat(this.responseChunks), this.res.getHeader('content-type') as string | undefined, this.res.getHeader('content-encoding') as string | undefined);
        event.responseStatus = responseStatusFrom(previous?.code ?? code, body);
        if (body !== undefined && this.captureResponse === 'all') event.responseObject = this.omitManagedFields ? withoutManagedFields(body) : body;
      } else {
        event.responseStatus = { metadata: {}, code: previous?.code ?? code };
      }
      if (previous?.message && !event.responseStatus.message) event.responseStatus.message = previous.message;
    }
    this.emit('ResponseComplete');
  }

  private tapRequestBody(): void {
    const method = this.req.method;
    // A delete may carry DeleteOptions, logged as its request object.
    if (method !== 'POST' && method !== 'PUT' && method !== 'PATCH' && method !== 'DELETE') return;
    this.requestChunks = [];
    const req = this.req as Pushable;
    const original = req.push;
    req.push = (chunk: unknown, encoding?: BufferEncoding) => {
      if (this.requestChunks && chunk !== null && chunk !== undefined) {
        const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, encoding);
        this.requestBytes += buffer.length;
        if (this.requestBytes > MAX_CAPTURED_BYTES) this.requestChunks = undefined;
        else this.requestChunks.push(buffer);
      }
      return original.call(req, chunk, encoding);
    };
    this.restorePush = () => {
      req.push = original;
    };
  }

  private stopTappingRequest(): void {
    this.restorePush?.();
    this.restorePush = undefined;
  }

  /**
   * Observes the response through wrappers shared by every request (no closures per request): headers
   * going out (explicitly, or implicitly by the first write or end, or flushHeaders, which all go
   * through writeHead) give the code; write and end give the body.
   */
  private tapResponse(): void {
    const res = this.res as AuditedResponse;
    res[AUDIT] = this;
    this.writeHeadOriginal = res.writeHead as WriteHead;
    this.writeOriginal = res.write as Write;
    this.endOriginal = res.end as End;
    res.writeHead = auditedWriteHead as typeof res.writeHead;
    res.write = auditedWrite as typeof res.write;
    res.end = auditedEnd as typeof res.end;
    res.once('close', completeAudit);
  }
}

function auditedWriteHead(this: AuditedResponse, statusCode: number, reason?: unknown, headers?: unknown): ServerResponse {
  const audit = this[AUDIT];
  audit.observeHeaders(statusCode);
  return audit.writeHeadOriginal!.call(this, statusCode, reason, headers);
}

function auditedWrite(this: AuditedResponse, chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
  const audit = this[AUDIT];
  audit.observeHeaders(this.statusCode);
  audit.observeBody(chunk, encoding);
  return audit.writeOriginal!.call(this, chunk, encoding, callback);
}

function auditedEnd(this: AuditedResponse, chunk?: unknown, encoding?: unknown, callback?: unknown): ServerResponse {
  const audit = this[AUDIT];
  audit.observeHeaders(this.statusCode);
  audit.observeBody(chunk, encoding);
  return audit.endOriginal!.call(this, chunk, encoding, callback);
}

/** The response is over (finished, or the client went away): ResponseComplete. */
function completeAudit(this: AuditedResponse): void {
  this[AUDIT].complete();
}

function decodeBody(bytes: Buffer, contentType: string | undefined, encoding: string | undefined): unknown {
  if (!bytes.length) return undefined;
  try {
    const plain = encoding === 'gzip' ? gunzipSync(bytes) : bytes;
    if (contentType && isProtobufContentType(contentType)) return decodeProtobufObject(plain);
    const text = plain.toString('utf8');
    // Apply patches are YAML by media type, though kubectl sends JSON (which is YAML too).
    if (contentType && /yaml/.test(contentType) && !/^\s*[{[]/.test(text)) return parseYaml(text);
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Upstream's utilnet.SourceIPs: every valid address of X-Forwarded-For, then X-Real-Ip unless already
 * listed, then the connection's address unless it is the last one listed.
 */
export function sourceIPs(req: IncomingMessage): string[] {
  const remoteAddress = req.socket?.remoteAddress;
  const forwarded = req.headers['x-forwarded-for'];
  const real = req.headers['x-real-ip'];
  // Consecutive requests mostly come from the same place: the last answer is shared (nobody changes it).
  const last = lastSourceIPs;
  if (last.remoteAddress === remoteAddress && last.forwarded === forwarded && last.real === real) return last.ips;
  const ips: string[] = [];
  if (typeof forwarded === 'string') {
    for (const part of forwarded.split(',')) {
      const ip = canonicalIP(part.trim());
      if (ip) ips.push(ip);
    }
  }
  const realIP = typeof real === 'string' ? canonicalIP(real.trim()) : undefined;
  if (realIP && !ips.includes(realIP)) ips.push(realIP);
  const remote = canonicalIP(remoteAddress);
  if (remote && ips[ips.length - 1] !== remote) ips.push(remote);
  lastSourceIPs = { remoteAddress, forwarded, real, ips };
  return ips;
}

let lastSourceIPs: { remoteAddress: string | undefined; forwarded: string | string[] | undefined; real: string | string[] | undefined; ips: string[] } = { remoteAddress: '', forwarded: undefined, real: undefined, ips: [] };

/** An address as Go prints a parsed net.IP: IPv4-mapped IPv6 as plain IPv4; undefined if not an IP. */
function canonicalIP(candidate: string | undefined): string | undefined {
  if (!candidate) return undefined;
  const ip = candidate.startsWith('::ffff:') && isIP(candidate.slice(7)) === 4 ? candidate.slice(7) : candidate;
  return isIP(ip) ? ip : undefined;
}

/** Upstream's message for a failed authentication: which credentials were tried. */
function authenticationMethods(req: IncomingMessage): string {
  const methods: string[] = [];
  const authorization = (req.headers.authorization ?? '').trim();
  if (/^basic\s/i.test(authorization)) methods.push('basic');
  const parts = authorization.split(' ');
  if (parts.length > 1 && parts[0].toLowerCase() === 'bearer') methods.push('bearer');
  if (/[?&]access_token=[^&]/.test(req.url ?? '')) methods.push('access_token');
  const socket = req.socket as { getPeerCertificate?: () => { raw?: Buffer } };
  if (typeof socket.getPeerCertificate === 'function' && socket.getPeerCertificate()?.raw) methods.push('x509');
  return methods.length ? `Authentication failed, attempted: ${methods.join(', ')}` : 'Authentication failed, no credentials provided';
}
