// `kubectl get cs` on a three-member etcd: one entry per --etcd-servers member, each probed on its own, so
// a dead member shows as Unhealthy with the reason while the cluster (with quorum) keeps serving.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, eventually } from './harness.js';
import { EtcdTestCluster } from '../apiserver/storage/etcd-test-server.js';

describe('componentstatuses on etcd', () => {
  let etcd: EtcdTestCluster;
  let cluster: Cluster;

  const getCs = async (): Promise<string[][]> => {
    const result = await cluster.kubectl(['get', 'cs', '--no-headers']);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout.trim().split('\n').map((line) => line.trim().split(/\s{2,}/));
  };

  before(async () => {
    etcd = await EtcdTestCluster.start({ members: 3 });
    cluster = await Cluster.start([`--etcd-servers=${etcd.endpoints.join(',')}`]);
  });

  after(async () => {
    const code = await cluster?.stop();
    cluster?.cleanup();
    await etcd?.stop();
    assert.equal(code, 0);
  });

  it('names every member, and a killed one is Unhealthy with why', async () => {
    assert.deepEqual(await getCs(), [
      ['controller-manager', 'Healthy', 'ok'],
      ['etcd-0', 'Healthy', 'ok'],
      ['etcd-1', 'Healthy', 'ok'],
      ['etcd-2', 'Healthy', 'ok'],
    ]);
    const dead = etcd.members[2];
    await etcd.kill(dead);
    // If the killed member led, the others answer /health unhealthy until they elect a new leader.
    const after = await eventually('the survivors healthy again', async () => {
      const rows = await getCs();
      return rows.slice(0, 3).every((row) => row[1] === 'Healthy') ? rows : undefined;
    });
    assert.deepEqual(after.slice(0, 3).map((row) => row.slice(0, 2)), [['controller-manager', 'Healthy'], ['etcd-0', 'Healthy'], ['etcd-1', 'Healthy']]);
    assert.deepEqual(after[3].slice(0, 2), ['etcd-2', 'Unhealthy']);
    assert.match(after[3][2], new RegExp(`^Get "${dead.clientUrl}/health": `));
    await etcd.restart(dead);
    assert.deepEqual((await getCs())[3], ['etcd-2', 'Healthy', 'ok']);
  });
});
