// Runs one server as a child process: restarts it with exponential backoff when it crashes, forwards its
// output with a prefix, and stops it gracefully (SIGTERM, then SIGKILL after the grace period).

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ChildSpec {
  name: string;
  script: string;
  args: string[];
}

const MAX_BACKOFF_MS = 30_000;
const HEALTHY_AFTER_MS = 60_000;

export class SupervisedChild {
  private child: ChildProcess | undefined;
  private stopping = false;
  private backoffMs = 1000;
  private restartTimer: NodeJS.Timeout | undefined;
  restarts = 0;

  constructor(
    private readonly spec: ChildSpec,
    private readonly log: (line: string) => void,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    const startedAt = Date.now();
    // Node options given to the launcher (e.g. --max-old-space-size, --cpu-prof) apply to every server.
    const child = spawn(process.execPath, [...process.execArgv, this.spec.script, ...this.spec.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => this.log(`[${this.spec.name}] ${line}`));
    }
    child.on('exit', (code, signal) => {
      this.child = undefined;
      if (this.stopping) return;
      if (Date.now() - startedAt > HEALTHY_AFTER_MS) this.backoffMs = 1000;
      this.log(`[launcher] ${this.spec.name} exited (${signal ?? `code ${code}`}); restarting in ${this.backoffMs / 1000}s`);
      this.restarts++;
      this.restartTimer = setTimeout(() => this.start(), this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    });
  }

  /** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
  stop(graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
