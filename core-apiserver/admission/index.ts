// The built-in admission plugins of core-apiserver, registered in upstream's default order
// (kube-apiserver's AllOrderedPlugins, restricted to the ones implemented here). Dynamic admission
// (MutatingAdmissionWebhook, ValidatingAdmissionPolicy, ValidatingAdmissionWebhook) belongs between
// DefaultStorageClass and ResourceQuota: ResourceQuota charges usage and must see the final object.

import type { AdmissionChain } from '../../apiserver/admission/interface.js';
import type { GenericStore } from '../../apiserver/registry/store.js';
import { markSchemaPreserving } from '../../apiserver/admission/run.js';
import { NamespaceLifecycle } from './namespace-lifecycle.js';
import { LimitRanger } from './limit-ranger.js';
import { ServiceAccountAdmission } from './service-account.js';
import { PodSecurity } from './pod-security.js';
import { DefaultStorageClass } from './default-storage-class.js';
import { QuotaLedger, ResourceQuotaAdmission } from './resource-quota.js';
import { QuotaController } from './quota-controller.js';
import { cachedObjects } from './cached.js';
import type { AdmissionConfiguration } from './admission-configuration.js';

export interface BuiltinAdmission {
  /** The quota controller: keeps ResourceQuota status in step with what namespaces hold. */
  quotaController: QuotaController;
  /** Registers ResourceQuota: call after any dynamic admission plugin, so it comes last as upstream orders it. */
  registerResourceQuota(): void;
}

export function registerBuiltinAdmission(chain: AdmissionChain, store: (plural: string) => GenericStore, allStores: () => GenericStore[], configuration: AdmissionConfiguration = {}): BuiltinAdmission {
  const namespaces = store('namespaces');
  // The built-in mutations set fields the schema has (resources, serviceAccountName, storageClassName).
  chain.register(markSchemaPreserving(NamespaceLifecycle.fromStore(namespaces)));
  chain.register(markSchemaPreserving(new LimitRanger((namespace) => cachedObjects(store('limitranges'), namespace))));
  chain.register(markSchemaPreserving(ServiceAccountAdmission.fromStore(store('serviceaccounts'))));
  chain.register(
    new PodSecurity({
      namespaceLabels: async (namespace) => {
        await namespaces.cache.start();
        const cached = namespaces.cache.get(namespaces.key('', namespace));
        return cached ? (cached.labels ?? {}) : undefined;
      },
      pods: (namespace) => cachedObjects(store('pods'), namespace),
    }, configuration.podSecurity),
  );
  chain.register(markSchemaPreserving(new DefaultStorageClass(() => cachedObjects(store('storageclasses'), ''))));
  const ledger = new QuotaLedger();
  const quotas = store('resourcequotas');
  return {
    quotaController: new QuotaController(quotas, allStores, ledger),
    registerResourceQuota: () => chain.register(new ResourceQuotaAdmission(quotas, ledger)),
  };
}
