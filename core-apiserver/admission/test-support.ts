// Attributes and contexts for the plugins' unit tests.

import type { AdmissionAttributes, AdmissionContext } from '../../apiserver/admission/interface.js';
import type { KubeObject } from '../../apiserver/registry/object.js';

export function attributesOf(resource: string, object: KubeObject | undefined, overrides: Partial<AdmissionAttributes> = {}): AdmissionAttributes {
  const [plural, group = ''] = resource.split('.', 2) as [string, string?];
  return {
    operation: 'CREATE',
    resource: { group, version: 'v1', resource: plural },
    subresource: '',
    kind: { group, version: 'v1', kind: 'Unknown' },
    namespace: object?.metadata.namespace ?? 'default',
    name: object?.metadata.name ?? '',
    object,
    dryRun: false,
    user: { username: 'admin', groups: ['system:masters'] },
    ...overrides,
  };
}

export function newContext(): AdmissionContext {
  return { warnings: [], auditAnnotations: {} };
}

export function pod(name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', ...metadata }, spec };
}
