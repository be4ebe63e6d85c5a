// Requests to a view subresource (scale): the view is computed from the stored object on read, and a
// write of the view is turned into an update of the object (conflicts and validation as for updates).

import type { KubeObject } from '../registry/object.js';
import type { SubresourceDefinition } from '../registry/resource.js';
import { jsonMergePatch, strategicMerge } from '../registry/strategic-merge.js';
import { decodeObjectBody, readBody } from '../request/body.js';
import { negotiateObject } from '../request/negotiation.js';
import { setWarnings, writeBytes } from '../request/response.js';
import { methodNotSupported } from '../request/status.js';
import type { ResourceRequest } from './resource-handler.js';
import { applyPatch, parsePatch, patchTypeOf } from './patch.js';
import type { WriteContext } from '../registry/store.js';

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
      const type = patchTypeOf(request.req.headers['content-type'], true);
      if (type === 'apply') throw methodNotSupported({ group: store.resource.group, resource: `${store.resource.plural}/${request.info.subresource}` }, 'apply');
      const parsed = parsePatch(type, await readBody(request.req, request.maxBodyBytes));
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
