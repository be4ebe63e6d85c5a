import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { KubeObject } from '../apiserver/registry/object.js';
import type { GenericStore } from '../apiserver/registry/store.js';
import { MemoryStorage } from '../apiserver/storage/memory.js';
import { ApiServer } from '../apiserver/server/api-server.js';
import { widgets } from '../apiserver/server/test-server.js';
import { namespaces } from '../core-apiserver/resources/namespaces.js';
import { configMaps } from '../core-apiserver/resources/configmaps.js';
import type { ApiServiceRouter, Route, VersionSource } from './api-service-router.js';
import { unavailable } from './api-service-router.js';
import type { ProxyTarget } from './remote-discovery.js';
import { NamespaceFinalizer } from './namespace-finalizer.js';
import { statusErrorOf, systemContext } from './test-support.js';

interface InProcess {
  server: ApiServer;
  storage: MemoryStorage;
  target: ProxyTarget;
  agent: https.Agent;
}

async function inProcessServer(name: string, build: (server: ApiServer, storage: MemoryStorage) => void): Promise<InProcess> {
  const storage = new MemoryStorage();
  const server = new ApiServer({ name, authentication: { clientCa: [], untrustedIdentityHeaders: 'strip' }, authorizer: async () => ({ allowed: true }) });
  build(server, storage);
  await server.startCaches();
  const agent = new https.Agent();
  // The URL is never dialled: apiCall goes straight into the in-process server's stores.
  const target: ProxyTarget = { name, url: 'https://127.0.0.1:1', agent, target: { protocol: 'https:', host: '127.0.0.1', port: 1 }, inProcess: server };
  return { server, storage, target, agent };
}

function resourcesOf(server: ApiServer, group: string, version: string): Record<string, unknown>[] {
  const found = server.discoverySnapshot().groups.find((g) => g.name === group)?.versions.find((v) => v.version === version);
  assert.ok(found, `${group}/${version} is served`);
  return found.resources;
}

/** metrics.k8s.io-like: namespaced resources that can only be read. */
const METRICS_RESOURCES: Record<string, unknown>[] = [
  { resource: 'pods', scope: 'Namespaced', verbs: ['get', 'list'], responseKind: { group: 'metrics.k8s.io', version: 'v1beta1', kind: 'PodMetrics' } },
  { resource: 'nodes', scope: 'Cluster', verbs: ['get', 'list'], responseKind: { group: 'metrics.k8s.io', version: 'v1beta1', kind: 'NodeMetrics' } },
];

/** The parts of ApiServiceRouter the finalizer uses, driven by the test. */
class FakeRouter {
  /** Extra group-versions, keyed "group/version". */
  readonly extra = new Map<string, { version: VersionSource; target?: ProxyTarget }>();
  readonly apiServiceLookups: string[] = [];

  constructor(private readonly core: InProcess) {}

  route(group: string, version: string): Route | undefined {
    if (group === '' && version === 'v1') return { kind: 'proxy', target: this.core.target };
    const extra = this.extra.get(`${group}/${version}`);
    if (!extra) return undefined;
    if (extra.version.stale || !extra.target) return { kind: 'unavailable', error: unavailable(`${version}.${group}`, 'FailedDiscoveryCheck', 'failing or missing response') };
    return { kind: 'proxy', target: extra.target };
  }

  versions(): VersionSource[] {
    const core: VersionSource = { group: '', version: 'v1', groupPriority: 18000, versionPriority: 1, resources: resourcesOf(this.core.server, '', 'v1'), stale: false };
    return [core, ...[...this.extra.values()].map((entry) => entry.version)];
  }

  apiServiceFor(group: string, version: string): string | undefined {
    this.apiServiceLookups.push(`${group}/${version}`);
    return this.extra.has(`${group}/${version}`) ? `${version}.${group}` : undefined;
  }
}

let core: InProcess;
let extension: InProcess;
let namespaceStore: GenericStore;
let configMapStore: GenericStore;
let widgetStore: GenericStore;
let router: FakeRouter;
let finalizer: NamespaceFinalizer;

beforeEach(async () => {
  core = await inProcessServer('core', (server, storage) => {
    namespaceStore = server.addResource({ definition: namespaces, storage })!;
    configMapStore = server.addResource({ definition: configMaps, storage })!;
  });
  extension = await inProcessServer('extension', (server, storage) => {
    widgetStore = server.addResource({ definition: widgets, storage })!;
  });
  router = new FakeRouter(core);
  finalizer = new NamespaceFinalizer(router as unknown as ApiServiceRouter);
});

afterEach(async () => {
  finalizer.stop();
  for (const env of [core, extension]) {
    await env.server.shutdown(0);
    env.agent.destroy();
    await env.storage.close();
  }
});

async function createNamespace(name: string): Promise<void> {
  await namespaceStore.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, systemContext());
}

async function createConfigMap(namespace: string, name: string): Promise<void> {
  await configMapStore.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { key: 'value' } }, systemContext(namespace));
}

/** Deletes a namespace: it stays, Terminating, until its `kubernetes` finalizer is removed. */
async function terminate(name: string): Promise<KubeObject> {
  const result = await namespaceStore.delete(name, {}, systemContext());
  assert.equal(result.deleted, false);
  const namespace = await namespaceStore.getObject('', name);
  assert.ok(namespace.metadata.deletionTimestamp, 'the namespace has a deletionTimestamp');
  assert.deepEqual(namespace.spec?.finalizers, ['kubernetes']);
  assert.equal(namespace.status?.phase, 'Terminating');
  return namespace;
}

async function configMapNames(namespace: string): Promise<string[]> {
  await configMapStore.cache.syncToLatest();
  return configMapStore.cache.list(`${configMapStore.resource.storagePrefix}${namespace}/`).map((cached) => cached.name);
}

async function namespaceGone(name: string): Promise<boolean> {
  try {
    await namespaceStore.getObject('', name);
    return false;
  } catch {
    const error = await statusErrorOf(namespaceStore.getObject('', name));
    assert.equal(error.code, 404);
    return true;
  }
}

function condition(namespace: KubeObject, type: string): Record<string, string> | undefined {
  return (namespace.status?.conditions ?? []).find((candidate: { type: string }) => candidate.type === type);
}

describe('NamespaceFinalizer', () => {
  it('empties a terminating namespace of its configmaps and then finalizes it, leaving other namespaces alone', async () => {
    await createNamespace('doomed');
    await createNamespace('bystander');
    await createConfigMap('doomed', 'one');
    await createConfigMap('doomed', 'two');
    await createConfigMap('bystander', 'kept');
    await terminate('doomed');

    await finalizer.tick();
    assert.deepEqual(await configMapNames('doomed'), []);
    const emptied = await namespaceStore.getObject('', 'doomed');
    assert.equal(condition(emptied, 'NamespaceContentRemaining')?.status, 'True');
    assert.match(condition(emptied, 'NamespaceContentRemaining')?.message ?? '', /configmaps has 2 resource instances/);
    assert.equal(condition(emptied, 'NamespaceDeletionDiscoveryFailure')?.status, 'False');

    await finalizer.tick();
    assert.equal(await namespaceGone('doomed'), true);
    assert.deepEqual(await configMapNames('bystander'), ['kept']);
    const bystander = await namespaceStore.getObject('', 'bystander');
    assert.equal(bystander.status?.phase, 'Active');
    assert.equal(bystander.status?.conditions, undefined);
    assert.equal(bystander.metadata.deletionTimestamp, undefined);
  });

  it('finalizes an empty terminating namespace in a single tick', async () => {
    await createNamespace('empty');
    await terminate('empty');
    await finalizer.tick();
    assert.equal(await namespaceGone('empty'), true);
  });

  it('leaves a namespace that is not being deleted alone', async () => {
    await createNamespace('active');
    await createConfigMap('active', 'cm');
    await finalizer.tick();
    assert.deepEqual(await configMapNames('active'), ['cm']);
    assert.equal((await namespaceStore.getObject('', 'active')).status?.conditions, undefined);
  });

  it('is not blocked by a stale version whose namespaced resources can only be read (like metrics.k8s.io)', async () => {
    router.extra.set('metrics.k8s.io/v1beta1', { version: { group: 'metrics.k8s.io', version: 'v1beta1', groupPriority: 100, versionPriority: 100, resources: METRICS_RESOURCES, stale: true } });
    await createNamespace('metrics-ns');
    await createConfigMap('metrics-ns', 'cm');
    await terminate('metrics-ns');
    await finalizer.tick();
    await finalizer.tick();
    assert.equal(await namespaceGone('metrics-ns'), true);
  });

  it('is blocked by a stale version with deletable namespaced resources, names its APIService in NamespaceDeletionDiscoveryFailure, and finalizes once it is back', async () => {
    router.extra.set('example.com/v1', {
      version: { group: 'example.com', version: 'v1', groupPriority: 1000, versionPriority: 100, resources: resourcesOf(extension.server, 'example.com', 'v1'), stale: true },
      target: extension.target,
    });
    await createNamespace('blocked');
    await createConfigMap('blocked', 'cm');
    await widgetStore.create({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'blocked' }, spec: { color: 'red' } }, systemContext('blocked'));
    await terminate('blocked');

    await finalizer.tick();
    await finalizer.tick();
    await finalizer.tick();
    const blocked = await namespaceStore.getObject('', 'blocked');
    assert.equal(blocked.status?.phase, 'Terminating');
    assert.deepEqual(blocked.spec?.finalizers, ['kubernetes']);
    const failure = condition(blocked, 'NamespaceDeletionDiscoveryFailure');
    assert.ok(failure, 'the namespace has a NamespaceDeletionDiscoveryFailure condition');
    assert.equal(failure.status, 'True');
    assert.equal(failure.reason, 'DiscoveryFailed');
    assert.match(failure.message, /APIService v1\.example\.com is unavailable/);
    assert.match(failure.message, /widgets/);
    assert.ok(failure.lastTransitionTime);
    assert.ok(router.apiServiceLookups.includes('example.com/v1'), 'the APIService name comes from the router');
    // What can be deleted still is: the configmaps go, the widget stays with its unreachable server.
    assert.deepEqual(await configMapNames('blocked'), []);
    await widgetStore.cache.syncToLatest();
    assert.equal(widgetStore.cache.list(`${widgetStore.resource.storagePrefix}blocked/`).length, 1);

    router.extra.get('example.com/v1')!.version.stale = false;
    await finalizer.tick();
    await widgetStore.cache.syncToLatest();
    assert.equal(widgetStore.cache.list(`${widgetStore.resource.storagePrefix}blocked/`).length, 0);
    const recovering = await namespaceStore.getObject('', 'blocked');
    assert.equal(condition(recovering, 'NamespaceDeletionDiscoveryFailure')?.status, 'False');
    assert.match(condition(recovering, 'NamespaceContentRemaining')?.message ?? '', /widgets\.example\.com has 1 resource instances/);

    await finalizer.tick();
    assert.equal(await namespaceGone('blocked'), true);
  });

  it('keeps the lastTransitionTime of a condition whose status does not change', async () => {
    router.extra.set('example.com/v1', {
      version: { group: 'example.com', version: 'v1', groupPriority: 1000, versionPriority: 100, resources: resourcesOf(extension.server, 'example.com', 'v1'), stale: true },
    });
    await createNamespace('steady');
    await terminate('steady');
    await finalizer.tick();
    const first = condition(await namespaceStore.getObject('', 'steady'), 'NamespaceDeletionDiscoveryFailure');
    const resourceVersion = (await namespaceStore.getObject('', 'steady')).metadata.resourceVersion;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await finalizer.tick();
    const steady = await namespaceStore.getObject('', 'steady');
    assert.equal(condition(steady, 'NamespaceDeletionDiscoveryFailure')?.lastTransitionTime, first?.lastTransitionTime);
    assert.equal(steady.metadata.resourceVersion, resourceVersion, 'unchanged conditions are not rewritten');
  });
});
