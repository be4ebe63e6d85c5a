// apiextensions.k8s.io/v1 CustomResourceDefinition: cluster-scoped, named <plural>.<group>.

import { defineResource } from '../../apiserver/registry/resource.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import type { FieldError } from '../../apiserver/request/status.js';

function validateName(crd: KubeObject): FieldError[] {
  const plural = crd.spec?.names?.plural;
  const group = crd.spec?.group;
  if (typeof plural !== 'string' || typeof group !== 'string') return [];
  const expected = `${plural}.${group}`;
  return crd.metadata.name === expected ? [] : [{ field: 'metadata.name', type: 'FieldValueInvalid', value: crd.metadata.name, detail: `must be spec.names.plural+"."+spec.group` }];
}

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
  subresources: { status: { verbs: ['get', 'patch', 'update'], updates: ['status'] } },
  strategy: { validate: validateName, validateUpdate: validateName },
});
