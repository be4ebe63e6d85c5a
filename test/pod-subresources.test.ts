// The connect subresources with the real kubectl, end to end through the aggregator: nodes/proxy to the
// node agent's kubelet endpoint, services/proxy to an HTTPS server of this test, `kubectl logs`, `exec`,
// `port-forward` and `debug` against pods of the node agent's simulated runtime (which says plainly that it
// has no container runtime), and the API errors upstream gives.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Cluster } from './harness.js';

let cluster: Cluster;
let backend: https.Server;
let backendPort = 0;

async function ok(args: string[], input?: string): Promise<string> {
  const result = await cluster.kubectl(args, { input });
  assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
  return result.stdout;
}

async function fails(args: string[]): Promise<string> {
  const result = await cluster.kubectl(args, { timeoutMs: 90_000 });
  assert.notEqual(result.code, 0, `kubectl ${args.join(' ')} should have failed:\n${result.stdout}`);
  return result.stderr;
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

before(async () => {
  cluster = await Cluster.start(['--node-agent', '--node-name=host-1']);
  // An HTTPS service backend on loopback, with a certificate of the cluster's PKI (the proxy does not verify it).
  backend = https.createServer({ cert: readFileSync(cluster.pki.serving['core-apiserver'].cert), key: readFileSync(cluster.pki.serving['core-apiserver'].key) }, (req, res) => {
    if (req.url?.startsWith('/moved')) {
      res.writeHead(302, { Location: '/landing?from=moved' });
      res.end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*' });
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
  });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  backendPort = (backend.address() as AddressInfo).port;
  await ok(['create', 'namespace', 'x']);
  await ok(['run', 'web', '--image=nginx']);
  await eventually('web running', async () => ((await cluster.kubectl(['get', 'pod', 'web', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running' ? true : undefined));
});

after(async () => {
  backend?.closeAllConnections();
  backend?.close();
  await cluster?.stop();
  cluster?.cleanup();
});

describe('discovery', () => {
  it('lists the connect subresources with upstream kinds and verbs', async () => {
    const list = JSON.parse(await ok(['get', '--raw', '/api/v1'])) as { resources: { name: string; kind: string; verbs: string[] }[] };
    const byName = new Map(list.resources.map((resource) => [resource.name, resource]));
    const expected: Record<string, [string, string[]]> = {
      'nodes/proxy': ['NodeProxyOptions', ['create', 'delete', 'get', 'patch', 'update']],
      'services/proxy': ['ServiceProxyOptions', ['create', 'delete', 'get', 'patch', 'update']],
      'pods/proxy': ['PodProxyOptions', ['create', 'delete', 'get', 'patch', 'update']],
      'pods/log': ['Pod', ['get']],
      'pods/exec': ['PodExecOptions', ['create', 'get']],
      'pods/attach': ['PodAttachOptions', ['create', 'get']],
      'pods/portforward': ['PodPortForwardOptions', ['create', 'get']],
      'pods/ephemeralcontainers': ['Pod', ['get', 'patch', 'update']],
    };
    for (const [name, [kind, verbs]] of Object.entries(expected)) {
      assert.deepEqual([byName.get(name)?.kind, byName.get(name)?.verbs], [kind, verbs], name);
    }
  });
});

describe('nodes/proxy', () => {
  it('reaches the node agent\'s kubelet endpoint with the kubelet client certificate', async () => {
    const metrics = await ok(['get', '--raw', '/api/v1/nodes/host-1/proxy/metrics/resource']);
    assert.match(metrics, /^node_cpu_usage_seconds_total \d/m);
    const pods = JSON.parse(await ok(['get', '--raw', '/api/v1/nodes/host-1/proxy/pods'])) as { kind: string; items: { metadata: { name: string } }[] };
    assert.equal(pods.kind, 'PodList');
    assert.ok(pods.items.some((pod) => pod.metadata.name === 'web'));
  });

  it('a missing node is a 404', async () => {
    assert.match(await fails(['get', '--raw', '/api/v1/nodes/nope/proxy/pods']), /Error from server \(NotFound\): nodes "nope" not found/);
  });
});

describe('services/proxy', () => {
  before(async () => {
    // A selector-less Service; its Endpoints name a pod (upstream only proxies to addresses that are pods
    // with that IP), one no node agent runs, whose IP is set to the backend's.
    await ok(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc', namespace: 'x' }, spec: { ports: [{ name: 'https', port: 443, targetPort: backendPort }] } },
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'empty', namespace: 'x' }, spec: { ports: [{ name: 'https', port: 443 }] } },
        { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'backend', namespace: 'x' }, spec: { nodeName: 'elsewhere', containers: [{ name: 'c', image: 'nginx' }] } },
      ],
    }));
    await ok(['-n', 'x', 'patch', 'pod', 'backend', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { podIP: '127.0.0.1', podIPs: [{ ip: '127.0.0.1' }] } })]);
    await ok(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'svc', namespace: 'x' },
      subsets: [{ addresses: [{ ip: '127.0.0.1', targetRef: { kind: 'Pod', name: 'backend', namespace: 'x' } }], ports: [{ name: 'https', port: backendPort }] }],
    }));
  });

  it('proxies to an HTTPS endpoint by scheme, name and port number, with the path and query', async () => {
    const seen = JSON.parse(await ok(['get', '--raw', '/api/v1/namespaces/x/services/https:svc:443/proxy/some/path?a=b'])) as { method: string; url: string; headers: Record<string, string> };
    assert.equal(seen.method, 'GET');
    assert.equal(seen.url, '/some/path?a=b');
    assert.equal(seen.headers['x-forwarded-uri'], '/api/v1/namespaces/x/services/https:svc:443/proxy/some/path');
    assert.equal(seen.headers.authorization, undefined);
    assert.equal(Object.keys(seen.headers).filter((name) => name.startsWith('x-remote-') || name.startsWith('impersonate-')).length, 0);
  });

  it('takes the port by name and follows a redirect rewritten under the proxy path', async () => {
    const seen = JSON.parse(await ok(['get', '--raw', '/api/v1/namespaces/x/services/https:svc:https/proxy/moved'])) as { url: string };
    assert.equal(seen.url, '/landing?from=moved');
    const raw = await cluster.request('GET', '/api/v1/namespaces/x/services/https:svc:https/proxy/moved');
    assert.equal(raw.status, 302);
    assert.equal(raw.headers.location, '/api/v1/namespaces/x/services/https:svc:https/proxy/landing?from=moved');
  });

  it('streams request bodies both ways (POST)', async () => {
    const raw = await cluster.request('POST', '/api/v1/namespaces/x/services/https:svc:443/proxy/echo', { body: 'hello', headers: { 'Content-Type': 'text/plain' } });
    assert.equal(raw.status, 200);
    assert.equal((JSON.parse(raw.body) as { method: string }).method, 'POST');
    assert.equal(raw.headers['access-control-allow-origin'], undefined, 'CORS headers of the backend are dropped');
  });

  it('answers upstream\'s 503s for missing endpoints, unknown ports and unreachable backends', async () => {
    assert.match(await fails(['get', '--raw', '/api/v1/namespaces/x/services/https:svc:444/proxy/']), /Error from server \(ServiceUnavailable\): no service port 444 found for service "svc"/);
    assert.match(await fails(['get', '--raw', '/api/v1/namespaces/x/services/empty/proxy/']), /Error from server \(NotFound\): endpoints "empty" not found/);
    await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'empty', namespace: 'x' }, subsets: [] }));
    assert.match(await fails(['get', '--raw', '/api/v1/namespaces/x/services/empty/proxy/']), /Error from server \(ServiceUnavailable\): no endpoints available for service "empty"/);
    // An address that is no pod of the namespace is skipped, as upstream's isValidAddress does.
    await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'empty', namespace: 'x' }, subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port: backendPort }] }] }));
    assert.match(await fails(['get', '--raw', '/api/v1/namespaces/x/services/https:empty:443/proxy/']), /no endpoints available for service "https:empty:443"/);
    // The backend pod's IP on a port nothing listens on.
    await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'empty', namespace: 'x' }, subsets: [{ addresses: [{ ip: '127.0.0.1', targetRef: { kind: 'Pod', name: 'backend', namespace: 'x' } }], ports: [{ name: 'https', port: 1 }] }] }));
    assert.match(await fails(['get', '--raw', '/api/v1/namespaces/x/services/https:empty:443/proxy/']), /Error from server \(ServiceUnavailable\): error trying to reach service: dial tcp 127\.0\.0\.1:1: connect: connection refused/);
  });

  it('refuses a pod proxy to a loopback pod address', async () => {
    assert.match(await fails(['get', '--raw', '/api/v1/namespaces/x/pods/backend/proxy/']), /Error from server \(BadRequest\): address not allowed/);
  });
});

describe('logs, exec, attach and port-forward on the simulated runtime', () => {
  it('kubectl logs says the runtime is simulated; a missing pod is a 404', async () => {
    const stderr = await fails(['logs', 'web']);
    assert.match(stderr, /Error from server \(BadRequest\): the node agent simulates containers and has no container runtime: container "web" of pod "default\/web" never ran, so it has no logs/);
    assert.match(await fails(['logs', 'nope']), /pods "nope" not found/);
    assert.match(await fails(['get', '--raw', '/api/v1/namespaces/default/pods/nope/log']), /Error from server \(NotFound\): pods "nope" not found/);
  });

  it('checks the container and the log options as upstream', async () => {
    await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'two', namespace: 'x' }, spec: { nodeName: 'nowhere', containers: [{ name: 'a', image: 'nginx' }, { name: 'b', image: 'nginx' }] } }));
    assert.match(await fails(['get', '--raw', '/api/v1/namespaces/x/pods/two/log']), /Error from server \(BadRequest\): a container name must be specified for pod two, choose one of: \[a b\]/);
    assert.match(await fails(['get', '--raw', '/api/v1/namespaces/x/pods/two/log?container=y']), /Error from server \(BadRequest\): container y is not valid for pod two/);
    assert.match(await fails(['get', '--raw', '/api/v1/namespaces/default/pods/web/log?tailLines=-1']), /PodLogOptions "web" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0/);
    assert.match(await fails(['exec', '-n', 'x', 'two', '-c', 'a', '--', 'ls']), /nowhere|does not have a host assigned|nodes "nowhere" not found/);
  });

  it('kubectl exec and attach get the node agent\'s refusal', async () => {
    const exec = await fails(['exec', 'web', '--', 'ls']);
    assert.match(exec, /the node agent simulates containers and has no container runtime, so it cannot run a command in container "web" of pod "default\/web"/);
    const attach = await fails(['attach', 'web']);
    assert.match(attach, /the node agent simulates containers and has no container runtime, so it cannot attach to container "web" of pod "default\/web"/);
  });

  it('kubectl port-forward gets the refusal too', async () => {
    // kubectl opens the tunnel (websockets, else SPDY) before it listens, and stops on the refusal.
    assert.match(await fails(['port-forward', 'pod/web', ':80']), /error upgrading connection: .*so it cannot forward ports to pod "default\/web"/);
  });
});

describe('kubectl debug', () => {
  it('adds an ephemeral container through pods/ephemeralcontainers; attaching to it gets the refusal', async () => {
    await ok(['debug', 'web', '--image=busybox', '--container=debugger']);
    assert.equal(await ok(['get', 'pod', 'web', '-o', 'jsonpath={.spec.ephemeralContainers[*].name}']), 'debugger');
    // The node agent reports it running, as it reports every container of its simulated runtime.
    await eventually('the debugger reported running', async () => ((await ok(['get', 'pod', 'web', '-o', 'jsonpath={.status.ephemeralContainerStatuses[0].state.running.startedAt}'])) ? true : undefined));
    const attach = await fails(['attach', 'web', '-c', 'debugger']);
    assert.match(attach, /so it cannot attach to container "debugger" of pod "default\/web"/);
    // Changing it is refused as upstream refuses it.
    const changed = await cluster.kubectl(['patch', 'pod', 'web', '--subresource=ephemeralcontainers', '-p', JSON.stringify({ spec: { ephemeralContainers: [{ name: 'debugger', image: 'alpine' }] } })]);
    assert.notEqual(changed.code, 0);
    assert.match(changed.stderr, /existing ephemeral containers "debugger" may not be changed/);
  });

  it('PodSecurity judges the ephemeral container a debug adds', async () => {
    await ok(['create', 'namespace', 'secure']);
    await ok(['label', 'namespace', 'secure', 'pod-security.kubernetes.io/enforce=baseline']);
    await ok(['-n', 'secure', 'run', 'app', '--image=nginx']);
    const refused = await fails(['-n', 'secure', 'debug', 'app', '--image=busybox', '--profile=sysadmin', '--container=root']);
    assert.match(refused, /violates PodSecurity "baseline:latest": privileged \(container "root" must not set securityContext\.privileged=true\)/);
    await ok(['-n', 'secure', 'debug', 'app', '--image=busybox', '--profile=baseline', '--container=plain']);
    assert.equal(await ok(['-n', 'secure', 'get', 'pod', 'app', '-o', 'jsonpath={.spec.ephemeralContainers[*].name}']), 'plain');
  });
});
