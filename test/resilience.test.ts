// The launcher's promises: a crashed backend is restarted, and kill -9 loses no acknowledged write.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { Cluster } from './harness.js';
import { waitForReady } from '../launcher/ports.js';

let cluster: Cluster;

before(async () => {
  cluster = await Cluster.start();
});

after(async () => {
  cluster.cleanup();
});

function pidOf(script: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(script) && cmdline.includes(cluster.dataDir)) return Number(entry);
    } catch {
      // gone
    }
  }
  return undefined;
}

describe('crash recovery', () => {
  it('a backend killed with SIGKILL during writes comes back with every acknowledged write', async () => {
    const acknowledged: string[] = [];
    const corePid = pidOf('dist/core-apiserver/main.js');
    assert.ok(corePid, 'core-apiserver is running');
    let killed = false;
    const writers = Array.from({ length: 4 }, async (_, writer) => {
      for (let index = 0; index < 200 && !killed; index++) {
        const name = `durable-${writer}-${index}`;
        try {
          const response = await cluster.request('POST', '/api/v1/namespaces/default/configmaps', {
            body: JSON.stringify({ metadata: { name }, data: { i: String(index) } }),
            headers: { 'Content-Type': 'application/json' },
          });
          if (response.status === 201) acknowledged.push(name);
        } catch {
          // the connection died with the process: not acknowledged
        }
      }
    });
    while (acknowledged.length < 40) await new Promise((resolve) => setTimeout(resolve, 5));
    process.kill(corePid, 'SIGKILL');
    killed = true;
    await Promise.all(writers);

    const deadline = Date.now() + 60_000;
    while ((pidOf('dist/core-apiserver/main.js') ?? corePid) === corePid && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.notEqual(pidOf('dist/core-apiserver/main.js'), corePid, 'a new core-apiserver process runs');
    await waitForReady(cluster.url, cluster.pki, 60_000);
    let response = await cluster.request('GET', '/api/v1/namespaces/default/configmaps');
    while (response.status !== 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      response = await cluster.request('GET', '/api/v1/namespaces/default/configmaps');
    }
    const list = JSON.parse(response.body) as { items: { metadata: { name: string } }[] };
    const stored = new Set(list.items.map((item) => item.metadata.name));
    const lost = acknowledged.filter((name) => !stored.has(name));
    assert.deepEqual(lost, [], `acknowledged writes lost after kill -9: ${lost.join(', ')}`);
    assert.match(cluster.output, /core-apiserver exited \(SIGKILL\); restarting/);
  });
});

describe('graceful shutdown', () => {
  it('SIGTERM ends open watches and stops every process promptly, exit code 0', async () => {
    const watcher = cluster.spawnKubectl(['get', 'configmaps', '-w']);
    let output = '';
    watcher.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 10_000;
    while (!output.includes('NAME') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    const code = await cluster.stop();
    const took = Date.now() - started;
    watcher.kill();
    assert.equal(code, 0);
    assert.ok(took < 8000, `shutdown took ${took} ms with a watch open (the grace period is 10 s)`);
    assert.equal(pidOf('dist/core-apiserver/main.js'), undefined, 'no backend process is left');
    assert.equal(pidOf('dist/aggregator/main.js'), undefined, 'the aggregator is gone');
  });
});
