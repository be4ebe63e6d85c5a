// Periodic compaction, as kube-apiserver asks etcd for: keep the newest `keepRevisions` revisions of
// history (what watches and paged lists can still resume from) and drop the rest.

import type { Storage } from './interface.js';

export interface CompactorOptions {
  intervalMs: number;
  keepRevisions: number;
  /** Called when a compaction fails; the next interval tries again. Defaults to a console message. */
  onError?: (error: unknown) => void;
}

export function startCompactor(storage: Storage, options: CompactorOptions): { stop(): void } {
  const onError = options.onError ?? ((error: unknown) => console.error('storage compaction failed:', error));
  let running = false;
  let stopped = false;

  const compactOnce = async (): Promise<void> => {
    // A slow compaction is never stacked under the next one.
    if (running || stopped) return;
    running = true;
    try {
      const target = (await storage.currentRevision()) - options.keepRevisions;
      if (target > 0 && target > (await storage.compactedRevision())) await storage.compact(target);
    } catch (error) {
      if (!stopped) onError(error);
    } finally {
      running = false;
    }
  };

  const timer = setInterval(() => void compactOnce(), options.intervalMs);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
