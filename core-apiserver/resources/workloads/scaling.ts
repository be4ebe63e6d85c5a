// autoscaling/v2 HorizontalPodAutoscaler and policy/v1 PodDisruptionBudget: defaulting, the main spec
// checks, and the kubectl printers (TARGETS as formatHPAMetrics prints it).

import { defineResource, statusSubresource, type PrinterColumn } from '../../../apiserver/registry/resource.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import { isObject } from '../../../apiserver/registry/object.js';
import type { FieldError } from '../../../apiserver/request/status.js';
import { ageColumn, nameColumn } from '../../../apiserver/registry/table.js';
import type { Json } from './workload-fields.js';
import { count, doc, intOrStringText, mutableSpec, specOf, statusOf, validateIntOrPercent, validateLabelSelector, validateNotOver100Percent } from './workload-fields.js';

const STATUS_SUBRESOURCE = { status: statusSubresource };
const EVICTION_POLICIES = ['AlwaysAllow', 'IfHealthyBudget'];

// ---- HorizontalPodAutoscaler ----------------------------------------------------------------------

function scalingRules(rules: unknown, defaults: Json): Json {
  const value = isObject(rules) ? rules : {};
  for (const [key, fallback] of Object.entries(defaults)) if (value[key] === undefined) value[key] = structuredClone(fallback);
  return value;
}

/** SetDefaults_HorizontalPodAutoscaler (autoscaling/v2). */
export function applyHpaDefaults(hpa: KubeObject): void {
  const spec = mutableSpec(hpa);
  spec.minReplicas ??= 1;
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  }
  if (isObject(spec.behavior)) {
    spec.behavior.scaleUp = scalingRules(spec.behavior.scaleUp, {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [
        { type: 'Pods', value: 4, periodSeconds: 15 },
        { type: 'Percent', value: 100, periodSeconds: 15 },
      ],
    });
    spec.behavior.scaleDown = scalingRules(spec.behavior.scaleDown, { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });
  }
}

export function validateHpa(hpa: KubeObject): FieldError[] {
  const spec = specOf(hpa);
  const errors: FieldError[] = [];
  const ref = isObject(spec.scaleTargetRef) ? spec.scaleTargetRef : {};
  if (!ref.kind) errors.push({ field: 'spec.scaleTargetRef.kind', type: 'FieldValueRequired' });
  if (!ref.name) errors.push({ field: 'spec.scaleTargetRef.name', type: 'FieldValueRequired' });
  const min = spec.minReplicas;
  const max = count(spec.maxReplicas);
  if (typeof min === 'number' && min < 1) errors.push({ field: 'spec.minReplicas', type: 'FieldValueInvalid', value: min, detail: 'must be greater than or equal to 1' });
  if (max < 1) errors.push({ field: 'spec.maxReplicas', type: 'FieldValueInvalid', value: max, detail: 'must be greater than 0' });
  if (typeof min === 'number' && max < min) errors.push({ field: 'spec.maxReplicas', type: 'FieldValueInvalid', value: max, detail: 'must be greater than or equal to `minReplicas`' });
  return errors;
}

function quantity(value: unknown): string {
  return value === undefined || value === null ? '<unknown>' : String(value);
}

/** One TARGETS entry: `cpu: 40%/80%`, `<unknown>/10 (avg)`. */
function formatMetric(metric: Json, status: Json | undefined): string {
  const source = (key: string): Json => (isObject(metric[key]) ? (metric[key] as Json) : {});
  const target = (key: string): Json => (isObject(source(key).target) ? (source(key).target as Json) : {});
  const current = (key: string): Json | undefined => (status && isObject(status[key]) && isObject((status[key] as Json).current) ? ((status[key] as Json).current as Json) : undefined);
  switch (metric.type) {
    case 'External':
    case 'Object': {
      const key = metric.type === 'External' ? 'external' : 'object';
      if (target(key).averageValue !== undefined) return `${quantity(current(key)?.averageValue)}/${quantity(target(key).averageValue)} (avg)`;
      return `${quantity(current(key)?.value)}/${quantity(target(key).value)}`;
    }
    case 'Pods':
      return `${quantity(current('pods')?.averageValue)}/${quantity(target('pods').averageValue)}`;
    case 'Resource':
    case 'ContainerResource': {
      const key = metric.type === 'Resource' ? 'resource' : 'containerResource';
      const name = String(source(key).name ?? '');
      if (target(key).averageValue !== undefined) return `${name}: ${quantity(current(key)?.averageValue)}/${quantity(target(key).averageValue)}`;
      const utilization = current(key)?.averageUtilization;
      const now = typeof utilization === 'number' ? `${utilization}%` : '<unknown>';
      const goal = typeof target(key).averageUtilization === 'number' ? `${target(key).averageUtilization}%` : '<auto>';
      return `${name}: ${now}/${goal}`;
    }
    default:
      return '<unknown type>';
  }
}

/** formatHPAMetrics: at most two entries, then `+ N more...`; `<none>` without metrics. */
export function hpaTargets(hpa: KubeObject): string {
  const metrics = Array.isArray(specOf(hpa).metrics) ? (specOf(hpa).metrics as unknown[]).filter(isObject) : [];
  if (metrics.length === 0) return '<none>';
  const statuses = Array.isArray(statusOf(hpa).currentMetrics) ? (statusOf(hpa).currentMetrics as unknown[]) : [];
  const list = metrics.map((metric, index) => formatMetric(metric, isObject(statuses[index]) ? (statuses[index] as Json) : undefined));
  if (list.length <= 2) return list.join(', ');
  return `${list.slice(0, 2).join(', ')} + ${list.length - 2} more...`;
}

const HPA_SPEC = 'io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec';

/** kubectl's HPA columns (printHorizontalPodAutoscaler), over a v2 object. */
export const hpaPrinterColumns: PrinterColumn[] = [
  nameColumn,
  {
    name: 'Reference',
    type: 'string',
    get description() {
      return doc(HPA_SPEC, 'scaleTargetRef');
    },
    value: (hpa) => {
      const ref = isObject(specOf(hpa).scaleTargetRef) ? (specOf(hpa).scaleTargetRef as Json) : {};
      return `${String(ref.kind ?? '')}/${String(ref.name ?? '')}`;
    },
  },
  { name: 'Targets', type: 'string', get description() { return doc(HPA_SPEC, 'metrics'); }, value: hpaTargets },
  { name: 'MinPods', type: 'string', get description() { return doc(HPA_SPEC, 'minReplicas'); }, value: (hpa) => (typeof specOf(hpa).minReplicas === 'number' ? specOf(hpa).minReplicas : '<unset>') },
  { name: 'MaxPods', type: 'string', get description() { return doc(HPA_SPEC, 'maxReplicas'); }, value: (hpa) => count(specOf(hpa).maxReplicas) },
  { name: 'Replicas', type: 'string', get description() { return doc('io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus', 'currentReplicas'); }, value: (hpa) => count(statusOf(hpa).currentReplicas) },
  ageColumn,
];

export const horizontalPodAutoscalers = defineResource({
  group: 'autoscaling',
  version: 'v2',
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  namespaced: true,
  shortNames: ['hpa'],
  categories: ['all'],
  schemaName: 'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler',
  subresources: STATUS_SUBRESOURCE,
  strategy: {
    prepareForCreate(hpa) {
      applyHpaDefaults(hpa);
      // desiredReplicas is the one v2 status field without omitempty.
      hpa.status = { desiredReplicas: 0 };
    },
    prepareForUpdate: applyHpaDefaults,
    validate: validateHpa,
    validateUpdate: validateHpa,
  },
  printerColumns: hpaPrinterColumns,
});

// ---- PodDisruptionBudget --------------------------------------------------------------------------

export function validatePdb(pdb: KubeObject): FieldError[] {
  const spec = specOf(pdb);
  const errors: FieldError[] = [];
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
    errors.push({ field: 'spec', type: 'FieldValueInvalid', value: spec, detail: 'minAvailable and maxUnavailable cannot be both set' });
  }
  for (const key of ['minAvailable', 'maxUnavailable']) errors.push(...validateIntOrPercent(spec[key], `spec.${key}`), ...validateNotOver100Percent(spec[key], `spec.${key}`));
  if (isObject(spec.selector)) errors.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  if (spec.unhealthyPodEvictionPolicy !== undefined && !EVICTION_POLICIES.includes(String(spec.unhealthyPodEvictionPolicy))) {
    errors.push({ field: 'spec.unhealthyPodEvictionPolicy', type: 'FieldValueNotSupported', value: spec.unhealthyPodEvictionPolicy, supported: EVICTION_POLICIES });
  }
  return errors;
}

export const podDisruptionBudgets = defineResource({
  group: 'policy',
  version: 'v1',
  kind: 'PodDisruptionBudget',
  plural: 'poddisruptionbudgets',
  namespaced: true,
  shortNames: ['pdb'],
  schemaName: 'io.k8s.api.policy.v1.PodDisruptionBudget',
  subresources: STATUS_SUBRESOURCE,
  generation: true,
  strategy: {
    prepareForCreate(pdb) {
      mutableSpec(pdb);
      // The four PodDisruptionBudgetStatus counters without omitempty.
      pdb.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
    },
    validate: validatePdb,
    validateUpdate: validatePdb,
  },
  printerColumns: [
    nameColumn,
    { name: 'Min Available', type: 'string', description: 'The minimum number of pods that must be available.', value: (pdb) => (specOf(pdb).minAvailable === undefined ? 'N/A' : intOrStringText(specOf(pdb).minAvailable)) },
    { name: 'Max Unavailable', type: 'string', description: 'The maximum number of pods that may be unavailable.', value: (pdb) => (specOf(pdb).maxUnavailable === undefined ? 'N/A' : intOrStringText(specOf(pdb).maxUnavailable)) },
    { name: 'Allowed Disruptions', type: 'integer', description: 'Calculated number of pods that may be disrupted at this time.', value: (pdb) => count(statusOf(pdb).disruptionsAllowed) },
    ageColumn,
  ],
});
