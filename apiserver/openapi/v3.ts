// OpenAPI v3, one document per group-version, built from the declarations and their schemas. kubectl uses
// it for `explain`, for its fieldValidation check (every PATCH operation must list the parameter inline,
// wire reference §5.1) and to pick the client-side-apply patch type (strategic merge only where served).

import type { ResourceDefinition } from '../registry/resource.js';
import { apiVersionOf } from '../registry/resource.js';
import type { JSONSchema } from '../schema/types.js';
import { metaDefinitions } from './meta-definitions.js';
import { publishedSchema } from './published-schema.js';

export interface OpenApiSource {
  group: string;
  version: string;
  resources: ResourceDefinition[];
  /** Shared definitions the resources' schemaName refer to. */
  definitions: Record<string, JSONSchema>;
  /** Whether PATCH offers strategic merge (built-in kinds only). */
  strategicMerge: (resource: ResourceDefinition) => boolean;
}

const REF = '#/components/schemas/';

function param(name: string, type: string, description: string, location = 'query'): Record<string, unknown> {
  return { name, in: location, description, schema: { type, uniqueItems: true } };
}

const DRY_RUN = param('dryRun', 'string', 'When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed');
const FIELD_MANAGER = param('fieldManager', 'string', 'fieldManager is a name associated with the actor or entity that is making these changes.');
const FIELD_VALIDATION = param(
  'fieldValidation',
  'string',
  'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn (default) - Strict',
);
const FORCE = param('force', 'boolean', 'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people.');
const PRETTY = param('pretty', 'string', "If 'true', then the output is pretty printed.");
const LIST_PARAMS = [
  param('allowWatchBookmarks', 'boolean', 'allowWatchBookmarks requests watch events with type "BOOKMARK".'),
  param('continue', 'string', 'The continue option should be set when retrieving more results from the server.'),
  param('fieldSelector', 'string', 'A selector to restrict the list of returned objects by their fields. Defaults to everything.'),
  param('labelSelector', 'string', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
  param('limit', 'integer', 'limit is a maximum number of responses to return for a list call.'),
  param('resourceVersion', 'string', 'resourceVersion sets a constraint on what resource versions a request may be served from.'),
  param('resourceVersionMatch', 'string', 'resourceVersionMatch determines how resourceVersion is applied to list calls.'),
  param('sendInitialEvents', 'boolean', '`sendInitialEvents=true` may be set together with `watch=true`.'),
  param('timeoutSeconds', 'integer', 'Timeout for the list/watch call.'),
  param('watch', 'boolean', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.'),
];

function content(ref: string): Record<string, unknown> {
  return { 'application/json': { schema: { $ref: REF + ref } }, 'application/yaml': { schema: { $ref: REF + ref } } };
}

function operationId(verb: string, resource: ResourceDefinition, suffix = ''): string {
  const group = resource.group ? resource.group.split('.')[0].replace(/^./, (c) => c.toUpperCase()) : 'Core';
  const version = resource.version.replace(/^./, (c) => c.toUpperCase());
  return `${verb}${group}${version}${resource.namespaced ? 'Namespaced' : ''}${resource.kind}${suffix}`;
}

/** Definition name used for a resource's schema in this document. */
export function schemaNameOf(resource: ResourceDefinition): string {
  if (resource.schemaName) return resource.schemaName;
  const reversedGroup = (resource.group || 'core').split('.').reverse().join('.');
  return `${reversedGroup}.${resource.version}.${resource.kind}`;
}

export function buildOpenApiV3(source: OpenApiSource): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const schemas: Record<string, JSONSchema> = {};
  const wanted = new Set<string>(['io.k8s.apimachinery.pkg.apis.meta.v1.Patch', 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions', 'io.k8s.apimachinery.pkg.apis.meta.v1.Status']);
  const available: Record<string, JSONSchema> = { ...metaDefinitions(), ...source.definitions };
  const prefix = source.group ? `/apis/${source.group}/${source.version}` : `/api/${source.version}`;

  for (const resource of source.resources) {
    const gvk = { group: resource.group, version: resource.version, kind: resource.kind };
    const schemaName = schemaNameOf(resource);
    const listName = `${schemaName}List`;
    const kindSchema = (resource.schema && publishedSchema(resource.schema)) ?? available[schemaName] ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    schemas[schemaName] = { ...kindSchema, 'x-kubernetes-group-version-kind': [gvk] };
    schemas[listName] = listSchema(resource, schemaName);
    wanted.add('io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta');
    collectRefs(kindSchema, wanted);

    const base = resource.namespaced ? `${prefix}/namespaces/{namespace}/${resource.plural}` : `${prefix}/${resource.plural}`;
    const pathParams = resource.namespaced ? [param('namespace', 'string', 'object name and auth scope, such as for teams and projects', 'path')] : [];
    const nameParam = param('name', 'string', `name of the ${resource.kind}`, 'path');
    const op = (verb: string, action: string, response: string, extra: Record<string, unknown> = {}, suffix = '') => ({
      operationId: operationId(verb, resource, suffix),
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
      responses: { '200': { description: 'OK', content: content(response) }, '401': { description: 'Unauthorized' } },
      ...extra,
    });
    const verbs = new Set(resource.verbs);
    const collection: Record<string, unknown> = { parameters: [...pathParams, PRETTY] };
    if (verbs.has('list')) collection.get = op('list', 'list', listName, { parameters: LIST_PARAMS });
    if (verbs.has('create')) {
      collection.post = op('create', 'post', schemaName, { parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION], requestBody: { required: true, content: content(schemaName) } });
    }
    if (verbs.has('deletecollection')) collection.delete = op('deletecollection', 'deletecollection', 'io.k8s.apimachinery.pkg.apis.meta.v1.Status', { parameters: LIST_PARAMS });
    paths[base] = collection;
    if (resource.namespaced && verbs.has('list')) {
      paths[`${prefix}/${resource.plural}`] = { get: op('list', 'list', listName, { parameters: LIST_PARAMS }, 'ForAllNamespaces') };
    }
    paths[`${base}/{name}`] = itemOperations(resource, schemaName, op, [...pathParams, nameParam], source.strategicMerge(resource), verbs);
    for (const [name, sub] of Object.entries(resource.subresources)) {
      if (sub.kind && sub.kind !== resource.kind) continue; // other kinds (Scale, Binding …) document themselves
      paths[`${base}/{name}/${name}`] = itemOperations(resource, schemaName, (verb, action, response, extra = {}) => op(verb, action, response, extra, name.replace(/^./, (c) => c.toUpperCase())), [...pathParams, nameParam], source.strategicMerge(resource), new Set(sub.verbs));
    }
  }
  for (const name of closure(wanted, available)) schemas[name] ??= available[name];
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.4' },
    paths,
    components: { schemas: sortKeys(schemas) },
  };
}

function itemOperations(
  resource: ResourceDefinition,
  schemaName: string,
  op: (verb: string, action: string, response: string, extra?: Record<string, unknown>) => Record<string, unknown>,
  pathParams: Record<string, unknown>[],
  strategicMerge: boolean,
  verbs: Set<string>,
): Record<string, unknown> {
  const item: Record<string, unknown> = { parameters: [...pathParams, PRETTY] };
  if (verbs.has('get')) item.get = op('read', 'get', schemaName);
  if (verbs.has('update')) item.put = op('replace', 'put', schemaName, { parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION], requestBody: { required: true, content: content(schemaName) } });
  if (verbs.has('patch')) {
    const patchRef = { schema: { $ref: REF + 'io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } };
    const types: Record<string, unknown> = {
      'application/apply-patch+yaml': patchRef,
      'application/json-patch+json': patchRef,
      'application/merge-patch+json': patchRef,
    };
    if (strategicMerge) types['application/strategic-merge-patch+json'] = patchRef;
    item.patch = op('patch', 'patch', schemaName, { parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION, FORCE], requestBody: { required: true, content: types } });
  }
  if (verbs.has('delete')) {
    item.delete = op('delete', 'delete', schemaName, {
      parameters: [DRY_RUN, param('gracePeriodSeconds', 'integer', 'The duration in seconds before the object should be deleted.'), param('propagationPolicy', 'string', 'Whether and how garbage collection will be performed.')],
      requestBody: { content: content('io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions') },
    });
  }
  void resource;
  return item;
}

function listSchema(resource: ResourceDefinition, itemName: string): JSONSchema {
  return {
    description: `${resource.listKind} is a list of ${resource.kind}`,
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
      items: { type: 'array', description: `List of ${resource.plural}.`, items: { default: {}, allOf: [{ $ref: REF + itemName }] } },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
      metadata: { default: {}, allOf: [{ $ref: REF + 'io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta' }], description: 'Standard list metadata.' },
    },
    'x-kubernetes-group-version-kind': [{ group: resource.group, version: resource.version, kind: resource.listKind }],
  };
}

export function collectRefs(schema: unknown, into: Set<string>): void {
  if (Array.isArray(schema)) {
    for (const item of schema) collectRefs(item, into);
    return;
  }
  if (schema === null || typeof schema !== 'object') return;
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith(REF)) into.add(value.slice(REF.length));
    else if (key !== 'default' && key !== 'example' && key !== 'enum') collectRefs(value, into);
  }
}

function closure(names: Set<string>, available: Record<string, JSONSchema>): Set<string> {
  const result = new Set<string>();
  const pending = [...names];
  while (pending.length) {
    const name = pending.pop()!;
    if (result.has(name) || !available[name]) continue;
    result.add(name);
    const refs = new Set<string>();
    collectRefs(available[name], refs);
    pending.push(...refs);
  }
  return result;
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

export function openApiPathKey(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

export { apiVersionOf };
