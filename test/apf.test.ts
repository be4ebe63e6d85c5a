// API Priority and Fairness end to end: the real launcher and kubectl. Upstream's bootstrap FlowSchemas and
// priority levels exist and are kept; responses name the schema and level that handled them; and a flood
// from one user into a small priority level is queued and rejected (429 with Retry-After) while another
// user of the same level is served next to it rather than after the flood.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { Cluster } from './harness.js';
import { dealHand, flowHash } from '../apiserver/flowcontrol/shuffle-sharding.js';

let cluster: Cluster;

const FLOW_SCHEMAS = ['exempt', 'probes', 'system-leader-election', 'endpoint-controller', 'workload-leader-election', 'system-node-high', 'system-nodes', 'kube-controller-manager', 'kube-scheduler', 'kube-system-service-accounts', 'service-accounts', 'global-default', 'catch-all'];
const PRIORITY_LEVELS = ['catch-all', 'exempt', 'global-default', 'leader-election', 'node-high', 'system', 'workload-high', 'workload-low'];

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

async function uid(kind: string, name: string): Promise<string> {
  const result = await cluster.kubectl(['get', kind, name, '-o', 'jsonpath={.metadata.uid}']);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

interface Timed {
  status: number;
  headers: Record<string, unknown>;
  body: string;
  ms: number;
}

/** A request as the admin impersonating `user` in `groups`, on its own connection. */
function asUser(user: string, groups: string[], path: string): Promise<Timed> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const request = https.request(
      `${cluster.url}${path}`,
      {
        ca: readFileSync(cluster.pki.caCert),
        cert: readFileSync(cluster.pki.adminCert),
        key: readFileSync(cluster.pki.adminKey),
        agent: false,
        headers: { 'Impersonate-User': user, 'Impersonate-Group': groups },
        timeout: 60_000,
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body, ms: Date.now() - started }));
      },
    );
    request.on('error', reject);
    request.end();
  });
}

before(async () => {
  // 60 seats to share: a level with 1 share of the 246 bootstrap+test shares gets exactly one.
  cluster = await Cluster.start(['--max-requests-inflight=40', '--max-mutating-requests-inflight=20']);
});

after(async () => {
  await cluster?.stop();
  cluster?.cleanup();
});

describe('API Priority and Fairness', { timeout: 600_000 }, () => {
  it('serves upstream\'s bootstrap FlowSchemas and PriorityLevelConfigurations', async () => {
    await eventually(async () => {
      const result = await cluster.kubectl(['get', 'flowschemas', '-o', 'name']);
      return FLOW_SCHEMAS.every((name) => result.stdout.includes(`flowschema.flowcontrol.apiserver.k8s.io/${name}\n`));
    }, 'the bootstrap FlowSchemas');
    const both = await cluster.kubectl(['get', 'flowschemas,prioritylevelconfigurations']);
    assert.equal(both.code, 0, both.stderr);
    for (const name of PRIORITY_LEVELS) assert.match(both.stdout, new RegExp(`prioritylevelconfiguration.flowcontrol.apiserver.k8s.io/${name}\\s`));
    assert.match(both.stdout, /flowschema\.flowcontrol\.apiserver\.k8s\.io\/exempt\s+exempt\s+1\s+<none>/);
    assert.match(both.stdout, /flowschema\.flowcontrol\.apiserver\.k8s\.io\/global-default\s+global-default\s+9900\s+ByUser\s+\S+\s+False/);
    assert.match(both.stdout, /prioritylevelconfiguration\.flowcontrol\.apiserver\.k8s\.io\/global-default\s+Limited\s+20\s+128\s+6\s+50/);
    assert.match(both.stdout, /prioritylevelconfiguration\.flowcontrol\.apiserver\.k8s\.io\/exempt\s+Exempt\s+<none>/);
    const annotation = await cluster.kubectl(['get', 'flowschema', 'catch-all', '-o', 'jsonpath={.metadata.annotations.apf\\.kubernetes\\.io/autoupdate-spec}']);
    assert.equal(annotation.stdout, 'true');
  });

  it('keeps the mandatory objects and reports dangling FlowSchemas', async () => {
    const before = await uid('flowschema', 'catch-all');
    assert.equal((await cluster.kubectl(['delete', 'flowschema', 'catch-all'])).code, 0);
    await eventually(async () => {
      const result = await cluster.kubectl(['get', 'flowschema', 'catch-all', '-o', 'jsonpath={.metadata.uid}']);
      return result.code === 0 && result.stdout !== '' && result.stdout !== before;
    }, 'catch-all to come back');
    const edited = await cluster.kubectl(['patch', 'prioritylevelconfiguration', 'exempt', '--type=merge', '-p', '{"spec":{"exempt":{"nominalConcurrencyShares":7}}}']);
    assert.equal(edited.code, 0, edited.stderr);
    await eventually(async () => (await cluster.kubectl(['get', 'prioritylevelconfiguration', 'exempt', '-o', 'jsonpath={.spec.exempt.nominalConcurrencyShares}'])).stdout === '0', 'the exempt level to be put back');

    const manifest = { apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'FlowSchema', metadata: { name: 'points-nowhere' }, spec: { priorityLevelConfiguration: { name: 'no-such-level' }, matchingPrecedence: 5000, rules: [] } };
    assert.equal((await cluster.kubectl(['create', '-f', '-'], { input: JSON.stringify(manifest) })).code, 0);
    await eventually(async () => /points-nowhere\s+no-such-level\s+5000\s+<none>\s+\S+\s+True/.test((await cluster.kubectl(['get', 'flowschema', 'points-nowhere'])).stdout), 'the Dangling condition');
    const condition = await cluster.kubectl(['get', 'flowschema', 'points-nowhere', '-o', 'jsonpath={.status.conditions[0].reason}: {.status.conditions[0].message}']);
    assert.equal(condition.stdout, 'NotFound: This FlowSchema references the PriorityLevelConfiguration object named "no-such-level" but there is no such object');
  });

  it('names the FlowSchema and priority level in every response', async () => {
    const [schema, level] = await Promise.all([uid('flowschema', 'exempt'), uid('prioritylevelconfiguration', 'exempt')]);
    const response = await cluster.request('GET', '/api/v1/namespaces');
    assert.equal(response.headers['x-kubernetes-pf-flowschema-uid'], schema);
    assert.equal(response.headers['x-kubernetes-pf-prioritylevel-uid'], level);
    const verbose = await cluster.kubectl(['get', 'namespaces', '-v=8']);
    assert.match(verbose.stderr, new RegExp(`X-Kubernetes-Pf-Flowschema-Uid: ${schema}`));
    const globalDefault = await uid('flowschema', 'global-default');
    const user = await asUser('someone', ['system:authenticated'], '/version');
    assert.equal(user.headers['x-kubernetes-pf-flowschema-uid'], globalDefault);
  });

  it('a flood from one user is queued and rejected while another user of the level is served beside it', async () => {
    // One seat that it may not add to by borrowing (borrowingLimitPercent 0), whatever the flood's demand.
    const level = { apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'PriorityLevelConfiguration', metadata: { name: 'apf-test' }, spec: { type: 'Limited', limited: { nominalConcurrencyShares: 1, borrowingLimitPercent: 0, limitResponse: { type: 'Queue', queuing: { queues: 8, handSize: 2, queueLengthLimit: 2 } } } } };
    // Matching precedence 1 and a name sorting before "exempt": it wins over exempt for these admins.
    const schema = {
      apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
      kind: 'FlowSchema',
      metadata: { name: 'apf-test-flood' },
      spec: {
        priorityLevelConfiguration: { name: 'apf-test' },
        matchingPrecedence: 1,
        distinguisherMethod: { type: 'ByUser' },
        rules: [{ subjects: [{ kind: 'Group', group: { name: 'apf-flood' } }], resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'], clusterScope: true }] }],
      },
    };
    for (const object of [level, schema]) assert.equal((await cluster.kubectl(['create', '-f', '-'], { input: JSON.stringify(object) })).code, 0);
    const levelUid = await uid('prioritylevelconfiguration', 'apf-test');
    const groups = ['system:masters', 'apf-flood'];
    await eventually(async () => (await asUser('flood-heavy', groups, '/api/v1/namespaces/default')).headers['x-kubernetes-pf-prioritylevel-uid'] === levelUid, 'the aggregator to use the new level');

    // Two users whose shuffle-sharded hands share no queue.
    const heavyHand = new Set(dealHand(flowHash('apf-test-flood', 'flood-heavy'), 8, 2));
    let light = '';
    for (let index = 0; !light; index++) if (dealHand(flowHash('apf-test-flood', `flood-light-${index}`), 8, 2).every((queue) => !heavyHand.has(queue))) light = `flood-light-${index}`;

    // A slow request: a list at a resourceVersion the server has not reached waits ~3 s, then answers 504.
    const slow = '/api/v1/namespaces/default/configmaps?resourceVersion=999999999&resourceVersionMatch=NotOlderThan';
    const flood = Array.from({ length: 12 }, () => asUser('flood-heavy', groups, slow));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const lightResult = await asUser(light, groups, '/api/v1/namespaces/default');
    const heavy = await Promise.all(flood);

    assert.equal(lightResult.status, 200, lightResult.body);
    const rejected = heavy.filter((response) => response.status === 429);
    const served = heavy.filter((response) => response.status !== 429);
    // One running and two queues of two in the heavy user's hand: the rest is turned away at once.
    assert.ok(rejected.length >= 5, `429s: ${rejected.length}`);
    for (const response of rejected) {
      // Upstream's Retry-After starts at 1 s and doubles while the level keeps dropping (once per 2 s here).
      assert.match(String(response.headers['retry-after']), /^[12]$/);
      assert.equal(response.headers['x-kubernetes-pf-prioritylevel-uid'], levelUid);
      const status = JSON.parse(response.body) as { reason: string; message: string; code: number };
      assert.deepEqual([status.code, status.reason, status.message], [429, 'TooManyRequests', 'Too many requests, please try again later.']);
    }
    assert.ok(rejected.some((response) => response.headers['retry-after'] === '1'), 'the first second of drops says 1');
    assert.ok(served.length >= 2, `served: ${served.map((response) => response.status).join(',')}`);
    // The light user did not wait behind the heavy user's backlog.
    const slowest = Math.max(...served.map((response) => response.ms));
    assert.ok(lightResult.ms < slowest, `light ${lightResult.ms} ms, heavy backlog served by ${slowest} ms`);
  });

  it('a watch holds its seat only while it starts: the one seat of the level is free again after', async () => {
    const groups = ['system:masters', 'apf-flood'];
    const watch = await new Promise<{ status: number; close(): void }>((resolve, reject) => {
      const request = https.request(`${cluster.url}/api/v1/namespaces/default/configmaps?watch=true`, { ca: readFileSync(cluster.pki.caCert), cert: readFileSync(cluster.pki.adminCert), key: readFileSync(cluster.pki.adminKey), agent: false, headers: { 'Impersonate-User': 'watcher', 'Impersonate-Group': groups } }, (response) => {
        response.resume();
        resolve({ status: response.statusCode ?? 0, close: () => request.destroy() });
      });
      request.on('error', reject);
      request.end();
    });
    try {
      assert.equal(watch.status, 200);
      // The level has one seat: were the watch still holding it, these would queue behind it until it ends.
      for (let index = 0; index < 3; index++) {
        const response = await asUser('watcher', groups, '/api/v1/namespaces/default');
        assert.equal(response.status, 200, response.body);
      }
    } finally {
      watch.close();
    }
  });
});
