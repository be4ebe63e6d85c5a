// GET /metrics: the registry in Prometheus text format 0.0.4. Authorized before it gets here like any
// non-resource URL (system:masters, or an RBAC rule with nonResourceURLs ["/metrics"]).

import type { ServerResponse } from 'node:http';
import { registry } from './registry.js';

export async function serveMetrics(res: ServerResponse, method: string): Promise<void> {
  const text = await registry.metrics();
  const body = Buffer.from(text);
  res.statusCode = 200;
  res.setHeader('Content-Type', registry.contentType);
  res.setHeader('Content-Length', body.length);
  res.end(method === 'HEAD' ? undefined : body);
}
