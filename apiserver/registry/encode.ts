// Objects are kept serialized on every read path. They are encoded once on write in a canonical key order
// whose first "resourceVersion" key is always metadata.resourceVersion, so the revision a store assigns can
// be stamped into the bytes with one string splice instead of a parse and a stringify.

import type { KubeObject } from './object.js';

const RESOURCE_VERSION_KEY = '"resourceVersion":"';

/** Serializes for storage: kind, apiVersion, then metadata with resourceVersion first (left empty). */
export function encodeForStorage(object: KubeObject): string {
  const { kind, apiVersion, metadata, ...rest } = object;
  const { resourceVersion: _ignored, ...metadataRest } = metadata;
  return JSON.stringify({ kind, apiVersion, metadata: { resourceVersion: '', ...metadataRest }, ...rest });
}

/**
 * Sets metadata.resourceVersion in bytes produced by encodeForStorage. In valid JSON a quote inside a
 * string is always escaped, so the first unescaped `"resourceVersion":"` is a key, and kind and apiVersion
 * (which precede metadata) are plain strings: the first such key is the metadata one.
 */
export function stampResourceVersion(bytes: string, revision: number | string): string {
  const start = bytes.indexOf(RESOURCE_VERSION_KEY);
  if (start < 0) return bytes;
  const valueStart = start + RESOURCE_VERSION_KEY.length;
  const valueEnd = bytes.indexOf('"', valueStart);
  return bytes.slice(0, valueStart) + String(revision) + bytes.slice(valueEnd);
}

export function decodeStored(bytes: string): KubeObject {
  return JSON.parse(bytes) as KubeObject;
}
