// audit.k8s.io/v1 Event: the JSON line an audit backend writes. Fields are assigned in the order of
// upstream's Go struct, so lines read like kube-apiserver's, and empty optional fields are left out as
// omitempty does. Timestamps have microsecond precision (metav1.MicroTime).

import type { UserInfo } from '../registry/object.js';
import type { RequestInfo } from '../request/request-info.js';
import type { Level, Stage } from './policy.js';

export interface ObjectReference {
  resource?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiGroup?: string;
  apiVersion?: string;
  resourceVersion?: string;
  subresource?: string;
}

export interface ResponseStatus {
  metadata: Record<string, never>;
  status?: string;
  message?: string;
  reason?: string;
  details?: unknown;
  code?: number;
}

export interface AuditEvent {
  level: Level;
  auditID: string;
  stage: Stage;
  requestURI: string;
  verb: string;
  user: Partial<UserInfo>;
  impersonatedUser?: UserInfo;
  sourceIPs?: string[];
  userAgent?: string;
  objectRef?: ObjectReference;
  responseStatus?: ResponseStatus;
  requestObject?: unknown;
  responseObject?: unknown;
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations?: Record<string, string>;
}

let cachedSecond = -1;
let cachedSecondText = '';

/** Now as RFC 3339 with six fractional digits, e.g. 2026-11-23T00:01:02.123456Z. */
export function microTimestamp(epochMicros = nowMicros()): string {
  const second = Math.floor(epochMicros / 1_000_000);
  // Formatting a date is the costly part; it changes once a second.
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedSecondText = new Date(second * 1000).toISOString().slice(0, 19);
  }
  return `${cachedSecondText}.${String(Math.floor(epochMicros) - second * 1_000_000).padStart(6, '0')}Z`;
}

export function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/** The object reference a request names (upstream's audit.NewEventFromRequest / LogRequestObject). */
export function objectReferenceFor(info: RequestInfo): ObjectReference | undefined {
  if (!info.isResourceRequest) return undefined;
  const reference: ObjectReference = { resource: info.resource };
  if (info.namespace) reference.namespace = info.namespace;
  if (info.name) reference.name = info.name;
  if (info.apiGroup) reference.apiGroup = info.apiGroup;
  if (info.apiVersion) reference.apiVersion = info.apiVersion;
  if (info.subresource) reference.subresource = info.subresource;
  return reference;
}

/** Completes the reference from the request's object, as upstream does for creates and updates. */
export function completeObjectReference(reference: ObjectReference, object: unknown): ObjectReference {
  const metadata = (object as { metadata?: Record<string, unknown> } | undefined)?.metadata;
  if (!metadata || typeof metadata !== 'object') return reference;
  const pick = (key: string) => (typeof metadata[key] === 'string' && metadata[key] !== '' ? (metadata[key] as string) : undefined);
  // Rebuilt in field order: the name may come after the namespace, uid and resourceVersion in between.
  return omitEmpty({
    resource: reference.resource,
    namespace: reference.namespace ?? pick('namespace'),
    name: reference.name ?? pick('name'),
    uid: reference.uid ?? pick('uid'),
    apiGroup: reference.apiGroup,
    apiVersion: reference.apiVersion,
    resourceVersion: reference.resourceVersion ?? pick('resourceVersion'),
    subresource: reference.subresource,
  });
}

function omitEmpty<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value;
}

/** The response status an event carries: the bounded fields of a Status body, or the code alone. */
export function responseStatusFrom(code: number, body: unknown): ResponseStatus {
  const status: ResponseStatus = { metadata: {} };
  if (body && typeof body === 'object' && (body as { kind?: unknown }).kind === 'Status') {
    const { status: outcome, message, reason, details } = body as Record<string, unknown>;
    if (typeof outcome === 'string' && outcome) status.status = outcome;
    if (typeof message === 'string' && message) status.message = message;
    if (typeof reason === 'string' && reason) status.reason = reason;
    if (details && typeof details === 'object' && Object.keys(details).length) status.details = details;
  }
  status.code = code;
  return status;
}

/** The user as audit shows it: username, uid, groups, extra, each only when present. */
export function auditUser(user: UserInfo | undefined): Partial<UserInfo> {
  if (!user) return {};
  const shown: Partial<UserInfo> = { username: user.username };
  if (user.uid) shown.uid = user.uid;
  if (user.groups.length) shown.groups = user.groups;
  if (user.extra && Object.keys(user.extra).length) shown.extra = user.extra;
  return shown;
}

/** Parts of a request's events that do not change between its stages, serialized once. */
export interface SerializationCache {
  identity?: string;
  origin?: string;
}

/**
 * One JSON line (kind and apiVersion first, as the versioned encoder writes them). Built as a string:
 * the fields that stay the same across a request's stages come from `cache`.
 */
export function serializeEvent(event: AuditEvent, cache: SerializationCache = {}): string {
  cache.identity ??= `,"requestURI":${JSON.stringify(event.requestURI)},"verb":${JSON.stringify(event.verb)},"user":${JSON.stringify(event.user)}`;
  cache.origin ??= `${event.sourceIPs?.length ? `,"sourceIPs":${JSON.stringify(event.sourceIPs)}` : ''}${event.userAgent ? `,"userAgent":${JSON.stringify(event.userAgent)}` : ''}`;
  let line = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"${event.level}","auditID":${JSON.stringify(event.auditID)},"stage":"${event.stage}"${cache.identity}`;
  if (event.impersonatedUser) line += `,"impersonatedUser":${JSON.stringify(auditUser(event.impersonatedUser))}`;
  line += cache.origin;
  if (event.objectRef) line += `,"objectRef":${JSON.stringify(event.objectRef)}`;
  if (event.responseStatus) line += `,"responseStatus":${JSON.stringify(event.responseStatus)}`;
  if (event.requestObject !== undefined) line += `,"requestObject":${JSON.stringify(event.requestObject)}`;
  if (event.responseObject !== undefined) line += `,"responseObject":${JSON.stringify(event.responseObject)}`;
  line += `,"requestReceivedTimestamp":"${event.requestReceivedTimestamp}","stageTimestamp":"${event.stageTimestamp}"`;
  if (event.annotations && Object.keys(event.annotations).length) line += `,"annotations":${JSON.stringify(event.annotations)}`;
  return `${line}}\n`;
}

/** Drops metadata.managedFields from an object or from every item of a list (omitManagedFields). */
export function withoutManagedFields(object: unknown): unknown {
  if (!object || typeof object !== 'object') return object;
  const value = object as { metadata?: Record<string, unknown>; items?: unknown[] };
  let copy = value as Record<string, unknown>;
  if (value.metadata && 'managedFields' in value.metadata) {
    const { managedFields: _dropped, ...metadata } = value.metadata;
    void _dropped;
    copy = { ...copy, metadata };
  }
  if (Array.isArray(value.items)) copy = { ...copy, items: value.items.map(withoutManagedFields) };
  return copy;
}
