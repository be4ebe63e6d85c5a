// A small closed-loop load generator (keep-alive HTTPS, fixed concurrency, fixed duration) and CPU
// accounting of server processes from /proc, so every figure is a ratio measured in the same run.

import https from 'node:https';
import { readFileSync } from 'node:fs';

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  perSecond: number;
  /** CPU milliseconds per request spent in the measured server processes. */
  cpuMsPerRequest: number;
  statuses: Record<number, number>;
}

export interface Target {
  port: number;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export function cpuTicks(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // the process is gone
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    total += Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14 and 15)
  }
  return total;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

export async function runLoad(
  target: Target,
  request: (index: number) => { method: string; path: string; body?: string; headers?: Record<string, string> },
  options: { seconds: number; concurrency: number; pids: number[]; expect: number },
): Promise<LoadResult> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: options.concurrency, ca: target.ca, cert: target.cert, key: target.key });
  let index = 0;
  let requests = 0;
  let errors = 0;
  const statuses: Record<number, number> = {};
  const one = () =>
    new Promise<void>((resolve) => {
      const spec = request(index++);
      const req = https.request({ host: '127.0.0.1', port: target.port, path: spec.path, method: spec.method, agent, headers: spec.headers }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => {
          statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
          if (res.statusCode === options.expect) requests++;
          else errors++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      if (spec.body) req.write(spec.body);
      req.end();
    });
  // Warm up connections and caches before measuring.
  const warmEnd = Date.now() + 500;
  await Promise.all(Array.from({ length: options.concurrency }, async () => {
    while (Date.now() < warmEnd) await one();
  }));
  requests = 0;
  errors = 0;
  for (const key of Object.keys(statuses)) delete statuses[Number(key)];
  const cpuBefore = cpuTicks(options.pids);
  const started = process.hrtime.bigint();
  const end = Date.now() + options.seconds * 1000;
  await Promise.all(Array.from({ length: options.concurrency }, async () => {
    while (Date.now() < end) await one();
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuMs = (cpuTicks(options.pids) - cpuBefore) * TICK_MS;
  agent.destroy();
  return { requests, errors, seconds, perSecond: requests / seconds, cpuMsPerRequest: requests ? cpuMs / requests : 0, statuses };
}
