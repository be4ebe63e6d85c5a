// /healthz, /livez and /readyz with named checks, `?verbose`, `?exclude=<check>` and `/<endpoint>/<check>`,
// in upstream's text format. Each check is a function that throws (or rejects) when unhealthy.

import type { ServerResponse } from 'node:http';

/** Throws (or rejects) when unhealthy; may return a note that `?verbose` shows after `ok`. */
export type HealthCheck = () => void | string | Promise<void | string>;

export interface HealthCheckOptions {
  /**
   * Show the failure reason in the endpoint's output. Upstream withholds reasons on these public endpoints;
   * a check whose whole point is to tell an operator what to fix (an extension's self-check) opts in.
   */
  showReason?: boolean;
}

export class HealthChecks {
  private readonly checks = new Map<string, { check: HealthCheck; endpoints: Set<string>; showReason: boolean }>();
  private readonly failures = new Map<string, string>();

  constructor() {
    this.add('ping', () => undefined, ['healthz', 'livez', 'readyz']);
    this.add('log', () => undefined, ['healthz', 'livez', 'readyz']);
  }

  add(name: string, check: HealthCheck, endpoints: string[] = ['healthz', 'readyz'], options: HealthCheckOptions = {}): void {
    this.checks.set(name, { check, endpoints: new Set(endpoints), showReason: options.showReason ?? false });
  }

  /**
   * Runs the checks of an endpoint in registration order, as upstream's handleRootHealth reports them:
   * excluded checks in place, failures without their reason (the endpoints are public; the reason is
   * logged), and a warning for exclusions that match nothing.
   */
  async run(endpoint: string, excluded: Set<string>): Promise<{ ok: boolean; body: string }> {
    const selected = [...this.checks.entries()].filter(([, entry]) => entry.endpoints.has(endpoint));
    const unmatched = new Set(excluded);
    const lines = await Promise.all(
      selected.map(async ([name, entry]) => {
        if (excluded.has(name)) {
          unmatched.delete(name);
          return { ok: true, line: `[+]${name} excluded: ok` };
        }
        try {
          const note = await entry.check();
          this.failures.delete(name);
          return { ok: true, line: note ? `[+]${name} ok: ${note}` : `[+]${name} ok` };
        } catch (error) {
          // The reason goes to the log instead, once per change so that polling does not flood it.
          const reason = (error as Error)?.message ?? String(error);
          if (this.failures.get(name) !== reason) console.error(`[-]${endpoint} check ${name} failed: ${reason}`);
          this.failures.set(name, reason);
          return { ok: false, line: `[-]${name} failed: ${entry.showReason ? reason : 'reason withheld'}` };
        }
      }),
    );
    let body = lines.map(({ line }) => `${line}\n`).join('');
    if (unmatched.size > 0) {
      body += `warn: some health checks cannot be excluded: no matches for ${[...unmatched].sort().map((name) => JSON.stringify(name)).join(',')}\n`;
    }
    return { ok: lines.every((line) => line.ok), body };
  }

  /** One named check (`/livez/ping`); undefined when the endpoint has no such check. */
  async runOne(endpoint: string, name: string): Promise<{ ok: boolean; error?: string } | undefined> {
    const entry = this.checks.get(name);
    if (!entry || !entry.endpoints.has(endpoint)) return undefined;
    try {
      await entry.check();
      return { ok: true };
    } catch (error) {
      return { ok: false, error: (error as Error)?.message ?? String(error) };
    }
  }
}

export async function serveHealth(res: ServerResponse, checks: HealthChecks, path: string, query: URLSearchParams): Promise<boolean> {
  const match = /^\/(healthz|livez|readyz)(?:\/([^/]+))?\/?$/.exec(path);
  if (!match) return false;
  const [, endpoint, only] = match;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-cache, private');
  if (only !== undefined) {
    const result = await checks.runOne(endpoint, only);
    if (!result) return false;
    res.statusCode = result.ok ? 200 : 500;
    // Go's http.Error ends the text with a newline.
    res.end(result.ok ? 'ok' : `internal server error: ${result.error}\n`);
    return true;
  }
  const result = await checks.run(endpoint, new Set(query.getAll('exclude')));
  if (!result.ok) {
    res.statusCode = 500;
    res.end(`${result.body}${endpoint} check failed\n`); // always verbose on failure
    return true;
  }
  res.statusCode = 200;
  res.end(query.has('verbose') ? `${result.body}${endpoint} check passed\n` : 'ok');
  return true;
}
