// ServiceAccount (upstream plugin/pkg/admission/serviceaccount): a new pod runs as `default` unless it
// names an account, and the account it runs as must exist. The token volume itself is mounted by the pod
// strategy's admission defaults (pod-defaults.ts), which run just before this plugin. Mirror pods (the
// kubelet's static pods) are left alone, as upstream does for the cases it allows them.

import type { AdmissionAttributes, AdmissionPlugin } from '../../apiserver/admission/interface.js';
import { admissionForbidden } from '../../apiserver/admission/run.js';
import type { GenericStore } from '../../apiserver/registry/store.js';
import { isObject } from '../../apiserver/registry/object.js';

export const DEFAULT_SERVICE_ACCOUNT = 'default';
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
/** The default account is created by a controller right after its namespace: wait for it a little (upstream retries 10 times). */
const DEFAULT_ACCOUNT_ATTEMPTS = 10;

function isNewPod(attributes: AdmissionAttributes): boolean {
  return attributes.operation === 'CREATE' && attributes.subresource === '' && attributes.resource.group === '' && attributes.resource.resource === 'pods';
}

export class ServiceAccountAdmission implements AdmissionPlugin {
  readonly name = 'ServiceAccount';

  constructor(
    /** True when the account exists. */
    private readonly exists: (namespace: string, name: string) => Promise<boolean>,
    private readonly retryDelayMs = () => 100 + Math.floor(Math.random() * 100),
  ) {}

  static fromStore(serviceAccounts: GenericStore): ServiceAccountAdmission {
    return new ServiceAccountAdmission(async (namespace, name) => {
      await serviceAccounts.cache.start();
      const key = serviceAccounts.key(namespace, name);
      if (serviceAccounts.cache.get(key)) return true;
      return (await serviceAccounts.storage.get(key)) !== undefined;
    });
  }

  async admit(attributes: AdmissionAttributes): Promise<void> {
    const pod = attributes.object;
    if (!isNewPod(attributes) || !pod || pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return;
    if (!isObject(pod.spec)) pod.spec = {};
    const spec = pod.spec as Record<string, unknown>;
    if (!spec.serviceAccountName) spec.serviceAccountName = DEFAULT_SERVICE_ACCOUNT;
    spec.serviceAccount = spec.serviceAccountName;
  }

  async validate(attributes: AdmissionAttributes): Promise<void> {
    const pod = attributes.object;
    if (!isNewPod(attributes) || !pod || pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return;
    const spec = isObject(pod.spec) ? pod.spec : {};
    const account = typeof spec.serviceAccountName === 'string' && spec.serviceAccountName ? spec.serviceAccountName : DEFAULT_SERVICE_ACCOUNT;
    const attempts = account === DEFAULT_SERVICE_ACCOUNT ? DEFAULT_ACCOUNT_ATTEMPTS : 1;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs()));
      if (await this.exists(attributes.namespace, account)) return;
    }
    throw admissionForbidden(attributes, `error looking up service account ${attributes.namespace}/${account}: serviceaccount "${account}" not found`);
  }
}
