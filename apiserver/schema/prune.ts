// Pruning of custom resources (apiextensions' pruning and objectmeta coercion): fields the structural
// schema does not declare are removed, except below x-kubernetes-preserve-unknown-fields; apiVersion, kind
// and metadata of the root and of every x-kubernetes-embedded-resource are kept, and each such metadata is
// pruned to ObjectMeta's fields. Removed paths are reported the way upstream spells them (`spec.foo`,
// `spec.list[0].foo`, `metadata.bogus`), each with the closest declared sibling as a suggestion, so
// fieldValidation=Strict/Warn can say `did you mean "spec.replicas"?`.

import { builtinSchemas } from './builtin.js';
import { goSyntax } from './go-values.js';
import { objectMetaDecodeError, onlyFlatObjectMetaFields } from './object-meta-decode.js';
import type { SchemaNode } from './structural.js';
import type { JSONSchema } from './types.js';
import { validateStructure } from './validate.js';

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
// Server-owned or free-form metadata fields the ObjectMeta schema would otherwise type-check.
const OBJECT_META_IGNORED = ['managedFields', 'creationTimestamp', 'deletionTimestamp'];
const TYPE_META_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

export interface PruneReport {
  /** Removed fields by path, in the order found. */
  unknownFields: string[];
  /** For some removed paths: the declared sibling the client probably meant. */
  suggestions: Map<string, string>;
  /**
   * Why the object cannot be decoded (upstream's decoder fails the request with a 400): the root's or an
   * embedded resource's metadata does not fit ObjectMeta (`labels: 5`), or an embedded apiVersion/kind is
   * not a string. Only the first is kept, as upstream stops there. Reads drop such fields instead.
   */
  decodeError?: string;
  /** How many fields were removed (tracked or not), so a read path knows whether to re-encode. */
  removed: number;
}

export function pruneCustomResource(object: Record<string, unknown>, schema: SchemaNode, track: boolean): PruneReport {
  const report: PruneReport = { unknownFields: [], suggestions: new Map(), removed: 0 };
  new Pruner(report, track).prune(object, schema, '', true);
  return report;
}

class Pruner {
  constructor(
    private readonly report: PruneReport,
    private readonly track: boolean,
  ) {}

  prune(value: unknown, node: SchemaNode | undefined, path: string, embedded: boolean): void {
    if (node?.preserveUnknownFields) {
      this.descendPreserving(value, node, path, embedded || node.embeddedResource);
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, index) => this.prune(item, node?.items, `${path}[${index}]`, node?.items?.embeddedResource ?? false));
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const object = value as Record<string, unknown>;
    const isEmbedded = embedded || (node?.embeddedResource ?? false);
    for (const key of Object.keys(object)) {
      if (isEmbedded && TYPE_META_FIELDS.has(key)) {
        this.coerceTypeMeta(object, key, path);
        continue;
      }
      const property = node?.properties?.get(key);
      const childPath = path ? `${path}.${key}` : key;
      if (property) this.prune(object[key], property, childPath, false);
      else if (node?.additionalProperties) this.prune(object[key], node.additionalProperties, childPath, false);
      else {
        this.record(childPath, key, node, path);
        delete object[key];
      }
    }
  }

  /** Below preserve-unknown-fields nothing is removed, but declared properties are still pruned inside. */
  private descendPreserving(value: unknown, node: SchemaNode, path: string, embedded: boolean): void {
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        if (node.items) this.descendPreserving(item, node.items, `${path}[${index}]`, node.items.embeddedResource);
      });
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const object = value as Record<string, unknown>;
    for (const key of Object.keys(object)) {
      if (embedded && TYPE_META_FIELDS.has(key)) {
        this.coerceTypeMeta(object, key, path);
        continue;
      }
      const childPath = path ? `${path}.${key}` : key;
      const property = node.properties?.get(key) ?? node.additionalProperties;
      if (property) this.prune(object[key], property, childPath, false);
    }
  }

  private record(childPath: string, key: string, node: SchemaNode | undefined, parentPath: string): void {
    this.report.removed++;
    if (!this.track) return;
    this.report.unknownFields.push(childPath);
    const candidates = node?.properties ? [...node.properties.keys()] : [];
    const suggestion = closest(key, candidates);
    if (suggestion) this.report.suggestions.set(childPath, parentPath ? `${parentPath}.${suggestion}` : suggestion);
  }

  /** apiVersion, kind and metadata of a resource (the root or an embedded one), as upstream's coercion. */
  private coerceTypeMeta(object: Record<string, unknown>, key: string, path: string): void {
    if (key === 'metadata') {
      this.coerceMetadata(object, path);
      return;
    }
    // The root's apiVersion and kind were read when the request was decoded.
    const value = object[key];
    if (path === '' || typeof value === 'string') return;
    if (this.track) this.decodeFailure(`${path}.${key}: Invalid value: ${goSyntax(value)}: must be a string`);
    else {
      delete object[key];
      this.report.removed++;
    }
  }

  private decodeFailure(message: string): void {
    this.report.decodeError ??= message;
  }

  /**
   * ObjectMeta round trip: unknown metadata fields go; a malformed one fails a write (Go's decode error)
   * and is dropped on a read (upstream's DropMalformedFields for objects stored before validation).
   */
  private coerceMetadata(object: Record<string, unknown>, path: string): void {
    const metadata = object.metadata;
    const metadataPath = path ? `${path}.metadata` : 'metadata';
    if (metadata === null) {
      delete object.metadata;
      this.report.removed++;
      return;
    }
    const decodeError = objectMetaDecodeError(metadata);
    if (decodeError) {
      if (this.track) {
        // At the root the decoder's own error; below, upstream's field.Invalid around it.
        this.decodeFailure(path === '' ? decodeError : `${metadataPath}: Invalid value: ${goSyntax(metadata)}: ${decodeError}`);
        return;
      }
      if (typeof metadata !== 'object' || Array.isArray(metadata)) {
        delete object.metadata;
        this.report.removed++;
        return;
      }
      const fields = metadata as Record<string, unknown>;
      for (const key of Object.keys(fields)) {
        if (objectMetaDecodeError({ [key]: fields[key] })) {
          delete fields[key];
          this.report.removed++;
        }
      }
    }
    // Every write passes here: the common metadata (name, labels, annotations…) is known to have nothing to prune.
    if (onlyFlatObjectMetaFields(metadata)) return;
    const definitions = builtinSchemas();
    const result = validateStructure(metadata, definitions[OBJECT_META], definitions, { ignorePaths: OBJECT_META_IGNORED });
    this.report.removed += result.unknownFields.length;
    if (!this.track) return;
    const known = Object.keys((definitions[OBJECT_META] as JSONSchema).properties ?? {});
    for (const field of result.unknownFields) {
      const fullPath = `${metadataPath}.${field}`;
      this.report.unknownFields.push(fullPath);
      if (!field.includes('.') && !field.includes('[')) {
        const suggestion = closest(field, known);
        if (suggestion) this.report.suggestions.set(fullPath, `${metadataPath}.${suggestion}`);
      }
    }
  }
}

/** The declared name a mistyped one most likely meant: same letters in another case, or a few edits away. */
export function closest(name: string, candidates: string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate.toLowerCase() === lower) return candidate;
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // Short names need a close match, or every two-letter typo would "mean" something.
  const allowed = Math.min(3, Math.floor(name.length / 3));
  return bestDistance <= allowed ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return Infinity;
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
    }
  }
  return rows[a.length][b.length];
}
