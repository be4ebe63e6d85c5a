// What the node agent reads about the machine it runs on: CPU count and cumulative CPU time from /proc/stat,
// memory from /proc/meminfo (working set as kubelet approximates it for the root cgroup: total minus
// available), and the host's name and loopback address the other servers reach it on.

import { readFileSync } from 'node:fs';
import os from 'node:os';

const USER_HZ = 100;

/** Cumulative non-idle CPU time of all cores, in core-seconds. */
export function hostCpuSeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return (user + nice + system + irq + softirq + steal) / USER_HZ;
}

export function hostMemory(): { totalBytes: number; workingSetBytes: number } {
  const info = readFileSync('/proc/meminfo', 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(info)?.[1] ?? 0) * 1024;
  const total = field('MemTotal');
  return { totalBytes: total, workingSetBytes: total - field('MemAvailable') };
}

export function hostCpuCount(): number {
  return os.availableParallelism?.() ?? os.cpus().length;
}

/** A DNS-1123 name for this host's Node. */
export function defaultNodeName(): string {
  return os.hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '') || 'node';
}
