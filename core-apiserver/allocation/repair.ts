// Startup repair of the allocation records (upstream runs repair controllers for the same reason). A
// record can be missing — Services stored before records existed — or orphaned, when a server died
// between allocating and writing the Service. Missing ones are recreated; orphans are released once
// they are old enough that no create can still be on its way to use them.

import type { GenericStore } from '../../apiserver/registry/store.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { CLUSTER_IP_NONE, clusterIPsOf, needsClusterIP, needsHealthCheck, nodePortOf, portsOf, specOf } from '../resources/service-defaults.js';
import type { ServiceAllocators } from './allocators.js';
import type { RangeAllocator } from './range-allocator.js';

export interface RepairResult {
  recreated: number;
  released: number;
}

const ORPHAN_GRACE_MS = 10 * 60 * 1000;

function heldBy(service: KubeObject, allocators: ServiceAllocators): { ips: number[]; ports: number[] } {
  const spec = specOf(service);
  const ips: number[] = [];
  if (needsClusterIP(spec) && clusterIPsOf(spec)[0] !== CLUSTER_IP_NONE) {
    for (const ip of clusterIPsOf(spec)) {
      const offset = allocators.clusterIps.range.offsetOf(ip);
      if (offset !== undefined) ips.push(offset);
    }
  }
  const nodePorts = portsOf(spec).map(nodePortOf);
  if (needsHealthCheck(spec) && spec.healthCheckNodePort) nodePorts.push(spec.healthCheckNodePort);
  const ports = nodePorts.map((port) => allocators.nodePorts.range.offsetOf(port)).filter((offset): offset is number => offset !== undefined);
  return { ips, ports };
}

async function repairRange(allocator: RangeAllocator, held: Map<number, string>, now: number, graceMs: number): Promise<RepairResult> {
  const result: RepairResult = { recreated: 0, released: 0 };
  const taken = await allocator.taken();
  for (const [offset, owner] of held) {
    if (!taken.has(offset) && (await allocator.claim(offset, owner))) result.recreated++;
  }
  for (const [offset, { record, modRevision }] of taken) {
    if (held.has(offset)) continue;
    const age = now - Date.parse(record.allocatedAt ?? '');
    // Unreadable timestamps count as old: nothing in flight writes them.
    if (!(age < graceMs) && (await allocator.releaseIfUnchanged(offset, modRevision))) result.released++;
  }
  return result;
}

export async function repairAllocations(services: GenericStore, allocators: ServiceAllocators, options: { graceMs?: number; now?: number } = {}): Promise<RepairResult> {
  const listed = await services.storage.list(services.resource.storagePrefix);
  const ips = new Map<number, string>();
  const ports = new Map<number, string>();
  for (const item of listed.items) {
    const service = JSON.parse(item.value) as KubeObject;
    const owner = `${service.metadata?.namespace ?? ''}/${service.metadata?.name ?? ''}`;
    const held = heldBy(service, allocators);
    for (const offset of held.ips) ips.set(offset, owner);
    for (const offset of held.ports) ports.set(offset, owner);
  }
  const now = options.now ?? Date.now();
  const graceMs = options.graceMs ?? ORPHAN_GRACE_MS;
  const ipResult = await repairRange(allocators.clusterIps.allocator, ips, now, graceMs);
  const portResult = await repairRange(allocators.nodePorts.allocator, ports, now, graceMs);
  return { recreated: ipResult.recreated + portResult.recreated, released: ipResult.released + portResult.released };
}
