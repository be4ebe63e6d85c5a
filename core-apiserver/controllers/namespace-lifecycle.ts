// Namespace lifecycle: bootstrap namespaces exist (writes into missing or terminating namespaces are
// refused by the NamespaceLifecycle admission plugin); and a terminating namespace is emptied of every
// namespaced object this server stores, then finalized.

import type { GenericStore, WriteContext } from '../../apiserver/registry/store.js';
import { StatusError } from '../../apiserver/request/status.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { NAMESPACE_FINALIZER } from '../resources/namespaces.js';

export const BOOTSTRAP_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

const SYSTEM_CONTEXT = (namespace: string): WriteContext => ({
  user: { username: 'system:serviceaccount:kube-system:namespace-controller', groups: ['system:serviceaccounts', 'system:authenticated'] },
  namespace,
  warnings: [],
  dryRun: false,
  fieldManager: 'namespace-controller',
  fieldValidation: 'Ignore',
});

export async function ensureBootstrapNamespaces(namespaces: GenericStore): Promise<void> {
  for (const name of BOOTSTRAP_NAMESPACES) {
    try {
      await namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, SYSTEM_CONTEXT(''));
    } catch (error) {
      if (!(error instanceof StatusError && error.code === 409)) throw error;
    }
  }
}

export class NamespaceController {
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private watch: { stop(): void } | undefined;

  constructor(
    private readonly namespaces: GenericStore,
    private readonly contentStores: () => GenericStore[],
    private readonly intervalMs = 500,
  ) {}

  async start(): Promise<void> {
    await this.namespaces.cache.start();
    this.watch = this.namespaces.cache.watch({
      fromRevision: 0,
      prefix: this.namespaces.resource.storagePrefix,
      filter: (object) => object.fields['status.phase'] === 'Terminating',
      onEvent: (type, object) => {
        if (type !== 'DELETED') this.enqueue(object.name);
      },
    });
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
    if (this.timer) clearTimeout(this.timer);
  }

  private enqueue(name: string): void {
    this.pending.add(name);
    if (!this.timer && !this.stopped) this.timer = setTimeout(() => void this.drain(), 0);
  }

  private async drain(): Promise<void> {
    this.timer = undefined;
    const names = [...this.pending];
    this.pending.clear();
    for (const name of names) {
      try {
        const done = await this.finalize(name);
        if (!done) this.pending.add(name);
      } catch (error) {
        console.error(`[namespace-controller] ${name}:`, (error as Error).message);
        this.pending.add(name);
      }
    }
    if (this.pending.size && !this.stopped) this.timer = setTimeout(() => void this.drain(), this.intervalMs);
  }

  /** Deletes the namespace's content; finalizes when nothing is left. Returns true when finished. */
  private async finalize(name: string): Promise<boolean> {
    let namespace: KubeObject;
    try {
      namespace = await this.namespaces.getObject('', name);
    } catch {
      return true; // already gone
    }
    if (!namespace.metadata.deletionTimestamp || !(namespace.spec?.finalizers ?? []).includes(NAMESPACE_FINALIZER)) return true;
    let remaining = 0;
    for (const store of this.contentStores()) {
      if (!store.resource.namespaced || !store.resource.verbs.includes('delete')) continue;
      await store.cache.syncToLatest();
      for (const object of store.cache.list(store.key(name, ''))) {
        remaining++;
        try {
          await store.delete(object.name, { propagationPolicy: 'Background' }, SYSTEM_CONTEXT(name));
        } catch (error) {
          if (!(error instanceof StatusError && error.code === 404)) throw error;
        }
      }
    }
    if (remaining > 0) return false;
    await this.namespaces.guaranteedUpdate(name, SYSTEM_CONTEXT(''), 'finalize', undefined, (current) => {
      const next = structuredClone(current!);
      next.spec = { ...(next.spec ?? {}), finalizers: (next.spec?.finalizers ?? []).filter((f: string) => f !== NAMESPACE_FINALIZER) };
      return next;
    });
    return true;
  }
}
