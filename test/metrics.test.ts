// kubectl top, end to end: the launcher's node agent registers this host (and two simulated nodes), runs
// pods on its simulated runtime and serves kubelet-style /metrics/resource; the metrics extension scrapes
// them over TLS and serves metrics.k8s.io through the aggregator as a remote APIService.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { Cluster } from './harness.js';

let cluster: Cluster;

async function ok(args: string[]): Promise<string> {
  const result = await cluster.kubectl(args);
  assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
  return result.stdout;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const started = Date.now();
  let last: unknown;
  while (Date.now() - started < timeoutMs) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms (${String(last ?? '')})`);
}

function pidOf(script: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(script) && cmdline.includes(cluster.dataDir)) return Number(entry);
    } catch {
      // gone
    }
  }
  throw new Error(`no process for ${script}`);
}

function rows(table: string): string[][] {
  return table.trim().split('\n').slice(1).map((line) => line.trim().split(/\s+/));
}

before(async () => {
  cluster = await Cluster.start(['--node-agent', '--node-name=host-1', '--simulated-nodes=2', '--metric-resolution=2', '--node-monitor-grace-period=6']);
});

after(async () => {
  await cluster?.stop();
  cluster?.cleanup();
});

describe('kubectl top', () => {
  it('shows every node with CPU and memory percentages of allocatable', async () => {
    const table = await eventually('three nodes with metrics', async () => {
      const result = await cluster.kubectl(['top', 'nodes']);
      return result.code === 0 && rows(result.stdout).length === 3 ? result.stdout : undefined;
    });
    assert.match(table.split('\n')[0], /^NAME\s+CPU\(cores\)\s+CPU(\(%\))?\s+MEMORY\(bytes\)\s+MEMORY(\(%\))?/);
    const byName = new Map(rows(table).map((row) => [row[0], row]));
    assert.deepEqual([...byName.keys()].sort(), ['host-1', 'sim-node-1', 'sim-node-2']);
    // A simulated node idles at 50m of its 4 cores and 512Mi of its 16Gi.
    assert.deepEqual(byName.get('sim-node-1')!.slice(1), ['50m', '1%', '512Mi', '3%']);
    assert.match(byName.get('host-1')![1], /^\d+m$/);

    const one = await ok(['top', 'node', 'sim-node-2']);
    assert.equal(rows(one).length, 1);
    assert.equal(rows(one)[0][0], 'sim-node-2');
    const nodes = await ok(['get', 'nodes']);
    assert.match(nodes, /sim-node-1\s+Ready/);
  });

  it('shows pods on a node, per container, across namespaces and by label', async () => {
    await ok(['create', 'namespace', 'shop']);
    const manifest = (name: string, app: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: shop, labels: {app: ${app}}}
spec:
  nodeName: sim-node-1
  containers:
  - {name: app, image: shop:1.0, resources: {requests: {cpu: 200m, memory: 100Mi}}}
  - {name: proxy, image: envoy:1.30, resources: {requests: {cpu: 100m, memory: 50Mi}}}
`;
    const applied = await cluster.kubectl(['apply', '-f', '-'], { input: `${manifest('cart', 'cart')}---\n${manifest('search', 'search')}` });
    assert.equal(applied.code, 0, applied.stderr);
    await eventually('pods running', async () => ((await ok(['get', 'pods', '-n', 'shop'])).match(/2\/2\s+Running/g)?.length === 2 ? true : undefined));

    const pods = await eventually('pod metrics', async () => {
      const result = await cluster.kubectl(['top', 'pods', '-n', 'shop']);
      return result.code === 0 && rows(result.stdout).length === 2 ? result.stdout : undefined;
    });
    assert.match(pods.split('\n')[0], /^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
    for (const [name, cpu, memory] of rows(pods)) {
      assert.ok(['cart', 'search'].includes(name));
      // Usage is what the pod requests, give or take the simulated wobble (80–100 %).
      const millicores = Number(/^(\d+)m$/.exec(cpu)?.[1]);
      assert.ok(millicores >= 230 && millicores <= 310, `cpu ${cpu}`);
      assert.match(memory, /^\d+Mi$/);
    }

    const containers = await ok(['top', 'pods', '-n', 'shop', '--containers']);
    assert.match(containers.split('\n')[0], /^POD\s+NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
    assert.deepEqual(rows(containers).map((row) => `${row[0]}/${row[1]}`).sort(), ['cart/app', 'cart/proxy', 'search/app', 'search/proxy']);

    const all = await ok(['top', 'pods', '-A']);
    assert.match(all, /^NAMESPACE\s+NAME\s+CPU\(cores\)/);
    assert.match(all, /\nshop\s+cart\s/);

    const selected = await ok(['top', 'pods', '-n', 'shop', '-l', 'app=search']);
    assert.deepEqual(rows(selected).map((row) => row[0]), ['search']);
    const none = await cluster.kubectl(['top', 'pods', '-n', 'shop', '-l', 'app=nothing']);
    assert.match(none.stdout + none.stderr, /No resources found in shop namespace/);
  });

  it('schedules a `kubectl run` pod onto a node and shows it in top within a resolution period', async () => {
    await ok(['run', 'probe', '--image=busybox:1.36', '-n', 'shop', '--', 'sleep', '3600']);
    const node = await eventually('pod bound', async () => {
      const pod = JSON.parse(await ok(['get', 'pod', 'probe', '-n', 'shop', '-o', 'json'])) as { spec: { nodeName?: string }; status: { phase?: string } };
      return pod.spec.nodeName && pod.status.phase === 'Running' ? pod.spec.nodeName : undefined;
    });
    // The least-loaded node: the simulated node without the shop pods.
    assert.ok(['host-1', 'sim-node-2'].includes(node), `bound to ${node}`);
    const started = Date.now();
    await eventually('probe in top pods', async () => ((await cluster.kubectl(['top', 'pod', 'probe', '-n', 'shop'])).code === 0 ? true : undefined));
    // Two scrapes give the first rate: within two resolution periods (2 s) plus the time to see the pod.
    assert.ok(Date.now() - started < 15_000);
  });

  it('serves metrics.k8s.io objects as metrics-server does', async () => {
    type NodeMetricsList = { kind: string; items: { metadata: { name: string; labels?: Record<string, string> }; window: string; timestamp: string; usage: { cpu: string; memory: string } }[] };
    // A node whose last scrape failed (a busy machine can make one time out) is left out until the next one, as metrics-server does.
    const nodes = await eventually('metrics of every node', async () => {
      const list = JSON.parse(await ok(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes'])) as NodeMetricsList;
      return list.items.length === 3 ? list : undefined;
    });
    assert.equal(nodes.kind, 'NodeMetricsList');
    assert.deepEqual(nodes.items.map((item) => item.metadata.name), ['host-1', 'sim-node-1', 'sim-node-2']);
    const node = nodes.items[1];
    assert.match(node.window, /^\d+(\.\d+)?s$/);
    assert.ok(Date.now() - Date.parse(node.timestamp) < 30_000);
    assert.equal(node.metadata.labels?.['kubernetes.io/hostname'], 'sim-node-1');

    const pod = JSON.parse(await ok(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods/cart'])) as { kind: string; metadata: { labels?: Record<string, string> }; containers: { name: string; usage: { cpu: string; memory: string } }[] };
    assert.equal(pod.kind, 'PodMetrics');
    assert.equal(pod.metadata.labels?.app, 'cart');
    assert.deepEqual(pod.containers.map((container) => container.name), ['app', 'proxy']);

    const missingPod = await cluster.kubectl(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods/nope']);
    assert.match(missingPod.stderr, /pods "nope" not found/);
    const missingNode = await cluster.kubectl(['top', 'node', 'nope']);
    assert.match(missingNode.stderr, /nodes "nope" not found/);
  });

  it('says in its readiness self-check that every node is scraped', async () => {
    const port = Number(/\[sample-extension\] \{"component":"sample-extension","listening":"https:\/\/127\.0\.0\.1:(\d+)"\}/.exec(cluster.output)?.[1]);
    const response = await cluster.request('GET', '/readyz?verbose', { port });
    assert.equal(response.status, 200);
    assert.match(response.body, /\[\+\]metric-storage-ready ok: 3\/3 nodes scraped in \d+ ms, \d+ pods/);
    assert.match(response.body, /\[\+\]api-access ok/);
  });

  it('marks a node whose agent stopped NotReady, drops its metrics, and recovers when it returns', async () => {
    const agent = pidOf('dist/node-agent/main.js');
    process.kill(agent, 'SIGSTOP');
    try {
      await eventually('nodes NotReady', async () => ((await ok(['get', 'nodes'])).match(/NotReady/g)?.length === 3 ? true : undefined), 40_000);
      const unknown = JSON.parse(await ok(['get', 'node', 'sim-node-1', '-o', 'json'])) as { status: { conditions: { type: string; status: string; reason: string }[] } };
      assert.deepEqual(unknown.status.conditions.find((condition) => condition.type === 'Ready'), { ...unknown.status.conditions.find((condition) => condition.type === 'Ready'), status: 'Unknown', reason: 'NodeStatusUnknown' });
      await eventually('node metrics gone', async () => {
        const result = await cluster.kubectl(['top', 'node', 'sim-node-1']);
        return result.code !== 0 ? result.stderr : undefined;
      });
    } finally {
      process.kill(agent, 'SIGCONT');
    }
    await eventually('nodes Ready again', async () => ((await ok(['get', 'nodes'])).match(/\sReady\s/g)?.length === 3 ? true : undefined), 40_000);
    await eventually('node metrics back', async () => ((await cluster.kubectl(['top', 'node', 'sim-node-1'])).code === 0 ? true : undefined), 40_000);
  });

  it('fails kubectl top like metrics-server when the extension is down, and nothing else', async () => {
    const extension = pidOf('dist/sample-extension/main.js');
    process.kill(extension, 'SIGSTOP');
    try {
      // The availability controller notices within a few seconds; then kubectl top fails at once.
      const failure = await eventually('kubectl top failing', async () => {
        const result = await cluster.kubectl(['top', 'nodes', '--request-timeout=5s'], { timeoutMs: 20_000 });
        return result.code !== 0 && /Metrics API not available|the server is currently unable to handle the request/.test(result.stderr) ? result.stderr : undefined;
      }, 60_000);
      assert.match(failure, /Metrics API not available|ServiceUnavailable/);
      await ok(['get', 'pods', '-n', 'shop']);
      const resources = await ok(['api-resources']);
      assert.match(resources, /pods\s+po\s+v1\s+true\s+Pod/);
    } finally {
      process.kill(extension, 'SIGCONT');
    }
  });
});
