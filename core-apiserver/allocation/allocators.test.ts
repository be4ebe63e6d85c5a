import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStorage } from '../../apiserver/storage/memory.js';
import { AllocationError, ClusterIpAllocator, IPv4Range, NodePortAllocator, PortRange, CLUSTER_IP_PREFIX, NODE_PORT_PREFIX } from './allocators.js';

async function rejectsWith(promise: Promise<unknown>, message: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof AllocationError && error.message === message);
}

describe('IPv4Range', () => {
  it('excludes the network and broadcast addresses and keeps the first 256 addresses of a /12 as the static band', () => {
    const range = IPv4Range.parse('10.96.0.0/12');
    assert.equal(range.toString(), '10.96.0.0/12');
    assert.equal(range.size, 2 ** 20 - 2);
    assert.equal(range.staticBand, 256);
    assert.equal(range.offsetOf('10.96.0.0'), undefined);
    assert.equal(range.offsetOf('10.96.0.1'), 0);
    assert.equal(range.offsetOf('10.111.255.254'), range.size - 1);
    assert.equal(range.offsetOf('10.111.255.255'), undefined);
    assert.equal(range.offsetOf('1.2.3.4'), undefined);
    assert.equal(range.ipAt(9), '10.96.0.10');
  });

  it('masks the host bits of the CIDR and refuses IPv6 and malformed ranges', () => {
    assert.equal(IPv4Range.parse('10.96.3.4/16').toString(), '10.96.0.0/16');
    assert.throws(() => IPv4Range.parse('fd00::/108'), /IPv4 CIDR/);
    assert.throws(() => IPv4Range.parse('10.96.0.0'), /IPv4 CIDR/);
    assert.throws(() => IPv4Range.parse('10.96.0.0/33'), /IPv4 CIDR/);
    assert.throws(() => IPv4Range.parse('10.0.0.0/8'), /the mask must be >= 12/);
  });
});

describe('PortRange', () => {
  it('parses upstream range syntaxes and sizes the static band as upstream', () => {
    const range = PortRange.parse('30000-32767');
    assert.equal(range.size, 2768);
    assert.equal(range.staticBand, 86);
    assert.equal(range.toString(), '30000-32767');
    assert.equal(PortRange.parse('30000+9').toString(), '30000-30009');
    assert.equal(PortRange.parse('30000+9').staticBand, 0);
    assert.throws(() => PortRange.parse('32767-30000'), /invalid service node port range/);
  });
});

describe('ClusterIpAllocator', () => {
  it('picks random addresses above the static band and never the kubernetes address', async () => {
    const allocator = new ClusterIpAllocator(new MemoryStorage(), IPv4Range.parse('10.96.0.0/12'));
    const picked = new Set<string>();
    for (let index = 0; index < 20; index++) {
      const ip = await allocator.allocateNext('default/a');
      const offset = allocator.range.offsetOf(ip)!;
      assert.ok(offset >= 256, `${ip} is in the static band`);
      picked.add(ip);
    }
    assert.equal(picked.size, 20);
    // Random, not sequential: twenty consecutive offsets from a million would be a remarkable accident.
    const offsets = [...picked].map((ip) => allocator.range.offsetOf(ip)!).sort((a, b) => a - b);
    assert.ok(offsets[19] - offsets[0] > 1000);
  });

  it('stores one record per address under /registry/ipallocations/ and releases it', async () => {
    const storage = new MemoryStorage();
    const allocator = new ClusterIpAllocator(storage, IPv4Range.parse('10.96.0.0/12'));
    await allocator.allocate('10.96.0.10', 'default/dns');
    const record = await storage.get(`${CLUSTER_IP_PREFIX}10.96.0.10`);
    assert.equal(JSON.parse(record!.value).owner, 'default/dns');
    await allocator.release('10.96.0.10');
    assert.equal(await storage.get(`${CLUSTER_IP_PREFIX}10.96.0.10`), undefined);
    await allocator.allocate('10.96.0.10', 'default/other');
  });

  it('refuses an address outside the range and one already taken, with upstream messages', async () => {
    const allocator = new ClusterIpAllocator(new MemoryStorage(), IPv4Range.parse('10.96.0.0/12'));
    await rejectsWith(allocator.allocate('1.2.3.4', 'x/y'), 'the provided IP (1.2.3.4) is not in the valid range. The range of valid IPs is 10.96.0.0/12');
    await rejectsWith(allocator.allocate('10.96.0.0', 'x/y'), 'the provided IP (10.96.0.0) is not in the valid range. The range of valid IPs is 10.96.0.0/12');
    await allocator.allocate('10.96.0.20', 'x/a');
    await rejectsWith(allocator.allocate('10.96.0.20', 'x/b'), 'provided IP is already allocated');
  });

  it('hands out every dynamic address of a small range, then reports the range full', async () => {
    // A /29 has six usable addresses; the first is the kubernetes Service's.
    const allocator = new ClusterIpAllocator(new MemoryStorage(), IPv4Range.parse('192.168.1.0/29'));
    const picked = new Set<string>();
    for (let index = 0; index < 5; index++) picked.add(await allocator.allocateNext('x/y'));
    assert.deepEqual([...picked].sort(), ['192.168.1.2', '192.168.1.3', '192.168.1.4', '192.168.1.5', '192.168.1.6']);
    await rejectsWith(allocator.allocateNext('x/y'), 'range is full');
    await allocator.allocate('192.168.1.1', 'default/kubernetes');
    await allocator.release('192.168.1.4');
    assert.equal(await allocator.allocateNext('x/z'), '192.168.1.4');
  });

  it('falls back to the static band once the dynamic band is full', async () => {
    // /27: 30 usable, static band 16 (offsets 0..15), dynamic band offsets 16..29.
    const allocator = new ClusterIpAllocator(new MemoryStorage(), IPv4Range.parse('10.0.0.0/27'));
    for (let index = 0; index < 14; index++) assert.ok(allocator.range.offsetOf(await allocator.allocateNext('x/y'))! >= 16);
    assert.ok(allocator.range.offsetOf(await allocator.allocateNext('x/y'))! < 16);
  });

  it('answers a dry run without storing anything: the network address, and range checks only', async () => {
    const storage = new MemoryStorage();
    const allocator = new ClusterIpAllocator(storage, IPv4Range.parse('10.96.0.0/12'));
    assert.equal(await allocator.allocateNext('x/y', true), '10.96.0.0');
    await allocator.allocate('10.96.0.30', 'x/y', true);
    await rejectsWith(allocator.allocate('1.1.1.1', 'x/y', true), 'the provided IP (1.1.1.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12');
    assert.equal((await storage.list(CLUSTER_IP_PREFIX)).items.length, 0);
  });

  it('never hands out the same address twice when two servers allocate concurrently on one storage', async () => {
    const storage = new MemoryStorage();
    // 62 usable addresses, 61 dynamic: 80 concurrent requests collide constantly and exhaust the range.
    const replicas = [0, 1].map(() => new ClusterIpAllocator(storage, IPv4Range.parse('10.1.0.0/26')));
    const outcomes = await Promise.allSettled(Array.from({ length: 80 }, (_, index) => replicas[index % 2].allocateNext(`x/s${index}`)));
    const ips = outcomes.filter((outcome) => outcome.status === 'fulfilled').map((outcome) => (outcome as PromiseFulfilledResult<string>).value);
    const failures = outcomes.filter((outcome) => outcome.status === 'rejected');
    assert.equal(new Set(ips).size, ips.length);
    assert.equal(ips.length, 61);
    assert.ok(failures.every((failure) => (failure as PromiseRejectedResult).reason.message === 'range is full'));
    assert.equal((await storage.list(CLUSTER_IP_PREFIX)).items.length, 61);
  });
});

describe('NodePortAllocator', () => {
  it('allocates, refuses taken and out-of-range ports with upstream messages, and releases', async () => {
    const storage = new MemoryStorage();
    const allocator = new NodePortAllocator(storage, PortRange.parse('30000-32767'));
    await allocator.allocate(30080, 'default/web');
    assert.ok(await storage.get(`${NODE_PORT_PREFIX}30080`));
    await rejectsWith(allocator.allocate(30080, 'default/other'), 'provided port is already allocated');
    await rejectsWith(allocator.allocate(29999, 'default/other'), 'provided port is not in the valid range. The range of valid ports is 30000-32767');
    await allocator.release(30080);
    await allocator.allocate(30080, 'default/other');
  });

  it('allocates random free ports above the static band, and peeks without taking on a dry run', async () => {
    const storage = new MemoryStorage();
    const allocator = new NodePortAllocator(storage, PortRange.parse('30000-32767'));
    const port = await allocator.allocateNext('default/web');
    assert.ok(port >= 30086 && port <= 32767);
    const peeked = await allocator.allocateNext('default/dry', true);
    assert.ok(peeked >= 30000 && peeked <= 32767 && peeked !== port);
    assert.equal((await storage.list(NODE_PORT_PREFIX)).items.length, 1);
    await rejectsWith(allocator.allocate(port, 'default/dry', true), 'provided port is already allocated');
  });

  it('reports a full range', async () => {
    const allocator = new NodePortAllocator(new MemoryStorage(), PortRange.parse('30000-30002'));
    await Promise.all([0, 1, 2].map(() => allocator.allocateNext('x/y')));
    await rejectsWith(allocator.allocateNext('x/y'), 'range is full');
  });
});
