// Workloads end to end with the real kubectl: core's Deployment, ReplicaSet, DaemonSet, StatefulSet and disruption
// controllers create ReplicaSets, ControllerRevisions and pods, the node agent runs the pods (this host and
// two simulated nodes), and the commands users rely on — rollout status, set image, history, undo,
// pause/resume, scale, eviction under a PodDisruptionBudget — work.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, eventually, kubectlOk } from './harness.js';

let cluster: Cluster;
const ok = (args: string[], input?: string) => kubectlOk(cluster, args, { input });

interface Item {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: { kind: string; name: string; controller?: boolean }[] };
  spec: { replicas?: number; template?: { spec: { containers: { image: string }[] } } };
  status?: Record<string, unknown>;
}

async function items(kind: string, selector?: string): Promise<Item[]> {
  const output = await ok(['get', kind, '-n', 'apps', '-o', 'json', ...(selector ? ['-l', selector] : [])]);
  return (JSON.parse(output) as { items: Item[] }).items;
}

before(async () => {
  cluster = await Cluster.start(['--node-agent', '--simulated-nodes=2']);
  await ok(['create', 'namespace', 'apps']);
  await eventually('the default ServiceAccount of the namespace', async () => ((await cluster.kubectl(['get', 'serviceaccount', 'default', '-n', 'apps'])).code === 0 ? true : undefined));
});

after(async () => {
  await cluster?.stop();
  cluster?.cleanup();
});

describe('Deployments', () => {
  it('roll out: one ReplicaSet named after the template hash owns the pods, and rollout status succeeds', async () => {
    await ok(['create', 'deployment', 'web', '-n', 'apps', '--image=nginx:1.24', '--replicas=3']);
    const status = await ok(['rollout', 'status', 'deployment/web', '-n', 'apps', '--timeout=60s']);
    assert.match(status, /deployment "web" successfully rolled out/);
    const replicaSets = await items('replicasets', 'app=web');
    assert.equal(replicaSets.length, 1);
    const [replicaSet] = replicaSets;
    const hash = replicaSet.metadata.labels?.['pod-template-hash'];
    assert.ok(hash && replicaSet.metadata.name === `web-${hash}`, replicaSet.metadata.name);
    assert.equal(replicaSet.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
    assert.deepEqual(replicaSet.metadata.ownerReferences?.map((reference) => [reference.kind, reference.name, reference.controller]), [['Deployment', 'web', true]]);
    const pods = await items('pods', 'app=web');
    assert.equal(pods.length, 3);
    for (const pod of pods) {
      assert.equal(pod.metadata.labels?.['pod-template-hash'], hash);
      assert.deepEqual(pod.metadata.ownerReferences?.map((reference) => [reference.kind, reference.name]), [['ReplicaSet', replicaSet.metadata.name]]);
    }
    const table = await ok(['get', 'deployment', 'web', '-n', 'apps']);
    assert.match(table, /web\s+3\/3\s+3\s+3\s/);
    const deployment = JSON.parse(await ok(['get', 'deployment', 'web', '-n', 'apps', '-o', 'json'])) as Item & { metadata: { generation: number } };
    assert.equal(deployment.status?.observedGeneration, deployment.metadata.generation);
    const conditions = deployment.status?.conditions as { type: string; status: string; reason: string }[];
    assert.deepEqual(conditions.map((condition) => [condition.type, condition.status, condition.reason]), [
      ['Available', 'True', 'MinimumReplicasAvailable'],
      ['Progressing', 'True', 'NewReplicaSetAvailable'],
    ]);
  });

  it('set image rolls to a new ReplicaSet; history lists both revisions; undo rolls back to the first template', async () => {
    await ok(['set', 'image', 'deployment/web', '-n', 'apps', 'nginx=nginx:1.25']);
    await ok(['annotate', 'deployment/web', '-n', 'apps', 'kubernetes.io/change-cause=upgrade to 1.25']);
    await ok(['rollout', 'status', 'deployment/web', '-n', 'apps', '--timeout=60s']);
    const replicaSets = await items('replicasets', 'app=web');
    assert.equal(replicaSets.length, 2);
    const byImage = new Map(replicaSets.map((replicaSet) => [replicaSet.spec.template!.spec.containers[0].image, replicaSet]));
    assert.equal(byImage.get('nginx:1.24')?.spec.replicas, 0);
    assert.equal(byImage.get('nginx:1.25')?.spec.replicas, 3);
    const history = await ok(['rollout', 'history', 'deployment/web', '-n', 'apps']);
    assert.match(history, /^1\s+<none>$/m);
    assert.match(history, /^2\s+upgrade to 1\.25$/m);
    const pods = await eventually('only the new pods remain', async () => {
      const current = await items('pods', 'app=web');
      return current.length === 3 && current.every((pod) => pod.spec.template === undefined && (pod as unknown as { spec: { containers: { image: string }[] } }).spec.containers[0].image === 'nginx:1.25') ? current : undefined;
    });
    assert.equal(pods.length, 3);

    await ok(['rollout', 'undo', 'deployment/web', '-n', 'apps']);
    await ok(['rollout', 'status', 'deployment/web', '-n', 'apps', '--timeout=60s']);
    const image = await ok(['get', 'deployment', 'web', '-n', 'apps', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);
    assert.equal(image, 'nginx:1.24');
    const after = await items('replicasets', 'app=web');
    assert.equal(after.length, 2, 'the rollback reuses the first ReplicaSet');
    const first = after.find((replicaSet) => replicaSet.spec.template!.spec.containers[0].image === 'nginx:1.24')!;
    assert.equal(first.spec.replicas, 3);
    assert.equal(first.metadata.annotations?.['deployment.kubernetes.io/revision'], '3');
  });

  it('scale, and pause stops a rollout until resume', async () => {
    await ok(['scale', 'deployment/web', '-n', 'apps', '--replicas=5']);
    await ok(['rollout', 'status', 'deployment/web', '-n', 'apps', '--timeout=60s']);
    assert.equal((await items('pods', 'app=web')).length, 5);
    await ok(['rollout', 'pause', 'deployment/web', '-n', 'apps']);
    await ok(['set', 'image', 'deployment/web', '-n', 'apps', 'nginx=nginx:1.26']);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.ok(!(await items('replicasets', 'app=web')).some((replicaSet) => replicaSet.spec.template!.spec.containers[0].image === 'nginx:1.26'), 'a paused Deployment starts no rollout');
    await ok(['rollout', 'resume', 'deployment/web', '-n', 'apps']);
    await ok(['rollout', 'status', 'deployment/web', '-n', 'apps', '--timeout=60s']);
    const newest = (await items('replicasets', 'app=web')).find((replicaSet) => replicaSet.spec.template!.spec.containers[0].image === 'nginx:1.26');
    assert.equal(newest?.spec.replicas, 5);
  });

  it('the Recreate strategy scales the old ReplicaSet to zero before the new one starts', async () => {
    await ok(['create', '-f', '-'], JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'db', namespace: 'apps' },
      spec: { replicas: 2, strategy: { type: 'Recreate' }, selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'postgres:15' }] } } },
    }));
    await ok(['rollout', 'status', 'deployment/db', '-n', 'apps', '--timeout=60s']);
    await ok(['set', 'image', 'deployment/db', '-n', 'apps', 'db=postgres:16']);
    await ok(['rollout', 'status', 'deployment/db', '-n', 'apps', '--timeout=60s']);
    const replicaSets = await items('replicasets', 'app=db');
    assert.deepEqual(replicaSets.map((replicaSet) => [replicaSet.spec.template!.spec.containers[0].image, replicaSet.spec.replicas]).sort(), [['postgres:15', 0], ['postgres:16', 2]]);
  });

  it('deleting a Deployment deletes its ReplicaSets and pods (garbage collection)', async () => {
    await ok(['delete', 'deployment', 'db', '-n', 'apps']);
    await eventually('the ReplicaSets and pods of db are gone', async () => ((await items('replicasets', 'app=db')).length === 0 && (await items('pods', 'app=db')).length === 0 ? true : undefined));
  });
});

describe('PodDisruptionBudgets', () => {
  it('the disruption controller keeps status, so an eviction is allowed while enough pods stay healthy', async () => {
    await ok(['create', 'deployment', 'api', '-n', 'apps', '--image=nginx', '--replicas=3']);
    await ok(['rollout', 'status', 'deployment/api', '-n', 'apps', '--timeout=60s']);
    await ok(['create', 'pdb', 'api', '-n', 'apps', '--selector=app=api', '--max-unavailable=1']);
    const status = await eventually('the budget status', async () => {
      const budget = JSON.parse(await ok(['get', 'pdb', 'api', '-n', 'apps', '-o', 'json'])) as { metadata: { generation: number }; status?: Record<string, unknown> };
      return budget.status?.observedGeneration === budget.metadata.generation && budget.status?.currentHealthy === 3 ? budget.status : undefined;
    });
    assert.equal(status.expectedPods, 3);
    assert.equal(status.desiredHealthy, 2);
    assert.equal(status.disruptionsAllowed, 1);
    assert.deepEqual((status.conditions as { type: string; status: string; reason: string }[]).map((condition) => [condition.type, condition.status, condition.reason]), [['DisruptionAllowed', 'True', 'SufficientPods']]);
    assert.match(await ok(['get', 'pdb', 'api', '-n', 'apps']), /api\s+N\/A\s+1\s+1\s/);

    const evict = (pod: string) => cluster.kubectl(['create', '--raw', `/api/v1/namespaces/apps/pods/${pod}/eviction`, '-f', '-'], { input: JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: 'apps' } }) });
    const [first] = await items('pods', 'app=api');
    const evicted = await evict(first.metadata.name);
    assert.equal(evicted.code, 0, evicted.stderr);
    // The ReplicaSet replaces the evicted pod; once it is ready, one disruption is allowed again.
    await eventually('the budget allows a disruption again', async () => {
      const budget = JSON.parse(await ok(['get', 'pdb', 'api', '-n', 'apps', '-o', 'json'])) as { status?: { disruptionsAllowed?: number; currentHealthy?: number } };
      return budget.status?.disruptionsAllowed === 1 && budget.status.currentHealthy === 3 ? true : undefined;
    });

    // A budget that needs every pod allows no eviction.
    await ok(['patch', 'pdb', 'api', '-n', 'apps', '--type=merge', '-p', '{"spec":{"maxUnavailable":null,"minAvailable":3}}']);
    await eventually('the budget allows no disruption', async () => {
      const budget = JSON.parse(await ok(['get', 'pdb', 'api', '-n', 'apps', '-o', 'json'])) as { metadata: { generation: number }; status?: { observedGeneration?: number; disruptionsAllowed?: number; conditions?: { reason: string }[] } };
      return budget.status?.observedGeneration === budget.metadata.generation && budget.status.disruptionsAllowed === 0 && budget.status.conditions?.[0]?.reason === 'InsufficientPods' ? true : undefined;
    });
    const [second] = await items('pods', 'app=api');
    const refused = await evict(second.metadata.name);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Cannot evict pod as it would violate the pod's disruption budget/);
  });
});

describe('ReplicaSets', () => {
  it('replace a deleted pod, adopt a matching orphan, release a pod relabelled away, and scale down', async () => {
    await ok(['create', '-f', '-'], JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'cache', namespace: 'apps' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'cache' } }, template: { metadata: { labels: { app: 'cache' } }, spec: { containers: [{ name: 'redis', image: 'redis:7' }] } } },
    }));
    const pods = await eventually('two pods', async () => {
      const current = await items('pods', 'app=cache');
      return current.length === 2 ? current : undefined;
    });
    await ok(['delete', 'pod', pods[0].metadata.name, '-n', 'apps', '--wait=false']);
    await eventually('a replacement pod', async () => {
      const current = (await items('pods', 'app=cache')).filter((pod) => pod.metadata.name !== pods[0].metadata.name);
      return current.length === 2 ? current : undefined;
    });
    // A pod relabelled away is released (its ownerReference removed) and replaced.
    const [released] = await items('pods', 'app=cache');
    await ok(['label', 'pod', released.metadata.name, '-n', 'apps', 'app=debug', '--overwrite']);
    await eventually('the relabelled pod released and replaced', async () => {
      const pod = JSON.parse(await ok(['get', 'pod', released.metadata.name, '-n', 'apps', '-o', 'json'])) as Item;
      return !pod.metadata.ownerReferences?.length && (await items('pods', 'app=cache')).length === 2 ? true : undefined;
    });
    // Labelling it back makes it an orphan the ReplicaSet adopts; one pod too many is then deleted.
    await ok(['label', 'pod', released.metadata.name, '-n', 'apps', 'app=cache', '--overwrite']);
    await eventually('back to two pods', async () => ((await items('pods', 'app=cache')).filter((pod) => !(pod as unknown as { metadata: { deletionTimestamp?: string } }).metadata.deletionTimestamp).length === 2 ? true : undefined));
    await ok(['scale', 'replicaset/cache', '-n', 'apps', '--replicas=0']);
    await eventually('no pods', async () => ((await items('pods', 'app=cache')).length === 0 ? true : undefined));
    const status = JSON.parse(await ok(['get', 'replicaset', 'cache', '-n', 'apps', '-o', 'jsonpath={.status}'])) as Record<string, unknown>;
    assert.equal(status.replicas, 0);
  });
});

describe('DaemonSets', () => {
  it('one pod per eligible node, rolling updates through ControllerRevisions, undo, and node selectors', async () => {
    const nodes = (await ok(['get', 'nodes', '-o', 'name'])).trim().split('\n');
    assert.equal(nodes.length, 3);
    await ok(['create', '-f', '-'], JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: 'apps' },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', image: 'busybox:1.36' }] } } },
    }));
    await eventually('a daemon pod on every node', async () => {
      const pods = await items('pods', 'app=agent');
      const placed = new Set(pods.map((pod) => (pod as unknown as { spec: { nodeName?: string } }).spec.nodeName).filter(Boolean));
      return placed.size === 3 && pods.length === 3 ? true : undefined;
    });
    await ok(['rollout', 'status', 'daemonset/agent', '-n', 'apps', '--timeout=60s']);
    assert.match(await ok(['get', 'daemonset', 'agent', '-n', 'apps']), /agent\s+3\s+3\s+3\s+3\s+3\s/);

    await ok(['set', 'image', 'daemonset/agent', '-n', 'apps', 'agent=busybox:1.37']);
    await ok(['rollout', 'status', 'daemonset/agent', '-n', 'apps', '--timeout=60s']);
    const updated = await eventually('only new pods', async () => {
      const pods = await items('pods', 'app=agent');
      return pods.length === 3 && pods.every((pod) => (pod as unknown as { spec: { containers: { image: string }[] } }).spec.containers[0].image === 'busybox:1.37') ? pods : undefined;
    });
    assert.equal(new Set(updated.map((pod) => pod.metadata.labels?.['controller-revision-hash'])).size, 1);
    const revisions = JSON.parse(await ok(['get', 'controllerrevisions', '-n', 'apps', '-l', 'app=agent', '-o', 'json'])) as { items: { revision: number }[] };
    assert.deepEqual(revisions.items.map((revision) => revision.revision).sort(), [1, 2]);
    assert.match(await ok(['rollout', 'history', 'daemonset/agent', '-n', 'apps']), /^1\s+<none>\n2\s+<none>$/m);

    await ok(['rollout', 'undo', 'daemonset/agent', '-n', 'apps']);
    await ok(['rollout', 'status', 'daemonset/agent', '-n', 'apps', '--timeout=60s']);
    assert.equal(await ok(['get', 'daemonset', 'agent', '-n', 'apps', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']), 'busybox:1.36');

    // A nodeSelector narrows the DaemonSet to the nodes it matches; daemon pods tolerate a cordoned node.
    await ok(['label', 'node', 'sim-node-2', 'role=edge']);
    await ok(['cordon', 'sim-node-2']);
    await ok(['patch', 'daemonset', 'agent', '-n', 'apps', '--type=merge', '-p', '{"spec":{"template":{"spec":{"nodeSelector":{"role":"edge"}}}}}']);
    await eventually('one daemon pod, on sim-node-2', async () => {
      const pods = await items('pods', 'app=agent');
      return pods.length === 1 && (pods[0] as unknown as { spec: { nodeName?: string } }).spec.nodeName === 'sim-node-2' ? true : undefined;
    });
    await ok(['rollout', 'status', 'daemonset/agent', '-n', 'apps', '--timeout=60s']);
    await ok(['uncordon', 'sim-node-2']);
    await ok(['delete', 'daemonset', 'agent', '-n', 'apps']);
    await eventually('the daemon pods and revisions are gone', async () => ((await items('pods', 'app=agent')).length === 0 && (await items('controllerrevisions', 'app=agent')).length === 0 ? true : undefined));
  });
});

describe('StatefulSets', () => {
  it('ordered pods with stable names and claims, rolling updates by revision, undo, and scale down from the top', async () => {
    await ok(['create', '-f', '-'], JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: 'apps' },
      spec: {
        serviceName: 'db',
        replicas: 3,
        selector: { matchLabels: { app: 'db-set' } },
        template: { metadata: { labels: { app: 'db-set' } }, spec: { containers: [{ name: 'pg', image: 'postgres:15' }] } },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    }));
    await ok(['rollout', 'status', 'statefulset/db', '-n', 'apps', '--timeout=60s']);
    const pods = await items('pods', 'app=db-set');
    assert.deepEqual(pods.map((pod) => pod.metadata.name).sort(), ['db-0', 'db-1', 'db-2']);
    const first = pods.find((pod) => pod.metadata.name === 'db-0') as unknown as { metadata: { labels: Record<string, string> }; spec: { hostname: string; subdomain: string; volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[] } };
    assert.equal(first.spec.hostname, 'db-0');
    assert.equal(first.spec.subdomain, 'db');
    assert.equal(first.metadata.labels['statefulset.kubernetes.io/pod-name'], 'db-0');
    assert.equal(first.metadata.labels['apps.kubernetes.io/pod-index'], '0');
    assert.deepEqual(first.spec.volumes.find((volume) => volume.name === 'data')?.persistentVolumeClaim, { claimName: 'data-db-0' });
    assert.equal(await ok(['get', 'pvc', '-n', 'apps', '-l', 'app=db-set', '-o', 'name']), 'persistentvolumeclaim/data-db-0\npersistentvolumeclaim/data-db-1\npersistentvolumeclaim/data-db-2\n');
    const initial = JSON.parse(await ok(['get', 'statefulset', 'db', '-n', 'apps', '-o', 'jsonpath={.status}'])) as { currentRevision: string; updateRevision: string; readyReplicas: number };
    assert.equal(initial.currentRevision, initial.updateRevision);
    assert.equal(first.metadata.labels['controller-revision-hash'], initial.updateRevision);

    await ok(['set', 'image', 'statefulset/db', '-n', 'apps', 'pg=postgres:16']);
    await ok(['rollout', 'status', 'statefulset/db', '-n', 'apps', '--timeout=60s']);
    const rolled = await eventually('every pod on the new revision', async () => {
      const status = JSON.parse(await ok(['get', 'statefulset', 'db', '-n', 'apps', '-o', 'jsonpath={.status}'])) as { currentRevision: string; updateRevision: string; updatedReplicas?: number };
      const current = await items('pods', 'app=db-set');
      return status.currentRevision === status.updateRevision && status.updateRevision !== initial.updateRevision && current.length === 3 && current.every((pod) => pod.metadata.labels?.['controller-revision-hash'] === status.updateRevision) ? status : undefined;
    });
    assert.equal(rolled.updatedReplicas, 3);
    assert.match(await ok(['rollout', 'history', 'statefulset/db', '-n', 'apps']), /^1\s+<none>\n2\s+<none>$/m);
    await ok(['rollout', 'undo', 'statefulset/db', '-n', 'apps']);
    await eventually('back on the first template', async () => {
      const current = await items('pods', 'app=db-set');
      return current.length === 3 && current.every((pod) => (pod as unknown as { spec: { containers: { image: string }[] } }).spec.containers[0].image === 'postgres:15') ? true : undefined;
    });

    await ok(['scale', 'statefulset/db', '-n', 'apps', '--replicas=1']);
    await eventually('only db-0 left', async () => {
      const current = await items('pods', 'app=db-set');
      return current.length === 1 && current[0].metadata.name === 'db-0' ? true : undefined;
    });
    // Claims outlive their pods (upstream's default retention).
    assert.equal((await ok(['get', 'pvc', '-n', 'apps', '-l', 'app=db-set', '-o', 'name'])).trim().split('\n').length, 3);
  });
});

describe('ReplicationControllers', () => {
  it('keep their replicas like ReplicaSets, with a map selector', async () => {
    await ok(['create', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'ReplicationController',
      metadata: { name: 'legacy', namespace: 'apps' },
      spec: { replicas: 2, selector: { app: 'legacy' }, template: { metadata: { labels: { app: 'legacy' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
    }));
    await eventually('two ready pods', async () => {
      const status = JSON.parse(await ok(['get', 'rc', 'legacy', '-n', 'apps', '-o', 'jsonpath={.status}'])) as { readyReplicas?: number };
      return status.readyReplicas === 2 ? true : undefined;
    });
    const pods = await items('pods', 'app=legacy');
    assert.deepEqual(pods.map((pod) => pod.metadata.ownerReferences?.[0]?.kind), ['ReplicationController', 'ReplicationController']);
    await ok(['scale', 'rc', 'legacy', '-n', 'apps', '--replicas=1']);
    await eventually('one pod', async () => ((await items('pods', 'app=legacy')).length === 1 ? true : undefined));
  });
});
