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
  return compilePolicy(policy).evaluate(attributes, user);
}

/**
 * A policy made ready for the request path: for each verb, only the rules that can match it, with their
 * lists as sets and their decisions made once, so that evaluating a request allocates nothing.
 */
export interface CompiledPolicy {
  evaluate(attributes: AuditAttributes, user: UserInfo | undefined): RuleDecision;
}

interface CompiledRule {
  decision: RuleDecision;
  users: Set<string> | undefined;
  userGroups: Set<string> | undefined;
  verbs: Set<string> | undefined;
  /** Resource rules (namespaces or resources listed). */
  resourceRule: boolean;
  namespaces: Set<string> | undefined;
  /** By API group; an entry without resources matches the whole group. */
  groups: Map<string, CompiledGroupResources[]> | undefined;
  nonResourceURLs: { exact: Set<string>; prefixes: string[]; any: boolean } | undefined;
}

interface CompiledGroupResources {
  all: boolean;
  /** "resource" and "resource/subresource" entries. */
  exact: Set<string>;
  /** "*" */
  anyResource: boolean;
  /** "*\/subresource" entries, by subresource. */
  anyWithSubresource: Set<string>;
  /** "resource/*" entries, by resource (they match the resource itself too, as upstream's TrimRight). */
  resourceWithAny: Set<string>;
  resourceNames: Set<string> | undefined;
}

const compiled = new WeakMap<Policy, CompiledPolicy>();
/** Distinct verbs are few (they come from HTTP methods); past this, rules are filtered per request. */
const MAX_VERBS = 64;

export function compilePolicy(policy: Policy): CompiledPolicy {
  let checker = compiled.get(policy);
  if (checker) return checker;
  const policyStages = policy.omitStages;
  const rules: CompiledRule[] = policy.rules.map((rule) => ({
    decision: Object.freeze({
      level: rule.level,
      omitStages: rule.omitStages.length ? [...new Set([...policyStages, ...rule.omitStages])] : policyStages,
      omitManagedFields: rule.omitManagedFields ?? policy.omitManagedFields,
    }),
    users: setOf(rule.users),
    userGroups: setOf(rule.userGroups),
    verbs: setOf(rule.verbs),
    resourceRule: rule.namespaces.length > 0 || rule.resources.length > 0,
    namespaces: setOf(rule.namespaces),
    groups: rule.resources.length ? groupsOf(rule.resources) : undefined,
    nonResourceURLs: rule.nonResourceURLs.length
      ? {
          exact: new Set(rule.nonResourceURLs),
          prefixes: rule.nonResourceURLs.filter((spec) => spec !== '*' && spec.endsWith('*')).map((spec) => spec.replace(/\*+$/, '')),
          any: rule.nonResourceURLs.includes('*'),
        }
      : undefined,
  }));
  const fallback: RuleDecision = Object.freeze({ level: 'None', omitStages: policyStages, omitManagedFields: policy.omitManagedFields });
  const byVerb = new Map<string, CompiledRule[]>();
  const rulesFor = (verb: string): CompiledRule[] => {
    let list = byVerb.get(verb);
    if (list) return list;
    list = rules.filter((rule) => !rule.verbs || rule.verbs.has(verb));
    if (byVerb.size < MAX_VERBS) byVerb.set(verb, list);
    return list;
  };
  checker = {
    evaluate(attributes, user) {
      for (const rule of rulesFor(attributes.verb)) if (compiledRuleMatches(rule, attributes, user)) return rule.decision;
      return fallback;
    },
  };
  compiled.set(policy, checker);
  return checker;
}

function setOf(list: string[]): Set<string> | undefined {
  return list.length ? new Set(list) : undefined;
}

function groupsOf(resources: GroupResources[]): Map<string, CompiledGroupResources[]> {
  const groups = new Map<string, CompiledGroupResources[]>();
  for (const entry of resources) {
    const compiledEntry: CompiledGroupResources = {
      all: entry.resources.length === 0,
      exact: new Set(),
      anyResource: false,
      anyWithSubresource: new Set(),
      resourceWithAny: new Set(),
      resourceNames: setOf(entry.resourceNames),
    };
    for (const resource of entry.resources) {
      if (resource === '*') compiledEntry.anyResource = true;
      if (resource.startsWith('*/')) compiledEntry.anyWithSubresource.add(resource.replace(/^[*/]+/, ''));
      if (resource.endsWith('/*')) compiledEntry.resourceWithAny.add(resource.replace(/[/*]+$/, ''));
      compiledEntry.exact.add(resource);
    }
    const list = groups.get(entry.group) ?? [];
    list.push(compiledEntry);
    groups.set(entry.group, list);
  }
  return groups;
}

function compiledRuleMatches(rule: CompiledRule, attributes: AuditAttributes, user: UserInfo | undefined): boolean {
  if (rule.users && (!user || !rule.users.has(user.username))) return false;
  if (rule.userGroups) {
    if (!user) return false;
    let member = false;
    for (const group of user.groups) {
      if (rule.userGroups.has(group)) {
        member = true;
        break;
      }
    }
    if (!member) return false;
  }
  if (rule.resourceRule) return compiledResourceMatches(rule, attributes);
  if (rule.nonResourceURLs) {
    if (attributes.isResourceRequest) return false;
    const urls = rule.nonResourceURLs;
    if (urls.any || urls.exact.has(attributes.path)) return true;
    for (const prefix of urls.prefixes) if (attributes.path.startsWith(prefix)) return true;
    return false;
  }
  return true;
}

function compiledResourceMatches(rule: CompiledRule, attributes: AuditAttributes): boolean {
  if (!attributes.isResourceRequest) return false;
  // Cluster-scoped resources have the namespace "" (a rule may list "" to match them).
  if (rule.namespaces && !rule.namespaces.has(attributes.namespace)) return false;
  if (!rule.groups) return true;
  const entries = rule.groups.get(attributes.apiGroup);
  if (!entries) return false;
  const { resource, subresource } = attributes;
  for (const entry of entries) {
    if (entry.all) return true;
    if (entry.resourceNames && !entry.resourceNames.has(attributes.name)) continue;
    if (entry.anyResource || entry.resourceWithAny.has(resource)) return true;
    if (subresource) {
      if (entry.anyWithSubresource.has(subresource) || entry.exact.has(`${resource}/${subresource}`)) return true;
    } else if (entry.exact.has(resource)) {
      return true;
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
