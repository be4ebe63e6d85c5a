// The RBAC authorizer (upstream's plugin/pkg/auth/authorizer/rbac), the privileged-group authorizer that
// lets system:masters do everything without consulting RBAC data (so admin access never waits for a cache),
// and the union that asks each in turn, as kube-apiserver's --authorization-mode chain does.

import type { UserInfo } from '../registry/object.js';
import type { RequestInfo } from '../request/request-info.js';
import type { Authorizer, Decision, RuleResolver, RulesReview } from '../filters/authorize.js';
import { ruleAllows, type PolicyRule } from './policy-rules.js';
import { aggregateErrors, type RbacIndex } from './rbac-index.js';

export const PRIVILEGED_GROUP = 'system:masters';

/** authorizerfactory.NewPrivilegedGroups: allows members outright, with no reason and no rules to list. */
export const privilegedGroupAuthorizer: Authorizer = async (user) => ({ allowed: user.groups.includes(PRIVILEGED_GROUP) });

export function rbacAuthorizer(index: RbacIndex): Authorizer {
  return async (user: UserInfo, info: RequestInfo): Promise<Decision> => {
    let allowedBy: string | undefined;
    const errors: string[] = [];
    index.visitRulesFor(user, info.namespace, (source, rule, error) => {
      if (rule && ruleAllows(info, rule)) {
        allowedBy = source;
        return false;
      }
      if (error) errors.push(error);
      return true;
    });
    if (allowedBy !== undefined) return { allowed: true, reason: `RBAC: allowed by ${allowedBy}` };
    return errors.length ? { allowed: false, reason: `RBAC: ${aggregateErrors(errors)}` } : { allowed: false };
  };
}

function resourceRuleJson(rule: PolicyRule): Record<string, unknown> {
  const json: Record<string, unknown> = { verbs: rule.verbs };
  if (rule.apiGroups?.length) json.apiGroups = rule.apiGroups;
  if (rule.resources?.length) json.resources = rule.resources;
  if (rule.resourceNames?.length) json.resourceNames = rule.resourceNames;
  return json;
}

/** What SelfSubjectRulesReview lists: every RBAC rule that applies to the user in the namespace. */
export function rbacRuleResolver(index: RbacIndex): RuleResolver {
  return (user, namespace): RulesReview => {
    const { rules, errors } = index.rulesFor(user, namespace);
    const review: RulesReview = {
      resourceRules: rules.filter((rule) => rule.resources?.length).map(resourceRuleJson),
      nonResourceRules: rules.filter((rule) => rule.nonResourceURLs?.length).map((rule) => ({ verbs: rule.verbs, nonResourceURLs: rule.nonResourceURLs })),
      incomplete: false,
    };
    if (errors.length) review.evaluationError = aggregateErrors(errors);
    return review;
  };
}

/** The first authorizer that allows decides; the reasons of those that did not are joined, as upstream's union. */
export function unionAuthorizer(...authorizers: Authorizer[]): Authorizer {
  return async (user, info) => {
    const reasons: string[] = [];
    for (const authorizer of authorizers) {
      const decision = await authorizer(user, info);
      if (decision.allowed) return decision;
      if (decision.error) return decision;
      if (decision.reason) reasons.push(decision.reason);
    }
    return reasons.length ? { allowed: false, reason: reasons.join('\n') } : { allowed: false };
  };
}

/** kube-apiserver's chain for --authorization-mode=RBAC: system:masters first, then RBAC. */
export function clusterAuthorizer(index: RbacIndex): Authorizer {
  return unionAuthorizer(privilegedGroupAuthorizer, rbacAuthorizer(index));
}
