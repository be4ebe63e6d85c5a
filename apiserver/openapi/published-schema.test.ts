import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { publishedSchema } from './published-schema.js';
import type { JSONSchema } from '../schema/types.js';

describe('published CRD schema', () => {
  it('gives an embedded resource apiVersion, kind and ObjectMeta, with apiVersion and kind required', () => {
    const source = {
      type: 'object',
      properties: { spec: { type: 'object', properties: { template: { type: 'object', 'x-kubernetes-embedded-resource': true, required: ['spec'], properties: { spec: { type: 'object' } } } } } },
    } as unknown as JSONSchema;
    const published = publishedSchema(source) as Record<string, any>;
    const template = published.properties.spec.properties.template;
    assert.deepEqual(Object.keys(template.properties).sort(), ['apiVersion', 'kind', 'metadata', 'spec']);
    assert.deepEqual(template.required, ['spec', 'kind', 'apiVersion']);
    assert.deepEqual(template.properties.metadata.allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }]);
    // The declaration's own schema is left alone.
    assert.deepEqual(Object.keys((source as any).properties.spec.properties.template.properties), ['spec']);
  });

  it('unfolds x-kubernetes-int-or-string into anyOf integer/string, or allOf when anyOf is taken', () => {
    const published = publishedSchema({
      type: 'object',
      properties: {
        port: { 'x-kubernetes-int-or-string': true },
        other: { 'x-kubernetes-int-or-string': true, anyOf: [{ maxLength: 3 }] },
        done: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
      },
    } as unknown as JSONSchema) as Record<string, any>;
    assert.deepEqual(published.properties.port.anyOf, [{ type: 'integer' }, { type: 'string' }]);
    assert.deepEqual(published.properties.other.allOf, [{ anyOf: [{ type: 'integer' }, { type: 'string' }] }]);
    assert.equal(published.properties.done.allOf, undefined);
  });

  it('leaves out what a structural schema does not keep (example, externalDocs)', () => {
    const published = publishedSchema({ type: 'object', example: { a: 1 }, properties: { a: { type: 'string', example: 'x', externalDocs: { url: 'https://example.com' }, description: 'kept' } } } as unknown as JSONSchema) as Record<string, any>;
    assert.deepEqual(published, { type: 'object', properties: { a: { type: 'string', description: 'kept' } } });
  });
});
