// The cost of auditing: GET of one object through the aggregator on a cluster without an audit policy
// and on one auditing every request at Metadata level into files (each server its own log, as the
// launcher sets up), run alternately in the same process so drift on a busy machine hits both alike.

import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from '../test/harness.js';
import { runLoad, type LoadResult, type Target } from './load.js';

export interface AuditBenchResult {
  plain: LoadResult;
  audited: LoadResult;
  /** Bytes of audit log written per request (every server's log). */
  logBytesPerRequest: number;
}

function pidsOf(dataDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(dataDir) && /dist\/(aggregator|core-apiserver)\/main\.js/.test(cmdline)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

function logBytes(dataDir: string): number {
  return readdirSync(dataDir).filter((file) => file.startsWith('audit-')).reduce((sum, file) => sum + statSync(join(dataDir, file)).size, 0);
}

function combine(results: LoadResult[]): LoadResult {
  const requests = results.reduce((sum, result) => sum + result.requests, 0);
  const seconds = results.reduce((sum, result) => sum + result.seconds, 0);
  const cpu = results.reduce((sum, result) => sum + result.cpuMsPerRequest * result.requests, 0);
  return { requests, errors: results.reduce((sum, result) => sum + result.errors, 0), seconds, perSecond: requests / seconds, cpuMsPerRequest: requests ? cpu / requests : 0, statuses: {} };
}

export async function benchAudit(seconds: number, concurrency: number): Promise<AuditBenchResult> {
  const plainCluster = await Cluster.start();
  const policyFile = join(plainCluster.dataDir, 'audit-policy.yaml');
  writeFileSync(policyFile, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n');
  const auditedCluster = await Cluster.start([`--audit-policy-file=${policyFile}`]);
  try {
    const data = Object.fromEntries(Array.from({ length: 16 }, (_, index) => [`key-${index}`, 'v'.repeat(100)]));
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bench' }, data });
    for (const cluster of [plainCluster, auditedCluster]) {
      const created = await cluster.request('POST', '/api/v1/namespaces/default/configmaps', { body, headers: { 'Content-Type': 'application/json' } });
      if (created.status !== 201) throw new Error(`setup failed: ${created.status} ${created.body}`);
    }
    const target = (cluster: Cluster): Target => ({ port: cluster.port, ca: readFileSync(cluster.pki.caCert), cert: readFileSync(cluster.pki.adminCert), key: readFileSync(cluster.pki.adminKey) });
    const get = () => ({ method: 'GET', path: '/api/v1/namespaces/default/configmaps/bench', headers: { Accept: 'application/json' } });
    const load = (cluster: Cluster) => ({ seconds: seconds / 2, concurrency, expect: 200, pids: pidsOf(cluster.dataDir) });
    const plain: LoadResult[] = [];
    const audited: LoadResult[] = [];
    let logged = 0;
    for (let round = 0; round < 2; round++) {
      plain.push(await runLoad(target(plainCluster), get, load(plainCluster)));
      const before = logBytes(auditedCluster.dataDir);
      audited.push(await runLoad(target(auditedCluster), get, load(auditedCluster)));
      await new Promise((resolve) => setTimeout(resolve, 200)); // the last batch reaches the file
      logged += logBytes(auditedCluster.dataDir) - before;
    }
    const auditedTotal = combine(audited);
    return { plain: combine(plain), audited: auditedTotal, logBytesPerRequest: logged / Math.max(1, auditedTotal.requests) };
  } finally {
    await Promise.all([plainCluster.stop(), auditedCluster.stop()]);
    plainCluster.cleanup();
    auditedCluster.cleanup();
  }
}
