// The ServiceAccounts controller (kube-controller-manager's): every active namespace has a `default`
// ServiceAccount, re-created if someone deletes it.

import type { GenericStore, WriteContext } from '../../apiserver/registry/store.js';
import { StatusError } from '../../apiserver/request/status.js';

const CONTEXT = (namespace: string): WriteContext => ({
  user: { username: 'system:serviceaccount:kube-system:service-account-controller', groups: ['system:serviceaccounts', 'system:authenticated'] },
  namespace,
  warnings: [],
  dryRun: false,
  fieldManager: 'kube-controller-manager',
  fieldValidation: 'Ignore',
});

export class DefaultServiceAccountController {
  private readonly watches: { stop(): void }[] = [];
  private readonly pending = new Set<string>();
  private scheduled = false;

  constructor(
    private readonly namespaces: GenericStore,
    private readonly serviceAccounts: GenericStore,
  ) {}

  async start(): Promise<void> {
    await this.namespaces.cache.start();
    await this.serviceAccounts.cache.start();
    this.watches.push(
      this.namespaces.cache.watch({
        fromRevision: 0,
        prefix: this.namespaces.resource.storagePrefix,
        filter: (namespace) => namespace.fields['status.phase'] !== 'Terminating',
        onEvent: (type, namespace) => {
          if (type !== 'DELETED') this.enqueue(namespace.name);
        },
      }),
      this.serviceAccounts.cache.watch({
        fromRevision: 0,
        prefix: this.serviceAccounts.resource.storagePrefix,
        filter: (account) => account.name === 'default',
        onEvent: (type, account) => {
          if (type === 'DELETED') this.enqueue(account.namespace);
        },
      }),
    );
  }

  stop(): void {
    for (const watch of this.watches) watch.stop();
  }

  private enqueue(namespace: string): void {
    this.pending.add(namespace);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    this.scheduled = false;
    const namespaces = [...this.pending];
    this.pending.clear();
    for (const namespace of namespaces) {
      const state = this.namespaces.cache.get(this.namespaces.key('', namespace));
      if (!state || state.fields['status.phase'] === 'Terminating') continue;
      if (this.serviceAccounts.cache.get(this.serviceAccounts.key(namespace, 'default'))) continue;
      try {
        await this.serviceAccounts.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace } }, CONTEXT(namespace));
      } catch (error) {
        // Already there, or the namespace started terminating meanwhile: nothing to do.
        if (!(error instanceof StatusError && [403, 404, 409].includes(error.code))) console.error(`[serviceaccounts] ${namespace}: ${(error as Error).message}`);
      }
    }
  }
}
