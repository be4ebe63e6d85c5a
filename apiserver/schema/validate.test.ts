import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { generateBuiltinSchemas } from '../../scripts/gen-builtin-schemas.js';
import { fieldErrorMessage } from '../request/status.js';
import type { JSONSchema } from './types.js';
import { findSchemaForGVK, validateStructure } from './validate.js';

let definitions: Record<string, JSONSchema>;
const schemaOf = (name: string): JSONSchema => definitions[name];
const validateAs = (name: string, object: unknown, ignorePaths?: string[]) =>
  validateStructure(object, schemaOf(name), definitions, { ignorePaths });

const POD = 'io.k8s.api.core.v1.Pod';
const CONFIG_MAP = 'io.k8s.api.core.v1.ConfigMap';
const DEPLOYMENT = 'io.k8s.api.apps.v1.Deployment';

function validPod(): Record<string, any> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web-0',
      namespace: 'default',
      labels: { app: 'web', tier: 'frontend' },
      annotations: { 'example.com/owner': 'team-a' },
      creationTimestamp: '2024-05-01T10:00:00Z',
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'f5d1', controller: true }],
      managedFields: [{ manager: 'kubectl', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } }],
    },
    spec: {
      containers: [
        {
          name: 'main',
          image: 'nginx:1.27',
          args: ['--port', '8080'],
          ports: [{ containerPort: 8080, protocol: 'TCP', name: 'http' }],
          env: [
            { name: 'MODE', value: 'production' },
            { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          ],
          resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: 0.25, memory: 64 } },
          readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 },
          livenessProbe: { tcpSocket: { port: 8080 } },
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
      volumes: [{ name: 'data', emptyDir: { sizeLimit: '1Gi' } }],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      terminationGracePeriodSeconds: 30,
    },
    status: { phase: 'Running', podIP: '10.0.0.5', conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

before(async () => {
  definitions = (await generateBuiltinSchemas()).schemas;
});

describe('validateStructure', () => {
  it('accepts a valid pod without errors, unknown fields or changes', () => {
    const pod = validPod();
    const result = validateAs(POD, pod);
    assert.deepEqual(result, { errors: [], unknownFields: [] });
    assert.deepEqual(pod, validPod());
  });

  it('reports a pod without containers as spec.containers: Required value', () => {
    const pod = validPod();
    delete pod.spec.containers;
    const { errors } = validateAs(POD, pod);
    assert.deepEqual(errors, [{ field: 'spec.containers', type: 'FieldValueRequired' }]);
    assert.equal(`${errors[0].field}: ${fieldErrorMessage(errors[0])}`, 'spec.containers: Required value');
  });

  it('reports a container without a name at its list index', () => {
    const pod = validPod();
    delete pod.spec.containers[0].name;
    assert.deepEqual(validateAs(POD, pod).errors, [{ field: 'spec.containers[0].name', type: 'FieldValueRequired' }]);
  });

  it('reports a map value of the wrong type at data[key] in upstream wording', () => {
    const { errors } = validateAs(CONFIG_MAP, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 1 } });
    assert.equal(errors.length, 1);
    assert.equal(errors[0].field, 'data[a]');
    assert.equal(errors[0].type, 'FieldValueTypeInvalid');
    assert.equal(fieldErrorMessage(errors[0]), 'Invalid value: "integer": data[a] in body must be of type string: "integer"');
  });

  it('reports a string where an integer belongs like kube-openapi', () => {
    const { errors } = validateAs(DEPLOYMENT, { spec: { replicas: '3' } });
    const replicas = errors.find((error) => error.field === 'spec.replicas');
    assert.ok(replicas);
    assert.equal(replicas.type, 'FieldValueTypeInvalid');
    assert.equal(fieldErrorMessage(replicas), 'Invalid value: "string": spec.replicas in body must be of type integer: "string"');
  });

  it('rejects a fractional number for an integer field and an out-of-range int32', () => {
    const fractional = validateAs(DEPLOYMENT, { spec: { replicas: 1.5 } }).errors.find((e) => e.field === 'spec.replicas');
    assert.equal(fractional?.detail, 'spec.replicas in body must be of type integer: "number"');
    const huge = validateAs(DEPLOYMENT, { spec: { replicas: 2 ** 31 } }).errors.find((e) => e.field === 'spec.replicas');
    assert.equal(huge?.type, 'FieldValueInvalid');
  });

  it('reports required fields of the deployment spec together with type errors', () => {
    const fields = validateAs(DEPLOYMENT, { spec: { replicas: '3' } }).errors.map((error) => error.field).sort();
    assert.deepEqual(fields, ['spec.replicas', 'spec.selector', 'spec.template']);
  });

  it('reports and prunes unknown fields at any depth', () => {
    const deployment: Record<string, any> = {
      metadata: { name: 'd', bogusMeta: 1 },
      spec: {
        bogus: true,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', imagee: 'nginx' }] } },
      },
    };
    const result = validateAs(DEPLOYMENT, deployment);
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.unknownFields, ['metadata.bogusMeta', 'spec.bogus', 'spec.template.spec.containers[0].imagee']);
    assert.equal('bogus' in deployment.spec, false);
    assert.equal('bogusMeta' in deployment.metadata, false);
    assert.deepEqual(deployment.spec.template.spec.containers[0], { name: 'main' });
  });

  it('drops null optional fields as Go decoding does, and treats a null required field as missing', () => {
    const pod = validPod();
    pod.spec.nodeName = null;
    pod.metadata.labels = null;
    assert.deepEqual(validateAs(POD, pod).errors, []);
    assert.equal('nodeName' in pod.spec, false);
    assert.equal('labels' in pod.metadata, false);
    pod.spec.containers[0].name = null;
    assert.deepEqual(validateAs(POD, pod).errors, [{ field: 'spec.containers[0].name', type: 'FieldValueRequired' }]);
  });

  it('accepts quantities as strings or numbers and rejects malformed ones', () => {
    const pod = validPod();
    pod.spec.containers[0].resources.limits.cpu = 'lots';
    const { errors } = validateAs(POD, pod);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].field, 'spec.containers[0].resources.limits[cpu]');
    assert.match(fieldErrorMessage(errors[0]), /^Invalid value: "lots": quantities must match the regular expression/);
    pod.spec.containers[0].resources.limits.cpu = true;
    assert.equal(validateAs(POD, pod).errors[0].detail?.includes('must be of type number or string: "boolean"'), true);
  });

  it('accepts int-or-string as either and rejects other types', () => {
    const pod = validPod();
    pod.spec.containers[0].readinessProbe.httpGet.port = 8080;
    assert.deepEqual(validateAs(POD, pod).errors, []);
    pod.spec.containers[0].readinessProbe.httpGet.port = { name: 'http' };
    const [error] = validateAs(POD, pod).errors;
    assert.equal(error.field, 'spec.containers[0].readinessProbe.httpGet.port');
    assert.equal(error.detail, 'spec.containers[0].readinessProbe.httpGet.port in body must be of type integer or string: "object"');
  });

  it('rejects malformed timestamps and base64 data', () => {
    const pod = validPod();
    pod.metadata.creationTimestamp = 'yesterday';
    assert.equal(validateAs(POD, pod).errors[0].field, 'metadata.creationTimestamp');
    const secret = validateAs('io.k8s.api.core.v1.Secret', { data: { token: 'not base64!' } });
    assert.equal(secret.errors[0].field, 'data[token]');
  });

  it('keeps free-form subtrees whole', () => {
    const revision = { metadata: { name: 'r' }, revision: 1, data: { anything: { goes: [1, 'two'] } } };
    const result = validateAs('io.k8s.api.apps.v1.ControllerRevision', revision);
    assert.deepEqual(result, { errors: [], unknownFields: [] });
    assert.deepEqual(revision.data, { anything: { goes: [1, 'two'] } });
  });

  it('validates CRD schemas, where defaults and enums hold any JSON', () => {
    const crd = {
      metadata: { name: 'crontabs.stable.example.com' },
      spec: {
        group: 'stable.example.com',
        names: { plural: 'crontabs', kind: 'CronTab' },
        scope: 'Namespaced',
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: {
                    type: 'object',
                    properties: { replicas: { type: 'integer', default: 1, maximum: 10 }, mode: { type: 'string', enum: ['a', 'b'] } },
                  },
                },
              },
            },
          },
        ],
      },
    };
    const result = validateAs('io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition', crd);
    assert.deepEqual(result, { errors: [], unknownFields: [] });
  });

  it('leaves ignored paths unvalidated and unpruned', () => {
    const pod = validPod();
    pod.status = { phase: 7, bogus: true };
    pod.spec.containers[0].imagee = 'x';
    const result = validateAs(POD, pod, ['status', 'spec.containers[*].imagee']);
    assert.deepEqual(result, { errors: [], unknownFields: [] });
    assert.equal(pod.status.bogus, true);
    assert.equal(pod.spec.containers[0].imagee, 'x');
  });

  it('checks enums and nullable fields of hand-written schemas', () => {
    const schema: JSONSchema = {
      type: 'object',
      required: ['mode'],
      properties: { mode: { type: 'string', enum: ['a', 'b'] }, note: { type: 'string', nullable: true } },
    };
    const object = { mode: 'c', note: null };
    const { errors } = validateStructure(object, schema, {});
    assert.equal(fieldErrorMessage(errors[0]), 'Unsupported value: "c": supported values: "a", "b"');
    assert.equal(object.note, null);
  });

  it('names a wrong root type', () => {
    const { errors } = validateAs(POD, ['not', 'an', 'object']);
    assert.deepEqual(errors, [{ field: '', type: 'FieldValueTypeInvalid', value: 'array', detail: 'body must be of type object: "array"' }]);
  });

  it('fails loudly on a reference to an unknown definition', () => {
    assert.throws(() => validateStructure({ a: 1 }, { $ref: '#/components/schemas/nope' }, {}), /names no known definition/);
  });

  // Its speed is measured by `npm run bench`, never asserted here (a loaded machine would fail it).
  it('validates many pods with one compiled validator', () => {
    const pods = Array.from({ length: 200 }, validPod);
    for (const pod of pods) assert.deepEqual(validateAs(POD, pod), { errors: [], unknownFields: [] });
  });
});

describe('findSchemaForGVK', () => {
  it('finds the definition of a kind by group, version and kind', () => {
    assert.equal(findSchemaForGVK(definitions, '', 'v1', 'Pod'), POD);
    assert.equal(findSchemaForGVK(definitions, 'apps', 'v1', 'Deployment'), DEPLOYMENT);
    assert.equal(findSchemaForGVK(definitions, 'events.k8s.io', 'v1', 'Event'), 'io.k8s.api.events.v1.Event');
    assert.equal(findSchemaForGVK(definitions, '', 'v1', 'Event'), 'io.k8s.api.core.v1.Event');
    assert.equal(findSchemaForGVK(definitions, 'apps', 'v1', 'Pod'), undefined);
  });
});
