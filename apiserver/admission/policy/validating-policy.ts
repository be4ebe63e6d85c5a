// The ValidatingAdmissionPolicy plugin (upstream's admission/plugin/policy/validating): every binding of a
// policy that matches the request is evaluated — with each of its params — and its failed validations
// become denials, warnings or audit annotations as the binding's validationActions say. Policies are
// compiled once per resourceVersion; bindings and params are read from caches per request.

import type { Authorizer } from '../../filters/authorize.js';
import type { KubeObject } from '../../registry/object.js';
import { isObject } from '../../registry/object.js';
import { StatusError, forbidden } from '../../request/status.js';
import type { AdmissionAttributes, AdmissionPlugin } from '../interface.js';
import type { CompiledExpression, MatchCondition } from '../expressions.js';
import { baseActivation, compileExpression, compileMatchConditions, evaluateMatchConditions, evaluateSettled, toDynamic } from '../expressions.js';
import type { NamespaceLookup } from '../matching.js';
import { anyRuleMatches, isExemptConfigurationResource, namespaceSelectorMatches, objectSelectorMatches, parseSelector, requestNamespace } from '../matching.js';
import type { ObjectSource } from '../sources.js';
import { namespaceLookup, waitForSync } from '../sources.js';

export interface ParamSource {
  source: ObjectSource;
  namespaced: boolean;
}

/** Where the objects of a paramKind are (a server's own stores, or an informer on another server). */
export type ParamSources = (apiVersion: string, kind: string) => ParamSource | undefined | Promise<ParamSource | undefined>;

export interface PolicyPluginOptions {
  policies: ObjectSource;
  bindings: ObjectSource;
  namespaces: ObjectSource;
  params: ParamSources;
  /** The server's authorizer, for the `authorizer` variable (read per request). */
  authorizer?: () => Authorizer | undefined;
}

interface CompiledValidation {
  program: CompiledExpression;
  message?: string;
  messageExpression?: CompiledExpression;
  reason?: string;
}

interface CompiledPolicy {
  name: string;
  failOpen: boolean;
  spec: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  conditions: MatchCondition[];
  variables: { name: string; program: CompiledExpression }[];
  validations: CompiledValidation[];
  auditAnnotations: { key: string; program: CompiledExpression }[];
  /** A policy that does not compile fails (or is ignored) as a whole, as upstream's ConfigurationError. */
  configurationError?: string;
}

/** A failed validation (or an error the failure policy turned into one). */
interface Decision {
  message: string;
  reason?: string;
  expressionIndex: number;
}

function compilePolicy(policy: KubeObject): CompiledPolicy {
  const spec = isObject(policy.spec) ? (policy.spec as Record<string, any>) : {}; // eslint-disable-line @typescript-eslint/no-explicit-any
  const errors: string[] = [];
  const compile = (expression: unknown, field: string, type?: 'bool' | 'string') => {
    const result = compileExpression(String(expression ?? ''), type);
    if (!result.ok) errors.push(`${field}: ${result.error}`);
    return result.ok ? result.compiled : undefined;
  };
  const matchConditions = compileMatchConditions(spec.matchConditions);
  errors.push(...matchConditions.errors);
  const list = (value: unknown) => (Array.isArray(value) ? value.filter(isObject) : []) as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  const variables = list(spec.variables).flatMap((variable, index) => {
    const program = compile(variable.expression, `spec.variables[${index}].expression`);
    return program ? [{ name: String(variable.name), program }] : [];
  });
  const validations = list(spec.validations).flatMap((validation, index): CompiledValidation[] => {
    const program = compile(validation.expression, `spec.validations[${index}].expression`, 'bool');
    const messageExpression = validation.messageExpression ? compile(validation.messageExpression, `spec.validations[${index}].messageExpression`, 'string') : undefined;
    return program ? [{ program, message: validation.message, messageExpression, reason: validation.reason }] : [];
  });
  const auditAnnotations = list(spec.auditAnnotations).flatMap((annotation, index) => {
    const program = compile(annotation.valueExpression, `spec.auditAnnotations[${index}].valueExpression`);
    return program ? [{ key: String(annotation.key), program }] : [];
  });
  return {
    name: policy.metadata.name ?? '',
    failOpen: spec.failurePolicy === 'Ignore',
    spec,
    conditions: matchConditions.conditions,
    variables,
    validations,
    auditAnnotations,
    configurationError: errors.length > 0 ? errors.join('; ') : undefined,
  };
}

/** matchConstraints / matchResources: rules minus excluded rules, then the namespace and object selectors. */
async function resourcesMatch(match: unknown, attributes: AdmissionAttributes, namespaces: NamespaceLookup): Promise<boolean> {
  if (!isObject(match)) return true;
  const equivalent = match.matchPolicy !== 'Exact';
  if (Array.isArray(match.resourceRules) && !anyRuleMatches(match.resourceRules, attributes, { equivalent })) return false;
  if (anyRuleMatches(match.excludeResourceRules, attributes, { equivalent })) return false;
  if (!(await namespaceSelectorMatches(parseSelector(match.namespaceSelector), attributes, namespaces))) return false;
  return objectSelectorMatches(parseSelector(match.objectSelector), attributes);
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0];
}

/** One evaluation of a policy with one param: the failed validations, or an error for the failure policy. */
async function evaluate(policy: CompiledPolicy, activation: Record<string, unknown>, annotations: Map<string, string[]>): Promise<Decision[]> {
  const decisions: Decision[] = [];
  const failure = (message: string, expressionIndex = 0) => {
    if (!policy.failOpen) decisions.push({ message, expressionIndex });
  };
  const conditions = await evaluateMatchConditions(policy.conditions, activation);
  if ('error' in conditions) {
    failure(conditions.error);
    return decisions;
  }
  if (!conditions.matches) return decisions;
  // Variables are evaluated in order, each seeing the ones before it. As upstream's lazy composition, a
  // variable that fails fails only the expressions that use it: reading it throws its error.
  const variables: Record<string, unknown> = {};
  activation.variables = variables;
  for (const variable of policy.variables) {
    try {
      variables[variable.name] = await evaluateSettled(variable.program, activation);
    } catch (error) {
      Object.defineProperty(variables, variable.name, {
        enumerable: true,
        get() {
          throw error;
        },
      });
    }
  }
  for (const [index, validation] of policy.validations.entries()) {
    let result: unknown;
    try {
      result = await evaluateSettled(validation.program, activation);
    } catch (error) {
      failure(`expression '${validation.program.expression}' resulted in error: ${firstLine(error)}`, index);
      continue;
    }
    if (result === true) continue;
    if (result !== false) {
      failure(`expression '${validation.program.expression}' resulted in error: must evaluate to bool`, index);
      continue;
    }
    decisions.push({ message: await validationMessage(validation, activation), reason: validation.reason, expressionIndex: index });
  }
  for (const annotation of policy.auditAnnotations) {
    try {
      const value = await evaluateSettled(annotation.program, activation);
      if (value === null || value === undefined) continue;
      if (typeof value !== 'string') throw new Error('valueExpression must evaluate to a string or null');
      const values = annotations.get(annotation.key) ?? [];
      if (!values.includes(value)) values.push(value.slice(0, 10 * 1024));
      annotations.set(annotation.key, values);
    } catch (error) {
      failure(`valueExpression '${annotation.program.expression}' resulted in error: ${firstLine(error)}`);
    }
  }
  return decisions;
}

/** The messageExpression's result when it gives one, else the message, else upstream's "failed expression". */
async function validationMessage(validation: CompiledValidation, activation: Record<string, unknown>): Promise<string> {
  if (validation.messageExpression) {
    try {
      const message = await evaluateSettled(validation.messageExpression, activation);
      if (typeof message === 'string' && message.trim() !== '' && !/[\r\n]/.test(message)) return message.trim();
    } catch {
      // upstream falls back to the static message (and records the error in metrics)
    }
  }
  if (validation.message) return validation.message;
  return `failed expression: ${validation.program.expression.trim()}`;
}

const REASON_CODES: Record<string, number> = { Forbidden: 403, Unauthorized: 401, RequestEntityTooLarge: 413, Invalid: 422 };

/** Upstream's denial: admission.NewForbidden's message and details, with the decision's reason and its code. */
function denial(attributes: AdmissionAttributes, policy: string, binding: string | undefined, decision: Decision): StatusError {
  const who = binding === undefined ? `ValidatingAdmissionPolicy '${policy}'` : `ValidatingAdmissionPolicy '${policy}' with binding '${binding}'`;
  const message = `${who} denied request: ${decision.message}`;
  const { group, resource } = attributes.resource;
  const qualified = group ? `${resource}.${group}` : resource;
  const name = attributes.name || attributes.object?.metadata?.name || '';
  const reason = decision.reason || 'Invalid';
  return new StatusError(REASON_CODES[reason] ?? 500, reason, `${qualified} ${JSON.stringify(name)} is forbidden: ${message}`, { name: name || undefined, group: group || undefined, kind: resource, causes: [{ message }] });
}

/** The params of a binding (upstream's CollectParams): [null] without paramKind or paramRef. */
async function collectParams(policy: CompiledPolicy, binding: KubeObject, attributes: AdmissionAttributes, sources: ParamSources): Promise<(KubeObject | null)[]> {
  const paramKind = policy.spec.paramKind;
  const paramRef = isObject(binding.spec) ? binding.spec.paramRef : undefined;
  if (!isObject(paramKind) || !isObject(paramRef)) return [null];
  const described = `${String(paramKind.apiVersion)}, Kind=${String(paramKind.kind)}`;
  const found = await sources(String(paramKind.apiVersion ?? ''), String(paramKind.kind ?? ''));
  if (!found) throw new Error(`paramKind kind \`${described}\` not known`);
  // Upstream gives a param informer one second to list before refusing.
  if (!found.source.synced && !(await waitForSync([found.source], 1000))) throw new Error(`paramKind kind \`${described}\` not yet synced to use for admission`);
  let namespace = '';
  if (found.namespaced) {
    namespace = typeof paramRef.namespace === 'string' && paramRef.namespace ? paramRef.namespace : attributes.namespace;
    if (!namespace) throw new Error('cannot use namespaced paramRef in policy binding that matches cluster-scoped resources');
  } else if (paramRef.namespace) throw new Error('paramRef.namespace must not be provided for a cluster-scoped `paramKind`');
  let params: KubeObject[];
  if (typeof paramRef.name === 'string' && paramRef.name) {
    const param = found.source.get(namespace, paramRef.name);
    params = param ? [param] : [];
  } else {
    const selector = parseSelector(paramRef.selector);
    params = found.source.list().filter((object) => (object.metadata.namespace ?? '') === namespace && selector.matches(object.metadata.labels ?? {}));
  }
  if (params.length === 0 && paramRef.parameterNotFoundAction === 'Deny') throw new Error('no params found for policy binding with `Deny` parameterNotFoundAction');
  // Built-in objects in a watch cache carry their TypeMeta already; upstream adds it where they do not.
  return params.map((param): KubeObject => ({ apiVersion: String(paramKind.apiVersion), kind: String(paramKind.kind), ...param }));
}

export function validatingAdmissionPolicyPlugin(options: PolicyPluginOptions): AdmissionPlugin {
  const compiled = new Map<string, { resourceVersion: string; policy: CompiledPolicy }>();
  const namespaces = namespaceLookup(options.namespaces);
  const compiledPolicy = (object: KubeObject): CompiledPolicy => {
    const key = object.metadata.uid ?? object.metadata.name ?? '';
    const known = compiled.get(key);
    if (known && known.resourceVersion === object.metadata.resourceVersion) return known.policy;
    const policy = compilePolicy(object);
    compiled.set(key, { resourceVersion: object.metadata.resourceVersion ?? '', policy });
    return policy;
  };

  return {
    name: 'ValidatingAdmissionPolicy',
    async validate(attributes, context) {
      if (isExemptConfigurationResource(attributes)) return;
      if (!(await waitForSync([options.policies, options.bindings, options.namespaces]))) {
        throw forbidden(`${attributes.resource.resource} "${attributes.name}" is forbidden: not yet ready to handle request`);
      }
      const bindings = options.bindings.list();
      if (bindings.length === 0) return;
      const denied: { policy: string; binding?: string; decision: Decision }[] = [];
      const byPolicy = new Map<string, KubeObject[]>();
      for (const binding of bindings) {
        const policyName = String(binding.spec?.policyName ?? '');
        byPolicy.set(policyName, [...(byPolicy.get(policyName) ?? []), binding]);
      }
      for (const [policyName, policyBindings] of [...byPolicy].sort(([a], [b]) => a.localeCompare(b))) {
        const object = options.policies.get('', policyName);
        if (!object) continue; // a binding to a missing policy does nothing
        const policy = compiledPolicy(object);
        const configurationFailure = (message: string, binding?: string) => {
          if (!policy.failOpen) denied.push({ policy: policy.name, binding, decision: { message, expressionIndex: 0 } });
        };
        let matches: boolean;
        try {
          matches = await resourcesMatch(policy.spec.matchConstraints, attributes, namespaces);
        } catch (error) {
          configurationFailure(`failed to configure policy: ${firstLine(error)}`);
          continue;
        }
        if (!matches) continue;
        if (policy.configurationError) {
          configurationFailure(`failed to configure policy: ${policy.configurationError}`);
          continue;
        }
        const annotations = new Map<string, string[]>();
        for (const binding of policyBindings.sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))) {
          const bindingName = binding.metadata.name ?? '';
          let params: (KubeObject | null)[];
          try {
            if (!(await resourcesMatch(binding.spec?.matchResources, attributes, namespaces))) continue;
            params = await collectParams(policy, binding, attributes, options.params);
          } catch (error) {
            configurationFailure(`failed to configure binding: ${firstLine(error)}`, bindingName);
            continue;
          }
          const namespaceName = attributes.kind.kind === 'Namespace' && attributes.kind.group === '' ? '' : requestNamespace(attributes);
          const namespaceObject = namespaceName ? await namespaces(namespaceName) : undefined;
          const actions: string[] = Array.isArray(binding.spec?.validationActions) ? binding.spec.validationActions : [];
          for (const param of params) {
            const activation = { ...baseActivation(attributes, options.authorizer?.()), params: toDynamic(param), namespaceObject: toDynamic(namespaceObject ?? null) };
            for (const decision of await evaluate(policy, activation, annotations)) {
              if (actions.includes('Deny')) denied.push({ policy: policy.name, binding: bindingName, decision });
              if (actions.includes('Warn')) context.warnings.push(`Validation failed for ValidatingAdmissionPolicy '${policy.name}' with binding '${bindingName}': ${decision.message}`);
              if (actions.includes('Audit')) {
                context.auditAnnotations['validation.policy.admission.k8s.io/validation_failure'] = JSON.stringify([
                  { message: decision.message, policy: policy.name, binding: bindingName, expressionIndex: decision.expressionIndex, validationActions: actions },
                ]);
              }
            }
          }
        }
        for (const [key, values] of annotations) context.auditAnnotations[`${policy.name}/${key}`] = values.join(', ');
      }
      if (denied.length > 0) throw denial(attributes, denied[0].policy, denied[0].binding, denied[0].decision);
    },
  };
}
