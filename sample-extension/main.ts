// sample-extension process: flags → the server → listen.

import { GENERIC_FLAGS, createGenericServer, readFlags, runGenericServer } from '../apiserver/server/options.js';
import { createSampleExtension, METRICS_FLAGS } from './server.js';

const values = readFlags(process.argv.slice(2), 'sample-extension', 'sample-extension serves metrics.k8s.io (NodeMetrics, PodMetrics) for kubectl top, scraping kubelet /metrics/resource endpoints.', [...GENERIC_FLAGS, ...METRICS_FLAGS]);
const generic = createGenericServer('sample-extension', { ...values, 'storage-backend': 'memory' });
const extension = createSampleExtension(generic);
await extension.start();
await runGenericServer(generic, () => extension.stop());
