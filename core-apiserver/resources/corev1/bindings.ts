// v1 bindings: the scheduler's older way of binding a pod (POST /api/v1/namespaces/{ns}/bindings with a
// Binding whose metadata.name is the pod). Upstream's LegacyBindingREST hands it to the pods/binding REST
// with that name; here it goes to the same action as pods/binding. Create-only and never stored.

import { GenericStore, type WriteContext, type WriteResult } from '../../../apiserver/registry/store.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import { isObject } from '../../../apiserver/registry/object.js';
import { defineResource } from '../../../apiserver/registry/resource.js';
import { MemoryStorage } from '../../../apiserver/storage/memory.js';
import { badRequest } from '../../../apiserver/request/status.js';
import type { AdmissionChain } from '../../../apiserver/admission/interface.js';
import { attributesFor, runMutating, runValidating } from '../../../apiserver/admission/run.js';
import { bindingSubresource } from './pod-binding.js';

export const bindings = defineResource({
  group: '',
  version: 'v1',
  kind: 'Binding',
  plural: 'bindings',
  namespaced: true,
  verbs: ['create'],
  schemaName: 'io.k8s.api.core.v1.Binding',
  storageVersionHash: '',
});

export class BindingStore extends GenericStore {
  constructor(
    private readonly pods: () => GenericStore,
    private readonly chain: AdmissionChain | undefined,
  ) {
    super(bindings, new MemoryStorage());
  }

  override async create(input: KubeObject, context: WriteContext): Promise<WriteResult> {
    if (!isObject(input)) throw badRequest('not a Binding object');
    const metadata = isObject(input.metadata) ? input.metadata : {};
    if (metadata.namespace && context.namespace && metadata.namespace !== context.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    // The pod's storage key needs a name, as upstream's NamespaceKeyFunc says.
    const name = typeof metadata.name === 'string' ? metadata.name : '';
    if (!name) throw badRequest('Name parameter required.');
    // Admitted as a create of bindings (what RBAC and webhooks see); the pod write inside is not admitted again.
    if (this.chain && this.chain.plugins.length > 0 && !context.skipAdmission) {
      const attributes = attributesFor({ operation: 'CREATE', resource: bindings, subresource: '', namespace: context.namespace, name, object: input, options: context.admissionOptions, dryRun: context.dryRun, user: context.user });
      const admissionContext = { warnings: context.warnings, auditAnnotations: (context.auditAnnotations ??= {}) };
      await runMutating(this.chain, attributes, admissionContext);
      await runValidating(this.chain, attributes, admissionContext);
    }
    const result = await bindingSubresource.create!({
      store: this.pods(),
      namespace: context.namespace,
      name,
      body: input,
      context: { ...context, skipAdmission: true },
      resource: () => undefined,
    });
    return { bytes: JSON.stringify(result.body), object: result.body as KubeObject };
  }
}
