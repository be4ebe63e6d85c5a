// Resource quantities (`500m`, `2Gi`, `1e3`) as numbers: enough to compare requests with limits and to
// classify QoS. Precision beyond a double does not matter for either.

const SUFFIXES: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(([eE][+-]?[0-9]+)|[a-zA-Z]*)$/;

/** The value of a quantity, or undefined when it does not parse. */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = QUANTITY.exec(value.trim());
  if (!match) return undefined;
  const number = Number(match[1]);
  if (match[3]) return number * 10 ** Number(match[3].slice(1));
  const scale = SUFFIXES[match[2]];
  return scale === undefined ? undefined : number * scale;
}

/** Quantities compare equal when they denote the same amount (`1` and `1000m`). */
export function sameQuantity(a: number, b: number): boolean {
  return Math.abs(a - b) <= Math.max(Math.abs(a), Math.abs(b)) * 1e-12;
}

/** The quantity as the printers show it (the stored string; a bare number as a string). */
export function quantityString(value: unknown): string {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value !== '' ? value : '0';
}

const BINARY_STEPS: [string, number][] = [['Ei', 2 ** 60], ['Pi', 2 ** 50], ['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]];

/**
 * A CPU amount as resource.Quantity prints a DecimalSI value scaled to nanocores: the largest suffix that
 * states it exactly (`250m`, `1`, `123456n`).
 */
export function formatCores(cores: number): string {
  const nanos = Math.max(0, Math.round(cores * 1e9));
  if (nanos % 1e9 === 0) return String(nanos / 1e9);
  if (nanos % 1e6 === 0) return `${nanos / 1e6}m`;
  if (nanos % 1e3 === 0) return `${nanos / 1e3}u`;
  return `${nanos}n`;
}

/** Bytes as a BinarySI quantity: `12345Ki` when whole kibibytes (or larger units), else the plain number. */
export function formatBytes(bytes: number): string {
  const whole = Math.max(0, Math.round(bytes));
  for (const [suffix, scale] of BINARY_STEPS) if (whole >= scale && whole % scale === 0) return `${whole / scale}${suffix}`;
  return String(whole);
}
