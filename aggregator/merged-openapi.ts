// The merged /openapi/v3 index: the union of every backend's index (v3 is partitioned by group-version, so
// nothing is merged inside documents); each GV document is proxied to the backend that listed it, and its
// hash URL stays the backend's, so caching is end to end. Sources change with every CRD; the index is
// assembled only when it is next used, so a burst of changes costs one assembly, not one per change.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { cachedDocument, serveCached, type CachedDocument } from '../apiserver/request/cached-document.js';
import type { OpenApiSource } from './api-service-router.js';
import type { ProxyTarget } from './remote-discovery.js';

interface Assembled {
  owners: Map<string, ProxyTarget>;
  paths: Record<string, { serverRelativeURL: string }>;
  index?: CachedDocument;
}

export class MergedOpenApi {
  private assembled: Assembled | undefined;

  constructor(private readonly sources: () => OpenApiSource[]) {}

  /** The sources may have changed: the next use assembles the index again. */
  rebuild(): void {
    this.assembled = undefined;
  }

  private current(): Assembled {
    if (!this.assembled) {
      const owners = new Map<string, ProxyTarget>();
      const paths: Record<string, { serverRelativeURL: string }> = {};
      for (const source of this.sources()) {
        if (owners.has(source.key)) continue;
        owners.set(source.key, source.target);
        paths[source.key] = { serverRelativeURL: source.serverRelativeURL };
      }
      const sorted = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      this.assembled = { owners, paths: sorted };
    }
    return this.assembled;
  }

  /** Every group-version document: its index key, hash URL and the server that owns it. */
  entries(): [string, { url: string; target: ProxyTarget }][] {
    const { paths, owners } = this.current();
    return Object.entries(paths).map(([key, entry]) => [key, { url: entry.serverRelativeURL, target: owners.get(key)! }]);
  }

  targetFor(key: string): ProxyTarget | undefined {
    return this.current().owners.get(key.replace(/\/+$/, ''));
  }

  serveIndex(req: IncomingMessage, res: ServerResponse): void {
    const assembled = this.current();
    assembled.index ??= cachedDocument(JSON.stringify({ paths: assembled.paths }), 'application/json');
    serveCached(req, res, assembled.index);
  }
}
