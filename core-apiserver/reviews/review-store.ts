// Review resources (SubjectAccessReview and friends, TokenReview, SelfSubjectReview) are create-only and
// never stored: a POST is answered with the request's spec and a computed status, as upstream does.

import { GenericStore, type WriteContext, type WriteResult } from '../../apiserver/registry/store.js';
import type { KubeObject, UserInfo } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';
import type { ResourceDefinition } from '../../apiserver/registry/resource.js';
import { apiVersionOf } from '../../apiserver/registry/resource.js';
import { MemoryStorage } from '../../apiserver/storage/memory.js';
import { badRequest } from '../../apiserver/request/status.js';

export type Review = (request: KubeObject, user: UserInfo, namespace: string) => Promise<Record<string, unknown>> | Record<string, unknown>;

export class ReviewStore extends GenericStore {
  constructor(
    definition: ResourceDefinition,
    private readonly review: Review,
  ) {
    super(definition, new MemoryStorage());
  }

  override async create(input: KubeObject, context: WriteContext): Promise<WriteResult> {
    const apiVersion = apiVersionOf(this.resource);
    if (input.kind && input.kind !== this.resource.kind) throw badRequest(`the kind in the data (${String(input.kind)}) does not match the expected kind (${this.resource.kind})`);
    const spec = isObject(input.spec) ? input.spec : {};
    const status = await this.review({ ...input, spec }, context.user, context.namespace);
    const object: KubeObject = { kind: this.resource.kind, apiVersion, metadata: { creationTimestamp: null }, spec, status };
    if (!this.resource.kind.startsWith('Self') && this.resource.kind !== 'TokenReview' && this.resource.kind !== 'SubjectAccessReview') object.metadata.namespace = context.namespace;
    if (this.resource.kind === 'SelfSubjectReview') delete object.spec;
    return { bytes: JSON.stringify(object), object };
  }
}
