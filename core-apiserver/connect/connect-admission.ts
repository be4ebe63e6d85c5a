// Connect requests pass admission as a CONNECT of their options object (upstream's ConnectResource admits
// PodExecOptions, ServiceProxyOptions, … before connecting), so webhooks and policies can refuse an exec.

import type { ConnectRequest } from '../../apiserver/registry/resource.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { attributesFor, runMutating, runValidating } from '../../apiserver/admission/run.js';

export async function admitConnect(request: ConnectRequest, subresource: string, options: Record<string, unknown>): Promise<void> {
  const chain = request.store.admission;
  if (!chain || chain.plugins.length === 0) return;
  const attributes = attributesFor({ operation: 'CONNECT', resource: request.store.resource, subresource, namespace: request.namespace, name: request.name, object: options as KubeObject, dryRun: false, user: request.user });
  const context = { warnings: [], auditAnnotations: {} };
  await runMutating(chain, attributes, context);
  await runValidating(chain, attributes, context);
}
