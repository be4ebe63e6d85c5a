// apiregistration.k8s.io/v1 APIService: what the aggregator routes by. Validation as upstream's
// (kube-aggregator pkg/apis/apiregistration/validation), and the printer NAME SERVICE AVAILABLE AGE, whose
// condition message also says when the last probe ran, how long it took and which URL it hit.

import { defineResource, statusSubresource } from '../apiserver/registry/resource.js';
import type { KubeObject } from '../apiserver/registry/object.js';
import type { FieldError } from '../apiserver/request/status.js';
import { ageColumn, nameColumn } from '../apiserver/registry/table.js';
import { isDns1035Label, isDns1123Subdomain } from '../apiserver/registry/names.js';

export const AUTOMANAGED_LABEL = 'kube-aggregator.kubernetes.io/automanaged';

export interface ApiServiceCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export function availableCondition(apiService: KubeObject): ApiServiceCondition | undefined {
  const conditions: ApiServiceCondition[] = Array.isArray(apiService.status?.conditions) ? apiService.status.conditions : [];
  return conditions.find((condition) => condition.type === 'Available');
}

function validateApiService(apiService: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const spec = apiService.spec ?? {};
  const group: string = typeof spec.group === 'string' ? spec.group : '';
  const version: string = typeof spec.version === 'string' ? spec.version : '';
  const expectedName = `${version}.${group}`;
  if (apiService.metadata.name !== expectedName) {
    errors.push({ field: 'metadata.name', type: 'FieldValueInvalid', value: apiService.metadata.name, detail: `must be \`spec.version+"."+spec.group\`: "${expectedName}"` });
  }
  if (group === '' && version !== 'v1') errors.push({ field: 'spec.group', type: 'FieldValueRequired', detail: 'only v1 may have an empty group and it better be legacy kube' });
  if (group !== '') for (const message of isDns1123Subdomain(group)) errors.push({ field: 'spec.group', type: 'FieldValueInvalid', value: group, detail: message });
  for (const message of isDns1035Label(version)) errors.push({ field: 'spec.version', type: 'FieldValueInvalid', value: version, detail: message });
  const groupPriority = spec.groupPriorityMinimum;
  if (typeof groupPriority !== 'number' || groupPriority <= 0 || groupPriority > 20000) {
    errors.push({ field: 'spec.groupPriorityMinimum', type: 'FieldValueInvalid', value: groupPriority, detail: 'must be positive and less than 20000' });
  }
  const versionPriority = spec.versionPriority;
  if (typeof versionPriority !== 'number' || versionPriority <= 0 || versionPriority > 1000) {
    errors.push({ field: 'spec.versionPriority', type: 'FieldValueInvalid', value: versionPriority, detail: 'must be positive and less than 1000' });
  }
  if (!spec.service) {
    if (spec.caBundle) errors.push({ field: 'spec.caBundle', type: 'FieldValueInvalid', value: `${Buffer.from(String(spec.caBundle), 'base64').length} bytes`, detail: 'local APIServices may not have a caBundle' });
    if (spec.insecureSkipTLSVerify) errors.push({ field: 'spec.insecureSkipTLSVerify', type: 'FieldValueInvalid', value: true, detail: 'local APIServices may not have insecureSkipTLSVerify' });
    return errors;
  }
  const service = spec.service;
  if (!service.namespace) errors.push({ field: 'spec.service.namespace', type: 'FieldValueRequired' });
  if (!service.name) errors.push({ field: 'spec.service.name', type: 'FieldValueRequired' });
  if (service.port !== undefined && (typeof service.port !== 'number' || service.port < 1 || service.port > 65535)) {
    errors.push({ field: 'spec.service.port', type: 'FieldValueInvalid', value: service.port, detail: 'port is not valid: must be between 1 and 65535, inclusive' });
  }
  if (spec.insecureSkipTLSVerify && spec.caBundle) {
    errors.push({ field: 'spec.insecureSkipTLSVerify', type: 'FieldValueInvalid', value: true, detail: 'may not be true if caBundle is present' });
  }
  // Beyond upstream (which accepts any bytes and fails later at every TLS handshake): say so at once.
  if (spec.caBundle !== undefined && (typeof spec.caBundle !== 'string' || !Buffer.from(spec.caBundle, 'base64').toString('utf8').includes('BEGIN CERTIFICATE'))) {
    errors.push({ field: 'spec.caBundle', type: 'FieldValueInvalid', value: `${typeof spec.caBundle === 'string' ? Buffer.from(spec.caBundle, 'base64').length : 0} bytes`, detail: 'must be a base64-encoded PEM certificate bundle' });
  }
  return errors;
}

function availableCell(apiService: KubeObject): string {
  const condition = availableCondition(apiService);
  if (!condition) return 'Unknown';
  if (condition.status === 'True') return 'True';
  return condition.reason ? `${condition.status} (${condition.reason})` : condition.status;
}

export const apiServices = defineResource({
  group: 'apiregistration.k8s.io',
  version: 'v1',
  kind: 'APIService',
  plural: 'apiservices',
  namespaced: false,
  categories: ['api-extensions'],
  schemaName: 'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService',
  nameValidation: (name) => (name.length > 0 && !name.includes('/') && !name.includes('%') ? [] : ['must be <version>.<group>']),
  subresources: { status: statusSubresource },
  strategy: {
    prepareForCreate(apiService) {
      if (apiService.spec?.service && apiService.spec.service.port === undefined) apiService.spec.service.port = 443;
    },
    prepareForUpdate(apiService) {
      if (apiService.spec?.service && apiService.spec.service.port === undefined) apiService.spec.service.port = 443;
    },
    validate: validateApiService,
    validateUpdate: validateApiService,
  },
  printerColumns: [
    nameColumn,
    {
      name: 'Service',
      type: 'string',
      description: 'The reference to the service that hosts this API endpoint.',
      value: (apiService) => (apiService.spec?.service ? `${apiService.spec.service.namespace}/${apiService.spec.service.name}` : 'Local'),
    },
    { name: 'Available', type: 'string', description: 'Whether this service is available.', value: availableCell },
    ageColumn,
  ],
});
