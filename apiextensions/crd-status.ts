// The status the CRD controllers converge on (upstream's naming, establishing and finalizer controllers,
// folded into one pure function so the controller only has to write what this returns).

import type { KubeObject } from '../apiserver/registry/object.js';
import { nowTimestamp } from '../apiserver/registry/object.js';
import type { CrdNames, CrdSpec } from './crd-validation.js';

export interface CrdCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface CrdStatus {
  conditions?: CrdCondition[];
  acceptedNames?: Partial<CrdNames>;
  storedVersions?: string[];
}

export function conditionOf(crd: KubeObject, type: string): CrdCondition | undefined {
  return ((crd.status as CrdStatus | undefined)?.conditions ?? []).find((condition) => condition.type === type);
}

export function isConditionTrue(crd: KubeObject, type: string): boolean {
  return conditionOf(crd, type)?.status === 'True';
}

/** Sets a condition, keeping lastTransitionTime when the status did not change (upstream's SetCRDCondition). */
export function setCondition(conditions: CrdCondition[], next: CrdCondition): CrdCondition[] {
  const existing = conditions.find((condition) => condition.type === next.type);
  const lastTransitionTime = existing && existing.status === next.status ? existing.lastTransitionTime : nowTimestamp();
  const updated = { type: next.type, status: next.status, lastTransitionTime, reason: next.reason, message: next.message };
  if (!existing) return [...conditions, updated];
  return conditions.map((condition) => (condition === existing ? updated : condition));
}

/** spec.names with the defaults the API applies, in upstream's field order. */
export function requestedNames(spec: CrdSpec): CrdNames {
  const names = spec.names;
  const result: CrdNames = {
    plural: names.plural,
    singular: names.singular || names.kind.toLowerCase(),
    kind: names.kind,
    listKind: names.listKind || `${names.kind}List`,
  };
  if (names.shortNames?.length) result.shortNames = [...names.shortNames];
  if (names.categories?.length) result.categories = [...names.categories];
  return result;
}

/**
 * Upstream's naming controller: a name is taken when another CRD of the same group has accepted it.
 * Returns the first conflict as a NamesAccepted=False reason and message.
 */
export function findNameConflict(crd: KubeObject, others: KubeObject[]): { reason: string; message: string } | undefined {
  const spec = crd.spec as CrdSpec;
  const names = requestedNames(spec);
  const taken = { plural: new Set<string>(), singular: new Set<string>(), kind: new Set<string>(), listKind: new Set<string>(), shortNames: new Set<string>() };
  for (const other of others) {
    if (other.metadata.name === crd.metadata.name || other.spec?.group !== spec.group) continue;
    const accepted = ((other.status as CrdStatus | undefined)?.acceptedNames ?? {}) as Partial<CrdNames>;
    if (accepted.plural) taken.plural.add(accepted.plural);
    if (accepted.singular) taken.singular.add(accepted.singular);
    if (accepted.kind) taken.kind.add(accepted.kind);
    if (accepted.listKind) taken.listKind.add(accepted.listKind);
    // Plural, singular and short names share one namespace for kubectl's resource lookup.
    for (const name of [accepted.plural, accepted.singular, ...(accepted.shortNames ?? [])]) if (name) taken.shortNames.add(name);
  }
  const inUse = (name: string) => `"${name}" is already in use`;
  if (taken.plural.has(names.plural) || taken.singular.has(names.plural)) return { reason: 'PluralConflict', message: inUse(names.plural) };
  if (taken.plural.has(names.singular) || taken.singular.has(names.singular)) return { reason: 'SingularConflict', message: inUse(names.singular) };
  for (const shortName of names.shortNames ?? []) if (taken.shortNames.has(shortName)) return { reason: 'ShortNamesConflict', message: inUse(shortName) };
  if (taken.kind.has(names.kind) || taken.listKind.has(names.kind)) return { reason: 'KindConflict', message: inUse(names.kind) };
  if (taken.kind.has(names.listKind) || taken.listKind.has(names.listKind)) return { reason: 'ListKindConflict', message: inUse(names.listKind) };
  return undefined;
}

/** The status a live (not deleting) CRD should have, given every CRD in the cluster. */
export function desiredStatus(crd: KubeObject, all: KubeObject[]): CrdStatus {
  const current = (crd.status ?? {}) as CrdStatus;
  const spec = crd.spec as CrdSpec;
  const conflict = findNameConflict(crd, all);
  const acceptedNames = conflict ? (current.acceptedNames ?? { plural: '', kind: '' }) : requestedNames(spec);
  let conditions = current.conditions ?? [];
  conditions = setCondition(
    conditions,
    conflict ? { type: 'NamesAccepted', status: 'False', ...conflict } : { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' },
  );
  // Once established, a CRD stays established (later name changes do not take it down).
  if (!conflict) {
    conditions = setCondition(conditions, { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' });
  } else if (!conditions.some((condition) => condition.type === 'Established' && condition.status === 'True')) {
    conditions = setCondition(conditions, { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' });
  }
  const storedVersions = [...(current.storedVersions ?? [])];
  const storage = spec.versions.find((version) => version.storage)?.name;
  if (storage && !storedVersions.includes(storage)) storedVersions.push(storage);
  return { ...current, conditions, acceptedNames, storedVersions };
}
