// A list-watch mirror of one resource on an API server (client-go's informer, minimal): list, then watch
// from the list's resourceVersion with bookmarks, re-watch from the last seen version when the stream ends,
// and re-list after 410 Expired or an error. The aggregator uses it for Services and Endpoints (resolving an
// APIService's endpoint is a map lookup, not a request); extension servers for the objects they serve about.

import type https from 'node:https';
import type { KubeObject } from '../registry/object.js';
import { getText } from './http.js';
import { openWatchStream } from './watch-stream.js';

export interface InformerSource {
  url: string;
  agent: https.Agent;
  /** Sent with every request (the aggregator's own identity headers towards its backends). */
  headers?: Record<string, string>;
}

export class Informer {
  private readonly objects = new Map<string, KubeObject>();
  private resourceVersion = '';
  private stopped = false;
  private closeStream: (() => void) | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  synced = false;
  lastError: string | undefined;

  constructor(
    private readonly source: () => InformerSource | undefined,
    /** Collection path, e.g. /api/v1/services */
    private readonly path: string,
    private readonly onChange: (type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubeObject) => void = () => undefined,
    /** Metadata only (PartialObjectMetadata), for mirrors that need no more than names and uids. */
    private readonly metadataOnly = false,
  ) {}

  get(namespace: string, name: string): KubeObject | undefined {
    return this.objects.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): KubeObject[] {
    return [...this.objects.values()];
  }

  start(): void {
    void this.relist();
  }

  stop(): void {
    this.stopped = true;
    this.closeStream?.();
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  private key(object: KubeObject): string {
    return object.metadata.namespace ? `${object.metadata.namespace}/${object.metadata.name}` : object.metadata.name ?? '';
  }

  private retry(action: () => void, delayMs = 1000): void {
    if (this.stopped) return;
    this.retryTimer = setTimeout(action, delayMs);
    this.retryTimer.unref();
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    const source = this.source();
    if (!source) return this.retry(() => void this.relist());
    try {
      const result = await getText(source.url, source.agent, this.path, { ...source.headers, Accept: this.metadataOnly ? 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1' : 'application/json' });
      if (result.status !== 200) throw new Error(`list ${this.path}: ${result.status}`);
      const list = JSON.parse(result.body) as { metadata: { resourceVersion: string }; items: KubeObject[] };
      const seen = new Set<string>();
      for (const item of list.items) {
        const key = this.key(item);
        seen.add(key);
        const existed = this.objects.has(key);
        this.objects.set(key, item);
        this.onChange(existed ? 'MODIFIED' : 'ADDED', item);
      }
      for (const [key, object] of [...this.objects]) {
        if (!seen.has(key)) {
          this.objects.delete(key);
          this.onChange('DELETED', object);
        }
      }
      this.resourceVersion = list.metadata.resourceVersion;
      this.synced = true;
      this.lastError = undefined;
      this.watch(source);
    } catch (error) {
      this.lastError = (error as Error).message;
      this.retry(() => void this.relist());
    }
  }

  private watch(source: InformerSource): void {
    if (this.stopped) return;
    const path = `${this.path}${this.path.includes('?') ? '&' : '?'}watch=true&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(this.resourceVersion)}&timeoutSeconds=300`;
    this.closeStream = openWatchStream(source.url, source.agent, path, {
      onEvent: (type, object) => {
        if (type === 'ERROR') {
          // 410 Expired (or any error): start over with a fresh list.
          this.closeStream?.();
          this.retry(() => void this.relist(), 0);
          return;
        }
        const resourceVersion = object.metadata?.resourceVersion;
        if (resourceVersion) this.resourceVersion = resourceVersion;
        if (type === 'BOOKMARK') return;
        const key = this.key(object);
        if (type === 'DELETED') this.objects.delete(key);
        else this.objects.set(key, object);
        this.onChange(type, object);
      },
      onEnd: (error) => {
        if (this.stopped) return;
        if (error) {
          this.lastError = error.message;
          this.retry(() => void this.relist());
        } else {
          this.retry(() => this.watch(source), 0);
        }
      },
    }, { ...source.headers, Accept: this.metadataOnly ? 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1' : 'application/json' });
  }
}
