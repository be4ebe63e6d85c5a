// Compaction of a shared etcd, as kube-apiserver does it: every interval, compact to the revision seen one
// interval earlier, so at least one interval of history stays for watches and paged lists to resume from.
// Several servers (and replicas) share the etcd: the one whose transaction bumps the version of
// compact_rev_key from the value it last saw compacts; the others see a newer version and only catch up,
// so an interval costs one compaction however many servers run.

import { COMPACT_REVISION_KEY, type EtcdStorage } from './etcd.js';

export interface EtcdCompactorOptions {
  intervalMs: number;
  onError?: (error: unknown) => void;
}

export function startEtcdCompactor(storage: EtcdStorage, options: EtcdCompactorOptions): { stop(): void; runOnce(): Promise<void> } {
  const onError = options.onError ?? ((error: unknown) => console.error('etcd compaction failed:', (error as Error).message ?? error));
  const key = Buffer.from(COMPACT_REVISION_KEY);
  /** The version of compact_rev_key we last saw: whoever moves it on from there compacts. */
  let seenVersion = 0;
  /** The revision observed at the previous interval: the next compaction target. */
  let pendingRevision = 0;
  let inFlight: Promise<void> | undefined;
  let stopped = false;

  // A slow round is never stacked under the next one: callers share the round in flight.
  const runOnce = (): Promise<void> => (inFlight ??= round().finally(() => (inFlight = undefined)));

  const round = async (): Promise<void> => {
    if (stopped) return;
    try {
      const response = await storage.client.kv.txn({
        compare: [{ key, target: 'Version', result: 'Equal', version: seenVersion }],
        success: [{ request_put: { key, value: Buffer.from(String(pendingRevision)) } }],
        failure: [{ request_range: { key } }],
      });
      const current = Number(response.header.revision);
      if (!response.succeeded) {
        // Another server compacted (or started) since: adopt its count and target our next round.
        seenVersion = Number(response.responses[0]?.response_range?.kvs[0]?.version ?? 0);
      } else {
        seenVersion++;
        // The first round only records where we are: nothing is compacted at startup.
        if (pendingRevision > 0) await storage.compact(pendingRevision);
      }
      pendingRevision = current;
    } catch (error) {
      if (!stopped) onError(error);
    }
  };

  const timer = setInterval(() => void runOnce(), options.intervalMs);
  timer.unref();
  void runOnce();
  return {
    runOnce,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
