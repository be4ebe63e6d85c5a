// A small scheduler so that `kubectl run` pods land somewhere: an unscheduled pod (default scheduler) goes to
// the ready, schedulable node whose taints it tolerates and whose labels match its nodeSelector and required
// node affinity, with the lowest share of allocatable CPU requested (then the fewest pods), through the
// pods/binding subresource, as kube-scheduler binds. A pod that fits nowhere gets PodScheduled=False/Unschedulable saying why.

import type { KubeObject } from '../apiserver/registry/object.js';
import { ApiError, type KubeClient } from '../apiserver/client/kube-client.js';
import type { Informer } from '../apiserver/client/informer.js';
import { parseQuantity } from '../apiserver/registry/quantity.js';
import { nodeAffinityAdmits } from './node-affinity.js';

interface Taint {
  key: string;
  value?: string;
  effect: string;
}

interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

export function tolerates(tolerations: Toleration[], taint: Taint): boolean {
  return tolerations.some((toleration) => {
    if (toleration.effect && toleration.effect !== taint.effect) return false;
    if (toleration.operator === 'Exists') return !toleration.key || toleration.key === taint.key;
    return toleration.key === taint.key && (toleration.value ?? '') === (taint.value ?? '');
  });
}

function requestedCores(pod: KubeObject): number {
  const containers = ((pod.spec as { containers?: { resources?: { requests?: Record<string, string> } }[] } | undefined)?.containers ?? []);
  return containers.reduce((sum, container) => sum + (parseQuantity(container.resources?.requests?.cpu) ?? 0), 0);
}

function isReady(node: KubeObject): boolean {
  const conditions = ((node.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []);
  return conditions.some((condition) => condition.type === 'Ready' && condition.status === 'True');
}

export class Scheduler {
  private readonly nodes: Informer;
  private readonly pods: Informer;
  private readonly binding = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly client: KubeClient) {
    this.nodes = client.informer('/api/v1/nodes', () => this.kick());
    this.pods = client.informer('/api/v1/pods', (type, pod) => type !== 'DELETED' && this.consider(pod));
  }

  start(): void {
    this.nodes.start();
    this.pods.start();
  }

  stop(): void {
    this.nodes.stop();
    this.pods.stop();
    if (this.timer) clearTimeout(this.timer);
  }

  /** Nodes changed: pending pods get another chance (coalesced). */
  private kick(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      for (const pod of this.pods.list()) this.consider(pod);
    }, 100);
    this.timer.unref();
  }

  private consider(pod: KubeObject): void {
    const spec = (pod.spec ?? {}) as { nodeName?: string; schedulerName?: string };
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    if (spec.nodeName || pod.metadata.deletionTimestamp || phase === 'Succeeded' || phase === 'Failed') return;
    if (spec.schedulerName && spec.schedulerName !== 'default-scheduler') return;
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    if (this.binding.has(key) || !this.nodes.synced || !this.pods.synced) return;
    this.binding.add(key);
    void this.schedule(pod)
      .catch((error: Error) => console.error(`[scheduler] ${key}: ${error.message}`))
      .finally(() => this.binding.delete(key));
  }

  private async schedule(pod: KubeObject): Promise<void> {
    const spec = (pod.spec ?? {}) as { nodeSelector?: Record<string, string>; tolerations?: Toleration[] };
    const reasons = new Map<string, number>();
    const reject = (reason: string) => reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    const load = new Map<string, { cores: number; pods: number }>();
    for (const other of this.pods.list()) {
      const nodeName = (other.spec as { nodeName?: string } | undefined)?.nodeName;
      if (!nodeName) continue;
      const entry = load.get(nodeName) ?? { cores: 0, pods: 0 };
      entry.cores += requestedCores(other);
      entry.pods += 1;
      load.set(nodeName, entry);
    }
    let best: { name: string; score: number; pods: number } | undefined;
    const nodes = this.nodes.list();
    for (const node of nodes) {
      const nodeSpec = (node.spec ?? {}) as { unschedulable?: boolean; taints?: Taint[] };
      const labels = node.metadata.labels ?? {};
      if (!isReady(node)) {
        reject("node(s) had untolerated taint {node.kubernetes.io/not-ready: }");
        continue;
      }
      // A cordoned node takes only pods that tolerate it (daemon pods do), as kube-scheduler's NodeUnschedulable.
      if (nodeSpec.unschedulable && !tolerates(spec.tolerations ?? [], { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' })) {
        reject('node(s) were unschedulable');
        continue;
      }
      const untolerated = (nodeSpec.taints ?? []).find((taint) => (taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') && !tolerates(spec.tolerations ?? [], taint));
      if (untolerated) {
        reject(`node(s) had untolerated taint {${untolerated.key}: ${untolerated.value ?? ''}}`);
        continue;
      }
      if (Object.entries(spec.nodeSelector ?? {}).some(([key, value]) => labels[key] !== value) || !nodeAffinityAdmits(pod, node)) {
        reject("node(s) didn't match Pod's node affinity/selector");
        continue;
      }
      const allocatable = (node.status as { allocatable?: Record<string, string> } | undefined)?.allocatable ?? {};
      const cores = parseQuantity(allocatable.cpu) ?? 1;
      const maxPods = parseQuantity(allocatable.pods) ?? 110;
      const used = load.get(node.metadata.name!) ?? { cores: 0, pods: 0 };
      if (used.pods >= maxPods) {
        reject('Too many pods');
        continue;
      }
      const score = (used.cores + requestedCores(pod)) / cores;
      if (!best || score < best.score || (score === best.score && used.pods < best.pods)) best = { name: node.metadata.name!, score, pods: used.pods };
    }
    const path = `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`;
    if (!best) {
      const detail = [...reasons].map(([reason, count]) => `${count} ${reason}`).sort().join(', ');
      const message = `0/${nodes.length} nodes are available${detail ? `: ${detail}` : ''}. preemption: 0/${nodes.length} nodes are available: ${nodes.length} Preemption is not helpful for scheduling.`;
      const now = new Date().toISOString();
      await this.client.call('PATCH', `${path}/status`, { status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: now }] } }, 'application/merge-patch+json').catch(() => undefined);
      return;
    }
    try {
      await this.client.call('POST', `${path}/binding`, {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid },
        target: { apiVersion: 'v1', kind: 'Node', name: best.name },
      });
    } catch (error) {
      // Bound meanwhile (409) or gone (404): nothing to do.
      if (!(error instanceof ApiError && (error.status === 409 || error.status === 404))) throw error;
    }
  }
}
