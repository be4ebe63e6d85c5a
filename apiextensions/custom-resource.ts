// From a CRD version to a resource declaration the generic framework serves: names, scope, the inline
// schema (with apiVersion, kind and metadata injected), the status subresource and printer columns.

import type { KubeObject } from '../apiserver/registry/object.js';
import type { PrinterColumn, ResourceDefinition } from '../apiserver/registry/resource.js';
import { defineResource, statusSubresource } from '../apiserver/registry/resource.js';
import { nameColumn } from '../apiserver/registry/table.js';
import { StatusError } from '../apiserver/request/status.js';
import type { JSONSchema } from '../apiserver/schema/types.js';
import type { CrdColumn, CrdNames, CrdSpec, CrdVersion } from './crd-validation.js';
import { scaleSubresource } from '../apiserver/registry/scale.js';
import { celRulesFor } from './cel/custom-resource-rules.js';
import type { SubresourceDefinition } from '../apiserver/registry/resource.js';
import { compareKubeVersions } from '../apiserver/discovery/documents.js';
import { formatGoNumber } from '../apiserver/schema/go-values.js';
import type { CustomResourceValidation } from './validation/custom-resource-validation.js';

const OBJECT_META_REF = '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/**
 * The served schema: the CRD's own, with the fields every object has. metadata refers to the shared
 * ObjectMeta, so it is pruned to the standard fields as upstream does and `explain` can describe it.
 */
export function customResourceSchema(version: CrdVersion): JSONSchema {
  const schema = (version.schema?.openAPIV3Schema ?? { type: 'object' }) as JSONSchema;
  return {
    ...schema,
    type: 'object',
    properties: {
      ...(schema.properties ?? {}),
      apiVersion: {
        type: 'string',
        description:
          'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources',
      },
      kind: {
        type: 'string',
        description:
          'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds',
      },
      metadata: { description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata", allOf: [{ $ref: OBJECT_META_REF }] },
    },
  };
}

/**
 * Parses the JSONPath subset printer columns use in practice: `.a.b`, `.a[0].b`, `.a['x.y']`.
 * Anything else (filters, wildcards) yields undefined, so the cell is null rather than wrong.
 */
export function parseSimpleJsonPath(path: string): (string | number)[] | undefined {
  let rest = path.trim();
  if (rest.startsWith('{') && rest.endsWith('}')) rest = rest.slice(1, -1);
  if (rest.startsWith('$')) rest = rest.slice(1);
  const segments: (string | number)[] = [];
  const token = /^(?:\.([A-Za-z0-9_-]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\])/;
  while (rest.length > 0) {
    const match = token.exec(rest);
    if (!match) return undefined;
    if (match[1] !== undefined) segments.push(match[1]);
    else if (match[2] !== undefined) segments.push(Number(match[2]));
    else segments.push(match[3] ?? match[4]);
    rest = rest.slice(match[0].length);
  }
  return segments;
}

function lookup(object: unknown, segments: (string | number)[]): unknown {
  let current = object;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

/** Upstream's tableconvertor cell rules: a wrong-typed or missing value is a null cell. */
function cellValue(type: string, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  switch (type) {
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date':
      return typeof value === 'string' ? value : null;
    default:
      return goPrint(value);
  }
}

/** How upstream's JSONPath printer writes a value into a string column: fmt's %v (`[1 2 3]`, `map[a:x]`). */
function goPrint(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'number') return formatGoNumber(value);
  if (typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `[${value.map(goPrint).join(' ')}]`;
  const entries = Object.keys(value).sort().map((key) => `${key}:${goPrint((value as Record<string, unknown>)[key])}`);
  return `map[${entries.join(' ')}]`;
}

export function printerColumnsFor(columns: CrdColumn[] | undefined): PrinterColumn[] {
  const declared = columns?.length ? columns : [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }];
  return [
    nameColumn,
    ...declared.map((column): PrinterColumn => {
      const segments = parseSimpleJsonPath(column.jsonPath);
      return {
        name: column.name,
        type: column.type as PrinterColumn['type'],
        format: column.format,
        priority: column.priority,
        description: column.description ?? `Custom resource definition column (in JSONPath format): ${column.jsonPath}`,
        value: (object: KubeObject) => {
          const value = segments ? cellValue(column.type, lookup(object, segments)) : null;
          // A null date must not become "<unknown>": the table renders raw values as they are.
          return column.type === 'date' && value === null ? { raw: null } : value;
        },
      };
    }),
  ];
}

/**
 * spec.versions[*].selectableFields as field selectors, named by their path without the leading dot; a
 * missing field selects as "" (upstream formats strings, integers and booleans as they print).
 */
export function selectableFieldsFor(declared: { jsonPath: string }[] | undefined): Record<string, (object: KubeObject) => string | undefined> {
  const fields: Record<string, (object: KubeObject) => string | undefined> = {};
  for (const { jsonPath } of declared ?? []) {
    const segments = parseSimpleJsonPath(jsonPath);
    if (!segments) continue;
    fields[jsonPath.replace(/^\./, '')] = (object) => {
      const value = lookup(object, segments);
      return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
    };
  }
  return fields;
}

/** Upstream's warning for a deprecated version: its own text, or "<gv> <Kind> is deprecated; use <newest served GA-most version>". */
export function deprecationWarningFor(spec: CrdSpec, version: CrdVersion, kind: string): string | undefined {
  if (!version.deprecated) return undefined;
  if (version.deprecationWarning) return version.deprecationWarning;
  const message = `${spec.group}/${version.name} ${kind} is deprecated`;
  const newer = spec.versions
    .filter((candidate) => candidate.served && !candidate.deprecated && compareKubeVersions(candidate.name, version.name) < 0)
    .map((candidate) => candidate.name)
    .sort(compareKubeVersions);
  return newer.length === 0 ? message : `${message}; use ${spec.group}/${newer[0]} ${kind}`;
}

/**
 * The resource a served CRD version becomes. `terminating` is asked on every create (405 while deleting);
 * `validation` is the version's compiled schema validation (absent where only storage is needed).
 */
export function customResourceDefinitionFor(
  spec: CrdSpec,
  accepted: CrdNames,
  version: CrdVersion,
  terminating: () => boolean,
  validation?: CustomResourceValidation,
): ResourceDefinition {
  const rules = celRulesFor(version);
  return defineResource({
    group: spec.group,
    version: version.name,
    kind: accepted.kind,
    plural: accepted.plural,
    singular: accepted.singular,
    listKind: accepted.listKind,
    namespaced: spec.scope === 'Namespaced',
    shortNames: accepted.shortNames ?? [],
    categories: accepted.categories ?? [],
    schema: customResourceSchema(version),
    subresources: customSubresources(version.subresources),
    storagePrefix: `/registry/${spec.group}/${accepted.plural}/`,
    generation: true,
    nameValidation: 'dns1123-subdomain',
    printerColumns: printerColumnsFor(version.additionalPrinterColumns),
    selectableFields: selectableFieldsFor(version.selectableFields),
    deprecationWarning: deprecationWarningFor(spec, version, accepted.kind),
    strategy: {
      prepareForCreate: (object, context) => {
        if (terminating()) throw new StatusError(405, 'MethodNotAllowed', 'create not allowed while custom resource definition is terminating');
        warnAbout(validation?.absentDefaultsWarning(object), context.warnings);
      },
      prepareForUpdate: (object, _old, context) => warnAbout(validation?.absentDefaultsWarning(object), context.warnings),
      // Schema errors first; CEL rules run only on an object the schema accepts (their types rely on it).
      validate: (object, context) => {
        const errors = validation?.validate(object) ?? [];
        return errors.length > 0 ? errors : rules(object, undefined, context.warnings);
      },
      validateUpdate: (object, old, context) => {
        const errors = validation?.validateUpdate(object, old) ?? [];
        return errors.length > 0 ? errors : rules(object, old, context.warnings);
      },
      validateStatusUpdate: (object, old) => validation?.validateStatusUpdate(object, old) ?? [],
    },
  });
}

function warnAbout(warning: string | undefined, warnings: string[]): void {
  if (warning && !warnings.includes(warning)) warnings.push(warning);
}

/** status and scale, as the CRD version declares them (scale paths are simple JSONPaths: `.spec.replicas`). */
function customSubresources(declared: { status?: unknown; scale?: { specReplicasPath?: string; statusReplicasPath?: string; labelSelectorPath?: string } } | undefined): Record<string, SubresourceDefinition> {
  const result: Record<string, SubresourceDefinition> = {};
  if (declared?.status) result.status = statusSubresource;
  if (declared?.scale) {
    const path = (jsonPath: string | undefined) => jsonPath?.replace(/^\./, '');
    result.scale = scaleSubresource({
      specReplicasPath: path(declared.scale.specReplicasPath),
      statusReplicasPath: path(declared.scale.statusReplicasPath),
      selectorPath: path(declared.scale.labelSelectorPath) ?? '',
    });
  }
  return result;
}
