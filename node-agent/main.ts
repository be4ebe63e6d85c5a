// node-agent: a kubelet-like agent for this host (and, for scale tests, simulated nodes beside it). It
// registers Nodes, keeps their status and Leases fresh, runs bound pods on a simulated runtime (no
// containers are started), serves kubelet's /metrics/resource for each node, and — with --scheduler —
// binds unscheduled pods to the least-loaded ready node.

import { readFileSync } from 'node:fs';
import { readFlags } from '../apiserver/server/options.js';
import type { FlagSpec } from '../apiserver/server/flags.js';
import { numberFlag, stringFlag } from '../apiserver/server/flags.js';
import { KubeClient } from '../apiserver/client/kube-client.js';
import { defaultNodeName, hostCpuCount, hostCpuSeconds, hostMemory } from './host.js';
import { NodeAgent } from './node.js';
import { serveResourceMetrics, type NodeUsageSource } from './metrics-endpoint.js';
import { Scheduler } from './scheduler.js';

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
const heartbeatMs = (numberFlag(values, 'heartbeat-seconds') ?? 10) * 1000;
const started = Date.now();

const agents: NodeAgent[] = [];
const closers: (() => void)[] = [];

async function runNode(name: string, cpuCores: number, memoryBytes: number, port: number, podSubnet: number, usage: (agent: () => NodeAgent) => NodeUsageSource['node']): Promise<void> {
  let agent: NodeAgent | undefined;
  const endpoint = await serveResourceMetrics({ port, ...tls }, { pods: () => agent?.runningPods() ?? [], node: usage(() => agent!) });
  closers.push(endpoint.close);
  agent = new NodeAgent(client, { name, cpuCores, memoryBytes, maxPods: 110, kubeletPort: endpoint.port, podSubnet }, heartbeatMs);
  agents.push(agent);
  await agent.start();
  console.log(JSON.stringify({ component: 'node-agent', node: name, kubeletEndpoint: `https://127.0.0.1:${endpoint.port}` }));
}

// This host: real CPU time and memory from /proc.
await runNode(stringFlag(values, 'node-name') ?? defaultNodeName(), hostCpuCount(), hostMemory().totalBytes, numberFlag(values, 'port') ?? 10250, 0, () => () => ({ cpuSeconds: hostCpuSeconds(), memoryBytes: hostMemory().workingSetBytes }));

// Simulated nodes: their usage is their pods' plus a small system overhead.
const simulated = numberFlag(values, 'simulated-nodes') ?? 0;
const simulatedCores = numberFlag(values, 'simulated-node-cpu') ?? 4;
const simulatedMemory = (numberFlag(values, 'simulated-node-memory-gib') ?? 16) * 2 ** 30;
for (let index = 1; index <= simulated; index++) {
  // The node's counter must only grow, also when pods go away: it accumulates what its containers used.
  const lastSeen = new Map<string, number>();
  let containersTotal = 0;
  await runNode(`sim-node-${index}`, simulatedCores, simulatedMemory, 0, index % 250, () => (now, containers) => {
    const current = new Map<string, number>();
    for (const usage of containers) {
      const key = `${usage.namespace}/${usage.pod}/${usage.container}/${usage.startSeconds}`;
      containersTotal += Math.max(0, usage.cpuSeconds - (lastSeen.get(key) ?? 0));
      current.set(key, usage.cpuSeconds);
    }
    lastSeen.clear();
    for (const [key, value] of current) lastSeen.set(key, value);
    return {
      cpuSeconds: 0.05 * ((now - started) / 1000) + containersTotal,
      memoryBytes: 512 * 2 ** 20 + containers.reduce((sum, usage) => sum + usage.memoryBytes, 0),
    };
  });
}

const scheduler = values.scheduler === true ? new Scheduler(client) : undefined;
scheduler?.start();
console.log(JSON.stringify({ component: 'node-agent', nodes: agents.length, scheduler: Boolean(scheduler) }));

const stop = () => {
  scheduler?.stop();
  for (const agent of agents) agent.stop();
  for (const close of closers) close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
