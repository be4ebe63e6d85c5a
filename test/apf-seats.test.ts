// API Priority and Fairness by seats, end to end on the all-in-one chain (its front server stores the
// built-in resources in the same process, so it knows their object counts, as kube-apiserver does): a LIST
// of a large collection is charged more seats than a GET, visible in
// apiserver_flowcontrol_work_estimated_seats; and a small priority level under load borrows the seats
// idle levels lend (apiserver_flowcontrol_current_limit_seats above its nominal_limit_seats, and more
// requests executing at once than its nominal seats), as /debug/api_priority_and_fairness shows too.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAllInOne, type RunningChain } from '../launcher/all-in-one.js';
import { kubectlBinary, type KubectlResult } from './harness.js';

let chain: RunningChain;
let dataDir: string;

function kubectl(args: string[], input?: string): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = execFile(kubectlBinary(), [`--kubeconfig=${chain.kubeconfig}`, `--cache-dir=${join(dataDir, 'cache')}`, ...args], { env: { ...process.env, HOME: dataDir }, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: stdout.toString(), stderr: stderr.toString() }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** One sample of a metric from the front server's /metrics, read with kubectl. */
async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const result = await kubectl(['get', '--raw', '/metrics']);
  assert.equal(result.code, 0, result.stderr);
  for (const line of result.stdout.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labelText = line.slice(name.length + 1, line.indexOf('}'));
    if (Object.entries(labels).every(([key, value]) => labelText.includes(`${key}="${value}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

/** A raw request as the admin impersonating `user` in `groups`, on its own connection. */
function asUser(user: string, groups: string[], path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      `${chain.url}${path}`,
      { ca: readFileSync(chain.pki.caCert), cert: readFileSync(chain.pki.adminCert), key: readFileSync(chain.pki.adminKey), agent: false, headers: { 'Impersonate-User': user, 'Impersonate-Group': groups }, timeout: 60_000 },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end();
  });
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'kdc-apf-seats-'));
  chain = await startAllInOne({ dataDir, securePort: 0, nodeAgent: false, garbageCollector: false });
});

after(async () => {
  await chain?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('API Priority and Fairness by seats', { timeout: 600_000 }, () => {
  it('charges a LIST of a large collection one seat per 100 objects (a GET one seat)', async () => {
    // 650 ConfigMaps: a LIST from the watch cache walks all of them, 7 seats.
    const items = Array.from({ length: 650 }, (_, index) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `bulk-${index}`, namespace: 'default' }, data: { index: String(index) } }));
    const created = await kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
    assert.equal(created.code, 0, created.stderr);
    const bound = await kubectl(['create', 'clusterrolebinding', 'apf-lister', '--clusterrole=view', '--user=apf-lister']);
    assert.equal(bound.code, 0, bound.stderr);

    const series = { priority_level: 'global-default', flow_schema: 'global-default' };
    const before = { count: await metric('apiserver_flowcontrol_work_estimated_seats_count', series), sum: await metric('apiserver_flowcontrol_work_estimated_seats_sum', series), small: await metric('apiserver_flowcontrol_work_estimated_seats_bucket', { ...series, le: '4' }) };
    const get = await kubectl(['get', 'configmap', 'bulk-1', '--as=apf-lister']);
    assert.equal(get.code, 0, get.stderr);
    const afterGet = { count: await metric('apiserver_flowcontrol_work_estimated_seats_count', series), sum: await metric('apiserver_flowcontrol_work_estimated_seats_sum', series) };
    // kubectl may make discovery requests too: each of those, like the GET, is one seat.
    assert.equal(afterGet.sum - before.sum, afterGet.count - before.count, 'every request so far cost one seat');

    const list = await kubectl(['get', 'configmaps', '--chunk-size=0', '--as=apf-lister', '-o', 'name']);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout.split('\n').filter((line) => line.startsWith('configmap/bulk-')).length, 650);
    const afterList = { count: await metric('apiserver_flowcontrol_work_estimated_seats_count', series), sum: await metric('apiserver_flowcontrol_work_estimated_seats_sum', series), small: await metric('apiserver_flowcontrol_work_estimated_seats_bucket', { ...series, le: '4' }) };
    const requests = afterList.count - afterGet.count;
    const seats = afterList.sum - afterGet.sum;
    // The LIST costs ceil(651 / 100) = 7 seats (the level's widest request is 8); anything else kubectl sent costs one.
    assert.equal(seats - (requests - 1), 7, `${requests} requests took ${seats} seats`);
    assert.equal(afterList.small - before.small, afterList.count - before.count - 1, 'one observation above 4 seats');
  });

  it('a small level under load borrows seats that idle levels lend', async () => {
    const level = {
      apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
      kind: 'PriorityLevelConfiguration',
      metadata: { name: 'apf-borrower' },
      spec: { type: 'Limited', limited: { nominalConcurrencyShares: 1, lendablePercent: 0, borrowingLimitPercent: 500, limitResponse: { type: 'Queue', queuing: { queues: 16, handSize: 4, queueLengthLimit: 50 } } } },
    };
    // Matching precedence 1 and a name sorting before "exempt": it wins over exempt for these admins.
    const schema = {
      apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
      kind: 'FlowSchema',
      metadata: { name: 'apf-borrower' },
      spec: {
        priorityLevelConfiguration: { name: 'apf-borrower' },
        matchingPrecedence: 1,
        distinguisherMethod: { type: 'ByUser' },
        rules: [{ subjects: [{ kind: 'Group', group: { name: 'apf-borrowers' } }], resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'], clusterScope: true }] }],
      },
    };
    for (const object of [level, schema]) {
      const created = await kubectl(['create', '-f', '-'], JSON.stringify(object));
      assert.equal(created.code, 0, created.stderr);
    }
    const labels = { priority_level: 'apf-borrower' };
    let nominal = 0;
    for (let attempt = 0; attempt < 100 && nominal === 0; attempt++) {
      nominal = await metric('apiserver_flowcontrol_nominal_limit_seats', labels);
      if (nominal === 0) {
        await asUser('borrower-0', ['system:masters', 'apf-borrowers'], '/api/v1/namespaces/default/secrets');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    // 246 shares of 600 seats: one share is ceil(600 / 246) = 3 seats, at most 3 + 15 with borrowing.
    assert.equal(nominal, 3);
    assert.equal(await metric('apiserver_flowcontrol_upper_limit_seats', labels), 18);

    // Twelve users keep a slow request each in flight (a list at a resourceVersion the server has not
    // reached waits ~3 s), so the level wants 12 seats while it has 3.
    const slow = '/api/v1/namespaces/default/secrets?resourceVersion=999999999&resourceVersionMatch=NotOlderThan';
    let loading = true;
    const statuses: number[] = [];
    const loops = Array.from({ length: 12 }, async (_, index) => {
      while (loading) statuses.push(await asUser(`borrower-${index}`, ['system:masters', 'apf-borrowers'], slow));
    });
    let borrowed = 0;
    let executing = 0;
    const deadline = Date.now() + 60_000;
    try {
      while (Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        borrowed = await metric('apiserver_flowcontrol_current_limit_seats', labels);
        executing = Math.max(executing, await metric('apiserver_flowcontrol_current_executing_requests', { ...labels, flow_schema: 'apf-borrower' }));
        if (borrowed >= 10 && executing > nominal) break;
      }
      const dump = await kubectl(['get', '--raw', '/debug/api_priority_and_fairness/dump_priority_levels']);
      assert.equal(dump.code, 0, dump.stderr);
      assert.match(dump.stdout, /^PriorityLevelName, +ActiveQueues, +IsIdle, +IsQuiescing, +WaitingRequests, +ExecutingRequests, +DispatchedRequests, +RejectedRequests, +TimedoutRequests, +CancelledRequests\n/);
      assert.match(dump.stdout, /\napf-borrower, +\d+, +false, +false, +\d+, +\d+, +\d+, +0, +0, +0\n/);
    } finally {
      loading = false;
      await Promise.all(loops);
    }
    assert.ok(borrowed >= 10, `current limit ${borrowed} seats (nominal ${nominal})`);
    assert.ok(executing > nominal, `${executing} executing at once (nominal ${nominal})`);
    assert.ok(statuses.every((status) => status === 504), `statuses: ${[...new Set(statuses)].join(',')}`);
  });
});
