// The generic store (upstream's registry/generic/registry.Store): everything that is the same for every
// kind — names and generateName, uid, timestamps, generation, resourceVersion preconditions, the status
// split, finalizers and deletionTimestamp, dry runs, managed fields. What differs lives in the strategy.

import { randomUUID } from 'node:crypto';
import type { Storage, KeyValue } from '../storage/interface.js';
import { ConflictError, KeyExistsError, NotFoundError } from '../storage/interface.js';
import type { CachedObject, ObjectAttributes } from '../storage/watch-cache.js';
import { WatchCache } from '../storage/watch-cache.js';
import type { FieldError } from '../request/status.js';
import { alreadyExists, badRequest, conflict, invalid, invalidRequest, notFound, OBJECT_MODIFIED, StatusError } from '../request/status.js';
import type { KubeObject, UserInfo } from './object.js';
import { isObject, nowTimestamp } from './object.js';
import type { ResourceDefinition, StrategyContext } from './resource.js';
import { apiVersionOf, groupResource, storageKey } from './resource.js';
import { encodeForStorage, stampResourceVersion } from './encode.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './validate-meta.js';
import { deepEqual, keepTimestampsOfNoOp, recordUpdate } from './managed-fields.js';
import type { VersionConverter } from './conversion.js';
import { convertCached, convertObjects, storedApiVersion, versionOf } from './conversion.js';
import type { PropagationPolicy } from './delete-propagation.js';
import { deletionFinalizers } from './delete-propagation.js';
import type { AdmissionAttributes, AdmissionChain, AdmissionOperation } from '../admission/interface.js';
import { attributesFor, hasMutating, runMutating, runValidating } from '../admission/run.js';
import { compareSortedKeyPaths, withDecodeProblems, type StrictDecodeReport } from '../request/strict-decoding.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteContext {
  user: UserInfo;
  /** Namespace from the request path ('' for cluster-scoped). */
  namespace: string;
  warnings: string[];
  dryRun: boolean;
  fieldManager: string;
  fieldValidation: FieldValidation;
  /** A view subresource (scale) whose write this is: its managedFields entry names the subresource. */
  viaSubresource?: string;
  /** The request's Create/Update/Patch/DeleteOptions, as admission plugins and webhooks see them. */
  admissionOptions?: Record<string, unknown>;
  /** Audit annotations added by admission plugins (kept on the request for audit). */
  auditAnnotations?: Record<string, string>;
  /** The inner write of an action that was admitted as a whole (pods/binding, pods/eviction), as upstream's REST does. */
  skipAdmission?: boolean;
  /** Strict-decoding problems of the body itself (repeated keys), reported with the unknown fields. */
  decodeReport?: StrictDecodeReport;
}

/**
 * Schema check of a decoded body: type errors, plus unknown fields (already pruned from the object), with
 * optional "did you mean" suggestions by unknown path.
 */
export type StructuralCheck = (object: KubeObject) => { errors: FieldError[]; unknownFields: string[]; suggestions?: Map<string, string> };

export interface StoreHooks {
  /** The server's admission chain: every write passes it (mutating, then validation, then validating). */
  admission?: AdmissionChain;
  structuralCheck?: StructuralCheck;
  /** Objects are stored in another version of this resource (see conversion.ts). */
  converter?: VersionConverter;
}

export interface WriteResult {
  /** Serialized object with its resourceVersion. */
  bytes: string;
  object: KubeObject;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: PropagationPolicy;
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: string[];
}

export interface DeleteResult extends WriteResult {
  /** True when the object is gone; false when it remains (finalizers) with deletionTimestamp set. */
  deleted: boolean;
}

const MAX_CONFLICT_RETRIES = 10;
const RECHECK_AFTER_DEFAULTING = Symbol('recheck after defaulting');
const GENERATE_NAME_SUFFIX_LENGTH = 5;
const GENERATE_NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export class GenericStore {
  readonly cache: WatchCache;
  readonly qualified: { group: string; resource: string };

  private readonly hooks: StoreHooks;

  constructor(
    readonly resource: ResourceDefinition,
    readonly storage: Storage,
    hooks: StoreHooks = {},
  ) {
    // A built-in kind may declare its converter; a CRD's comes as a hook.
    this.hooks = resource.converter && !hooks.converter ? { ...hooks, converter: resource.converter } : hooks;
    this.qualified = groupResource(resource);
    this.cache = new WatchCache(storage, resource.storagePrefix, { attributes: (object, key) => this.attributes(object, key) });
  }

  attributes(object: Record<string, unknown>, _key: string): ObjectAttributes {
    const metadata = (isObject(object.metadata) ? object.metadata : {}) as KubeObject['metadata'];
    const fields: Record<string, string> = { 'metadata.name': metadata.name ?? '' };
    if (this.resource.namespaced) fields['metadata.namespace'] = metadata.namespace ?? '';
    for (const [field, extract] of Object.entries(this.resource.selectableFields)) fields[field] = extract(object as KubeObject) ?? '';
    return { namespace: metadata.namespace ?? '', name: metadata.name ?? '', labels: metadata.labels, fields };
  }

  cachedFromStorage(kv: KeyValue): CachedObject {
    const bytes = stampResourceVersion(kv.value, kv.modRevision);
    return { key: kv.key, bytes, revision: kv.modRevision, ...this.attributes(JSON.parse(kv.value) as Record<string, unknown>, kv.key) };
  }

  key(namespace: string, name: string): string {
    return storageKey(this.resource, namespace, name);
  }

  /** The chain this store's writes pass (action subresources run it themselves). */
  get admission(): AdmissionChain | undefined {
    return this.hooks.admission;
  }

  /**
   * The mutating phase for one write. A plugin may have broken what the strategy made of the object, so a
   * changed object gets the structural check again (the strategy's validation runs after this anyway).
   * Returns the attributes for the validating phase, or undefined when there is no chain to run.
   */
  private async admitWrite(operation: AdmissionOperation, context: WriteContext, subresource: string, object: KubeObject | undefined, oldObject: KubeObject | undefined, name: string): Promise<AdmissionAttributes | undefined> {
    const chain = this.hooks.admission;
    if (!chain || context.skipAdmission || chain.plugins.length === 0) return undefined;
    const view = subresource ? this.resource.subresources[subresource]?.view : undefined;
    const attributes = attributesFor({
      operation,
      resource: this.resource,
      subresource,
      namespace: object?.metadata.namespace ?? oldObject?.metadata.namespace ?? context.namespace,
      name,
      // A view subresource (scale) is admitted as its own kind, as upstream's webhooks see a Scale.
      object: object && view ? view.toView(object) : object,
      oldObject: oldObject && view ? view.toView(oldObject) : oldObject,
      options: context.admissionOptions,
      dryRun: context.dryRun,
      user: context.user,
    });
    const admissionContext = { warnings: context.warnings, auditAnnotations: (context.auditAnnotations ??= {}) };
    // Plugins known to keep objects within their schema spare every write a snapshot of the object.
    if (!hasMutating(chain)) {
      await runMutating(chain, attributes, admissionContext);
      return attributes;
    }
    const before = attributes.object ? JSON.stringify(attributes.object) : '';
    await runMutating(chain, attributes, admissionContext);
    if (object && attributes.object && JSON.stringify(attributes.object) !== before) {
      if (view) Object.assign(object, view.applyView(structuredClone(object), attributes.object));
      const errors = this.hooks.structuralCheck?.(object).errors ?? [];
      if (errors.length > 0) throw invalid(this.resource.kind, this.resource.group, object.metadata?.name ?? name, errors);
    }
    return attributes;
  }

  private async validateWrite(attributes: AdmissionAttributes | undefined, context: WriteContext): Promise<void> {
    if (!attributes) return;
    await runValidating(this.hooks.admission!, attributes, { warnings: context.warnings, auditAnnotations: (context.auditAnnotations ??= {}) });
  }

  private strategyContext(context: WriteContext): StrategyContext {
    return { user: context.user, warnings: context.warnings, dryRun: context.dryRun };
  }

  // ---- reads -----------------------------------------------------------------------------------

  async get(namespace: string, name: string): Promise<KeyValue> {
    const current = await this.storage.get(this.key(namespace, name));
    if (!current) throw this.resource.notFound?.(namespace, name) ?? notFound(this.qualified, name);
    return current;
  }

  async getBytes(namespace: string, name: string): Promise<string> {
    const current = await this.get(namespace, name);
    return this.servedBytes(stampResourceVersion(current.value, current.modRevision));
  }

  // ---- conversion (a no-op unless objects are stored in another version) -------------------------

  /** True when objects may be stored in another version (outputs go through toServed). */
  get converts(): boolean {
    return this.hooks.converter !== undefined;
  }

  /** Cached objects in this resource's version (list and watch output). */
  async toServed(items: CachedObject[]): Promise<CachedObject[]> {
    return this.hooks.converter ? convertCached(this.hooks.converter, items, this.resource.version, this.crossGroupApiVersion()) : items;
  }

  /** A converter between groups compares whole apiVersions (see conversion.ts); one between versions, versions. */
  private crossGroupApiVersion(): string | undefined {
    return this.hooks.converter?.storageApiVersion ? apiVersionOf(this.resource) : undefined;
  }

  private async servedBytes(bytes: string): Promise<string> {
    const converter = this.hooks.converter;
    if (!converter) return bytes;
    const crossGroup = this.crossGroupApiVersion();
    if (crossGroup ? storedApiVersion(bytes) === crossGroup : versionOf(storedApiVersion(bytes)) === this.resource.version) return bytes;
    const [converted] = await convertObjects(converter, [JSON.parse(bytes) as KubeObject], this.resource.version, crossGroup);
    return JSON.stringify(converted);
  }

  private async toStorageVersion(object: KubeObject): Promise<KubeObject> {
    const converter = this.hooks.converter;
    if (!converter) return object;
    const [converted] = await convertObjects(converter, [object], converter.storageVersion, converter.storageApiVersion);
    return converted;
  }

  private async servedResult<T extends WriteResult>(result: T): Promise<T> {
    if (!this.hooks.converter) return result;
    const bytes = await this.servedBytes(result.bytes);
    return bytes === result.bytes ? result : { ...result, bytes, object: JSON.parse(bytes) as KubeObject };
  }

  async getObject(namespace: string, name: string): Promise<KubeObject> {
    return JSON.parse(await this.getBytes(namespace, name)) as KubeObject;
  }

  // ---- create ----------------------------------------------------------------------------------

  /** Applies generic and kind-specific checks to a decoded body, for create. */
  private normalizeIncoming(object: KubeObject, context: WriteContext, expectedName?: string): KubeObject {
    const resource = this.resource;
    const expectedApiVersion = apiVersionOf(resource);
    if (object.apiVersion !== undefined && object.apiVersion !== '' && object.apiVersion !== expectedApiVersion) {
      throw badRequest(`the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${expectedApiVersion})`);
    }
    if (object.kind !== undefined && object.kind !== '' && object.kind !== resource.kind) {
      throw badRequest(`the kind in the data (${String(object.kind)}) does not match the expected kind (${resource.kind})`);
    }
    object.apiVersion = expectedApiVersion;
    object.kind = resource.kind;
    if (object.metadata === undefined || object.metadata === null) object.metadata = {};
    if (!isObject(object.metadata)) throw badRequest('metadata must be an object');
    const metadata = object.metadata;
    if (resource.namespaced) {
      if (metadata.namespace && context.namespace && metadata.namespace !== context.namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      if (context.namespace) metadata.namespace = context.namespace;
    } else if (metadata.namespace) {
      delete metadata.namespace;
    }
    if (expectedName !== undefined) {
      if (metadata.name && metadata.name !== expectedName) {
        throw badRequest(`the name of the object (${String(metadata.name)}) does not match the name on the URL (${expectedName})`);
      }
      metadata.name = expectedName;
    }
    this.checkStructure(object, context);
    return object;
  }

  private checkStructure(object: KubeObject, context: WriteContext, forPatch = false): void {
    const check = this.hooks.structuralCheck;
    // A patch body's own problems belong to the patched object's check; a create body's to the object's.
    const decoded = context.decodeReport && (forPatch === (context.decodeReport.patch === true)) ? context.decodeReport : undefined;
    if (!check && !decoded) return;
    // Upstream quotes the patched object, unknown fields included, in a strict patch failure; the check prunes in place.
    const patched = forPatch && context.fieldValidation === 'Strict' ? sortedJson(object) : '';
    const { errors, unknownFields, suggestions } = check ? check(object) : { errors: [], unknownFields: [], suggestions: undefined };
    if ((unknownFields.length > 0 || decoded) && context.fieldValidation !== 'Ignore') {
      // Inline schemas are CRD-style: upstream's pruning reports their unknown paths sorted, whereas the
      // strict JSON decoder of built-in kinds reports them in document order.
      if (this.resource.schema) unknownFields.sort();
      // A patched object reaches upstream's decoder re-encoded from a map, its keys sorted.
      else if (forPatch) unknownFields.sort(compareSortedKeyPaths);
      let problems = unknownFields.map((field) => `unknown field "${field}"${suggestions?.has(field) ? `, did you mean "${suggestions.get(field)}"?` : ''}`);
      let warnings = problems;
      if (decoded) ({ errors: problems, warnings } = withDecodeProblems(decoded, unknownFields, problems, this.resource.schema !== undefined));
      if (context.fieldValidation === 'Strict') {
        if (forPatch) {
          throw invalidRequest([{ field: 'patch', type: 'FieldValueInvalid', value: patched, detail: `strict decoding error: ${problems.join(', ')}` }]);
        }
        const kind = this.resource.kind;
        throw badRequest(`${kind} in version "${this.resource.version}" cannot be handled as a ${kind}: strict decoding error: ${problems.join(', ')}`);
      }
      for (const warning of warnings) if (!context.warnings.includes(warning)) context.warnings.push(warning);
    }
    if (errors.length === 0) return;
    // Upstream defaults while decoding, before validation, so a required field the strategy defaults (e.g.
    // a RoleBinding's roleRef.apiGroup) is not missing. Only "Required" errors wait for defaulting.
    if (errors.every((error) => error.type === 'FieldValueRequired')) {
      (object as unknown as Record<symbol, unknown>)[RECHECK_AFTER_DEFAULTING] = true;
      return;
    }
    throw invalid(this.resource.kind, this.resource.group, object.metadata?.name ?? '', errors);
  }

  /** The structural check again, after the strategy defaulted the object (see checkStructure). */
  private recheckAfterDefaulting(object: KubeObject): void {
    const marked = object as unknown as Record<symbol, unknown>;
    if (!marked[RECHECK_AFTER_DEFAULTING] || !this.hooks.structuralCheck) return;
    delete marked[RECHECK_AFTER_DEFAULTING];
    const { errors } = this.hooks.structuralCheck(object);
    if (errors.length > 0) throw invalid(this.resource.kind, this.resource.group, object.metadata?.name ?? '', errors);
  }

  async create(input: KubeObject, context: WriteContext): Promise<WriteResult> {
    const object = this.normalizeIncoming(input, context);
    return this.createNormalized(object, context, true);
  }

  /** `fromPost`: a POST, where a set resourceVersion fails as etcd3's store fails it (kubectl create -f of an exported object). */
  private async createNormalized(object: KubeObject, context: WriteContext, fromPost = false, applied = false): Promise<WriteResult> {
    const resource = this.resource;
    const metadata = object.metadata;
    const requestedFields = metadata.managedFields;
    const resourceVersionSet = typeof metadata.resourceVersion === 'string' && /^\d+$/.test(metadata.resourceVersion) && Number(metadata.resourceVersion) !== 0;
    for (const field of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink', 'managedFields'] as const) {
      delete metadata[field];
    }
    if (!metadata.name && metadata.generateName) metadata.name = generateName(metadata.generateName);
    if (resource.subresources.status && !resource.keepStatusOnCreate) delete object.status;
    resource.strategy.prepareForCreate?.(object, this.strategyContext(context));
    this.recheckAfterDefaulting(object);
    const admission = await this.admitWrite('CREATE', context, '', object, undefined, metadata.name ?? '');
    const errors = [
      ...validateObjectMeta(metadata, resource.namespaced, resource.nameValidation),
      ...(resource.strategy.validate?.(object, this.strategyContext(context)) ?? []),
    ];
    if (errors.length > 0) throw invalid(resource.kind, resource.group, metadata.name ?? metadata.generateName ?? '', errors);
    await this.validateWrite(admission, context);
    resource.strategy.canonicalize?.(object);
    metadata.uid ??= randomUUID(); // a strategy may have assigned it (Jobs label their pods with it)
    metadata.creationTimestamp = nowTimestamp();
    if (resource.generation) metadata.generation = 1;
    else delete metadata.generation;
    if (applied) metadata.managedFields = requestedFields;
    else recordUpdate(resource, object, undefined, requestedFields, context.fieldManager);
    const bytes = encodeForStorage(await this.toStorageVersion(object));
    const key = this.key(metadata.namespace ?? '', metadata.name!);
    if (context.dryRun) {
      if (await this.storage.get(key)) throw alreadyExists(this.qualified, metadata.name!);
      // Nothing was stored, so there is no resourceVersion (upstream omits the empty field).
      return { bytes: JSON.stringify(object), object };
    }
    // Upstream answers this with a reasonless 500; it is the client's mistake, so we keep the message and
    // make it the 400 it deserves (bad input never yields a 500 here).
    if (fromPost && resourceVersionSet) throw new StatusError(400, 'BadRequest', 'resourceVersion should not be set on objects to be created');
    try {
      const stored = await this.storage.create(key, bytes);
      return await this.servedResult(this.result(stored));
    } catch (error) {
      if (error instanceof KeyExistsError) throw alreadyExists(this.qualified, metadata.name!);
      throw error;
    }
  }

  private result(stored: KeyValue): WriteResult {
    const bytes = stampResourceVersion(stored.value, stored.modRevision);
    return { bytes, object: JSON.parse(bytes) as KubeObject };
  }

  // ---- update / patch --------------------------------------------------------------------------

  /** PUT: replaces the object (or its status). */
  async update(name: string, input: KubeObject, context: WriteContext, subresource = ''): Promise<WriteResult & { created: boolean }> {
    const object = this.normalizeIncoming(input, context, name);
    const precondition = object.metadata.resourceVersion;
    return this.guaranteedUpdate(name, context, subresource, precondition, (current) => {
      if (!current) return object;
      return object;
    });
  }

  /**
   * Read-modify-write with compare-and-swap, retried on conflicts unless the caller pinned a
   * resourceVersion. `mutate` receives the current object (undefined when missing) and returns the desired one.
   */
  async guaranteedUpdate(
    name: string,
    context: WriteContext,
    subresource: string,
    precondition: string | undefined,
    mutate: (current: KubeObject | undefined) => KubeObject | Promise<KubeObject>,
    /** `applied`: `mutate` is a server-side apply that computed the managedFields itself. */
    options: { createIfMissing?: boolean; forPatch?: boolean; applied?: boolean } = {},
  ): Promise<WriteResult & { created: boolean }> {
    const resource = this.resource;
    const key = this.key(context.namespace, name);
    for (let attempt = 0; ; attempt++) {
      const currentKv = await this.storage.get(key);
      if (!currentKv) {
        if (!(resource.strategy.allowCreateOnUpdate || options.createIfMissing) || subresource) throw notFound(this.qualified, name);
        const desired = await mutate(undefined);
        if (options.forPatch) this.normalizeIncoming(desired, context, name);
        const created = await this.createNormalized(desired, context, false, options.applied);
        return { ...created, created: true };
      }
      const currentBytes = await this.servedBytes(stampResourceVersion(currentKv.value, currentKv.modRevision));
      const current = JSON.parse(currentBytes) as KubeObject;
      const desiredRaw = await mutate(JSON.parse(currentBytes) as KubeObject);
      const desired = options.forPatch ? this.normalizePatched(desiredRaw, context, name) : desiredRaw;
      const wanted = options.forPatch ? desired.metadata.resourceVersion : precondition;
      if (wanted && wanted !== current.metadata.resourceVersion) {
        throw conflict(this.qualified, name, OBJECT_MODIFIED);
      }
      const next = await this.prepareUpdate(desired, current, context, subresource, options.applied);
      const servedBytes = encodeForStorage(next);
      // Key order is not content (upstream encodes in a fixed order): an equal object is a no-op too.
      if (!currentKv.stale && (servedBytes === encodeForStorage({ ...current, metadata: { ...current.metadata } }) || sameObject(next, current))) {
        return { bytes: currentBytes, object: current, created: false }; // no-op: nothing to write
      }
      if (context.dryRun) return { bytes: stampResourceVersion(servedBytes, currentKv.modRevision), object: next, created: false };
      const bytes = this.hooks.converter ? encodeForStorage(await this.toStorageVersion(next)) : servedBytes;
      try {
        if (
          next.metadata.deletionTimestamp &&
          (next.metadata.finalizers ?? []).length === 0 &&
          resource.strategy.beforeDelete?.(structuredClone(next), this.strategyContext(context)) !== 'keep'
        ) {
          // The last finalizer is gone from an object being deleted: the update completes the deletion.
          const deleted = await this.storage.delete(key, currentKv.modRevision);
          return { ...this.result({ ...deleted, value: servedBytes }), created: false };
        }
        const stored = await this.storage.update(key, bytes, currentKv.modRevision);
        return await this.servedResult({ ...this.result(stored), created: false });
      } catch (error) {
        // Someone wrote in between: try again on the fresh object. A resourceVersion the client pinned fails
        // the comparison above then; a patch without one carries the fresh object's and goes through.
        if (error instanceof ConflictError && attempt < MAX_CONFLICT_RETRIES) continue;
        if (error instanceof ConflictError) throw conflict(this.qualified, name, OBJECT_MODIFIED);
        if (error instanceof NotFoundError) throw notFound(this.qualified, name);
        throw error;
      }
    }
  }

  private normalizePatched(object: KubeObject, context: WriteContext, name: string): KubeObject {
    if (!isObject(object)) throw badRequest('the patched object is not an object');
    const resource = this.resource;
    object.apiVersion = apiVersionOf(resource);
    object.kind = resource.kind;
    if (!isObject(object.metadata)) throw invalid(resource.kind, resource.group, name, [{ field: 'metadata', type: 'FieldValueRequired' }]);
    this.checkStructure(object, context, true);
    if (object.metadata.name !== name) {
      throw invalid(resource.kind, resource.group, name, [{ field: 'metadata.name', type: 'FieldValueInvalid', value: object.metadata.name, detail: 'field is immutable' }]);
    }
    return object;
  }

  /** The generic part of an update: system fields, the status split, generation, validation. */
  private async prepareUpdate(desired: KubeObject, current: KubeObject, context: WriteContext, subresource: string, applied = false): Promise<KubeObject> {
    const resource = this.resource;
    const requestedFields = desired.metadata.managedFields;
    let next: KubeObject;
    if (subresource) {
      // A subresource write changes only its own paths (upstream resets metadata and spec for status).
      next = structuredClone(current);
      for (const path of resource.subresources[subresource]?.updates ?? []) copyPath(desired, next, path);
    } else {
      next = desired;
      if (resource.subresources.status) {
        if (current.status === undefined) delete next.status;
        else next.status = current.status;
      }
    }
    const metadata = next.metadata;
    const old = current.metadata;
    // Fields clients cannot set through updates keep their stored values; a uid is kept only when none is
    // given (upstream's BeforeUpdate): a different one fails validation as immutable.
    if (!metadata.uid) metadata.uid = old.uid;
    metadata.creationTimestamp = old.creationTimestamp;
    if (old.deletionTimestamp) metadata.deletionTimestamp = old.deletionTimestamp;
    else delete metadata.deletionTimestamp;
    if (old.deletionGracePeriodSeconds !== undefined) metadata.deletionGracePeriodSeconds = old.deletionGracePeriodSeconds;
    else delete metadata.deletionGracePeriodSeconds;
    if (metadata.generateName === undefined && old.generateName !== undefined) metadata.generateName = old.generateName;
    delete metadata.selfLink;
    if (!Array.isArray(metadata.managedFields)) metadata.managedFields = old.managedFields;
    if (metadata.namespace === undefined && old.namespace !== undefined) metadata.namespace = old.namespace;
    const strategyContext = this.strategyContext(context);
    if (subresource === '') resource.strategy.prepareForUpdate?.(next, current, strategyContext);
    else resource.subresources[subresource]?.prepareForUpdate?.(next, current, strategyContext);
    this.recheckAfterDefaulting(next);
    const admission = await this.admitWrite('UPDATE', context, subresource || context.viaSubresource || '', next, current, metadata.name ?? '');
    if (resource.generation) {
      metadata.generation = old.generation ?? 1;
      if (subresource === '' && specChanged(next, current)) metadata.generation += 1;
    } else {
      delete metadata.generation;
    }
    const errors = [
      ...validateObjectMetaUpdate(metadata, old),
      ...validateObjectMeta(metadata, resource.namespaced, resource.nameValidation),
      ...(subresource === '' ? (resource.strategy.validateUpdate?.(next, current, strategyContext) ?? []) : []),
      ...(subresource === 'status' ? (resource.strategy.validateStatusUpdate?.(next, current, strategyContext) ?? []) : []),
      ...(subresource ? (resource.subresources[subresource]?.validateUpdate?.(next, current, strategyContext) ?? []) : []),
    ];
    if (errors.length > 0) throw invalid(resource.kind, resource.group, metadata.name ?? '', errors);
    await this.validateWrite(admission, context);
    resource.strategy.canonicalize?.(next);
    // Apply computed ownership while merging; every other write records an Update (upstream's field manager).
    if (applied) {
      if (requestedFields) metadata.managedFields = requestedFields;
      else delete metadata.managedFields;
    } else {
      recordUpdate(resource, next, current, subresource ? undefined : requestedFields, context.fieldManager, subresource || context.viaSubresource);
    }
    keepTimestampsOfNoOp(next, current);
    return next;
  }

  // ---- delete ----------------------------------------------------------------------------------

  async delete(name: string, options: DeleteOptions, context: WriteContext): Promise<DeleteResult> {
    return this.servedResult(await this.deleteStored(name, options, context));
  }

  /** Deletion works on the stored object as it is; only the answer is converted. */
  private async deleteStored(name: string, options: DeleteOptions, context: WriteContext): Promise<DeleteResult> {
    const key = this.key(context.namespace, name);
    const warning = this.resource.strategy.defaultPropagationWarning;
    if (warning && !options.propagationPolicy && options.orphanDependents === undefined) context.warnings.push(warning);
    for (let attempt = 0; ; attempt++) {
      const currentKv = await this.storage.get(key);
      if (!currentKv) throw notFound(this.qualified, name);
      const currentBytes = stampResourceVersion(currentKv.value, currentKv.modRevision);
      const current = JSON.parse(currentBytes) as KubeObject;
      const preconditions = options.preconditions;
      // Upstream's rest.BeforeDelete checks them first, naming the kind (not the resource) in the Conflict.
      const byKind = { group: this.resource.group, resource: this.resource.kind };
      if (preconditions?.uid && preconditions.uid !== current.metadata.uid) {
        throw conflict(byKind, name, `the UID in the precondition (${preconditions.uid}) does not match the UID in record (${current.metadata.uid ?? ''}). The object might have been deleted and then recreated`);
      }
      if (preconditions?.resourceVersion && preconditions.resourceVersion !== current.metadata.resourceVersion) {
        throw conflict(
          byKind,
          name,
          `the ResourceVersion in the precondition (${preconditions.resourceVersion}) does not match the ResourceVersion in record (${current.metadata.resourceVersion ?? ''}). The object might have been modified`,
        );
      }
      const admission = await this.admitWrite('DELETE', context, '', undefined, current, name);
      await this.validateWrite(admission, context);
      // The garbage collector's finalizers follow the delete's propagation options (even on a repeated
      // delete: deletions here have no grace period, so upstream lets the options change them).
      const propagation = deletionFinalizers(current.metadata.finalizers, options, this.resource.strategy.defaultGarbageCollectionPolicy);
      if (propagation) {
        if (propagation.length > 0) current.metadata.finalizers = propagation;
        else delete current.metadata.finalizers;
      }
      const keep =
        (current.metadata.finalizers ?? []).length > 0 ||
        this.resource.strategy.beforeDelete?.(current, this.strategyContext(context)) === 'keep';
      try {
        if (keep) {
          if (current.metadata.deletionTimestamp && !this.resource.strategy.beforeDelete && !propagation) {
            return { bytes: currentBytes, object: current, deleted: false };
          }
          // Graceful deletion: mark it and let whoever owns the finalizers finish the job. Controllers must
          // notice the change of intent, so the first mark bumps generation (upstream's markAsDeleting).
          if (!current.metadata.deletionTimestamp && (current.metadata.generation ?? 0) > 0) current.metadata.generation! += 1;
          current.metadata.deletionTimestamp ??= nowTimestamp();
          current.metadata.deletionGracePeriodSeconds ??= 0;
          const bytes = encodeForStorage(current);
          if (context.dryRun) return { bytes: stampResourceVersion(bytes, currentKv.modRevision), object: current, deleted: false };
          if (bytes === currentKv.value) return { bytes: currentBytes, object: current, deleted: false };
          const stored = await this.storage.update(key, bytes, currentKv.modRevision);
          return { ...this.result(stored), deleted: false };
        }
        if (context.dryRun) return { bytes: currentBytes, object: current, deleted: true };
        const deleted = await this.storage.delete(key, currentKv.modRevision);
        return { bytes: stampResourceVersion(deleted.value, deleted.modRevision), object: current, deleted: true };
      } catch (error) {
        if (error instanceof ConflictError && attempt < MAX_CONFLICT_RETRIES) continue;
        if (error instanceof ConflictError) throw conflict(this.qualified, name, OBJECT_MODIFIED);
        if (error instanceof NotFoundError) throw notFound(this.qualified, name);
        throw error;
      }
    }
  }
}

/** Copies the value at a dotted path from one object to another (deleting it when absent in the source). */
function copyPath(from: KubeObject, to: KubeObject, path: string): void {
  const parts = path.split('.');
  let source: unknown = from;
  let target: Record<string, unknown> = to;
  for (let index = 0; index < parts.length - 1; index++) {
    source = isObject(source) ? source[parts[index]] : undefined;
    if (!isObject(target[parts[index]])) target[parts[index]] = {};
    target = target[parts[index]] as Record<string, unknown>;
  }
  const last = parts[parts.length - 1];
  const value = isObject(source) ? source[last] : undefined;
  if (value === undefined) delete target[last];
  else target[last] = value;
}

/** JSON with object keys sorted at every level, as Go marshals the maps a patch produces. */
function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    isObject(item) ? Object.fromEntries(Object.keys(item).sort().map((key) => [key, item[key]])) : item,
  );
}

function generateName(prefix: string): string {
  let suffix = '';
  for (let index = 0; index < GENERATE_NAME_SUFFIX_LENGTH; index++) {
    suffix += GENERATE_NAME_ALPHABET[Math.floor(Math.random() * GENERATE_NAME_ALPHABET.length)];
  }
  // Upstream truncates the prefix so the result stays within 63 characters.
  return prefix.slice(0, 58) + suffix;
}

function sameObject(next: KubeObject, current: KubeObject): boolean {
  const { resourceVersion: _next, ...nextMeta } = next.metadata;
  const { resourceVersion: _current, ...currentMeta } = current.metadata;
  return deepEqual({ ...next, metadata: nextMeta }, { ...current, metadata: currentMeta });
}

function specChanged(next: KubeObject, current: KubeObject): boolean {
  const strip = (object: KubeObject) => {
    const { metadata: _metadata, status: _status, ...rest } = object;
    return rest;
  };
  return !deepEqual(strip(next), strip(current));
}

export function isStatusError(error: unknown): error is StatusError {
  return error instanceof StatusError;
}
