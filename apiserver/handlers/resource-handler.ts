// Dispatch of a resource request to its verb handler. Everything here is generic over the declaration.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestInfo } from '../request/request-info.js';
import type { ObjectNegotiation } from '../request/negotiation.js';
import { negotiateObject, prettyPrint } from '../request/negotiation.js';
import { decodeObjectBody, parseJson, readBody } from '../request/body.js';
import { patchBodyProblems } from '../request/strict-decoding.js';
import { setWarnings, writeBytes, writeJson } from '../request/response.js';
import type { FieldError } from '../request/status.js';
import { badRequest, invalidRequest, methodNotSupported, notAcceptable, pathNotFound, StatusError } from '../request/status.js';
import type { KubeObject, UserInfo } from '../registry/object.js';
import { isObject } from '../registry/object.js';
import type { DeleteOptions, FieldValidation, GenericStore, WriteContext } from '../registry/store.js';
import type { SubresourceDefinition, Verb } from '../registry/resource.js';
import { apiVersionOf } from '../registry/resource.js';
import type { IncludeObject } from '../registry/table.js';
import { columnDefinitions, columnsOf, partialObjectMetadata, tableRow } from '../registry/table.js';
import { tableRowsJson } from '../registry/table-rows.js';
import { applyConfiguration, managerFromUserAgent } from '../registry/managed-fields.js';
import type { PatchMeta } from '../registry/strategic-merge.js';
import { parseListOptions } from './list-options.js';
import { escapeFieldValue, exactMatchValue, parseFieldSelector } from '../registry/fields.js';
import { listBytes, listObjects } from './list.js';
import type { WatchOutput, WatchRegistry } from './watch.js';
import { serveWatch } from './watch.js';
import { applyPatch, duplicateKeysMessage, parsePatch, patchTypeOf } from './patch.js';
import { handleViewSubresource } from './view-subresource.js';
import { attributesFor, runMutating, runValidating } from '../admission/run.js';
import { queryBool } from '../request/query-bool.js';
import { connectSubresourceOf, serveConnect } from './connect.js';

export interface ResourceEntry {
  store: GenericStore;
  /** Strategic-merge metadata for built-in kinds; undefined means SMP is refused with 415. */
  patchMeta?: PatchMeta;
}

/** The resources of the server a request is served by, for subresources that touch other kinds. */
export type ResourceLookup = (group: string, version: string, plural: string) => ResourceEntry | undefined;

export interface ResourceRequest {
  req: IncomingMessage;
  res: ServerResponse;
  info: RequestInfo;
  query: URLSearchParams;
  user: UserInfo;
  warnings: string[];
  entry: ResourceEntry;
  watches: WatchRegistry;
  maxBodyBytes: number;
  lookup?: ResourceLookup;
  /** Audit annotations of this request (admission plugins add to them). */
  auditAnnotations?: Record<string, string>;
}

export async function handleResourceRequest(request: ResourceRequest): Promise<void> {
  const { info, entry } = request;
  const resource = entry.store.resource;
  const subresource = info.subresource;
  if (subresource && !resource.subresources[subresource]) throw pathNotFound();
  if (resource.namespaced && !info.namespace && info.name) throw pathNotFound();
  if (!resource.namespaced && info.namespace && info.resource !== 'namespaces') throw pathNotFound();
  const connect = connectSubresourceOf(entry, info);
  if (connect) return serveConnect({ req: request.req, res: request.res, info, query: request.query, user: request.user, entry, lookup: request.lookup }, connect);
  const verb = info.verb as Verb;
  const allowed = subresource ? resource.subresources[subresource].verbs : resource.verbs;
  if (!allowed.includes(verb)) throw methodNotSupported({ group: resource.group, resource: resource.plural }, verb);
  if (resource.deprecationWarning) request.warnings.push(resource.deprecationWarning);
  // The all-namespaces path of a namespaced kind only lists and watches (upstream registers nothing else there).
  if (resource.namespaced && !info.namespace && verb !== 'list' && verb !== 'watch') throw methodNotSupported({ group: resource.group, resource: resource.plural }, verb);
  if (subresource && resource.subresources[subresource].create && verb === 'create') {
    return createThroughSubresource(request, resource.subresources[subresource]);
  }
  if (subresource && resource.subresources[subresource].view) {
    return handleViewSubresource(request, resource.subresources[subresource], () => writeContext(request));
  }
  switch (verb) {
    case 'get':
      return get(request);
    case 'list':
      return list(request);
    case 'watch':
      return watch(request);
    case 'create':
      return create(request);
    case 'update':
      return update(request);
    case 'patch':
      return patch(request);
    case 'delete':
      return remove(request);
    case 'deletecollection':
      return removeCollection(request);
    default:
      throw methodNotSupported({ group: resource.group, resource: resource.plural }, info.verb);
  }
}

function negotiation(request: ResourceRequest, allowTable: boolean): ObjectNegotiation {
  return negotiateObject(request.req.headers.accept, allowTable);
}

function includeObject(query: URLSearchParams): IncludeObject {
  const value = query.get('includeObject');
  if (value === null || value === '') return 'Metadata';
  if (value === 'None' || value === 'Metadata' || value === 'Object') return value;
  // Upstream's ValidateTableOptions, reported as a 400 by the Table transform.
  throw badRequest(`Unable to convert to Table as requested: includeObject: Invalid value: ${JSON.stringify(value)}: must be 'Metadata', 'Object', 'None', or empty`);
}

function metaApiVersion(negotiated: ObjectNegotiation): string {
  return `meta.k8s.io/${negotiated.transformVersion ?? 'v1'}`;
}

/** One Table; upstream serializes columnDefinitions as null when headers are suppressed (NoHeaders). */
function table(request: ResourceRequest, negotiated: ObjectNegotiation, objects: KubeObject[], metadata: Record<string, unknown>, withColumns = true): Record<string, unknown> {
  const columns = columnsOf(request.entry.store.resource);
  const include = includeObject(request.query);
  const apiVersion = metaApiVersion(negotiated);
  return {
    kind: 'Table',
    apiVersion,
    metadata,
    columnDefinitions: withColumns ? columnDefinitions(columns) : null,
    rows: objects.map((object) => tableRow(columns, object, include, apiVersion)),
  };
}

function notAcceptablePartial(message: string): StatusError {
  return new StatusError(406, 'NotAcceptable', message);
}

function respond(request: ResourceRequest, statusCode: number, bytes: string, negotiated: ObjectNegotiation): void {
  setWarnings(request.res, request.warnings);
  // Go's json.MarshalIndent with two spaces, as upstream's pretty serializer writes it.
  const body = negotiated.format === 'json' && prettyPrint(request.query, request.req.headers['user-agent']) ? JSON.stringify(JSON.parse(bytes), null, 2) : bytes;
  writeBytes(request.res, statusCode, body, negotiated.format, request.req.method);
}

async function get(request: ResourceRequest): Promise<void> {
  const negotiated = negotiation(request, true);
  const { store } = request.entry;
  const bytes = await store.getBytes(request.info.namespace, request.info.name);
  if (negotiated.table) {
    const object = JSON.parse(bytes) as KubeObject;
    respond(request, 200, JSON.stringify(table(request, negotiated, [object], { resourceVersion: object.metadata.resourceVersion })), negotiated);
    return;
  }
  if (negotiated.partialMetadata) {
    if (negotiated.partialKind === 'PartialObjectMetadataList') throw notAcceptablePartial('you requested PartialObjectMetadataList, but the requested object is not a list');
    respond(request, 200, JSON.stringify(partialObjectMetadata(JSON.parse(bytes) as KubeObject, metaApiVersion(negotiated))), negotiated);
    return;
  }
  respond(request, 200, bytes, negotiated);
}

function allowedFields(store: GenericStore): Set<string> {
  const fields = new Set(['metadata.name', ...Object.keys(store.resource.selectableFields)]);
  if (store.resource.namespaced) fields.add('metadata.namespace');
  return fields;
}

async function list(request: ResourceRequest): Promise<void> {
  const negotiated = negotiation(request, true);
  const { store } = request.entry;
  const options = parseListOptions(request.query, allowedFields(store), false);
  if (negotiated.partialKind === 'PartialObjectMetadata') throw notAcceptablePartial('you requested PartialObjectMetadata, but the requested object is a list');
  const result = await listObjects(store, request.info.namespace, options);
  result.items = await store.toServed(result.items);
  if (negotiated.table || negotiated.partialMetadata) {
    const metadata: Record<string, unknown> = { resourceVersion: String(result.revision) };
    if (result.continueToken) metadata.continue = result.continueToken;
    if (result.remainingItemCount !== undefined) metadata.remainingItemCount = result.remainingItemCount;
    if (negotiated.table) {
      // Rows come from a per-object cache: `kubectl get` on a big collection parses nothing twice.
      const columns = columnsOf(store.resource);
      const apiVersion = metaApiVersion(negotiated);
      const head = JSON.stringify({ kind: 'Table', apiVersion, metadata, columnDefinitions: columnDefinitions(columns) });
      respond(request, 200, `${head.slice(0, -1)},"rows":[${tableRowsJson(result.items, columns, includeObject(request.query), apiVersion)}]}`, negotiated);
      return;
    }
    const objects = result.items.map((item) => JSON.parse(item.bytes) as KubeObject);
    const document = negotiated.table
      ? table(request, negotiated, objects, metadata)
      : { kind: 'PartialObjectMetadataList', apiVersion: metaApiVersion(negotiated), metadata, items: objects.map((object) => partialObjectMetadata(object, metaApiVersion(negotiated))) };
    respond(request, 200, JSON.stringify(document), negotiated);
    return;
  }
  respond(request, 200, listBytes(store.resource.listKind, apiVersionOf(store.resource), result), negotiated);
}

async function watch(request: ResourceRequest): Promise<void> {
  const negotiated = negotiation(request, true);
  // YAML has no stream framing: upstream answers a watch asking only for it 406 (the Status itself in YAML).
  if (negotiated.format === 'yaml') throw notAcceptable(['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']);
  const { store } = request.entry;
  const options = parseListOptions(request.query, allowedFields(store), true);
  if (request.info.name) {
    // A watch of one object (/watch/…/<name>) is a watch with that name as field selector, as upstream does.
    if (options.fieldSelector.empty) options.fieldSelector = parseFieldSelector(`metadata.name=${escapeFieldValue(request.info.name)}`);
    else if (exactMatchValue(options.fieldSelector, 'metadata.name') !== request.info.name) throw badRequest("fieldSelector metadata.name doesn't match requested name");
  }
  if (negotiated.table) includeObject(request.query); // a bad includeObject fails the request, not the stream
  let transform: WatchOutput['transform'];
  if (negotiated.table) {
    transform = (object, first) => table(request, negotiated, [object], { resourceVersion: object.metadata.resourceVersion }, first);
  } else if (negotiated.partialMetadata) {
    transform = (object) => partialObjectMetadata(object, metaApiVersion(negotiated));
  }
  setWarnings(request.res, request.warnings);
  await serveWatch(request.req, request.res, store, request.info.namespace, options, { transform }, request.watches);
}

const OPTIONS_KIND: Record<string, string> = { create: 'CreateOptions', update: 'UpdateOptions', patch: 'PatchOptions', delete: 'DeleteOptions', deletecollection: 'DeleteOptions' };

/** Upstream's ValidateCreate/Update/PatchOptions: every problem at once, as one 422 naming the options kind. */
function writeContext(request: ResourceRequest, options: { dryRun?: string[]; errors?: FieldError[] } = {}): WriteContext {
  const query = request.query;
  const dryRunValues = options.dryRun ?? query.getAll('dryRun');
  const validation = query.get('fieldValidation') ?? '';
  const fieldManager = query.get('fieldManager') ?? '';
  const errors: FieldError[] = [...(options.errors ?? [])];
  if (request.info.verb !== 'delete' && request.info.verb !== 'deletecollection') {
    if (fieldManager.length > 128) errors.push({ field: 'fieldManager', type: 'FieldValueTooLong', detail: 'may not be more than 128 bytes' });
  }
  if (dryRunValues.some((value) => value !== 'All')) errors.push({ field: 'dryRun', type: 'FieldValueNotSupported', value: dryRunValues, supported: ['All'] });
  if (request.info.verb !== 'delete' && request.info.verb !== 'deletecollection' && !['', 'Strict', 'Warn', 'Ignore'].includes(validation)) {
    errors.push({ field: 'fieldValidation', type: 'FieldValueNotSupported', value: validation, supported: ['', 'Ignore', 'Strict', 'Warn'] });
  }
  if (errors.length > 0) throw invalidRequest(errors, OPTIONS_KIND[request.info.verb]);
  const admissionOptions: Record<string, unknown> = { kind: OPTIONS_KIND[request.info.verb] ?? 'CreateOptions', apiVersion: 'meta.k8s.io/v1' };
  if (dryRunValues.length > 0) admissionOptions.dryRun = dryRunValues;
  if (fieldManager) admissionOptions.fieldManager = fieldManager;
  if (validation) admissionOptions.fieldValidation = validation;
  return {
    admissionOptions,
    auditAnnotations: request.auditAnnotations,
    user: request.user,
    namespace: request.info.namespace,
    warnings: request.warnings,
    dryRun: dryRunValues.length > 0,
    fieldManager: fieldManager || managerFromUserAgent(request.req.headers['user-agent']),
    fieldValidation: (validation || 'Warn') as FieldValidation,
  };
}

async function readObject(request: ResourceRequest, context?: WriteContext): Promise<KubeObject> {
  const body = await readBody(request.req, request.maxBodyBytes);
  // Repeated keys matter only when they are reported (fieldValidation Strict or Warn).
  const strict = context && context.fieldValidation !== 'Ignore' ? { report: undefined } : undefined;
  const object = decodeObjectBody(body, request.req.headers['content-type'], strict) as KubeObject;
  if (strict?.report) context!.decodeReport = strict.report;
  return object;
}

async function create(request: ResourceRequest): Promise<void> {
  if (request.info.name && !request.info.subresource) throw methodNotSupported({ group: request.entry.store.resource.group, resource: request.entry.store.resource.plural }, 'create');
  const negotiated = negotiation(request, false);
  const context = writeContext(request);
  const object = await readObject(request, context);
  const result = await request.entry.store.create(object, context);
  respond(request, 201, result.bytes, negotiated);
}

/** POST to an action subresource (pods/binding, pods/eviction): the declaration decides what happens. */
async function createThroughSubresource(request: ResourceRequest, subresource: SubresourceDefinition): Promise<void> {
  const negotiated = negotiation(request, false);
  const context = writeContext(request);
  const body = await readObject(request);
  const { store } = request.entry;
  // The action is admitted as a whole (CREATE of the subresource); its inner writes are not admitted again.
  const chain = store.admission;
  if (chain && chain.plugins.length > 0) {
    const attributes = attributesFor({ operation: 'CREATE', resource: store.resource, subresource: request.info.subresource, namespace: request.info.namespace, name: request.info.name, object: body, options: context.admissionOptions, dryRun: context.dryRun, user: context.user });
    const admissionContext = { warnings: context.warnings, auditAnnotations: (context.auditAnnotations ??= {}) };
    await runMutating(chain, attributes, admissionContext);
    await runValidating(chain, attributes, admissionContext);
  }
  const result = await subresource.create!({
    store,
    namespace: request.info.namespace,
    name: request.info.name,
    body,
    context: { ...context, skipAdmission: true },
    resource: (group, version, plural) => request.lookup?.(group, version, plural)?.store,
  });
  respond(request, result.code, JSON.stringify(result.body), negotiated);
}

async function update(request: ResourceRequest): Promise<void> {
  const negotiated = negotiation(request, false);
  const context = writeContext(request);
  const object = await readObject(request, context);
  const result = await request.entry.store.update(request.info.name, object, context, request.info.subresource);
  respond(request, result.created ? 201 : 200, result.bytes, negotiated);
}

async function patch(request: ResourceRequest): Promise<void> {
  const negotiated = negotiation(request, false);
  const { store, patchMeta } = request.entry;
  const type = patchTypeOf(request.req.headers['content-type'], patchMeta !== undefined);
  const force = queryBool(request.query.get('force'));
  const patchErrors: FieldError[] = [];
  if (type === 'apply') {
    if (!request.query.get('fieldManager')) patchErrors.push({ field: 'fieldManager', type: 'FieldValueRequired', detail: 'is required for apply patch' });
  } else if (force !== undefined) {
    patchErrors.push({ field: 'force', type: 'FieldValueForbidden', detail: 'may not be specified for non-apply patch' });
  }
  const context = writeContext(request, { errors: patchErrors });
  const body = await readBody(request.req, request.maxBodyBytes);
  const parsed = parsePatch(type, body);
  if (type !== 'apply' && context.fieldValidation !== 'Ignore') context.decodeReport = patchBodyProblems(type, body.toString('utf8'), parsed.document);
  if (type === 'apply') {
    // upstream's checkName: an applied configuration names the object it is sent to.
    const metadata = (parsed.document as { metadata?: unknown }).metadata;
    const name = isObject(metadata) && typeof metadata.name === 'string' ? metadata.name : '';
    if (name !== request.info.name) throw badRequest(`the name of the object (${name}) does not match the name on the URL (${request.info.name})`);
  }
  const result = await store.guaranteedUpdate(
    request.info.name,
    context,
    request.info.subresource,
    undefined,
    (current) => {
      if (type === 'apply') {
        const config = structuredClone(parsed.document) as Record<string, unknown>;
        const object = applyConfiguration(store.resource, current, config, { manager: context.fieldManager, force: force === true, subresource: request.info.subresource });
        checkDuplicateKeys(parsed.duplicateKeys ?? [], context);
        return object;
      }
      return applyPatch(current!, parsed, patchMeta);
    },
    { createIfMissing: type === 'apply', forPatch: true, applied: type === 'apply' },
  );
  respond(request, result.created ? 201 : 200, result.bytes, negotiated);
}

/** Upstream's strict re-decode of an apply body, after a successful apply: repeated keys fail (Strict) or warn (Warn). */
function checkDuplicateKeys(duplicateKeys: string[], context: WriteContext): void {
  if (duplicateKeys.length === 0 || context.fieldValidation === 'Ignore') return;
  const message = duplicateKeysMessage(duplicateKeys);
  if (context.fieldValidation === 'Strict') throw badRequest(`error strict decoding YAML: ${message}`);
  // Upstream splits a YAML strict-decoding error into one warning per repeated key.
  context.warnings.push(...duplicateKeys);
}

/** DeleteOptions from the body or, when there is none, from the query (upstream reads one or the other), validated. */
async function deleteOptions(request: ResourceRequest): Promise<{ options: DeleteOptions; context: WriteContext }> {
  const body = await readBody(request.req, request.maxBodyBytes);
  let options: Record<string, unknown> = {};
  if (body.length > 0) {
    const decoded = parseJson(body);
    if (!isObject(decoded)) throw badRequest('DeleteOptions must be a JSON object');
    options = decoded;
  } else {
    const query = request.query;
    const grace = query.get('gracePeriodSeconds');
    if (grace !== null && grace !== '') options.gracePeriodSeconds = Number(grace);
    const propagation = query.get('propagationPolicy');
    if (propagation) options.propagationPolicy = propagation;
    const orphan = queryBool(query.get('orphanDependents'));
    if (orphan !== undefined) options.orphanDependents = orphan;
    const dryRun = query.getAll('dryRun');
    if (dryRun.length > 0) options.dryRun = dryRun;
  }
  if (options.gracePeriodSeconds !== undefined && (typeof options.gracePeriodSeconds !== 'number' || Number.isNaN(options.gracePeriodSeconds))) {
    throw badRequest('gracePeriodSeconds must be an integer');
  }
  if (options.orphanDependents !== undefined && options.orphanDependents !== null && typeof options.orphanDependents !== 'boolean') throw badRequest('orphanDependents must be a boolean');
  if (options.orphanDependents === null) delete options.orphanDependents;
  if (options.propagationPolicy === null) delete options.propagationPolicy;
  const errors: FieldError[] = [];
  // Upstream's ValidateDeleteOptions.
  if (options.orphanDependents !== undefined && options.propagationPolicy !== undefined) {
    errors.push({ field: 'propagationPolicy', type: 'FieldValueInvalid', value: options.propagationPolicy, detail: 'orphanDependents and deletionPropagation cannot be both set' });
  }
  if (options.propagationPolicy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(String(options.propagationPolicy))) {
    errors.push({ field: 'propagationPolicy', type: 'FieldValueNotSupported', value: options.propagationPolicy, supported: ['Foreground', 'Background', 'Orphan', 'nil'] });
  }
  const dryRun = Array.isArray(options.dryRun) ? options.dryRun.map(String) : [];
  const context = writeContext(request, { dryRun, errors });
  context.admissionOptions = { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1', ...options };
  return { options: options as DeleteOptions, context };
}

async function remove(request: ResourceRequest): Promise<void> {
  const negotiated = negotiation(request, false);
  const { options, context } = await deleteOptions(request);
  const { store } = request.entry;
  const result = await store.delete(request.info.name, options, context);
  // Upstream answers 202 only when the object remains and the client asked for cascading by orphanDependents=false.
  const code = !result.deleted && !context.dryRun && options.orphanDependents === false ? 202 : 200;
  respond(request, code, result.deleted && !store.resource.returnDeletedObject ? deletedStatus(store, result.object) : result.bytes, negotiated);
}

/**
 * Upstream's finalizeDelete for stores without ReturnDeletedObject: a Success Status that tells the client the
 * object is gone, not waiting for finalizers. Its details name the resource (plural) in `kind`, as upstream does.
 */
function deletedStatus(store: GenericStore, object: KubeObject): string {
  const details: Record<string, string> = { name: object.metadata.name ?? '' };
  if (store.resource.group) details.group = store.resource.group;
  details.kind = store.resource.plural;
  if (object.metadata.uid) details.uid = object.metadata.uid;
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details });
}

/**
 * Upstream's Store.DeleteCollection: deletes what the list selects (only the requested page when a limit
 * is given) and answers with that list as it was listed, not with the deleted states.
 */
async function removeCollection(request: ResourceRequest): Promise<void> {
  const negotiated = negotiation(request, false);
  const { store } = request.entry;
  const { options, context } = await deleteOptions(request);
  const listOptions = parseListOptions(request.query, allowedFields(store), false);
  const result = await listObjects(store, request.info.namespace, listOptions.limit > 0 ? listOptions : { ...listOptions, continueToken: undefined });
  result.items = await store.toServed(result.items);
  for (const item of result.items) {
    try {
      await store.delete(item.name, options, { ...context, namespace: item.namespace });
    } catch (error) {
      if (error instanceof StatusError && error.code === 404) continue;
      throw error;
    }
  }
  respond(request, 200, listBytes(store.resource.listKind, apiVersionOf(store.resource), result), negotiated);
}

export function writeObject(res: ServerResponse, statusCode: number, value: unknown): void {
  writeJson(res, statusCode, value);
}
