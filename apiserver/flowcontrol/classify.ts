// Classification (upstream's apf_controller Match): the first FlowSchema, in matchingPrecedence order
// (ties by name), whose rules match the request's user and what it does decides the priority level; its
// distinguisher method splits the schema's requests into flows (by user or by namespace).

import type { UserInfo } from '../registry/object.js';
import type { RequestInfo } from '../request/request-info.js';
import type { FlowSchema, NonResourcePolicyRule, PolicyRulesWithSubjects, ResourcePolicyRule, Subject } from './types.js';

export interface RequestDigest {
  user: UserInfo;
  info: RequestInfo;
}

const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';

function subjectMatches(subject: Subject, user: UserInfo): boolean {
  switch (subject.kind) {
    case 'User':
      return subject.user?.name === '*' || subject.user?.name === user.username;
    case 'Group': {
      const name = subject.group?.name;
      return name === '*' || (name !== undefined && user.groups.includes(name));
    }
    case 'ServiceAccount': {
      if (!subject.serviceAccount || !user.username.startsWith(SERVICE_ACCOUNT_PREFIX)) return false;
      const [namespace, name] = user.username.slice(SERVICE_ACCOUNT_PREFIX.length).split(':');
      return namespace === subject.serviceAccount.namespace && (subject.serviceAccount.name === '*' || subject.serviceAccount.name === name);
    }
    default:
      return false;
  }
}

const matchesAny = (values: string[] | undefined, value: string) => values !== undefined && (values.includes('*') || values.includes(value));

function resourceRuleMatches(rule: ResourcePolicyRule, info: RequestInfo): boolean {
  if (!matchesAny(rule.verbs, info.verb) || !matchesAny(rule.apiGroups, info.apiGroup)) return false;
  const resource = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
  if (!matchesAny(rule.resources, resource)) return false;
  // A request without a namespace (cluster-scoped objects, or a collection across all namespaces).
  if (info.namespace === '') return rule.clusterScope === true;
  return matchesAny(rule.namespaces, info.namespace);
}

function nonResourceUrlMatches(patterns: string[], path: string): boolean {
  for (const pattern of patterns) {
    if (pattern === '*' || pattern === path) return true;
    // "/apis/*" covers "/apis" and everything below it.
    if (pattern.endsWith('/*')) {
      const prefix = pattern.slice(0, -1);
      if (path.startsWith(prefix) || path === prefix.slice(0, -1)) return true;
    }
  }
  return false;
}

function nonResourceRuleMatches(rule: NonResourcePolicyRule, info: RequestInfo): boolean {
  return matchesAny(rule.verbs, info.verb) && nonResourceUrlMatches(rule.nonResourceURLs ?? [], info.path);
}

function rulesMatch(rules: PolicyRulesWithSubjects, request: RequestDigest): boolean {
  if (!(rules.subjects ?? []).some((subject) => subjectMatches(subject, request.user))) return false;
  if (request.info.isResourceRequest) return (rules.resourceRules ?? []).some((rule) => resourceRuleMatches(rule, request.info));
  return (rules.nonResourceRules ?? []).some((rule) => nonResourceRuleMatches(rule, request.info));
}

export function flowSchemaMatches(flowSchema: FlowSchema, request: RequestDigest): boolean {
  return (flowSchema.spec.rules ?? []).some((rules) => rulesMatch(rules, request));
}

/** Sorts into matching order: lower matchingPrecedence first, then by name (upstream's tie-break). */
export function inMatchingOrder(flowSchemas: FlowSchema[]): FlowSchema[] {
  return [...flowSchemas].sort((a, b) => (a.spec.matchingPrecedence ?? 1000) - (b.spec.matchingPrecedence ?? 1000) || (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
}

/** The flow within a schema: the user's name (ByUser), the namespace (ByNamespace), or one flow. */
export function flowDistinguisher(flowSchema: FlowSchema, request: RequestDigest): string {
  switch (flowSchema.spec.distinguisherMethod?.type) {
    case 'ByUser':
      return request.user.username;
    case 'ByNamespace':
      return request.info.namespace;
    default:
      return '';
  }
}
