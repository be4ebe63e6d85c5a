// apiextensions process: flags → the server → listen.

import { GENERIC_FLAGS, createGenericServer, readFlags, runGenericServer } from '../apiserver/server/options.js';
import { stringFlag } from '../apiserver/server/flags.js';
import { createApiextensionsServer } from './server.js';
import { remoteQuotaBackend } from './quota/backends.js';
import { kubeconfigServiceLookups, lookupServiceResolver } from './conversion/service-resolver.js';
import { KubeClient } from '../apiserver/client/kube-client.js';
import type { KubeObject } from '../apiserver/registry/object.js';
import { informerSource, remoteKindSources } from '../apiserver/admission/sources.js';

const FLAGS = [
  ...GENERIC_FLAGS,
  { name: 'kubeconfig', type: 'string' as const, description: "kubeconfig file pointing at the 'core' kubernetes server, where the Services and Endpoints of conversion webhooks are looked up." },
];
const values = readFlags(process.argv.slice(2), 'apiextensions', 'apiextensions serves apiextensions.k8s.io (CustomResourceDefinitions) and the custom resources they define.', FLAGS);
const generic = createGenericServer('apiextensions', values);
const kubeconfig = stringFlag(values, 'kubeconfig');
// Admission webhook configurations live in core: mirrored through the same --kubeconfig (or the delegated authentication one).
const coreKubeconfig = kubeconfig ?? stringFlag(values, 'authentication-kubeconfig');
const coreClient = coreKubeconfig ? KubeClient.fromKubeconfig(coreKubeconfig) : undefined;
const admission = coreClient && {
  mutatingWebhookConfigurations: informerSource(coreClient, '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations'),
  validatingWebhookConfigurations: informerSource(coreClient, '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations'),
  namespaces: informerSource(coreClient, '/api/v1/namespaces'),
  validatingAdmissionPolicies: informerSource(coreClient, '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies'),
  validatingAdmissionPolicyBindings: informerSource(coreClient, '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings'),
  remoteParams: remoteKindSources(coreClient),
  liveNamespace: async (name: string) => {
    const response = await coreClient.raw('GET', `/api/v1/namespaces/${encodeURIComponent(name)}`);
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw new Error(`reading namespace ${name}: ${String(response.body.message ?? response.status)}`);
    return response.body as unknown as KubeObject;
  },
};
// ResourceQuotas live in core too: creates of custom resources are charged there, which takes the full
// credentials of --kubeconfig (the delegated authentication identity may not write quota status).
const quota = kubeconfig && coreClient ? remoteQuotaBackend(coreClient) : undefined;
const apiextensions = createApiextensionsServer(generic, { serviceResolver: kubeconfig ? lookupServiceResolver(() => kubeconfigServiceLookups(kubeconfig)) : undefined, admission, quota });
await apiextensions.start();
await runGenericServer(generic, () => {
  apiextensions.stop();
  quota?.stop();
});
