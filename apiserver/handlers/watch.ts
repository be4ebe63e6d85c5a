// WATCH: a chunked stream of JSON events from the watch cache. Headers are flushed at once (kubectl waits
// for them), every event line is built once and shared by all watchers of that event, slow readers are
// cut off instead of buffering without bound, and bookmarks/timeouts follow upstream.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GenericStore } from '../registry/store.js';
import type { CacheEventType, CachedObject } from '../storage/watch-cache.js';
import { collectionPrefix, apiVersionOf } from '../registry/resource.js';
import { StatusError, toStatusError } from '../request/status.js';
import type { ListOptions } from './list-options.js';
import type { KubeObject } from '../registry/object.js';
import { requestMetrics } from '../metrics/registry.js';

export interface WatchRegistry {
  /** Ends every open watch (graceful shutdown). */
  add(end: () => void): () => void;
}

export interface WatchOutput {
  /**
   * Conversion of each event's object (a one-row Table for kubectl get -w, PartialObjectMetadata for
   * metadata informers); `first` is true only for the first event, the one that carries Table headers.
   * Undefined for plain objects.
   */
  transform?: (object: KubeObject, first: boolean) => unknown;
}

const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
const BOOKMARK_INTERVAL_MS = 60_000;
const MIN_REQUEST_TIMEOUT_SECONDS = 1800;
const MAX_TIMER_MS = 2 ** 31 - 1;

// Events are delivered to all subscribers in one synchronous loop, so remembering the last line built
// lets every watcher of the same event share one serialization.
let lastLine: { object: CachedObject; type: CacheEventType; line: string } | undefined;

function eventLine(type: CacheEventType, object: CachedObject): string {
  if (lastLine && lastLine.object === object && lastLine.type === type) return lastLine.line;
  const line = `{"type":"${type}","object":${object.bytes}}\n`;
  lastLine = { object, type, line };
  return line;
}

export async function serveWatch(
  req: IncomingMessage,
  res: ServerResponse,
  store: GenericStore,
  namespace: string,
  options: ListOptions,
  output: WatchOutput,
  registry: WatchRegistry,
): Promise<void> {
  const cache = store.cache;
  await cache.start();
  // Upstream (WatchList on, as in 1.32) defaults a watch without resourceVersion or at "0" to
  // sendInitialEvents=true: the same initial ADDED events, plus the initial-events-end bookmark for
  // clients that allow bookmarks.
  const legacyStart = options.resourceVersion === undefined || options.resourceVersion === 0;
  const sendInitialEvents = options.sendInitialEvents ?? (options.resourceVersionMatch === undefined && legacyStart);
  let fromRevision: number;
  // Upstream's cacher fails a watch it has accepted with an ERROR event in the stream, not an HTTP error.
  let startFailure: { error: unknown } | undefined;
  if (sendInitialEvents) {
    fromRevision = 0;
    if (options.resourceVersion) startFailure = await cache.waitUntilFresh(options.resourceVersion).then(() => undefined, (error: unknown) => ({ error }));
    else if (options.resourceVersion === undefined) await cache.syncToLatest();
  } else if (options.resourceVersion === undefined) {
    // sendInitialEvents=false without a resourceVersion: changes after the current (consistent) revision only.
    fromRevision = await cache.syncToLatest();
  } else if (options.resourceVersion === 0) {
    fromRevision = cache.revision; // sendInitialEvents=false at "any" revision: from now on
  } else {
    // A revision the cache has not reached yet is not waited for (upstream's cacher neither): the watch
    // starts there, and events up to it are not sent.
    fromRevision = options.resourceVersion;
  }

  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', 'no-cache, private');
  res.setHeader('Transfer-Encoding', 'chunked');
  res.flushHeaders();

  const kind = store.resource.kind;
  const apiVersion = apiVersionOf(store.resource);
  const sent = requestMetrics.watchEvents.labels({ group: store.resource.group, kind, version: store.resource.version });
  let firstEvent = true;
  let closed = false;
  let watch: { stop(): void } | undefined;
  const timers: NodeJS.Timeout[] = [];

  const write = (line: string) => {
    if (closed) return;
    res.write(line);
    if (res.writableLength > MAX_BUFFERED_BYTES) end(); // a reader this slow would hold memory forever
  };
  const bookmark = (extraAnnotations?: Record<string, string>) => {
    if (converting) {
      queue = queue.then(() => writeBookmark(extraAnnotations));
      return;
    }
    writeBookmark(extraAnnotations);
  };
  const writeBookmark = (extraAnnotations?: Record<string, string>) => {
    const metadata: Record<string, unknown> = { resourceVersion: String(cache.revision) };
    if (extraAnnotations) metadata.annotations = extraAnnotations;
    write(`{"type":"BOOKMARK","object":${JSON.stringify({ kind, apiVersion, metadata })}}\n`);
  };
  const end = () => {
    if (closed) return;
    closed = true;
    watch?.stop();
    for (const timer of timers) clearTimeout(timer); // also clears intervals
    unregister();
    res.end();
  };
  const unregister = registry.add(() => {
    if (options.allowWatchBookmarks && !closed) bookmark();
    end();
  });
  req.on('close', end);
  res.on('error', end);

  const matches = (object: CachedObject) => options.labelSelector.matches(object.labels) && options.fieldSelector.matches(object.fields);
  const emit = (type: CacheEventType, object: CachedObject) => {
    sent.inc();
    if (output.transform) {
      const transformed = output.transform(JSON.parse(object.bytes) as KubeObject, firstEvent);
      firstEvent = false;
      write(`${JSON.stringify({ type, object: transformed })}\n`);
      return;
    }
    write(eventLine(type, object));
  };
  // Objects stored in another version are converted on the way out, which may take a webhook call: events
  // (and bookmarks, which must not overtake them) then leave through one queue, in order.
  const converting = store.converts;
  let queue = Promise.resolve();
  const onEvent = (type: CacheEventType, object: CachedObject) => {
    if (!converting) return emit(type, object);
    queue = queue.then(async () => {
      if (closed) return;
      try {
        const [served] = await store.toServed([object]);
        emit(type, served);
      } catch (error) {
        write(`${JSON.stringify({ type: 'ERROR', object: toStatusError(error).toStatus() })}\n`);
        end();
      }
    });
  };

  try {
    if (startFailure) throw startFailure.error;
    watch = cache.watch({ fromRevision, prefix: collectionPrefix(store.resource, namespace), filter: matches, onEvent });
  } catch (error) {
    const status = toStatusError(error);
    write(`${JSON.stringify({ type: 'ERROR', object: status.toStatus() })}\n`);
    end();
    return;
  }
  if (sendInitialEvents && options.allowWatchBookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });

  // timeoutSeconds=0 means "the server's choice", as upstream treats it; node fires longer timers at once.
  const timeoutSeconds = options.timeoutSeconds || MIN_REQUEST_TIMEOUT_SECONDS * (1 + Math.random());
  timers.push(
    setTimeout(() => {
      if (options.allowWatchBookmarks) bookmark();
      end();
    }, Math.min(timeoutSeconds * 1000, MAX_TIMER_MS)),
  );
  if (options.allowWatchBookmarks) {
    // One interval, not a timer per bookmark (a watch can stay open for an hour).
    timers.push(setInterval(bookmark, BOOKMARK_INTERVAL_MS).unref());
  }
}

export function isWatchError(error: unknown): error is StatusError {
  return error instanceof StatusError;
}
