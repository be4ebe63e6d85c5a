// Documents served from precomputed bytes (discovery, OpenAPI): a strong ETag, 304 on If-None-Match, and
// the body written once with its length.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';

export interface CachedDocument {
  bytes: string | Buffer;
  etag: string;
  contentType: string;
}

/** Upstream's ETag: the quoted uppercase hex SHA-512 of the document. */
export function etagOf(bytes: string | Buffer): string {
  return `"${createHash('sha512').update(bytes).digest('hex').toUpperCase()}"`;
}

export function cachedDocument(bytes: string | Buffer, contentType: string): CachedDocument {
  return { bytes, etag: etagOf(bytes), contentType };
}

export function serveCached(req: IncomingMessage, res: ServerResponse, document: CachedDocument, headers: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('ETag', document.etag);
  if (req.headers['if-none-match'] === document.etag) {
    res.statusCode = 304;
    res.end();
    return;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', document.contentType);
  res.setHeader('Content-Length', Buffer.byteLength(document.bytes));
  res.end(req.method === 'HEAD' ? undefined : document.bytes);
}
