// node-agent: a kubelet-like agent for this host (and, for scale tests, simulated nodes beside it). It
// registers Nodes, keeps their status and Leases fresh, runs bound pods on a simulated runtime (no
// containers are started), serves kubelet's /metrics/resource for each node, and — with --scheduler —
// binds unscheduled pods to the least-loaded ready node.

import { readFileSync } from 'node:fs';
import { readFlags } from '../apiserver/server/options.js';
import type { FlagSpec } from '../apiserver/server/flags.js';
import { numberFlag, stringFlag } from '../apiserver/server/flags.js';
import { KubeClient } from '../apiserver/client/kube-client.js';
import { defaultNodeName } from './host.js';
import { startNodeAgent } from './agent.js';

const FLAGS: FlagSpec[] = [
  { name: 'kubeconfig', type: 'string', description: 'Kubeconfig with the credentials the agent uses against the API (required).' },
  { name: 'node-name', type: 'string', description: "Name of this host's Node (default: the host name)." },
  { name: 'port', type: 'number', default: 10250, description: "Port of this host's kubelet endpoint (/metrics/resource) on 127.0.0.1; 0 picks a free one." },
  { name: 'tls-cert-file', type: 'string', description: 'Serving certificate of the kubelet endpoints (required).' },
  { name: 'tls-private-key-file', type: 'string', description: 'Key of the serving certificate (required).' },
  { name: 'client-ca-file', type: 'string', description: 'CA whose client certificates may scrape the kubelet endpoints (required).' },
  { name: 'simulated-nodes', type: 'number', default: 0, description: 'Also run this many simulated nodes (sim-node-1 …), each with its own endpoint.' },
  { name: 'simulated-node-cpu', type: 'number', default: 4, description: 'CPU cores of each simulated node.' },
  { name: 'simulated-node-memory-gib', type: 'number', default: 16, description: 'Memory of each simulated node, in GiB.' },
  { name: 'heartbeat-seconds', type: 'number', default: 10, description: 'How often Node status and Leases are renewed.' },
  { name: 'scheduler', type: 'boolean', default: false, description: 'Bind unscheduled pods (schedulerName default-scheduler) to the least-loaded ready node.' },
];

const values = readFlags(process.argv.slice(2), 'node-agent', 'node-agent registers this host as a Node, reports its pods and serves kubelet-style resource metrics.', FLAGS);
const required = (name: string) => {
  const value = stringFlag(values, name);
  if (!value) {
    process.stderr.write(`Error: --${name} is required\n`);
    process.exit(2);
  }
  return value;
};
const client = KubeClient.fromKubeconfig(required('kubeconfig'));
const tls = { cert: readFileSync(required('tls-cert-file'), 'utf8'), key: readFileSync(required('tls-private-key-file'), 'utf8'), clientCa: readFileSync(required('client-ca-file'), 'utf8') };
const running = await startNodeAgent({
  client,
  tls,
  nodeName: stringFlag(values, 'node-name') ?? defaultNodeName(),
  port: numberFlag(values, 'port') ?? 10250,
  simulatedNodes: numberFlag(values, 'simulated-nodes') ?? 0,
  simulatedNodeCores: numberFlag(values, 'simulated-node-cpu') ?? 4,
  simulatedNodeMemoryBytes: (numberFlag(values, 'simulated-node-memory-gib') ?? 16) * 2 ** 30,
  heartbeatMs: (numberFlag(values, 'heartbeat-seconds') ?? 10) * 1000,
  scheduler: values.scheduler === true,
});

const stop = () => {
  running.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
