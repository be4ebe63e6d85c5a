// Starts real etcd members on loopback ports for tests (the conformance suite, the replica and failover
// end-to-end tests, the benchmark): one member, or a cluster of several, each with a throwaway data dir
// (on tmpfs when the machine has one, so fsync is cheap while six test suites share two cores).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { freePort } from '../../launcher/ports.js';

export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  process: ChildProcess | undefined;
  output: string;
}

/** Whether an `etcd` binary is on PATH (the tests skip with this reason when it is not). */
export function etcdAvailable(): boolean {
  return spawnSync('etcd', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** PEM files for serving etcd over TLS and requiring client certificates (clientCert/Key: for our own health checks). */
export interface EtcdTestTls {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

export const ETCD_MISSING = 'the etcd binary is not on PATH (Debian: apt-get install etcd-server)';

export class EtcdTestCluster {
  private constructor(
    readonly members: EtcdMember[],
    private readonly root: string,
    private readonly initialCluster: string,
    private readonly tls?: EtcdTestTls,
  ) {}

  /** Client URLs of every member, for --etcd-servers. */
  get endpoints(): string[] {
    return this.members.map((member) => member.clientUrl);
  }

  static async start(options: { members?: number; progressNotifyInterval?: string; tls?: EtcdTestTls } = {}): Promise<EtcdTestCluster> {
    const count = options.members ?? 1;
    const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
    const root = mkdtempSync(join(base, 'etcd-test-'));
    const members: EtcdMember[] = [];
    for (let index = 0; index < count; index++) {
      members.push({
        name: `m${index}`,
        clientUrl: `${options.tls ? 'https' : 'http'}://127.0.0.1:${await freePort()}`,
        peerUrl: `http://127.0.0.1:${await freePort()}`,
        dataDir: join(root, `m${index}`),
        process: undefined,
        output: '',
      });
    }
    const initialCluster = members.map((member) => `${member.name}=${member.peerUrl}`).join(',');
    const cluster = new EtcdTestCluster(members, root, initialCluster, options.tls);
    for (const member of members) cluster.launch(member, options.progressNotifyInterval);
    await Promise.all(members.map((member) => cluster.waitHealthy(member, 60_000)));
    return cluster;
  }

  private launch(member: EtcdMember, progressNotifyInterval?: string): void {
    const args = [
      `--name=${member.name}`,
      `--data-dir=${member.dataDir}`,
      `--listen-client-urls=${member.clientUrl}`,
      `--advertise-client-urls=${member.clientUrl}`,
      `--listen-peer-urls=${member.peerUrl}`,
      `--initial-advertise-peer-urls=${member.peerUrl}`,
      `--initial-cluster=${this.initialCluster}`,
      '--initial-cluster-state=new',
      `--initial-cluster-token=${this.root}`,
      '--log-level=warn',
      '--logger=zap',
      ...(this.tls ? [`--cert-file=${this.tls.serverCertFile}`, `--key-file=${this.tls.serverKeyFile}`, `--trusted-ca-file=${this.tls.caFile}`, '--client-cert-auth'] : []),
      ...(progressNotifyInterval ? [`--experimental-watch-progress-notify-interval=${progressNotifyInterval}`] : []),
    ];
    const child = spawn('etcd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    member.process = child;
    member.output = '';
    for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk: Buffer) => (member.output = (member.output + chunk.toString()).slice(-20_000)));
    child.on('exit', () => {
      if (member.process === child) member.process = undefined;
    });
  }

  /** Resolves once the member answers /health with "true" (it has a leader and serves requests). */
  async waitHealthy(member: EtcdMember, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!member.process) throw new Error(`etcd ${member.name} exited:\n${member.output}`);
      if (await health(member.clientUrl, this.tls)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`etcd ${member.name} did not become healthy:\n${member.output}`);
  }

  /** The member currently leading, asked through /v2-free means: each member's status over the v3 gateway. */
  async leader(): Promise<EtcdMember | undefined> {
    for (const member of this.members) {
      if (!member.process) continue;
      const status = await postJson(`${member.clientUrl}/v3/maintenance/status`, {}).catch(() => undefined);
      if (status && status.leader !== undefined && status.header?.member_id === status.leader) return member;
    }
    return undefined;
  }

  /** SIGKILLs one member (no chance to hand over leadership). */
  async kill(member: EtcdMember): Promise<void> {
    const child = member.process;
    if (!child) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  /** Starts a killed member again on its data dir and ports. */
  async restart(member: EtcdMember): Promise<void> {
    this.launch(member);
    await this.waitHealthy(member, 60_000);
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((member) => this.kill(member)));
    rmSync(this.root, { recursive: true, force: true });
  }
}

function health(url: string, tls?: EtcdTestTls): Promise<boolean> {
  return new Promise((resolve) => {
    const options = tls
      ? { timeout: 2000, ca: readFileSync(tls.caFile), cert: readFileSync(tls.clientCertFile), key: readFileSync(tls.clientKeyFile) }
      : { timeout: 2000 };
    const request = (tls ? https : http).get(`${url}/health`, options, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve(response.statusCode === 200 && body.includes('"health":"true"')));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

function postJson(url: string, body: unknown): Promise<{ leader?: string; header?: { member_id?: string } }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', timeout: 2000, headers: { 'Content-Type': 'application/json' } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        try {
          resolve(JSON.parse(text));
        } catch (error) {
          reject(error);
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
    request.end(JSON.stringify(body));
  });
}
