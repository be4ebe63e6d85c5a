// The merged /openapi/v3 index: the union of every backend's index (v3 is partitioned by group-version, so
// nothing is merged inside documents); each GV document is proxied to the backend that listed it, and its
// hash URL stays the backend's, so caching is end to end.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { cachedDocument, serveCached } from '../apiserver/request/cached-document.js';
import type { OpenApiSource } from './api-service-router.js';
import type { ProxyTarget } from './remote-discovery.js';

export class MergedOpenApi {
  private owners = new Map<string, ProxyTarget>();
  private paths: Record<string, { serverRelativeURL: string }> = {};
  private index = cachedDocument('{"paths":{}}', 'application/json');

  constructor(private readonly sources: () => OpenApiSource[]) {}

  rebuild(): void {
    const owners = new Map<string, ProxyTarget>();
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const source of this.sources()) {
      if (owners.has(source.key)) continue;
      owners.set(source.key, source.target);
      paths[source.key] = { serverRelativeURL: source.serverRelativeURL };
    }
    this.owners = owners;
    this.paths = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b)));
    this.index = cachedDocument(JSON.stringify({ paths: this.paths }), 'application/json');
  }

  /** Every group-version document: its index key, hash URL and the server that owns it. */
  entries(): [string, { url: string; target: ProxyTarget }][] {
    return Object.entries(this.paths).map(([key, entry]) => [key, { url: entry.serverRelativeURL, target: this.owners.get(key)! }]);
  }

  targetFor(key: string): ProxyTarget | undefined {
    return this.owners.get(key.replace(/\/+$/, ''));
  }

  serveIndex(req: IncomingMessage, res: ServerResponse): void {
    serveCached(req, res, this.index);
  }
}
