// autoscaling/v1 ⇄ autoscaling/v2 HorizontalPodAutoscalers, as pkg/apis/autoscaling/v1/conversion.go does
// it. HPAs are stored as v2; v1 can say only targetCPUUtilizationPercentage and
// currentCPUUtilizationPercentage, so everything else v2 holds travels in annotations of the v1 object —
// the other metrics and the current metrics (in v1's own MetricSpec/MetricStatus shapes), the behavior and
// the conditions — and a v1 client that reads an object and writes it back loses nothing.
//
// The behavior annotation is upstream's oddity kept on purpose: it is json.Marshal of the *internal* Go
// type, which has no json tags, so its keys are Go field names (ScaleUp, StabilizationWindowSeconds, …);
// reading it back matches keys case-insensitively, as encoding/json does.

import type { KubeObject } from '../../../apiserver/registry/object.js';
import { isObject } from '../../../apiserver/registry/object.js';
import type { VersionConverter } from '../../../apiserver/registry/conversion.js';
import { versionOf } from '../../../apiserver/registry/conversion.js';
import { applyHpaDefaults } from './scaling.js';
import type { Json } from './workload-fields.js';

export const METRIC_SPECS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics';
export const METRIC_STATUSES_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const BEHAVIOR_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior';
export const CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';
const ROUND_TRIP_ANNOTATIONS = [METRIC_SPECS_ANNOTATION, BEHAVIOR_ANNOTATION, METRIC_STATUSES_ANNOTATION, CONDITIONS_ANNOTATION];
/** autoscaling.DefaultCPUUtilization: v1's implicit target when no metric is given. */
const DEFAULT_CPU_UTILIZATION = 80;

const objectAt = (value: unknown): Json => (isObject(value) ? value : {});
const present = (value: unknown): boolean => value !== undefined && value !== null;
/** A Go non-pointer resource.Quantity: the zero value marshals as "0". */
const quantity = (value: unknown): unknown => (present(value) ? value : '0');

/** Builds an object from [key, value] pairs in order, leaving out the absent ones (omitempty). */
function fields(...entries: [string, unknown][]): Json {
  const result: Json = {};
  for (const [key, value] of entries) if (present(value)) result[key] = value;
  return result;
}

function reference(ref: unknown): Json {
  const value = objectAt(ref);
  return fields(['kind', value.kind ?? ''], ['name', value.name ?? ''], ['apiVersion', value.apiVersion]);
}

function isCpuUtilizationTarget(metric: Json): boolean {
  const resource = objectAt(metric.resource);
  return metric.type === 'Resource' && resource.name === 'cpu' && present(objectAt(resource.target).averageUtilization);
}

// ---- metric specs and statuses in v1's annotation shapes ------------------------------------------

function metricSpecToV1(metric: Json): Json {
  const result = fields(['type', metric.type ?? '']);
  if (isObject(metric.object)) {
    const source = metric.object;
    const target = objectAt(source.target);
    const identifier = objectAt(source.metric);
    result.object = fields(['target', reference(source.describedObject)], ['metricName', identifier.name ?? ''], ['targetValue', quantity(target.value)], ['selector', identifier.selector], ['averageValue', target.averageValue]);
  }
  if (isObject(metric.pods)) {
    const identifier = objectAt(metric.pods.metric);
    result.pods = fields(['metricName', identifier.name ?? ''], ['targetAverageValue', quantity(objectAt(metric.pods.target).averageValue)], ['selector', identifier.selector]);
  }
  for (const key of ['resource', 'containerResource']) {
    if (!isObject(metric[key])) continue;
    const source = metric[key] as Json;
    const target = objectAt(source.target);
    result[key] = fields(['name', source.name ?? ''], ['targetAverageUtilization', target.averageUtilization], ['targetAverageValue', target.averageValue], ...(key === 'containerResource' ? [['container', source.container ?? ''] as [string, unknown]] : []));
  }
  if (isObject(metric.external)) {
    const target = objectAt(metric.external.target);
    const identifier = objectAt(metric.external.metric);
    result.external = fields(['metricName', identifier.name ?? ''], ['metricSelector', identifier.selector], ['targetValue', target.value], ['targetAverageValue', target.averageValue]);
  }
  return result;
}

function metricSpecFromV1(metric: Json): Json {
  const result = fields(['type', metric.type ?? '']);
  const identifier = (source: Json, selectorKey: string): Json => fields(['name', source.metricName ?? ''], ['selector', source[selectorKey]]);
  if (isObject(metric.object)) {
    const source = metric.object;
    const target = fields(['type', present(source.averageValue) ? 'AverageValue' : 'Value'], ['value', quantity(source.targetValue)], ['averageValue', source.averageValue]);
    result.object = { describedObject: reference(source.target), target, metric: identifier(source, 'selector') };
  }
  if (isObject(metric.pods)) {
    result.pods = { metric: identifier(metric.pods, 'selector'), target: { type: 'AverageValue', averageValue: quantity(metric.pods.targetAverageValue) } };
  }
  for (const key of ['resource', 'containerResource']) {
    if (!isObject(metric[key])) continue;
    const source = metric[key] as Json;
    const target = fields(['type', present(source.targetAverageUtilization) ? 'Utilization' : 'AverageValue'], ['averageValue', source.targetAverageValue], ['averageUtilization', source.targetAverageUtilization]);
    result[key] = fields(['name', source.name ?? ''], ['target', target], ...(key === 'containerResource' ? [['container', source.container ?? ''] as [string, unknown]] : []));
  }
  if (isObject(metric.external)) {
    const source = metric.external;
    const target = fields(['type', present(source.targetValue) ? 'Value' : 'AverageValue'], ['value', source.targetValue], ['averageValue', source.targetAverageValue]);
    result.external = { metric: identifier(source, 'metricSelector'), target };
  }
  return result;
}

function metricStatusToV1(metric: Json): Json {
  const result = fields(['type', metric.type ?? '']);
  if (isObject(metric.object)) {
    const source = metric.object;
    const current = objectAt(source.current);
    const identifier = objectAt(source.metric);
    result.object = fields(['target', reference(source.describedObject)], ['metricName', identifier.name ?? ''], ['currentValue', quantity(current.value)], ['selector', identifier.selector], ['averageValue', current.averageValue]);
  }
  if (isObject(metric.pods)) {
    const identifier = objectAt(metric.pods.metric);
    result.pods = fields(['metricName', identifier.name ?? ''], ['currentAverageValue', quantity(objectAt(metric.pods.current).averageValue)], ['selector', identifier.selector]);
  }
  for (const key of ['resource', 'containerResource']) {
    if (!isObject(metric[key])) continue;
    const source = metric[key] as Json;
    const current = objectAt(source.current);
    result[key] = fields(['name', source.name ?? ''], ['currentAverageUtilization', current.averageUtilization], ['currentAverageValue', quantity(current.averageValue)], ...(key === 'containerResource' ? [['container', source.container ?? ''] as [string, unknown]] : []));
  }
  if (isObject(metric.external)) {
    const current = objectAt(metric.external.current);
    const identifier = objectAt(metric.external.metric);
    result.external = fields(['metricName', identifier.name ?? ''], ['metricSelector', identifier.selector], ['currentValue', quantity(current.value)], ['currentAverageValue', current.averageValue]);
  }
  return result;
}

function metricStatusFromV1(metric: Json): Json {
  const result = fields(['type', metric.type ?? '']);
  const identifier = (source: Json, selectorKey: string): Json => fields(['name', source.metricName ?? ''], ['selector', source[selectorKey]]);
  if (isObject(metric.object)) {
    const source = metric.object;
    result.object = { metric: identifier(source, 'selector'), current: fields(['value', quantity(source.currentValue)], ['averageValue', source.averageValue]), describedObject: reference(source.target) };
  }
  if (isObject(metric.pods)) {
    result.pods = { metric: identifier(metric.pods, 'selector'), current: { averageValue: quantity(metric.pods.currentAverageValue) } };
  }
  for (const key of ['resource', 'containerResource']) {
    if (!isObject(metric[key])) continue;
    const source = metric[key] as Json;
    const current = fields(['averageValue', quantity(source.currentAverageValue)], ['averageUtilization', source.currentAverageUtilization]);
    result[key] = fields(['name', source.name ?? ''], ['current', current], ...(key === 'containerResource' ? [['container', source.container ?? ''] as [string, unknown]] : []));
  }
  if (isObject(metric.external)) {
    const source = metric.external;
    result.external = { metric: identifier(source, 'metricSelector'), current: fields(['value', quantity(source.currentValue)], ['averageValue', source.currentAverageValue]) };
  }
  return result;
}

function conditionFields(condition: Json): Json {
  return fields(['type', condition.type ?? ''], ['status', condition.status ?? ''], ['lastTransitionTime', condition.lastTransitionTime], ['reason', condition.reason], ['message', condition.message]);
}

// ---- the behavior, in the internal type's Go field names ---------------------------------------------

function rulesToGo(rules: unknown): unknown {
  if (!isObject(rules)) return null;
  const policies = Array.isArray(rules.policies)
    ? rules.policies.filter(isObject).map((policy) => ({ Type: policy.type ?? '', Value: policy.value ?? 0, PeriodSeconds: policy.periodSeconds ?? 0 }))
    : null;
  return { StabilizationWindowSeconds: rules.stabilizationWindowSeconds ?? null, SelectPolicy: rules.selectPolicy ?? null, Policies: policies };
}

/** encoding/json's field matching: the exact key, else any key equal ignoring case. */
function goField(object: Json, name: string): unknown {
  if (name in object) return object[name];
  const lower = name.toLowerCase();
  const key = Object.keys(object).find((candidate) => candidate.toLowerCase() === lower);
  return key === undefined ? undefined : object[key];
}

function rulesFromGo(rules: unknown): Json | undefined {
  if (!isObject(rules)) return undefined;
  const policies = goField(rules, 'Policies');
  return fields(
    ['stabilizationWindowSeconds', goField(rules, 'StabilizationWindowSeconds')],
    ['selectPolicy', goField(rules, 'SelectPolicy')],
    ['policies', Array.isArray(policies) ? policies.filter(isObject).map((policy) => ({ type: goField(policy, 'Type') ?? '', value: goField(policy, 'Value') ?? 0, periodSeconds: goField(policy, 'PeriodSeconds') ?? 0 })) : undefined],
  );
}

/** The behavior an annotation holds; undefined when it does not decode or sets nothing (upstream keeps only a non-zero one). */
function behaviorFromAnnotation(text: string): Json | undefined {
  const decoded = parseJson(text);
  if (!isObject(decoded)) return undefined;
  const behavior = fields(['scaleUp', rulesFromGo(goField(decoded, 'ScaleUp'))], ['scaleDown', rulesFromGo(goField(decoded, 'ScaleDown'))]);
  return Object.keys(behavior).length > 0 ? behavior : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

// ---- whole objects ----------------------------------------------------------------------------------

/** Metadata without the annotations a conversion writes (DropRoundTripHorizontalPodAutoscalerAnnotations). */
function withoutRoundTripAnnotations(metadata: KubeObject['metadata']): KubeObject['metadata'] {
  const annotations = metadata.annotations;
  if (!annotations || !ROUND_TRIP_ANNOTATIONS.some((key) => key in annotations)) return { ...metadata };
  const kept = Object.fromEntries(Object.entries(annotations).filter(([key]) => !ROUND_TRIP_ANNOTATIONS.includes(key)));
  const { annotations: _dropped, ...rest } = metadata;
  return Object.keys(kept).length === 0 ? rest : { ...rest, annotations: kept };
}

/** A stored (v2) HPA as autoscaling/v1 serves it. */
export function hpaV2ToV1(hpa: KubeObject): KubeObject {
  const spec = objectAt(hpa.spec);
  const status = objectAt(hpa.status);
  const metrics = Array.isArray(spec.metrics) ? spec.metrics.filter(isObject) : [];
  const currentMetrics = Array.isArray(status.currentMetrics) ? status.currentMetrics.filter(isObject) : [];
  const conditions = Array.isArray(status.conditions) ? status.conditions.filter(isObject) : [];
  // The first CPU Resource metric decides the percentage (even when it has no utilization target).
  const cpuMetric = metrics.find((metric) => metric.type === 'Resource' && objectAt(metric.resource).name === 'cpu');
  const targetCpu = cpuMetric ? objectAt(objectAt(cpuMetric.resource).target).averageUtilization : undefined;
  // The last CPU Resource status with a utilization is the current percentage.
  let currentCpu: unknown;
  for (const metric of currentMetrics) {
    const utilization = objectAt(objectAt(metric.resource).current).averageUtilization;
    if (metric.type === 'Resource' && objectAt(metric.resource).name === 'cpu' && present(utilization)) currentCpu = utilization;
  }
  const metadata = withoutRoundTripAnnotations(hpa.metadata ?? {});
  const annotations: Record<string, string> = { ...(metadata.annotations ?? {}) };
  const otherMetrics = metrics.filter((metric) => !isCpuUtilizationTarget(metric)).map(metricSpecToV1);
  if (otherMetrics.length > 0) annotations[METRIC_SPECS_ANNOTATION] = JSON.stringify(otherMetrics);
  // Saved even when it is only the CPU utilization v1 shows: the annotation keeps the raw values too.
  if (currentMetrics.length > 0) annotations[METRIC_STATUSES_ANNOTATION] = JSON.stringify(currentMetrics.map(metricStatusToV1));
  if (isObject(spec.behavior)) annotations[BEHAVIOR_ANNOTATION] = JSON.stringify({ ScaleUp: rulesToGo(spec.behavior.scaleUp), ScaleDown: rulesToGo(spec.behavior.scaleDown) });
  if (conditions.length > 0) annotations[CONDITIONS_ANNOTATION] = JSON.stringify(conditions.map(conditionFields));
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  const { spec: _spec, status: _status, ...rest } = hpa;
  return {
    ...rest,
    apiVersion: 'autoscaling/v1',
    metadata,
    spec: fields(['scaleTargetRef', reference(spec.scaleTargetRef)], ['minReplicas', spec.minReplicas], ['maxReplicas', spec.maxReplicas ?? 0], ['targetCPUUtilizationPercentage', targetCpu]),
    // currentReplicas and desiredReplicas have no omitempty in v1.
    status: fields(['observedGeneration', status.observedGeneration], ['lastScaleTime', status.lastScaleTime], ['currentReplicas', status.currentReplicas ?? 0], ['desiredReplicas', status.desiredReplicas ?? 0], ['currentCPUUtilizationPercentage', currentCpu]),
  };
}

function annotationArray(annotations: Record<string, string> | undefined, key: string): Json[] | undefined {
  const text = annotations?.[key];
  if (text === undefined) return undefined;
  const decoded = parseJson(text);
  return Array.isArray(decoded) ? decoded.filter(isObject) : undefined;
}

/** An autoscaling/v1 HPA as it is stored (v2), defaulted as a v2 object read from storage is. */
export function hpaV1ToV2(hpa: KubeObject): KubeObject {
  const spec = objectAt(hpa.spec);
  const status = objectAt(hpa.status);
  const annotations = hpa.metadata?.annotations;
  // v1's defaulting: minReplicas 1.
  const minReplicas = spec.minReplicas ?? 1;
  const metrics: Json[] = (annotationArray(annotations, METRIC_SPECS_ANNOTATION) ?? []).map(metricSpecFromV1);
  // The metric v1 itself expresses goes after those from the annotation, as the spec conversion leaves it.
  if (present(spec.targetCPUUtilizationPercentage)) {
    metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } });
  }
  // v1 formerly had an implicit default in the controller; v2 says it explicitly.
  if (metrics.length === 0) metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } });
  const behavior = annotations?.[BEHAVIOR_ANNOTATION] !== undefined ? behaviorFromAnnotation(annotations[BEHAVIOR_ANNOTATION]) : undefined;
  // The annotation's statuses carry more than the percentage, so they win over it.
  const statusesFromAnnotation = annotationArray(annotations, METRIC_STATUSES_ANNOTATION);
  const currentMetrics = statusesFromAnnotation
    ? statusesFromAnnotation.map(metricStatusFromV1)
    : present(status.currentCPUUtilizationPercentage)
      ? [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } }]
      : undefined;
  const conditions = annotationArray(annotations, CONDITIONS_ANNOTATION)?.map(conditionFields);
  const { spec: _spec, status: _status, ...rest } = hpa;
  const converted: KubeObject = {
    ...rest,
    apiVersion: 'autoscaling/v2',
    metadata: withoutRoundTripAnnotations(hpa.metadata ?? {}),
    spec: fields(['scaleTargetRef', reference(spec.scaleTargetRef)], ['minReplicas', minReplicas], ['maxReplicas', spec.maxReplicas ?? 0], ['metrics', metrics], ['behavior', behavior]),
    // v2's currentReplicas is omitempty; desiredReplicas is not.
    status: fields(
      ['observedGeneration', status.observedGeneration],
      ['lastScaleTime', status.lastScaleTime],
      ['currentReplicas', status.currentReplicas === 0 ? undefined : status.currentReplicas],
      ['desiredReplicas', status.desiredReplicas ?? 0],
      ['currentMetrics', currentMetrics],
      ['conditions', conditions],
    ),
  };
  applyHpaDefaults(converted);
  return converted;
}

/** HPAs are stored as autoscaling/v2 and served as v1 too. */
export const hpaConverter: VersionConverter = {
  storageVersion: 'v2',
  async convert(objects, toVersion) {
    return objects.map((object) => {
      const from = versionOf(object.apiVersion);
      if (from === toVersion) return object;
      if (from === 'v2' && toVersion === 'v1') return hpaV2ToV1(object);
      if (from === 'v1' && toVersion === 'v2') return hpaV1ToV2(object);
      throw new Error(`no conversion of autoscaling HorizontalPodAutoscaler from ${from || '(no version)'} to ${toVersion}`);
    });
  },
};
