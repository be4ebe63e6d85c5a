// v1 ConfigMap: keys must be valid config keys, data and binaryData may not share a key, the total is
// bounded at 1 MiB, and `immutable: true` freezes the data for good.

import { defineResource } from '../../apiserver/registry/resource.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import type { FieldError } from '../../apiserver/request/status.js';
import { ageColumn, nameColumn } from '../../apiserver/registry/table.js';
import { validateConfigKeys, validateImmutableData } from './data-keys.js';

const MAX_CONFIG_MAP_BYTES = 1024 * 1024;

function validateConfigMap(configMap: KubeObject): FieldError[] {
  const errors = [...validateConfigKeys(configMap.data, 'data'), ...validateConfigKeys(configMap.binaryData, 'binaryData')];
  let total = 0;
  for (const [key, value] of Object.entries((configMap.data ?? {}) as Record<string, string>)) {
    total += key.length + String(value).length;
    if (configMap.binaryData && key in configMap.binaryData) errors.push({ field: `data[${key}]`, type: 'FieldValueInvalid', value: key, detail: 'duplicate of key present in binaryData' });
  }
  for (const [key, value] of Object.entries((configMap.binaryData ?? {}) as Record<string, string>)) total += key.length + Math.floor((String(value).length * 3) / 4);
  if (total > MAX_CONFIG_MAP_BYTES) errors.push({ field: '', type: 'FieldValueTooLong', detail: `ConfigMap must be no more than ${MAX_CONFIG_MAP_BYTES} bytes` });
  return errors;
}

export const configMaps = defineResource({
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  namespaced: true,
  shortNames: ['cm'],
  schemaName: 'io.k8s.api.core.v1.ConfigMap',
  strategy: {
    validate: validateConfigMap,
    validateUpdate: (configMap, old) => [...validateConfigMap(configMap), ...validateImmutableData(configMap, old, ['data', 'binaryData'])],
  },
  printerColumns: [
    nameColumn,
    { name: 'Data', type: 'integer', description: 'Number of keys in the ConfigMap', value: (cm) => Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length },
    ageColumn,
  ],
});
