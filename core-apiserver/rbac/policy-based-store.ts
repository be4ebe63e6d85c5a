// The generic store for Roles, ClusterRoles and their bindings, with the escalation check run on every
// create and on every update or patch once the new object is known (inside the compare-and-swap loop, so
// the check sees exactly what is written), as upstream's policybased storage wraps the standard one.

import { GenericStore, type StoreHooks, type WriteContext, type WriteResult } from '../../apiserver/registry/store.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import type { ResourceDefinition } from '../../apiserver/registry/resource.js';
import type { Storage } from '../../apiserver/storage/interface.js';
import type { EscalationCheck } from './escalation.js';

export class PolicyBasedStore extends GenericStore {
  constructor(
    definition: ResourceDefinition,
    storage: Storage,
    hooks: StoreHooks,
    private readonly escalation: EscalationCheck,
  ) {
    super(definition, storage, hooks);
  }

  override async create(input: KubeObject, context: WriteContext): Promise<WriteResult> {
    await this.escalation.check(this, input, undefined, context, '');
    return super.create(input, context);
  }

  override guaranteedUpdate(...args: Parameters<GenericStore['guaranteedUpdate']>): ReturnType<GenericStore['guaranteedUpdate']> {
    const [name, context, subresource, precondition, mutate, options] = args;
    return super.guaranteedUpdate(
      name,
      context,
      subresource,
      precondition,
      async (current) => {
        const desired = await mutate(current);
        await this.escalation.check(this, desired, current, context, name);
        return desired;
      },
      options,
    );
  }
}
