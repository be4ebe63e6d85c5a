// metadata.managedFields: upstream's field manager (k8s.io/apimachinery managedfields) on top of the
// structured-merge-diff port in ./apply/. Every write records who owns which fields: updates (create, PUT,
// non-apply patches) as operation "Update", server-side apply as operation "Apply". The layers mirror
// upstream's manager chain: entries are decoded and keyed by manager identifier, object identity fields
// are never owned, objects that predate field tracking get a "before-first-apply" owner on their first
// apply, Update owners are capped at 10 ("ancient-changes"), and kubectl's own apply manager may take
// over fields it applied client-side before.

import type { KubeObject, ManagedFieldsEntry } from './object.js';
import { isObject, nowTimestamp } from './object.js';
import type { ResourceDefinition } from './resource.js';
import { apiVersionOf, groupResource } from './resource.js';
import { builtinSchemas } from '../schema/builtin.js';
import { badRequest, conflict, StatusError } from '../request/status.js';
import type { Path } from './apply/field-set.js';
import { fieldElement, FieldSet, goJson, pathString } from './apply/field-set.js';
import type { TypeNode } from './apply/schema-types.js';
import { SchemaTypes } from './apply/schema-types.js';
import type { Conflict, FieldFilter, Managers } from './apply/updater.js';
import type { Managed } from './apply/entries.js';
import { capUpdateManagers, decode, encode, identifier, isReset, parseIdentifier, strip } from './apply/entries.js';
import { apply, ConflictsError, update } from './apply/updater.js';
import { compare, toFieldSet } from './apply/typed.js';
import { validateApplied } from './apply/validate.js';
import { deepEqual } from './apply/json-equal.js';
import { withZeroFields } from './apply/zero-values.js';

export { deepEqual } from './apply/json-equal.js';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

// ---- the schema of a resource ----------------------------------------------------------------

const types = new WeakMap<ResourceDefinition, TypeNode>();
let builtinTypes: SchemaTypes | undefined;

function typeOf(resource: ResourceDefinition): TypeNode {
  let type = types.get(resource);
  if (!type) {
    builtinTypes ??= new SchemaTypes(builtinSchemas());
    type = resource.schema ? new SchemaTypes(builtinSchemas()).objectType(undefined, resource.schema) : builtinTypes.objectType(resource.schemaName, undefined);
    types.set(resource, type);
  }
  return type;
}

/**
 * Upstream's reset fields: writes to the main resource never own the status (the strategy resets it), and
 * writes through a subresource own only that subresource's paths.
 */
const filters = new WeakMap<ResourceDefinition, Map<string, FieldFilter>>();

function fieldFilter(resource: ResourceDefinition, subresource: string): FieldFilter {
  let bySubresource = filters.get(resource);
  if (!bySubresource) filters.set(resource, (bySubresource = new Map()));
  let filter = bySubresource.get(subresource);
  if (!filter) bySubresource.set(subresource, (filter = buildFieldFilter(resource, subresource)));
  return filter;
}

function buildFieldFilter(resource: ResourceDefinition, subresource: string): FieldFilter {
  if (subresource && !resource.subresources[subresource]?.view) {
    const roots = new Set((resource.subresources[subresource]?.updates ?? []).map((path) => fieldElement(path.split('.')[0]).id));
    return (set) => {
      const kept = new FieldSet();
      for (const [id, child] of set.children) if (roots.has(id)) kept.children.set(id, child);
      for (const [id, element] of set.members) if (roots.has(id)) kept.members.set(id, element);
      return kept;
    };
  }
  if (!resource.subresources.status?.updates) return (set) => set;
  const reset = FieldSet.of(...resource.subresources.status.updates.map((path) => path.split('.').map(fieldElement)));
  return (set) => set.recursiveDifference(reset);
}

/** The object as the field walkers see it: without its own bookkeeping. */
function fieldsOf(object: KubeObject | undefined): Record<string, unknown> {
  if (!object) return {};
  const { managedFields: _managedFields, ...metadata } = isObject(object.metadata) ? object.metadata : {};
  return { ...object, metadata };
}

/** The object as upstream's typed conversion of a Go object has it (undefined: the kind's empty object). */
function asGoObject(resource: ResourceDefinition, object: KubeObject | undefined): Record<string, unknown> {
  return withZeroFields(resource.schema ? undefined : resource.schemaName, fieldsOf(object));
}

// ---- updates ---------------------------------------------------------------------------------

/**
 * Records a non-apply write by `manager` that turns `live` (undefined on create) into `next`. `requested`
 * is the managedFields the client sent (a non-empty valid list replaces the live ones, as kubectl's CSA→SSA
 * migration relies on; `[]` or `[{}]` clears them); writes through a subresource ignore it.
 */
export function recordUpdate(resource: ResourceDefinition, next: KubeObject, live: KubeObject | undefined, requested: unknown, manager: string, subresource = ''): void {
  let managed: Managed;
  const liveManaged = () => {
    try {
      return decode(live?.metadata.managedFields);
    } catch {
      return decode(undefined);
    }
  };
  if (subresource) managed = liveManaged();
  else if (isReset(requested)) managed = decode(undefined);
  else {
    try {
      managed = Array.isArray(requested) ? decode(requested as ManagedFieldsEntry[]) : liveManaged();
      if (managed.managers.size === 0) managed = liveManaged();
    } catch {
      managed = liveManaged();
    }
  }
  // Objects whose fields were never tracked (or whose tracking was reset) stay untracked until an apply.
  if (managed.managers.size === 0 && live?.metadata.uid) {
    delete next.metadata.managedFields;
    return;
  }
  trackUpdate(resource, managed, asGoObject(resource, live), asGoObject(resource, next), manager, subresource);
  const entries = encode(managed);
  if (entries) next.metadata.managedFields = entries;
  else delete next.metadata.managedFields;
}

function trackUpdate(resource: ResourceDefinition, managed: Managed, live: unknown, next: unknown, manager: string, subresource: string): void {
  const apiVersion = apiVersionOf(resource);
  const id = identifier(manager || 'unknown', 'Update', apiVersion, subresource);
  const self = 'current-operation';
  update(live, next, typeOf(resource), apiVersion, managed.managers, self, fieldFilter(resource, subresource));
  const changed = managed.managers.get(self);
  if (changed) {
    managed.managers.delete(self);
    const previous = managed.managers.get(id);
    managed.managers.set(id, { ...changed, set: previous ? changed.set.union(previous.set) : changed.set });
    managed.times.set(id, nowTimestamp());
  }
  strip(managed, id);
  capUpdateManagers(managed);
}

/** Upstream derives a missing fieldManager from the User-Agent: its part before the first "/", printable characters only, at most 128 bytes. */
export function managerFromUserAgent(userAgent: string | undefined): string {
  const prefix = (userAgent ?? '').split('/')[0];
  let result = '';
  for (const char of prefix) {
    if (/\p{C}/u.test(char)) continue;
    if (Buffer.byteLength(result + char) > 128) break;
    result += char;
  }
  return result;
}

// ---- apply -----------------------------------------------------------------------------------

function gvkString(apiVersion: unknown, kind: unknown): string {
  const version = typeof apiVersion === 'string' ? apiVersion : '';
  const slash = version.lastIndexOf('/');
  const group = slash === -1 ? '' : version.slice(0, slash);
  return `${group}/${slash === -1 ? version : version.slice(slash + 1)}, Kind=${typeof kind === 'string' ? kind : ''}`;
}

function printManager(id: string): string {
  let parsed: ReturnType<typeof parseIdentifier>;
  try {
    parsed = parseIdentifier(id);
  } catch {
    return JSON.stringify(id);
  }
  let text = JSON.stringify(parsed.manager ?? '');
  if (parsed.subresource) text += ` with subresource ${JSON.stringify(parsed.subresource)}`;
  if (parsed.operation === 'Update') text += ` using ${parsed.apiVersion ?? ''}`;
  return text;
}

/** upstream's NewConflictError: 409 with one FieldManagerConflict cause per field. */
export function conflictError(conflicts: Conflict[]): StatusError {
  const sorted = [...conflicts].sort((a, b) => (a.manager < b.manager ? -1 : a.manager > b.manager ? 1 : 0));
  const causes = sorted.map((conflict) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(conflict.manager)}`, field: pathString(conflict.path) }));
  let message: string;
  if (sorted.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(sorted[0].manager)}: ${pathString(sorted[0].path)}`;
  } else {
    const lines: string[] = [];
    let current: string | undefined;
    for (const conflict of sorted) {
      if (conflict.manager !== current) {
        current = conflict.manager;
        lines.push(`conflicts with ${printManager(current)}:`);
      }
      lines.push(`- ${pathString(conflict.path)}`);
    }
    message = `Apply failed with ${sorted.length} conflicts: ${lines.join('\n')}`;
  }
  return new StatusError(409, 'Conflict', message, { causes });
}

function objectName(object: KubeObject | Record<string, unknown>): string {
  const metadata = isObject(object.metadata) ? object.metadata : {};
  return `${typeof metadata.namespace === 'string' ? metadata.namespace : ''}/${typeof metadata.name === 'string' ? metadata.name : ''}`;
}

/** Fields kubectl applied client-side and still hold their last-applied value: its server-side apply may take them. */
function allowedFromLastApplied(live: KubeObject, type: TypeNode, apiVersion: string): FieldSet | undefined {
  const text = live.metadata.annotations?.[LAST_APPLIED];
  if (!text) return undefined;
  let lastApplied: unknown;
  try {
    lastApplied = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(lastApplied) || lastApplied.apiVersion !== apiVersion || validateApplied(lastApplied, type).length > 0) return undefined;
  const comparison = compare(lastApplied, fieldsOf(live), type);
  return toFieldSet(lastApplied, type).difference(comparison.modified).difference(comparison.added).difference(comparison.removed);
}

function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) if (child !== null) out[key] = dropNulls(child);
  return out;
}

export interface ApplyRequest {
  manager: string;
  force: boolean;
  subresource: string;
}

/**
 * Server-side apply of `config` onto `live` (undefined: the object is created). Returns the object to
 * store, with its managedFields; throws 400 for a malformed configuration and 409 for conflicts.
 */
export function applyConfiguration(resource: ResourceDefinition, live: KubeObject | undefined, config: Record<string, unknown>, request: ApplyRequest): KubeObject {
  const apiVersion = apiVersionOf(resource);
  if (config.apiVersion !== apiVersion || config.kind !== resource.kind) throw badRequest(`invalid object type: ${gvkString(config.apiVersion, config.kind)}`);
  const configMeta = isObject(config.metadata) ? config.metadata : {};
  if (configMeta.managedFields !== undefined && configMeta.managedFields !== null) throw badRequest('metadata.managedFields must be nil');
  if (!live && typeof configMeta.uid === 'string' && configMeta.uid) {
    const why = `uid mismatch: the provided object specified uid ${configMeta.uid}, and no existing object was found`;
    throw conflict(groupResource(resource), typeof configMeta.name === 'string' ? configMeta.name : '', why);
  }
  const type = typeOf(resource);
  const errors = validateApplied(config, type);
  if (errors.length > 0) {
    const detail = errors.length === 1 ? errors[0] : ['errors:', ...errors.map((error) => `  ${error}`)].join('\n');
    throw badRequest(`failed to create typed patch object (${objectName(config)}; ${gvkString(config.apiVersion, config.kind)}): ${detail}`);
  }
  let managed: Managed;
  try {
    managed = decode(live?.metadata.managedFields);
  } catch (error) {
    throw new StatusError(500, '', `failed to decode managed fields: ${(error as Error).message}`);
  }
  const filter = fieldFilter(resource, request.subresource);
  let liveFields = fieldsOf(live);
  if (managed.managers.size === 0 && live) {
    // Fields set before anyone applied belong to "before-first-apply", so applies can conflict with them.
    trackUpdate(resource, managed, asGoObject(resource, undefined), asGoObject(resource, live), 'before-first-apply', request.subresource);
  }
  const id = identifier(request.manager || 'unknown', 'Apply', apiVersion, request.subresource);
  const run = (force: boolean) => {
    const managers: Managers = new Map([...managed.managers].map(([key, owned]) => [key, { ...owned }]));
    return apply(liveFields, config, type, apiVersion, managers, id, force, filter);
  };
  let result: ReturnType<typeof apply>;
  try {
    result = run(request.force);
  } catch (error) {
    if (!(error instanceof ConflictsError)) throw error;
    let conflicts = error.conflicts;
    if (request.manager === 'kubectl' && live) {
      const allowed = allowedFromLastApplied(live, type, apiVersion);
      if (allowed) conflicts = conflicts.filter((conflict) => !allowed.has(conflict.path as Path));
    }
    if (conflicts.length > 0 || request.manager !== 'kubectl') throw conflictError(conflicts.length > 0 ? conflicts : error.conflicts);
    result = run(true);
  }
  managed.managers = result.managers;
  if (result.object !== undefined) managed.times.set(id, nowTimestamp());
  strip(managed, id);
  liveFields = (result.object ?? structuredClone(liveFields)) as Record<string, unknown>;
  const object = dropNulls(liveFields) as KubeObject;
  if (!isObject(object.metadata)) object.metadata = {};
  if (request.manager === 'kubectl' && object.metadata.annotations?.[LAST_APPLIED]) {
    const { annotations, ...rest } = configMeta as { annotations?: Record<string, unknown> };
    const lastApplied: Record<string, unknown> = { ...config, metadata: { ...rest } };
    if (isObject(annotations)) {
      const { [LAST_APPLIED]: _previous, ...others } = annotations;
      (lastApplied.metadata as Record<string, unknown>).annotations = others;
    }
    object.metadata.annotations = { ...object.metadata.annotations, [LAST_APPLIED]: `${goJson(lastApplied)}\n` };
  }
  const entries = encode(managed);
  if (entries) object.metadata.managedFields = entries;
  else delete object.metadata.managedFields;
  if (deepEqual(object, live)) return live!;
  return object;
}

/**
 * upstream's IgnoreManagedFieldsTimestampsTransformer: a write that changes nothing but managedFields
 * timestamps keeps the old timestamps, so it is a no-op (no new resourceVersion).
 */
export function keepTimestampsOfNoOp(next: KubeObject, current: KubeObject): void {
  const before = current.metadata.managedFields ?? [];
  const after = next.metadata.managedFields ?? [];
  if (before.length !== after.length || after.length === 0) return;
  if (after.every((entry, index) => entry.time === before[index].time)) return;
  const withoutTime = (entries: ManagedFieldsEntry[]) => entries.map(({ time: _time, ...rest }) => rest);
  if (!deepEqual(withoutTime(before), withoutTime(after))) return;
  const rest = (object: KubeObject) => {
    const { managedFields: _managedFields, resourceVersion: _resourceVersion, ...metadata } = object.metadata;
    return { ...object, metadata };
  };
  if (!deepEqual(rest(next), rest(current))) return;
  next.metadata.managedFields = after.map((entry, index) => {
    const kept: ManagedFieldsEntry = { ...entry };
    if (before[index].time === undefined) delete kept.time;
    else kept.time = before[index].time;
    return kept;
  });
}
