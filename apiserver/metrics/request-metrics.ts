// Per-request metrics as upstream's endpoints/metrics records them: apiserver_request_total and
// apiserver_request_duration_seconds (not for WATCH and CONNECT, whose duration is the stream's life),
// the in-flight gauge by request kind and the long-running gauge.

import type { IncomingMessage } from 'node:http';
import type { RequestInfo } from '../request/request-info.js';
import { requestMetrics } from './registry.js';

const CONNECT_SUBRESOURCES = new Set(['proxy', 'exec', 'attach', 'portforward']);

const VERBS: Record<string, string> = { get: 'GET', list: 'LIST', watch: 'WATCH', create: 'POST', update: 'PUT', patch: 'PATCH', delete: 'DELETE', deletecollection: 'DELETE' };

/** Upstream's reported verb: LIST, WATCH, APPLY and CONNECT where they apply, else the HTTP method. */
export function reportedVerb(req: IncomingMessage, info: RequestInfo): string {
  if (!info.isResourceRequest) return (req.method ?? 'GET').toUpperCase();
  if (info.subresource && CONNECT_SUBRESOURCES.has(info.subresource)) return 'CONNECT';
  if (info.verb === 'patch' && req.headers['content-type'] === 'application/apply-patch+yaml') return 'APPLY';
  return VERBS[info.verb] ?? (req.method ?? 'GET').toUpperCase();
}

/** Upstream's scope label: resource (named or create), namespace, cluster, or "" off the API. */
export function reportedScope(info: RequestInfo): string {
  if (!info.isResourceRequest) return '';
  if (info.name || info.verb === 'create') return 'resource';
  if (info.namespace) return 'namespace';
  return 'cluster';
}

// Label names in alphabetical order: the text format then lists them as Go's client does.
export interface RequestLabels {
  component: string;
  dry_run: string;
  group: string;
  resource: string;
  scope: string;
  subresource: string;
  verb: string;
  version: string;
}

export function requestLabels(req: IncomingMessage, info: RequestInfo, query: URLSearchParams): RequestLabels {
  const dryRun = query.getAll('dryRun').filter(Boolean).sort().join(',');
  return {
    component: 'apiserver',
    dry_run: dryRun,
    group: info.apiGroup,
    resource: info.resource,
    scope: reportedScope(info),
    subresource: info.subresource,
    verb: reportedVerb(req, info),
    version: info.apiVersion,
  };
}

/** Records a finished request. */
export function recordRequest(labels: RequestLabels, code: number, seconds: number): void {
  requestMetrics.total.inc({ code: String(code), ...labels });
  if (labels.verb !== 'WATCH' && labels.verb !== 'CONNECT') requestMetrics.duration.observe(labels, seconds);
}

/** Counts a long-running request while it lasts; returns the call that ends it. */
export function trackLongRunning(labels: RequestLabels): () => void {
  const gaugeLabels = { component: labels.component, group: labels.group, resource: labels.resource, scope: labels.scope, subresource: labels.subresource, verb: labels.verb, version: labels.version };
  requestMetrics.longRunning.inc(gaugeLabels);
  return () => requestMetrics.longRunning.dec(gaugeLabels);
}

/** Counts a request in flight by kind (readOnly or mutating); returns the call that ends it. */
export function trackInflight(mutating: boolean): () => void {
  const labels = { request_kind: mutating ? 'mutating' : 'readOnly' };
  requestMetrics.inflight.inc(labels);
  return () => requestMetrics.inflight.dec(labels);
}
