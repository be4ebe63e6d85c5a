// RBAC PolicyRules: whether a rule allows a request (upstream's RuleAllows and the rbac/v1 evaluation
// helpers), whether one set of rules covers another (the privilege-escalation check), and the compact
// text upstream prints for rules a user was missing.

import type { RequestInfo } from '../request/request-info.js';

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** Reads rules out of a decoded object defensively: stored objects passed validation, but only just. */
export function policyRulesOf(value: unknown): PolicyRule[] {
  if (!Array.isArray(value)) return [];
  const strings = (list: unknown) => (Array.isArray(list) ? list.filter((item): item is string => typeof item === 'string') : undefined);
  const rules: PolicyRule[] = [];
  for (const item of value) {
    if (item === null || typeof item !== 'object') continue;
    const raw = item as Record<string, unknown>;
    const rule: PolicyRule = { verbs: strings(raw.verbs) ?? [] };
    const apiGroups = strings(raw.apiGroups);
    const resources = strings(raw.resources);
    const resourceNames = strings(raw.resourceNames);
    const nonResourceURLs = strings(raw.nonResourceURLs);
    if (apiGroups?.length) rule.apiGroups = apiGroups;
    if (resources?.length) rule.resources = resources;
    if (resourceNames?.length) rule.resourceNames = resourceNames;
    if (nonResourceURLs?.length) rule.nonResourceURLs = nonResourceURLs;
    rules.push(rule);
  }
  return rules;
}

function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((ruleVerb) => ruleVerb === '*' || ruleVerb === verb);
}

function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((ruleGroup) => ruleGroup === '*' || ruleGroup === group);
}

function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const ruleResource of rule.resources ?? []) {
    if (ruleResource === '*' || ruleResource === combined) return true;
    // `*/scale` grants the scale subresource of every resource.
    if (subresource && ruleResource.length === subresource.length + 2 && ruleResource.startsWith('*/') && ruleResource.endsWith(subresource)) return true;
  }
  return false;
}

function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

function nonResourceUrlMatches(rule: PolicyRule, path: string): boolean {
  for (const url of rule.nonResourceURLs ?? []) {
    if (url === '*' || url === path) return true;
    if (url.endsWith('*') && path.startsWith(url.replace(/\*+$/, ''))) return true;
  }
  return false;
}

export function ruleAllows(info: RequestInfo, rule: PolicyRule): boolean {
  if (info.isResourceRequest) {
    const combined = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
    return verbMatches(rule, info.verb) && apiGroupMatches(rule, info.apiGroup) && resourceMatches(rule, combined, info.subresource) && resourceNameMatches(rule, info.name);
  }
  return verbMatches(rule, info.verb) && nonResourceUrlMatches(rule, info.path);
}

// ---- coverage (escalation checks) ------------------------------------------------------------------

/** One rule per (group, resource, verb, name) and per (url, verb): each is covered by one owner rule or not at all. */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const atoms: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs) {
        const names = rule.resourceNames ?? [];
        if (names.length > 0) for (const name of names) atoms.push({ apiGroups: [group], resources: [resource], verbs: [verb], resourceNames: [name] });
        else atoms.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) for (const verb of rule.verbs) atoms.push({ nonResourceURLs: [url], verbs: [verb] });
  return atoms;
}

function hasAll(set: string[], wanted: string[]): boolean {
  return wanted.every((item) => set.includes(item));
}

function resourcesCover(owner: string[], wanted: string[]): boolean {
  if (owner.includes('*') || hasAll(owner, wanted)) return true;
  return wanted.every((resource) => {
    if (owner.includes(resource)) return true;
    const slash = resource.indexOf('/');
    return slash >= 0 && owner.includes(`*/${resource.slice(slash + 1)}`);
  });
}

function urlsCover(owner: string[], wanted: string[]): boolean {
  return wanted.every((path) => owner.some((url) => url === path || (url.endsWith('*') && path.startsWith(url.replace(/\*+$/, '')))));
}

function ruleCovers(owner: PolicyRule, atom: PolicyRule): boolean {
  const verbs = owner.verbs.includes('*') || hasAll(owner.verbs, atom.verbs);
  const groups = (owner.apiGroups ?? []).includes('*') || hasAll(owner.apiGroups ?? [], atom.apiGroups ?? []);
  const resources = resourcesCover(owner.resources ?? [], atom.resources ?? []);
  const urls = urlsCover(owner.nonResourceURLs ?? [], atom.nonResourceURLs ?? []);
  const ownerNames = owner.resourceNames ?? [];
  const atomNames = atom.resourceNames ?? [];
  const names = atomNames.length === 0 ? ownerNames.length === 0 : ownerNames.length === 0 || hasAll(ownerNames, atomNames);
  return verbs && groups && resources && names && urls;
}

/** Whether `owner` grants everything `wanted` does; the atoms it does not grant are returned. */
export function covers(owner: PolicyRule[], wanted: PolicyRule[]): { covered: boolean; missing: PolicyRule[] } {
  const missing = wanted.flatMap(breakdownRule).filter((atom) => !owner.some((rule) => ruleCovers(rule, atom)));
  return { covered: missing.length === 0, missing };
}

/** Joins atoms that differ only by verb (one group, one resource, nothing else), as upstream's CompactRules. */
export function compactRules(rules: PolicyRule[]): PolicyRule[] {
  const compacted: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const rule of rules) {
    const isSimple = !rule.resourceNames?.length && !rule.nonResourceURLs?.length && rule.apiGroups?.length === 1 && rule.resources?.length === 1;
    if (!isSimple) {
      compacted.push(rule);
      continue;
    }
    const key = `${rule.apiGroups![0]}\u0000${rule.resources![0]}`;
    const existing = simple.get(key);
    if (existing) existing.verbs.push(...rule.verbs);
    else simple.set(key, { apiGroups: [...rule.apiGroups!], resources: [...rule.resources!], verbs: [...rule.verbs] });
  }
  return [...compacted, ...simple.values()];
}

/** Go's %q of a []string: ["a" "b"]. */
export function goQuotedList(values: string[]): string {
  return `[${values.map((value) => JSON.stringify(value)).join(' ')}]`;
}

/** rbacv1helpers.CompactString: `{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`. */
export function compactString(rule: PolicyRule): string {
  const parts: string[] = [];
  if (rule.apiGroups?.length) parts.push(`APIGroups:${goQuotedList(rule.apiGroups)}`);
  if (rule.resources?.length) parts.push(`Resources:${goQuotedList(rule.resources)}`);
  if (rule.nonResourceURLs?.length) parts.push(`NonResourceURLs:${goQuotedList(rule.nonResourceURLs)}`);
  if (rule.resourceNames?.length) parts.push(`ResourceNames:${goQuotedList(rule.resourceNames)}`);
  if (rule.verbs.length) parts.push(`Verbs:${goQuotedList(rule.verbs)}`);
  return `{${parts.join(', ')}}`;
}
