import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fieldElement, FieldSet, keyElement, valueElement } from './field-set.js';
import { SchemaTypes } from './schema-types.js';
import { toFieldSet } from './typed.js';
import { merge } from './merge.js';
import { validateApplied } from './validate.js';
import { builtinSchemas } from '../../schema/builtin.js';
import { applyConfiguration, managerFromUserAgent, recordUpdate } from '../managed-fields.js';
import { defineResource, statusSubresource } from '../resource.js';
import type { KubeObject } from '../object.js';
import type { JSONSchema } from '../../schema/types.js';
import { StatusError } from '../../request/status.js';

const types = new SchemaTypes(builtinSchemas());
const deploymentType = types.objectType('io.k8s.api.apps.v1.Deployment', undefined);
const deployments = defineResource({ group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true, schemaName: 'io.k8s.api.apps.v1.Deployment', subresources: { status: statusSubresource } });
const configMaps = defineResource({ group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true, schemaName: 'io.k8s.api.core.v1.ConfigMap' });

function deployment(spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', ...metadata }, spec };
}

function configMap(data: Record<string, string>, metadata: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'default', ...metadata }, data };
}

/** The stored object after an apply (what the store keeps: uid set, server defaults like the port protocol). */
function applied(resource: typeof deployments, live: KubeObject | undefined, config: Record<string, unknown>, manager: string, force = false, subresource = ''): KubeObject {
  const object = applyConfiguration(resource, live, structuredClone(config), { manager, force, subresource });
  object.metadata.uid ??= 'uid-1';
  return object;
}

function owners(object: KubeObject): Record<string, unknown> {
  return Object.fromEntries((object.metadata.managedFields ?? []).map((entry) => [`${entry.manager}/${entry.operation}${entry.subresource ? `/${entry.subresource}` : ''}`, entry.fieldsV1]));
}

function conflictOf(run: () => unknown): StatusError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof StatusError);
    return error;
  }
  assert.fail('expected a conflict');
}

describe('field sets', () => {
  it('serialise as FieldsV1 in upstream order, with "." for members that have children', () => {
    const set = FieldSet.of(
      [fieldElement('spec'), fieldElement('replicas')],
      [fieldElement('metadata'), fieldElement('labels'), fieldElement('app')],
      [fieldElement('spec'), fieldElement('ports'), keyElement([['protocol', 'TCP'], ['containerPort', 80]])],
      [fieldElement('spec'), fieldElement('ports'), keyElement([['protocol', 'TCP'], ['containerPort', 80]]), fieldElement('containerPort')],
      [fieldElement('spec'), fieldElement('tags'), valueElement('b')],
      [fieldElement('spec'), fieldElement('tags'), valueElement('a')],
    );
    assert.equal(
      JSON.stringify(set.toFields()),
      '{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:ports":{"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},"f:containerPort":{}}},"f:replicas":{},"f:tags":{"v:\\"a\\"":{},"v:\\"b\\"":{}}}}',
    );
    assert.deepEqual(FieldSet.fromFields(set.toFields()).toFields(), set.toFields());
  });

  it('difference keeps a parent whose child is removed, recursive difference drops the subtree', () => {
    const set = FieldSet.of([fieldElement('a')], [fieldElement('a'), fieldElement('b')]);
    const parent = FieldSet.of([fieldElement('a')]);
    assert.deepEqual(set.difference(parent).toFields(), { 'f:a': { 'f:b': {} } });
    assert.deepEqual(set.recursiveDifference(parent).toFields(), {});
  });
});

describe('typed values', () => {
  it('an applied Deployment owns leaves, list items by key (defaulted protocol) and the atomic selector whole', () => {
    const config = deployment({ replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }] }] } } });
    assert.deepEqual(toFieldSet(config, deploymentType).toFields(), {
      'f:apiVersion': {},
      'f:kind': {},
      'f:metadata': { 'f:name': {}, 'f:namespace': {} },
      'f:spec': {
        'f:replicas': {},
        'f:selector': {},
        'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } } } } } },
      },
    });
  });

  it('merges list-map items by key in the live order, replaces atomic lists and maps', () => {
    const live = deployment({
      selector: { matchLabels: { a: '1', b: '2' } },
      template: { spec: { containers: [{ name: 'a', image: 'x', args: ['1', '2'] }, { name: 'b', image: 'y' }] } },
    });
    const config = deployment({ selector: { matchLabels: { c: '3' } }, template: { spec: { containers: [{ name: 'b', image: 'z' }, { name: 'c', image: 'w' }, { name: 'a', args: ['3'] }] } } });
    const merged = merge(live, config, deploymentType) as { spec: { selector: unknown; template: { spec: { containers: unknown[] } } } };
    assert.deepEqual(merged.spec.selector, { matchLabels: { c: '3' } });
    assert.deepEqual(merged.spec.template.spec.containers, [
      { name: 'b', image: 'z' },
      { name: 'c', image: 'w' },
      { name: 'a', image: 'x', args: ['3'] },
    ]);
  });

  it('reports what upstream reports for a malformed configuration', () => {
    assert.deepEqual(validateApplied(configMap({ a: '1' }, { bogus: 1 }), types.objectType('io.k8s.api.core.v1.ConfigMap', undefined)), ['.metadata.bogus: field not declared in schema']);
    const duplicate = deployment({ template: { spec: { containers: [{ name: 'a' }, { name: 'a' }] } } });
    assert.deepEqual(validateApplied(duplicate, deploymentType), ['.spec.template.spec.containers: duplicate entries for key [name="a"]']);
    const keyless = deployment({ template: { spec: { containers: [{ image: 'x' }] } } });
    assert.match(validateApplied(keyless, deploymentType)[0], /element 0: associative list with keys has an element that omits all key fields \["name"\]/);
  });

  it('custom resource schemas: list-type map and set, atomic maps, preserved unknown fields', () => {
    const schema: JSONSchema = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            ports: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', properties: { name: { type: 'string' }, port: { type: 'integer' } } } },
            tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
            selector: { type: 'object', 'x-kubernetes-map-type': 'atomic', additionalProperties: { type: 'string' } },
            extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
          },
        },
      },
    };
    const type = new SchemaTypes(builtinSchemas()).objectType(undefined, schema);
    const config = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', labels: { a: 'b' } }, spec: { ports: [{ name: 'http', port: 80 }], tags: ['x'], selector: { k: 'v' }, extra: { deep: { list: [1] } } } };
    assert.deepEqual(validateApplied(config, type), []);
    assert.deepEqual((toFieldSet(config, type).toFields() as Record<string, unknown>)['f:spec'], {
      'f:extra': { 'f:deep': { '.': {}, 'f:list': {} } },
      'f:ports': { 'k:{"name":"http"}': { '.': {}, 'f:name': {}, 'f:port': {} } },
      'f:selector': {},
      'f:tags': { 'v:"x"': {} },
    });
    const merged = merge(config, { spec: { tags: ['y', 'x'], ports: [{ name: 'metrics', port: 9090 }] } }, type) as { spec: { tags: string[]; ports: unknown[] } };
    assert.deepEqual(merged.spec.tags, ['y', 'x']);
    assert.deepEqual(merged.spec.ports, [{ name: 'http', port: 80 }, { name: 'metrics', port: 9090 }]);
  });
});

describe('server-side apply', () => {
  const base = deployment({ replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } } }, { labels: { app: 'web', tier: 'front' } });

  it('creates with an Apply entry; re-applying without a field removes it', () => {
    const created = applied(deployments, undefined, base, 'a');
    assert.deepEqual(Object.keys(owners(created)), ['a/Apply']);
    const { tier: _tier, ...labels } = (base.metadata as { labels: Record<string, string> }).labels;
    const next = applied(deployments, created, { ...base, metadata: { ...(base.metadata as object), labels } }, 'a');
    assert.deepEqual(next.metadata.labels, { app: 'web' });
    assert.deepEqual((owners(next)['a/Apply'] as { 'f:metadata': unknown })['f:metadata'], { 'f:labels': { 'f:app': {} } });
  });

  it('an omitted field another manager also owns stays', () => {
    const created = applied(deployments, undefined, base, 'a');
    const shared = applied(deployments, created, deployment({ replicas: 2 }), 'b');
    const withoutReplicas = structuredClone(base) as { spec: Record<string, unknown> };
    delete withoutReplicas.spec.replicas;
    const next = applied(deployments, shared, withoutReplicas, 'a');
    assert.equal(next.spec.replicas, 2);
    assert.deepEqual(owners(next)['b/Apply'], { 'f:spec': { 'f:replicas': {} } });
  });

  it('a different value for a field another applier owns is a conflict; force takes ownership', () => {
    const created = applied(deployments, undefined, base, 'a');
    const error = conflictOf(() => applied(deployments, created, deployment({ replicas: 3 }), 'b'));
    assert.equal(error.code, 409);
    assert.equal(error.reason, 'Conflict');
    assert.equal(error.message, 'Apply failed with 1 conflict: conflict with "a": .spec.replicas');
    assert.deepEqual(error.details?.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "a"', field: '.spec.replicas' }]);
    const forced = applied(deployments, created, deployment({ replicas: 3 }), 'b', true);
    assert.equal(forced.spec.replicas, 3);
    assert.deepEqual(owners(forced)['b/Apply'], { 'f:spec': { 'f:replicas': {} } });
    assert.equal(JSON.stringify(owners(forced)['a/Apply']).includes('f:replicas'), false);
  });

  it('conflicts with Update owners name the apiVersion and list every field', () => {
    const created = applied(deployments, undefined, base, 'a');
    const edited = structuredClone(created);
    edited.spec.replicas = 4;
    edited.metadata.labels!.tier = 'back';
    recordUpdate(deployments, edited, created, edited.metadata.managedFields, 'kubectl-edit');
    assert.deepEqual(owners(edited)['kubectl-edit/Update'], { 'f:metadata': { 'f:labels': { 'f:tier': {} } }, 'f:spec': { 'f:replicas': {} } });
    assert.equal(JSON.stringify(owners(edited)['a/Apply']).includes('f:replicas'), false, 'an update takes the fields it changed away from appliers');
    const error = conflictOf(() => applied(deployments, edited, deployment({ replicas: 1 }, { labels: { tier: 'x' } }), 'c'));
    assert.equal(error.message, 'Apply failed with 2 conflicts: conflicts with "kubectl-edit" using apps/v1:\n- .metadata.labels.tier\n- .spec.replicas');
  });

  it('status applies own only status, recorded with subresource status', () => {
    const created = applied(deployments, undefined, base, 'a');
    const status = applied(deployments, created, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, status: { replicas: 2 } }, 'ctrl', false, 'status');
    assert.deepEqual(owners(status)['ctrl/Apply/status'], { 'f:status': { 'f:replicas': {} } });
  });

  it('an apply that would create an object with a uid is a conflict', () => {
    assert.throws(() => applied(configMaps, undefined, configMap({}, { uid: 'abc' }), 'a'), /Operation cannot be fulfilled on configmaps "settings": uid mismatch: the provided object specified uid abc, and no existing object was found/);
  });

  it('rejects managedFields and foreign kinds in the configuration', () => {
    assert.throws(() => applied(configMaps, undefined, configMap({ a: '1' }, { managedFields: [] }), 'a'), /metadata.managedFields must be nil/);
    assert.throws(() => applied(configMaps, undefined, { ...configMap({}), apiVersion: 'v2' }, 'a'), /invalid object type: \/v2, Kind=ConfigMap/);
  });

  it('fields of an object nobody tracked belong to "before-first-apply" on the first apply', () => {
    const untracked = configMap({ color: 'blue', size: '3' }, { uid: 'u' }) as KubeObject;
    assert.throws(() => applied(configMaps, untracked, configMap({ color: 'red' }), 'a'), /Apply failed with 1 conflict: conflict with "before-first-apply" using v1: \.data\.color/);
    const next = applied(configMaps, untracked, configMap({ color: 'blue' }), 'a');
    assert.deepEqual(Object.keys(owners(next)).sort(), ['a/Apply', 'before-first-apply/Update']);
  });

  it('a Service port is keyed by port and its defaulted protocol', () => {
    const services = defineResource({ group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true, schemaName: 'io.k8s.api.core.v1.Service' });
    const object = applied(services, undefined, { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } }, 'a');
    assert.deepEqual((owners(object)['a/Apply'] as { 'f:spec': unknown })['f:spec'], { 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {} } } });
  });

  it('kubectl may take over fields it applied client-side (last-applied unchanged)', () => {
    const lastApplied = JSON.stringify(configMap({ color: 'blue' }));
    const live = configMap({ color: 'blue' }, { uid: 'u', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied } }) as KubeObject;
    const created = structuredClone(live);
    recordUpdate(configMaps, created, undefined, undefined, 'kubectl-client-side-apply');
    const next = applied(configMaps, created, configMap({ color: 'red' }), 'kubectl');
    assert.equal(next.data.color, 'red');
    assert.throws(() => applied(configMaps, created, configMap({ color: 'red' }), 'someone-else'), /conflict with "kubectl-client-side-apply" using v1: \.data\.color/);
  });
});

describe('updates', () => {
  it('an empty entry resets managedFields, and untracked objects stay untracked', () => {
    const live = applied(configMaps, undefined, configMap({ a: '1' }), 'a');
    const next = structuredClone(live);
    recordUpdate(configMaps, next, live, [{}], 'kubectl-patch');
    assert.equal(next.metadata.managedFields, undefined);
    const later = structuredClone(next);
    later.data.a = '2';
    recordUpdate(configMaps, later, next, undefined, 'kubectl-edit');
    assert.equal(later.metadata.managedFields, undefined);
  });

  it('a create records the creator with "." for new maps', () => {
    const object = configMap({ a: '1' }, { labels: { x: 'y' } }) as KubeObject;
    recordUpdate(configMaps, object, undefined, undefined, 'kubectl-create');
    assert.deepEqual(owners(object)['kubectl-create/Update'], { 'f:data': { '.': {}, 'f:a': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:x': {} } } });
  });

  it('a created Deployment is compared with the Go zero object: no "." for spec or template, "." for new maps', () => {
    const object = deployment({
      replicas: 1,
      selector: { matchLabels: { app: 'nginx' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: { metadata: { creationTimestamp: null, labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx', resources: {} }], restartPolicy: 'Always' } },
    }) as KubeObject;
    recordUpdate(deployments, object, undefined, undefined, 'kubectl-create');
    assert.deepEqual(owners(object)['kubectl-create/Update'], {
      'f:spec': {
        'f:replicas': {},
        'f:selector': {},
        'f:strategy': { 'f:rollingUpdate': { '.': {}, 'f:maxSurge': {}, 'f:maxUnavailable': {} }, 'f:type': {} },
        'f:template': {
          'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
          'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:resources': {} } }, 'f:restartPolicy': {} },
        },
      },
    });
  });

  it('the default manager is the user agent before its first "/"', () => {
    assert.equal(managerFromUserAgent('kubectl/v1.32.4 (linux/amd64) kubernetes/abc'), 'kubectl');
    assert.equal(managerFromUserAgent(undefined), '');
  });
});
