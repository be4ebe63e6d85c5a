// Periodic compaction driven by the server (as kube-apiserver drives etcd's): keep the newest
// `keepRevisions` revisions, drop older history. Timers never keep the process alive.

import type { Storage } from './interface.js';

export function startCompactor(storage: Storage, options: { intervalMs: number; keepRevisions: number }): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = async () => {
    try {
      const target = (await storage.currentRevision()) - options.keepRevisions;
      if (target > (await storage.compactedRevision())) await storage.compact(target);
    } catch (error) {
      console.error(`[compactor] ${(error as Error).message}`);
    }
    if (!stopped) {
      timer = setTimeout(() => void tick(), options.intervalMs);
      timer.unref();
    }
  };
  timer = setTimeout(() => void tick(), options.intervalMs);
  timer.unref();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
