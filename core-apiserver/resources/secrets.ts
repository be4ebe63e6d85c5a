// v1 Secret: `data` holds base64 values, `stringData` is a write-only convenience merged into `data` on
// every write (it wins over data for the same key), `type` defaults to Opaque and never changes, and the
// well-known types require their keys.

import { defineResource } from '../../apiserver/registry/resource.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';
import type { FieldError } from '../../apiserver/request/status.js';
import { ageColumn, nameColumn } from '../../apiserver/registry/table.js';
import { validateConfigKeys, validateImmutableData } from './data-keys.js';

const MAX_SECRET_BYTES = 1024 * 1024;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const REQUIRED_KEYS: Record<string, string[]> = {
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
};

function foldStringData(secret: KubeObject): void {
  if (isObject(secret.stringData)) {
    secret.data = { ...(isObject(secret.data) ? secret.data : {}) };
    for (const [key, value] of Object.entries(secret.stringData)) {
      secret.data[key] = Buffer.from(String(value), 'utf8').toString('base64');
    }
  }
  delete secret.stringData;
  secret.type ||= 'Opaque';
}

function validateSecret(secret: KubeObject): FieldError[] {
  const errors = validateConfigKeys(secret.data, 'data');
  let total = 0;
  for (const [key, value] of Object.entries((secret.data ?? {}) as Record<string, unknown>)) {
    if (typeof value !== 'string' || !BASE64.test(value)) {
      errors.push({ field: `data[${key}]`, type: 'FieldValueInvalid', value: '<secret contents redacted>', detail: 'must be a base64-encoded string' });
      continue;
    }
    total += Math.floor((value.length * 3) / 4);
  }
  if (total > MAX_SECRET_BYTES) errors.push({ field: 'data', type: 'FieldValueTooLong', detail: `may not be more than ${MAX_SECRET_BYTES} bytes` });
  for (const key of REQUIRED_KEYS[secret.type as string] ?? []) {
    if (!isObject(secret.data) || !(key in secret.data)) errors.push({ field: `data[${key}]`, type: 'FieldValueRequired' });
  }
  if (secret.type === 'kubernetes.io/basic-auth' && isObject(secret.data) && !('username' in secret.data) && !('password' in secret.data)) {
    errors.push({ field: 'data[username]', type: 'FieldValueRequired' });
  }
  return errors;
}

export const secrets = defineResource({
  group: '',
  version: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  namespaced: true,
  schemaName: 'io.k8s.api.core.v1.Secret',
  selectableFields: { type: (secret) => secret.type },
  strategy: {
    prepareForCreate: foldStringData,
    prepareForUpdate: foldStringData,
    validate: validateSecret,
    validateUpdate(secret, old) {
      const errors = [...validateSecret(secret), ...validateImmutableData(secret, old, ['data'])];
      if ((secret.type || 'Opaque') !== (old.type || 'Opaque')) errors.push({ field: 'type', type: 'FieldValueInvalid', value: secret.type, detail: 'field is immutable' });
      return errors;
    },
  },
  printerColumns: [
    nameColumn,
    { name: 'Type', type: 'string', description: 'The type of the secret', value: (secret) => secret.type ?? 'Opaque' },
    { name: 'Data', type: 'integer', description: 'Number of keys in the Secret', value: (secret) => Object.keys(secret.data ?? {}).length },
    ageColumn,
  ],
});
