// /openapi/v3 and /openapi/v3/<gv> (kube-openapi's handler3 behaviour): per-GV documents with their SHA-512
// hash; `?hash=` current → immutable caching, stale → 301, ETag/304.
// /openapi/v2 answers 406 to kubectl's protobuf-only Accept (it then falls back) and 404 otherwise.
//
// With hundreds of CRDs every group-version's document (~90 KB: it carries ObjectMeta and the other shared
// definitions) would cost more memory than everything else a CRD needs, so only each document's hash is
// kept (the index needs it) and the bytes of the most recently used ones, within a byte budget; any other
// is rebuilt when asked for (the same declarations give the same bytes, so the hash stays valid). A change
// of one group-version rebuilds only that one document; the index is rebuilt once per change. Kept
// documents are UTF-8 Buffers: a string with one non-Latin-1 character takes two bytes per character.

import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GroupVersionResources } from '../discovery/documents.js';
import { buildOpenApiV3, openApiPathKey } from '../openapi/v3.js';
import type { JSONSchema } from '../schema/types.js';
import type { ResourceDefinition } from '../registry/resource.js';
import { notAcceptable, pathNotFound } from '../request/status.js';
import { writeStatusError } from '../request/response.js';
import { cachedDocument, serveCached, type CachedDocument } from '../request/cached-document.js';

/** Bytes of recently used documents kept (core's largest, api/v1, fits several times). */
const DOCUMENT_CACHE_BYTES = 4 * 1024 * 1024;

export class OpenApiEndpoints {
  private readonly hashes = new Map<string, string>();
  /** Recently used documents, least recently used first. */
  private readonly recent = new Map<string, Buffer>();
  private recentBytes = 0;
  private index: { paths: Record<string, { serverRelativeURL: string }>; document: CachedDocument } | undefined;
  definitions: Record<string, JSONSchema> = {};
  strategicMerge: (resource: ResourceDefinition) => boolean = () => false;

  /** Bytes of the documents kept now (at most DOCUMENT_CACHE_BYTES beyond the one last used). */
  get keptBytes(): number {
    return this.recentBytes;
  }

  invalidate(group: string, version: string): void {
    const key = openApiPathKey(group, version);
    this.hashes.delete(key);
    this.forget(key);
    this.index = undefined;
  }

  private forget(key: string): void {
    const bytes = this.recent.get(key);
    if (bytes === undefined) return;
    this.recent.delete(key);
    this.recentBytes -= bytes.length;
  }

  private remember(key: string, bytes: Buffer): void {
    this.forget(key);
    this.recent.set(key, bytes);
    this.recentBytes += bytes.length;
    for (const [oldest, oldBytes] of this.recent) {
      if (this.recentBytes <= DOCUMENT_CACHE_BYTES || oldest === key) break;
      this.recent.delete(oldest);
      this.recentBytes -= oldBytes.length;
    }
  }

  private build(gv: GroupVersionResources): string {
    return JSON.stringify(buildOpenApiV3({ group: gv.group, version: gv.version, resources: gv.resources, definitions: this.definitions, strategicMerge: this.strategicMerge }));
  }

  private hash(gv: GroupVersionResources): string {
    const key = openApiPathKey(gv.group, gv.version);
    let hash = this.hashes.get(key);
    if (hash === undefined) {
      const bytes = this.build(gv);
      hash = createHash('sha512').update(bytes).digest('hex').toUpperCase();
      this.hashes.set(key, hash);
      this.remember(key, Buffer.from(bytes));
    }
    return hash;
  }

  private document(gv: GroupVersionResources): { bytes: Buffer; hash: string } {
    const key = openApiPathKey(gv.group, gv.version);
    let hash = this.hash(gv);
    let bytes = this.recent.get(key);
    if (bytes === undefined) {
      bytes = Buffer.from(this.build(gv));
      // Rebuilt from the same declarations it is the same document; should anything it depends on have
      // changed without an invalidation, the index follows the bytes served.
      const rebuiltHash = createHash('sha512').update(bytes).digest('hex').toUpperCase();
      if (rebuiltHash !== hash) {
        hash = rebuiltHash;
        this.hashes.set(key, hash);
        this.index = undefined;
      }
    }
    this.remember(key, bytes);
    return { bytes, hash };
  }

  private currentIndex(gvs: GroupVersionResources[]): NonNullable<OpenApiEndpoints['index']> {
    if (!this.index) {
      const paths: Record<string, { serverRelativeURL: string }> = {};
      for (const gv of gvs) {
        const key = openApiPathKey(gv.group, gv.version);
        paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${this.hash(gv)}` };
      }
      this.index = { paths, document: cachedDocument(JSON.stringify({ paths }), 'application/json') };
    }
    return this.index;
  }

  /** The /openapi/v3 index entries (also read directly by an in-process aggregator; do not modify). */
  indexPaths(gvs: GroupVersionResources[]): Record<string, { serverRelativeURL: string }> {
    return this.currentIndex(gvs).paths;
  }

  /** The bytes of one group-version document, by its index key (e.g. `api/v1`). */
  documentBytes(key: string, gvs: GroupVersionResources[]): string | undefined {
    const gv = gvs.find((candidate) => openApiPathKey(candidate.group, candidate.version) === key);
    return gv ? this.document(gv).bytes.toString() : undefined;
  }

  async serve(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: URLSearchParams,
    gvs: () => GroupVersionResources[],
    /** One group-version by its index key, without listing them all (hundreds of CRDs); gvs() is searched otherwise. */
    find?: (key: string) => GroupVersionResources | undefined,
  ): Promise<boolean> {
    if (!path.startsWith('/openapi/')) return false;
    if (path === '/openapi/v2' || path === '/openapi/v2/') {
      const accept = req.headers.accept ?? '';
      if (accept.includes('protobuf') && !accept.includes('json')) writeStatusError(res, notAcceptable(['application/json']));
      else writeStatusError(res, pathNotFound());
      return true;
    }
    if (path === '/openapi/v3' || path === '/openapi/v3/') {
      serveCached(req, res, this.currentIndex(gvs()).document);
      return true;
    }
    const match = /^\/openapi\/v3\/(.+?)\/?$/.exec(path);
    if (!match) return false;
    const gv = find ? find(match[1]) : gvs().find((candidate) => openApiPathKey(candidate.group, candidate.version) === match[1]);
    if (!gv) return false;
    const document = this.document(gv);
    const requested = query.get('hash');
    if (requested && requested !== document.hash) {
      res.statusCode = 301;
      res.setHeader('Location', `/openapi/v3/${match[1]}?hash=${document.hash}`);
      res.end();
      return true;
    }
    const headers: Record<string, string> = { Vary: 'Accept' };
    if (requested) {
      // The hash names the content: a client may keep it for good.
      headers['Cache-Control'] = 'public, immutable';
      headers.Expires = new Date(Date.now() + 365 * 24 * 3600 * 1000).toUTCString();
    }
    serveCached(req, res, { bytes: document.bytes, etag: `"${document.hash}"`, contentType: 'application/json' }, headers);
    return true;
  }
}
