// /openapi/v3 and /openapi/v3/<gv> (kube-openapi's handler3 behaviour): per-GV documents built lazily and
// cached as bytes with their SHA-512 hash; `?hash=` current → immutable caching, stale → 301, ETag/304.
// /openapi/v2 answers 406 to kubectl's protobuf-only Accept (it then falls back) and 404 otherwise.

import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GroupVersionResources } from '../discovery/documents.js';
import { buildOpenApiV3, openApiPathKey } from '../openapi/v3.js';
import type { JSONSchema } from '../schema/types.js';
import type { ResourceDefinition } from '../registry/resource.js';
import { notAcceptable, pathNotFound } from '../request/status.js';
import { writeStatusError } from '../request/response.js';
import { cachedDocument, serveCached } from '../request/cached-document.js';

interface Document {
  bytes: string;
  hash: string;
}

export class OpenApiEndpoints {
  private readonly documents = new Map<string, Document>();
  definitions: Record<string, JSONSchema> = {};
  strategicMerge: (resource: ResourceDefinition) => boolean = () => false;

  invalidate(group: string, version: string): void {
    this.documents.delete(openApiPathKey(group, version));
  }

  private document(gv: GroupVersionResources): Document {
    const key = openApiPathKey(gv.group, gv.version);
    let document = this.documents.get(key);
    if (!document) {
      const bytes = JSON.stringify(buildOpenApiV3({ group: gv.group, version: gv.version, resources: gv.resources, definitions: this.definitions, strategicMerge: this.strategicMerge }));
      document = { bytes, hash: createHash('sha512').update(bytes).digest('hex').toUpperCase() };
      this.documents.set(key, document);
    }
    return document;
  }

  /** The /openapi/v3 index entries (also read directly by an in-process aggregator). */
  indexPaths(gvs: GroupVersionResources[]): Record<string, { serverRelativeURL: string }> {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const gv of gvs) {
      const key = openApiPathKey(gv.group, gv.version);
      paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${this.document(gv).hash}` };
    }
    return paths;
  }

  /** The bytes of one group-version document, by its index key (e.g. `api/v1`). */
  documentBytes(key: string, gvs: GroupVersionResources[]): string | undefined {
    const gv = gvs.find((candidate) => openApiPathKey(candidate.group, candidate.version) === key);
    return gv ? this.document(gv).bytes : undefined;
  }

  async serve(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, gvs: GroupVersionResources[]): Promise<boolean> {
    if (path === '/openapi/v2' || path === '/openapi/v2/') {
      const accept = req.headers.accept ?? '';
      if (accept.includes('protobuf') && !accept.includes('json')) writeStatusError(res, notAcceptable(['application/json']));
      else writeStatusError(res, pathNotFound());
      return true;
    }
    if (path === '/openapi/v3' || path === '/openapi/v3/') {
      serveCached(req, res, cachedDocument(JSON.stringify({ paths: this.indexPaths(gvs) }), 'application/json'));
      return true;
    }
    const match = /^\/openapi\/v3\/(.+?)\/?$/.exec(path);
    if (!match) return false;
    const gv = gvs.find((candidate) => openApiPathKey(candidate.group, candidate.version) === match[1]);
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
