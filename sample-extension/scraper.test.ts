import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureClientCertificate, ensurePki } from '../launcher/pki.js';
import { serveResourceMetrics } from '../node-agent/metrics-endpoint.js';
import type { KubeObject } from '../apiserver/registry/object.js';
import { Scraper } from './scraper.js';
import { parsePrometheusText } from './prometheus.js';
import { formatGoDuration } from './go-duration.js';
import { formatBytes, formatCores } from '../apiserver/registry/quantity.js';

describe('Prometheus text', () => {
  it('parses samples with labels, escapes and timestamps, skipping comments', () => {
    const samples = parsePrometheusText('# HELP x y\n# TYPE x counter\nx{a="1",b="q\\"uote"} 1.5 1700000000000\nnode_total 42\n\n');
    assert.deepEqual(samples, [
      { name: 'x', labels: { a: '1', b: 'q"uote' }, value: 1.5, timestamp: 1700000000000 },
      { name: 'node_total', labels: {}, value: 42, timestamp: undefined },
    ]);
  });
  it('rejects garbage instead of guessing', () => {
    assert.throws(() => parsePrometheusText('x{a=1} 2'), /unparsable/);
    assert.throws(() => parsePrometheusText('not a sample line at all!'), /unparsable/);
  });
});

describe('quantities and durations as Go prints them', () => {
  it('formats CPU as DecimalSI nanocores and memory as BinarySI', () => {
    assert.equal(formatCores(0.25), '250m');
    assert.equal(formatCores(2), '2');
    assert.equal(formatCores(0.000123456), '123456n');
    assert.equal(formatCores(0), '0');
    assert.equal(formatBytes(64 * 2 ** 20), '64Mi');
    assert.equal(formatBytes(1536), '1536');
    assert.equal(formatBytes(2048), '2Ki');
    assert.equal(formatBytes(1000), '1000');
  });
  it('formats windows as time.Duration.String()', () => {
    assert.equal(formatGoDuration(15_002), '15.002s');
    assert.equal(formatGoDuration(15_000), '15s');
    assert.equal(formatGoDuration(60_500), '1m0.5s');
    assert.equal(formatGoDuration(250), '250ms');
  });
});

describe('Scraper against a node agent endpoint', () => {
  let dir: string;
  let endpoint: { port: number; close(): void };
  let pods: KubeObject[] = [];
  let scraper: Scraper;
  const started = new Date(Date.now() - 60_000).toISOString();
  const pod = (start: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'u1' },
    spec: { containers: [{ name: 'main', resources: { requests: { cpu: '500m', memory: '128Mi' } } }] },
    status: { phase: 'Running', containerStatuses: [{ name: 'main', state: { running: { startedAt: start } } }] },
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kdc-scraper-'));
    const pki = await ensurePki(dir, ['node-agent']);
    const client = await ensureClientCertificate(dir, 'metrics-test', 'system:metrics-server');
    let cpu = 100;
    endpoint = await serveResourceMetrics(
      { port: 0, cert: readFileSync(pki.serving['node-agent'].cert, 'utf8'), key: readFileSync(pki.serving['node-agent'].key, 'utf8'), clientCa: readFileSync(pki.caCert, 'utf8') },
      { pods: () => pods, node: () => ({ cpuSeconds: (cpu += 1.5), memoryBytes: 2 ** 30 }) },
    );
    const node: KubeObject = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1' },
      status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: endpoint.port } }, conditions: [{ type: 'Ready', status: 'True' }] },
    };
    scraper = new Scraper(() => [node], { resolutionMs: 1000, addressTypes: ['InternalIP'], tls: { ca: readFileSync(pki.caCert, 'utf8'), cert: readFileSync(client.cert, 'utf8'), key: readFileSync(client.key, 'utf8'), insecure: false } }, () => undefined);
  });
  after(() => {
    scraper.stop();
    endpoint.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('needs two samples for a rate, then reports node and pod usage near what the pod requests', async () => {
    pods = [pod(started)];
    await scraper.scrapeAll();
    assert.equal(scraper.nodePoints.size, 0);
    assert.equal(scraper.podPoints.size, 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await scraper.scrapeAll();
    const node = scraper.nodePoints.get('n1')!;
    assert.ok(node.cores > 0 && node.windowMs > 0, JSON.stringify(node));
    assert.equal(node.memoryBytes, 2 ** 30);
    const web = scraper.podPoints.get('default/web')!;
    assert.equal(web.containers.length, 1);
    assert.ok(web.containers[0].cores > 0.35 && web.containers[0].cores < 0.55, `cpu ${web.containers[0].cores}`);
    assert.ok(web.containers[0].memoryBytes > 0.75 * 128 * 2 ** 20 && web.containers[0].memoryBytes <= 128 * 2 ** 20);
  });

  it('never computes a rate across a container restart', async () => {
    pods = [pod(new Date().toISOString())];
    await scraper.scrapeAll();
    assert.equal(scraper.podPoints.has('default/web'), false);
    await scraper.scrapeAll();
    assert.equal(scraper.podPoints.has('default/web'), true);
  });

  it('records why a node could not be scraped', async () => {
    const unreachable = new Scraper(
      () => [{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'gone' }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: 1 } }, conditions: [{ type: 'Ready', status: 'True' }] } }],
      { resolutionMs: 1000, addressTypes: ['InternalIP'], tls: { insecure: true } },
      () => undefined,
    );
    await unreachable.scrapeAll();
    unreachable.stop();
    const scrape = unreachable.lastScrapes.get('gone')!;
    assert.equal(scrape.ok, false);
    assert.match(scrape.error!, /ECONNREFUSED/);
  });
});
