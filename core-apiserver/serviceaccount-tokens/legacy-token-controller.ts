// The tokens controller (kube-controller-manager's) for legacy ServiceAccount tokens: a Secret of type
// kubernetes.io/service-account-token naming a ServiceAccount in its `kubernetes.io/service-account.name`
// annotation is filled in with a signed token, the CA bundle and the namespace; a Secret whose
// ServiceAccount is gone (or was recreated) is deleted, and so are a deleted ServiceAccount's token Secrets.
// The token stays valid only while that Secret holds it (see service-account-token.ts validateLegacy).

import type { KubeObject } from '../../apiserver/registry/object.js';
import type { CachedObject } from '../../apiserver/storage/watch-cache.js';
import type { GenericStore, WriteContext } from '../../apiserver/registry/store.js';
import { StatusError } from '../../apiserver/request/status.js';
import type { ServiceAccountTokenIssuer } from '../../apiserver/authentication/service-account-token.js';

export const TOKEN_SECRET_TYPE = 'kubernetes.io/service-account-token';
const NAME_ANNOTATION = 'kubernetes.io/service-account.name';
const UID_ANNOTATION = 'kubernetes.io/service-account.uid';

const CONTEXT = (namespace: string): WriteContext => ({
  user: { username: 'system:serviceaccount:kube-system:tokens-controller', groups: ['system:serviceaccounts', 'system:authenticated'] },
  namespace,
  warnings: [],
  dryRun: false,
  fieldManager: 'kube-controller-manager',
  fieldValidation: 'Ignore',
});

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

export class LegacyTokenController {
  private readonly watches: { stop(): void }[] = [];
  private readonly pending = new Set<string>(); // namespace/name of Secrets
  private scheduled = false;

  constructor(
    private readonly secrets: GenericStore,
    private readonly serviceAccounts: GenericStore,
    private readonly issuer: ServiceAccountTokenIssuer,
    private readonly caBundle: string,
  ) {}

  async start(): Promise<void> {
    await this.secrets.cache.start();
    await this.serviceAccounts.cache.start();
    this.watches.push(
      this.secrets.cache.watch({
        fromRevision: 0,
        prefix: this.secrets.resource.storagePrefix,
        filter: (secret) => secret.fields.type === TOKEN_SECRET_TYPE,
        onEvent: (type, secret) => {
          if (type !== 'DELETED') this.enqueue(`${secret.namespace}/${secret.name}`);
        },
      }),
      this.serviceAccounts.cache.watch({
        fromRevision: 0,
        prefix: this.serviceAccounts.resource.storagePrefix,
        filter: () => true,
        onEvent: (type, account) => {
          if (type === 'DELETED') for (const secret of this.tokenSecrets(account.namespace)) this.enqueue(`${secret.namespace}/${secret.name}`);
        },
      }),
    );
  }

  stop(): void {
    for (const watch of this.watches) watch.stop();
  }

  private tokenSecrets(namespace: string): CachedObject[] {
    return this.secrets.cache.list(`${this.secrets.resource.storagePrefix}${namespace}/`).filter((secret) => secret.fields.type === TOKEN_SECRET_TYPE);
  }

  private enqueue(key: string): void {
    this.pending.add(key);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    this.scheduled = false;
    const keys = [...this.pending];
    this.pending.clear();
    for (const key of keys) {
      const [namespace, name] = key.split('/');
      try {
        await this.sync(namespace, name);
      } catch (error) {
        if (!(error instanceof StatusError && [404, 409].includes(error.code))) console.error(`[tokens-controller] ${key}: ${(error as Error).message}`);
      }
    }
  }

  private async sync(namespace: string, name: string): Promise<void> {
    const cached = this.secrets.cache.get(this.secrets.key(namespace, name));
    if (!cached) return;
    const secret = JSON.parse(cached.bytes) as KubeObject;
    if (secret.type !== TOKEN_SECRET_TYPE || secret.metadata.deletionTimestamp) return;
    const annotations = secret.metadata.annotations ?? {};
    const accountName = annotations[NAME_ANNOTATION] ?? '';
    const accountCached = accountName ? this.serviceAccounts.cache.get(this.serviceAccounts.key(namespace, accountName)) : undefined;
    const account = accountCached ? (JSON.parse(accountCached.bytes) as KubeObject) : undefined;
    const annotatedUid = annotations[UID_ANNOTATION];
    if (!account || (annotatedUid && annotatedUid !== account.metadata.uid)) {
      await this.secrets.delete(name, { propagationPolicy: 'Background' }, CONTEXT(namespace));
      return;
    }
    const data = (secret.data ?? {}) as Record<string, string>;
    if (data.token && data['ca.crt'] && data.namespace && annotatedUid) return;
    const reference = { name: accountName, uid: account.metadata.uid ?? '' };
    const token = data.token ? undefined : await this.issuer.issueLegacy(namespace, reference, name);
    await this.secrets.guaranteedUpdate(name, CONTEXT(namespace), '', undefined, (current) => {
      const next = structuredClone(current!);
      const nextData = { ...((next.data ?? {}) as Record<string, string>) };
      if (!nextData.token && token) nextData.token = base64(token);
      nextData['ca.crt'] ??= base64(this.caBundle);
      nextData.namespace ??= base64(namespace);
      next.data = nextData;
      next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [NAME_ANNOTATION]: accountName, [UID_ANNOTATION]: reference.uid };
      return next;
    });
  }
}
