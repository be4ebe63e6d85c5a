// metav1.ListOptions from the query string, validated once, with upstream's messages for bad combinations.

import type { FieldError } from '../request/status.js';
import { badRequest, invalidRequest } from '../request/status.js';
import type { FieldSelector } from '../registry/fields.js';
import { parseFieldSelector } from '../registry/fields.js';
import type { LabelSelector } from '../registry/labels.js';
import { parseLabelSelector } from '../registry/labels.js';
import { queryBool } from '../request/query-bool.js';

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

/** An unparsable resourceVersion is rejected by upstream's storage layer, in Go's words. */
export function parseResourceVersion(value: string | null): number | undefined {
  if (value === null || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw badRequest(`invalid resource version: strconv.ParseUint: parsing ${JSON.stringify(value)}: invalid syntax`);
  return Number(value);
}

export function parseListOptions(query: URLSearchParams, allowedFields: Set<string>, isWatch: boolean): ListOptions {
  const limitText = query.get('limit');
  let limit = 0;
  if (limitText !== null && limitText !== '') {
    if (!/^-?\d+$/.test(limitText)) throw badRequest(`limit: invalid value "${limitText}": must be an integer`);
    limit = Math.max(0, Number(limitText));
  }
  const resourceVersionText = query.get('resourceVersion') ?? '';
  const match = query.get('resourceVersionMatch') || undefined;
  const continueToken = query.get('continue') || undefined;
  const sendInitialEvents = queryBool(query.get('sendInitialEvents'));
  const allowWatchBookmarks = queryBool(query.get('allowWatchBookmarks')) === true;

  // Upstream's ValidateListOptions (apimachinery internalversion/validation), all problems at once.
  const errors: FieldError[] = [];
  if (isWatch) {
    if (sendInitialEvents !== undefined && match !== 'NotOlderThan') {
      errors.push({ field: 'resourceVersionMatch', type: 'FieldValueForbidden', detail: 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan' });
    }
    if (match !== undefined) {
      if (sendInitialEvents === undefined) {
        errors.push({ field: 'resourceVersionMatch', type: 'FieldValueForbidden', detail: 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided' });
      }
      if (match !== 'NotOlderThan') errors.push({ field: 'resourceVersionMatch', type: 'FieldValueNotSupported', value: match, supported: ['NotOlderThan'] });
      if (continueToken !== undefined) errors.push({ field: 'resourceVersionMatch', type: 'FieldValueForbidden', detail: 'resourceVersionMatch is forbidden when continue is provided' });
    }
  } else {
    if (match !== undefined) {
      if (resourceVersionText === '') {
        errors.push({ field: 'resourceVersionMatch', type: 'FieldValueForbidden', detail: 'resourceVersionMatch is forbidden unless resourceVersion is provided' });
      }
      if (continueToken !== undefined) errors.push({ field: 'resourceVersionMatch', type: 'FieldValueForbidden', detail: 'resourceVersionMatch is forbidden when continue is provided' });
      if (match !== 'NotOlderThan' && match !== 'Exact') {
        errors.push({ field: 'resourceVersionMatch', type: 'FieldValueNotSupported', value: match, supported: ['Exact', 'NotOlderThan', ''] });
      }
      if (match === 'Exact' && resourceVersionText === '0') {
        errors.push({ field: 'resourceVersionMatch', type: 'FieldValueForbidden', detail: 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"' });
      }
    }
    if (sendInitialEvents !== undefined) errors.push({ field: 'sendInitialEvents', type: 'FieldValueForbidden', detail: 'sendInitialEvents is forbidden for list' });
  }
  if (errors.length > 0) throw invalidRequest(errors, 'ListOptions');

  const resourceVersion = parseResourceVersion(resourceVersionText);
  // The storage layer's check, hence a 400 rather than a validation error.
  if (continueToken !== undefined && resourceVersion !== undefined && resourceVersion !== 0) {
    throw badRequest('specifying resource version is not allowed when using continue');
  }
  const timeoutText = query.get('timeoutSeconds');
  let timeoutSeconds: number | undefined;
  if (timeoutText !== null && timeoutText !== '') {
    if (!/^\d+$/.test(timeoutText)) throw badRequest(`timeoutSeconds: invalid value "${timeoutText}"`);
    timeoutSeconds = Number(timeoutText);
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

/** A token with revision -1 continues at the latest revision (what a 410 for a compacted token offers). */
export function decodeContinue(text: string): ContinueToken {
  try {
    const decoded = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { v?: string; rv?: number; start?: string };
    if (decoded.v !== 'meta.k8s.io/v1' || typeof decoded.rv !== 'number' || decoded.rv === 0 || typeof decoded.start !== 'string' || decoded.start.includes('..')) {
      throw new Error('bad token');
    }
    return { revision: decoded.rv, start: decoded.start };
  } catch {
    // Upstream's storage layer wraps its decoding errors this way.
    throw badRequest('invalid continue token: continue key is not valid: the continue token is malformed');
  }
}
