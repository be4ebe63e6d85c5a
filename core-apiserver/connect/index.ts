// The connect subresources core adds to its declarations: the ones that need the kubelet client are built
// here, from the server's flags, and merged into pods, services and nodes.

import type { ResourceDefinition } from '../../apiserver/registry/resource.js';
import type { KubeletClient } from './kubelet-client.js';
import { podStreamSubresources } from './pod-streams.js';
import { nodeProxySubresource, podProxySubresource, serviceProxySubresource } from './proxy-subresources.js';

export { KUBELET_FLAGS, KubeletClient } from './kubelet-client.js';

/** The declaration with its connect subresources (unchanged for kinds that have none). */
export function withConnectSubresources(definition: ResourceDefinition, kubelet: KubeletClient): ResourceDefinition {
  if (definition.group !== '' || definition.version !== 'v1') return definition;
  const added =
    definition.plural === 'pods'
      ? { ...podStreamSubresources(kubelet), proxy: podProxySubresource() }
      : definition.plural === 'services'
        ? { proxy: serviceProxySubresource() }
        : definition.plural === 'nodes'
          ? { proxy: nodeProxySubresource(kubelet) }
          : undefined;
  return added ? { ...definition, subresources: { ...definition.subresources, ...added } } : definition;
}
