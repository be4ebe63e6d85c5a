// The merged /openapi/v3 index: the union of every backend's index (v3 is partitioned by group-version, so
// nothing is merged inside documents); each GV document is proxied to the backend that listed it, and its
// hash URL stays the backend's, so caching is end to end.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { etagOf } from '../apiserver/discovery/documents.js';
import type { Backend } from './backend.js';

export class MergedOpenApi {
  private owners = new Map<string, Backend>();
  private paths: Record<string, { serverRelativeURL: string }> = {};
  private index = { bytes: '{"paths":{}}', etag: etagOf('{"paths":{}}') };

  constructor(private readonly backends: Backend[]) {}

  rebuild(): void {
    const owners = new Map<string, Backend>();
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const backend of this.backends) {
      for (const [key, entry] of Object.entries(backend.openapiPaths)) {
        if (owners.has(key)) continue;
        owners.set(key, backend);
        paths[key] = entry;
      }
    }
    this.owners = owners;
    this.paths = paths;
    const bytes = JSON.stringify({ paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))) });
    this.index = { bytes, etag: etagOf(bytes) };
  }

  /** Every group-version document: its index key, hash URL and owning backend. */
  entries(): [string, { url: string; backend: Backend }][] {
    return Object.entries(this.paths)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, entry]) => [key, { url: entry.serverRelativeURL, backend: this.owners.get(key)! }]);
  }

  backendFor(key: string): Backend | undefined {
    return this.owners.get(key.replace(/\/+$/, ''));
  }

  serveIndex(req: IncomingMessage, res: ServerResponse): void {
    res.setHeader('Etag', this.index.etag);
    if (req.headers['if-none-match'] === this.index.etag) {
      res.statusCode = 304;
      res.end();
      return;
    }
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/json');
    res.end(this.index.bytes);
  }
}
