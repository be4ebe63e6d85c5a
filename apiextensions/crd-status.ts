// The status the CRD controllers converge on (upstream's naming, establishing and finalizer controllers,
// folded into one pure function so the controller only has to write what this returns).

import type { KubeObject } from '../apiserver/registry/object.js';
import { nowTimestamp } from '../apiserver/registry/object.js';
import type { CrdNames, CrdSpec } from './crd-validation.js';
import { fieldErrorMessage } from '../apiserver/request/status.js';
import { structuralViolations } from './structural-schema.js';
import { apiApprovalCondition } from './crd-api-approval.js';

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

interface NamingResult {
  acceptedNames: Partial<CrdNames>;
  /** The NamesAccepted condition's status, reason and message. */
  accepted: Pick<CrdCondition, 'status' | 'reason' | 'message'>;
}

/**
 * Upstream's naming controller (calculateNamesAndConditions): each requested name is accepted when it is
 * already this CRD's accepted name or no CRD of the group (this one included) has accepted it; names
 * that conflict keep their previously accepted value, and the condition names the last conflict found.
 */
export function calculateNames(crd: KubeObject, sameGroup: KubeObject[]): NamingResult {
  const spec = crd.spec as CrdSpec;
  const requested = requestedNames(spec);
  const current = ((crd.status as CrdStatus | undefined)?.acceptedNames ?? {}) as Partial<CrdNames>;
  const resources = new Set<string>();
  const kinds = new Set<string>();
  for (const other of sameGroup) {
    if (other.spec?.group !== spec.group) continue;
    const accepted = (other.metadata.name === crd.metadata.name ? current : ((other.status as CrdStatus | undefined)?.acceptedNames ?? {})) as Partial<CrdNames>;
    for (const name of [accepted.plural, accepted.singular, ...(Array.isArray(accepted.shortNames) ? accepted.shortNames : [])]) resources.add(name ?? '');
    kinds.add(accepted.kind ?? '');
    kinds.add(accepted.listKind ?? '');
  }
  if (!sameGroup.some((other) => other.metadata.name === crd.metadata.name)) {
    for (const name of [current.plural, current.singular, ...(current.shortNames ?? [])]) resources.add(name ?? '');
    kinds.add(current.kind ?? '');
    kinds.add(current.listKind ?? '');
  }
  const inUse = (name: string, accepted: string | undefined, used: Set<string>) => (name === (accepted ?? '') || !used.has(name) ? undefined : `${JSON.stringify(name)} is already in use`);
  const names: Partial<CrdNames> = { ...current };
  let accepted: NamingResult['accepted'] = { status: 'Unknown' };
  const check = (field: 'plural' | 'singular' | 'kind' | 'listKind', used: Set<string>, reason: string) => {
    const problem = inUse(requested[field], current[field], used);
    if (problem) accepted = { status: 'False', reason, message: problem };
    else names[field] = requested[field];
  };
  check('plural', resources, 'PluralConflict');
  check('singular', resources, 'SingularConflict');
  const requestedShort = requested.shortNames ?? [];
  if (!sameList(requestedShort, current.shortNames ?? [])) {
    const existing = new Set(current.shortNames ?? []);
    const problems = requestedShort.filter((name) => !existing.has(name)).map((name) => inUse(name, '', resources)).filter((problem): problem is string => problem !== undefined);
    // utilerrors.NewAggregate: one error reads as itself, more as a bracketed list.
    if (problems.length > 0) accepted = { status: 'False', reason: 'ShortNamesConflict', message: problems.length === 1 ? problems[0] : `[${problems.join(', ')}]` };
    else names.shortNames = requested.shortNames;
  }
  check('kind', kinds, 'KindConflict');
  check('listKind', kinds, 'ListKindConflict');
  names.categories = requested.categories;
  if (accepted.status === 'Unknown') accepted = { status: 'True', reason: 'NoConflicts', message: 'no conflicts found' };
  return { acceptedNames: withoutEmpty(names), accepted };
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}

/** acceptedNames as upstream serializes them: plural and kind always, the rest when set. */
function withoutEmpty(names: Partial<CrdNames>): Partial<CrdNames> {
  const result: Partial<CrdNames> = { plural: names.plural ?? '' };
  if (names.singular) result.singular = names.singular;
  if (names.shortNames?.length) result.shortNames = [...names.shortNames];
  result.kind = names.kind ?? '';
  if (names.listKind) result.listKind = names.listKind;
  if (names.categories?.length) result.categories = [...names.categories];
  return result;
}

/** The first name conflict, as NamesAccepted=False reports it (undefined when every name is accepted). */
export function findNameConflict(crd: KubeObject, others: KubeObject[]): { reason: string; message: string } | undefined {
  const { accepted } = calculateNames(crd, others);
  return accepted.status === 'True' ? undefined : { reason: accepted.reason!, message: accepted.message! };
}

/**
 * Upstream's nonstructuralschema controller: the ValidateStructural violations of every version (and a
 * pruning-disabled spec), in upstream's aggregate wording; undefined when there are none. A v1 CRD can
 * only be non-structural when it was stored before the rules (or by a server that skipped them).
 */
export function nonStructuralCondition(spec: CrdSpec): CrdCondition | undefined {
  const violations: string[] = [];
  if (spec.preserveUnknownFields === true) violations.push('spec.preserveUnknownFields: Invalid value: true: must be false');
  (Array.isArray(spec.versions) ? spec.versions : []).forEach((version, index) => {
    const schema = version?.schema?.openAPIV3Schema;
    if (!schema) return;
    const found = structuralViolations(schema, `spec.versions[${index}].schema.openAPIV3Schema`).map(({ error }) => `${error.field}: ${fieldErrorMessage(error)}`);
    violations.push(...found.sort());
  });
  if (violations.length === 0) return undefined;
  return { type: 'NonStructuralSchema', status: 'True', reason: 'Violations', message: violations.length === 1 ? violations[0] : `[${violations.join(', ')}]` };
}

/** The status a live (not deleting) CRD should have, given the CRDs of its group. */
export function desiredStatus(crd: KubeObject, sameGroup: KubeObject[]): CrdStatus {
  const current = (crd.status ?? {}) as CrdStatus;
  const spec = crd.spec as CrdSpec;
  let conditions = current.conditions ?? [];
  const requested = requestedNames(spec);
  let acceptedNames = current.acceptedNames ?? { plural: '', kind: '' };
  // Upstream's naming controller does nothing while the accepted names are the requested ones.
  if (!sameNames(requested, acceptedNames)) {
    const naming = calculateNames(crd, sameGroup);
    acceptedNames = naming.acceptedNames;
    conditions = setCondition(conditions, { type: 'NamesAccepted', ...naming.accepted } as CrdCondition);
  } else if (!conditions.some((condition) => condition.type === 'NamesAccepted')) {
    conditions = setCondition(conditions, { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' });
  }
  const namesAccepted = conditions.some((condition) => condition.type === 'NamesAccepted' && condition.status === 'True');
  // Once established, a CRD stays established (later name conflicts do not take it down).
  if (namesAccepted) {
    conditions = setCondition(conditions, { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' });
  } else if (!conditions.some((condition) => condition.type === 'Established')) {
    conditions = setCondition(conditions, { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' });
  }
  const nonStructural = nonStructuralCondition(spec);
  if (nonStructural) conditions = setCondition(conditions, nonStructural);
  else conditions = conditions.filter((condition) => condition.type !== 'NonStructuralSchema');
  const approval = apiApprovalCondition(spec.group, crd.metadata.annotations);
  if (approval) conditions = setCondition(conditions, approval);
  // storedVersions are the strategy's (create and spec updates) and the user's (status writes after a
  // storage migration): no controller adds to them, or a pruned version would come back.
  return { ...current, conditions, acceptedNames };
}

/** Semantic equality of spec.names (defaulted) and status.acceptedNames. */
function sameNames(requested: CrdNames, accepted: Partial<CrdNames>): boolean {
  return (
    requested.plural === (accepted.plural ?? '') &&
    requested.singular === (accepted.singular ?? '') &&
    requested.kind === (accepted.kind ?? '') &&
    requested.listKind === (accepted.listKind ?? '') &&
    sameList(requested.shortNames ?? [], accepted.shortNames ?? []) &&
    sameList(requested.categories ?? [], accepted.categories ?? [])
  );
}
