// Request bodies: read with a hard size limit (413 past it), then decode by Content-Type. Nothing here
// trusts the client: every failure is a 4xx Status, never an exception that becomes a 500.

import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { badRequest, requestEntityTooLarge, unsupportedMediaType, StatusError } from './status.js';
import { decodeProtobufObject, isProtobufContentType } from './protobuf.js';
import { jsonDuplicateFields, parseYamlLeniently, yamlDuplicateKeysReport, type StrictDecodeReport } from './strict-decoding.js';

export const DEFAULT_MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limitBytes = DEFAULT_MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    req.resume();
    throw requestEntityTooLarge(limitBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) {
      req.resume();
      throw requestEntityTooLarge(limitBytes);
    }
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

const OBJECT_MEDIA_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];

/**
 * Decodes a create/update body into a plain object. With `strict` (fieldValidation Strict or Warn) repeated
 * keys are looked for too and reported in `strict.report`; either way the last value of a repeated key wins.
 */
export function decodeObjectBody(body: Buffer, contentType: string | undefined, strict?: { report?: StrictDecodeReport }): Record<string, unknown> {
  const media = mediaTypeOf(contentType);
  let decoded: unknown;
  if (media === 'application/json' || media === '') {
    decoded = parseJson(body);
    if (strict) strict.report = jsonDuplicateFields(body.toString('utf8'), decoded);
  } else if (media === 'application/yaml' || media === 'application/x-yaml' || media === 'text/yaml') {
    const { document, duplicateKeys } = parseYamlLeniently(body.toString('utf8'));
    decoded = document;
    // The strict YAML conversion runs before the JSON decoding: its error comes first.
    if (strict && duplicateKeys.length > 0) strict.report = yamlDuplicateKeysReport(duplicateKeys);
  } else if (isProtobufContentType(media)) {
    decoded = decodeProtobufObject(body);
  } else {
    throw unsupportedMediaType(media, OBJECT_MEDIA_TYPES);
  }
  if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded)) {
    throw badRequest("the body of the request must be a single object (got " + describe(decoded) + ')');
  }
  return decoded as Record<string, unknown>;
}

export function parseJson(body: Buffer | string): unknown {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (text.trim() === '') throw badRequest('the request body is empty: an object was expected');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(error as Error).message}`);
  }
}

export function parseYamlBody(body: Buffer | string): unknown {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  try {
    return parseYaml(text, { maxAliasCount: 100 });
  } catch (error) {
    if (error instanceof StatusError) throw error;
    throw badRequest(`error converting YAML to JSON: ${(error as Error).message}`);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
