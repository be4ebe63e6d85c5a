// PATCH bodies: JSON patch (RFC 6902), JSON merge patch (RFC 7386), strategic merge patch (built-in kinds
// only) and apply patches. This module only turns (current object, patch bytes) into the desired object;
// the generic store does the rest exactly as for an update.

import fastJsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { parseJson, parseYamlBody } from '../request/body.js';
import { badRequest, unsupportedMediaType, StatusError } from '../request/status.js';
import type { KubeObject } from '../registry/object.js';
import { isObject } from '../registry/object.js';
import type { PatchMeta } from '../registry/strategic-merge.js';
import { jsonMergePatch, strategicMerge } from '../registry/strategic-merge.js';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

const MEDIA_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

export function patchTypeOf(contentType: string | undefined, allowStrategic: boolean): PatchType {
  const media = (contentType ?? '').split(';')[0].trim().toLowerCase();
  const type = MEDIA_TYPES[media];
  const accepted = Object.entries(MEDIA_TYPES)
    .filter(([, kind]) => allowStrategic || kind !== 'strategic')
    .map(([name]) => name);
  if (!type || (type === 'strategic' && !allowStrategic)) throw unsupportedMediaType(media, accepted);
  return type;
}

export interface ParsedPatch {
  type: PatchType;
  /** Decoded patch document. */
  document: unknown;
}

export function parsePatch(type: PatchType, body: Buffer): ParsedPatch {
  if (body.length === 0) throw badRequest('the request body is empty: a patch was expected');
  const document = type === 'apply' ? parseYamlBody(body) : parseJson(body);
  if (type === 'json' && !Array.isArray(document)) throw badRequest('json patch: the patch must be a JSON array of operations');
  if (type !== 'json' && !isObject(document)) throw badRequest(`${type} patch: the patch must be a JSON object`);
  return { type, document };
}

/** Applies a json/merge/strategic patch to the current object, returning the desired object. */
export function applyPatch(current: KubeObject, patch: ParsedPatch, meta: PatchMeta | undefined): KubeObject {
  switch (patch.type) {
    case 'merge':
      return jsonMergePatch(current, patch.document) as KubeObject;
    case 'strategic':
      return strategicMerge(current, patch.document, meta) as KubeObject;
    case 'json':
      return applyJsonPatch(current, patch.document as Operation[]);
    case 'apply':
      throw new StatusError(500, 'InternalError', 'apply patches are handled by the apply path');
  }
}

function applyJsonPatch(current: KubeObject, operations: Operation[]): KubeObject {
  try {
    const result = fastJsonPatch.applyPatch(current, operations, true, true, true);
    return result.newDocument as KubeObject;
  } catch (error) {
    const name = (error as { name?: string }).name ?? '';
    const operation = (error as { operation?: { op?: string; path?: string } }).operation;
    let message: string;
    if (name === 'TEST_OPERATION_FAILED') message = `testing value ${operation?.path ?? ''} failed: test failed`;
    else if (name === 'OPERATION_PATH_UNRESOLVABLE' || name === 'OPERATION_FROM_UNRESOLVABLE') {
      message = `jsonpatch ${operation?.op ?? ''} operation does not apply: doc is missing path: "${operation?.path ?? ''}": missing value`;
    } else message = `jsonpatch: ${(error as Error).message}`;
    throw new StatusError(422, 'Invalid', message, { causes: [{ reason: 'FieldValueInvalid', message, field: 'patch' }] });
  }
}
