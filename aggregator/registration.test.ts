import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend, DiscoveredGroup } from './backend.js';
import { AUTOMANAGED_LABEL } from './apiservices.js';
import { AutoRegistration } from './registration.js';
import type { ApiServiceStore } from './test-support.js';
import { apiServiceStore, cachedObjects, localApiService, remoteApiService, systemContext } from './test-support.js';

interface FakeBackend {
  name: string;
  groups: DiscoveredGroup[];
  discovered: boolean;
  ready: boolean;
  group(name: string): DiscoveredGroup | undefined;
}

function fakeBackend(name: string, groups: DiscoveredGroup[]): FakeBackend {
  return {
    name,
    groups,
    discovered: true,
    ready: true,
    group(wanted) {
      return this.groups.find((candidate) => candidate.name === wanted);
    },
  };
}

function group(name: string, ...versions: string[]): DiscoveredGroup {
  return { name, versions: versions.map((version) => ({ version, resources: [] })) };
}

let env: ApiServiceStore;
let core: FakeBackend;
let crds: FakeBackend;
let registration: AutoRegistration;

beforeEach(async () => {
  env = await apiServiceStore();
  core = fakeBackend('core', [group('', 'v1'), group('apps', 'v1'), group('batch', 'v1')]);
  crds = fakeBackend('apiextensions', [group('apiextensions.k8s.io', 'v1'), group('stable.example.com', 'v1', 'v1beta1')]);
  registration = new AutoRegistration(env.store, [core, crds] as unknown as Backend[], {
    crdBackend: 'apiextensions',
    crdOwnGroup: 'apiextensions.k8s.io',
    own: [{ group: 'apiregistration.k8s.io', version: 'v1' }],
  });
});

afterEach(async () => {
  await env.close();
});

describe('AutoRegistration', () => {
  it('registers built-in group-versions as local APIServices labelled automanaged: onstart with the priority table', async () => {
    await registration.sync();
    const registered = await cachedObjects(env.store);
    const apps = registered.get('v1.apps');
    assert.ok(apps);
    assert.equal(apps.metadata.labels?.[AUTOMANAGED_LABEL], 'onstart');
    assert.deepEqual(apps.spec, { group: 'apps', version: 'v1', groupPriorityMinimum: 17800, versionPriority: 15 });
    const legacy = registered.get('v1.');
    assert.ok(legacy, 'core v1 is registered as "v1."');
    assert.equal(legacy.metadata.labels?.[AUTOMANAGED_LABEL], 'onstart');
    assert.deepEqual(legacy.spec, { group: '', version: 'v1', groupPriorityMinimum: 18000, versionPriority: 1 });
    assert.deepEqual(registered.get('v1.batch')?.spec, { group: 'batch', version: 'v1', groupPriorityMinimum: 17400, versionPriority: 15 });
  });

  it("registers the aggregator's own group-versions as onstart too", async () => {
    await registration.sync();
    const own = (await cachedObjects(env.store)).get('v1.apiregistration.k8s.io');
    assert.ok(own);
    assert.equal(own.metadata.labels?.[AUTOMANAGED_LABEL], 'onstart');
    assert.equal(own.spec.service, undefined);
  });

  it('registers CRD group-versions labelled automanaged: "true" with 1000/100, but the CRD backend\'s own group as onstart', async () => {
    await registration.sync();
    const registered = await cachedObjects(env.store);
    for (const version of ['v1', 'v1beta1']) {
      const crd = registered.get(`${version}.stable.example.com`);
      assert.ok(crd, `${version}.stable.example.com is registered`);
      assert.equal(crd.metadata.labels?.[AUTOMANAGED_LABEL], 'true');
      assert.equal(crd.spec.groupPriorityMinimum, 1000);
      assert.equal(crd.spec.versionPriority, 100);
    }
    const own = registered.get('v1.apiextensions.k8s.io');
    assert.ok(own);
    assert.equal(own.metadata.labels?.[AUTOMANAGED_LABEL], 'onstart');
    assert.equal(own.spec.groupPriorityMinimum, 16700);
    assert.equal(own.spec.versionPriority, 15);
  });

  it('registers nothing for a backend that has never been discovered', async () => {
    core.discovered = false;
    await registration.sync();
    const registered = await cachedObjects(env.store);
    assert.equal(registered.has('v1.apps'), false);
    assert.equal(registered.has('v1.stable.example.com'), true);
  });

  it("deletes a CRD group-version's APIService when it disappears from the CRD backend's discovery", async () => {
    await registration.sync();
    crds.groups = [group('apiextensions.k8s.io', 'v1'), group('stable.example.com', 'v1')];
    await registration.sync();
    const registered = await cachedObjects(env.store);
    assert.equal(registered.has('v1beta1.stable.example.com'), false);
    assert.equal(registered.has('v1.stable.example.com'), true);
    crds.groups = [group('apiextensions.k8s.io', 'v1')];
    await registration.sync();
    const after = await cachedObjects(env.store);
    assert.equal(after.has('v1.stable.example.com'), false);
    assert.equal(after.has('v1.apiextensions.k8s.io'), true);
  });

  it('keeps onstart APIServices of a backend that is not ready, even when its groups are no longer listed', async () => {
    await registration.sync();
    core.ready = false;
    core.groups = [];
    await registration.sync();
    const registered = await cachedObjects(env.store);
    assert.equal(registered.get('v1.apps')?.metadata.labels?.[AUTOMANAGED_LABEL], 'onstart');
    assert.ok(registered.has('v1.'));
    assert.ok(registered.has('v1.batch'));
  });

  it('keeps CRD APIServices while the CRD backend is not ready', async () => {
    await registration.sync();
    crds.ready = false;
    crds.groups = [group('apiextensions.k8s.io', 'v1')];
    await registration.sync();
    assert.equal((await cachedObjects(env.store)).has('v1.stable.example.com'), true);
    crds.ready = true;
    await registration.sync();
    assert.equal((await cachedObjects(env.store)).has('v1.stable.example.com'), false);
  });

  it('puts back the spec of a CRD (automanaged: "true") APIService that was edited', async () => {
    await registration.sync();
    const crd = await env.store.getObject('', 'v1.stable.example.com');
    crd.spec.versionPriority = 999;
    await env.store.update('v1.stable.example.com', crd, systemContext());
    await registration.sync();
    const restored = await env.store.getObject('', 'v1.stable.example.com');
    assert.equal(restored.spec.versionPriority, 100);
    assert.equal(restored.metadata.labels?.[AUTOMANAGED_LABEL], 'true');
  });

  it('never touches a user-created APIService, even one named like a served or vanished group-version', async () => {
    const userCrd = localApiService('stable.example.com', 'v1', { groupPriorityMinimum: 500, versionPriority: 5 });
    const userApps = localApiService('apps', 'v1', { groupPriorityMinimum: 1, versionPriority: 1 });
    const userRemote = remoteApiService('metrics.k8s.io', 'v1beta1');
    for (const object of [userCrd, userApps, userRemote]) await env.store.create(object, systemContext());
    const before = await cachedObjects(env.store);
    await registration.sync();
    crds.groups = [group('apiextensions.k8s.io', 'v1')];
    await registration.sync();
    const after = await cachedObjects(env.store);
    for (const name of ['v1.stable.example.com', 'v1.apps', 'v1beta1.metrics.k8s.io']) {
      const object = after.get(name);
      assert.ok(object, `${name} is still there`);
      assert.equal(object.metadata.labels?.[AUTOMANAGED_LABEL], undefined);
      assert.equal(object.metadata.resourceVersion, before.get(name)?.metadata.resourceVersion, `${name} was not written`);
      assert.deepEqual(object.spec, before.get(name)?.spec);
    }
  });

  it('coalesces concurrent syncs and converges', async () => {
    await Promise.all([registration.sync(), registration.sync(), registration.sync()]);
    const registered = await cachedObjects(env.store);
    assert.deepEqual(
      [...registered.keys()].sort(),
      ['v1.', 'v1.apiextensions.k8s.io', 'v1.apiregistration.k8s.io', 'v1.apps', 'v1.batch', 'v1.stable.example.com', 'v1beta1.stable.example.com'],
    );
  });

  it('a change of named groups reconciles only their APIServices: new ones registered, vanished ones removed, others not looked at', async () => {
    await registration.sync();
    // Out of band, an unrelated CRD APIService goes missing: only a full reconcile puts it back.
    await env.store.delete('v1beta1.stable.example.com', {}, systemContext());
    crds.groups = [group('apiextensions.k8s.io', 'v1'), group('stable.example.com', 'v1', 'v1beta1'), group('new.example.com', 'v1')];
    await registration.sync(new Set(['new.example.com']));
    let registered = await cachedObjects(env.store);
    assert.equal(registered.get('v1.new.example.com')?.metadata.labels?.[AUTOMANAGED_LABEL], 'true');
    assert.deepEqual(registered.get('v1.new.example.com')?.spec, { group: 'new.example.com', version: 'v1', groupPriorityMinimum: 1000, versionPriority: 100 });
    assert.equal(registered.has('v1beta1.stable.example.com'), false, 'an unchanged group is not reconciled');

    crds.groups = [group('apiextensions.k8s.io', 'v1'), group('stable.example.com', 'v1', 'v1beta1')];
    await registration.sync(new Set(['new.example.com']));
    registered = await cachedObjects(env.store);
    assert.equal(registered.has('v1.new.example.com'), false, 'a vanished group loses its APIService');

    await registration.sync();
    assert.equal((await cachedObjects(env.store)).has('v1beta1.stable.example.com'), true);
  });
});
