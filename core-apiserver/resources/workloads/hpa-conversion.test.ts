import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import { GenericStore, type WriteContext } from '../../../apiserver/registry/store.js';
import { MemoryStorage } from '../../../apiserver/storage/memory.js';
import { tableRow } from '../../../apiserver/registry/table.js';
import { BEHAVIOR_ANNOTATION, CONDITIONS_ANNOTATION, METRIC_SPECS_ANNOTATION, METRIC_STATUSES_ANNOTATION, hpaV1ToV2, hpaV2ToV1 } from './hpa-conversion.js';
import { horizontalPodAutoscalers } from './scaling.js';
import { horizontalPodAutoscalersV1 } from './autoscaling-v1.js';

const REF = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };
const cpu = (utilization: number) => ({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: utilization } } });

function v2(spec: Record<string, unknown>, status: Record<string, unknown> = { desiredReplicas: 0 }, annotations?: Record<string, string>): KubeObject {
  return { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'default', ...(annotations ? { annotations } : {}) }, spec: { scaleTargetRef: REF, minReplicas: 1, maxReplicas: 3, ...spec }, status };
}

describe('HorizontalPodAutoscaler v1 ⇄ v2 conversion', () => {
  it('a CPU utilization target is v1 targetCPUUtilizationPercentage, with no annotation', () => {
    const served = hpaV2ToV1(v2({ metrics: [cpu(50)] }));
    assert.equal(served.apiVersion, 'autoscaling/v1');
    assert.deepEqual(served.spec, { scaleTargetRef: REF, minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 50 });
    assert.deepEqual(served.status, { currentReplicas: 0, desiredReplicas: 0 });
    assert.equal(served.metadata.annotations, undefined);
    assert.deepEqual(hpaV1ToV2(served).spec, { scaleTargetRef: REF, minReplicas: 1, maxReplicas: 3, metrics: [cpu(50)] });
  });

  it('a v1 object without a target gets the implicit 80% CPU and v1 defaults', () => {
    const stored = hpaV1ToV2({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' }, spec: { scaleTargetRef: REF, maxReplicas: 5 } });
    assert.deepEqual(stored.spec, { scaleTargetRef: REF, minReplicas: 1, maxReplicas: 5, metrics: [cpu(80)] });
    assert.deepEqual(stored.status, { desiredReplicas: 0 });
  });

  it('metrics, statuses, behavior and conditions v1 cannot say survive a v2 → v1 → v2 round trip through annotations', () => {
    const memory = { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } } };
    const pods = { type: 'Pods', pods: { metric: { name: 'packets' }, target: { type: 'AverageValue', averageValue: '1k' } } };
    const object = { type: 'Object', object: { describedObject: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'main' }, metric: { name: 'hits', selector: { matchLabels: { a: 'b' } } }, target: { type: 'Value', value: '10k' } } };
    const external = { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'AverageValue', averageValue: '30' } } };
    const behavior = {
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }] },
      scaleDown: { stabilizationWindowSeconds: 120, selectPolicy: 'Min', policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }] },
    };
    const conditions = [{ type: 'AbleToScale', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'ReadyForNewScale', message: 'recommended size matches current size' }];
    const currentMetrics = [
      { type: 'Resource', resource: { name: 'cpu', current: { averageValue: '120m', averageUtilization: 42 } } },
      { type: 'Pods', pods: { metric: { name: 'packets' }, current: { averageValue: '900' } } },
    ];
    const original = v2({ metrics: [memory, cpu(60), pods, object, external], behavior }, { currentReplicas: 2, desiredReplicas: 3, currentMetrics, conditions }, { team: 'web' });

    const served = hpaV2ToV1(original);
    assert.equal((served.spec as Record<string, unknown>).targetCPUUtilizationPercentage, 60);
    assert.equal((served.status as Record<string, unknown>).currentCPUUtilizationPercentage, 42);
    const annotations = served.metadata.annotations!;
    assert.equal(annotations.team, 'web');
    // v1's own metric shapes, as upstream writes them.
    assert.deepEqual(JSON.parse(annotations[METRIC_SPECS_ANNOTATION]), [
      { type: 'Resource', resource: { name: 'memory', targetAverageValue: '500Mi' } },
      { type: 'Pods', pods: { metricName: 'packets', targetAverageValue: '1k' } },
      { type: 'Object', object: { target: { kind: 'Ingress', name: 'main', apiVersion: 'networking.k8s.io/v1' }, metricName: 'hits', targetValue: '10k', selector: { matchLabels: { a: 'b' } } } },
      { type: 'External', external: { metricName: 'queue', targetAverageValue: '30' } },
    ]);
    assert.deepEqual(JSON.parse(annotations[METRIC_STATUSES_ANNOTATION]), [
      { type: 'Resource', resource: { name: 'cpu', currentAverageUtilization: 42, currentAverageValue: '120m' } },
      { type: 'Pods', pods: { metricName: 'packets', currentAverageValue: '900' } },
    ]);
    // The internal Go type, marshalled without json tags.
    assert.deepEqual(JSON.parse(annotations[BEHAVIOR_ANNOTATION]), {
      ScaleUp: { StabilizationWindowSeconds: 0, SelectPolicy: 'Max', Policies: [{ Type: 'Pods', Value: 4, PeriodSeconds: 15 }] },
      ScaleDown: { StabilizationWindowSeconds: 120, SelectPolicy: 'Min', Policies: [{ Type: 'Percent', Value: 10, PeriodSeconds: 60 }] },
    });
    assert.deepEqual(JSON.parse(annotations[CONDITIONS_ANNOTATION]), conditions);

    const back = hpaV1ToV2(served);
    assert.deepEqual(back.metadata.annotations, { team: 'web' });
    // The CPU metric comes last, where v1's spec conversion leaves it.
    assert.deepEqual((back.spec as Record<string, unknown>).metrics, [memory, pods, object, external, cpu(60)]);
    assert.deepEqual((back.spec as Record<string, unknown>).behavior, behavior);
    assert.deepEqual(back.status, { currentReplicas: 2, desiredReplicas: 3, currentMetrics, conditions });
    // And once more: a second trip changes nothing.
    assert.deepEqual(hpaV1ToV2(hpaV2ToV1(back)), back);
  });

  it('reads behavior keys case-insensitively, ignores a zero behavior and drops stale round-trip annotations', () => {
    const v1 = hpaV2ToV1(v2({ metrics: [cpu(50)] }));
    v1.metadata.annotations = { [BEHAVIOR_ANNOTATION]: '{"scaleup":{"selectpolicy":"Disabled"}}' };
    // v2 defaulting fills the rest of the rules, as a stored v2 object read back is defaulted.
    const behavior = (hpaV1ToV2(v1).spec as Record<string, Record<string, Record<string, unknown>>>).behavior;
    assert.equal(behavior.scaleUp.selectPolicy, 'Disabled');
    assert.deepEqual(behavior.scaleDown.policies, [{ type: 'Percent', value: 100, periodSeconds: 15 }]);
    v1.metadata.annotations = { [BEHAVIOR_ANNOTATION]: '{}' };
    assert.equal((hpaV1ToV2(v1).spec as Record<string, unknown>).behavior, undefined);
    assert.equal(hpaV1ToV2(v1).metadata.annotations, undefined);
    // A v2 object carrying an annotation from an old conversion loses it when served as v1.
    const stale = hpaV2ToV1(v2({ metrics: [cpu(50)] }, { desiredReplicas: 0 }, { [METRIC_SPECS_ANNOTATION]: '[]' }));
    assert.equal(stale.metadata.annotations, undefined);
  });
});

describe('HorizontalPodAutoscaler served in both versions from one store', () => {
  const context: WriteContext = { user: { username: 'admin', groups: ['system:masters'] }, namespace: 'default', warnings: [], dryRun: false, fieldManager: 'test', fieldValidation: 'Strict' };

  it('a v1 create is stored as v2, read in either version, and validated on the v2 form', async () => {
    const storage = new MemoryStorage();
    const v1Store = new GenericStore(horizontalPodAutoscalersV1, storage);
    const v2Store = new GenericStore(horizontalPodAutoscalers, storage);
    const created = await v1Store.create({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' }, spec: { scaleTargetRef: REF, maxReplicas: 3, targetCPUUtilizationPercentage: 50 } }, context);
    assert.equal(created.object.apiVersion, 'autoscaling/v1');
    assert.deepEqual(created.object.status, { currentReplicas: 0, desiredReplicas: 0 });
    const stored = JSON.parse((await storage.get(v2Store.key('default', 'web')))!.value) as KubeObject;
    assert.equal(stored.apiVersion, 'autoscaling/v2');
    assert.deepEqual((stored.spec as Record<string, unknown>).metrics, [cpu(50)]);
    const asV2 = await v2Store.getObject('default', 'web');
    assert.equal(asV2.metadata.resourceVersion, created.object.metadata.resourceVersion);

    // A v2 update with a second metric shows in v1 as an annotation, and in v1's Table as a second target
    // (after the annotation's: upstream prints the stored order, which the v1 form no longer knows).
    asV2.spec = { ...(asV2.spec as object), metrics: [cpu(50), { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 70 } } }] };
    await v2Store.update('web', asV2, context);
    const asV1 = await v1Store.getObject('default', 'web');
    assert.match(asV1.metadata.annotations![METRIC_SPECS_ANNOTATION], /"memory"/);
    const cells = tableRow(horizontalPodAutoscalersV1.printerColumns!, asV1, 'None').cells as unknown[];
    assert.deepEqual(cells.slice(0, 6), ['web', 'Deployment/web', 'memory: <unknown>/70%, cpu: <unknown>/50%', 1, 3, 0]);

    // Writing the v1 object back keeps the metric it cannot show.
    (asV1.spec as Record<string, unknown>).maxReplicas = 4;
    await v1Store.update('web', asV1, context);
    const again = await v2Store.getObject('default', 'web');
    assert.equal((again.spec as Record<string, unknown>).maxReplicas, 4);
    assert.equal(((again.spec as Record<string, unknown>).metrics as unknown[]).length, 2);

    await assert.rejects(v1Store.create({ metadata: { name: 'bad' }, spec: { scaleTargetRef: REF, maxReplicas: 0 } }, context), (error: Error) => {
      assert.match(error.message, /spec.maxReplicas: Invalid value: 0: must be greater than 0/);
      return true;
    });
  });
});
