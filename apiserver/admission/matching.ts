// Which requests a webhook or a ValidatingAdmissionPolicy sees (upstream's admission/plugin/webhook/predicates
// and policy/matching): rules of operations, groups, versions, resources with subresources and scope; the
// namespace selector (labels of the namespace the request is in); the object selector (labels of the new
// or the old object). Shared by webhooks and policies, as upstream shares it.

import type { KubeObject } from '../registry/object.js';
import { isObject } from '../registry/object.js';
import type { LabelSelector, LabelSelectorSpec } from '../registry/labels.js';
import { labelSelectorFromMatch } from '../registry/labels.js';
import { notFound } from '../request/status.js';
import type { AdmissionAttributes } from './interface.js';

export interface Rule {
  operations?: string[];
  apiGroups?: string[];
  apiVersions?: string[];
  resources?: string[];
  scope?: string;
  /** Policies only (NamedRuleWithOperations). */
  resourceNames?: string[];
}

function listed(values: string[] | undefined, value: string): boolean {
  return (values ?? []).some((candidate) => candidate === '*' || candidate === value);
}

// `pods` (no subresource), `pods/status`, `pods/*` (and its subresources), `*` (every resource, no
// subresource), `*/status`, and `*/*` (everything).
function resourceMatches(resources: string[] | undefined, resource: string, subresource: string): boolean {
  for (const entry of resources ?? []) {
    const slash = entry.indexOf('/');
    const wantedResource = slash < 0 ? entry : entry.slice(0, slash);
    const wantedSubresource = slash < 0 ? '' : entry.slice(slash + 1);
    if ((wantedResource === '*' || wantedResource === resource) && (wantedSubresource === '*' || wantedSubresource === subresource)) return true;
  }
  return false;
}

/** Namespaces are cluster-scoped; every other request with a namespace is namespaced. */
function scopeMatches(scope: string | undefined, attributes: AdmissionAttributes): boolean {
  if (!scope || scope === '*') return true;
  const isNamespace = attributes.resource.group === '' && attributes.resource.resource === 'namespaces';
  if (scope === 'Namespaced') return !isNamespace && attributes.namespace !== '';
  if (scope === 'Cluster') return isNamespace || attributes.namespace === '';
  return false;
}

export interface RuleMatchOptions {
  /** matchPolicy Equivalent: the same group and resource in another version matches too (upstream converts the object; we send it as served). */
  equivalent?: boolean;
}

export function ruleMatches(rule: Rule, attributes: AdmissionAttributes, options: RuleMatchOptions = {}): boolean {
  const { group, version, resource } = attributes.resource;
  if (!listed(rule.operations, attributes.operation)) return false;
  if (!listed(rule.apiGroups, group)) return false;
  if (!options.equivalent && !listed(rule.apiVersions, version)) return false;
  if (!resourceMatches(rule.resources, resource, attributes.subresource)) return false;
  if (rule.resourceNames && rule.resourceNames.length > 0 && !rule.resourceNames.includes(attributes.name)) return false;
  return scopeMatches(rule.scope, attributes);
}

export function anyRuleMatches(rules: unknown, attributes: AdmissionAttributes, options: RuleMatchOptions = {}): boolean {
  const list = Array.isArray(rules) ? (rules as Rule[]) : [];
  if (list.some((rule) => ruleMatches(rule, attributes))) return true;
  return options.equivalent === true && list.some((rule) => ruleMatches(rule, attributes, options));
}

/**
 * The admission configuration kinds themselves never go through webhooks or policies (upstream's
 * IsExemptAdmissionConfigurationResource): a broken webhook must not lock its own fix out.
 */
export function isExemptConfigurationResource(attributes: AdmissionAttributes): boolean {
  if (attributes.resource.group !== 'admissionregistration.k8s.io') return false;
  return [
    'validatingwebhookconfigurations',
    'mutatingwebhookconfigurations',
    'validatingadmissionpolicies',
    'validatingadmissionpolicybindings',
    'mutatingadmissionpolicies',
    'mutatingadmissionpolicybindings',
  ].includes(attributes.resource.resource);
}

/** A parsed selector; an absent or empty one matches everything. Invalid ones were refused at creation. */
export function parseSelector(selector: unknown): LabelSelector {
  return labelSelectorFromMatch((isObject(selector) ? selector : {}) as LabelSelectorSpec);
}

function labelsOf(object: KubeObject | undefined): Record<string, string> | undefined {
  return object && isObject(object.metadata) ? object.metadata.labels : undefined;
}

export function objectSelectorMatches(selector: LabelSelector, attributes: AdmissionAttributes): boolean {
  if (selector.empty) return true;
  const matches = (object: KubeObject | undefined) => object !== undefined && selector.matches(labelsOf(object) ?? {});
  return matches(attributes.object) || matches(attributes.oldObject);
}

/** The namespace a request is about: the namespace object itself for requests on namespaces. */
export function requestNamespace(attributes: AdmissionAttributes): string {
  const isNamespace = attributes.resource.group === '' && attributes.resource.resource === 'namespaces';
  return isNamespace ? attributes.name : attributes.namespace;
}

/** Namespaces by name (core's watch cache, or an informer on core). */
export type NamespaceLookup = (name: string) => Promise<KubeObject | undefined>;

/**
 * Upstream's MatchNamespaceSelector: cluster-scoped requests (other than on namespaces) always match; a
 * namespace being created or updated is judged by its new labels; a missing namespace is a 404.
 */
export async function namespaceSelectorMatches(selector: LabelSelector, attributes: AdmissionAttributes, namespaces: NamespaceLookup): Promise<boolean> {
  const isNamespace = attributes.resource.group === '' && attributes.resource.resource === 'namespaces';
  const name = requestNamespace(attributes);
  if (!name && !isNamespace) return true;
  if (selector.empty) return true;
  if (isNamespace && attributes.subresource === '' && (attributes.operation === 'CREATE' || attributes.operation === 'UPDATE')) {
    return selector.matches(labelsOf(attributes.object) ?? {});
  }
  const namespace = await namespaces(name);
  if (!namespace) throw notFound({ group: '', resource: 'namespaces' }, name);
  return selector.matches(labelsOf(namespace) ?? {});
}
