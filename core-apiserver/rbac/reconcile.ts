// Keeps the bootstrap policy present at every core start, as upstream's storage_rbac PostStartHook does:
// missing objects are created; existing ones whose autoupdate annotation is not "false" get back missing
// labels, annotations, rules, aggregation selectors and subjects (nothing a cluster admin added is
// removed); a binding whose roleRef changed is recreated (roleRef is immutable).

import type { GenericStore, WriteContext } from '../../apiserver/registry/store.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';
import { StatusError } from '../../apiserver/request/status.js';
import { covers, policyRulesOf } from '../../apiserver/authorization/policy-rules.js';
import { AUTOUPDATE_ANNOTATION, bootstrapClusterRoleBindings, bootstrapClusterRoles, bootstrapRoleBindings, bootstrapRoles } from './bootstrap-policy.js';

export type RbacStores = Record<'roles' | 'clusterroles' | 'rolebindings' | 'clusterrolebindings', GenericStore>;

const context = (namespace: string): WriteContext => ({
  user: { username: 'system:apiserver', groups: ['system:masters'] },
  namespace,
  warnings: [],
  dryRun: false,
  fieldManager: 'kube-apiserver',
  fieldValidation: 'Ignore',
});

async function current(store: GenericStore, object: KubeObject): Promise<KubeObject | undefined> {
  try {
    return await store.getObject(object.metadata.namespace ?? '', object.metadata.name!);
  } catch (error) {
    if (error instanceof StatusError && error.code === 404) return undefined;
    throw error;
  }
}

function mergeMetadata(existing: KubeObject, expected: KubeObject): boolean {
  let changed = false;
  for (const field of ['labels', 'annotations'] as const) {
    const have = existing.metadata[field] ?? {};
    const missing = Object.entries(expected.metadata[field] ?? {}).filter(([key]) => !(key in have));
    if (missing.length === 0) continue;
    existing.metadata[field] = { ...have, ...Object.fromEntries(missing) };
    changed = true;
  }
  return changed;
}

/** Adds what the expected role has and the existing one lacks; true when something was added. */
function reconcileRole(existing: KubeObject, expected: KubeObject): boolean {
  let changed = mergeMetadata(existing, expected);
  const { missing } = covers(policyRulesOf(existing.rules), policyRulesOf(expected.rules));
  if (missing.length) {
    existing.rules = [...(Array.isArray(existing.rules) ? existing.rules : []), ...missing];
    changed = true;
  }
  if (isObject(expected.aggregationRule)) {
    const have = isObject(existing.aggregationRule) && Array.isArray(existing.aggregationRule.clusterRoleSelectors) ? existing.aggregationRule.clusterRoleSelectors : [];
    const seen = new Set(have.map((selector: unknown) => JSON.stringify(selector)));
    const wanted = (expected.aggregationRule.clusterRoleSelectors as unknown[]).filter((selector) => !seen.has(JSON.stringify(selector)));
    if (wanted.length) {
      existing.aggregationRule = { clusterRoleSelectors: [...have, ...wanted] };
      changed = true;
    }
  }
  return changed;
}

function reconcileBinding(existing: KubeObject, expected: KubeObject): boolean {
  let changed = mergeMetadata(existing, expected);
  const have: Record<string, unknown>[] = Array.isArray(existing.subjects) ? existing.subjects : [];
  const key = (subject: Record<string, unknown>) => `${subject.kind}/${subject.namespace ?? ''}/${subject.name}`;
  const seen = new Set(have.map(key));
  const wanted = (expected.subjects as Record<string, unknown>[]).filter((subject) => !seen.has(key(subject)));
  if (wanted.length) {
    existing.subjects = [...have, ...wanted];
    changed = true;
  }
  return changed;
}

async function ensure(store: GenericStore, expected: KubeObject, kind: 'role' | 'binding'): Promise<void> {
  const namespace = expected.metadata.namespace ?? '';
  const existing = await current(store, expected);
  if (!existing) {
    try {
      await store.create(structuredClone(expected), context(namespace));
    } catch (error) {
      if (!(error instanceof StatusError && error.code === 409)) throw error;
    }
    return;
  }
  if (existing.metadata.annotations?.[AUTOUPDATE_ANNOTATION] === 'false') return;
  if (kind === 'binding' && JSON.stringify(existing.roleRef) !== JSON.stringify(expected.roleRef)) {
    await store.delete(expected.metadata.name!, {}, context(namespace));
    await store.create(structuredClone(expected), context(namespace));
    return;
  }
  const probe = structuredClone(existing);
  if (!(kind === 'role' ? reconcileRole(probe, expected) : reconcileBinding(probe, expected))) return;
  await store.guaranteedUpdate(expected.metadata.name!, context(namespace), '', undefined, (latest) => {
    const next = structuredClone(latest ?? existing);
    if (kind === 'role') reconcileRole(next, expected);
    else reconcileBinding(next, expected);
    return next;
  });
}

export async function reconcileBootstrapPolicy(stores: RbacStores): Promise<void> {
  for (const role of bootstrapClusterRoles()) await ensure(stores.clusterroles, role, 'role');
  for (const binding of bootstrapClusterRoleBindings()) await ensure(stores.clusterrolebindings, binding, 'binding');
  for (const role of bootstrapRoles()) await ensure(stores.roles, role, 'role');
  for (const binding of bootstrapRoleBindings()) await ensure(stores.rolebindings, binding, 'binding');
}
