// sample-extension: metrics.k8s.io on the framework. Node and pod metrics are read-only resources kept in
// memory; the node agents that feed them arrive with the metrics issue, so until then lists are empty
// (and `kubectl top` says "metrics not available yet", as metrics-server does before its first scrape).

import type { GenericServer } from '../apiserver/server/options.js';
import { MemoryStorage } from '../apiserver/storage/memory.js';
import { nodeMetrics, podMetrics } from './resources.js';

export function createSampleExtension(generic: GenericServer): { start(): Promise<void>; stop(): void } {
  const metrics = new MemoryStorage();
  for (const definition of [nodeMetrics, podMetrics]) generic.server.addResource({ definition, storage: metrics });
  return { start: () => generic.server.startCaches(), stop: () => undefined };
}
