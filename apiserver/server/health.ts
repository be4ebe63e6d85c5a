// /healthz, /livez and /readyz with named checks, `?verbose`, `?exclude=<check>` and `/<endpoint>/<check>`,
// in upstream's text format. Each check is a function that throws (or rejects) when unhealthy.

import type { ServerResponse } from 'node:http';

export type HealthCheck = () => void | Promise<void>;

export class HealthChecks {
  private readonly checks = new Map<string, { check: HealthCheck; endpoints: Set<string> }>();

  constructor() {
    this.add('ping', () => undefined, ['healthz', 'livez', 'readyz']);
    this.add('log', () => undefined, ['healthz', 'livez', 'readyz']);
  }

  add(name: string, check: HealthCheck, endpoints: string[] = ['healthz', 'readyz']): void {
    this.checks.set(name, { check, endpoints: new Set(endpoints) });
  }

  /** Runs the checks of an endpoint and returns the report (ok decides 200 vs 500). */
  async run(endpoint: string, only: string | undefined, excluded: Set<string>): Promise<{ ok: boolean; verboseBody: string; found: boolean }> {
    const selected = [...this.checks.entries()].filter(([name, entry]) => entry.endpoints.has(endpoint) && !excluded.has(name) && (only === undefined || name === only));
    if (only !== undefined && selected.length === 0) return { ok: false, verboseBody: '', found: false };
    let ok = true;
    const lines: string[] = [];
    await Promise.all(
      selected.map(async ([name, entry], index) => {
        try {
          await entry.check();
          lines[index] = `[+]${name} ok`;
        } catch (error) {
          ok = false;
          lines[index] = `[-]${name} failed: ${(error as Error)?.message ?? 'reason withheld'}`;
        }
      }),
    );
    for (const name of excluded) if (this.checks.has(name)) lines.push(`[+]${name} excluded: ok`);
    lines.push(ok ? `${endpoint} check passed` : `${endpoint} check failed`);
    return { ok, verboseBody: lines.join('\n') + '\n', found: true };
  }
}

export async function serveHealth(res: ServerResponse, checks: HealthChecks, path: string, query: URLSearchParams): Promise<boolean> {
  const match = /^\/(healthz|livez|readyz)(?:\/([^/]+))?\/?$/.exec(path);
  if (!match) return false;
  const [, endpoint, only] = match;
  const excluded = new Set(query.getAll('exclude'));
  const result = await checks.run(endpoint, only, excluded);
  if (!result.found) return false;
  const verbose = query.has('verbose') || !result.ok;
  const body = verbose ? result.verboseBody : 'ok';
  res.statusCode = result.ok ? 200 : 500;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-cache, private');
  res.end(body);
  return true;
}
