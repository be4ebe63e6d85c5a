// The built-in APIs a default kube-apiserver 1.32 serves beyond the common ones, driven by the real kubectl:
// autoscaling/v1 HPAs next to v2 (`kubectl autoscale`, both versions of one object), the CSI kinds of
// storage.k8s.io/v1, v1 bindings and componentstatuses, and their discovery entries.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { Cluster, type KubectlResult } from './harness.js';

type Json = Record<string, any>;

describe('the other built-in APIs of kube-apiserver 1.32', () => {
  let cluster: Cluster;

  const kubectl = (args: string[], input?: string, version?: string): Promise<KubectlResult> => cluster.kubectl(args, { input, version, timeoutMs: 90_000 });
  const ok = async (args: string[], input?: string, version?: string): Promise<KubectlResult> => {
    const result = await kubectl(args, input, version);
    assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
    return result;
  };
  const fails = async (args: string[], input?: string): Promise<string> => {
    const result = await kubectl(args, input);
    assert.notEqual(result.code, 0, `kubectl ${args.join(' ')} should have failed:\n${result.stdout}`);
    return result.stderr.trim();
  };
  const rows = (table: string): string[][] => table.trim().split('\n').map((line) => line.trim().split(/\s{2,}/));

  before(async () => {
    cluster = await Cluster.start();
  });

  after(async () => {
    const code = await cluster.stop();
    cluster.cleanup();
    assert.equal(code, 0);
  });

  it('api-resources lists them with upstream\'s short names, scope and verbs', async () => {
    const listed = rows((await ok(['api-resources', '-o', 'wide', '--no-headers'])).stdout);
    const entry = (name: string, apiVersion: string) => listed.find((row) => row[0] === name && row.includes(apiVersion));
    assert.deepEqual(entry('bindings', 'v1'), ['bindings', 'v1', 'true', 'Binding', 'create']);
    assert.deepEqual(entry('componentstatuses', 'v1'), ['componentstatuses', 'cs', 'v1', 'false', 'ComponentStatus', 'get,list']);
    const all = 'create,delete,deletecollection,get,list,patch,update,watch';
    assert.deepEqual(entry('csidrivers', 'storage.k8s.io/v1'), ['csidrivers', 'storage.k8s.io/v1', 'false', 'CSIDriver', all]);
    assert.deepEqual(entry('csinodes', 'storage.k8s.io/v1'), ['csinodes', 'storage.k8s.io/v1', 'false', 'CSINode', all]);
    assert.deepEqual(entry('csistoragecapacities', 'storage.k8s.io/v1'), ['csistoragecapacities', 'storage.k8s.io/v1', 'true', 'CSIStorageCapacity', all]);
    assert.deepEqual(entry('volumeattachments', 'storage.k8s.io/v1'), ['volumeattachments', 'storage.k8s.io/v1', 'false', 'VolumeAttachment', all]);
    // kubectl shows each resource once, in the group's preferred version: v2 for HPAs.
    assert.deepEqual(entry('horizontalpodautoscalers', 'autoscaling/v2'), ['horizontalpodautoscalers', 'hpa', 'autoscaling/v2', 'true', 'HorizontalPodAutoscaler', all, 'all']);
    const versions = (await ok(['api-versions'])).stdout.split('\n');
    assert.ok(versions.includes('autoscaling/v1') && versions.includes('autoscaling/v2'), versions.join(' '));
    // Discovery as upstream writes it: one storage hash for both HPA versions (the stored v2's), none for kinds never stored.
    const v1 = JSON.parse((await ok(['get', '--raw', '/apis/autoscaling/v1'])).stdout) as Json;
    const v2 = JSON.parse((await ok(['get', '--raw', '/apis/autoscaling/v2'])).stdout) as Json;
    assert.equal(v1.resources[0].storageVersionHash, v2.resources[0].storageVersionHash);
    assert.deepEqual(v1.resources.map((resource: Json) => resource.name), ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']);
    const core = JSON.parse((await ok(['get', '--raw', '/api/v1'])).stdout) as Json;
    const bindings = core.resources.find((resource: Json) => resource.name === 'bindings');
    assert.deepEqual(bindings, { name: 'bindings', singularName: 'binding', namespaced: true, kind: 'Binding', verbs: ['create'] });
    const group = JSON.parse((await ok(['get', '--raw', '/apis/autoscaling'])).stdout) as Json;
    assert.equal(group.preferredVersion.version, 'v2');
  });

  it('kubectl autoscale creates a v1 HPA that reads back in both versions, v2 with its metrics', async () => {
    await ok(['create', 'deployment', 'web', '--image=nginx']);
    assert.equal((await ok(['autoscale', 'deploy', 'web', '--min=1', '--max=3', '--cpu-percent=50'])).stdout.trim(), 'horizontalpodautoscaler.autoscaling/web autoscaled');
    for (const resource of ['hpa', 'hpa.v1.autoscaling', 'horizontalpodautoscalers.v1.autoscaling']) {
      const table = rows((await ok(['get', resource])).stdout);
      assert.deepEqual(table[0], ['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE'], resource);
      assert.deepEqual(table[1].slice(0, 6), ['web', 'Deployment/web', 'cpu: <unknown>/50%', '1', '3', '0'], resource);
    }
    const asV1 = parse((await ok(['get', 'horizontalpodautoscalers.v1.autoscaling', 'web', '-o', 'yaml'])).stdout) as Json;
    assert.equal(asV1.apiVersion, 'autoscaling/v1');
    assert.deepEqual(asV1.spec, { maxReplicas: 3, minReplicas: 1, scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, targetCPUUtilizationPercentage: 50 });
    assert.deepEqual(asV1.status, { currentReplicas: 0, desiredReplicas: 0 });
    const asV2 = parse((await ok(['get', 'hpa.v2.autoscaling', '-o', 'yaml'])).stdout) as Json;
    assert.equal(asV2.items[0].apiVersion, 'autoscaling/v2');
    assert.deepEqual(asV2.items[0].spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
    // kubectl 1.33 sends v2 (protobuf) first; 1.27 sends v1.
    await ok(['autoscale', 'deploy', 'web', '--name=web-133', '--min=1', '--max=2', '--cpu-percent=40'], undefined, '1.33');
    await ok(['autoscale', 'deploy', 'web', '--name=web-127', '--min=1', '--max=2', '--cpu-percent=30'], undefined, '1.27');
    const targets = rows((await ok(['get', 'hpa', '--no-headers'])).stdout).map((row) => [row[0], row[2]]);
    assert.deepEqual(targets, [['web', 'cpu: <unknown>/50%'], ['web-127', 'cpu: <unknown>/30%'], ['web-133', 'cpu: <unknown>/40%']]);
  });

  it('what v1 cannot say rides in annotations, and a v1 client writing the object back loses nothing', async () => {
    await ok(['apply', '-f', '-'], [
      'apiVersion: autoscaling/v2',
      'kind: HorizontalPodAutoscaler',
      'metadata: {name: multi}',
      'spec:',
      '  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}',
      '  maxReplicas: 5',
      '  metrics:',
      '  - {type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}}',
      '  - {type: Resource, resource: {name: memory, target: {type: AverageValue, averageValue: 500Mi}}}',
      '  behavior: {scaleDown: {stabilizationWindowSeconds: 120}}',
      '',
    ].join('\n'));
    const asV1 = JSON.parse((await ok(['get', 'horizontalpodautoscalers.v1.autoscaling', 'multi', '-o', 'json'])).stdout) as Json;
    assert.equal(asV1.spec.targetCPUUtilizationPercentage, 60);
    assert.deepEqual(JSON.parse(asV1.metadata.annotations['autoscaling.alpha.kubernetes.io/metrics']), [{ type: 'Resource', resource: { name: 'memory', targetAverageValue: '500Mi' } }]);
    assert.equal(JSON.parse(asV1.metadata.annotations['autoscaling.alpha.kubernetes.io/behavior']).ScaleDown.StabilizationWindowSeconds, 120);
    // A v1 replace with a new maximum.
    asV1.spec.maxReplicas = 7;
    delete asV1.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'];
    await ok(['replace', '-f', '-'], JSON.stringify(asV1));
    const asV2 = JSON.parse((await ok(['get', 'hpa', 'multi', '-o', 'json'])).stdout) as Json;
    assert.equal(asV2.spec.maxReplicas, 7);
    assert.deepEqual(asV2.spec.metrics.map((metric: Json) => metric.resource.name).sort(), ['cpu', 'memory']);
    assert.equal(asV2.spec.behavior.scaleDown.stabilizationWindowSeconds, 120);
    assert.equal(asV2.metadata.annotations?.['autoscaling.alpha.kubernetes.io/metrics'], undefined);
    // Validation speaks of the v2 fields whichever version was written, as upstream's internal validation does.
    assert.match(await fails(['create', '-f', '-'], JSON.stringify({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'bad' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 4, maxReplicas: 2 } })), /spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`/);
  });

  it('creates the CSI kinds with upstream defaults and printers, and keeps what must not change', async () => {
    await ok(['create', '-f', '-'], [
      'apiVersion: storage.k8s.io/v1',
      'kind: CSIDriver',
      'metadata: {name: hostpath.csi.k8s.io}',
      'spec: {tokenRequests: [{audience: vault}], volumeLifecycleModes: [Persistent, Ephemeral]}',
      '---',
      'apiVersion: storage.k8s.io/v1',
      'kind: VolumeAttachment',
      'metadata: {name: va-1}',
      'spec: {attacher: hostpath.csi.k8s.io, nodeName: node-1, source: {persistentVolumeName: pv-1}}',
      '---',
      'apiVersion: storage.k8s.io/v1',
      'kind: CSINode',
      'metadata: {name: node-1}',
      'spec: {drivers: [{name: hostpath.csi.k8s.io, nodeID: node-1, topologyKeys: [topology.hostpath.csi/node]}]}',
      '---',
      'apiVersion: storage.k8s.io/v1',
      'kind: CSIStorageCapacity',
      'metadata: {name: cap-1}',
      'storageClassName: standard',
      'capacity: 10Gi',
      '',
    ].join('\n'));
    assert.deepEqual(rows((await ok(['get', 'csidrivers'])).stdout).map((row) => row.slice(0, 7)), [
      ['NAME', 'ATTACHREQUIRED', 'PODINFOONMOUNT', 'STORAGECAPACITY', 'TOKENREQUESTS', 'REQUIRESREPUBLISH', 'MODES'],
      ['hostpath.csi.k8s.io', 'true', 'false', 'false', 'vault', 'false', 'Persistent,Ephemeral'],
    ]);
    assert.deepEqual(rows((await ok(['get', 'csinodes'])).stdout).map((row) => row.slice(0, 2)), [['NAME', 'DRIVERS'], ['node-1', '1']]);
    assert.deepEqual(rows((await ok(['get', 'csistoragecapacities'])).stdout), [['NAME', 'STORAGECLASSNAME', 'CAPACITY'], ['cap-1', 'standard', '10Gi']]);
    assert.deepEqual(rows((await ok(['get', 'volumeattachments'])).stdout).map((row) => row.slice(0, 5)), [['NAME', 'ATTACHER', 'PV', 'NODE', 'ATTACHED'], ['va-1', 'hostpath.csi.k8s.io', 'pv-1', 'node-1', 'false']]);
    const spec = (JSON.parse((await ok(['get', 'csidriver', 'hostpath.csi.k8s.io', '-o', 'json'])).stdout) as Json).spec;
    assert.deepEqual(spec, { attachRequired: true, podInfoOnMount: false, storageCapacity: false, fsGroupPolicy: 'ReadWriteOnceWithFSType', volumeLifecycleModes: ['Persistent', 'Ephemeral'], requiresRepublish: false, seLinuxMount: false, tokenRequests: [{ audience: 'vault' }] });

    assert.equal(await fails(['patch', 'csidriver', 'hostpath.csi.k8s.io', '--type=merge', '-p', '{"spec":{"attachRequired":false}}']), 'The CSIDriver "hostpath.csi.k8s.io" is invalid: spec.attachedRequired: Invalid value: false: field is immutable');
    await ok(['patch', 'csidriver', 'hostpath.csi.k8s.io', '--type=merge', '-p', '{"spec":{"podInfoOnMount":true}}']);
    assert.match(await fails(['patch', 'volumeattachment', 'va-1', '--type=merge', '-p', '{"spec":{"nodeName":"node-2"}}']), /^The VolumeAttachment "va-1" is invalid: spec: Invalid value: .*: field is immutable$/);
    // The attacher reports through the status subresource; the main resource cannot set it.
    await ok(['patch', 'volumeattachment', 'va-1', '--type=merge', '-p', '{"status":{"attached":true}}']);
    assert.equal((await ok(['get', 'volumeattachment', 'va-1', '-o', 'jsonpath={.status.attached}'])).stdout, 'false');
    await ok(['patch', 'volumeattachment', 'va-1', '--subresource=status', '--type=merge', '-p', '{"status":{"attached":true,"attachmentMetadata":{"devicePath":"/dev/sdb"}}}']);
    assert.equal(rows((await ok(['get', 'volumeattachments', '--no-headers'])).stdout)[0][4], 'true');
    assert.equal(
      await fails(['create', '-f', '-'], JSON.stringify({ apiVersion: 'storage.k8s.io/v1', kind: 'VolumeAttachment', metadata: { name: 'bad' }, spec: { attacher: 'hostpath.csi.k8s.io', nodeName: 'node-1', source: {} } })),
      'The VolumeAttachment "bad" is invalid: spec.source: Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName',
    );
  });

  it('POST bindings binds the named pod, once, as pods/binding does', async () => {
    // No node agent runs here, so nothing else schedules the pod.
    await ok(['run', 'bound', '--image=nginx']);
    const binding = (node: string) => JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bound' }, target: { kind: 'Node', name: node } });
    await ok(['create', '-f', '-'], binding('node-1'));
    const pod = JSON.parse((await ok(['get', 'pod', 'bound', '-o', 'json'])).stdout) as Json;
    assert.equal(pod.spec.nodeName, 'node-1');
    assert.equal(pod.status.conditions.find((condition: Json) => condition.type === 'PodScheduled')?.status, 'True');
    assert.equal(await fails(['create', '-f', '-'], binding('node-2')), 'Error from server (Conflict): error when creating "STDIN": Operation cannot be fulfilled on pods/binding "bound": pod bound is already assigned to node "node-1"');
    assert.match(await fails(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'missing' }, target: { name: 'node-1' } })), /pods "missing" not found/);
    assert.match(await fails(['get', 'bindings']), /MethodNotAllowed/);
  });

  it('kubectl get cs reports the storage backend and the controllers, with the deprecation warning', async () => {
    const result = await ok(['get', 'cs']);
    assert.match(result.stderr, /Warning: v1 ComponentStatus is deprecated in v1.19\+/);
    assert.deepEqual(rows(result.stdout), [
      ['NAME', 'STATUS', 'MESSAGE', 'ERROR'],
      ['controller-manager', 'Healthy', 'ok'],
      ['etcd-0', 'Healthy', 'ok'],
    ]);
    const etcd = JSON.parse((await ok(['get', 'componentstatus', 'etcd-0', '-o', 'json'])).stdout) as Json;
    assert.deepEqual(etcd.conditions, [{ type: 'Healthy', status: 'True', message: 'ok' }]);
    assert.equal(await fails(['get', 'cs', 'scheduler']), 'Warning: v1 ComponentStatus is deprecated in v1.19+\nError from server (NotFound): componentstatuses "scheduler" not found');
    assert.match(await fails(['delete', 'cs', 'etcd-0']), /MethodNotAllowed/);
  });
});
