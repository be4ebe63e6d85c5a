// LIST: served from the watch cache whenever it can prove the cache state is the one asked for (which is
// almost always), otherwise read from storage at the requested revision. Items are concatenated as the
// cached bytes: a list never parses or re-serializes objects unless a Table is asked for.

import type { GenericStore } from '../registry/store.js';
import type { CachedObject } from '../storage/watch-cache.js';
import { CompactedError } from '../storage/interface.js';
import { collectionPrefix } from '../registry/resource.js';
import { expired } from '../request/status.js';
import { exactMatchValue } from '../registry/fields.js';
import type { ListOptions } from './list-options.js';
import { decodeContinue, encodeContinue } from './list-options.js';

export interface ListResult {
  items: CachedObject[];
  revision: number;
  continueToken?: string;
  remainingItemCount?: number;
}

const STORAGE_PAGE = 500;

const EXPIRED_LIST = 'The resourceVersion for the provided list is too old.';
const EXPIRED_CONTINUE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

export async function listObjects(store: GenericStore, namespace: string, options: ListOptions): Promise<ListResult> {
  const cache = store.cache;
  await cache.start();
  const resourcePrefix = store.resource.storagePrefix;
  const prefix = collectionPrefix(store.resource, namespace);
  const matches = (object: CachedObject) => options.labelSelector.matches(object.labels) && options.fieldSelector.matches(object.fields);

  let revision: number;
  let after: string | undefined;
  let fromCache = true;
  if (options.continueToken !== undefined) {
    const token = decodeContinue(options.continueToken);
    after = resourcePrefix + token.start;
    if (token.revision === -1) {
      revision = await cache.syncToLatest();
    } else {
      revision = token.revision;
      // The cache can answer for an older snapshot only when nothing under it changed since.
      fromCache = cache.lastEventRevision <= revision && cache.revision >= revision;
    }
  } else if (options.resourceVersion === undefined) {
    revision = await cache.syncToLatest();
  } else if (options.resourceVersion === 0) {
    revision = cache.revision;
  } else if (options.resourceVersionMatch === 'Exact' || (options.limit > 0 && options.resourceVersionMatch === undefined)) {
    // A paginated list at resourceVersion N without a match is an exact read upstream (the cacher's
    // "legacy exact match", which it delegates to etcd).
    revision = options.resourceVersion;
    if (revision > cache.revision) await cache.waitUntilFresh(revision);
    fromCache = cache.lastEventRevision <= revision;
  } else {
    await cache.waitUntilFresh(options.resourceVersion);
    revision = cache.revision;
  }

  // kubectl wait/delete select one object by name: answer with a key lookup, not a scan.
  const pinnedName = exactMatchValue(options.fieldSelector, 'metadata.name');
  if (fromCache && pinnedName !== undefined && (namespace || !store.resource.namespaced) && after === undefined) {
    const object = cache.get(store.key(namespace, pinnedName));
    return { items: object && matches(object) ? [object] : [], revision };
  }

  if (fromCache) return page(cache.list(prefix, after), matches, options.limit, revision, resourcePrefix, !options.labelSelector.empty || !options.fieldSelector.empty);
  return listFromStorage(store, prefix, after, revision, matches, options.limit, !options.labelSelector.empty || !options.fieldSelector.empty);
}

function page(
  candidates: CachedObject[],
  matches: (object: CachedObject) => boolean,
  limit: number,
  revision: number,
  resourcePrefix: string,
  filtered: boolean,
): ListResult {
  const items: CachedObject[] = [];
  let index = 0;
  for (; index < candidates.length; index++) {
    const object = candidates[index];
    if (!matches(object)) continue;
    if (limit > 0 && items.length === limit) break;
    items.push(object);
  }
  const result: ListResult = { items, revision };
  if (limit > 0 && index < candidates.length && items.length > 0) {
    const last = items[items.length - 1].key;
    result.continueToken = encodeContinue({ revision, start: last.slice(resourcePrefix.length) });
    if (!filtered) result.remainingItemCount = candidates.length - index;
  }
  return result;
}

async function listFromStorage(
  store: GenericStore,
  prefix: string,
  after: string | undefined,
  revision: number,
  matches: (object: CachedObject) => boolean,
  limit: number,
  filtered: boolean,
): Promise<ListResult> {
  const items: CachedObject[] = [];
  const resourcePrefix = store.resource.storagePrefix;
  let cursor = after;
  for (;;) {
    let result;
    try {
      result = await store.storage.list(prefix, { revision, after: cursor, limit: limit > 0 ? Math.max(limit, STORAGE_PAGE) : STORAGE_PAGE });
    } catch (error) {
      if (error instanceof CompactedError) throw compactedError(after, resourcePrefix);
      throw error;
    }
    for (let index = 0; index < result.items.length; index++) {
      const kv = result.items[index];
      const object = store.cachedFromStorage(kv);
      if (!matches(object)) continue;
      if (limit > 0 && items.length === limit) {
        const last = items[items.length - 1].key;
        const page: ListResult = { items, revision, continueToken: encodeContinue({ revision, start: last.slice(resourcePrefix.length) }) };
        if (!filtered && result.remaining !== undefined) page.remainingItemCount = result.items.length - index + result.remaining;
        return page;
      }
      items.push(object);
    }
    if (!result.more || result.items.length === 0) break;
    cursor = result.items[result.items.length - 1].key;
  }
  return { items, revision };
}

/**
 * etcd's answer for a compacted read, as upstream words it: a plain list is just too old; a continued one
 * gets a token (revision -1) that continues from the same key at the latest revision, inconsistently.
 */
function compactedError(after: string | undefined, resourcePrefix: string): Error {
  if (after === undefined) return expired(EXPIRED_LIST);
  const error = expired(EXPIRED_CONTINUE);
  error.continueToken = encodeContinue({ revision: -1, start: after.slice(resourcePrefix.length) });
  return error;
}

/** The list document, concatenated from cached bytes. */
export function listBytes(kind: string, apiVersion: string, result: ListResult): string {
  const metadata: Record<string, unknown> = { resourceVersion: String(result.revision) };
  if (result.continueToken) metadata.continue = result.continueToken;
  if (result.remainingItemCount !== undefined) metadata.remainingItemCount = result.remainingItemCount;
  const head = `{"kind":${JSON.stringify(kind)},"apiVersion":${JSON.stringify(apiVersion)},"metadata":${JSON.stringify(metadata)},"items":[`;
  return head + result.items.map((item) => item.bytes).join(',') + ']}';
}
