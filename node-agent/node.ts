// One node as the node agent runs it (kubelet-like): registers its Node with capacity, allocatable,
// addresses and the kubelet endpoint, keeps the Ready condition and a Lease in kube-node-lease fresh every
// heartbeat, and runs the pods bound to it through a simulated runtime (no containers are started, as in
// kwok): a bound pod is reported Running with ready containers and an IP, a deleted pod is confirmed gone.

import type { KubeObject } from '../apiserver/registry/object.js';
import { ApiError, type KubeClient } from '../apiserver/client/kube-client.js';
import type { Informer } from '../apiserver/client/informer.js';

export interface NodeSpec {
  name: string;
  cpuCores: number;
  memoryBytes: number;
  maxPods: number;
  kubeletPort: number;
  /** Third octet of this node's pod IPs (10.244.<n>.x). */
  podSubnet: number;
  labels?: Record<string, string>;
}

const LEASE_NAMESPACE = 'kube-node-lease';

function microTime(date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class NodeAgent {
  private pods: Informer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly podIps = new Map<string, string>();
  private nextIp = 2;
  private stopped = false;

  constructor(
    private readonly client: KubeClient,
    readonly spec: NodeSpec,
    private readonly heartbeatMs = 10_000,
  ) {}

  async start(): Promise<void> {
    await this.register();
    await this.heartbeat();
    this.pods = this.client.informer(`/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${this.spec.name}`)}`, (type, pod) => {
      if (type !== 'DELETED') void this.sync(pod).catch((error: Error) => console.error(`[node-agent] ${this.spec.name}: pod ${pod.metadata.namespace}/${pod.metadata.name}: ${error.message}`));
    });
    this.pods.start();
    const loop = () => {
      this.timer = setTimeout(() => {
        void this.heartbeat()
          .catch((error: Error) => console.error(`[node-agent] ${this.spec.name}: heartbeat: ${error.message}`))
          .finally(() => !this.stopped && loop());
      }, this.heartbeatMs);
      this.timer.unref();
    };
    loop();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.pods?.stop();
  }

  /** Every pod bound here that is not being deleted. */
  boundPods(): KubeObject[] {
    return (this.pods?.list() ?? []).filter((pod) => !pod.metadata.deletionTimestamp);
  }

  /** Pods bound here that the runtime reports Running (what the metrics endpoint serves). */
  runningPods(): KubeObject[] {
    return (this.pods?.list() ?? []).filter((pod) => (pod.status as { phase?: string } | undefined)?.phase === 'Running' && !pod.metadata.deletionTimestamp);
  }

  private nodeStatus(): Record<string, unknown> {
    const now = new Date().toISOString();
    const resources = { cpu: String(this.spec.cpuCores), memory: `${Math.floor(this.spec.memoryBytes / 1024)}Ki`, pods: String(this.spec.maxPods), 'ephemeral-storage': '10Gi' };
    return {
      capacity: resources,
      allocatable: resources,
      addresses: [
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: this.spec.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: this.spec.kubeletPort } },
      nodeInfo: {
        machineID: '', systemUUID: '', bootID: '', kernelVersion: process.version, osImage: 'kube-delegation-chain node agent (simulated runtime)',
        containerRuntimeVersion: 'simulated://1.0.0', kubeletVersion: 'v1.32.0', kubeProxyVersion: '', operatingSystem: 'linux', architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      },
      conditions: [
        { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available', lastHeartbeatTime: now, lastTransitionTime: now },
        { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure', lastHeartbeatTime: now, lastTransitionTime: now },
        { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available', lastHeartbeatTime: now, lastTransitionTime: now },
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now },
      ],
    };
  }

  private async register(): Promise<void> {
    const labels = { 'kubernetes.io/hostname': this.spec.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch, ...this.spec.labels };
    try {
      await this.client.call('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: this.spec.name, labels }, spec: {} });
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 409)) throw error;
    }
  }

  /** Status and Lease, as kubelet's node status loop and lease controller keep them. */
  private async heartbeat(): Promise<void> {
    const current = await this.client.get(`/api/v1/nodes/${this.spec.name}`);
    const status = this.nodeStatus();
    // Keep transition times of conditions whose status did not change.
    const previous = ((current.status as { conditions?: { type: string; status: string; lastTransitionTime?: string }[] } | undefined)?.conditions ?? []);
    for (const condition of status.conditions as { type: string; status: string; lastTransitionTime: string }[]) {
      const before = previous.find((entry) => entry.type === condition.type);
      if (before?.status === condition.status && before.lastTransitionTime) condition.lastTransitionTime = before.lastTransitionTime;
    }
    await this.client.call('PATCH', `/api/v1/nodes/${this.spec.name}/status`, { status }, 'application/merge-patch+json');
    await this.renewLease(current.metadata.uid);
  }

  private async renewLease(nodeUid: string | undefined): Promise<void> {
    const path = `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NAMESPACE}/leases/${this.spec.name}`;
    const spec = { holderIdentity: this.spec.name, leaseDurationSeconds: 40, renewTime: microTime() };
    try {
      await this.client.call('PATCH', path, { spec }, 'application/merge-patch+json');
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
      const ownerReferences = nodeUid ? [{ apiVersion: 'v1', kind: 'Node', name: this.spec.name, uid: nodeUid }] : undefined;
      await this.client.call('POST', `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NAMESPACE}/leases`, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.spec.name, namespace: LEASE_NAMESPACE, ownerReferences }, spec });
    }
  }

  private podIp(pod: KubeObject): string {
    const key = pod.metadata.uid ?? `${pod.metadata.namespace}/${pod.metadata.name}`;
    let ip = this.podIps.get(key);
    if (!ip) {
      ip = `10.244.${this.spec.podSubnet}.${this.nextIp}`;
      this.nextIp = this.nextIp >= 254 ? 2 : this.nextIp + 1;
      this.podIps.set(key, ip);
    }
    return ip;
  }

  /**
   * Ephemeral containers added to a running pod (`kubectl debug`) are reported running as the simulated
   * runtime reports every container; no process starts, so attaching to one gets the runtime's refusal.
   */
  private async startEphemeralContainers(pod: KubeObject, path: string): Promise<void> {
    const spec = (pod.spec ?? {}) as { ephemeralContainers?: { name: string; image?: string }[] };
    const statuses = ((pod.status as { ephemeralContainerStatuses?: { name: string }[] } | undefined)?.ephemeralContainerStatuses ?? []);
    const declared = spec.ephemeralContainers ?? [];
    if (declared.every((container) => statuses.some((status) => status.name === container.name))) return;
    const now = new Date().toISOString();
    const ephemeralContainerStatuses = declared.map(
      (container) =>
        statuses.find((status) => status.name === container.name) ?? {
          name: container.name,
          image: container.image ?? '',
          imageID: `simulated://${container.image ?? ''}`,
          containerID: `simulated://${pod.metadata.uid ?? ''}/${container.name}`,
          ready: false,
          restartCount: 0,
          state: { running: { startedAt: now } },
        },
    );
    await this.client.call('PATCH', `${path}/status`, { status: { ephemeralContainerStatuses } }, 'application/merge-patch+json');
  }

  /** The simulated runtime: start what is bound here, confirm deletions. */
  private async sync(pod: KubeObject): Promise<void> {
    const path = `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`;
    if (pod.metadata.deletionTimestamp) {
      this.podIps.delete(pod.metadata.uid ?? '');
      try {
        await this.client.call('DELETE', path, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
      } catch (error) {
        if (!(error instanceof ApiError && (error.status === 404 || error.status === 409))) throw error;
      }
      return;
    }
    const status = (pod.status ?? {}) as { phase?: string };
    if (status.phase === 'Running') return this.startEphemeralContainers(pod, path);
    if (status.phase === 'Succeeded' || status.phase === 'Failed') return;
    const now = new Date().toISOString();
    const spec = (pod.spec ?? {}) as { containers?: { name: string; image?: string }[]; initContainers?: { name: string; image?: string }[] };
    const ip = this.podIp(pod);
    const containerStatuses = (spec.containers ?? []).map((container) => ({
      name: container.name,
      image: container.image ?? '',
      imageID: `simulated://${container.image ?? ''}`,
      containerID: `simulated://${pod.metadata.uid ?? ''}/${container.name}`,
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: now } },
    }));
    const initContainerStatuses = (spec.initContainers ?? []).map((container) => ({
      name: container.name,
      image: container.image ?? '',
      imageID: `simulated://${container.image ?? ''}`,
      containerID: `simulated://${pod.metadata.uid ?? ''}/${container.name}`,
      ready: true,
      restartCount: 0,
      state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: now, finishedAt: now } },
    }));
    const condition = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: now });
    await this.client.call(
      'PATCH',
      `${path}/status`,
      {
        status: {
          phase: 'Running',
          hostIP: '127.0.0.1',
          hostIPs: [{ ip: '127.0.0.1' }],
          podIP: ip,
          podIPs: [{ ip }],
          startTime: now,
          conditions: [condition('PodReadyToStartContainers'), condition('Initialized'), condition('Ready'), condition('ContainersReady'), condition('PodScheduled')],
          containerStatuses,
          ...(initContainerStatuses.length ? { initContainerStatuses } : {}),
        },
      },
      'application/merge-patch+json',
    );
  }
}
