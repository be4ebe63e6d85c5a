// The two ranges Services draw from — cluster IPs out of --service-cluster-ip-range and node ports out
// of --service-node-port-range — over the storage-backed RangeAllocator, with upstream's error texts
// (they end up in `kubectl` output: "failed to allocate IP …: provided IP is already allocated").

import { isIPv4 } from 'node:net';
import type { Storage } from '../../apiserver/storage/interface.js';
import { RangeAllocator } from './range-allocator.js';

export const CLUSTER_IP_PREFIX = '/registry/ipallocations/';
export const NODE_PORT_PREFIX = '/registry/nodeportallocations/';

/** An allocation failed for a reason upstream reports as text (ErrAllocated, ErrNotInRange, ErrFull). */
export class AllocationError extends Error {}

export const RANGE_FULL = 'range is full';

/** upstream's calculateRangeOffset: min(max(min, size/step), max), 0 for tiny ranges. */
function staticBand(size: number, min: number, max: number, step: number): number {
  if (size <= min) return 0;
  return Math.min(Math.max(min, Math.floor(size / step)), max);
}

function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((value, part) => value * 256 + Number(part), 0);
}

function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export class IPv4Range {
  /** First usable address (network + 1) as a number. */
  readonly base: number;
  /** Usable addresses: the network and broadcast addresses are never handed out. */
  readonly size: number;
  readonly staticBand: number;

  private constructor(
    readonly network: number,
    readonly prefixLength: number,
  ) {
    const total = 2 ** (32 - prefixLength);
    this.base = network + 1;
    this.size = Math.max(0, total - 2);
    this.staticBand = staticBand(total, 16, 256, 16);
  }

  static parse(cidr: string): IPv4Range {
    const [address, bits, ...rest] = cidr.trim().split('/');
    const prefixLength = Number(bits);
    if (rest.length > 0 || !isIPv4(address ?? '') || !/^\d+$/.test(bits ?? '') || prefixLength > 32) {
      throw new Error(`invalid service cluster IP range "${cidr}": want an IPv4 CIDR such as 10.96.0.0/12 (IPv6 and dual-stack are not supported)`);
    }
    if (prefixLength < 12) throw new Error('specified --service-cluster-ip-range[0] is too large; for 32-bit addresses, the mask must be >= 12');
    const size = 2 ** (32 - prefixLength);
    return new IPv4Range(Math.floor(ipv4ToNumber(address) / size) * size, prefixLength);
  }

  /** CIDR text, as upstream prints the range in errors. */
  toString(): string {
    return `${numberToIpv4(this.network)}/${this.prefixLength}`;
  }

  offsetOf(ip: string): number | undefined {
    if (!isIPv4(ip)) return undefined;
    const offset = ipv4ToNumber(ip) - this.base;
    return offset >= 0 && offset < this.size ? offset : undefined;
  }

  ipAt(offset: number): string {
    return numberToIpv4(this.base + offset);
  }

  networkAddress(): string {
    return numberToIpv4(this.network);
  }
}

export class PortRange {
  readonly staticBand: number;

  constructor(
    readonly base: number,
    readonly size: number,
  ) {
    this.staticBand = staticBand(size, 16, 128, 32);
  }

  /** "30000-32767", "30000+2767" or a single port, as upstream's ParsePortRange. */
  static parse(text: string): PortRange {
    const match = /^(\d+)(?:([-+])(\d+))?$/.exec(text.trim());
    if (match) {
      const low = Number(match[1]);
      const high = match[2] === '+' ? low + Number(match[3]) : match[2] === '-' ? Number(match[3]) : low;
      if (low >= 1 && high <= 65535 && high >= low) return new PortRange(low, high - low + 1);
    }
    throw new Error(`invalid service node port range "${text}": want a range such as 30000-32767`);
  }

  toString(): string {
    return `${this.base}-${this.base + this.size - 1}`;
  }

  offsetOf(port: number): number | undefined {
    const offset = port - this.base;
    return Number.isInteger(offset) && offset >= 0 && offset < this.size ? offset : undefined;
  }
}

export interface AllocatorOptions {
  random?: () => number;
}

export class ClusterIpAllocator {
  readonly family = 'IPv4';
  readonly allocator: RangeAllocator;

  constructor(
    storage: Storage,
    readonly range: IPv4Range,
    options: AllocatorOptions = {},
  ) {
    // The first address belongs to the kubernetes Service; it is only ever taken by asking for it.
    this.allocator = new RangeAllocator(
      storage,
      CLUSTER_IP_PREFIX,
      { size: range.size, staticBand: range.staticBand, neverDynamic: new Set([0]) },
      { name: (offset) => range.ipAt(offset), offset: (name) => range.offsetOf(name) },
      options.random,
    );
  }

  /** The address the kubernetes Service gets. */
  firstAddress(): string {
    return this.range.ipAt(0);
  }

  /** Takes a chosen IP. A dry run checks the range only, as upstream's dry-run allocator. */
  async allocate(ip: string, owner: string, dryRun = false): Promise<void> {
    const offset = this.range.offsetOf(ip);
    if (offset === undefined) {
      throw new AllocationError(`the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.range.toString()}`);
    }
    if (dryRun) return;
    if (!(await this.allocator.claim(offset, owner))) throw new AllocationError('provided IP is already allocated');
  }

  /** Takes a random free IP. A dry run answers the network address without looking, as upstream does. */
  async allocateNext(owner: string, dryRun = false): Promise<string> {
    if (dryRun) return this.range.networkAddress();
    const offset = await this.allocator.claimNext(owner);
    if (offset === undefined) throw new AllocationError(RANGE_FULL);
    return this.range.ipAt(offset);
  }

  async release(ip: string): Promise<void> {
    const offset = this.range.offsetOf(ip);
    if (offset !== undefined) await this.allocator.release(offset);
  }
}

export class NodePortAllocator {
  readonly allocator: RangeAllocator;

  constructor(
    storage: Storage,
    readonly range: PortRange,
    options: AllocatorOptions = {},
  ) {
    this.allocator = new RangeAllocator(
      storage,
      NODE_PORT_PREFIX,
      { size: range.size, staticBand: range.staticBand },
      { name: (offset) => String(range.base + offset), offset: (name) => (/^\d+$/.test(name) ? range.offsetOf(Number(name)) : undefined) },
      options.random,
    );
  }

  async allocate(port: number, owner: string, dryRun = false): Promise<void> {
    const offset = this.range.offsetOf(port);
    if (offset === undefined) {
      throw new AllocationError(`provided port is not in the valid range. The range of valid ports is ${this.range.toString()}`);
    }
    const free = dryRun ? !(await this.allocator.isTaken(offset)) : await this.allocator.claim(offset, owner);
    if (!free) throw new AllocationError('provided port is already allocated');
  }

  async allocateNext(owner: string, dryRun = false): Promise<number> {
    const offset = dryRun ? await this.allocator.peekNext() : await this.allocator.claimNext(owner);
    if (offset === undefined) throw new AllocationError(RANGE_FULL);
    return this.range.base + offset;
  }

  async release(port: number): Promise<void> {
    const offset = this.range.offsetOf(port);
    if (offset !== undefined) await this.allocator.release(offset);
  }
}

export interface ServiceAllocators {
  clusterIps: ClusterIpAllocator;
  nodePorts: NodePortAllocator;
}

export function serviceAllocators(storage: Storage, clusterIpRange: string, nodePortRange: string, options: AllocatorOptions = {}): ServiceAllocators {
  return {
    clusterIps: new ClusterIpAllocator(storage, IPv4Range.parse(clusterIpRange), options),
    nodePorts: new NodePortAllocator(storage, PortRange.parse(nodePortRange), options),
  };
}
