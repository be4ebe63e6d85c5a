// Timestamp accessors with a time zone, as cel-go reads the zone: an IANA name (`America/New_York`) or a
// UTC offset `[+|-]hh:mm` (`01:00` is east of UTC). cel-js accepts names only, so CRD rules' calls with a
// zone are rewritten to these implementations (see compile.ts), like `matches`.

import type { Environment } from '@marcbachmann/cel-js';
import { EvaluationError } from '@marcbachmann/cel-js';

type Field = 'getFullYear' | 'getMonth' | 'getDate' | 'getDayOfMonth' | 'getDayOfWeek' | 'getDayOfYear' | 'getHours' | 'getMinutes' | 'getSeconds' | 'getMilliseconds';

export const ZONED_ACCESSORS: Field[] = ['getFullYear', 'getMonth', 'getDate', 'getDayOfMonth', 'getDayOfWeek', 'getDayOfYear', 'getHours', 'getMinutes', 'getSeconds', 'getMilliseconds'];

/** The rewritten name of a zoned accessor. */
export const zonedName = (field: string) => `__k8sZoned_${field}`;

interface Civil {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  weekday: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock fields of `time` in `zone`, or Go's error for an unknown zone or a malformed offset. */
function civil(time: Date, zone: string): Civil {
  const colon = zone.indexOf(':');
  if (colon >= 0) {
    const hours = Number.parseInt(zone.slice(0, colon), 10);
    const minutes = Number.parseInt(zone.slice(colon + 1), 10);
    if (!/^[+-]?\d+$/.test(zone.slice(0, colon))) throw new EvaluationError(`strconv.Atoi: parsing ${JSON.stringify(zone.slice(0, colon))}: invalid syntax`);
    if (!/^[+-]?\d+$/.test(zone.slice(colon + 1))) throw new EvaluationError(`strconv.Atoi: parsing ${JSON.stringify(zone.slice(colon + 1))}: invalid syntax`);
    const offset = zone.startsWith('-') ? hours * 60 - minutes : hours * 60 + minutes;
    const shifted = new Date(time.getTime() + offset * 60_000);
    return {
      year: shifted.getUTCFullYear(),
      month: shifted.getUTCMonth(),
      day: shifted.getUTCDate(),
      hour: shifted.getUTCHours(),
      minute: shifted.getUTCMinutes(),
      second: shifted.getUTCSeconds(),
      millisecond: shifted.getUTCMilliseconds(),
      weekday: shifted.getUTCDay(),
    };
  }
  let formatter = formatters.get(zone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short' });
    } catch {
      throw new EvaluationError(`unknown time zone ${zone}`);
    }
    formatters.set(zone, formatter);
  }
  const parts = Object.fromEntries(formatter.formatToParts(time).map((part) => [part.type, part.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month) - 1,
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    millisecond: time.getUTCMilliseconds(),
    weekday: WEEKDAYS[parts.weekday] ?? 0,
  };
}

function field(name: Field, time: Date, zone: string): bigint {
  const c = civil(time, zone);
  switch (name) {
    case 'getFullYear':
      return BigInt(c.year);
    case 'getMonth':
      return BigInt(c.month);
    case 'getDate':
      return BigInt(c.day);
    case 'getDayOfMonth':
      return BigInt(c.day - 1);
    case 'getDayOfWeek':
      return BigInt(c.weekday);
    case 'getDayOfYear':
      return BigInt(Math.round((Date.UTC(c.year, c.month, c.day) - Date.UTC(c.year, 0, 1)) / 86_400_000));
    case 'getHours':
      return BigInt(c.hour);
    case 'getMinutes':
      return BigInt(c.minute);
    case 'getSeconds':
      return BigInt(c.second);
    case 'getMilliseconds':
      return BigInt(c.millisecond);
  }
}

export function registerZonedAccessors(env: Environment): void {
  for (const name of ZONED_ACCESSORS) {
    env.registerFunction(`google.protobuf.Timestamp.${zonedName(name)}(string): int`, (time: Date, zone: string) => field(name, time, zone));
  }
}
