// The node lifecycle controller's health part (kube-controller-manager's): a node whose Lease in
// kube-node-lease (or, without one, whose Ready heartbeat) is older than the grace period has its
// conditions set to Unknown ("Kubelet stopped posting node status."), so `kubectl get nodes` shows it
// NotReady, the scheduler avoids it and the metrics extension stops scraping it. The kubelet sets them
// back when it returns.

import type { GenericStore, WriteContext } from '../../apiserver/registry/store.js';
import type { KubeObject } from '../../apiserver/registry/object.js';

const CONTEXT: WriteContext = {
  user: { username: 'system:serviceaccount:kube-system:node-controller', groups: ['system:serviceaccounts', 'system:authenticated'] },
  namespace: '',
  warnings: [],
  dryRun: false,
  fieldManager: 'kube-controller-manager',
  fieldValidation: 'Ignore',
};

const WATCHED_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

export class NodeLifecycleController {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly nodes: GenericStore,
    private readonly leases: GenericStore,
    private readonly gracePeriodMs = 40_000,
    private readonly monitorPeriodMs = 5_000,
  ) {}

  async start(): Promise<void> {
    await this.nodes.cache.start();
    await this.leases.cache.start();
    const loop = () => {
      this.timer = setTimeout(() => {
        void this.monitor()
          .catch((error: Error) => console.error(`[node-lifecycle] ${error.message}`))
          .finally(loop);
      }, this.monitorPeriodMs);
      this.timer.unref();
    };
    loop();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  /** The last sign of life: the Lease's renewTime, else the Ready condition's heartbeat. */
  private lastHeartbeat(node: KubeObject): number | undefined {
    const lease = this.leases.cache.get(this.leases.key('kube-node-lease', node.metadata.name!));
    const renewTime = lease ? ((JSON.parse(lease.bytes) as KubeObject).spec as { renewTime?: string } | undefined)?.renewTime : undefined;
    const ready = this.conditions(node).find((condition) => condition.type === 'Ready');
    const candidates = [renewTime, ready?.lastHeartbeatTime, node.metadata.creationTimestamp].filter((value): value is string => typeof value === 'string').map(Date.parse).filter((value) => !Number.isNaN(value));
    return candidates.length ? Math.max(...candidates) : undefined;
  }

  private conditions(node: KubeObject): Condition[] {
    return ((node.status as { conditions?: Condition[] } | undefined)?.conditions ?? []);
  }

  async monitor(now = Date.now()): Promise<void> {
    for (const cached of this.nodes.cache.list(this.nodes.resource.storagePrefix)) {
      const node = JSON.parse(cached.bytes) as KubeObject;
      const heartbeat = this.lastHeartbeat(node);
      if (heartbeat === undefined || now - heartbeat <= this.gracePeriodMs) continue;
      const conditions = this.conditions(node);
      if (conditions.length > 0 && conditions.filter((condition) => WATCHED_CONDITIONS.includes(condition.type)).every((condition) => condition.status === 'Unknown')) continue;
      await this.nodes.guaranteedUpdate(node.metadata.name!, CONTEXT, 'status', undefined, (current) => {
        if (!current) throw new Error(`node ${node.metadata.name} is gone`);
        const transition = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
        const existing = this.conditions(current);
        const updated = WATCHED_CONDITIONS.map((type): Condition => {
          const before = existing.find((condition) => condition.type === type);
          return {
            type,
            status: 'Unknown',
            reason: 'NodeStatusUnknown',
            message: 'Kubelet stopped posting node status.',
            lastHeartbeatTime: before?.lastHeartbeatTime,
            lastTransitionTime: before?.status === 'Unknown' ? before.lastTransitionTime : transition,
          };
        });
        current.status = { ...(current.status as object), conditions: [...existing.filter((condition) => !WATCHED_CONDITIONS.includes(condition.type)), ...updated] };
        return current;
      });
    }
  }
}
