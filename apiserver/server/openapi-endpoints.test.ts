import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { OpenApiEndpoints } from './openapi-endpoints.js';
import { defineResource } from '../registry/resource.js';
import type { GroupVersionResources } from '../discovery/documents.js';
import { builtinSchemas } from '../schema/builtin.js';

// Real CRD documents are ~90 KB; a long description stands in for a big schema, and its dash makes the
// JSON a two-byte string in V8 (what is kept must be counted in bytes, not characters).
const BIG = `A widget — ${'described at length. '.repeat(4000)}`;

const widgets = (group: string, description: string): GroupVersionResources => ({
  group,
  version: 'v1',
  resources: [defineResource({ group, version: 'v1', kind: 'Widget', plural: 'widgets', namespaced: true, schema: { type: 'object', properties: { spec: { type: 'object', description } } } })],
});

const sha512 = (bytes: string) => createHash('sha512').update(bytes).digest('hex').toUpperCase();

test('documents beyond the kept bytes are rebuilt on demand with the hash the index names', () => {
  const openapi = new OpenApiEndpoints();
  openapi.definitions = builtinSchemas();
  // Each document carries ObjectMeta and the other shared definitions: a few hundred of them exceed the budget.
  const gvs = Array.from({ length: 120 }, (_, index) => widgets(`g${index}.example.com`, `${BIG} ${index}`));
  const index = openapi.indexPaths(gvs);
  assert.equal(Object.keys(index).length, 120);
  for (const gv of [gvs[0], gvs[60], gvs[119], gvs[0]]) {
    const key = `apis/${gv.group}/v1`;
    const bytes = openapi.documentBytes(key, gvs)!;
    assert.equal(index[key].serverRelativeURL, `/openapi/v3/${key}?hash=${sha512(bytes)}`);
    assert.match(bytes, new RegExp(`"/apis/${gv.group.replace(/\./g, '\\.')}/v1/namespaces/\\{namespace\\}/widgets"`));
  }
  assert.equal(openapi.indexPaths(gvs), index, 'the index is kept until something changes');
  assert.ok(openapi.keptBytes <= 4 * 1024 * 1024 + 200_000, `kept ${openapi.keptBytes} bytes`);
  assert.ok(openapi.keptBytes > 2 * 1024 * 1024, 'recently used documents are kept');
});

test('a changed group-version gets a new hash; the others keep theirs', () => {
  const openapi = new OpenApiEndpoints();
  openapi.definitions = builtinSchemas();
  const gvs = [widgets('a.example.com', 'first'), widgets('b.example.com', 'first')];
  const before = structuredClone(openapi.indexPaths(gvs));
  gvs[0] = widgets('a.example.com', 'second');
  openapi.invalidate('a.example.com', 'v1');
  const after = openapi.indexPaths(gvs);
  assert.notEqual(after['apis/a.example.com/v1'].serverRelativeURL, before['apis/a.example.com/v1'].serverRelativeURL);
  assert.equal(after['apis/b.example.com/v1'].serverRelativeURL, before['apis/b.example.com/v1'].serverRelativeURL);
  assert.match(openapi.documentBytes('apis/a.example.com/v1', gvs)!, /"second"/);
});
