// Open watches by what they watch (upstream's watchTracker): a change to an object reaches the watches of
// its whole resource, of its namespace and of its name, and their number prices the change's fan-out. Pods
// are indexed by spec.nodeName in the watch cache, so a pod watch pinned to a node (a kubelet's) is not
// counted, as upstream approximates it.

import type { RequestInfo } from '../request/request-info.js';

const INDEXED_FIELDS: Record<string, string> = { pods: 'spec.nodeName' };

function pinnedValue(fieldSelector: string, field: string): string | undefined {
  for (const requirement of fieldSelector.split(',')) {
    const match = /^\s*([^=!\s]+)\s*==?\s*(.*?)\s*$/.exec(requirement);
    if (match && match[1] === field) return match[2];
  }
  return undefined;
}

export class WatchTracker {
  private readonly counts = new Map<string, number>();

  /** Counts a watch until the returned function is called. */
  register(info: RequestInfo, query: URLSearchParams | undefined): () => void {
    if (info.verb !== 'watch') return () => undefined;
    const indexed = INDEXED_FIELDS[info.resource];
    if (indexed) {
      const value = pinnedValue(query?.get('fieldSelector') ?? '', indexed);
      if (value !== undefined && value !== '') return () => undefined;
    }
    // A watch of one name by field selector watches that object (upstream's request info names it).
    const name = info.name || pinnedValue(query?.get('fieldSelector') ?? '', 'metadata.name') || '';
    const key = `${info.apiGroup}/${info.resource}/${info.namespace}/${name}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    let forgotten = false;
    return () => {
      if (forgotten) return;
      forgotten = true;
      const left = (this.counts.get(key) ?? 1) - 1;
      if (left <= 0) this.counts.delete(key);
      else this.counts.set(key, left);
    };
  }

  /** Watches interested in a change made by this (mutating) request. */
  interested(info: RequestInfo): number {
    if (this.counts.size === 0) return 0;
    const resource = `${info.apiGroup}/${info.resource}/`;
    let count = this.counts.get(`${resource}/`) ?? 0;
    if (info.namespace) count += this.counts.get(`${resource}${info.namespace}/`) ?? 0;
    if (info.name) count += this.counts.get(`${resource}${info.namespace}/${info.name}`) ?? 0;
    return count;
  }
}
