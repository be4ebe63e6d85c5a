// Audit logging end to end: a cluster started with an audit policy (the launcher gives every server its
// own log in the data directory), driven by the real kubectl. One request has one auditID in the
// aggregator's log, in core's log and in the Audit-Id response header.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { Cluster, kubectlBinary } from './harness.js';
import { startAllInOne, type RunningChain } from '../launcher/all-in-one.js';

let cluster: Cluster;
let policyDir: string;

// Only the admin's requests are audited, so the servers' own controllers do not fill the logs.
const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: None
    users: [admin]
    verbs: [get]
    resources: [{group: "", resources: [configmaps]}]
  - level: RequestResponse
    users: [admin]
    resources: [{group: "", resources: [configmaps]}]
  - level: Metadata
    users: [admin]
    resources: [{group: "", resources: [secrets, pods]}]
`;

interface AuditEvent {
  level: string;
  auditID: string;
  stage: string;
  verb: string;
  requestURI: string;
  user: { username?: string; groups?: string[] };
  impersonatedUser?: { username: string; groups?: string[] };
  objectRef?: Record<string, string>;
  responseStatus?: { code?: number; reason?: string; message?: string };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  requestObject?: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  responseObject?: any;
  annotations?: Record<string, string>;
}

/** Every event of a server, rotated files first (their names sort before the current file's). */
function events(component: string): AuditEvent[] {
  const files = readdirSync(cluster.dataDir).filter((file) => file.startsWith(`audit-${component}`) && file.endsWith('.log'));
  const current = `audit-${component}.log`;
  const ordered = [...files.filter((file) => file !== current).sort(), ...files.filter((file) => file === current)];
  return ordered.flatMap((file) => readFileSync(join(cluster.dataDir, file), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditEvent));
}

async function eventually<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function kubectl(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const result = await cluster.kubectl(args);
  assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed:\n${result.stderr}`);
  return result;
}

/** The Audit-Id header of the response kubectl -v=8 printed for the request on `path`. */
function auditIdFromVerbose(stderr: string, method: string, pathPart: string): string {
  const lines = stderr.split('\n');
  const start = lines.findIndex((line) => line.includes(`${method} https://`) && line.includes(pathPart));
  assert.ok(start >= 0, `kubectl -v=8 shows no ${method} of ${pathPart}:\n${stderr}`);
  for (const line of lines.slice(start)) {
    const match = /Audit-Id: ([0-9a-f-]{36})/.exec(line);
    if (match) return match[1];
  }
  throw new Error(`no Audit-Id header after ${method} ${pathPart}`);
}

/** Waits until both logs hold `count` events of the request. */
async function eventsOf(auditID: string, count: number): Promise<{ aggregator: AuditEvent[]; core: AuditEvent[] }> {
  return eventually(`${count} events of ${auditID} in both logs`, () => {
    const aggregator = events('aggregator').filter((event) => event.auditID === auditID);
    const core = events('core-apiserver').filter((event) => event.auditID === auditID);
    return aggregator.length >= count && core.length >= count ? { aggregator, core } : undefined;
  });
}

before(async () => {
  policyDir = mkdtempSync(join(tmpdir(), 'audit-policy-'));
  writeFileSync(join(policyDir, 'policy.yaml'), POLICY);
  cluster = await Cluster.start([`--audit-policy-file=${join(policyDir, 'policy.yaml')}`, '--audit-log-maxsize=1']);
});

after(async () => {
  await cluster?.stop();
  cluster?.cleanup();
  rmSync(policyDir, { recursive: true, force: true });
});

describe('audit logging', () => {
  it('kubectl create configmap at RequestResponse: the request and response objects, one auditID in both logs and the header', async () => {
    const { stderr } = await kubectl(['create', 'configmap', 'audited', '--from-literal=color=blue', '-v=8']);
    const auditID = auditIdFromVerbose(stderr, 'POST', '/configmaps');
    const { aggregator, core } = await eventsOf(auditID, 2);
    for (const log of [aggregator, core]) {
      assert.deepEqual(log.map((event) => event.stage), ['RequestReceived', 'ResponseComplete']);
      const complete = log[1];
      assert.equal(complete.level, 'RequestResponse');
      assert.equal(complete.verb, 'create');
      assert.deepEqual(complete.user, { username: 'admin', groups: ['system:masters', 'system:authenticated'] });
      assert.deepEqual(complete.objectRef, { resource: 'configmaps', namespace: 'default', name: 'audited', apiVersion: 'v1' });
      assert.deepEqual(complete.responseStatus, { metadata: {}, code: 201 });
      assert.deepEqual(complete.requestObject.data, { color: 'blue' });
      assert.equal(complete.responseObject.metadata.name, 'audited');
      assert.match(complete.responseObject.metadata.uid, /^[0-9a-f-]{36}$/);
      assert.deepEqual(complete.annotations, { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' });
    }
    assert.equal(aggregator[1].responseObject.metadata.uid, core[1].responseObject.metadata.uid);
  });

  it('secrets at Metadata: no objects, and the secret\'s value is in no log', async () => {
    const { stderr } = await kubectl(['create', 'secret', 'generic', 'audited', '--from-literal=password=hunter2-audit', '-v=8']);
    const auditID = auditIdFromVerbose(stderr, 'POST', '/secrets');
    const { aggregator, core } = await eventsOf(auditID, 2);
    for (const log of [aggregator, core]) {
      assert.deepEqual(log.map((event) => [event.stage, event.level]), [['RequestReceived', 'Metadata'], ['ResponseComplete', 'Metadata']]);
      assert.equal(log[1].requestObject, undefined);
      assert.equal(log[1].responseObject, undefined);
      assert.equal(log[1].objectRef?.name, 'audited');
    }
    const everything = readdirSync(cluster.dataDir).filter((file) => file.startsWith('audit-')).map((file) => readFileSync(join(cluster.dataDir, file), 'utf8')).join('');
    assert.ok(!everything.includes(Buffer.from('hunter2-audit').toString('base64')) && !everything.includes('hunter2-audit'));
  });

  it('a get of a configmap (level None) produces no event, but still has an Audit-Id', async () => {
    const { stderr } = await kubectl(['get', 'configmap', 'audited', '-v=8']);
    const auditID = auditIdFromVerbose(stderr, 'GET', '/configmaps/audited');
    // Events are written in order: once a later request's events are in both logs, the get's would be too.
    const later = auditIdFromVerbose((await kubectl(['create', 'configmap', 'after-get', '-v=8'])).stderr, 'POST', '/configmaps');
    await eventsOf(later, 2);
    assert.deepEqual(events('aggregator').filter((event) => event.auditID === auditID), []);
    assert.deepEqual(events('core-apiserver').filter((event) => event.auditID === auditID), []);
  });

  it('kubectl get -w: RequestReceived, ResponseStarted, then ResponseComplete when kubectl stops, in both logs', async () => {
    const watcher = cluster.spawnKubectl(['get', 'pods', '-w', '--namespace=kube-public']);
    try {
      const started = await eventually('the watch\'s ResponseStarted in both logs', () => {
        const aggregator = events('aggregator').find((event) => event.verb === 'watch' && event.stage === 'ResponseStarted' && event.objectRef?.namespace === 'kube-public');
        if (!aggregator) return undefined;
        return events('core-apiserver').some((event) => event.auditID === aggregator.auditID && event.stage === 'ResponseStarted') ? aggregator : undefined;
      });
      assert.deepEqual(started.responseStatus, { metadata: {}, code: 200 });
      watcher.kill('SIGTERM');
      const { aggregator, core } = await eventsOf(started.auditID, 3);
      for (const log of [aggregator, core]) {
        assert.deepEqual(log.map((event) => event.stage), ['RequestReceived', 'ResponseStarted', 'ResponseComplete']);
        assert.equal(log[2].verb, 'watch');
        assert.equal(log[2].responseObject, undefined, 'a watch stream is not logged as a response object');
      }
    } finally {
      watcher.kill('SIGKILL');
    }
  });

  it('a forbidden impersonated request: the real user, the impersonated one, the decision and the Status', async () => {
    const result = await cluster.kubectl(['get', 'configmaps', '--as=bob', '-v=8']);
    assert.notEqual(result.code, 0);
    const auditID = auditIdFromVerbose(result.stderr, 'GET', '/configmaps');
    // The aggregator denies it: core never sees the request.
    const aggregator = await eventually('the aggregator\'s events', () => {
      const found = events('aggregator').filter((event) => event.auditID === auditID);
      return found.length >= 2 ? found : undefined;
    });
    const complete = aggregator[1];
    assert.equal(complete.user.username, 'admin');
    assert.deepEqual(complete.impersonatedUser, { username: 'bob', groups: ['system:authenticated'] });
    assert.equal(complete.annotations?.['authorization.k8s.io/decision'], 'forbid');
    assert.equal(complete.responseStatus?.code, 403);
    assert.equal(complete.responseStatus?.reason, 'Forbidden');
    assert.equal(complete.responseStatus?.message, 'configmaps is forbidden: User "bob" cannot list resource "configmaps" in API group "" in the namespace "default"');
  });

  it('rotates each server\'s log by size (--audit-log-maxsize=1) with lumberjack\'s names, losing no event', async () => {
    const big = join(policyDir, 'big.txt');
    writeFileSync(big, 'x'.repeat(300_000));
    for (const name of ['big-1', 'big-2', 'big-3']) await kubectl(['create', 'configmap', name, `--from-file=${big}`]);
    const backups = (component: string) => readdirSync(cluster.dataDir).filter((file) => new RegExp(`^audit-${component}-\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}\\.\\d{3}\\.log$`).test(file));
    await eventually('rotated logs of the aggregator and core', () => (backups('aggregator').length >= 1 && backups('core-apiserver').length >= 1 ? true : undefined));
    for (const component of ['aggregator', 'core-apiserver']) {
      const names = await eventually(`all three creates in ${component}'s logs`, () => {
        const found = events(component).filter((event) => event.stage === 'ResponseComplete' && event.verb === 'create' && event.objectRef?.name?.startsWith('big-')).map((event) => event.objectRef!.name);
        return found.length === 3 ? found : undefined;
      });
      assert.deepEqual(names, ['big-1', 'big-2', 'big-3']);
    }
  });
});

describe('audit logging in the all-in-one chain', () => {
  let chain: RunningChain;
  let dataDir: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'kdc-audit-aio-'));
    writeFileSync(join(dataDir, 'policy.yaml'), POLICY);
    chain = await startAllInOne({ dataDir, securePort: 0, nodeAgent: false, audit: { policyFile: join(dataDir, 'policy.yaml') } });
  });

  after(async () => {
    await chain?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('audits a request once, in the aggregator\'s log, with the Audit-Id kubectl sees', async () => {
    const result = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(kubectlBinary(), [`--kubeconfig=${chain.kubeconfig}`, `--cache-dir=${join(dataDir, 'cache')}`, 'create', 'configmap', 'in-process', '-v=8'], { env: { ...process.env, HOME: dataDir }, timeout: 60_000 }, (error, _stdout, stderr) => resolve({ code: error ? 1 : 0, stderr: stderr.toString() }));
    });
    assert.equal(result.code, 0, result.stderr);
    const auditID = auditIdFromVerbose(result.stderr, 'POST', '/configmaps');
    const read = (component: string) => readFileSync(join(dataDir, `audit-${component}.log`), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditEvent).filter((event) => event.auditID === auditID);
    const logged = await eventually('the create\'s events', () => (read('aggregator').length >= 2 ? read('aggregator') : undefined));
    assert.deepEqual(logged.map((event) => event.stage), ['RequestReceived', 'ResponseComplete']);
    assert.deepEqual(logged[1].requestObject.metadata, { name: 'in-process' });
    assert.deepEqual(read('core-apiserver'), [], 'the in-process delegate does not audit it again');
  });
});

describe('audit logging as text lines, written in batches (--audit-log-format=legacy --audit-log-mode=batch)', () => {
  let legacy: Cluster;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'audit-legacy-'));
    writeFileSync(join(dir, 'policy.yaml'), POLICY);
    legacy = await Cluster.start([`--audit-policy-file=${join(dir, 'policy.yaml')}`, '--audit-log-format=legacy', '--audit-log-mode=batch', '--audit-log-batch-max-size=50', '--audit-log-batch-max-wait=200ms']);
  });

  after(async () => {
    await legacy?.stop();
    legacy?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kubectl get pods: one line per stage in the aggregator\'s and core\'s logs, with the Audit-Id kubectl sees', async () => {
    const result = await legacy.kubectl(['get', 'pods', '-v=8']);
    assert.equal(result.code, 0, result.stderr);
    const auditID = auditIdFromVerbose(result.stderr, 'GET', '/pods');
    const lines = (component: string) => readFileSync(join(legacy.dataDir, `audit-${component}.log`), 'utf8').split('\n').filter((line) => line.includes(`id="${auditID}"`));
    for (const component of ['aggregator', 'core-apiserver']) {
      const logged = await eventually(`${component}'s lines of the list`, () => (lines(component).length >= 2 ? lines(component) : undefined));
      assert.equal(logged.length, 2, logged.join('\n'));
      assert.match(logged[0], /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z AUDIT: id="[0-9a-f-]{36}" stage="RequestReceived" ip="127\.0\.0\.1" method="list" user="admin" groups="\\"system:masters\\",\\"system:authenticated\\"" as="<self>" asgroups="<lookup>" user-agent="kubectl\/v[^"]+" namespace="default" uri="\/api\/v1\/namespaces\/default\/pods\?limit=500" response="<deferred>"$/);
      assert.match(logged[1], / stage="ResponseComplete" .* response="200"$/);
    }
  });
});
