import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import type { ResourceDefinition, StrategyContext } from '../../../apiserver/registry/resource.js';
import { columnsOf, tableRow } from '../../../apiserver/registry/table.js';
import { fieldErrorMessage } from '../../../apiserver/request/status.js';
import { controllerRevisions, daemonSets, statefulSets } from './apps.js';
import { horizontalPodAutoscalers, hpaTargets, podDisruptionBudgets } from './scaling.js';

const USER: StrategyContext = { user: { username: 'alice', groups: [] }, warnings: [], dryRun: false };

function object(apiVersion: string, kind: string, spec: Record<string, unknown>, name = 'web'): KubeObject {
  return { apiVersion, kind, metadata: { name, namespace: 'default' }, spec };
}

function podSpec(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
    ...extra,
  };
}

function messages(definition: ResourceDefinition, item: KubeObject): string[] {
  definition.strategy.prepareForCreate?.(item, USER);
  return definition.strategy.validate!(item, USER).map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
}

function updateMessages(definition: ResourceDefinition, next: KubeObject, old: KubeObject): string[] {
  definition.strategy.prepareForUpdate!(next, old, USER);
  return definition.strategy.validateUpdate!(next, old, USER).map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
}

function cells(definition: ResourceDefinition, item: KubeObject): unknown[] {
  return tableRow(columnsOf(definition), item, 'None').cells as unknown[];
}

describe('StatefulSet', () => {
  it('defaults management, update strategy, retention and claim templates, with a counting status', () => {
    const sts = object('apps/v1', 'StatefulSet', podSpec({ serviceName: 'web', volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } }] }));
    assert.deepEqual(messages(statefulSets, sts), []);
    assert.equal(sts.spec.replicas, 1);
    assert.equal(sts.spec.podManagementPolicy, 'OrderedReady');
    assert.deepEqual(sts.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
    assert.equal(sts.spec.revisionHistoryLimit, 10);
    assert.deepEqual(sts.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
    assert.deepEqual(sts.spec.volumeClaimTemplates[0], { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], volumeMode: 'Filesystem' }, status: { phase: 'Pending' } });
    assert.deepEqual(sts.status, { replicas: 0, availableReplicas: 0 });
  });

  it('refuses bad policies and an empty selector, and forbids changing fixed fields', () => {
    const sts = object('apps/v1', 'StatefulSet', podSpec({ podManagementPolicy: 'Random', selector: {}, persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Keep' } }));
    assert.deepEqual(messages(statefulSets, sts), [
      `spec.podManagementPolicy: Invalid value: "Random": must be 'OrderedReady' or 'Parallel'`,
      'spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Keep": supported values: "Retain", "Delete"',
      'spec.selector: Invalid value: "object": empty selector is invalid for statefulset',
    ]);
    const old = object('apps/v1', 'StatefulSet', podSpec({ serviceName: 'web' }));
    statefulSets.strategy.prepareForCreate!(old, USER);
    const scaled = structuredClone(old);
    scaled.spec.replicas = 4;
    assert.deepEqual(updateMessages(statefulSets, scaled, old), []);
    const renamed = structuredClone(old);
    renamed.spec.serviceName = 'other';
    assert.deepEqual(updateMessages(statefulSets, renamed, old), [
      "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ]);
  });

  it('prints READY as ready/desired', () => {
    const sts = object('apps/v1', 'StatefulSet', podSpec({ replicas: 3 }));
    sts.status = { readyReplicas: 2 };
    assert.deepEqual(columnsOf(statefulSets).map((c) => c.name), ['Name', 'Ready', 'Age', 'Containers', 'Images']);
    const row = cells(statefulSets, sts);
    assert.deepEqual([row[0], row[1], row[3], row[4]], ['web', '2/3', 'web', 'nginx:1.27']);
  });
});

describe('DaemonSet', () => {
  it('defaults the rolling update to one unavailable, no surge, and records the template generation', () => {
    const ds = object('apps/v1', 'DaemonSet', podSpec());
    assert.deepEqual(messages(daemonSets, ds), []);
    assert.deepEqual(ds.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    assert.equal(ds.spec.revisionHistoryLimit, 10);
    assert.deepEqual(ds.metadata.annotations, { 'deprecated.daemonset.template.generation': '1' });
    assert.deepEqual(ds.status, { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 });
    const next = structuredClone(ds);
    next.spec.template.spec.containers[0].image = 'nginx:1.28';
    assert.deepEqual(updateMessages(daemonSets, next, ds), []);
    assert.equal(next.metadata.annotations!['deprecated.daemonset.template.generation'], '2');
  });

  it('wants exactly one of maxUnavailable and maxSurge, and keeps its selector', () => {
    const both = object('apps/v1', 'DaemonSet', podSpec({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: '10%' } } }));
    assert.deepEqual(messages(daemonSets, both), ['spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "10%": may not be set when maxUnavailable is non-zero']);
    const neither = object('apps/v1', 'DaemonSet', podSpec({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } } }));
    assert.deepEqual(messages(daemonSets, neither), ['spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0']);
    const old = object('apps/v1', 'DaemonSet', podSpec());
    daemonSets.strategy.prepareForCreate!(old, USER);
    const next = structuredClone(old);
    next.spec.selector = { matchLabels: { app: 'web', x: 'y' } };
    next.spec.template.metadata.labels.x = 'y';
    assert.deepEqual(updateMessages(daemonSets, next, old), ['spec.selector: Invalid value: "object": field is immutable']);
  });

  it('prints counters, the node selector and the wide columns', () => {
    const ds = object('apps/v1', 'DaemonSet', podSpec());
    ds.spec.template.spec.nodeSelector = { 'kubernetes.io/os': 'linux' };
    ds.status = { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2 };
    assert.deepEqual(columnsOf(daemonSets).map((c) => c.name), ['Name', 'Desired', 'Current', 'Ready', 'Up-to-date', 'Available', 'Node Selector', 'Age', 'Containers', 'Images', 'Selector']);
    const row = cells(daemonSets, ds);
    assert.deepEqual(row.filter((_, i) => i !== 7), ['web', 3, 3, 2, 3, 2, 'kubernetes.io/os=linux', 'web', 'nginx:1.27', 'app=web']);
    assert.equal(cells(daemonSets, object('apps/v1', 'DaemonSet', podSpec()))[6], '<none>');
  });
});

describe('ControllerRevision', () => {
  it('requires data, keeps it for good, and prints its controller as kind.group/name', () => {
    const revision: KubeObject = { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'web-7d9f', namespace: 'default' }, revision: -1 };
    assert.deepEqual(messages(controllerRevisions, revision), ['data: Required value: data is mandatory', 'revision: Invalid value: -1: must be greater than or equal to 0']);
    const owned: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: { name: 'web-7d9f', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'web', uid: 'u', controller: true }] },
      data: { spec: {} },
      revision: 2,
    };
    assert.deepEqual(cells(controllerRevisions, owned).slice(0, 3), ['web-7d9f', 'daemonset.apps/web', 2]);
    assert.equal(cells(controllerRevisions, revision)[1], '<none>');
    const changed = { ...structuredClone(owned), data: { spec: { x: 1 } } };
    assert.deepEqual(
      controllerRevisions.strategy.validateUpdate!(changed, owned, USER).map((error) => `${error.field}: ${fieldErrorMessage(error)}`),
      ['data: Invalid value: "object": field is immutable'],
    );
  });
});

describe('HorizontalPodAutoscaler', () => {
  it('defaults min replicas and an 80% CPU target, and bounds the replica counts', () => {
    const hpa = object('autoscaling/v2', 'HorizontalPodAutoscaler', { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5 });
    assert.deepEqual(messages(horizontalPodAutoscalers, hpa), []);
    assert.equal(hpa.spec.minReplicas, 1);
    assert.deepEqual(hpa.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
    assert.deepEqual(hpa.status, { desiredReplicas: 0 });
    const bad = object('autoscaling/v2', 'HorizontalPodAutoscaler', { scaleTargetRef: { kind: 'Deployment' }, minReplicas: 3, maxReplicas: 2 });
    assert.deepEqual(messages(horizontalPodAutoscalers, bad), ['spec.scaleTargetRef.name: Required value', 'spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`']);
  });

  it('prints reference, targets, bounds and replicas', () => {
    const hpa = object('autoscaling/v2', 'HorizontalPodAutoscaler', { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 5 });
    horizontalPodAutoscalers.strategy.prepareForCreate!(hpa, USER);
    const row = cells(horizontalPodAutoscalers, hpa);
    assert.deepEqual(row.slice(0, 6), ['web', 'Deployment/web', 'cpu: <unknown>/80%', 1, 5, 0]);
    hpa.spec.metrics.push({ type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } });
    hpa.spec.metrics.push({ type: 'External', external: { metric: { name: 'queue' }, target: { type: 'AverageValue', averageValue: '30' } } });
    hpa.status = { currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 41 } } }] };
    assert.equal(hpaTargets(hpa), 'cpu: 41%/80%, <unknown>/10 + 1 more...');
  });
});

describe('PodDisruptionBudget', () => {
  it('refuses both bounds at once, and prints them with N/A when unset', () => {
    const pdb = object('policy/v1', 'PodDisruptionBudget', { minAvailable: 1, maxUnavailable: '150%', selector: { matchLabels: { app: 'web' } } });
    assert.deepEqual(messages(podDisruptionBudgets, pdb), [
      'spec: Invalid value: "object": minAvailable and maxUnavailable cannot be both set',
      'spec.maxUnavailable: Invalid value: "150%": must not be greater than 100%',
    ]);
    const ok = object('policy/v1', 'PodDisruptionBudget', { maxUnavailable: '25%', selector: { matchLabels: { app: 'web' } } });
    assert.deepEqual(messages(podDisruptionBudgets, ok), []);
    assert.deepEqual(ok.status, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
    assert.deepEqual(cells(podDisruptionBudgets, ok).slice(0, 4), ['web', 'N/A', '25%', 0]);
  });
});
