// sample-extension: metrics.k8s.io on the framework. Node and pod metrics are read-only resources kept in
// memory; the node agents that feed them arrive with the metrics issue, so until then lists are empty
// (and `kubectl top` says "metrics not available yet", as metrics-server does before its first scrape).

import { GENERIC_FLAGS, createGenericServer, readFlags, runGenericServer } from '../apiserver/server/options.js';
import { MemoryStorage } from '../apiserver/storage/memory.js';
import { nodeMetrics, podMetrics } from './resources.js';

const values = readFlags(process.argv.slice(2), 'sample-extension', 'sample-extension serves metrics.k8s.io (NodeMetrics, PodMetrics) for kubectl top.', [...GENERIC_FLAGS]);
const generic = createGenericServer('sample-extension', { ...values, 'storage-backend': 'memory' });
const metrics = new MemoryStorage();
for (const definition of [nodeMetrics, podMetrics]) generic.server.addResource({ definition, storage: metrics });
await runGenericServer(generic);
