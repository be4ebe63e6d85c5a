import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import type { JSONSchema } from '../apiserver/schema/types.js';
import { parseClassName } from './builtin-definition-names.js';
import { parseDeclarationDocs } from './client-node-models.js';
import { generateBuiltinSchemas } from './gen-builtin-schemas.js';

const CORE = 'io.k8s.api.core.v1';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

describe('built-in schema generator', () => {
  let schemas: Record<string, JSONSchema>;
  let elapsedMilliseconds: number;

  before(async () => {
    const started = performance.now();
    schemas = (await generateBuiltinSchemas()).schemas;
    elapsedMilliseconds = performance.now() - started;
  });

  const property = (definition: string, field: string): JSONSchema => {
    const found = schemas[definition]?.properties?.[field];
    assert.ok(found, `${definition}.${field} exists`);
    return found;
  };

  it('runs well under five seconds', () => {
    assert.ok(elapsedMilliseconds < 5000, `took ${elapsedMilliseconds} ms`);
  });

  it('names definitions as upstream OpenAPI does', () => {
    for (const name of [
      `${CORE}.ConfigMap`, `${CORE}.Secret`, `${CORE}.Namespace`, `${CORE}.Pod`, `${META}.ObjectMeta`,
      'io.k8s.api.apps.v1.Deployment', 'io.k8s.api.core.v1.Event', 'io.k8s.api.events.v1.Event',
      'io.k8s.api.authentication.v1.TokenRequest', 'io.k8s.api.autoscaling.v1.Scale', 'io.k8s.api.policy.v1.Eviction',
      'io.k8s.api.core.v1.TopologySelectorTerm', 'io.k8s.api.rbac.v1.Subject', 'io.k8s.apimachinery.pkg.version.Info',
      'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition',
      'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService',
      'io.k8s.apimachinery.pkg.api.resource.Quantity', 'io.k8s.apimachinery.pkg.util.intstr.IntOrString',
      `${META}.Time`, `${META}.MicroTime`, 'io.k8s.apimachinery.pkg.runtime.RawExtension',
    ]) {
      assert.ok(schemas[name], `${name} is generated`);
    }
    assert.equal(Object.keys(schemas).some((name) => /\.V\d/.test(name)), false, 'no client class prefixes leak');
  });

  it('carries class and field descriptions from the declarations', () => {
    for (const name of [`${CORE}.ConfigMap`, `${CORE}.Secret`, `${CORE}.Namespace`, `${CORE}.Pod`, `${META}.ObjectMeta`]) {
      assert.equal(schemas[name].type, 'object');
      assert.ok((schemas[name].description ?? '').length > 20, `${name} has a description`);
    }
    assert.match(schemas[`${CORE}.Pod`].description!, /^Pod is a collection of containers/);
    assert.match(property(`${META}.ObjectMeta`, 'labels').description!, /^Map of string keys and values/);
    assert.match(property(`${META}.ObjectMeta`, 'managedFields').description!, /users typically shouldn't need/);
    assert.match(property(`${CORE}.Pod`, 'metadata').description!, /Standard object's metadata/);
  });

  it('marks required fields from the declarations', () => {
    assert.deepEqual(schemas[`${CORE}.PodSpec`].required, ['containers']);
    assert.deepEqual(schemas[`${CORE}.Container`].required, ['name']);
    assert.equal(schemas[`${META}.ObjectMeta`].required, undefined);
    assert.deepEqual(schemas[`${CORE}.ServicePort`].required, ['port']);
  });

  it('puts the group-version-kind on top-level kinds only', () => {
    assert.deepEqual(schemas[`${CORE}.Pod`]['x-kubernetes-group-version-kind'], [{ group: '', version: 'v1', kind: 'Pod' }]);
    assert.deepEqual(schemas['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind'], [
      { group: 'apps', version: 'v1', kind: 'Deployment' },
    ]);
    assert.deepEqual(schemas[`${CORE}.PodList`]['x-kubernetes-group-version-kind'], [
      { group: '', version: 'v1', kind: 'PodList' },
    ]);
    assert.deepEqual(schemas['io.k8s.api.policy.v1.Eviction']['x-kubernetes-group-version-kind'], [
      { group: 'policy', version: 'v1', kind: 'Eviction' },
    ]);
    assert.equal(schemas[`${CORE}.PodSpec`]['x-kubernetes-group-version-kind'], undefined);
    assert.equal(schemas[`${CORE}.ObjectReference`]['x-kubernetes-group-version-kind'], undefined);
  });

  it('writes references as allOf for fields and bare $ref for items', () => {
    assert.deepEqual(property(`${CORE}.Pod`, 'spec').allOf, [{ $ref: `#/components/schemas/${CORE}.PodSpec` }]);
    assert.deepEqual(property(`${CORE}.PodSpec`, 'containers').items, { $ref: `#/components/schemas/${CORE}.Container` });
  });

  it('writes strategic-merge metadata from the patch-strategy table', () => {
    const containers = property(`${CORE}.PodSpec`, 'containers');
    assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
    assert.equal(containers['x-kubernetes-patch-strategy'], 'merge');
    assert.equal(containers['x-kubernetes-list-type'], 'map');
    assert.deepEqual(containers['x-kubernetes-list-map-keys'], ['name']);
    assert.equal(property(`${CORE}.PodSpec`, 'volumes')['x-kubernetes-patch-strategy'], 'merge,retainKeys');
    assert.equal(property(`${CORE}.Container`, 'ports')['x-kubernetes-patch-merge-key'], 'containerPort');
    assert.equal(property(`${META}.ObjectMeta`, 'finalizers')['x-kubernetes-patch-strategy'], 'merge');
    assert.equal(property('io.k8s.api.apps.v1.DeploymentSpec', 'strategy')['x-kubernetes-patch-strategy'], 'retainKeys');
    const tolerations = property(`${CORE}.PodSpec`, 'tolerations');
    assert.equal(tolerations['x-kubernetes-patch-strategy'], undefined, 'replace is never written');
    assert.equal(tolerations['x-kubernetes-list-type'], 'atomic');
  });

  it('maps the types the client flattens to their upstream definitions', () => {
    const quantity = schemas['io.k8s.apimachinery.pkg.api.resource.Quantity'];
    assert.equal(quantity['x-kubernetes-int-or-string'], true);
    assert.equal(schemas['io.k8s.apimachinery.pkg.util.intstr.IntOrString']['x-kubernetes-int-or-string'], true);
    assert.deepEqual(schemas[`${META}.Time`], { ...schemas[`${META}.Time`], type: 'string', format: 'date-time' });
    assert.deepEqual(property(`${CORE}.ResourceRequirements`, 'limits').additionalProperties, {
      $ref: '#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity',
    });
    assert.deepEqual(property(`${CORE}.ServicePort`, 'targetPort').allOf, [
      { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString' },
    ]);
    assert.equal(property(`${CORE}.ServicePort`, 'targetPort').description, undefined, 'the type description is not reused');
    assert.deepEqual(property(`${META}.ObjectMeta`, 'creationTimestamp').allOf, [
      { $ref: `#/components/schemas/${META}.Time` },
    ]);
    assert.deepEqual(property(`${CORE}.Secret`, 'data').additionalProperties, { type: 'string', format: 'byte' });
    assert.deepEqual(property(`${CORE}.ContainerPort`, 'containerPort').type, 'integer');
    assert.deepEqual(property(`${CORE}.ContainerPort`, 'containerPort').format, 'int32');
    assert.equal(schemas['io.k8s.apimachinery.pkg.runtime.RawExtension']['x-kubernetes-preserve-unknown-fields'], true);
  });

  it('leaves no reference dangling', () => {
    const dangling: string[] = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === 'object') {
        for (const [key, child] of Object.entries(value)) {
          if (key === '$ref' && typeof child === 'string' && !schemas[child.replace('#/components/schemas/', '')]) {
            dangling.push(child);
          } else walk(child);
        }
      }
    };
    walk(schemas);
    assert.deepEqual(dangling, []);
  });

  it('produces the same document on every run', async () => {
    const again = await generateBuiltinSchemas();
    assert.equal(JSON.stringify(again.schemas), JSON.stringify(schemas));
  });
});

describe('client class names and declarations', () => {
  it('splits a class name into group prefix, version and kind', () => {
    assert.deepEqual(parseClassName('V1beta1DeviceClass'), { groupPrefix: undefined, version: 'v1beta1', kind: 'DeviceClass' });
    assert.deepEqual(parseClassName('CoreV1Event'), { groupPrefix: 'Core', version: 'v1', kind: 'Event' });
    assert.deepEqual(parseClassName('V2HPAScalingPolicy'), { groupPrefix: undefined, version: 'v2', kind: 'HPAScalingPolicy' });
    assert.equal(parseClassName('VersionInfo'), undefined);
  });

  it('reads descriptions and optional marks without taking quoted text for fields', () => {
    const docs = parseDeclarationDocs(
      [
        '/**',
        '* Thing is a thing.',
        '*/',
        'export declare class V1Thing {',
        '    /**',
        "    * Say \\'name\\': it is \\\"quoted\\\".",
        '    */',
        "    'name': string;",
        "    'spec'?: V1ThingSpec;",
        '    static readonly discriminator: string | undefined;',
        '}',
      ].join('\n'),
      'V1Thing',
    );
    assert.equal(docs.description, 'Thing is a thing.');
    assert.deepEqual([...docs.fields.keys()], ['name', 'spec']);
    assert.deepEqual(docs.fields.get('name'), { description: `Say 'name': it is "quoted".`, optional: false });
    assert.deepEqual(docs.fields.get('spec'), { description: undefined, optional: true });
  });
});
