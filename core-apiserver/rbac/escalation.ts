// Privilege-escalation prevention for the RBAC kinds (upstream's pkg/registry/rbac/*/policybased): a user
// may create or update a Role/ClusterRole only with permissions they already hold (unless allowed the
// `escalate` verb on it), and a RoleBinding/ClusterRoleBinding only to a role whose permissions they hold
// (unless allowed `bind` on that role). system:masters is exempt. The rules a user holds come from the
// same in-memory RBAC index the authorizer reads.

import type { GenericStore, WriteContext } from '../../apiserver/registry/store.js';
import type { KubeObject, UserInfo } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';
import type { RequestInfo } from '../../apiserver/request/request-info.js';
import { forbidden } from '../../apiserver/request/status.js';
import type { Authorizer } from '../../apiserver/filters/authorize.js';
import { compactRules, compactString, covers, goQuotedList, policyRulesOf, type PolicyRule } from '../../apiserver/authorization/policy-rules.js';
import { aggregateErrors, RBAC_GROUP, type RbacIndex } from '../../apiserver/authorization/rbac-index.js';
import { PRIVILEGED_GROUP } from '../../apiserver/authorization/rbac-authorizer.js';

const FULL_AUTHORITY: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

export interface EscalationCheckOptions {
  index: RbacIndex;
  authorizer: Authorizer;
}

function resourceAttributes(verb: string, resource: string, name: string, namespace: string): RequestInfo {
  return { isResourceRequest: true, path: '', verb, apiPrefix: 'apis', apiGroup: RBAC_GROUP, apiVersion: '*', namespace, resource, subresource: '', name, parts: [] };
}

/** ConfirmNoEscalation: the upstream message listing what the user would grant without holding it. */
export function confirmNoEscalation(index: RbacIndex, user: UserInfo, namespace: string, rules: PolicyRule[]): string | undefined {
  const owner = index.rulesFor(user, namespace);
  const { covered, missing } = covers(owner.rules, rules);
  if (covered) return undefined;
  const descriptions = [...new Set(compactRules(missing).map(compactString))].sort();
  let message = `user "${user.username}" (groups=${goQuotedList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${descriptions.join('\n')}`;
  if (owner.errors.length) message += `; resolution errors: [${aggregateErrors(owner.errors)}]`;
  return message;
}

/** Everything but the fields the garbage collector changes (IsOnlyMutatingGCFields). */
function withoutGcFields(object: KubeObject): string {
  const copy = structuredClone(object);
  for (const field of ['ownerReferences', 'finalizers', 'resourceVersion', 'managedFields', 'generation', 'uid', 'creationTimestamp'] as const) delete copy.metadata?.[field];
  return JSON.stringify(copy);
}

export class EscalationCheck {
  constructor(private readonly options: EscalationCheckOptions) {}

  private denied(store: GenericStore, name: string, message: string): never {
    const { group, resource } = store.qualified;
    const prefix = name ? `${resource}.${group} "${name}"` : `${resource}.${group}`;
    throw forbidden(`${prefix} is forbidden: ${message}`, { name: name || undefined, group, kind: resource });
  }

  private async allowedVerb(user: UserInfo, verb: string, resource: string, name: string, namespace: string): Promise<boolean> {
    return (await this.options.authorizer(user, resourceAttributes(verb, resource, name, namespace))).allowed;
  }

  /** Throws 403 Forbidden when the write would grant permissions the user does not hold. */
  async check(store: GenericStore, desired: KubeObject, current: KubeObject | undefined, context: WriteContext, pathName: string): Promise<void> {
    const { user, namespace } = context;
    if (user.groups.includes(PRIVILEGED_GROUP)) return;
    if (current && withoutGcFields(desired) === withoutGcFields(current)) return;
    const plural = store.resource.plural;
    const name = desired.metadata?.name ?? pathName;
    const index = this.options.index;
    if (plural === 'roles' || plural === 'clusterroles') {
      if (await this.allowedVerb(user, 'escalate', plural, pathName, namespace)) return;
      const problem = confirmNoEscalation(index, user, namespace, policyRulesOf(desired.rules));
      if (problem) this.denied(store, name, problem);
      const aggregationChanged = isObject(desired.aggregationRule) && JSON.stringify(desired.aggregationRule) !== JSON.stringify(current?.aggregationRule);
      if (plural === 'clusterroles' && aggregationChanged && confirmNoEscalation(index, user, namespace, FULL_AUTHORITY)) {
        this.denied(store, name, 'must have cluster-admin privileges to use the aggregationRule');
      }
      return;
    }
    const roleRef = isObject(desired.roleRef) ? desired.roleRef : {};
    const kind = String(roleRef.kind ?? '');
    const roleName = String(roleRef.name ?? '');
    if (kind === 'Role' || kind === 'ClusterRole') {
      if (await this.allowedVerb(user, 'bind', kind === 'Role' ? 'roles' : 'clusterroles', roleName, namespace)) return;
    }
    const resolved = index.roleReferenceRules({ kind, name: roleName }, namespace);
    if ('error' in resolved) this.denied(store, name, resolved.error);
    const problem = confirmNoEscalation(index, user, namespace, resolved.rules);
    if (problem) this.denied(store, name, problem);
  }
}
