// The simulated container runtime's resource usage (no containers run, as in kwok): each container uses about
// what it asks for — its CPU and memory requests, else half its limits, else a small baseline — with a
// bounded, slowly varying wobble, and its CPU counter is the integral of that rate since the container
// started, so a scraper computes the same kind of rate it would from a real kubelet.

import type { KubeObject } from '../apiserver/registry/object.js';
import { parseQuantity } from '../apiserver/registry/quantity.js';

const BASELINE_CORES = 0.002;
const BASELINE_MEMORY = 16 * 1024 * 1024;

export interface ContainerUsage {
  namespace: string;
  pod: string;
  container: string;
  startSeconds: number;
  cpuSeconds: number;
  memoryBytes: number;
}

interface ContainerSpec {
  name?: string;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

function typical(resources: ContainerSpec['resources'], name: 'cpu' | 'memory', baseline: number): number {
  const request = resources?.requests?.[name];
  if (request !== undefined) return parseQuantity(request) ?? baseline;
  const limit = resources?.limits?.[name];
  if (limit !== undefined) return (parseQuantity(limit) ?? baseline * 2) / 2;
  return baseline;
}

const PERIOD_SECONDS = 600;

/** A phase in [0, 1) per container, so containers do not wobble in step. */
function phase(seed: string): number {
  let hash = 2166136261;
  for (let index = 0; index < seed.length; index++) hash = Math.imul(hash ^ seed.charCodeAt(index), 16777619);
  return ((hash >>> 0) % 1000) / 1000;
}

/** The wobble: a factor in [0.8, 1.0] that drifts over ten minutes. */
function wobble(phaseValue: number, seconds: number): number {
  return 0.9 + 0.1 * Math.sin(2 * Math.PI * (seconds / PERIOD_SECONDS + phaseValue));
}

/** The integral of the wobble from 0 to `seconds`' antiderivative: a counter that only ever grows. */
function wobbleIntegral(phaseValue: number, seconds: number): number {
  return 0.9 * seconds - ((0.1 * PERIOD_SECONDS) / (2 * Math.PI)) * Math.cos(2 * Math.PI * (seconds / PERIOD_SECONDS + phaseValue));
}

export function containerUsage(pod: KubeObject, now: number): ContainerUsage[] {
  const spec = (pod.spec ?? {}) as { containers?: ContainerSpec[] };
  const statuses = ((pod.status as { containerStatuses?: { name: string; state?: { running?: { startedAt?: string } } }[] } | undefined)?.containerStatuses ?? []);
  const result: ContainerUsage[] = [];
  for (const container of spec.containers ?? []) {
    const startedAt = statuses.find((status) => status.name === container.name)?.state?.running?.startedAt;
    if (!startedAt || !container.name) continue;
    const startSeconds = Date.parse(startedAt) / 1000;
    const nowSeconds = Math.max(startSeconds, now / 1000);
    const seed = phase(`${pod.metadata.namespace}/${pod.metadata.name}/${container.name}`);
    const cores = typical(container.resources, 'cpu', BASELINE_CORES);
    result.push({
      namespace: pod.metadata.namespace ?? '',
      pod: pod.metadata.name ?? '',
      container: container.name,
      startSeconds,
      cpuSeconds: cores * (wobbleIntegral(seed, nowSeconds) - wobbleIntegral(seed, startSeconds)),
      memoryBytes: Math.round(typical(container.resources, 'memory', BASELINE_MEMORY) * wobble(seed, nowSeconds)),
    });
  }
  return result;
}
