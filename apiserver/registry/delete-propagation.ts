// Deletion propagation (upstream's deletionFinalizersForGarbageCollection): a delete asks the garbage
// collector to take care of the object's dependents by leaving one of two finalizers on it — `orphan`
// (remove the owner references from dependents, then let the owner go) or `foregroundDeletion` (delete
// the dependents first). Background deletion leaves no finalizer: the object goes at once and the garbage
// collector deletes the dependents afterwards.

export type PropagationPolicy = 'Orphan' | 'Background' | 'Foreground';

/** What a delete without propagation options means for a kind (upstream's DefaultGarbageCollectionPolicy). */
export type GarbageCollectionPolicy = 'Background' | 'Orphan' | 'Unsupported';

export const ORPHAN_FINALIZER = 'orphan';
export const FOREGROUND_FINALIZER = 'foregroundDeletion';

export interface PropagationOptions {
  propagationPolicy?: PropagationPolicy;
  /** Deprecated predecessor of propagationPolicy (true = Orphan, false = Background). */
  orphanDependents?: boolean;
}

/** Options first, then a finalizer the object already carries, then the kind's default. */
function shouldOrphan(finalizers: string[], options: PropagationOptions, policy: GarbageCollectionPolicy): boolean {
  if (policy === 'Unsupported') return false;
  if (options.orphanDependents !== undefined) return options.orphanDependents;
  if (options.propagationPolicy) return options.propagationPolicy === 'Orphan';
  for (const finalizer of finalizers) {
    if (finalizer === ORPHAN_FINALIZER) return true;
    if (finalizer === FOREGROUND_FINALIZER) return false;
  }
  return policy === 'Orphan';
}

function shouldDeleteDependentsFirst(finalizers: string[], options: PropagationOptions, policy: GarbageCollectionPolicy): boolean {
  if (policy === 'Unsupported') return false;
  if (options.orphanDependents !== undefined) return false;
  if (options.propagationPolicy) return options.propagationPolicy === 'Foreground';
  return finalizers.includes(FOREGROUND_FINALIZER);
}

/**
 * The finalizers the object should carry for this delete, or undefined when they stay as they are. The
 * other finalizers keep their order; the garbage collector's finalizer goes last.
 */
export function deletionFinalizers(current: string[] | undefined, options: PropagationOptions, policy: GarbageCollectionPolicy = 'Background'): string[] | undefined {
  const finalizers = current ?? [];
  const next = finalizers.filter((finalizer) => finalizer !== ORPHAN_FINALIZER && finalizer !== FOREGROUND_FINALIZER);
  if (shouldOrphan(finalizers, options, policy)) next.push(ORPHAN_FINALIZER);
  if (shouldDeleteDependentsFirst(finalizers, options, policy)) next.push(FOREGROUND_FINALIZER);
  const before = new Set(finalizers);
  const after = new Set(next);
  const same = before.size === after.size && [...after].every((finalizer) => before.has(finalizer));
  return same ? undefined : next;
}
