// Requests to a view subresource (scale): the view is computed from the stored object on read, and a
// write of the view is turned into an update of the object (conflicts and validation as for updates).

import type { KubeObject } from '../registry/object.js';
import type { SubresourceDefinition } from '../registry/resource.js';
import { jsonMergePatch, strategicMerge } from '../registry/strategic-merge.js';
import { decodeObjectBody, readBody } from '../request/body.js';
import { negotiateObject } from '../request/negotiation.js';
import { setWarnings, writeBytes } from '../request/response.js';
import { badRequest, invalidRequest, methodNotSupported } from '../request/status.js';
import { isObject } from '../registry/object.js';
import { apiVersionOf } from '../registry/resource.js';
import { applyConfiguration } from '../registry/managed-fields.js';
import type { ResourceRequest } from './resource-handler.js';
import { applyPatch, parsePatch, patchTypeOf } from './patch.js';
import type { WriteContext } from '../registry/store.js';
import { queryBool } from '../request/query-bool.js';

/**
 * Server-side apply of the view (a Scale): the replicas it states are applied to the object by the same
 * manager, owned with `subresource: scale`, conflicting with whoever else owns them (upstream's scale handler).
 */
async function applyToView(request: ResourceRequest, view: NonNullable<SubresourceDefinition['view']>, context: () => WriteContext, config: KubeObject): Promise<KubeObject> {
  const { store } = request.entry;
  const resource = store.resource;
  const subresource = resource.subresources[request.info.subresource];
  if (!request.query.get('fieldManager')) {
    throw invalidRequest([{ field: 'fieldManager', type: 'FieldValueRequired', detail: 'is required for apply patch' }], 'PatchOptions');
  }
  const viewVersion = `${subresource.group ? `${subresource.group}/` : ''}${subresource.version ?? resource.version}`;
  if (config.apiVersion !== viewVersion || config.kind !== (subresource.kind ?? resource.kind)) {
    throw badRequest(`invalid object type: ${String(config.apiVersion ?? '/')}, Kind=${String(config.kind ?? '')}`);
  }
  const force = queryBool(request.query.get('force')) === true;
  const writeContext = { ...context(), viaSubresource: request.info.subresource };
  const result = await store.guaranteedUpdate(
    request.info.name,
    writeContext,
    '',
    undefined,
    (current) => {
      const skeleton: KubeObject = { apiVersion: apiVersionOf(resource), kind: resource.kind, metadata: { name: request.info.name } };
      const parentConfig = isObject(config.spec) && config.spec.replicas !== undefined ? view.applyView(skeleton, config) : skeleton;
      return applyConfiguration(resource, current, parentConfig, { manager: writeContext.fieldManager, force, subresource: request.info.subresource });
    },
    { applied: true },
  );
  return result.object;
}

export async function handleViewSubresource(request: ResourceRequest, subresource: SubresourceDefinition, context: () => WriteContext): Promise<void> {
  const view = subresource.view!;
  const { store } = request.entry;
  const { namespace, name } = request.info;
  const negotiated = negotiateObject(request.req.headers.accept, false);
  const respond = (object: KubeObject) => {
    setWarnings(request.res, request.warnings);
    writeBytes(request.res, 200, JSON.stringify(view.toView(object)), negotiated.format, request.req.method);
  };
  switch (request.info.verb) {
    case 'get':
      respond(await store.getObject(namespace, name));
      return;
    case 'update': {
      const body = decodeObjectBody(await readBody(request.req, request.maxBodyBytes), request.req.headers['content-type']) as KubeObject;
      const precondition = typeof body.metadata?.resourceVersion === 'string' && body.metadata.resourceVersion ? body.metadata.resourceVersion : undefined;
      const result = await store.guaranteedUpdate(name, { ...context(), viaSubresource: request.info.subresource }, '', precondition, (current) => view.applyView(structuredClone(current!), body));
      respond(result.object);
      return;
    }
    case 'patch': {
      // Strategic merge as the resource itself allows it (upstream offers none for custom resources' subresources).
      const type = patchTypeOf(request.req.headers['content-type'], request.entry.patchMeta !== undefined);
      const parsed = parsePatch(type, await readBody(request.req, request.maxBodyBytes));
      if (type === 'apply') {
        respond(await applyToView(request, view, context, parsed.document as KubeObject));
        return;
      }
      const result = await store.guaranteedUpdate(name, { ...context(), viaSubresource: request.info.subresource }, '', undefined, (current) => {
        const currentView = view.toView(current!);
        const patched =
          type === 'json' ? applyPatch(currentView, parsed, undefined) : ((type === 'strategic' ? strategicMerge(currentView, parsed.document, undefined) : jsonMergePatch(currentView, parsed.document)) as KubeObject);
        return view.applyView(structuredClone(current!), patched);
      });
      respond(result.object);
      return;
    }
    default:
      throw methodNotSupported({ group: store.resource.group, resource: `${store.resource.plural}/${request.info.subresource}` }, request.info.verb);
  }
}
