import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatusError } from '../../apiserver/request/status.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { NamespaceLifecycle } from './namespace-lifecycle.js';
import { ServiceAccountAdmission } from './service-account.js';
import { LimitRanger, aggregate } from './limit-ranger.js';
import { DefaultStorageClass } from './default-storage-class.js';
import { attributesOf, pod } from './test-support.js';

async function refusal(work: Promise<unknown>): Promise<StatusError> {
  try {
    await work;
  } catch (error) {
    assert.ok(error instanceof StatusError, String(error));
    return error;
  }
  assert.fail('expected a refusal');
}

const configMap = (name: string, namespace: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace } });

describe('NamespaceLifecycle', () => {
  const phases: Record<string, 'Active' | 'Terminating'> = { live: 'Active', dying: 'Terminating' };
  const plugin = new NamespaceLifecycle(async (namespace) => phases[namespace]);

  it('refuses creates in a terminating namespace with the NamespaceTerminating cause, allows updates and deletes there', async () => {
    const error = await refusal(plugin.admit(attributesOf('configmaps', configMap('c', 'dying'))));
    assert.equal(error.code, 403);
    assert.equal(error.message, 'configmaps "c" is forbidden: unable to create new content in namespace dying because it is being terminated');
    assert.deepEqual(error.details?.causes, [{ reason: 'NamespaceTerminating', message: 'namespace dying is being terminated', field: 'metadata.namespace' }]);
    await plugin.admit(attributesOf('configmaps', configMap('c', 'dying'), { operation: 'UPDATE' }));
    await plugin.admit(attributesOf('configmaps', undefined, { operation: 'DELETE', namespace: 'dying', name: 'c' }));
  });

  it('answers NotFound for a missing namespace, except for deletes and cluster-scoped kinds', async () => {
    const error = await refusal(plugin.admit(attributesOf('configmaps', configMap('c', 'gone'), { operation: 'UPDATE' })));
    assert.equal(error.code, 404);
    assert.equal(error.message, 'namespaces "gone" not found');
    await plugin.admit(attributesOf('configmaps', undefined, { operation: 'DELETE', namespace: 'gone', name: 'c' }));
    await plugin.admit(attributesOf('clusterroles.rbac.authorization.k8s.io', { metadata: { name: 'r' } }, { namespace: '' }));
    await plugin.admit(attributesOf('configmaps', configMap('c', 'live')));
  });

  it('never deletes the immortal namespaces', async () => {
    const error = await refusal(plugin.admit(attributesOf('namespaces', undefined, { operation: 'DELETE', namespace: '', name: 'kube-system' })));
    assert.equal(error.message, 'namespaces "kube-system" is forbidden: this namespace may not be deleted');
    await plugin.admit(attributesOf('namespaces', undefined, { operation: 'DELETE', namespace: '', name: 'kube-node-lease' }));
  });
});

describe('ServiceAccount', () => {
  const accounts = new Set(['default/default', 'default/builder']);
  let lookups = 0;
  const plugin = new ServiceAccountAdmission(async (namespace, name) => {
    lookups++;
    return accounts.has(`${namespace}/${name}`);
  }, () => 1);

  it('defaults serviceAccountName to default and accepts existing accounts', async () => {
    const object = pod('p', { containers: [{ name: 'c', image: 'x' }] });
    const attributes = attributesOf('pods', object);
    await plugin.admit(attributes);
    assert.equal(object.spec.serviceAccountName, 'default');
    assert.equal(object.spec.serviceAccount, 'default');
    await plugin.validate(attributes);
  });

  it('refuses a pod naming a missing account with upstream wording; waits for a missing default account', async () => {
    const error = await refusal(plugin.validate(attributesOf('pods', pod('p', { serviceAccountName: 'ghost' }))));
    assert.equal(error.message, 'pods "p" is forbidden: error looking up service account default/ghost: serviceaccount "ghost" not found');
    lookups = 0;
    await refusal(plugin.validate(attributesOf('pods', pod('p', { serviceAccountName: 'default' }), { namespace: 'fresh' })));
    assert.equal(lookups, 10, 'the default account is looked up ten times before giving up');
  });

  it('leaves mirror pods and other operations alone', async () => {
    await plugin.validate(attributesOf('pods', pod('p', { serviceAccountName: 'ghost' }, { annotations: { 'kubernetes.io/config.mirror': 'x' } })));
    await plugin.validate(attributesOf('pods', pod('p', { serviceAccountName: 'ghost' }), { operation: 'UPDATE' }));
  });
});

describe('LimitRanger', () => {
  const ranges: KubeObject[] = [
    {
      metadata: { name: 'limits', namespace: 'default' },
      spec: {
        limits: [
          { type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m' }, max: { cpu: '1' }, min: { memory: '64Mi' }, maxLimitRequestRatio: { cpu: '4' } },
          { type: 'Pod', max: { memory: '1Gi' } },
        ],
      },
    },
  ];
  const plugin = new LimitRanger(async () => ranges);

  it('fills in default requests and limits and records what it set', async () => {
    const object = pod('p', { containers: [{ name: 'web', image: 'x', resources: { requests: { memory: '100Mi' } } }], initContainers: [{ name: 'init', image: 'x' }] });
    await plugin.admit(attributesOf('pods', object));
    assert.deepEqual(object.spec.containers[0].resources, { requests: { memory: '100Mi', cpu: '100m' }, limits: { cpu: '500m', memory: '256Mi' } });
    assert.equal(
      object.metadata.annotations?.['kubernetes.io/limit-ranger'],
      'LimitRanger plugin set: cpu request for container web; cpu, memory limit for container web; cpu request for init container init; cpu, memory limit for init container init',
    );
  });

  it('reports every violated constraint at once', async () => {
    const object = pod('p', {
      containers: [
        { name: 'a', image: 'x', resources: { requests: { cpu: '250m', memory: '32Mi' }, limits: { cpu: '2', memory: '600Mi' } } },
        { name: 'b', image: 'x', resources: { requests: { cpu: '1', memory: '64Mi' }, limits: { cpu: '1', memory: '600Mi' } } },
      ],
    });
    const error = await refusal(plugin.validate(attributesOf('pods', object)));
    assert.equal(
      error.message,
      'pods "p" is forbidden: [minimum memory usage per Container is 64Mi, but request is 32Mi, maximum cpu usage per Container is 1, but limit is 2, cpu max limit to request ratio per Container is 4, but provided ratio is 8.000000, maximum memory usage per Pod is 1Gi, but limit is 1200Mi]',
    );
    assert.equal(aggregate(['one']), 'one');
  });

  it('checks claims against PersistentVolumeClaim limits', async () => {
    const claims = new LimitRanger(async () => [{ metadata: { name: 'l' }, spec: { limits: [{ type: 'PersistentVolumeClaim', max: { storage: '2Gi' } }] } }]);
    const claim: KubeObject = { metadata: { name: 'c', namespace: 'default' }, spec: { resources: { requests: { storage: '5Gi' } } } };
    const error = await refusal(claims.validate(attributesOf('persistentvolumeclaims', claim)));
    assert.equal(error.message, 'persistentvolumeclaims "c" is forbidden: maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi');
  });
});

describe('DefaultStorageClass', () => {
  const classes: KubeObject[] = [
    { metadata: { name: 'old', creationTimestamp: '2024-01-01T00:00:00Z', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } },
    { metadata: { name: 'new', creationTimestamp: '2025-01-01T00:00:00Z', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } },
    { metadata: { name: 'plain', creationTimestamp: '2026-01-01T00:00:00Z' } },
  ];
  const plugin = new DefaultStorageClass(async () => classes);

  it('gives a claim without a class the newest default class; leaves an explicit empty class alone', async () => {
    const claim: KubeObject = { metadata: { name: 'c', namespace: 'default' }, spec: {} };
    await plugin.admit(attributesOf('persistentvolumeclaims', claim));
    assert.equal(claim.spec.storageClassName, 'new');
    const none: KubeObject = { metadata: { name: 'n', namespace: 'default' }, spec: { storageClassName: '' } };
    await plugin.admit(attributesOf('persistentvolumeclaims', none));
    assert.equal(none.spec.storageClassName, '');
  });
});
