// The shape upstream validates a v1 CRD in: its internal version. Converting v1 to internal moves the
// per-version schema, subresources, printer columns and selectable fields to the spec when every version
// has the same one (Convert_v1_CustomResourceDefinitionSpec_To_apiextensions_CustomResourceDefinitionSpec),
// which is why a single-version CRD's schema errors read `spec.validation.openAPIV3Schema…` and its column
// errors `spec.additionalPrinterColumns[0]…`. Validation reports at those paths so messages match upstream's.

import { isObject } from '../apiserver/registry/object.js';
import type { CrdColumn, CrdSpec, CrdVersion } from './crd-validation.js';

type Subresources = NonNullable<CrdVersion['subresources']>;

export interface InternalVersion {
  index: number;
  version: CrdVersion;
  /** Only when not hoisted to the spec. */
  schema?: CrdVersion['schema'];
  subresources?: Subresources;
  additionalPrinterColumns?: CrdColumn[];
  selectableFields?: { jsonPath: string }[];
}

export interface InternalView {
  validation?: CrdVersion['schema'];
  subresources?: Subresources;
  additionalPrinterColumns?: CrdColumn[];
  selectableFields?: { jsonPath: string }[];
  versions: InternalVersion[];
}

const HOISTED = ['schema', 'subresources', 'additionalPrinterColumns', 'selectableFields'] as const;

export function internalView(spec: Partial<CrdSpec>): InternalView {
  const versions = (Array.isArray(spec.versions) ? spec.versions : []).map((version) => (isObject(version) ? version : ({} as CrdVersion)));
  const view: InternalView = {
    versions: versions.map((version, index) => ({
      index,
      version,
      schema: version.schema ?? undefined,
      subresources: version.subresources ?? undefined,
      additionalPrinterColumns: version.additionalPrinterColumns ?? undefined,
      selectableFields: version.selectableFields ?? undefined,
    })),
  };
  if (versions.length === 0) return view;
  for (const field of HOISTED) {
    const first = versions[0][field];
    if (!versions.every((version) => semanticEqual(version[field], first))) continue;
    if (field === 'schema') view.validation = first as InternalView['validation'];
    else (view as unknown as Record<string, unknown>)[field] = emptyToUndefined(first);
    for (const version of view.versions) delete version[field];
  }
  return view;
}

/** The subresources that apply to one version (upstream's getSubresourcesForVersion). */
export function subresourcesFor(view: InternalView, entry: InternalVersion): Subresources | undefined {
  return view.versions.some((version) => version.subresources !== undefined) ? entry.subresources : view.subresources;
}

function emptyToUndefined(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value) && value.length === 0) return undefined;
  return value;
}

/**
 * apimachinery's Semantic.DeepEqual on decoded values: an absent (or null) list equals an empty one.
 * An empty object does not equal an absent one: most such fields are pointers to structs upstream
 * (`subresources: {status: {}}` enables status, an absent one does not).
 */
export function semanticEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const absent = (value: unknown) => value === undefined || value === null || (Array.isArray(value) && value.length === 0);
  if (absent(a) || absent(b)) return absent(a) && absent(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => semanticEqual(item, b[index]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) if (!semanticEqual(a[key], b[key])) return false;
    return true;
  }
  return a === b;
}
