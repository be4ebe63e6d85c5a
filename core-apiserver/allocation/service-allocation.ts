// What a Service write takes from and gives back to the ranges (upstream's Allocators in
// registry/core/service/storage/alloc.go). Allocation happens before the object is stored, so it is a
// transaction: revert() gives back what this write took (the store failed, or a retry starts over),
// commit() gives back what the previous version held and this one no longer does.

import type { KubeObject } from '../../apiserver/registry/object.js';
import { internalError } from '../../apiserver/request/status.js';
import type { ServiceSpec } from '../resources/service-defaults.js';
import {
  CLUSTER_IP_NONE,
  clusterIPsOf,
  ipFamiliesOf,
  mutableSpecOf,
  needsClusterIP,
  needsHealthCheck,
  needsNodePort,
  nodePortOf,
  portsOf,
  shouldAllocateNodePorts,
  specOf,
} from '../resources/service-defaults.js';
import type { ServiceAllocators } from './allocators.js';
import { AllocationError, RANGE_FULL } from './allocators.js';
import { initIPFamilyFields, invalidService } from './ip-families.js';

type Step = () => Promise<void>;

export class AllocationTransaction {
  private readonly undo: Step[] = [];
  private readonly deferred: Step[] = [];
  /** Node ports this write took, so that a dry run does not offer the same free port twice. */
  readonly nodePortsTaken = new Set<number>();

  constructor(readonly dryRun: boolean) {}

  tookOver(step: Step): void {
    if (!this.dryRun) this.undo.push(step);
  }

  releaseOnCommit(step: Step): void {
    if (!this.dryRun) this.deferred.push(step);
  }

  async commit(): Promise<void> {
    await runAll(this.deferred.splice(0), 'release what the previous version of a Service held');
    this.undo.length = 0;
  }

  async revert(): Promise<void> {
    await runAll(this.undo.splice(0).reverse(), 'give back what a failed Service write took');
    this.deferred.length = 0;
  }
}

/** A failed release leaks a value until repair finds it; it must not fail the request that caused it. */
async function runAll(steps: Step[], what: string): Promise<void> {
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      console.error(`[core-apiserver] failed to ${what}:`, error);
    }
  }
}

interface Context {
  allocators: ServiceAllocators;
  txn: AllocationTransaction;
  owner: string;
  service: KubeObject;
}

function reason(error: unknown): string {
  if (error instanceof AllocationError) return error.message;
  throw error;
}

async function allocateClusterIPs(context: Context): Promise<void> {
  const { allocators, txn, owner, service } = context;
  const spec = mutableSpecOf(service);
  if (!needsClusterIP(spec) || clusterIPsOf(spec)[0] === CLUSTER_IP_NONE) return;
  const clusterIPs = [...clusterIPsOf(spec)];
  const ipAllocator = allocators.clusterIps;
  for (const [index, family] of ipFamiliesOf(spec).entries()) {
    if (family !== ipAllocator.family) continue; // refused by initIPFamilyFields unless headless
    const requested = clusterIPs[index] ?? '';
    let ip = requested;
    if (requested) {
      try {
        await ipAllocator.allocate(requested, owner, txn.dryRun);
      } catch (error) {
        const detail = `failed to allocate IP ${requested}: ${reason(error)}`;
        throw invalidService(service, [{ field: 'spec.clusterIPs', type: 'FieldValueInvalid', value: spec.clusterIPs ?? [], detail }]);
      }
    } else {
      try {
        ip = await ipAllocator.allocateNext(owner, txn.dryRun);
      } catch (error) {
        throw internalError(`failed to allocate a serviceIP: ${reason(error)}`);
      }
    }
    txn.tookOver(() => ipAllocator.release(ip));
    clusterIPs[index] = ip;
    if (index === 0) spec.clusterIP = ip;
  }
  spec.clusterIPs = clusterIPs;
}

/** Takes one chosen node port; AllocationError says why not. */
async function claimNodePort(context: Context, port: number): Promise<void> {
  const { allocators, txn, owner } = context;
  if (txn.nodePortsTaken.has(port)) throw new AllocationError('provided port is already allocated');
  await allocators.nodePorts.allocate(port, owner, txn.dryRun);
  txn.nodePortsTaken.add(port);
  txn.tookOver(() => allocators.nodePorts.release(port));
}

async function takeNodePort(context: Context, port: number, field: string): Promise<void> {
  try {
    await claimNodePort(context, port);
  } catch (error) {
    throw invalidService(context.service, [{ field, type: 'FieldValueInvalid', value: port, detail: reason(error) }]);
  }
}

/** A dry run only peeks, so it may be offered a port it already gave another service port: ask again. */
const DRY_RUN_PEEKS = 16;

async function nextNodePort(context: Context, what: string): Promise<number> {
  const { allocators, txn, owner } = context;
  try {
    for (let peek = 0; peek < DRY_RUN_PEEKS; peek++) {
      const port = await allocators.nodePorts.allocateNext(owner, txn.dryRun);
      if (txn.nodePortsTaken.has(port)) continue;
      txn.nodePortsTaken.add(port);
      txn.tookOver(() => allocators.nodePorts.release(port));
      return port;
    }
    throw new AllocationError(RANGE_FULL);
  } catch (error) {
    throw internalError(`${what}: ${reason(error)}`);
  }
}

/** initNodePorts: service ports sharing a port number (TCP and UDP 53) share one node port. */
async function allocateNodePorts(context: Context): Promise<void> {
  const spec = specOf(context.service);
  const ports = portsOf(spec);
  const byServicePort = new Map<number | undefined, number>();
  for (const [index, port] of ports.entries()) {
    if (nodePortOf(port) === 0 && !shouldAllocateNodePorts(spec)) continue; // explicit requests still count
    const shared = byServicePort.get(port.port) ?? 0;
    if (shared === 0) {
      const requested = ports.find((other) => other.port === port.port && nodePortOf(other) !== 0);
      const nodePort = requested ? nodePortOf(requested) : await nextNodePort(context, 'failed to allocate a nodePort');
      if (requested) await takeNodePort(context, nodePort, `spec.ports[${index}].nodePort`);
      port.nodePort = nodePort;
      byServicePort.set(port.port, nodePort);
    } else if (nodePortOf(port) === 0) {
      port.nodePort = shared;
    } else if (nodePortOf(port) !== shared) {
      await takeNodePort(context, nodePortOf(port), `spec.ports[${index}].nodePort`);
    }
  }
}

async function allocateHealthCheckNodePort(context: Context, spec: ServiceSpec): Promise<void> {
  const requested = spec.healthCheckNodePort ?? 0;
  if (requested === 0) {
    // Upstream prints the (zero) value it had in mind.
    spec.healthCheckNodePort = await nextNodePort(context, 'failed to allocate a HealthCheck NodePort 0');
    return;
  }
  try {
    await claimNodePort(context, requested);
  } catch (error) {
    throw internalError(`failed to allocate requested HealthCheck NodePort ${requested}: ${reason(error)}`);
  }
}

function ownerOf(service: KubeObject, namespace: string): string {
  return `${namespace}/${service.metadata?.name || `${service.metadata?.generateName ?? ''}*`}`;
}

/** allocateCreate: families, cluster IPs, node ports. On failure nothing stays taken. */
export async function allocateForCreate(allocators: ServiceAllocators, service: KubeObject, namespace: string, dryRun: boolean): Promise<AllocationTransaction> {
  const txn = new AllocationTransaction(dryRun);
  const context: Context = { allocators, txn, owner: ownerOf(service, namespace), service };
  try {
    initIPFamilyFields(service, undefined, [allocators.clusterIps.family]);
    await allocateClusterIPs(context);
    const spec = specOf(service);
    if (needsNodePort(spec)) await allocateNodePorts(context);
    if (needsHealthCheck(spec)) await allocateHealthCheckNodePort(context, mutableSpecOf(service));
    return txn;
  } catch (error) {
    await txn.revert();
    throw error;
  }
}

function allocatedNodePorts(spec: ServiceSpec): number[] {
  return portsOf(spec)
    .map(nodePortOf)
    .filter((port) => port !== 0);
}

/** updateNodePorts: new explicit node ports are taken, node ports no longer used go on commit. */
async function updateNodePorts(context: Context, oldSpec: ServiceSpec): Promise<void> {
  const spec = specOf(context.service);
  const oldNodePorts = allocatedNodePorts(oldSpec);
  const seen: Array<[string | undefined, number]> = [];
  for (const [index, port] of portsOf(spec).entries()) {
    if (nodePortOf(port) === 0 && !shouldAllocateNodePorts(spec)) continue;
    let nodePort = nodePortOf(port);
    if (nodePort === 0) {
      nodePort = await nextNodePort(context, 'failed to allocate a nodePort');
      port.nodePort = nodePort;
    } else if (!oldNodePorts.includes(nodePort) && !context.txn.nodePortsTaken.has(nodePort)) {
      await takeNodePort(context, nodePort, `spec.ports[${index}].nodePort`);
    }
    if (seen.some(([protocol, number]) => protocol === port.protocol && number === nodePort)) throw internalError(`duplicate nodePort: {${port.protocol} ${nodePort}}`);
    seen.push([port.protocol, nodePort]);
  }
  const kept = allocatedNodePorts(spec);
  releaseOnCommit(context, oldNodePorts.filter((port) => !kept.includes(port)));
}

function releaseOnCommit(context: Context, nodePorts: number[]): void {
  for (const port of nodePorts) context.txn.releaseOnCommit(() => context.allocators.nodePorts.release(port));
}

/** allocateUpdate: allocations follow type changes; what the old version held goes on commit. */
export async function allocateForUpdate(
  allocators: ServiceAllocators,
  service: KubeObject,
  old: KubeObject,
  namespace: string,
  dryRun: boolean,
): Promise<AllocationTransaction> {
  const txn = new AllocationTransaction(dryRun);
  const context: Context = { allocators, txn, owner: ownerOf(service, namespace), service };
  try {
    initIPFamilyFields(service, old, [allocators.clusterIps.family]);
    const spec = specOf(service);
    const oldSpec = specOf(old);
    if (!needsClusterIP(oldSpec) && needsClusterIP(spec)) {
      await allocateClusterIPs(context);
    } else if (needsClusterIP(oldSpec) && !needsClusterIP(spec) && clusterIPsOf(oldSpec)[0] !== CLUSTER_IP_NONE) {
      for (const ip of clusterIPsOf(oldSpec)) txn.releaseOnCommit(() => allocators.clusterIps.release(ip));
    }
    if (needsNodePort(oldSpec) && (spec.type === 'ExternalName' || spec.type === 'ClusterIP')) releaseOnCommit(context, allocatedNodePorts(oldSpec));
    if (needsNodePort(spec)) await updateNodePorts(context, oldSpec);
    if (!needsHealthCheck(oldSpec) && needsHealthCheck(spec)) await allocateHealthCheckNodePort(context, mutableSpecOf(service));
    if (needsHealthCheck(oldSpec) && !needsHealthCheck(spec) && oldSpec.healthCheckNodePort) releaseOnCommit(context, [oldSpec.healthCheckNodePort]);
    return txn;
  } catch (error) {
    await txn.revert();
    throw error;
  }
}

/** Everything a deleted Service held (releaseAllocatedResources). */
export async function releaseAllocations(allocators: ServiceAllocators, service: KubeObject): Promise<void> {
  const spec = specOf(service);
  const steps: Step[] = [];
  if (needsClusterIP(spec) && clusterIPsOf(spec)[0] !== CLUSTER_IP_NONE) {
    for (const ip of clusterIPsOf(spec)) steps.push(() => allocators.clusterIps.release(ip));
  }
  for (const port of allocatedNodePorts(spec)) steps.push(() => allocators.nodePorts.release(port));
  if (needsHealthCheck(spec) && spec.healthCheckNodePort) steps.push(() => allocators.nodePorts.release(spec.healthCheckNodePort!));
  await runAll(steps, 'release what a deleted Service held');
}

