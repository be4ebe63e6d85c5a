// ControllerRevisions, as DaemonSets and StatefulSets keep their history (upstream's controller_history):
// each revision holds a strategic-merge patch that replaces spec.template, so `kubectl rollout history`
// lists them and `kubectl rollout undo` applies one back. The revision for the current template is found by
// its data, created with the next number when missing, and renumbered to the newest when a rollback makes
// an old one current again.

import { decodedObject } from '../../../apiserver/storage/watch-cache.js';
import type { GenericStore, WriteContext } from '../../../apiserver/registry/store.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import { StatusError } from '../../../apiserver/request/status.js';
import { controllerRefOf, ownerReferenceTo } from './controller-ref.js';
import { podTemplateHash } from './pod-template-hash.js';

/** On a DaemonSet's revisions and pods: the hash of the revision's template. */
export const REVISION_HASH_LABEL = 'controller-revision-hash';

export interface History {
  current: KubeObject;
  /** Every revision the owner controls, the current one included. */
  revisions: KubeObject[];
  /** The value pods of the current revision carry in controller-revision-hash. */
  hash: string;
}

/** The patch a revision stores: spec.template replaced whole. */
export function templatePatch(owner: KubeObject): Record<string, unknown> {
  const template = structuredClone((owner.spec as { template?: Record<string, unknown> } | undefined)?.template ?? {});
  return { spec: { template: { ...template, $patch: 'replace' } } };
}

export function revisionNumber(revision: KubeObject): number {
  return Number((revision as { revision?: number }).revision ?? 0);
}

export function revisionsOwnedBy(revisions: GenericStore, owner: KubeObject): KubeObject[] {
  return revisions.cache
    .list(revisions.key(owner.metadata.namespace ?? '', ''))
    .map((cached) => decodedObject<KubeObject>(cached))
    .filter((revision) => controllerRefOf(revision)?.uid === owner.metadata.uid);
}

export async function syncHistory(revisions: GenericStore, owner: KubeObject, kind: string, collisionCount: number, context: WriteContext): Promise<History> {
  const owned = revisionsOwnedBy(revisions, owner);
  const patch = templatePatch(owner);
  const data = JSON.stringify(patch);
  const maxRevision = Math.max(0, ...owned.map(revisionNumber));
  const matching = owned.filter((revision) => JSON.stringify((revision as { data?: unknown }).data) === data).sort((left, right) => revisionNumber(right) - revisionNumber(left));
  let current = matching[0];
  if (current && revisionNumber(current) < maxRevision) {
    const result = await revisions.guaranteedUpdate(current.metadata.name!, context, '', undefined, (stored) => {
      if (!stored) throw new StatusError(404, 'NotFound', 'gone');
      return { ...stored, revision: maxRevision + 1 } as KubeObject;
    });
    current = result.object;
  }
  if (!current) {
    const hash = podTemplateHash((owner.spec as { template?: unknown } | undefined)?.template ?? {}, collisionCount);
    const templateLabels = ((owner.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template?.metadata?.labels) ?? {};
    const revision = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name: `${owner.metadata.name}-${hash}`,
        namespace: owner.metadata.namespace,
        labels: { ...templateLabels, [REVISION_HASH_LABEL]: hash },
        ...(owner.metadata.annotations ? { annotations: { ...owner.metadata.annotations } } : {}),
        ownerReferences: [ownerReferenceTo(owner, 'apps/v1', kind)],
      },
      data: patch,
      revision: maxRevision + 1,
    } as KubeObject;
    try {
      current = (await revisions.create(revision, context)).object;
    } catch (error) {
      if (error instanceof StatusError && error.code === 409) throw new HashCollision();
      throw error;
    }
    owned.push(current);
  }
  const hash = current.metadata.labels?.[REVISION_HASH_LABEL] ?? current.metadata.name!.slice(owner.metadata.name!.length + 1);
  return { current, revisions: owned.map((revision) => (revision.metadata.name === current!.metadata.name ? current! : revision)), hash };
}

/** A revision name was taken by a different revision: the owner's status.collisionCount must grow. */
export class HashCollision extends Error {
  constructor() {
    super('controller revision hash collision');
  }
}

/** Deletes the oldest revisions beyond the limit that are not current and that `inUse` does not keep. */
export async function truncateHistory(revisions: GenericStore, history: History, inUse: (revision: KubeObject) => boolean, limit: number, context: WriteContext): Promise<void> {
  const removable = history.revisions
    .filter((revision) => revision.metadata.name !== history.current.metadata.name && !inUse(revision))
    .sort((left, right) => revisionNumber(left) - revisionNumber(right));
  for (const revision of removable.slice(0, Math.max(0, removable.length - limit))) {
    try {
      await revisions.delete(revision.metadata.name!, {}, context);
    } catch (error) {
      if (!(error instanceof StatusError && error.code === 404)) throw error;
    }
  }
}
