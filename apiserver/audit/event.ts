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
    cachedSecondText = `${new Date(second * 1000).toISOString().slice(0, 19)}.`;
  }
  // 1000000 + µs has seven digits: dropping the first pads the fraction to six.
  return `${cachedSecondText}${String(1_000_000 + Math.floor(epochMicros) - second * 1_000_000).slice(1)}Z`;
}

// performance.timeOrigin is fixed for the process but its getter is a native call: read it once.
const TIME_ORIGIN = performance.timeOrigin;

export function nowMicros(): number {
  return Math.floor((TIME_ORIGIN + performance.now()) * 1000);
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
  const shown: Partial<UserInfo> = {};
  if (user.username) shown.username = user.username;
  if (user.uid) shown.uid = user.uid;
  if (user.groups?.length) shown.groups = user.groups;
  if (user.extra && hasKeys(user.extra)) shown.extra = user.extra;
  return shown;
}

/** Parts of a request's events that do not change between its stages, serialized once. */
export interface SerializationCache {
  head?: string;
  identity?: string;
  origin?: string;
  objectRef?: ObjectReference;
  objectRefText?: string;
}

// Characters JSON must escape, and surrogates (JSON.stringify escapes lone ones).
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A JSON string: most strings here need no escaping, and a test is cheaper than JSON.stringify. */
function quote(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/**
 * One JSON line as upstream's versioned encoder writes it: kind and apiVersion first, then the fields in
 * the Go struct's order, empty ones left out. Written by hand rather than by stringifying an object
 * built for the purpose; the parts that stay the same across a request's stages come from `cache`, and
 * the parts that mostly repeat from request to request (the user, the client, the authorizer's
 * annotations) from the last request's when they are equal.
 */
export function serializeEvent(event: AuditEvent, cache: SerializationCache = {}): string {
  cache.head ??= `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"${event.level}","auditID":${quote(event.auditID)},"stage":"`;
  cache.identity ??= `","requestURI":${quote(event.requestURI)},"verb":${quote(event.verb)},"user":${userJSON(event.user)}`;
  cache.origin ??= originJSON(event.sourceIPs, event.userAgent);
  let line = cache.head + event.stage + cache.identity;
  if (event.impersonatedUser) line += `,"impersonatedUser":${userJSON(event.impersonatedUser)}`;
  line += cache.origin;
  if (event.objectRef) {
    if (cache.objectRef !== event.objectRef) {
      cache.objectRef = event.objectRef;
      cache.objectRefText = `,"objectRef":${JSON.stringify(event.objectRef)}`;
    }
    line += cache.objectRefText;
  }
  if (event.responseStatus) line += `,"responseStatus":${responseStatusJSON(event.responseStatus)}`;
  if (event.requestObject !== undefined) line += `,"requestObject":${JSON.stringify(event.requestObject)}`;
  if (event.responseObject !== undefined) line += `,"responseObject":${JSON.stringify(event.responseObject)}`;
  line += `,"requestReceivedTimestamp":"${event.requestReceivedTimestamp}","stageTimestamp":"${event.stageTimestamp}"`;
  if (event.annotations) line += annotationsJSON(event.annotations);
  return `${line}}\n`;
}

function sameStrings(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}

function quoteAll(list: readonly string[]): string {
  let text = '[';
  for (let index = 0; index < list.length; index++) text += (index ? ',' : '') + quote(list[index]);
  return `${text}]`;
}

let lastUser: { username?: string; uid?: string; groups?: string[]; json: string } | undefined;

function userJSON(user: Partial<UserInfo>): string {
  const extra = user.extra && hasKeys(user.extra);
  if (!extra && lastUser && lastUser.username === user.username && lastUser.uid === user.uid && sameStrings(lastUser.groups, user.groups)) return lastUser.json;
  let text = '{';
  if (user.username) text += `"username":${quote(user.username)}`;
  if (user.uid) text += `${text.length > 1 ? ',' : ''}"uid":${quote(user.uid)}`;
  if (user.groups?.length) text += `${text.length > 1 ? ',' : ''}"groups":${quoteAll(user.groups)}`;
  if (extra) text += `${text.length > 1 ? ',' : ''}"extra":${sortedMapJSON(user.extra!)}`;
  text += '}';
  // Copied: the memo must not follow later changes to the request's objects.
  if (!extra) lastUser = { username: user.username, uid: user.uid, groups: user.groups ? [...user.groups] : undefined, json: text };
  return text;
}

let lastOrigin: { sourceIPs: string[] | undefined; userAgent: string | undefined; json: string } | undefined;

function originJSON(sourceIPs: string[] | undefined, userAgent: string | undefined): string {
  if (lastOrigin && lastOrigin.userAgent === userAgent && sameStrings(lastOrigin.sourceIPs, sourceIPs)) return lastOrigin.json;
  let text = sourceIPs?.length ? `,"sourceIPs":${quoteAll(sourceIPs)}` : '';
  if (userAgent) text += `,"userAgent":${quote(userAgent)}`;
  lastOrigin = { sourceIPs: sourceIPs ? [...sourceIPs] : undefined, userAgent, json: text };
  return text;
}

let lastAnnotations: { entries: string[]; json: string } = { entries: [], json: '' };

/** `,"annotations":{…}`, or nothing when there are none. */
function annotationsJSON(annotations: Record<string, string>): string {
  const last = lastAnnotations.entries;
  let index = 0;
  let same = true;
  for (const key in annotations) {
    if (same && (last[index] !== key || last[index + 1] !== annotations[key])) same = false;
    index += 2;
  }
  if (index === 0) return '';
  if (same && index === last.length) return lastAnnotations.json;
  const entries: string[] = [];
  for (const key of sortedKeys(annotations)) entries.push(key, String(annotations[key]));
  let text = ',"annotations":{';
  for (let at = 0; at < entries.length; at += 2) text += `${at ? ',' : ''}${quote(entries[at])}:${quote(entries[at + 1])}`;
  lastAnnotations = { entries, json: `${text}}` };
  return lastAnnotations.json;
}

/** Go writes a map's keys sorted; the keys here are usually already in order. */
function sortedKeys(map: object): string[] {
  const keys = Object.keys(map);
  for (let index = 1; index < keys.length; index++) if (keys[index - 1] > keys[index]) return keys.sort();
  return keys;
}

function sortedMapJSON(map: Record<string, unknown>): string {
  let text = '{';
  for (const key of sortedKeys(map)) text += `${text.length > 1 ? ',' : ''}${quote(key)}:${JSON.stringify(map[key])}`;
  return `${text}}`;
}

function responseStatusJSON(status: ResponseStatus): string {
  // The common case, a success with its code alone.
  if (status.status === undefined && status.message === undefined && status.reason === undefined && status.details === undefined) {
    return status.code === undefined ? '{"metadata":{}}' : `{"metadata":{},"code":${status.code}}`;
  }
  return JSON.stringify({ metadata: {}, status: status.status, message: status.message, reason: status.reason, details: status.details, code: status.code });
}

function hasKeys(object: object): boolean {
  for (const key in object) if (Object.prototype.hasOwnProperty.call(object, key)) return true;
  return false;
}

/** --audit-log-format=legacy: upstream's one-line text form of an event (audit.EventString). */
export function legacyEventLine(event: AuditEvent): string {
  const user = event.user;
  const username = user.username || '<none>';
  const groups = user.username && user.groups?.length ? user.groups.map(goQuote).join(',') : '<none>';
  const as = event.impersonatedUser ? event.impersonatedUser.username : '<self>';
  const asGroups = event.impersonatedUser?.groups ? event.impersonatedUser.groups.map(goQuote).join(',') : '<lookup>';
  const namespace = event.objectRef?.namespace || '<none>';
  const response = event.responseStatus ? String(event.responseStatus.code ?? 0) : '<deferred>';
  const ip = event.sourceIPs?.[0] ?? '<unknown>';
  const fields: [string, string][] = [['id', event.auditID], ['stage', event.stage], ['ip', ip], ['method', event.verb], ['user', username], ['groups', groups], ['as', as], ['asgroups', asGroups], ['user-agent', event.userAgent ?? ''], ['namespace', namespace], ['uri', event.requestURI]];
  return `${rfc3339Nano(event.requestReceivedTimestamp)} AUDIT: ${fields.map(([key, value]) => `${key}=${goQuote(value)}`).join(' ')} response="${response}"\n`;
}

/** Go's time.RFC3339Nano: the fraction without its trailing zeros (none at all when zero). */
function rfc3339Nano(microTime: string): string {
  return microTime.replace(/(\.\d*?)0+Z$/, '$1Z').replace(/\.Z$/, 'Z');
}

const GO_ESCAPES: Record<string, string> = { '\u0007': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u000b': '\\v' };

/** Go's %q for the strings an event holds: JSON's quoting, with Go's escapes for control characters. */
function goQuote(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[\u0000-\u001f\u007f"\\]/.test(text)) return `"${text}"`;
  let quoted = '"';
  for (const character of text) {
    const code = character.codePointAt(0)!;
    if (character === '"' || character === '\\') quoted += `\\${character}`;
    else if (GO_ESCAPES[character]) quoted += GO_ESCAPES[character];
    else if (code < 0x20 || code === 0x7f) quoted += `\\x${code.toString(16).padStart(2, '0')}`;
    else quoted += character;
  }
  return `${quoted}"`;
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
