// PATCH bodies: JSON patch (RFC 6902), JSON merge patch (RFC 7386), strategic merge patch (built-in kinds
// only) and apply patches. This module only turns (current object, patch bytes) into the desired object;
// the generic store does the rest exactly as for an update.

import fastJsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { parseJson } from '../request/body.js';
import { parseYamlLeniently } from '../request/strict-decoding.js';
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
  /** Apply bodies: the keys repeated within one map, as the strict YAML decoder reports them. */
  duplicateKeys?: string[];
}

export function parsePatch(type: PatchType, body: Buffer): ParsedPatch {
  if (body.length === 0) throw badRequest('the request body is empty: a patch was expected');
  if (type === 'apply') {
    const { document, duplicateKeys } = parseApplyBody(body.toString('utf8'));
    if (!isObject(document)) throw badRequest(`${type} patch: the patch must be a JSON object`);
    return { type, document, duplicateKeys };
  }
  const document = parseJson(body);
  if (type === 'json' && !Array.isArray(document)) throw badRequest('json patch: the patch must be a JSON array of operations');
  if (type !== 'json' && !isObject(document)) throw badRequest(`${type} patch: the patch must be a JSON object`);
  return { type, document };
}

/**
 * An apply body (YAML or JSON). Repeated keys are allowed (the last wins) and reported separately, since
 * upstream decodes leniently and only fieldValidation Strict/Warn turn them into an error or warnings.
 */
function parseApplyBody(text: string): { document: unknown; duplicateKeys: string[] } {
  return parseYamlLeniently(text, 'error decoding YAML');
}

/** The strict-decoding message upstream gives for repeated keys in an apply body. */
export function duplicateKeysMessage(duplicateKeys: string[]): string {
  return `error converting YAML to JSON: yaml: unmarshal errors:\n${duplicateKeys.map((line) => `  ${line}`).join('\n')}`;
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
    // The document is patched in place, so `current` is the state the failing operation saw.
    const message = jsonPatchErrorMessage(error, current);
    // Upstream wraps the json-patch library's error in a generic 422 (NewGenericServerResponse), so the
    // detail is only in the cause, and kubectl prints "The request is invalid".
    throw new StatusError(422, 'Invalid', 'the server rejected our request due to an error in our request', {
      causes: [{ reason: 'UnexpectedServerResponse', message }],
    });
  }
}

/** The message evanphx/json-patch v4 (upstream's library) gives for the failure fast-json-patch reports. */
function jsonPatchErrorMessage(error: unknown, document: unknown): string {
  const name = (error as { name?: string }).name ?? '';
  const operation = (error as { operation?: { op?: string; path?: string; from?: string } }).operation ?? {};
  const op = operation.op ?? '';
  const path = operation.path ?? '';
  const parts = path.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  const parentExists = isContainer(resolvePointer(document, parts.slice(0, -1)));
  switch (name) {
    case 'TEST_OPERATION_FAILED':
      return `testing value ${path} failed: test failed`;
    case 'OPERATION_OP_INVALID':
      return `Unexpected kind: ${op}`;
    case 'OPERATION_PATH_CANNOT_ADD':
      return `add operation does not apply: doc is missing path: "${path}": missing value`;
    case 'OPERATION_FROM_UNRESOLVABLE':
      return `${op} operation does not apply: doc is missing from path: ${operation.from ?? ''}: missing value`;
    case 'OPERATION_PATH_UNRESOLVABLE':
      if (op === 'replace') return `replace operation does not apply: doc is missing ${parentExists ? 'key' : 'path'}: ${path}: missing value`;
      if (op === 'remove') {
        if (!parentExists) return `remove operation does not apply: doc is missing path: "${path}": missing value`;
        return `error in remove for path: '${path}': Unable to remove nonexistent key: ${parts[parts.length - 1]}: missing value`;
      }
      break;
  }
  if (op === 'test' && !parentExists) return `test operation does not apply: is missing path: ${path}: missing value`;
  return `jsonpatch ${op} operation failed: ${(error as Error).message}`;
}

function resolvePointer(document: unknown, parts: string[]): unknown {
  let node = document;
  for (const part of parts) {
    if (Array.isArray(node)) node = node[Number(part)];
    else if (isObject(node)) node = node[part];
    else return undefined;
  }
  return node;
}

function isContainer(value: unknown): boolean {
  return Array.isArray(value) || isObject(value);
}
