// End-to-end harness: starts the real launcher (all four processes) in a temporary data directory on a free
// port, and runs the real kubectl against it with its own discovery cache.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, realpathSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { freePort, waitForReady } from '../launcher/ports.js';
import { ensurePki, type PkiPaths } from '../launcher/pki.js';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

const distRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** The kubectl binary for a version ("" = the installed default, e.g. "1.27" = the versioned binary beside it). */
export function kubectlBinary(version = ''): string {
  const installed = realpathSync(process.env.KUBECTL ?? '/usr/bin/kubectl');
  if (!version) return installed;
  const candidate = join(dirname(installed), `kubectl.${version}`);
  if (!existsSync(candidate)) throw new Error(`kubectl ${version} not found at ${candidate}`);
  return candidate;
}

export class Cluster {
  readonly dataDir: string;
  readonly kubeconfig: string;
  readonly url: string;
  private process: ChildProcess | undefined;
  output = '';
  pki!: PkiPaths;

  private constructor(readonly port: number) {
    this.dataDir = mkdtempSync(join(tmpdir(), 'kdc-e2e-'));
    this.kubeconfig = join(this.dataDir, 'admin.kubeconfig');
    this.url = `https://127.0.0.1:${port}`;
  }

  static async start(extraArgs: string[] = []): Promise<Cluster> {
    const cluster = new Cluster(await freePort());
    await cluster.launch(extraArgs);
    return cluster;
  }

  /** Stops the launcher and starts it again on the same data directory with these arguments. */
  async restart(extraArgs: string[] = []): Promise<void> {
    await this.stop();
    this.output = '';
    await this.launch(extraArgs);
  }

  private async launch(extraArgs: string[]): Promise<void> {
    // The node agent binds and runs pods; suites about other things start without it unless they ask.
    const nodeAgent = extraArgs.some((arg) => arg.startsWith('--node-agent')) ? [] : ['--node-agent=false'];
    // KDC_CPU_PROF_DIR=dir: every server writes a V8 CPU profile there when it stops (the launcher passes its
    // Node options on to the servers).
    const profile = process.env.KDC_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.KDC_CPU_PROF_DIR}`] : [];
    this.process = spawn(process.execPath, [...profile, join(distRoot, 'launcher', 'main.js'), `--data-dir=${this.dataDir}`, `--secure-port=${this.port}`, '--shutdown-grace-seconds=10', ...nodeAgent, ...extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.process.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.pki = await ensurePki(this.dataDir, ['aggregator', 'core-apiserver', 'apiextensions', 'sample-extension']);
    try {
      await waitForReady(this.url, this.pki, 90_000);
      // The launcher says ready once the metrics extension is registered and Available.
      const deadline = Date.now() + 60_000;
      while (!/\[launcher\] (ready|not ready yet)/.test(this.output) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      if (!this.output.includes('[launcher] ready')) throw new Error('the launcher did not report ready');
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- launcher output ---\n${this.output}`);
    }
  }

  /** Runs kubectl with this cluster's kubeconfig and a private cache directory. */
  kubectl(args: string[], options: { version?: string; input?: string; timeoutMs?: number } = {}): Promise<KubectlResult> {
    const binary = kubectlBinary(options.version);
    const cacheDir = join(this.dataDir, `kubectl-cache-${options.version || 'default'}`);
    return new Promise((resolvePromise) => {
      const child = execFile(
        binary,
        [`--kubeconfig=${this.kubeconfig}`, `--cache-dir=${cacheDir}`, ...args],
        { timeout: options.timeoutMs ?? 60_000, env: { ...process.env, HOME: this.dataDir, KUBECONFIG: this.kubeconfig }, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : 1) : 0;
          resolvePromise({ code, stdout: stdout.toString(), stderr: stderr.toString() });
        },
      );
      if (options.input !== undefined) {
        child.stdin?.write(options.input);
        child.stdin?.end();
      }
    });
  }

  /** Starts a long-running kubectl (e.g. `get -w`) and returns the process. */
  spawnKubectl(args: string[], version = ''): ChildProcess {
    const cacheDir = join(this.dataDir, `kubectl-cache-${version || 'default'}`);
    return spawn(kubectlBinary(version), [`--kubeconfig=${this.kubeconfig}`, `--cache-dir=${cacheDir}`, ...args], {
      env: { ...process.env, HOME: this.dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** A raw HTTPS request as the admin (for wire-level assertions kubectl cannot show). */
  request(method: string, path: string, options: { body?: string | Buffer; headers?: Record<string, string>; asAdmin?: boolean; port?: number } = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
    return new Promise((resolvePromise, reject) => {
      const asAdmin = options.asAdmin ?? true;
      const request = https.request(
        `https://127.0.0.1:${options.port ?? this.port}${path}`,
        {
          method,
          ca: readFileSync(this.pki.caCert),
          cert: asAdmin ? readFileSync(this.pki.adminCert) : undefined,
          key: asAdmin ? readFileSync(this.pki.adminKey) : undefined,
          headers: options.headers,
          timeout: 20_000,
        },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () => resolvePromise({ status: response.statusCode ?? 0, headers: response.headers, body }));
        },
      );
      request.on('error', reject);
      request.on('timeout', () => request.destroy(new Error('timeout')));
      if (options.body !== undefined) request.write(options.body);
      request.end();
    });
  }

  async stop(): Promise<number | null> {
    const child = this.process;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolvePromise) => child.once('exit', (code) => resolvePromise(code)));
    child.kill('SIGTERM');
    const code = await exited;
    return code;
  }

  cleanup(): void {
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Runs kubectl and fails the test with its output unless it exits 0; returns stdout. */
export async function kubectlOk(cluster: Cluster, args: string[], options: { version?: string; input?: string } = {}): Promise<string> {
  const result = await cluster.kubectl(args, options);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (exit ${result.code}):\n${result.stderr}\n${result.stdout}`);
  return result.stdout;
}

/** Polls `probe` until it returns a value (not undefined) or the time is up. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const started = Date.now();
  let last: unknown;
  while (Date.now() - started < timeoutMs) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 200));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms${last ? ` (${String(last)})` : ''}`);
}
