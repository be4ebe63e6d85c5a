// v1 Namespace: cluster-scoped; deletion marks it Terminating and the namespace controller empties it,
// then clears spec.finalizers through /finalize, which completes the deletion.

import { defineResource, statusSubresource } from '../../apiserver/registry/resource.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { ageColumn, nameColumn } from '../../apiserver/registry/table.js';

export const NAMESPACE_FINALIZER = 'kubernetes';
const NAME_LABEL = 'kubernetes.io/metadata.name';

function enforceNameLabel(namespace: KubeObject): void {
  namespace.metadata.labels = { ...(namespace.metadata.labels ?? {}), [NAME_LABEL]: namespace.metadata.name ?? '' };
}

export const namespaces = defineResource({
  group: '',
  version: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  namespaced: false,
  returnDeletedObject: true,
  shortNames: ['ns'],
  schemaName: 'io.k8s.api.core.v1.Namespace',
  nameValidation: 'dns1123-label',
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: {
    status: statusSubresource,
    finalize: { verbs: ['update'], updates: ['spec.finalizers'] },
  },
  selectableFields: { 'status.phase': (namespace) => namespace.status?.phase },
  strategy: {
    prepareForCreate(namespace) {
      namespace.spec = { ...(namespace.spec ?? {}), finalizers: [NAMESPACE_FINALIZER] };
      namespace.status = { phase: 'Active' };
      enforceNameLabel(namespace);
    },
    prepareForUpdate(namespace, old) {
      // spec.finalizers changes only through /finalize.
      namespace.spec = { ...(namespace.spec ?? {}), finalizers: old.spec?.finalizers };
      if (namespace.spec.finalizers === undefined) delete namespace.spec.finalizers;
      enforceNameLabel(namespace);
    },
    beforeDelete(namespace) {
      // The immortal namespaces are refused earlier, by the NamespaceLifecycle admission plugin.
      if ((namespace.spec?.finalizers ?? []).length === 0) return 'delete';
      namespace.status = { ...(namespace.status ?? {}), phase: 'Terminating' };
      return 'keep';
    },
  },
  printerColumns: [
    nameColumn,
    { name: 'Status', type: 'string', description: 'The status of the namespace', value: (namespace) => namespace.status?.phase ?? '' },
    ageColumn,
  ],
});
