// Where metrics come from: every resolution period, each Node's kubelet endpoint (its preferred address and
// daemonEndpoints.kubeletEndpoint.Port) is scraped over TLS for /metrics/resource. CPU is a rate between two
// cumulative samples of the same container start (never across a restart); memory is the working set. The
// first rate needs two samples, so a second scrape follows the first one early instead of a period later.

import https from 'node:https';
import type { KubeObject } from '../apiserver/registry/object.js';
import { parsePrometheusText, type Sample } from './prometheus.js';

export interface ScraperOptions {
  resolutionMs: number;
  addressTypes: string[];
  /** TLS towards kubelets: client certificate, and the CA that signed their serving certificates. */
  tls: { ca?: string; cert?: string; key?: string; insecure: boolean };
  timeoutMs?: number;
  concurrency?: number;
}

export interface NodePoint {
  name: string;
  timestamp: number;
  windowMs: number;
  cores: number;
  memoryBytes: number;
}

export interface PodPoint {
  namespace: string;
  name: string;
  timestamp: number;
  windowMs: number;
  containers: { name: string; cores: number; memoryBytes: number }[];
}

interface Counter {
  seconds: number;
  timestamp: number;
  start?: number;
}

/** The outcome of the last scrape of one node, for the readiness self-check. */
export interface NodeScrape {
  node: string;
  url?: string;
  ok: boolean;
  error?: string;
  at: number;
}

export class Scraper {
  readonly nodePoints = new Map<string, NodePoint>();
  readonly podPoints = new Map<string, PodPoint>();
  readonly lastScrapes = new Map<string, NodeScrape>();
  /** Completed scrapes of all nodes (rates need two). */
  rounds = 0;
  /** How long the last round took, from the first request to the last answer. */
  lastRoundMs = 0;
  private readonly nodeCounters = new Map<string, Counter>();
  private readonly containerCounters = new Map<string, Counter>();
  private readonly agent: https.Agent;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly nodes: () => KubeObject[],
    private readonly options: ScraperOptions,
    private readonly onRound: () => void,
  ) {
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 4, ca: options.tls.ca, cert: options.tls.cert, key: options.tls.key, rejectUnauthorized: !options.tls.insecure });
  }

  start(): void {
    const loop = (delay: number) => {
      this.timer = setTimeout(() => {
        const started = Date.now();
        void this.scrapeAll().finally(() => {
          if (this.stopped) return;
          // The second round comes early: the first rates (and readiness) need only two samples.
          loop(this.rounds === 1 ? 1000 : Math.max(0, this.options.resolutionMs - (Date.now() - started)));
        });
      }, delay);
      this.timer.unref();
    };
    loop(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.agent.destroy();
  }

  private endpointOf(node: KubeObject): string | undefined {
    const status = (node.status ?? {}) as { addresses?: { type: string; address: string }[]; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } };
    const port = status.daemonEndpoints?.kubeletEndpoint?.Port;
    if (!port) return undefined;
    for (const type of this.options.addressTypes) {
      const address = status.addresses?.find((entry) => entry.type === type)?.address;
      if (address) return `https://${address.includes(':') ? `[${address}]` : address}:${port}`;
    }
    return undefined;
  }

  async scrapeAll(): Promise<void> {
    const roundStarted = Date.now();
    const nodes = this.nodes().filter((node) => isReady(node));
    const seenNodes = new Set<string>();
    const seenPods = new Set<string>();
    const queue = [...nodes];
    const workers = Array.from({ length: Math.min(this.options.concurrency ?? 32, queue.length) }, async () => {
      for (let node = queue.shift(); node; node = queue.shift()) {
        const name = node.metadata.name!;
        seenNodes.add(name);
        const url = this.endpointOf(node);
        const at = Date.now();
        if (!url) {
          this.lastScrapes.set(name, { node: name, ok: false, at, error: `node has no usable address (${this.options.addressTypes.join(', ')}) or kubelet port` });
          continue;
        }
        try {
          const samples = parsePrometheusText(await this.fetch(`${url}/metrics/resource`));
          this.ingest(name, samples, at, seenPods);
          this.lastScrapes.set(name, { node: name, url, ok: true, at });
        } catch (error) {
          this.lastScrapes.set(name, { node: name, url, ok: false, at, error: (error as Error).message });
        }
      }
    });
    await Promise.all(workers);
    // Nodes and pods that went away (or whose node is not Ready) have no metrics any more.
    for (const name of [...this.nodePoints.keys()]) if (!seenNodes.has(name)) this.nodePoints.delete(name);
    for (const name of [...this.nodeCounters.keys()]) if (!seenNodes.has(name)) this.nodeCounters.delete(name);
    for (const name of [...this.lastScrapes.keys()]) if (!seenNodes.has(name)) this.lastScrapes.delete(name);
    for (const key of [...this.podPoints.keys()]) if (!seenPods.has(key)) this.podPoints.delete(key);
    for (const key of [...this.containerCounters.keys()]) if (!seenPods.has(key.slice(0, key.lastIndexOf('/')))) this.containerCounters.delete(key);
    this.rounds++;
    this.lastRoundMs = Date.now() - roundStarted;
    this.onRound();
  }

  private fetch(url: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const request = https.get(url, { agent: this.agent, timeout: this.options.timeoutMs ?? 10_000 }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => (response.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${url}: ${response.statusCode} ${body.trim().slice(0, 200)}`))));
        response.on('error', reject);
      });
      request.on('timeout', () => request.destroy(new Error(`GET ${url}: timed out after ${(this.options.timeoutMs ?? 10_000) / 1000}s`)));
      request.on('error', (error: NodeJS.ErrnoException) => reject(new Error(`GET ${url}: ${error.code ? `${error.code}: ` : ''}${error.message}`)));
    });
  }

  /** Updates the counters from one node's samples and derives the points that have a rate. */
  private ingest(node: string, samples: Sample[], scrapedAt: number, seenPods: Set<string>): void {
    const containers = new Map<string, { namespace: string; pod: string; container: string; cpu?: number; memory?: number; start?: number; timestamp: number }>();
    let nodeCpu: Sample | undefined;
    let nodeMemory: Sample | undefined;
    for (const sample of samples) {
      if (sample.name === 'node_cpu_usage_seconds_total') nodeCpu = sample;
      else if (sample.name === 'node_memory_working_set_bytes') nodeMemory = sample;
      else if (sample.name.startsWith('container_')) {
        const { namespace, pod, container } = sample.labels;
        if (!namespace || !pod || !container) continue;
        const key = `${namespace}/${pod}/${container}`;
        const entry = containers.get(key) ?? { namespace, pod, container, timestamp: sample.timestamp ?? scrapedAt };
        if (sample.name === 'container_cpu_usage_seconds_total') entry.cpu = sample.value;
        else if (sample.name === 'container_memory_working_set_bytes') entry.memory = sample.value;
        else if (sample.name === 'container_start_time_seconds') entry.start = sample.value;
        containers.set(key, entry);
      }
    }
    if (nodeCpu && nodeMemory) {
      const rate = this.rate(this.nodeCounters, node, { seconds: nodeCpu.value, timestamp: nodeCpu.timestamp ?? scrapedAt });
      if (rate) this.nodePoints.set(node, { name: node, timestamp: nodeCpu.timestamp ?? scrapedAt, windowMs: rate.windowMs, cores: rate.cores, memoryBytes: nodeMemory.value });
    }
    const pods = new Map<string, PodPoint | null>();
    for (const [key, entry] of containers) {
      const podKey = `${entry.namespace}/${entry.pod}`;
      seenPods.add(podKey);
      if (entry.cpu === undefined || entry.memory === undefined) continue;
      const rate = this.rate(this.containerCounters, key, { seconds: entry.cpu, timestamp: entry.timestamp, start: entry.start });
      let point = pods.get(podKey);
      if (point === null) continue;
      if (!rate) {
        // A pod is reported only when every container has a rate (metrics-server drops partial pods).
        pods.set(podKey, null);
        continue;
      }
      if (!point) {
        point = { namespace: entry.namespace, name: entry.pod, timestamp: entry.timestamp, windowMs: rate.windowMs, containers: [] };
        pods.set(podKey, point);
      }
      point.containers.push({ name: entry.container, cores: rate.cores, memoryBytes: entry.memory });
    }
    for (const [key, point] of pods) {
      if (point) this.podPoints.set(key, { ...point, containers: point.containers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) });
      else this.podPoints.delete(key);
    }
  }

  /** A rate from the previous counter, unless the counter restarted (new start time, or it went down). */
  private rate(counters: Map<string, Counter>, key: string, current: Counter): { cores: number; windowMs: number } | undefined {
    const previous = counters.get(key);
    counters.set(key, current);
    if (!previous || previous.start !== current.start) return undefined;
    const windowMs = current.timestamp - previous.timestamp;
    if (windowMs <= 0 || current.seconds < previous.seconds) return undefined;
    return { cores: (current.seconds - previous.seconds) / (windowMs / 1000), windowMs };
  }
}

export function isReady(node: KubeObject): boolean {
  const conditions = ((node.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []);
  return conditions.some((condition) => condition.type === 'Ready' && condition.status === 'True');
}
