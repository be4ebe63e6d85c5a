// admissionregistration.k8s.io/v1 Mutating- and ValidatingWebhookConfigurations. Every webhook is
// defaulted to the v1 behaviour (fail closed, equivalent matching, 10 s) and must state its side effects
// and the AdmissionReview versions it understands: v1 removed the permissive v1beta1 defaults.

import { defineResource } from '../../../apiserver/registry/resource.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import type { FieldError } from '../../../apiserver/request/status.js';
import { ageColumn, nameColumn } from '../../../apiserver/registry/table.js';
import { isDns1123Subdomain } from '../../../apiserver/registry/names.js';
import { invalidEach, isObject, notSupported, objectsOf, required, stringsOf, validateLabelSelector } from './common.js';
import { expressionErrors } from './admission-policies.js';

const REVIEW_VERSIONS = ['v1', 'v1beta1'];
const OPERATIONS = ['*', 'CONNECT', 'CREATE', 'DELETE', 'UPDATE'];

function defaultWebhooks(configuration: KubeObject, mutating: boolean): void {
  for (const webhook of objectsOf(configuration.webhooks)) {
    webhook.failurePolicy ??= 'Fail';
    webhook.matchPolicy ??= 'Equivalent';
    webhook.namespaceSelector ??= {};
    webhook.objectSelector ??= {};
    webhook.timeoutSeconds ??= 10;
    if (mutating) webhook.reinvocationPolicy ??= 'Never';
    for (const rule of objectsOf(webhook.rules)) rule.scope ??= '*';
    const service = isObject(webhook.clientConfig) && isObject(webhook.clientConfig.service) ? webhook.clientConfig.service : undefined;
    if (service) service.port ??= 443;
  }
}

function validateClientConfig(clientConfig: unknown, path: string): FieldError[] {
  const config = isObject(clientConfig) ? clientConfig : {};
  const hasUrl = typeof config.url === 'string' && config.url !== '';
  const hasService = isObject(config.service);
  if (hasUrl === hasService) return [required(path, 'exactly one of url or service is required')];
  const errors: FieldError[] = [];
  if (hasUrl) {
    let url: URL | undefined;
    try {
      url = new URL(config.url);
    } catch {
      errors.push({ field: `${path}.url`, type: 'FieldValueInvalid', value: config.url, detail: 'host must be specified' });
    }
    if (url && url.protocol !== 'https:') errors.push({ field: `${path}.url`, type: 'FieldValueInvalid', value: config.url, detail: "'https' is the only allowed URL scheme" });
    if (url && (url.search || url.hash)) errors.push({ field: `${path}.url`, type: 'FieldValueInvalid', value: config.url, detail: 'query parameters and fragments are not allowed' });
  } else {
    const service = config.service as Record<string, any>;
    if (!service.name) errors.push(required(`${path}.service.name`, 'service name is required'));
    if (!service.namespace) errors.push(required(`${path}.service.namespace`, 'service namespace is required'));
    if (typeof service.port === 'number' && (service.port < 1 || service.port > 65535)) {
      errors.push({ field: `${path}.service.port`, type: 'FieldValueInvalid', value: service.port, detail: 'port is not valid: must be between 1 and 65535, inclusive' });
    }
    if (typeof service.path === 'string' && service.path && !service.path.startsWith('/')) {
      errors.push({ field: `${path}.service.path`, type: 'FieldValueInvalid', value: service.path, detail: "must start with a '/'" });
    }
  }
  return errors;
}

function validateWebhook(webhook: Record<string, any>, mutating: boolean, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const name = typeof webhook.name === 'string' ? webhook.name : '';
  if (!name) errors.push(required(`${path}.name`));
  else {
    errors.push(...invalidEach(`${path}.name`, name, isDns1123Subdomain(name)));
    if (name.split('.').length < 3) errors.push({ field: `${path}.name`, type: 'FieldValueInvalid', value: name, detail: 'should be a domain with at least three segments separated by dots' });
  }
  objectsOf(webhook.rules).forEach((rule, index) => {
    const rulePath = `${path}.rules[${index}]`;
    for (const key of ['operations', 'apiGroups', 'apiVersions', 'resources']) {
      if (stringsOf(rule[key]).length === 0) errors.push(required(`${rulePath}.${key}`));
    }
    stringsOf(rule.operations).forEach((operation, position) => {
      if (!OPERATIONS.includes(operation)) errors.push(notSupported(`${rulePath}.operations[${position}]`, operation, OPERATIONS));
    });
    if (!['*', 'Cluster', 'Namespaced'].includes(rule.scope)) errors.push(notSupported(`${rulePath}.scope`, rule.scope ?? '', ['*', 'Cluster', 'Namespaced']));
  });
  if (!['Fail', 'Ignore'].includes(webhook.failurePolicy)) errors.push(notSupported(`${path}.failurePolicy`, webhook.failurePolicy, ['Fail', 'Ignore']));
  if (!['Equivalent', 'Exact'].includes(webhook.matchPolicy)) errors.push(notSupported(`${path}.matchPolicy`, webhook.matchPolicy, ['Equivalent', 'Exact']));
  if (webhook.sideEffects === undefined) errors.push(required(`${path}.sideEffects`, 'must specify one of None, NoneOnDryRun'));
  else if (!['None', 'NoneOnDryRun'].includes(webhook.sideEffects)) errors.push(notSupported(`${path}.sideEffects`, webhook.sideEffects, ['None', 'NoneOnDryRun']));
  const versions = stringsOf(webhook.admissionReviewVersions);
  if (versions.length === 0) errors.push(required(`${path}.admissionReviewVersions`, `must specify one of ${REVIEW_VERSIONS.join(', ')}`));
  else if (!versions.some((version) => REVIEW_VERSIONS.includes(version))) {
    errors.push({ field: `${path}.admissionReviewVersions`, type: 'FieldValueInvalid', value: versions, detail: `must include at least one of ${REVIEW_VERSIONS.join(', ')}` });
  }
  if (typeof webhook.timeoutSeconds === 'number' && (webhook.timeoutSeconds < 1 || webhook.timeoutSeconds > 30)) {
    errors.push({ field: `${path}.timeoutSeconds`, type: 'FieldValueInvalid', value: webhook.timeoutSeconds, detail: 'the timeout value must be between 1 and 30 seconds' });
  }
  if (mutating && !['IfNeeded', 'Never'].includes(webhook.reinvocationPolicy)) errors.push(notSupported(`${path}.reinvocationPolicy`, webhook.reinvocationPolicy, ['IfNeeded', 'Never']));
  errors.push(...validateLabelSelector(webhook.namespaceSelector, `${path}.namespaceSelector`), ...validateLabelSelector(webhook.objectSelector, `${path}.objectSelector`));
  errors.push(...validateClientConfig(webhook.clientConfig, `${path}.clientConfig`));
  // matchConditions compile now, so a typo is a 422 here rather than a failing webhook on every request.
  const conditionNames = new Set<string>();
  objectsOf(webhook.matchConditions).forEach((condition, index) => {
    const at = `${path}.matchConditions[${index}]`;
    if (!condition.name) errors.push(required(`${at}.name`));
    else if (conditionNames.has(condition.name)) errors.push({ field: `${at}.name`, type: 'FieldValueDuplicate', value: condition.name });
    conditionNames.add(condition.name);
    errors.push(...expressionErrors(condition.expression, `${at}.expression`, 'bool'));
  });
  return errors;
}

function validateConfiguration(configuration: KubeObject, mutating: boolean): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  objectsOf(configuration.webhooks).forEach((webhook, index) => {
    errors.push(...validateWebhook(webhook, mutating, `webhooks[${index}]`));
    if (typeof webhook.name === 'string' && webhook.name) {
      if (seen.has(webhook.name)) errors.push({ field: `webhooks[${index}].name`, type: 'FieldValueDuplicate', value: webhook.name });
      seen.add(webhook.name);
    }
  });
  return errors;
}

function webhookDeclaration(mutating: boolean) {
  const kind = mutating ? 'MutatingWebhookConfiguration' : 'ValidatingWebhookConfiguration';
  return defineResource({
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    kind,
    plural: `${kind.toLowerCase()}s`,
    namespaced: false,
    categories: ['api-extensions'],
    schemaName: `io.k8s.api.admissionregistration.v1.${kind}`,
    generation: true,
    strategy: {
      prepareForCreate: (configuration) => defaultWebhooks(configuration, mutating),
      prepareForUpdate: (configuration) => defaultWebhooks(configuration, mutating),
      validate: (configuration) => validateConfiguration(configuration, mutating),
      validateUpdate: (configuration) => validateConfiguration(configuration, mutating),
    },
    printerColumns: [
      nameColumn,
      { name: 'Webhooks', type: 'integer', description: 'Webhooks indicates the number of webhooks registered in this configuration', value: (configuration) => objectsOf(configuration.webhooks).length },
      ageColumn,
    ],
  });
}

export const mutatingWebhookConfigurations = webhookDeclaration(true);
export const validatingWebhookConfigurations = webhookDeclaration(false);
