// Dispatch of a resource request to its verb handler. Everything here is generic over the declaration.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestInfo } from '../request/request-info.js';
import type { ObjectNegotiation } from '../request/negotiation.js';
import { negotiateObject } from '../request/negotiation.js';
import { decodeObjectBody, parseJson, readBody } from '../request/body.js';
import { setWarnings, writeBytes, writeJson } from '../request/response.js';
import { badRequest, invalidRequest, methodNotSupported, pathNotFound, StatusError } from '../request/status.js';
import type { KubeObject, UserInfo } from '../registry/object.js';
import { isObject } from '../registry/object.js';
import type { DeleteOptions, FieldValidation, GenericStore, WriteContext } from '../registry/store.js';
import type { Verb } from '../registry/resource.js';
import { apiVersionOf } from '../registry/resource.js';
import type { IncludeObject } from '../registry/table.js';
import { columnDefinitions, columnsOf, tableRow } from '../registry/table.js';
import { managerFromUserAgent } from '../registry/managed-fields.js';
import type { PatchMeta } from '../registry/strategic-merge.js';
import { strategicMerge, jsonMergePatch } from '../registry/strategic-merge.js';
import { parseListOptions } from './list-options.js';
import { listBytes, listObjects } from './list.js';
import type { WatchRegistry } from './watch.js';
import { serveWatch } from './watch.js';
import { applyPatch, parsePatch, patchTypeOf } from './patch.js';

export interface ResourceEntry {
  store: GenericStore;
  /** Strategic-merge metadata for built-in kinds; undefined means SMP is refused with 415. */
  patchMeta?: PatchMeta;
}

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
}

export async function handleResourceRequest(request: ResourceRequest): Promise<void> {
  const { info, entry } = request;
  const resource = entry.store.resource;
  const subresource = info.subresource;
  if (subresource && !resource.subresources[subresource]) throw pathNotFound();
  if (resource.namespaced && !info.namespace && info.name) throw pathNotFound();
  if (!resource.namespaced && info.namespace && info.resource !== 'namespaces') throw pathNotFound();
  const verb = info.verb as Verb;
  const allowed = subresource ? resource.subresources[subresource].verbs : resource.verbs;
  if (!allowed.includes(verb)) throw methodNotSupported({ group: resource.group, resource: resource.plural }, verb);
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
  throw invalidRequest([{ field: 'includeObject', type: 'FieldValueNotSupported', value, supported: ['Metadata', 'None', 'Object'] }]);
}

function tableBytes(request: ResourceRequest, objects: KubeObject[], metadata: Record<string, unknown>, withColumns = true): string {
  const columns = columnsOf(request.entry.store.resource);
  const include = includeObject(request.query);
  const table: Record<string, unknown> = { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata };
  if (withColumns) table.columnDefinitions = columnDefinitions(columns);
  table.rows = objects.map((object) => tableRow(columns, object, include));
  return JSON.stringify(table);
}

function respond(request: ResourceRequest, statusCode: number, bytes: string, negotiated: ObjectNegotiation): void {
  setWarnings(request.res, request.warnings);
  writeBytes(request.res, statusCode, bytes, negotiated.format, request.req.method);
}

async function get(request: ResourceRequest): Promise<void> {
  const negotiated = negotiation(request, true);
  const { store } = request.entry;
  const bytes = await store.getBytes(request.info.namespace, request.info.name);
  if (negotiated.table) {
    const object = JSON.parse(bytes) as KubeObject;
    respond(request, 200, tableBytes(request, [object], { resourceVersion: object.metadata.resourceVersion }), negotiated);
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
  const result = await listObjects(store, request.info.namespace, options);
  if (negotiated.table) {
    const metadata: Record<string, unknown> = { resourceVersion: String(result.revision) };
    if (result.continueToken) metadata.continue = result.continueToken;
    if (result.remainingItemCount !== undefined) metadata.remainingItemCount = result.remainingItemCount;
    const objects = result.items.map((item) => JSON.parse(item.bytes) as KubeObject);
    respond(request, 200, tableBytes(request, objects, metadata), negotiated);
    return;
  }
  respond(request, 200, listBytes(store.resource.listKind, apiVersionOf(store.resource), result), negotiated);
}

async function watch(request: ResourceRequest): Promise<void> {
  const negotiated = negotiation(request, true);
  const { store } = request.entry;
  const options = parseListOptions(request.query, allowedFields(store), true);
  const include = includeObject(request.query);
  const columns = columnsOf(store.resource);
  const table = negotiated.table
    ? (object: KubeObject, withColumns: boolean) => {
        const result: Record<string, unknown> = { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: object.metadata.resourceVersion } };
        if (withColumns) result.columnDefinitions = columnDefinitions(columns);
        result.rows = [tableRow(columns, object, include)];
        return result;
      }
    : undefined;
  await serveWatch(request.req, request.res, store, request.info.namespace, options, { table }, request.watches);
}

function writeContext(request: ResourceRequest): WriteContext {
  const query = request.query;
  const dryRunValues = query.getAll('dryRun');
  for (const value of dryRunValues) {
    if (value !== 'All') throw invalidRequest([{ field: 'dryRun', type: 'FieldValueNotSupported', value, supported: ['All'] }]);
  }
  const validation = query.get('fieldValidation') || 'Warn';
  if (!['Strict', 'Warn', 'Ignore'].includes(validation)) {
    throw badRequest(`fieldValidation: invalid value "${validation}": valid values are "Ignore", "Warn" and "Strict"`);
  }
  const fieldManager = query.get('fieldManager') ?? '';
  if (fieldManager.length > 128) {
    throw invalidRequest([{ field: 'fieldManager', type: 'FieldValueTooLong', detail: 'may not be more than 128 characters' }]);
  }
  return {
    user: request.user,
    namespace: request.info.namespace,
    warnings: request.warnings,
    dryRun: dryRunValues.length > 0,
    fieldManager: fieldManager || managerFromUserAgent(request.req.headers['user-agent']),
    fieldValidation: validation as FieldValidation,
  };
}

async function readObject(request: ResourceRequest): Promise<KubeObject> {
  const body = await readBody(request.req, request.maxBodyBytes);
  return decodeObjectBody(body, request.req.headers['content-type']) as KubeObject;
}

async function create(request: ResourceRequest): Promise<void> {
  if (request.info.name && !request.info.subresource) throw methodNotSupported({ group: request.entry.store.resource.group, resource: request.entry.store.resource.plural }, 'create');
  const negotiated = negotiation(request, false);
  const context = writeContext(request);
  const object = await readObject(request);
  const result = await request.entry.store.create(object, context);
  respond(request, 201, result.bytes, negotiated);
}

async function update(request: ResourceRequest): Promise<void> {
  const negotiated = negotiation(request, false);
  const context = writeContext(request);
  const object = await readObject(request);
  const result = await request.entry.store.update(request.info.name, object, context, request.info.subresource);
  respond(request, result.created ? 201 : 200, result.bytes, negotiated);
}

async function patch(request: ResourceRequest): Promise<void> {
  const negotiated = negotiation(request, false);
  const { store, patchMeta } = request.entry;
  const type = patchTypeOf(request.req.headers['content-type'], patchMeta !== undefined);
  const context = writeContext(request);
  const body = await readBody(request.req, request.maxBodyBytes);
  const parsed = parsePatch(type, body);
  if (type === 'apply') {
    if (!request.query.get('fieldManager')) {
      throw new StatusError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', {
        group: 'meta.k8s.io',
        kind: 'PatchOptions',
        causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }],
      });
    }
    const force = request.query.get('force');
    if (force !== null && force !== 'true' && force !== 'false') throw badRequest(`force: invalid value "${force}"`);
  }
  const result = await store.guaranteedUpdate(
    request.info.name,
    context,
    request.info.subresource,
    undefined,
    (current) => {
      if (type === 'apply') {
        const applied = structuredClone(parsed.document) as KubeObject;
        if (!current) return applied;
        return (patchMeta ? strategicMerge(current, applied, patchMeta) : jsonMergePatch(current, applied)) as KubeObject;
      }
      return applyPatch(current!, parsed, patchMeta);
    },
    { createIfMissing: type === 'apply', forPatch: true },
  );
  respond(request, result.created ? 201 : 200, result.bytes, negotiated);
}

async function deleteOptions(request: ResourceRequest): Promise<DeleteOptions> {
  const body = await readBody(request.req, request.maxBodyBytes);
  let options: Record<string, unknown> = {};
  if (body.length > 0) {
    const decoded = parseJson(body);
    if (!isObject(decoded)) throw badRequest('DeleteOptions must be a JSON object');
    options = decoded;
  }
  const query = request.query;
  const grace = query.get('gracePeriodSeconds');
  if (grace !== null && grace !== '') options.gracePeriodSeconds = Number(grace);
  const propagation = query.get('propagationPolicy');
  if (propagation) options.propagationPolicy = propagation;
  if (options.propagationPolicy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(String(options.propagationPolicy))) {
    throw invalidRequest([{ field: 'propagationPolicy', type: 'FieldValueNotSupported', value: options.propagationPolicy, supported: ['Foreground', 'Background', 'Orphan'] }]);
  }
  if (options.gracePeriodSeconds !== undefined && (typeof options.gracePeriodSeconds !== 'number' || Number.isNaN(options.gracePeriodSeconds))) {
    throw badRequest('gracePeriodSeconds must be an integer');
  }
  return options as DeleteOptions;
}

async function remove(request: ResourceRequest): Promise<void> {
  const negotiated = negotiation(request, false);
  const options = await deleteOptions(request);
  const context = writeContext(request);
  if (Array.isArray(options.dryRun) && options.dryRun.includes('All')) context.dryRun = true;
  const result = await request.entry.store.delete(request.info.name, options, context);
  respond(request, 200, result.bytes, negotiated);
}

async function removeCollection(request: ResourceRequest): Promise<void> {
  const negotiated = negotiation(request, false);
  const { store } = request.entry;
  const options = await deleteOptions(request);
  const context = writeContext(request);
  const listOptions = parseListOptions(request.query, allowedFields(store), false);
  const result = await listObjects(store, request.info.namespace, { ...listOptions, limit: 0, continueToken: undefined });
  const deleted: string[] = [];
  for (const item of result.items) {
    const object = JSON.parse(item.bytes) as KubeObject;
    try {
      const outcome = await store.delete(object.metadata.name!, options, { ...context, namespace: object.metadata.namespace ?? '' });
      deleted.push(outcome.bytes);
    } catch (error) {
      if (error instanceof StatusError && error.code === 404) continue;
      throw error;
    }
  }
  const bytes = `{"kind":${JSON.stringify(store.resource.listKind)},"apiVersion":${JSON.stringify(apiVersionOf(store.resource))},"metadata":{},"items":[${deleted.join(',')}]}`;
  respond(request, 200, bytes, negotiated);
}

export function writeObject(res: ServerResponse, statusCode: number, value: unknown): void {
  writeJson(res, statusCode, value);
}
