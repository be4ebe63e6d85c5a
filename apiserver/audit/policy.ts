// The audit policy (audit.k8s.io/v1 Policy, --audit-policy-file): rules are tried in order and the first
// one that matches a request decides its level; a request no rule matches is not audited (level None), as
// upstream's policy checker. Stages listed in omitStages (policy-wide and per rule) produce no event.

import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { UserInfo } from '../registry/object.js';

export const LEVELS = ['None', 'Metadata', 'Request', 'RequestResponse'] as const;
export type Level = (typeof LEVELS)[number];

export const STAGES = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'] as const;
export type Stage = (typeof STAGES)[number];

export interface GroupResources {
  group: string;
  resources: string[];
  resourceNames: string[];
}

export interface PolicyRule {
  level: Level;
  users: string[];
  userGroups: string[];
  verbs: string[];
  resources: GroupResources[];
  namespaces: string[];
  nonResourceURLs: string[];
  omitStages: Stage[];
  omitManagedFields?: boolean;
}

export interface Policy {
  rules: PolicyRule[];
  omitStages: Stage[];
  omitManagedFields: boolean;
}

/** What the policy looks at besides the user: the request info's authorization attributes. */
export interface AuditAttributes {
  verb: string;
  isResourceRequest: boolean;
  path: string;
  apiGroup: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
}

export interface RuleDecision {
  level: Level;
  omitStages: Stage[];
  omitManagedFields: boolean;
}

export class PolicyError extends Error {}

export function levelAtLeast(level: Level, minimum: Level): boolean {
  return LEVELS.indexOf(level) >= LEVELS.indexOf(minimum);
}

/** The level for a request by `user` (the authenticated one, before impersonation; none when that failed). */
export function evaluatePolicy(policy: Policy, attributes: AuditAttributes, user: UserInfo | undefined): RuleDecision {
  for (const rule of policy.rules) {
    if (!ruleMatches(rule, attributes, user)) continue;
    return {
      level: rule.level,
      omitStages: rule.omitStages.length ? [...new Set([...policy.omitStages, ...rule.omitStages])] : policy.omitStages,
      omitManagedFields: rule.omitManagedFields ?? policy.omitManagedFields,
    };
  }
  return { level: 'None', omitStages: policy.omitStages, omitManagedFields: policy.omitManagedFields };
}

function ruleMatches(rule: PolicyRule, attributes: AuditAttributes, user: UserInfo | undefined): boolean {
  if (rule.users.length && (!user || !rule.users.includes(user.username))) return false;
  if (rule.userGroups.length && (!user || !user.groups.some((group) => rule.userGroups.includes(group)))) return false;
  if (rule.verbs.length && !rule.verbs.includes(attributes.verb)) return false;
  if (rule.namespaces.length || rule.resources.length) return resourceMatches(rule, attributes);
  if (rule.nonResourceURLs.length) return !attributes.isResourceRequest && rule.nonResourceURLs.some((spec) => pathMatches(attributes.path, spec));
  return true;
}

function pathMatches(path: string, spec: string): boolean {
  if (spec === '*' || spec === path) return true;
  return spec.endsWith('*') && path.startsWith(spec.replace(/\*+$/, ''));
}

function resourceMatches(rule: PolicyRule, attributes: AuditAttributes): boolean {
  if (!attributes.isResourceRequest) return false;
  // Cluster-scoped resources have the namespace "" (a rule may list "" to match them).
  if (rule.namespaces.length && !rule.namespaces.includes(attributes.namespace)) return false;
  if (!rule.resources.length) return true;
  const { resource, subresource, name } = attributes;
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const groupResources of rule.resources) {
    if (groupResources.group !== attributes.apiGroup) continue;
    if (!groupResources.resources.length) return true;
    if (groupResources.resourceNames.length && !groupResources.resourceNames.includes(name)) continue;
    for (const candidate of groupResources.resources) {
      if (candidate === '*' || candidate === combined) return true;
      if (subresource && candidate.startsWith('*/') && candidate.slice(2) === subresource) return true;
      if (candidate.endsWith('/*') && candidate.slice(0, -2) === resource) return true;
    }
  }
  return false;
}

/** Reads and validates a policy file (YAML or JSON), with upstream's validation messages' substance. */
export function loadPolicyFile(file: string): Policy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new PolicyError(`failed to read file path "${file}": ${(error as Error).message}`);
  }
  return parsePolicy(text, file);
}

export function parsePolicy(text: string, source = 'policy'): Policy {
  const documents = parseAllDocuments(text).filter((document) => document.contents !== null);
  if (documents.length !== 1) throw new PolicyError(`${source}: expected exactly one audit.k8s.io/v1 Policy document, found ${documents.length}`);
  const document = documents[0];
  if (document.errors.length) throw new PolicyError(`${source}: ${document.errors[0].message}`);
  const raw = document.toJS() as Record<string, unknown>;
  if (!isRecord(raw)) throw new PolicyError(`${source}: the policy must be an object`);
  if (raw.kind !== 'Policy' || raw.apiVersion !== 'audit.k8s.io/v1') {
    throw new PolicyError(`${source}: unknown kind/apiVersion ${String(raw.apiVersion)}, Kind=${String(raw.kind)}: expected apiVersion audit.k8s.io/v1, kind Policy`);
  }
  const errors: string[] = [];
  const omitStages = stages(raw.omitStages, 'omitStages', errors);
  const rulesRaw = raw.rules ?? [];
  if (!Array.isArray(rulesRaw)) throw new PolicyError(`${source}: rules must be a list`);
  const rules = rulesRaw.map((rule, index) => parseRule(rule, `rules[${index}]`, errors));
  if (!rules.length) errors.push('rules: Required value: the policy has no rules (nothing would be audited)');
  if (errors.length) throw new PolicyError(`${source}: invalid audit policy: ${errors.join('; ')}`);
  return { rules, omitStages, omitManagedFields: raw.omitManagedFields === true };
}

function parseRule(raw: unknown, path: string, errors: string[]): PolicyRule {
  if (!isRecord(raw)) {
    errors.push(`${path}: must be an object`);
    return { level: 'None', users: [], userGroups: [], verbs: [], resources: [], namespaces: [], nonResourceURLs: [], omitStages: [] };
  }
  const level = raw.level as Level;
  if (!LEVELS.includes(level)) errors.push(`${path}.level: ${level === undefined ? 'Required value' : `Unsupported value: ${JSON.stringify(level)}: supported values: ${LEVELS.map((l) => `"${l}"`).join(', ')}`}`);
  const resources = (Array.isArray(raw.resources) ? raw.resources : raw.resources === undefined ? [] : (errors.push(`${path}.resources: must be a list`), [])).map((entry: unknown, index: number) => {
    const item = isRecord(entry) ? entry : {};
    const resourceNames = strings(item.resourceNames, `${path}.resources[${index}].resourceNames`, errors);
    const list = strings(item.resources, `${path}.resources[${index}].resources`, errors);
    for (const resource of list) {
      if (resource === '*' || resource.startsWith('*/')) {
        if (resourceNames.length) errors.push(`${path}.resources[${index}].resourceNames: Invalid value: using resource names with a wildcard resource is not supported`);
      } else if (resource.includes('*') && !resource.endsWith('/*')) {
        errors.push(`${path}.resources[${index}].resources: Invalid value: ${JSON.stringify(resource)}: wildcards are allowed only as "*", "*/subresource" or "resource/*"`);
      }
    }
    return { group: typeof item.group === 'string' ? item.group : '', resources: list, resourceNames };
  });
  const namespaces = strings(raw.namespaces, `${path}.namespaces`, errors);
  const nonResourceURLs = strings(raw.nonResourceURLs, `${path}.nonResourceURLs`, errors);
  if (nonResourceURLs.length && (resources.length || namespaces.length)) errors.push(`${path}.nonResourceURLs: Invalid value: rules cannot apply to both regular resources and non-resource URLs`);
  for (const url of nonResourceURLs) {
    if (url !== '*' && !url.startsWith('/')) errors.push(`${path}.nonResourceURLs: Invalid value: ${JSON.stringify(url)}: non-resource URL rules must begin with a '/' character`);
    if (url.slice(0, -1).includes('*')) errors.push(`${path}.nonResourceURLs: Invalid value: ${JSON.stringify(url)}: non-resource URL wildcards must be at the end`);
  }
  return {
    level: LEVELS.includes(level) ? level : 'None',
    users: strings(raw.users, `${path}.users`, errors),
    userGroups: strings(raw.userGroups, `${path}.userGroups`, errors),
    verbs: strings(raw.verbs, `${path}.verbs`, errors),
    resources,
    namespaces,
    nonResourceURLs,
    omitStages: stages(raw.omitStages, `${path}.omitStages`, errors),
    omitManagedFields: typeof raw.omitManagedFields === 'boolean' ? raw.omitManagedFields : undefined,
  };
}

function stages(raw: unknown, path: string, errors: string[]): Stage[] {
  const list = strings(raw, path, errors);
  for (const stage of list) if (!STAGES.includes(stage as Stage)) errors.push(`${path}: Unsupported value: ${JSON.stringify(stage)}: supported values: ${STAGES.map((s) => `"${s}"`).join(', ')}`);
  return list.filter((stage): stage is Stage => STAGES.includes(stage as Stage));
}

function strings(raw: unknown, path: string, errors: string[]): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw) || raw.some((item) => typeof item !== 'string')) {
    errors.push(`${path}: must be a list of strings`);
    return [];
  }
  return raw as string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
