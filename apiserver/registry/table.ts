// Server-side printing: meta.k8s.io/v1 Table from a resource's printer columns. kubectl renders what we
// send verbatim, so ages are rendered here, as the upstream printers do.

import type { KubeObject } from './object.js';
import type { PrinterColumn, ResourceDefinition } from './resource.js';

export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

const NAME_DESCRIPTION =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
const CREATED_DESCRIPTION =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.';

/** Columns for kinds without a printer (upstream's default table convertor). */
const DEFAULT_COLUMNS: PrinterColumn[] = [
  { name: 'Name', type: 'string', format: 'name', description: NAME_DESCRIPTION, value: (object) => object.metadata?.name ?? '' },
  {
    name: 'Created At',
    type: 'date',
    description: CREATED_DESCRIPTION,
    // The default convertor's date cells are RFC 3339 strings that kubectl prints as they are.
    value: (object) => ({ raw: object.metadata?.creationTimestamp ?? null }),
  },
];

export function columnsOf(resource: ResourceDefinition): PrinterColumn[] {
  return resource.printerColumns ?? DEFAULT_COLUMNS;
}

export function columnDefinitions(columns: PrinterColumn[]): TableColumnDefinition[] {
  return columns.map((column) => ({
    name: column.name,
    type: column.type,
    format: column.format ?? '',
    description: column.description ?? (column.name === 'Name' ? NAME_DESCRIPTION : column.name === 'Age' ? CREATED_DESCRIPTION : ''),
    priority: column.priority ?? 0,
  }));
}

export function tableRow(columns: PrinterColumn[], object: KubeObject, include: IncludeObject, metaApiVersion = 'meta.k8s.io/v1'): Record<string, unknown> {
  const cells = columns.map((column) => renderCell(column, object));
  const row: Record<string, unknown> = { cells };
  if (include === 'Object') row.object = object;
  else if (include === 'Metadata') row.object = partialObjectMetadata(object, metaApiVersion);
  return row;
}

/**
 * A cell that reads the clock ("5m", "3 (2m ago)"): printers return it instead of a string so that it is
 * rendered when the response is written, and everything else about a row can be cached with the object.
 */
export class SinceCell {
  constructor(
    readonly timestamp: string | null | undefined,
    readonly format?: (age: string) => unknown,
  ) {}

  /** The parsed timestamp, kept: a cached row renders its ages on every list. */
  private millis: number | undefined;

  render(now = Date.now()): unknown {
    let age: string;
    if (!this.timestamp) {
      age = '<unknown>';
    } else {
      this.millis ??= Date.parse(this.timestamp);
      age = Number.isNaN(this.millis) ? '<invalid>' : humanDuration(now - this.millis);
    }
    return this.format ? this.format(age) : age;
  }
}

export function since(timestamp: string | null | undefined, format?: (age: string) => unknown): SinceCell {
  return new SinceCell(timestamp, format);
}

/** A cell's value as JSON would carry it, except that clock-dependent cells stay SinceCells. */
export function cellValue(column: PrinterColumn, object: KubeObject): unknown {
  let value: unknown;
  try {
    value = column.value(object);
  } catch {
    return null; // a printer must never fail a list
  }
  if (value instanceof SinceCell) return value;
  if (value !== null && typeof value === 'object' && 'raw' in (value as object)) return (value as { raw: unknown }).raw;
  if (column.type === 'date') {
    if (typeof value !== 'string') return value === undefined || value === null ? '<unknown>' : null;
    return new SinceCell(value);
  }
  return value === undefined ? null : value;
}

function renderCell(column: PrinterColumn, object: KubeObject): unknown {
  const value = cellValue(column, object);
  return value instanceof SinceCell ? value.render() : value;
}

/** Upstream's meta.AsPartialObjectMetadata copies the whole ObjectMeta, managedFields included. */
export function partialObjectMetadata(object: KubeObject, apiVersion = 'meta.k8s.io/v1'): Record<string, unknown> {
  return { kind: 'PartialObjectMetadata', apiVersion, metadata: object.metadata ?? {} };
}

export function translateTimestampSince(timestamp: string | undefined | null): string {
  if (!timestamp) return '<unknown>';
  const then = Date.parse(timestamp);
  if (Number.isNaN(then)) return '<invalid>';
  return humanDuration(Date.now() - then);
}

/** apimachinery's duration.HumanDuration. */
export function humanDuration(milliseconds: number): string {
  const seconds = Math.floor(milliseconds / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const rest = seconds % 60;
    return rest === 0 ? `${minutes}m` : `${minutes}m${rest}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const rest = minutes % 60;
    return rest === 0 ? `${hours}h` : `${hours}h${rest}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const rest = hours % 24;
    return rest === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${rest}h`;
  }
  const days = Math.floor(hours / 24);
  if (days < 365 * 2) return `${days}d`;
  if (days < 365 * 8) {
    const rest = days % 365;
    return rest === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${rest}d`;
  }
  return `${Math.floor(days / 365)}y`;
}

/** The Age column most printers end with. */
export const ageColumn: PrinterColumn = {
  name: 'Age',
  type: 'string',
  description: CREATED_DESCRIPTION,
  value: (object) => since(object.metadata?.creationTimestamp),
};

export const nameColumn: PrinterColumn = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: NAME_DESCRIPTION,
  value: (object) => object.metadata?.name ?? '',
};
