// The node agent as a unit the launcher can run in its own process (main.ts) or inside the all-in-one
// process: this host's Node, optional simulated nodes, each with its kubelet endpoint, and the scheduler.

import type { KubeClient } from '../apiserver/client/kube-client.js';
import { hostCpuCount, hostCpuSeconds, hostMemory } from './host.js';
import { NodeAgent } from './node.js';
import { serveResourceMetrics, type NodeUsageSource } from './metrics-endpoint.js';
import { Scheduler } from './scheduler.js';

export interface NodeAgentOptions {
  client: KubeClient;
  nodeName: string;
  /** This host's kubelet port; 0 picks a free one. */
  port: number;
  tls: { cert: string; key: string; clientCa: string };
  simulatedNodes?: number;
  simulatedNodeCores?: number;
  simulatedNodeMemoryBytes?: number;
  heartbeatMs?: number;
  scheduler?: boolean;
  log?: (line: string) => void;
}

export interface RunningNodeAgent {
  agents: NodeAgent[];
  stop(): void;
}

export async function startNodeAgent(options: NodeAgentOptions): Promise<RunningNodeAgent> {
  const started = Date.now();
  const agents: NodeAgent[] = [];
  const closers: (() => void)[] = [];
  const log = options.log ?? ((line: string) => console.log(line));

  async function runNode(name: string, cpuCores: number, memoryBytes: number, port: number, podSubnet: number, usage: NodeUsageSource['node']): Promise<void> {
    let agent: NodeAgent | undefined;
    const endpoint = await serveResourceMetrics({ port, ...options.tls }, { pods: () => agent?.runningPods() ?? [], boundPods: () => agent?.boundPods() ?? [], node: usage });
    closers.push(endpoint.close);
    agent = new NodeAgent(options.client, { name, cpuCores, memoryBytes, maxPods: 110, kubeletPort: endpoint.port, podSubnet }, options.heartbeatMs ?? 10_000);
    agents.push(agent);
    await agent.start();
    log(JSON.stringify({ component: 'node-agent', node: name, kubeletEndpoint: `https://127.0.0.1:${endpoint.port}` }));
  }

  // This host: real CPU time and memory from /proc.
  await runNode(options.nodeName, hostCpuCount(), hostMemory().totalBytes, options.port, 0, () => ({ cpuSeconds: hostCpuSeconds(), memoryBytes: hostMemory().workingSetBytes }));

  // Simulated nodes: their usage is their pods' plus a small system overhead.
  for (let index = 1; index <= (options.simulatedNodes ?? 0); index++) {
    // The node's counter must only grow, also when pods go away: it accumulates what its containers used.
    const lastSeen = new Map<string, number>();
    let containersTotal = 0;
    await runNode(`sim-node-${index}`, options.simulatedNodeCores ?? 4, options.simulatedNodeMemoryBytes ?? 16 * 2 ** 30, 0, index % 250, (now, containers) => {
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

  const scheduler = options.scheduler ? new Scheduler(options.client) : undefined;
  scheduler?.start();
  log(JSON.stringify({ component: 'node-agent', nodes: agents.length, scheduler: Boolean(scheduler) }));
  return {
    agents,
    stop() {
      scheduler?.stop();
      for (const agent of agents) agent.stop();
      for (const close of closers) close();
    },
  };
}
