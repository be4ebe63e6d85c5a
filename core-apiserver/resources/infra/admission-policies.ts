// admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding: CEL
// policies and where they apply. Expressions are compiled here so a policy that cannot compile is refused at
// create time (upstream does the same in validation), with upstream's defaults and field errors.

import { defineResource, statusSubresource } from '../../../apiserver/registry/resource.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import type { FieldError } from '../../../apiserver/request/status.js';
import { ageColumn, nameColumn } from '../../../apiserver/registry/table.js';
import { compileExpression } from '../../../apiserver/admission/expressions.js';
import { isObject, notSupported, objectsOf, required, stringsOf, validateLabelSelector } from './common.js';

const OPERATIONS = ['*', 'CONNECT', 'CREATE', 'DELETE', 'UPDATE'];
const REASONS = ['Unauthorized', 'Forbidden', 'Invalid', 'RequestEntityTooLarge'];
const ACTIONS = ['Deny', 'Warn', 'Audit'];

function defaultPolicy(policy: KubeObject): void {
  const spec = isObject(policy.spec) ? policy.spec : (policy.spec = {});
  spec.failurePolicy ??= 'Fail';
  if (isObject(spec.matchConstraints)) {
    spec.matchConstraints.matchPolicy ??= 'Equivalent';
    spec.matchConstraints.namespaceSelector ??= {};
    spec.matchConstraints.objectSelector ??= {};
    for (const rule of [...objectsOf(spec.matchConstraints.resourceRules), ...objectsOf(spec.matchConstraints.excludeResourceRules)]) rule.scope ??= '*';
  }
}

/** A CEL expression's field errors: required, and it must compile (upstream's validation compiles too). */
export function expressionErrors(expression: unknown, field: string, resultType?: 'bool' | 'string'): FieldError[] {
  if (typeof expression !== 'string' || expression.trim() === '') return [required(field)];
  const compiled = compileExpression(expression, resultType);
  return compiled.ok ? [] : [{ field, type: 'FieldValueInvalid', value: expression, detail: `compilation failed: ${compiled.error}` }];
}

function validateRules(rules: unknown, path: string): FieldError[] {
  const errors: FieldError[] = [];
  objectsOf(rules).forEach((rule, index) => {
    const at = `${path}[${index}]`;
    for (const key of ['operations', 'apiGroups', 'apiVersions', 'resources']) if (stringsOf(rule[key]).length === 0) errors.push(required(`${at}.${key}`));
    stringsOf(rule.operations).forEach((operation, position) => {
      if (!OPERATIONS.includes(operation)) errors.push(notSupported(`${at}.operations[${position}]`, operation, OPERATIONS));
    });
    if (!['*', 'Cluster', 'Namespaced'].includes(rule.scope)) errors.push(notSupported(`${at}.scope`, rule.scope ?? '', ['*', 'Cluster', 'Namespaced']));
  });
  return errors;
}

function validatePolicy(policy: KubeObject): FieldError[] {
  const spec = isObject(policy.spec) ? policy.spec : {};
  const errors: FieldError[] = [];
  if (!['Fail', 'Ignore'].includes(spec.failurePolicy)) errors.push(notSupported('spec.failurePolicy', spec.failurePolicy, ['Fail', 'Ignore']));
  const constraints = spec.matchConstraints;
  if (!isObject(constraints)) errors.push(required('spec.matchConstraints'));
  else {
    if (objectsOf(constraints.resourceRules).length === 0) errors.push(required('spec.matchConstraints.resourceRules'));
    errors.push(...validateRules(constraints.resourceRules, 'spec.matchConstraints.resourceRules'), ...validateRules(constraints.excludeResourceRules, 'spec.matchConstraints.excludeResourceRules'));
    if (!['Equivalent', 'Exact'].includes(constraints.matchPolicy)) errors.push(notSupported('spec.matchConstraints.matchPolicy', constraints.matchPolicy, ['Equivalent', 'Exact']));
    errors.push(...validateLabelSelector(constraints.namespaceSelector, 'spec.matchConstraints.namespaceSelector'), ...validateLabelSelector(constraints.objectSelector, 'spec.matchConstraints.objectSelector'));
  }
  if (spec.paramKind !== undefined) {
    const paramKind = isObject(spec.paramKind) ? spec.paramKind : {};
    if (!paramKind.apiVersion) errors.push(required('spec.paramKind.apiVersion'));
    if (!paramKind.kind) errors.push(required('spec.paramKind.kind'));
  }
  const validations = objectsOf(spec.validations);
  const auditAnnotations = objectsOf(spec.auditAnnotations);
  if (validations.length === 0 && auditAnnotations.length === 0) errors.push(required('spec.validations', 'validations or auditAnnotations must contain at least one item'));
  validations.forEach((validation, index) => {
    const at = `spec.validations[${index}]`;
    errors.push(...expressionErrors(validation.expression, `${at}.expression`, 'bool'));
    if (validation.messageExpression !== undefined) errors.push(...expressionErrors(validation.messageExpression, `${at}.messageExpression`, 'string'));
    if (typeof validation.message === 'string' && /[\n\r]/.test(validation.message)) errors.push({ field: `${at}.message`, type: 'FieldValueInvalid', value: validation.message, detail: 'message must not contain line breaks' });
    if (validation.reason !== undefined && !REASONS.includes(validation.reason)) errors.push(notSupported(`${at}.reason`, validation.reason, REASONS));
  });
  auditAnnotations.forEach((annotation, index) => {
    const at = `spec.auditAnnotations[${index}]`;
    if (!annotation.key) errors.push(required(`${at}.key`));
    errors.push(...expressionErrors(annotation.valueExpression, `${at}.valueExpression`));
  });
  objectsOf(spec.matchConditions).forEach((condition, index) => {
    if (!condition.name) errors.push(required(`spec.matchConditions[${index}].name`));
    errors.push(...expressionErrors(condition.expression, `spec.matchConditions[${index}].expression`, 'bool'));
  });
  objectsOf(spec.variables).forEach((variable, index) => {
    if (!variable.name) errors.push(required(`spec.variables[${index}].name`));
    errors.push(...expressionErrors(variable.expression, `spec.variables[${index}].expression`));
  });
  return errors;
}

function defaultBinding(binding: KubeObject): void {
  const spec = isObject(binding.spec) ? binding.spec : (binding.spec = {});
  if (isObject(spec.matchResources)) {
    spec.matchResources.matchPolicy ??= 'Equivalent';
    spec.matchResources.namespaceSelector ??= {};
    spec.matchResources.objectSelector ??= {};
    for (const rule of [...objectsOf(spec.matchResources.resourceRules), ...objectsOf(spec.matchResources.excludeResourceRules)]) rule.scope ??= '*';
  }
}

function validateBinding(binding: KubeObject): FieldError[] {
  const spec = isObject(binding.spec) ? binding.spec : {};
  const errors: FieldError[] = [];
  if (!spec.policyName) errors.push(required('spec.policyName'));
  const actions = stringsOf(spec.validationActions);
  if (actions.length === 0) errors.push(required('spec.validationActions'));
  actions.forEach((action, index) => {
    if (!ACTIONS.includes(action)) errors.push(notSupported(`spec.validationActions[${index}]`, action, ACTIONS));
  });
  if (actions.includes('Deny') && actions.includes('Warn')) {
    errors.push({ field: 'spec.validationActions', type: 'FieldValueInvalid', value: actions, detail: 'must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)' });
  }
  if (spec.paramRef !== undefined) {
    const paramRef = isObject(spec.paramRef) ? spec.paramRef : {};
    if (paramRef.name && paramRef.selector) errors.push({ field: 'spec.paramRef.name', type: 'FieldValueForbidden', detail: 'name and selector are mutually exclusive' });
    if (!paramRef.name && !paramRef.selector) errors.push(required('spec.paramRef', 'one of name or selector must be specified'));
    if (paramRef.parameterNotFoundAction === undefined) errors.push(required('spec.paramRef.parameterNotFoundAction'));
    else if (!['Allow', 'Deny'].includes(paramRef.parameterNotFoundAction)) errors.push(notSupported('spec.paramRef.parameterNotFoundAction', paramRef.parameterNotFoundAction, ['Allow', 'Deny']));
    if (paramRef.selector !== undefined) errors.push(...validateLabelSelector(paramRef.selector, 'spec.paramRef.selector'));
  }
  if (isObject(spec.matchResources)) errors.push(...validateRules(spec.matchResources.resourceRules, 'spec.matchResources.resourceRules'), ...validateRules(spec.matchResources.excludeResourceRules, 'spec.matchResources.excludeResourceRules'));
  return errors;
}

export const validatingAdmissionPolicies = defineResource({
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  kind: 'ValidatingAdmissionPolicy',
  plural: 'validatingadmissionpolicies',
  namespaced: false,
  categories: ['api-extensions'],
  schemaName: 'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicy',
  generation: true,
  subresources: { status: statusSubresource },
  strategy: {
    prepareForCreate: defaultPolicy,
    prepareForUpdate: defaultPolicy,
    validate: validatePolicy,
    validateUpdate: validatePolicy,
  },
  printerColumns: [
    nameColumn,
    { name: 'Validations', type: 'integer', description: 'Validations indicates the number of validation rules defined in this configuration', value: (policy) => objectsOf(policy.spec?.validations).length },
    {
      name: 'ParamKind',
      type: 'string',
      description: 'ParamKind specifies the kind of resources used to parameterize this policy',
      value: (policy) => (isObject(policy.spec?.paramKind) ? `${String(policy.spec.paramKind.apiVersion ?? '')}/${String(policy.spec.paramKind.kind ?? '')}` : '<unset>'),
    },
    ageColumn,
  ],
});

export const validatingAdmissionPolicyBindings = defineResource({
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  kind: 'ValidatingAdmissionPolicyBinding',
  plural: 'validatingadmissionpolicybindings',
  namespaced: false,
  categories: ['api-extensions'],
  schemaName: 'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBinding',
  generation: true,
  strategy: {
    prepareForCreate: defaultBinding,
    prepareForUpdate: defaultBinding,
    validate: validateBinding,
    validateUpdate: validateBinding,
  },
  printerColumns: [
    nameColumn,
    { name: 'PolicyName', type: 'string', description: 'PolicyName indicates the policy definition which the policy binding binded to', value: (binding) => String(binding.spec?.policyName ?? '') },
    {
      name: 'ParamRef',
      type: 'string',
      description: 'ParamRef indicates the param resource which sets the configration param',
      value: (binding) => {
        const paramRef = binding.spec?.paramRef;
        if (!isObject(paramRef)) return '<unset>';
        const name = paramRef.name ? String(paramRef.name) : '*';
        return paramRef.namespace ? `${String(paramRef.namespace)}/${name}` : `*/${name}`;
      },
    },
    ageColumn,
  ],
});
