// autoscaling/v1 HorizontalPodAutoscaler: the same objects as autoscaling/v2 (stored as v2), served in v1's
// shape through hpa-conversion.ts. `kubectl autoscale` (1.32) creates v1 HPAs; `kubectl get hpa` reads v2,
// the preferred version. Validation and printing work on the v2 form, as upstream's do on the internal one,
// so errors name the same fields whichever version was written.

import { defineResource, statusSubresource, type PrinterColumn } from '../../../apiserver/registry/resource.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import { storageVersionHash } from '../../../apiserver/discovery/documents.js';
import { hpaConverter, hpaV1ToV2 } from './hpa-conversion.js';
import { hpaPrinterColumns, validateHpa } from './scaling.js';
import { mutableSpec } from './workload-fields.js';

/** One conversion per object for all of a row's cells. */
const asV2 = new WeakMap<KubeObject, KubeObject>();
function v2Of(hpa: KubeObject): KubeObject {
  let converted = asV2.get(hpa);
  if (!converted) asV2.set(hpa, (converted = hpaV1ToV2(hpa)));
  return converted;
}

const v1Columns: PrinterColumn[] = hpaPrinterColumns.map((column): PrinterColumn => ({
  name: column.name,
  type: column.type,
  format: column.format,
  priority: column.priority,
  // Field docs are read when a Table is first asked for.
  get description() {
    return column.description;
  },
  value: (hpa) => column.value(v2Of(hpa)),
}));

const validateAsV2 = (hpa: KubeObject) => validateHpa(hpaV1ToV2(hpa));

export const horizontalPodAutoscalersV1 = defineResource({
  group: 'autoscaling',
  version: 'v1',
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  namespaced: true,
  shortNames: ['hpa'],
  categories: ['all'],
  schemaName: 'io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler',
  subresources: { status: statusSubresource },
  // Discovery names the storage version's hash in every served version, as upstream does.
  storageVersionHash: storageVersionHash('autoscaling', 'v2', 'HorizontalPodAutoscaler'),
  converter: hpaConverter,
  strategy: {
    prepareForCreate(hpa) {
      // v1's defaulting; v2's (metrics, behavior) happens in the conversion to the stored form.
      mutableSpec(hpa).minReplicas ??= 1;
      hpa.status = { currentReplicas: 0, desiredReplicas: 0 };
    },
    validate: validateAsV2,
    validateUpdate: validateAsV2,
  },
  printerColumns: v1Columns,
});
