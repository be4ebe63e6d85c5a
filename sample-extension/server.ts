// sample-extension: metrics.k8s.io on the framework — the whole wiring of an extension API server. Node and
// Pod metrics come from scraping each Node's kubelet endpoint; they are served from memory, with Node and
// Pod labels from informers on the API, so `kubectl top` works as with metrics-server.

import { readFileSync } from 'node:fs';
import type { FlagSpec } from '../apiserver/server/flags.js';
import { listFlag, numberFlag, stringFlag } from '../apiserver/server/flags.js';
import type { GenericServer } from '../apiserver/server/options.js';
import { MemoryStorage } from '../apiserver/storage/memory.js';
import { KubeClient } from '../apiserver/client/kube-client.js';
import { metricsResources } from './resources.js';
import { Scraper } from './scraper.js';
import { nodeMetricsObject, podMetricsObject, StoredSet } from './metrics-objects.js';
import { addSelfChecks } from './self-check.js';

export const METRICS_FLAGS: FlagSpec[] = [
  { name: 'kubeconfig', type: 'string', description: 'Kubeconfig for reading Nodes and Pods from the API (default: --authentication-kubeconfig).' },
  { name: 'metric-resolution', type: 'number', default: 15, description: 'Seconds between scrapes of the kubelets.' },
  { name: 'kubelet-preferred-address-types', type: 'list', default: ['InternalIP', 'ExternalIP', 'Hostname'], description: 'Node address types to reach kubelets by, in order.' },
  { name: 'kubelet-certificate-authority', type: 'string', description: 'CA that signed the kubelet serving certificates.' },
  { name: 'kubelet-client-certificate', type: 'string', description: 'Client certificate presented to kubelets.' },
  { name: 'kubelet-client-key', type: 'string', description: 'Key of --kubelet-client-certificate.' },
  { name: 'kubelet-insecure-tls', type: 'boolean', default: false, description: 'Do not verify kubelet serving certificates (tests only).' },
];

export function createSampleExtension(generic: GenericServer): { start(): Promise<void>; stop(): void } {
  const { server, values } = generic;
  const file = (name: string) => (stringFlag(values, name) ? readFileSync(stringFlag(values, name)!, 'utf8') : undefined);
  // Nodes and Pods are read from the API named by --kubeconfig, else the one that authenticates for us.
  const kubeconfig = stringFlag(values, 'kubeconfig') ?? stringFlag(values, 'authentication-kubeconfig');
  if (!kubeconfig) throw new Error('--kubeconfig (or --authentication-kubeconfig) is required: the API server to read Nodes and Pods from');
  const client = KubeClient.fromKubeconfig(kubeconfig);
  const nodes = client.informer('/api/v1/nodes');
  const pods = client.informer('/api/v1/pods');
  const storage = new MemoryStorage();
  const stored = metricsResources('v1beta1', { node: (name) => nodes.get('', name), pod: (namespace, name) => pods.get(namespace, name) }).map((definition) => {
    const store = server.addResource({ definition, storage })!;
    return new StoredSet(storage, store);
  });
  const scraper = new Scraper(() => nodes.list(), {
    resolutionMs: (numberFlag(values, 'metric-resolution') ?? 15) * 1000,
    addressTypes: listFlag(values, 'kubelet-preferred-address-types'),
    tls: { ca: file('kubelet-certificate-authority'), cert: file('kubelet-client-certificate'), key: file('kubelet-client-key'), insecure: values['kubelet-insecure-tls'] === true },
  }, () => {
    // Only Running pods that the API knows, as metrics-server reports them.
    const running = [...scraper.podPoints.values()].filter((point) => (pods.get(point.namespace, point.name)?.status as { phase?: string } | undefined)?.phase === 'Running');
    void Promise.all([
      stored[0].replace([...scraper.nodePoints.values()].map((point) => nodeMetricsObject(point, nodes.get('', point.name), 'metrics.k8s.io/v1beta1'))),
      stored[1].replace(running.map((point) => podMetricsObject(point, pods.get(point.namespace, point.name), 'metrics.k8s.io/v1beta1'))),
    ]).catch((error: Error) => console.error(`[sample-extension] storing metrics: ${error.message}`));
  });
  addSelfChecks(server.health, scraper, { nodes, pods }, () => (server.options.authentication.requestHeader ? 'trusted' : server.port === 0 ? 'in-process' : 'missing'));
  return {
    start: async () => {
      nodes.start();
      pods.start();
      scraper.start();
      await server.startCaches();
    },
    stop: () => {
      scraper.stop();
      nodes.stop();
      pods.stop();
    },
  };
}
