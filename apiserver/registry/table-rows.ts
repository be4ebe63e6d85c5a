// Table rows for LIST answered from the watch cache. `kubectl get` asks for a Table every time, so a row is
// built once per cached object (one parse) and kept with it: the cells as JSON text, clock-dependent cells
// (ages) as SinceCells rendered per response, and where the object's metadata sits in its cached bytes,
// so PartialObjectMetadata is a slice of those bytes rather than a copy. A cached object is immutable
// (a change makes a new one), so a row can never go stale; the WeakMap lets it go with its object.

import type { CachedObject } from '../storage/watch-cache.js';
import type { KubeObject } from './object.js';
import type { PrinterColumn } from './resource.js';
import { cellValue, SinceCell, type IncludeObject } from './table.js';

interface RowParts {
  columns: PrinterColumn[];
  /** `{"cells":[…]` as static text runs with the clock-dependent cells between them. */
  segments: (string | SinceCell)[];
  /** [start, end) of the metadata value in the object's bytes. */
  metadata: [number, number] | undefined;
}

const rows = new WeakMap<CachedObject, RowParts>();

/** The rows of a Table for these cached objects, as the JSON text of the array's elements joined by commas. */
export function tableRowsJson(items: readonly CachedObject[], columns: PrinterColumn[], include: IncludeObject, metaApiVersion: string): string {
  const partialPrefix = `,"object":{"kind":"PartialObjectMetadata","apiVersion":${JSON.stringify(metaApiVersion)},"metadata":`;
  const now = Date.now();
  const out = new Array<string>(items.length);
  for (let index = 0; index < items.length; index++) {
    const item = items[index];
    let parts = rows.get(item);
    if (!parts || parts.columns !== columns) {
      parts = rowParts(item.bytes, columns);
      rows.set(item, parts);
    }
    let row = '';
    for (const segment of parts.segments) row += typeof segment === 'string' ? segment : JSON.stringify(segment.render(now) ?? null);
    if (include === 'Object') row += `,"object":${item.bytes}}`;
    else if (include === 'Metadata') row += `${partialPrefix}${parts.metadata ? item.bytes.slice(parts.metadata[0], parts.metadata[1]) : '{}'}}}`;
    else row += '}';
    out[index] = row;
  }
  return out.join(',');
}

function rowParts(bytes: string, columns: PrinterColumn[]): RowParts {
  const object = JSON.parse(bytes) as KubeObject;
  const segments: (string | SinceCell)[] = [];
  let text = '{"cells":[';
  columns.forEach((column, index) => {
    if (index > 0) text += ',';
    const value = cellValue(column, object);
    if (value instanceof SinceCell) {
      segments.push(flat(text), value);
      text = '';
    } else {
      text += JSON.stringify(value ?? null);
    }
  });
  segments.push(flat(`${text}]`));
  return { columns, segments, metadata: topLevelValueSpan(bytes, 'metadata') };
}

/**
 * A string built by `+=` is a tree that keeps every piece alive; reading a character makes V8 flatten it
 * into one buffer, so a cached row costs its length rather than its history.
 */
function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}

/**
 * Where the value of a top-level key sits in a JSON object's text. A small scanner that only tracks
 * nesting and strings; undefined when the key is absent or the text is not a JSON object.
 */
export function topLevelValueSpan(json: string, key: string): [number, number] | undefined {
  const target = JSON.stringify(key);
  let depth = 0;
  let index = 0;
  const length = json.length;
  let valueStart = -1;
  while (index < length) {
    const char = json.charCodeAt(index);
    if (char === 0x22 /* " */) {
      const start = index;
      index++;
      while (index < length) {
        const inner = json.charCodeAt(index);
        if (inner === 0x5c /* \ */) index += 2;
        else if (inner === 0x22) break;
        else index++;
      }
      index++;
      if (depth === 1 && valueStart < 0 && json.startsWith(target, start)) {
        // A key at the top level is followed by a colon; a string value is not.
        let next = index;
        while (next < length && json.charCodeAt(next) <= 0x20) next++;
        if (json.charCodeAt(next) === 0x3a /* : */ && index - start === target.length) {
          next++;
          while (next < length && json.charCodeAt(next) <= 0x20) next++;
          valueStart = next;
          index = next;
        }
      }
      continue;
    }
    if (char === 0x7b /* { */ || char === 0x5b /* [ */) {
      depth++;
    } else if (char === 0x7d /* } */ || char === 0x5d /* ] */) {
      depth--;
      if (valueStart >= 0 && depth === 1) return [valueStart, index + 1];
      if (depth === 0) return valueStart >= 0 ? [valueStart, trimEnd(json, index)] : undefined;
    } else if (valueStart >= 0 && depth === 1 && char === 0x2c /* , */) {
      // A scalar value ended.
      return [valueStart, trimEnd(json, index)];
    }
    index++;
  }
  return undefined;
}

function trimEnd(json: string, end: number): number {
  while (end > 0 && json.charCodeAt(end - 1) <= 0x20) end--;
  return end;
}
