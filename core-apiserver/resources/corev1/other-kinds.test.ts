import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import type { ResourceDefinition, StrategyContext } from '../../../apiserver/registry/resource.js';
import { fieldErrorMessage } from '../../../apiserver/request/status.js';
import { eventObject, events, serviceAccounts } from './accounts-events.js';
import { podTemplates, replicationControllers } from './controllers.js';
import { core1Resources } from './index.js';
import { nodeRoles, nodes, nodeStatusCell } from './nodes.js';
import { limitRanges, quotaCells, resourceQuotas } from './quotas.js';
import { accessModesString, persistentVolumeClaims, persistentVolumes } from './volumes.js';

function context(): StrategyContext {
  return { user: { username: 'alice', groups: [] }, warnings: [], dryRun: false };
}

function object(kind: string, fields: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind, metadata: { name: 'x', namespace: 'default', ...metadata }, ...fields };
}

function created(resource: ResourceDefinition, value: KubeObject): { value: KubeObject; problems: string[] } {
  resource.strategy.prepareForCreate?.(value, context());
  const problems = (resource.strategy.validate?.(value, context()) ?? []).map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
  return { value, problems };
}

function cells(resource: ResourceDefinition, value: KubeObject): unknown[] {
  return resource.printerColumns!.map((column) => column.value(value));
}

describe('core v1 declarations', () => {
  it('declare the names, short names, scopes and status subresources kubectl discovers', () => {
    assert.deepEqual(
      core1Resources.map((resource) => `${resource.plural}:${resource.shortNames.join(',')}:${resource.namespaced ? 'ns' : 'cluster'}${resource.subresources.status ? ':status' : ''}${resource.categories.length ? `:${resource.categories}` : ''}`),
      [
        'pods:po:ns:status:all',
        'nodes:no:cluster:status',
        'serviceaccounts:sa:ns',
        'events:ev:ns',
        'limitranges:limits:ns',
        'resourcequotas:quota:ns:status',
        'persistentvolumes:pv:cluster:status',
        'persistentvolumeclaims:pvc:ns:status',
        'podtemplates::ns',
        'replicationcontrollers:rc:ns:status:all',
      ],
    );
  });
});

describe('Node printer', () => {
  it('derives STATUS from the Ready condition and cordoning', () => {
    assert.equal(nodeStatusCell(object('Node', {})), 'Unknown');
    assert.equal(nodeStatusCell(object('Node', { status: { conditions: [{ type: 'Ready', status: 'False' }] } })), 'NotReady');
    assert.equal(nodeStatusCell(object('Node', { spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'True' }] } })), 'Ready,SchedulingDisabled');
  });

  it('lists roles from both role label forms, sorted, or <none>', () => {
    assert.equal(nodeRoles(object('Node', {}, { labels: { 'node-role.kubernetes.io/worker': '', 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'edge' } })), 'control-plane,edge,worker');
    assert.equal(nodeRoles(object('Node', {}, { labels: { 'node-role.kubernetes.io/': '' } })), '<none>');
  });

  it('prints <unknown> system info and <none> addresses, and defaults allocatable to capacity', () => {
    const { value, problems } = created(nodes, object('Node', { status: { capacity: { cpu: '2' } } }));
    assert.deepEqual(problems, []);
    assert.deepEqual(value.status.allocatable, { cpu: '2' });
    assert.deepEqual(cells(nodes, value).slice(4), ['', '<none>', '<none>', '<unknown>', '<unknown>', '<unknown>']);
  });

  it('checks taints', () => {
    const { problems } = created(nodes, object('Node', { spec: { taints: [{ key: 'gpu', effect: 'Sometimes' }] } }));
    assert.deepEqual(problems, ['spec.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoExecute", "NoSchedule", "PreferNoSchedule"']);
  });
});

describe('ServiceAccount and Event printers', () => {
  it('count service account secrets', () => {
    assert.equal(cells(serviceAccounts, object('ServiceAccount', { secrets: [{ name: 'a' }, { name: 'b' }] }))[1], 2);
  });

  it('print events with kind/name, the series count and the reporting source', () => {
    assert.equal(eventObject(object('Event', { involvedObject: { kind: 'Deployment', name: 'web' } })), 'deployment/web');
    assert.equal(eventObject(object('Event', { involvedObject: { kind: 'Node' } })), 'node');
    const series = object('Event', { eventTime: new Date().toISOString(), series: { count: 4, lastObservedTime: new Date().toISOString() }, reportingComponent: 'kubelet', reportingInstance: 'node-1', action: 'Pull', reason: 'Pulled', involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' } });
    const row = cells(events, series);
    assert.deepEqual([row[5], row[8]], ['kubelet, node-1', 4]);
    assert.deepEqual(created(events, series).problems, []);
    assert.deepEqual(created(events, object('Event', { eventTime: new Date().toISOString(), involvedObject: { kind: 'Pod', namespace: 'default' } })).problems, [
      'source: Required value',
      'reportingInstance: Required value',
      'action: Required value',
      'reason: Required value',
    ]);
  });
});

describe('PersistentVolumes and claims', () => {
  it('default the reclaim policy and volume mode, start Pending, and print upstream cells', () => {
    const { value, problems } = created(persistentVolumes, object('PersistentVolume', { spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteMany', 'ReadWriteOnce'], hostPath: { path: '/data' }, claimRef: { namespace: 'default', name: 'data' } } }));
    assert.deepEqual(problems, []);
    assert.equal(value.spec.persistentVolumeReclaimPolicy, 'Retain');
    assert.equal(value.status.phase, 'Pending');
    assert.deepEqual(cells(persistentVolumes, value).slice(1, 9), ['5Gi', 'RWO,RWX', 'Retain', 'Pending', 'default/data', '', '<unset>', '']);
    assert.equal(accessModesString(['ReadWriteOncePod', 'ReadOnlyMany', 'ReadOnlyMany']), 'ROX,RWOP');
  });

  it('require capacity, access modes and exactly one volume type', () => {
    assert.deepEqual(created(persistentVolumes, object('PersistentVolume', { spec: {} })).problems, ['spec.accessModes: Required value', 'spec.capacity: Required value', 'spec: Required value: must specify a volume type']);
    assert.deepEqual(created(persistentVolumeClaims, object('PersistentVolumeClaim', { spec: {} })).problems, ['spec.accessModes: Required value: at least 1 access mode is required', 'spec.resources[storage]: Required value']);
  });

  it('freeze a claim spec except binding and resizing a bound claim', () => {
    const { value: old } = created(persistentVolumeClaims, object('PersistentVolumeClaim', { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }));
    assert.deepEqual(cells(persistentVolumeClaims, old).slice(1, 7), ['Pending', '', '', '', '', '<unset>']);
    const bound = structuredClone(old);
    bound.spec.volumeName = 'pv-1';
    assert.deepEqual(persistentVolumeClaims.strategy.validateUpdate!(bound, old, context()), []);
    const changed = structuredClone(old);
    changed.spec.accessModes = ['ReadWriteMany'];
    assert.deepEqual(
      persistentVolumeClaims.strategy.validateUpdate!(changed, old, context()).map((error) => `${error.field}: ${fieldErrorMessage(error)}`),
      ['spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'],
    );
  });
});

describe('LimitRanges and ResourceQuotas', () => {
  it('cascade container limit defaults: max to default to defaultRequest, min to defaultRequest', () => {
    const { value } = created(limitRanges, object('LimitRange', { spec: { limits: [{ type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' } }, { type: 'Pod', max: { cpu: '4' } }] } }));
    assert.deepEqual(value.spec.limits[0], { type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' }, default: { cpu: '2' }, defaultRequest: { cpu: '2', memory: '64Mi' } });
    assert.deepEqual(value.spec.limits[1], { type: 'Pod', max: { cpu: '4' } });
    assert.equal(limitRanges.printerColumns, undefined);
  });

  it('print quota usage split into requests and limits', () => {
    const quota = object('ResourceQuota', { status: { hard: { 'limits.cpu': '4', 'requests.cpu': '2', pods: '10' }, used: { 'requests.cpu': '500m', pods: '3' } } });
    assert.deepEqual(quotaCells(quota), { request: 'pods: 3/10, requests.cpu: 500m/2', limit: 'limits.cpu: 0/4' });
    assert.deepEqual(resourceQuotas.printerColumns!.map((column) => column.name), ['Name', 'Age', 'Request', 'Limit']);
  });
});

describe('ReplicationControllers and PodTemplates', () => {
  const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } };

  it('default selector, labels and replicas from the template and start with zero replicas in status', () => {
    const { value, problems } = created(replicationControllers, object('ReplicationController', { spec: { template: structuredClone(template) } }));
    assert.deepEqual(problems, []);
    assert.deepEqual([value.spec.selector, value.metadata.labels, value.spec.replicas, value.status], [{ app: 'web' }, { app: 'web' }, 1, { replicas: 0 }]);
    assert.equal(value.spec.template.spec.restartPolicy, 'Always');
    assert.deepEqual(cells(replicationControllers, value).filter((_, index) => index !== 4), ['x', 1, 0, 0, 'web', 'nginx', 'app=web']);
  });

  it('refuse a selector the template labels do not match and non-Always restart policies', () => {
    const spec = { selector: { app: 'api' }, template: { ...structuredClone(template), spec: { restartPolicy: 'Never', containers: [{ name: 'web', image: 'nginx' }] } } };
    assert.deepEqual(created(replicationControllers, object('ReplicationController', { spec })).problems, [
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: selector does not match template labels',
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]);
  });

  it('default and validate pod templates under template.spec', () => {
    const { value, problems } = created(podTemplates, object('PodTemplate', { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web' }] } } }));
    assert.deepEqual(problems, ['template.spec.containers[0].image: Required value']);
    assert.equal(value.template.spec.dnsPolicy, 'ClusterFirst');
    assert.equal(value.template.spec.enableServiceLinks, undefined);
    assert.deepEqual(cells(podTemplates, value), ['x', 'web', '', 'app=web']);
  });
});
