// metav1.ListOptions from the query string, validated once, with upstream's messages for bad combinations.

import { badRequest, invalidRequest } from '../request/status.js';
import type { FieldSelector } from '../registry/fields.js';
import { parseFieldSelector } from '../registry/fields.js';
import type { LabelSelector } from '../registry/labels.js';
import { parseLabelSelector } from '../registry/labels.js';

export interface ListOptions {
  labelSelector: LabelSelector;
  fieldSelector: FieldSelector;
  limit: number;
  continueToken: string | undefined;
  /** undefined = unset (most recent, consistent); 0 = any; N = not older than N (or exactly N with Exact). */
  resourceVersion: number | undefined;
  resourceVersionMatch: 'NotOlderThan' | 'Exact' | undefined;
  timeoutSeconds: number | undefined;
  allowWatchBookmarks: boolean;
  sendInitialEvents: boolean | undefined;
}

export function parseResourceVersion(value: string | null, field = 'resourceVersion'): number | undefined {
  if (value === null || value === '') return undefined;
  if (!/^\d+$/.test(value)) {
    throw invalidRequest([{ field, type: 'FieldValueInvalid', value, detail: 'must be a non-negative integer resource version' }]);
  }
  return Number(value);
}

export function parseListOptions(query: URLSearchParams, allowedFields: Set<string>, isWatch: boolean): ListOptions {
  const limitText = query.get('limit');
  let limit = 0;
  if (limitText !== null && limitText !== '') {
    if (!/^-?\d+$/.test(limitText)) throw badRequest(`limit: invalid value "${limitText}": must be an integer`);
    limit = Math.max(0, Number(limitText));
  }
  const resourceVersion = parseResourceVersion(query.get('resourceVersion'));
  const match = query.get('resourceVersionMatch') || undefined;
  if (match !== undefined && match !== 'NotOlderThan' && match !== 'Exact') {
    throw invalidRequest([{ field: 'resourceVersionMatch', type: 'FieldValueNotSupported', value: match, supported: ['Exact', 'NotOlderThan', ''] }]);
  }
  if (match !== undefined && resourceVersion === undefined) {
    throw invalidRequest([{ field: 'resourceVersionMatch', type: 'FieldValueForbidden', detail: 'resourceVersionMatch is forbidden unless resourceVersion is provided' }]);
  }
  const continueToken = query.get('continue') || undefined;
  if (continueToken !== undefined && resourceVersion !== undefined && resourceVersion !== 0) {
    throw invalidRequest([{ field: 'resourceVersion', type: 'FieldValueForbidden', detail: 'specifying resource version is not allowed when using continue' }]);
  }
  if (match === 'Exact' && resourceVersion === 0) {
    throw invalidRequest([{ field: 'resourceVersionMatch', type: 'FieldValueForbidden', detail: 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"' }]);
  }
  const timeoutText = query.get('timeoutSeconds');
  let timeoutSeconds: number | undefined;
  if (timeoutText !== null && timeoutText !== '') {
    if (!/^\d+$/.test(timeoutText)) throw badRequest(`timeoutSeconds: invalid value "${timeoutText}"`);
    timeoutSeconds = Number(timeoutText);
  }
  const sendInitialEventsText = query.get('sendInitialEvents');
  const sendInitialEvents = sendInitialEventsText === null || sendInitialEventsText === '' ? undefined : sendInitialEventsText === 'true';
  const allowWatchBookmarks = query.get('allowWatchBookmarks') === 'true';
  if (sendInitialEvents !== undefined) {
    if (!isWatch) throw invalidRequest([{ field: 'sendInitialEvents', type: 'FieldValueForbidden', detail: 'sendInitialEvents is forbidden for list' }]);
    if (match !== 'NotOlderThan') {
      throw invalidRequest([{ field: 'resourceVersionMatch', type: 'FieldValueForbidden', detail: "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan" }]);
    }
    if (sendInitialEvents && !allowWatchBookmarks) {
      throw invalidRequest([{ field: 'allowWatchBookmarks', type: 'FieldValueForbidden', detail: 'allowWatchBookmarks=true is required when sendInitialEvents is set' }]);
    }
  } else if (isWatch && match !== undefined) {
    throw invalidRequest([{ field: 'resourceVersionMatch', type: 'FieldValueForbidden', detail: 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided' }]);
  }
  return {
    labelSelector: parseLabelSelector(query.get('labelSelector') ?? ''),
    fieldSelector: parseFieldSelector(query.get('fieldSelector') ?? '', allowedFields),
    limit,
    continueToken,
    resourceVersion,
    resourceVersionMatch: match as ListOptions['resourceVersionMatch'],
    timeoutSeconds,
    allowWatchBookmarks,
    sendInitialEvents,
  };
}

export interface ContinueToken {
  revision: number;
  /** The last key returned, relative to the resource's key prefix. */
  start: string;
}

export function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: token.revision, start: token.start })).toString('base64url');
}

export function decodeContinue(text: string): ContinueToken {
  try {
    const decoded = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { v?: string; rv?: number; start?: string };
    if (decoded.v !== 'meta.k8s.io/v1' || typeof decoded.rv !== 'number' || typeof decoded.start !== 'string' || decoded.start.includes('..')) {
      throw new Error('bad token');
    }
    return { revision: decoded.rv, start: decoded.start };
  } catch {
    throw badRequest('continue key is not valid: the continue token is malformed');
  }
}
