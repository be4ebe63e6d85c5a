// A decoded JSON value as CEL sees it at a schema node (upstream's UnstructuredToVal): integers are int
// (bigint), numbers double, date-time/date strings timestamps, duration strings durations, byte strings
// bytes, object fields under their escaped names, undeclared fields invisible.

import { Duration } from '@marcbachmann/cel-js/evaluator';
import type { CelDecl } from './types.js';

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration ("1h30m", "1.5s", "-300ms", "0"), in milliseconds; undefined when malformed. */
export function parseGoDuration(text: string): number | undefined {
  const match = /^([-+]?)(.*)$/.exec(text)!;
  const sign = match[1] === '-' ? -1 : 1;
  const rest = match[2];
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let index = 0;
  while (index < rest.length) {
    part.lastIndex = index;
    const piece = part.exec(rest);
    if (!piece) return undefined;
    total += Number(piece[1]) * DURATION_UNITS[piece[2]];
    index = part.lastIndex;
  }
  return sign * total;
}

/** On a timestamp Date: the UTC offset in minutes its text was written with (absent for UTC). */
export const TIMESTAMP_OFFSET = Symbol('timestamp offset');

/** Go's time.ParseDuration error for a malformed duration, e.g. `time: unknown unit "d" in duration "1d"`. */
export function goDurationError(text: string): string {
  const quoted = JSON.stringify(text);
  let rest = text.replace(/^[-+]/, '');
  if (rest === '') return `time: invalid duration ${quoted}`;
  while (rest !== '') {
    const number = /^(\d*)(\.?)(\d*)/.exec(rest)!;
    if (number[1] === '' && number[3] === '') return `time: invalid duration ${quoted}`;
    rest = rest.slice(number[0].length);
    const unit = /^[^0-9.]*/.exec(rest)![0];
    if (unit === '') return `time: missing unit in duration ${quoted}`;
    if (!(unit in DURATION_UNITS)) return `time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`;
    rest = rest.slice(unit.length);
  }
  return `time: invalid duration ${quoted}`;
}

export function toCelValue(value: unknown, decl: CelDecl | undefined): unknown {
  if (value === null || value === undefined || !decl) return value ?? null;
  switch (decl.kind) {
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return value;
      const source = value as Record<string, unknown>;
      const result = new decl.ctor() as Record<string, unknown>;
      for (const [name, field] of decl.fields) {
        // A field set to null is absent to rules (upstream); null list items and map values stay null.
        if (Object.prototype.hasOwnProperty.call(source, field.property) && source[field.property] !== undefined && source[field.property] !== null) result[name] = toCelValue(source[field.property], field.decl);
      }
      return result;
    }
    case 'map': {
      if (typeof value !== 'object' || Array.isArray(value)) return value;
      const result: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) result[key] = toCelValue(item, decl.value);
      return result;
    }
    case 'list':
      return Array.isArray(value) ? value.map((item) => toCelValue(item, decl.item)) : value;
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : value;
    case 'dyn':
      return typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : value;
    case 'timestamp': {
      if (typeof value !== 'string') return value;
      const date = new Date(value);
      if (Number.isNaN(date.getTime())) return value;
      // Go's time.Time keeps the offset it was parsed with, and string(timestamp) prints it.
      const offset = /([+-])(\d{2}):(\d{2})$/.exec(value);
      if (offset) {
        const minutes = (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3]));
        if (minutes !== 0) Object.defineProperty(date, TIMESTAMP_OFFSET, { value: minutes });
      }
      return date;
    }
    case 'duration': {
      if (typeof value !== 'string') return value;
      const milliseconds = parseGoDuration(value);
      return milliseconds === undefined ? value : Duration.fromMilliseconds(milliseconds);
    }
    case 'bytes':
      return typeof value === 'string' ? new Uint8Array(Buffer.from(value, 'base64')) : value;
    default:
      return value;
  }
}
