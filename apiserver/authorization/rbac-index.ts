// The in-memory RBAC data an authorizer evaluates: Roles, ClusterRoles and their bindings, kept current by
// whoever watches them (core from its own watch caches, the aggregator by List-Watch of core). Requests are
// evaluated against it synchronously — never a storage read or a network call per request. The visiting
// order and the source descriptions are upstream's DefaultRuleResolver's.

import type { KubeObject, UserInfo } from '../registry/object.js';
import { policyRulesOf, type PolicyRule } from './policy-rules.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';
export type RbacResource = 'roles' | 'clusterroles' | 'rolebindings' | 'clusterrolebindings';
export const RBAC_RESOURCES: RbacResource[] = ['clusterroles', 'roles', 'clusterrolebindings', 'rolebindings'];

interface Subject {
  kind: string;
  name: string;
  namespace: string;
}

interface Binding {
  name: string;
  namespace: string;
  roleRef: { kind: string; name: string };
  subjects: Subject[];
}

export interface RoleRef {
  kind: string;
  name: string;
}

/** Called for each applicable rule (with where it came from) or resolution error; return false to stop. */
export type RuleVisitor = (source: string | undefined, rule: PolicyRule | undefined, error: string | undefined) => boolean;

const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';

function bindingOf(object: KubeObject): Binding {
  const roleRef = object.roleRef && typeof object.roleRef === 'object' ? object.roleRef : {};
  const subjects: Subject[] = [];
  for (const subject of Array.isArray(object.subjects) ? object.subjects : []) {
    if (!subject || typeof subject !== 'object') continue;
    subjects.push({ kind: String(subject.kind ?? ''), name: String(subject.name ?? ''), namespace: String(subject.namespace ?? '') });
  }
  return { name: object.metadata.name ?? '', namespace: object.metadata.namespace ?? '', roleRef: { kind: String(roleRef.kind ?? ''), name: String(roleRef.name ?? '') }, subjects };
}

function appliesToUser(user: UserInfo, subject: Subject, namespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.username === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      // A RoleBinding's ServiceAccount without a namespace means the binding's own namespace.
      const saNamespace = subject.namespace || namespace;
      if (!saNamespace) return false;
      return user.username === `${SERVICE_ACCOUNT_PREFIX}${saNamespace}:${subject.name}`;
    }
    default:
      return false;
  }
}

function describeSubject(subject: Subject, bindingNamespace: string): string {
  if (subject.kind === 'ServiceAccount') return `${subject.kind} "${subject.name}/${subject.namespace || bindingNamespace}"`;
  return `${subject.kind} "${subject.name}"`;
}

export class RbacIndex {
  private readonly clusterRoles = new Map<string, PolicyRule[]>();
  private readonly roles = new Map<string, PolicyRule[]>(); // namespace/name
  private readonly clusterRoleBindings = new Map<string, Binding>();
  private readonly roleBindings = new Map<string, Map<string, Binding>>(); // namespace → name → binding
  private readonly listeners: (() => void)[] = [];

  /** Applies one watch event (or one listed object as ADDED). */
  apply(resource: RbacResource, type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubeObject): void {
    const name = object.metadata?.name ?? '';
    const namespace = object.metadata?.namespace ?? '';
    const deleted = type === 'DELETED';
    switch (resource) {
      case 'clusterroles':
        if (deleted) this.clusterRoles.delete(name);
        else this.clusterRoles.set(name, policyRulesOf(object.rules));
        break;
      case 'roles':
        if (deleted) this.roles.delete(`${namespace}/${name}`);
        else this.roles.set(`${namespace}/${name}`, policyRulesOf(object.rules));
        break;
      case 'clusterrolebindings':
        if (deleted) this.clusterRoleBindings.delete(name);
        else this.clusterRoleBindings.set(name, bindingOf(object));
        break;
      case 'rolebindings': {
        let inNamespace = this.roleBindings.get(namespace);
        if (deleted) {
          inNamespace?.delete(name);
          if (inNamespace?.size === 0) this.roleBindings.delete(namespace);
        } else {
          if (!inNamespace) this.roleBindings.set(namespace, (inNamespace = new Map()));
          inNamespace.set(name, bindingOf(object));
        }
        break;
      }
    }
    for (const listener of this.listeners) listener();
  }

  /** Forgets every object of one resource (before a re-list replays them). */
  reset(resource: RbacResource): void {
    if (resource === 'clusterroles') this.clusterRoles.clear();
    else if (resource === 'roles') this.roles.clear();
    else if (resource === 'clusterrolebindings') this.clusterRoleBindings.clear();
    else this.roleBindings.clear();
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** The rules a binding's roleRef grants, or upstream's lister error when the role does not exist. */
  roleReferenceRules(roleRef: RoleRef, bindingNamespace: string): { rules: PolicyRule[] } | { error: string } {
    if (roleRef.kind === 'ClusterRole') {
      const rules = this.clusterRoles.get(roleRef.name);
      return rules ? { rules } : { error: `clusterrole.${RBAC_GROUP} "${roleRef.name}" not found` };
    }
    if (roleRef.kind === 'Role') {
      const rules = this.roles.get(`${bindingNamespace}/${roleRef.name}`);
      return rules ? { rules } : { error: `role.${RBAC_GROUP} "${roleRef.name}" not found` };
    }
    return { error: `unsupported role reference kind: "${roleRef.kind}"` };
  }

  visitRulesFor(user: UserInfo, namespace: string, visitor: RuleVisitor): void {
    for (const binding of this.clusterRoleBindings.values()) {
      const subject = binding.subjects.find((candidate) => appliesToUser(user, candidate, ''));
      if (!subject) continue;
      const resolved = this.roleReferenceRules(binding.roleRef, '');
      if ('error' in resolved) {
        if (!visitor(undefined, undefined, resolved.error)) return;
        continue;
      }
      const source = `ClusterRoleBinding "${binding.name}" of ${binding.roleRef.kind} "${binding.roleRef.name}" to ${describeSubject(subject, '')}`;
      for (const rule of resolved.rules) if (!visitor(source, rule, undefined)) return;
    }
    if (!namespace) return;
    for (const binding of this.roleBindings.get(namespace)?.values() ?? []) {
      const subject = binding.subjects.find((candidate) => appliesToUser(user, candidate, namespace));
      if (!subject) continue;
      const resolved = this.roleReferenceRules(binding.roleRef, namespace);
      if ('error' in resolved) {
        if (!visitor(undefined, undefined, resolved.error)) return;
        continue;
      }
      const source = `RoleBinding "${binding.name}/${binding.namespace}" of ${binding.roleRef.kind} "${binding.roleRef.name}" to ${describeSubject(subject, namespace)}`;
      for (const rule of resolved.rules) if (!visitor(source, rule, undefined)) return;
    }
  }

  /** Every rule that applies to the user in the namespace, and the errors met resolving them. */
  rulesFor(user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] } {
    const rules: PolicyRule[] = [];
    const errors: string[] = [];
    this.visitRulesFor(user, namespace, (_source, rule, error) => {
      if (rule) rules.push(rule);
      if (error) errors.push(error);
      return true;
    });
    return { rules, errors };
  }
}

/** utilerrors.NewAggregate(...).Error(): one message alone, several as [a, b] (duplicates once). */
export function aggregateErrors(errors: string[]): string {
  const unique = [...new Set(errors)];
  return unique.length === 1 ? unique[0] : `[${unique.join(', ')}]`;
}
