// NamespaceLifecycle (upstream plugin/pkg/admission/namespace/lifecycle): nothing is written into a
// namespace that does not exist, nothing new is created in one being terminated, and the namespaces the
// cluster cannot live without are never deleted. Answered from the namespaces' watch cache.

import type { AdmissionAttributes, AdmissionPlugin } from '../../apiserver/admission/interface.js';
import { admissionForbidden } from '../../apiserver/admission/run.js';
import type { GenericStore } from '../../apiserver/registry/store.js';
import { notFound } from '../../apiserver/request/status.js';

/** upstream's immortal namespaces (the plugin's default; kube-node-lease is not among them). */
export const IMMORTAL_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

const ACCESS_REVIEWS = new Set(['localsubjectaccessreviews', 'subjectaccessreviews', 'selfsubjectaccessreviews', 'selfsubjectrulesreviews']);

export type NamespacePhase = 'Active' | 'Terminating' | undefined;

export class NamespaceLifecycle implements AdmissionPlugin {
  readonly name = 'NamespaceLifecycle';

  /** `phaseOf` answers the namespace's phase, undefined when it does not exist. */
  constructor(private readonly phaseOf: (namespace: string) => Promise<NamespacePhase>) {}

  static fromStore(namespaces: GenericStore): NamespaceLifecycle {
    return new NamespaceLifecycle(async (namespace) => {
      await namespaces.cache.start();
      let cached = namespaces.cache.get(namespaces.key('', namespace));
      if (!cached) {
        // Just created and not yet in the cache: upstream falls back to a live lookup too.
        await namespaces.cache.syncToLatest();
        cached = namespaces.cache.get(namespaces.key('', namespace));
      }
      if (cached) return cached.fields['status.phase'] === 'Terminating' ? 'Terminating' : 'Active';
      // A namespace written through another replica may not have reached this cache yet: storage decides.
      const stored = await namespaces.storage.get(namespaces.key('', namespace));
      if (!stored) return undefined;
      return (JSON.parse(stored.value) as { status?: { phase?: string } }).status?.phase === 'Terminating' ? 'Terminating' : 'Active';
    });
  }

  async admit(attributes: AdmissionAttributes): Promise<void> {
    const isNamespace = attributes.resource.group === '' && attributes.resource.resource === 'namespaces';
    if (isNamespace) {
      if (attributes.operation === 'DELETE' && IMMORTAL_NAMESPACES.has(attributes.name)) {
        throw admissionForbidden(attributes, 'this namespace may not be deleted');
      }
      return; // every other operation on namespaces themselves is allowed
    }
    if (!attributes.namespace) return; // cluster-scoped
    if (attributes.operation === 'DELETE') return; // deleting content is how a namespace is emptied
    if (attributes.resource.group === 'authorization.k8s.io' && ACCESS_REVIEWS.has(attributes.resource.resource)) return;
    const phase = await this.phaseOf(attributes.namespace);
    if (phase === undefined) throw notFound({ group: '', resource: 'namespaces' }, attributes.namespace);
    if (phase === 'Terminating' && attributes.operation === 'CREATE') {
      const namespace = attributes.namespace;
      throw admissionForbidden(attributes, `unable to create new content in namespace ${namespace} because it is being terminated`, [
        { reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' },
      ]);
    }
  }
}
