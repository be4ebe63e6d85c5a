// --authorization-mode for the servers that hold or mirror the RBAC objects (core-apiserver, the
// aggregator): the privileged group first, then each mode in the order given, as kube-apiserver builds
// its chain. Modes: RBAC (the default, as our launcher runs), AlwaysAllow, AlwaysDeny.

import type { FlagSpec, FlagValues } from '../server/flags.js';
import { FlagError, listFlag } from '../server/flags.js';
import type { Authorizer, RuleResolver, RulesReview } from '../filters/authorize.js';
import type { RbacIndex } from './rbac-index.js';
import { privilegedGroupAuthorizer, rbacAuthorizer, rbacRuleResolver, unionAuthorizer } from './rbac-authorizer.js';

export const AUTHORIZATION_MODE_FLAG: FlagSpec = {
  name: 'authorization-mode',
  type: 'list',
  default: ['RBAC'],
  description: 'Ordered list of plug-ins to do authorization on secure port (system:masters is always allowed first). Comma-delimited list of: AlwaysAllow,AlwaysDeny,RBAC.',
};

const everything: RulesReview = {
  resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
  nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
  incomplete: false,
};

export interface ClusterAuthorization {
  authorizer: Authorizer;
  rules: RuleResolver;
  /** Whether RBAC data is consulted (so the index must be fed). */
  usesRbac: boolean;
}

export function authorizationFromFlags(values: FlagValues, index: RbacIndex): ClusterAuthorization {
  const modes = values['authorization-mode'] === undefined ? ['RBAC'] : listFlag(values, 'authorization-mode');
  if (modes.length === 0) throw new FlagError('at least one authorization-mode must be passed');
  const authorizers: Authorizer[] = [privilegedGroupAuthorizer];
  const resolvers: RuleResolver[] = [];
  for (const mode of modes) {
    switch (mode) {
      case 'RBAC':
        authorizers.push(rbacAuthorizer(index));
        resolvers.push(rbacRuleResolver(index));
        break;
      case 'AlwaysAllow':
        authorizers.push(async () => ({ allowed: true }));
        resolvers.push(() => everything);
        break;
      case 'AlwaysDeny':
        authorizers.push(async () => ({ allowed: false, reason: 'Everything is forbidden.' }));
        break;
      default:
        throw new FlagError(`authorization-mode "${mode}" is not supported (supported: AlwaysAllow, AlwaysDeny, RBAC)`);
    }
  }
  const rules: RuleResolver = (user, namespace) => {
    const review: RulesReview = { resourceRules: [], nonResourceRules: [], incomplete: false };
    const errors: string[] = [];
    for (const resolver of resolvers) {
      const part = resolver(user, namespace);
      review.resourceRules.push(...part.resourceRules);
      review.nonResourceRules.push(...part.nonResourceRules);
      review.incomplete ||= part.incomplete;
      if (part.evaluationError) errors.push(part.evaluationError);
    }
    if (errors.length) review.evaluationError = errors.join('\n');
    return review;
  };
  return { authorizer: unionAuthorizer(...authorizers), rules, usesRbac: modes.includes('RBAC') };
}
