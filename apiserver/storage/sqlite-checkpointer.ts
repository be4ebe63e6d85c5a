// Copies the SQLite write-ahead log back into the database file from a worker thread, so the fsync a
// checkpoint costs never stalls the event loop that serves requests. The worker uses its own
// connection and PASSIVE checkpoints, which take no write lock: the serving connection keeps
// committing meanwhile. The serving connection keeps a high auto-checkpoint threshold as a safety net
// should this worker fall behind or fail to start.
//
// This module is both sides: imported normally it exports startCheckpointer(); loaded as the worker
// it runs the checkpoint loop.

import Database from 'better-sqlite3';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const ROLE = 'sqlite-checkpointer';
const STOP = 'stop';

interface CheckpointerData {
  role: typeof ROLE;
  path: string;
  intervalMs: number;
}

export interface Checkpointer {
  /** Ends the worker and closes its connection. */
  stop(): Promise<void>;
}

export function startCheckpointer(path: string, intervalMs: number): Checkpointer {
  const data: CheckpointerData = { role: ROLE, path, intervalMs };
  const worker = new Worker(new URL(import.meta.url), { workerData: data });
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  // A failed worker only means SQLite's own auto-checkpoint takes over.
  worker.on('error', () => {});
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        // Hold the loop open until the worker has closed its connection.
        worker.ref();
        worker.postMessage(STOP);
        const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, 2000, 'timeout').unref());
        if ((await Promise.race([exited, timeout])) === 'timeout') await worker.terminate();
      })();
      return stopping;
    },
  };
}

function runCheckpointLoop({ path, intervalMs }: CheckpointerData): void {
  const db = new Database(path);
  let timer: NodeJS.Timeout | undefined;
  const checkpoint = () => {
    let behind = false;
    try {
      const [result] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
      // Frames were appended while copying: keep going soon, so the serving connection's own
      // checkpoint, when it comes, finds almost nothing left to copy.
      behind = result.checkpointed < result.log;
    } catch {
      // Busy or transient I/O trouble: the next round tries again.
    }
    timer = setTimeout(checkpoint, behind ? Math.min(intervalMs, 5) : intervalMs);
  };
  timer = setTimeout(checkpoint, intervalMs);
  parentPort!.on('message', (message) => {
    if (message !== STOP) return;
    clearTimeout(timer);
    db.close();
    process.exit(0);
  });
}

if (!isMainThread && (workerData as Partial<CheckpointerData> | undefined)?.role === ROLE) {
  runCheckpointLoop(workerData as CheckpointerData);
}
