// The garbage collector's ownership graph (upstream's GraphBuilder): one node per object uid, built from
// watch events and metadata.ownerReferences. An owner referenced before it has been seen is a "virtual"
// node that the collector verifies with a live read. Applying an event answers which nodes the collector
// must look at: dependents whose owner disappeared, owners that started foreground or orphan deletion,
// and foreground owners whose blocking dependents changed.

import type { KubeObject, OwnerReference } from '../../apiserver/registry/object.js';
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER } from '../../apiserver/registry/delete-propagation.js';

export interface ObjectIdentity {
  apiVersion: string;
  kind: string;
  /** The object's namespace; for a virtual owner, the namespace of the dependent that referenced it. */
  namespace: string;
  name: string;
  uid: string;
}

export interface GraphNode {
  identity: ObjectIdentity;
  owners: OwnerReference[];
  dependents: Set<GraphNode>;
  /** Known only as someone's owner, not (yet) seen through a watch. */
  virtual: boolean;
  beingDeleted: boolean;
  /** Being deleted with the foregroundDeletion finalizer: its dependents go first. */
  deletingDependents: boolean;
}

export type GraphWork = { queue: 'delete' | 'orphan'; node: GraphNode };

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

function hasFinalizer(object: KubeObject, finalizer: string): boolean {
  return (object.metadata.finalizers ?? []).includes(finalizer);
}

function ownerReferencesOf(object: KubeObject): OwnerReference[] {
  const references = object.metadata.ownerReferences;
  return Array.isArray(references) ? references.filter((reference) => reference && typeof reference.uid === 'string') : [];
}

function identityOf(object: KubeObject): ObjectIdentity {
  return { apiVersion: String(object.apiVersion ?? ''), kind: String(object.kind ?? ''), namespace: object.metadata.namespace ?? '', name: object.metadata.name ?? '', uid: object.metadata.uid ?? '' };
}

const blocks = (reference: OwnerReference | undefined) => reference?.blockOwnerDeletion === true;

export class OwnershipGraph {
  readonly nodes = new Map<string, GraphNode>();

  node(uid: string): GraphNode | undefined {
    return this.nodes.get(uid);
  }

  /** Dependents whose reference to this node blocks its deletion (blockOwnerDeletion: true). */
  blockingDependents(node: GraphNode): GraphNode[] {
    return [...node.dependents].filter((dependent) => dependent.owners.some((owner) => owner.uid === node.identity.uid && blocks(owner)));
  }

  /** Applies one watch event (`previous` is the object before a MODIFIED event, when known). */
  apply(type: WatchEventType, object: KubeObject, previous?: KubeObject): GraphWork[] {
    const uid = object.metadata?.uid;
    if (!uid) return [];
    const work: GraphWork[] = [];
    const existing = this.nodes.get(uid);
    if (type === 'DELETED') {
      if (existing) this.remove(existing, work);
      return work;
    }
    const owners = ownerReferencesOf(object);
    let node = existing;
    if (!node) {
      node = { identity: identityOf(object), owners: [], dependents: new Set(), virtual: false, beingDeleted: false, deletingDependents: false };
      this.nodes.set(uid, node);
      this.addToOwners(node, owners, work);
      node.owners = owners;
    } else {
      if (node.virtual) {
        // Observed at last: its real coordinates replace the ones a dependent guessed. Dependents in another
        // namespace referenced a namespaced owner they cannot have; the collector re-checks them.
        node.virtual = false;
        node.identity = identityOf(object);
        if (node.identity.namespace) {
          for (const dependent of node.dependents) if (dependent.identity.namespace !== node.identity.namespace) work.push({ queue: 'delete', node: dependent });
        }
      }
      const { added, removed, unblocked } = diffReferences(node.owners, owners);
      // An owner waiting for its blocking dependents may be free now.
      for (const uidOfOwner of [...removed.filter(blocks).map((reference) => reference.uid), ...unblocked]) {
        const owner = this.nodes.get(uidOfOwner);
        if (owner) work.push({ queue: 'delete', node: owner });
      }
      node.owners = owners;
      this.addToOwners(node, added, work);
      for (const reference of removed) this.nodes.get(reference.uid)?.dependents.delete(node);
    }
    const deleting = Boolean(object.metadata.deletionTimestamp);
    node.beingDeleted = deleting;
    // Without the previous state (a relist, or a watch that does not carry it) the transition is assumed.
    const wasOrphaning = Boolean(previous?.metadata.deletionTimestamp) && previous !== undefined && hasFinalizer(previous, ORPHAN_FINALIZER);
    if (deleting && hasFinalizer(object, ORPHAN_FINALIZER) && !wasOrphaning) {
      work.push({ queue: 'orphan', node });
      return work;
    }
    node.deletingDependents = deleting && hasFinalizer(object, FOREGROUND_FINALIZER);
    if (node.deletingDependents) {
      // Starts (or, on a relist, continues) waiting for its dependents: each of them gets looked at.
      for (const dependent of node.dependents) work.push({ queue: 'delete', node: dependent });
      work.push({ queue: 'delete', node });
    }
    return work;
  }

  /** The collector confirmed that a (virtual) node's object does not exist: its dependents are orphans now. */
  confirmAbsent(node: GraphNode): GraphWork[] {
    const work: GraphWork[] = [];
    if (this.nodes.get(node.identity.uid) === node) this.remove(node, work);
    return work;
  }

  private remove(node: GraphNode, work: GraphWork[]): void {
    this.nodes.delete(node.identity.uid);
    for (const reference of node.owners) {
      const owner = this.nodes.get(reference.uid);
      if (!owner) continue;
      owner.dependents.delete(node);
      // A foreground owner may have been waiting for this one.
      if (owner.deletingDependents) work.push({ queue: 'delete', node: owner });
    }
    for (const dependent of node.dependents) work.push({ queue: 'delete', node: dependent });
  }

  private addToOwners(node: GraphNode, references: OwnerReference[], work: GraphWork[]): void {
    let verify = false;
    for (const reference of references) {
      let owner = this.nodes.get(reference.uid);
      if (!owner) {
        owner = {
          identity: { apiVersion: reference.apiVersion, kind: reference.kind, namespace: node.identity.namespace, name: reference.name, uid: reference.uid },
          owners: [],
          dependents: new Set(),
          virtual: true,
          beingDeleted: false,
          deletingDependents: false,
        };
        this.nodes.set(reference.uid, owner);
        // Is it there at all? The collector reads it; if not, the dependents are collected.
        work.push({ queue: 'delete', node: owner });
      } else if (!owner.virtual) {
        // An observed namespaced owner in another namespace, or other coordinates than observed: the
        // reference may be invalid, so the dependent is checked against live objects.
        const identity = owner.identity;
        if ((identity.namespace && identity.namespace !== node.identity.namespace) || identity.name !== reference.name || identity.kind !== reference.kind) verify = true;
        else if (owner.deletingDependents) verify = true; // it is waiting for dependents like this one
      }
      owner.dependents.add(node);
    }
    if (verify) work.push({ queue: 'delete', node });
  }
}

/** Owner references added, removed, and owners whose reference stopped blocking (by uid). */
export function diffReferences(before: OwnerReference[], after: OwnerReference[]): { added: OwnerReference[]; removed: OwnerReference[]; unblocked: string[] } {
  const old = new Map(before.map((reference) => [reference.uid, reference]));
  const next = new Map(after.map((reference) => [reference.uid, reference]));
  const added = after.filter((reference) => !old.has(reference.uid));
  const removed = before.filter((reference) => !next.has(reference.uid));
  const unblocked = after.filter((reference) => blocks(old.get(reference.uid)) && !blocks(reference)).map((reference) => reference.uid);
  return { added, removed, unblocked };
}
