// pods/ephemeralcontainers: upstream's validation of ephemeral containers, and the subresource over HTTP
// (a strategic-merge patch as `kubectl debug` sends it changes only spec.ephemeralContainers).

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import { ApiServer } from '../../../apiserver/server/api-server.js';
import { MemoryStorage } from '../../../apiserver/storage/memory.js';
import { builtinSchemas } from '../../../apiserver/schema/builtin.js';
import { structuralCheckFor } from '../../../apiserver/schema/structural-check.js';
import { schemaPatchMeta } from '../../../apiserver/schema/patch-meta.js';
import { request } from '../../../apiserver/server/test-server.js';
import { core1Resources } from './index.js';
import { validateEphemeralContainers, validateEphemeralContainersUpdate } from './pod-ephemeral-containers.js';

const debug = (name: string, extra: Record<string, unknown> = {}) => ({ name, image: 'busybox', imagePullPolicy: 'Always', terminationMessagePolicy: 'File', ...extra });

function pod(ephemeral: Record<string, unknown>[], annotations?: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', ...(annotations ? { annotations } : {}) },
    spec: {
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      initContainers: [{ name: 'setup', image: 'busybox', imagePullPolicy: 'Always', terminationMessagePolicy: 'File' }],
      containers: [{ name: 'app', image: 'nginx', imagePullPolicy: 'Always', terminationMessagePolicy: 'File' }],
      ephemeralContainers: ephemeral,
    },
  };
}

describe('ephemeral container validation', () => {
  it('accepts a debugging container that targets a regular container', () => {
    assert.deepEqual(validateEphemeralContainers(pod([debug('debugger', { targetContainerName: 'app', stdin: true, tty: true, command: ['sh'] })]).spec as Record<string, unknown>), []);
  });

  it('forbids ports, resources, probes, lifecycle hooks and subPath mounts', () => {
    const spec = pod([
      debug('debugger', {
        ports: [{ containerPort: 80, protocol: 'TCP' }],
        resources: { limits: { cpu: '1' } },
        livenessProbe: { exec: { command: ['true'] } },
        readinessProbe: { exec: { command: ['true'] } },
        lifecycle: { preStop: { exec: { command: ['true'] } } },
        volumeMounts: [{ name: 'data', mountPath: '/data', subPath: 'x' }],
      }),
    ]).spec as Record<string, unknown>;
    const forbidden = validateEphemeralContainers(spec)
      .filter((error) => error.type === 'FieldValueForbidden')
      .map((error) => `${error.field}: ${error.detail}`);
    assert.deepEqual(forbidden, [
      'spec.ephemeralContainers[0].ports: cannot be set for an Ephemeral Container',
      'spec.ephemeralContainers[0].resources: cannot be set for an Ephemeral Container',
      'spec.ephemeralContainers[0].livenessProbe: cannot be set for an Ephemeral Container',
      'spec.ephemeralContainers[0].readinessProbe: cannot be set for an Ephemeral Container',
      'spec.ephemeralContainers[0].lifecycle: cannot be set for an Ephemeral Container',
      'spec.ephemeralContainers[0].volumeMounts[0].subPath: cannot be set for an Ephemeral Container',
    ]);
  });

  it('empty resources (the default) are not a violation', () => {
    assert.deepEqual(validateEphemeralContainers(pod([debug('debugger', { resources: {} })]).spec as Record<string, unknown>), []);
  });

  it('wants names unique across init, regular and ephemeral containers, and a target that is not ephemeral', () => {
    const errors = validateEphemeralContainers(pod([debug('app'), debug('setup'), debug('one'), debug('one'), debug('two', { targetContainerName: 'one' })]).spec as Record<string, unknown>);
    assert.deepEqual(
      errors.map((error) => [error.field, error.type, error.value]),
      [
        ['spec.ephemeralContainers[0].name', 'FieldValueDuplicate', 'app'],
        ['spec.ephemeralContainers[1].name', 'FieldValueDuplicate', 'setup'],
        ['spec.ephemeralContainers[3].name', 'FieldValueDuplicate', 'one'],
        ['spec.ephemeralContainers[4].targetContainerName', 'FieldValueNotFound', 'one'],
      ],
    );
  });

  it('requires an image and a valid name', () => {
    const errors = validateEphemeralContainers(pod([{ name: 'Bad_Name', imagePullPolicy: 'Always', terminationMessagePolicy: 'File' }]).spec as Record<string, unknown>);
    assert.ok(errors.some((error) => error.field === 'spec.ephemeralContainers[0].name' && error.type === 'FieldValueInvalid'));
    assert.ok(errors.some((error) => error.field === 'spec.ephemeralContainers[0].image' && error.type === 'FieldValueRequired'));
  });

  it('lets containers be added, never removed or changed', () => {
    const old = pod([debug('one')]);
    assert.deepEqual(validateEphemeralContainersUpdate(pod([debug('one'), debug('two')]), old), []);
    const removed = validateEphemeralContainersUpdate(pod([debug('two')]), old);
    assert.deepEqual(removed.map((error) => [error.field, error.detail]), [['spec.ephemeralContainers', 'existing ephemeral containers "one" may not be removed\n']]);
    const changed = validateEphemeralContainersUpdate(pod([debug('one', { image: 'alpine' })]), old);
    assert.equal(changed.length, 1);
    assert.match(changed[0].detail!, /^existing ephemeral containers "one" may not be changed\n {2}image: "busybox" -> "alpine"$/);
  });

  it('refuses ephemeral containers in static pods', () => {
    const old = pod([], { 'kubernetes.io/config.mirror': 'abc' });
    assert.deepEqual(validateEphemeralContainersUpdate(pod([debug('one')], { 'kubernetes.io/config.mirror': 'abc' }), old), [
      { field: '', type: 'FieldValueForbidden', detail: 'static pods do not support ephemeral containers' },
    ]);
  });
});

describe('pods/ephemeralcontainers over HTTP', () => {
  const PODS = '/api/v1/namespaces/default/pods';
  const SMP = { 'Content-Type': 'application/strategic-merge-patch+json' };
  let port = 0;
  let close: () => Promise<void>;
  const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => request(port, method, path, { body, headers });

  before(async () => {
    const storage = new MemoryStorage();
    const definitions = builtinSchemas();
    const server = new ApiServer({ name: 'ephemeral-test', authentication: { clientCa: [], untrustedIdentityHeaders: 'strip' }, authorizer: async () => ({ allowed: true }) });
    for (const definition of core1Resources) {
      const schema = definitions[definition.schemaName!];
      server.addResource({ definition, storage, hooks: { structuralCheck: structuralCheckFor(schema, definitions) }, patchMeta: schemaPatchMeta(schema, definitions) });
    }
    await server.startCaches();
    const httpServer = http.createServer(server.callback());
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    port = (httpServer.address() as AddressInfo).port;
    close = async () => {
      await server.shutdown(1000);
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await storage.close();
    };
    const created = await call('POST', PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } });
    assert.equal(created.status, 201, created.text);
  });
  after(async () => close());

  it('refuses ephemeral containers on create', async () => {
    const refused = await call('POST', PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'early' }, spec: { containers: [{ name: 'app', image: 'nginx' }], ephemeralContainers: [{ name: 'dbg', image: 'busybox' }] } });
    assert.equal(refused.status, 422);
    assert.equal(refused.json.message, 'Pod "early" is invalid: spec.ephemeralContainers: Forbidden: cannot be set on create');
  });

  it('adds a container with a strategic-merge patch, defaulted, and changes nothing else', async () => {
    const patched = await call('PATCH', `${PODS}/web/ephemeralcontainers`, { metadata: { labels: { app: 'changed' } }, spec: { containers: [{ name: 'app', image: 'evil' }], ephemeralContainers: [{ name: 'debugger', image: 'busybox', stdin: true, tty: true, targetContainerName: 'app' }] } }, SMP);
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.json.kind, 'Pod');
    const stored = (await call('GET', `${PODS}/web/ephemeralcontainers`)).json;
    assert.deepEqual(stored.spec.ephemeralContainers, [
      { name: 'debugger', image: 'busybox', stdin: true, tty: true, targetContainerName: 'app', imagePullPolicy: 'Always', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', resources: {} },
    ]);
    assert.equal(stored.spec.containers[0].image, 'nginx');
    assert.equal(stored.metadata.labels.app, 'web');
  });

  it('refuses to change an existing one, and the pod itself cannot change them', async () => {
    const changed = await call('PATCH', `${PODS}/web/ephemeralcontainers`, { spec: { ephemeralContainers: [{ name: 'debugger', image: 'alpine' }] } }, SMP);
    assert.equal(changed.status, 422);
    assert.match(changed.json.message, /^Pod "web" is invalid: spec\.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not be changed/);
    const viaPod = await call('PATCH', `${PODS}/web`, { spec: { ephemeralContainers: [{ name: 'other', image: 'busybox' }] } }, SMP);
    assert.equal(viaPod.status, 422);
    assert.match(viaPod.json.message, /pod updates may not change fields other than/);
  });

  it('a port on an ephemeral container is a 422 naming the field', async () => {
    const refused = await call('PATCH', `${PODS}/web/ephemeralcontainers`, { spec: { ephemeralContainers: [{ name: 'web-port', image: 'busybox', ports: [{ containerPort: 80 }] }] } }, SMP);
    assert.equal(refused.status, 422);
    assert.match(refused.json.message, /spec\.ephemeralContainers\[1\]\.ports: Forbidden: cannot be set for an Ephemeral Container/);
  });
});
