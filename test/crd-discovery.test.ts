// Discovery and OpenAPI follow CRD changes group by group: the aggregator reads only the changed group of
// the CRD server (not its whole /apis) when a CRD is created, gains a version, changes its schema or goes
// away. The real kubectl sees each change (api-resources, api-versions, explain), the aggregated document
// holds exactly the CRD server's resources, and the APIServices follow.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from './harness.js';

let cluster: Cluster;

/** Retries while discovery catches up (kubectl caches discovery; the aggregator follows within a moment). */
async function eventually(args: string[], accept: (stdout: string) => boolean, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await cluster.kubectl(args);
    if (result.code === 0 && accept(result.stdout)) return result.stdout;
    if (Date.now() > deadline) assert.fail(`kubectl ${args.join(' ')} never gave the expected answer:\n${result.stderr}\n${result.stdout}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function ok(args: string[]): Promise<string> {
  const result = await cluster.kubectl(args);
  assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
  return result.stdout;
}

function crd(group: string, versions: { name: string; storage: boolean; field: string }[]): string {
  const plural = 'gadgets';
  return JSON.stringify({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural, singular: 'gadget', kind: 'Gadget', shortNames: ['gdg'], categories: ['gizmos'] },
      versions: versions.map((version) => ({
        name: version.name,
        served: true,
        storage: version.storage,
        subresources: { status: {} },
        schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { [version.field]: { type: 'string', description: `The ${version.field}.` } } } } } },
      })),
    },
  });
}

function apply(name: string, content: string): Promise<string> {
  const file = join(cluster.dataDir, name);
  writeFileSync(file, content);
  return ok(['apply', '-f', file]);
}

interface DiscoveryList {
  items: { metadata: { name: string }; versions: { version: string; resources: unknown[] }[] }[];
}

/** The aggregator's aggregated discovery (v2), by group. */
async function aggregatedGroups(): Promise<Map<string, unknown>> {
  const response = await cluster.request('GET', '/apis', { headers: { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' } });
  assert.equal(response.status, 200, response.body);
  const list = JSON.parse(response.body) as DiscoveryList;
  return new Map(list.items.map((item) => [item.metadata.name, item.versions.map((version) => ({ version: version.version, resources: version.resources }))]));
}

/** What the CRD server's aggregated discovery holds for one served version of the gadgets CRD. */
function gadgetVersion(version: string): unknown {
  const kind = { group: 'toys.example.com', version, kind: 'Gadget' };
  return {
    version,
    resources: [
      {
        resource: 'gadgets',
        responseKind: kind,
        scope: 'Namespaced',
        singularResource: 'gadget',
        verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
        shortNames: ['gdg'],
        categories: ['gizmos'],
        subresources: [{ subresource: 'status', responseKind: kind, verbs: ['get', 'patch', 'update'] }],
      },
    ],
  };
}

describe('discovery follows CRD changes group by group', () => {
  before(async () => {
    cluster = await Cluster.start();
  });

  after(async () => {
    await cluster.stop();
    cluster.cleanup();
  });

  it('a new CRD shows in api-resources and explain, with the same resources the CRD server lists', async () => {
    await apply('gadgets-v1.json', crd('toys.example.com', [{ name: 'v1', storage: true, field: 'color' }]));
    const listed = await eventually(['api-resources', '--api-group=toys.example.com'], (stdout) => /gadgets\s+gdg\s+toys\.example\.com\/v1\s+true\s+Gadget/.test(stdout));
    assert.match(listed, /gadgets/);
    await eventually(['explain', 'gadgets.spec'], (stdout) => /color\s+<string>/.test(stdout) && /The color\./.test(stdout));
    await eventually(['get', 'gizmos'], () => true);
    assert.deepEqual((await aggregatedGroups()).get('toys.example.com'), [gadgetVersion('v1')]);
    assert.ok(await eventually(['get', 'apiservices', 'v1.toys.example.com', '-o', 'name'], (stdout) => stdout.includes('v1.toys.example.com')));
  });

  it('a version added to the CRD and a schema change are seen in discovery and OpenAPI', async () => {
    await apply('gadgets-v2.json', crd('toys.example.com', [
      { name: 'v1', storage: true, field: 'shade' },
      { name: 'v2', storage: false, field: 'hue' },
    ]));
    await eventually(['api-versions'], (stdout) => stdout.split('\n').includes('toys.example.com/v2'));
    await eventually(['explain', 'gadgets.spec', '--api-version=toys.example.com/v2'], (stdout) => /hue\s+<string>/.test(stdout));
    await eventually(['explain', 'gadgets.spec', '--api-version=toys.example.com/v1'], (stdout) => /shade\s+<string>/.test(stdout) && !/color/.test(stdout));
    assert.deepEqual((await aggregatedGroups()).get('toys.example.com'), [gadgetVersion('v2'), gadgetVersion('v1')]);
    await eventually(['get', 'apiservices', 'v2.toys.example.com', '-o', 'name'], (stdout) => stdout.includes('v2.toys.example.com'));
  });

  it('a deleted CRD leaves discovery, and its APIServices go', async () => {
    await ok(['delete', 'crd', 'gadgets.toys.example.com']);
    await eventually(['api-versions'], (stdout) => !stdout.includes('toys.example.com'));
    assert.equal((await aggregatedGroups()).has('toys.example.com'), false);
    await eventually(['get', 'apiservices', '-o', 'name'], (stdout) => !stdout.includes('toys.example.com'));
  });
});
