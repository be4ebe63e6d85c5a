// Helpers for the storage conformance suite: recording a watch and waiting for it to catch up.

import type { KeyValue, Storage, StorageEvent, Watcher } from './interface.js';

export interface ConformanceOptions {
  /** The backend sends onProgress to watchers of quiet prefixes (optional in the contract). */
  progress?: boolean;
}

/** What each case reaches: the fresh store of the running case and its key namespace. */
export interface ConformanceContext {
  storage(): Storage;
  key(path: string): string;
}

export interface RecordedWatch {
  readonly events: StorageEvent[];
  readonly progress: number[];
  readonly errors: Error[];
  readonly watcher: Watcher;
  /** Resolves once the watch has delivered an event at or beyond `revision`. */
  reach(revision: number): Promise<void>;
}

export function recordWatch(storage: Storage, prefix: string, fromRevision: number): RecordedWatch {
  const events: StorageEvent[] = [];
  const progress: number[] = [];
  const errors: Error[] = [];
  const watcher = storage.watch(prefix, fromRevision, {
    onEvent: (event) => events.push(event),
    onProgress: (revision) => progress.push(revision),
    onError: (error) => errors.push(error),
  });
  return {
    events,
    progress,
    errors,
    watcher,
    reach: (revision) =>
      waitUntil(
        () => (events.at(-1)?.revision ?? 0) >= revision,
        () => {
          const seen = events.map((event) => event.revision).join(',');
          return `watch on ${prefix} from ${fromRevision} did not reach revision ${revision} (saw ${seen})`;
        },
      ),
  };
}

export async function waitUntil(condition: () => boolean, describe: () => string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Settles pending asynchronous deliveries: a few turns of the event loop. */
export async function settle(): Promise<void> {
  for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setTimeout(resolve, 1));
}

/** The state a consumer rebuilds by applying `events` in order. */
export function replayState(events: StorageEvent[]): KeyValue[] {
  const state = new Map<string, KeyValue>();
  for (const event of events) {
    if (event.type === 'DELETE') state.delete(event.key);
    else {
      state.set(event.key, {
        key: event.key,
        value: event.value,
        createRevision: event.createRevision,
        modRevision: event.revision,
      });
    }
  }
  return [...state.values()].sort((left, right) => (left.key < right.key ? -1 : left.key > right.key ? 1 : 0));
}

/** Keys only, for compact assertions on lists. */
export function keysOf(items: KeyValue[]): string[] {
  return items.map((item) => item.key);
}
