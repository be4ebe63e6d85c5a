// Writing responses: serialized bytes go out as they are (JSON) or converted once (YAML); errors always as
// a Status; warnings as RFC 7234 Warning headers, which kubectl prints as "Warning: …".

import type { ServerResponse } from 'node:http';
import { stringify as stringifyYaml } from 'yaml';
import type { ObjectFormat } from './negotiation.js';
import type { StatusError } from './status.js';

export function setWarnings(res: ServerResponse, warnings: string[]): void {
  if (warnings.length === 0 || res.headersSent) return;
  const unique = [...new Set(warnings)];
  res.setHeader(
    'Warning',
    unique.map((warning) => `299 - ${quoteWarning(warning)}`),
  );
}

/**
 * The quoted warn-text. Node writes header strings as Latin-1 (and re-encodes them when it sends them
 * together with a string body), so text beyond ASCII goes as an RFC 2047 encoded word, which client-go
 * decodes; control characters, which client-go rejects, become spaces.
 */
function quoteWarning(warning: string): string {
  // eslint-disable-next-line no-control-regex
  const text = warning.replace(/[\x00-\x1f\x7f-\x9f]+/g, ' ');
  // eslint-disable-next-line no-control-regex
  if (/^[\x20-\x7e]*$/.test(text)) return JSON.stringify(text);
  return `"=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?="`;
}

export function writeBytes(res: ServerResponse, statusCode: number, bytes: string, format: ObjectFormat = 'json', method = 'GET'): void {
  let body = bytes;
  let contentType = 'application/json';
  if (format === 'yaml') {
    body = stringifyYaml(JSON.parse(bytes), { lineWidth: 0 });
    contentType = 'application/yaml';
  }
  res.statusCode = statusCode;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Cache-Control', 'no-cache, private');
  // One UTF-8 encoding pass: measuring the length first would scan a large list twice.
  const encoded = Buffer.from(body);
  res.setHeader('Content-Length', encoded.length);
  res.end(method === 'HEAD' ? undefined : encoded);
}

export function writeJson(res: ServerResponse, statusCode: number, value: unknown, format: ObjectFormat = 'json'): void {
  writeBytes(res, statusCode, JSON.stringify(value), format);
}

export function writeStatusError(res: ServerResponse, error: StatusError, format: ObjectFormat = 'json'): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const [name, value] of Object.entries(error.headers ?? {})) res.setHeader(name, value);
  writeJson(res, error.code, error.toStatus(), format);
}
