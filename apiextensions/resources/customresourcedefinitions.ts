// apiextensions.k8s.io/v1 CustomResourceDefinition: cluster-scoped, named <plural>.<group>.

import { defineResource, statusSubresource } from '../../apiserver/registry/resource.js';
import { beforeCrdDelete, crdWarnings, defaultCrd, initialStatus, recordStorageVersion, validateCrd, validateCrdStatusUpdate } from '../crd-validation.js';

export const customResourceDefinitions = defineResource({
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  namespaced: false,
  shortNames: ['crd', 'crds'],
  categories: ['api-extensions'],
  schemaName: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition',
  generation: true,
  subresources: { status: statusSubresource },
  strategy: {
    prepareForCreate: (crd) => {
      defaultCrd(crd);
      initialStatus(crd);
    },
    prepareForUpdate: (crd) => {
      defaultCrd(crd);
      recordStorageVersion(crd);
    },
    validate: (crd, context) => {
      context.warnings.push(...crdWarnings(crd));
      return validateCrd(crd);
    },
    validateUpdate: (crd, old, context) => {
      context.warnings.push(...crdWarnings(crd));
      return validateCrd(crd, old);
    },
    validateStatusUpdate: (crd) => validateCrdStatusUpdate(crd),
    beforeDelete: (crd) => beforeCrdDelete(crd),
  },
});
