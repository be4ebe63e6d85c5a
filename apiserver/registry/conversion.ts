// Version conversion for resources served in several versions from one storage prefix (CRDs): objects are
// written in the storage version and converted to the requested version on every way out (get, list,
// watch, write responses). The converter is the only kind-specific part; this module decides when to call it.

import type { KubeObject } from './object.js';
import type { CachedObject } from '../storage/watch-cache.js';

export interface VersionConverter {
  /** The version objects are written to storage in. */
  storageVersion: string;
  /** The full apiVersion objects are stored in when it is not "<the resource's group>/<storageVersion>". */
  storageApiVersion?: string;
  /**
   * Converts objects (each in some version of the resource) to `toVersion`, in order. Called only with
   * objects that are not in that version already. A failure rejects with a StatusError (or an Error,
   * which becomes a 500).
   */
  convert(objects: KubeObject[], toVersion: string): Promise<KubeObject[]>;
}

const API_VERSION_KEY = '"apiVersion":"';

/**
 * The apiVersion of stored bytes without parsing them: encodeForStorage writes kind (a plain string) and
 * then apiVersion first, so the first `"apiVersion":"` key is the top-level one.
 */
export function storedApiVersion(bytes: string): string | undefined {
  const start = bytes.indexOf(API_VERSION_KEY);
  if (start < 0) return undefined;
  const valueStart = start + API_VERSION_KEY.length;
  return bytes.slice(valueStart, bytes.indexOf('"', valueStart));
}

export function versionOf(apiVersion: string | undefined): string {
  if (!apiVersion) return '';
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
}

/**
 * Objects in `toVersion`; those already in it are left alone, the others are converted in one call. With
 * `toApiVersion`, "already in it" compares the whole apiVersion (a converter between groups).
 */
export async function convertObjects(converter: VersionConverter, objects: KubeObject[], toVersion: string, toApiVersion?: string): Promise<KubeObject[]> {
  const pending: number[] = [];
  objects.forEach((object, index) => {
    if (toApiVersion ? object.apiVersion !== toApiVersion : versionOf(object.apiVersion) !== toVersion) pending.push(index);
  });
  if (pending.length === 0) return objects;
  const converted = await converter.convert(
    pending.map((index) => objects[index]),
    toVersion,
  );
  const result = [...objects];
  pending.forEach((index, position) => (result[index] = converted[position]));
  return result;
}

/**
 * Cached (serialized) objects in `toVersion`. Selector attributes stay those of the stored object: labels
 * and metadata do not change in conversion.
 */
export async function convertCached(converter: VersionConverter, items: CachedObject[], toVersion: string, toApiVersion?: string): Promise<CachedObject[]> {
  const pending: number[] = [];
  items.forEach((item, index) => {
    const stored = storedApiVersion(item.bytes);
    if (toApiVersion ? stored !== toApiVersion : versionOf(stored) !== toVersion) pending.push(index);
  });
  if (pending.length === 0) return items;
  const converted = await converter.convert(
    pending.map((index) => JSON.parse(items[index].bytes) as KubeObject),
    toVersion,
  );
  const result = [...items];
  pending.forEach((index, position) => {
    result[index] = { ...items[index], bytes: JSON.stringify(converted[position]) };
  });
  return result;
}
