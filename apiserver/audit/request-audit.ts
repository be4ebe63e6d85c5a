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
import { auditMetrics } from '../metrics/registry.js';
import type { AuditBackend } from './log-backend.js';
import type { Policy, Stage } from './policy.js';
import { evaluatePolicy, levelAtLeast } from './policy.js';
import type { AuditEvent, SerializationCache } from './event.js';
import { auditUser, completeObjectReference, microTimestamp, nowMicros, objectReferenceFor, responseStatusFrom, serializeEvent, withoutManagedFields } from './event.js';

export interface AuditConfig {
  policy: Policy;
  backend: AuditBackend;
}

const levelCounters = new Map<string, ReturnType<typeof auditMetrics.levels.labels>>();

/** The counter child of a level, looked up once (label hashing costs more than the increment). */
function levelCounter(level: string): ReturnType<typeof auditMetrics.levels.labels> {
  let counter = levelCounters.get(level);
  if (!counter) levelCounters.set(level, (counter = auditMetrics.levels.labels({ level })));
  return counter;
}

/** Request bodies larger than this are not kept for the event (the request itself may still succeed). */
const MAX_CAPTURED_BYTES = 8 * 1024 * 1024;

type Pushable = IncomingMessage & { push(chunk: unknown, encoding?: BufferEncoding): boolean };

export class RequestAudit {
  private event: AuditEvent | undefined;
  private omitStages: Stage[] = [];
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
  private readonly serialized: SerializationCache = {};

  constructor(
    private readonly config: AuditConfig,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    readonly auditID: string,
    private readonly annotations: Record<string, string>,
  ) {
    this.tapRequestBody();
  }

  /** Evaluates the policy for the authenticated user (before impersonation, as upstream) and starts the trail. */
  start(info: RequestInfo, user: UserInfo | undefined, announce = true): void {
    const decision = evaluatePolicy(this.config.policy, info, user);
    levelCounter(decision.level).inc();
    if (decision.level === 'None') {
      this.stopTappingRequest();
      this.requestChunks = undefined;
      return;
    }
    this.omitStages = decision.omitStages;
    this.omitManagedFields = decision.omitManagedFields;
    this.longRunning = isLongRunning(info);
    // Creates and updates name their object in the body, which completes objectRef at every level.
    const wantsRequestBody = levelAtLeast(decision.level, 'Request') || info.verb === 'create' || info.verb === 'update';
    if (!wantsRequestBody || !info.isResourceRequest) {
      this.stopTappingRequest();
      this.requestChunks = undefined;
    }
    this.captureResponse = levelAtLeast(decision.level, 'RequestResponse') && !this.longRunning ? 'all' : 'errors';
    const received = microTimestamp();
    this.event = {
      level: decision.level,
      auditID: this.auditID,
      stage: 'RequestReceived',
      requestURI: this.req.url ?? '/',
      verb: info.verb,
      user: auditUser(user),
      sourceIPs: sourceIPs(this.req),
      userAgent: this.req.headers['user-agent'],
      objectRef: objectReferenceFor(info),
      requestReceivedTimestamp: received,
      stageTimestamp: received,
    };
    if (announce) this.emit('RequestReceived');
    this.tapResponse();
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

  private emit(stage: Stage): void {
    const event = this.event!;
    if (this.omitStages.includes(stage)) return;
    event.stage = stage;
    event.stageTimestamp = stage === 'RequestReceived' ? event.requestReceivedTimestamp : microTimestamp(nowMicros());
    event.annotations = Object.keys(this.annotations).length ? { ...this.annotations } : undefined;
    this.config.backend.write(serializeEvent(event, this.serialized));
  }

  private processCode(code: number): void {
    if (this.codeSeen || !this.event) return;
    this.codeSeen = true;
    this.event.responseStatus = { ...(this.event.responseStatus ?? { metadata: {} }), code };
    if (this.longRunning) this.emit('ResponseStarted');
    if (this.captureResponse === 'errors' && code >= 300) this.responseChunks = [];
    if (this.captureResponse === 'all') this.responseChunks = [];
  }

  private complete(): void {
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
    const body = this.responseChunks ? decodeBody(Buffer.concat(this.responseChunks), this.res.getHeader('content-type') as string | undefined, this.res.getHeader('content-encoding') as string | undefined) : undefined;
    const previous = event.responseStatus;
    event.responseStatus = responseStatusFrom(previous?.code ?? code, body);
    if (previous?.message && !event.responseStatus.message) event.responseStatus.message = previous.message;
    if (body !== undefined && this.captureResponse === 'all') event.responseObject = this.omitManagedFields ? withoutManagedFields(body) : body;
    this.emit('ResponseComplete');
  }

  private tapRequestBody(): void {
    const method = this.req.method;
    if (method !== 'POST' && method !== 'PUT' && method !== 'PATCH') return;
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

  private tapResponse(): void {
    const res = this.res;
    const writeHead = res.writeHead;
    const write = res.write;
    const end = res.end;
    const flushHeaders = res.flushHeaders;
    const keep = (chunk: unknown, encoding?: unknown) => {
      if (!this.responseChunks || chunk === undefined || chunk === null || typeof chunk === 'function') return;
      this.responseChunks.push(Buffer.isBuffer(chunk) ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk) : Buffer.from(String(chunk), typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
    };
    res.writeHead = ((statusCode: number, ...rest: unknown[]) => {
      this.processCode(statusCode);
      return (writeHead as (...args: unknown[]) => ServerResponse).call(res, statusCode, ...rest);
    }) as typeof res.writeHead;
    res.flushHeaders = () => {
      this.processCode(res.statusCode);
      flushHeaders.call(res);
    };
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      this.processCode(res.statusCode);
      keep(chunk, rest[0]);
      return (write as (...args: unknown[]) => boolean).call(res, chunk, ...rest);
    }) as typeof res.write;
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      this.processCode(res.statusCode);
      keep(chunk, rest[0]);
      return (end as (...args: unknown[]) => ServerResponse).call(res, chunk, ...rest);
    }) as typeof res.end;
    res.once('finish', () => this.complete());
    res.once('close', () => this.complete());
  }
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

/** Upstream's utilnet.SourceIPs: X-Forwarded-For, then X-Real-Ip, then the connection's address. */
export function sourceIPs(req: IncomingMessage): string[] {
  const ips: string[] = [];
  const add = (candidate: string | undefined) => {
    const ip = candidate?.trim().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
    if (ip && isIP(ip) && !ips.includes(ip)) ips.push(ip);
  };
  const forwarded = req.headers['x-forwarded-for'];
  if (typeof forwarded === 'string') for (const part of forwarded.split(',')) add(part);
  const real = req.headers['x-real-ip'];
  if (typeof real === 'string') add(real);
  add(req.socket?.remoteAddress);
  return ips;
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
