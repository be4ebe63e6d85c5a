import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tableRowsJson, topLevelValueSpan } from './table-rows.js';
import { ageColumn, nameColumn, since, tableRow } from './table.js';
import type { PrinterColumn } from './resource.js';
import type { CachedObject } from '../storage/watch-cache.js';
import type { KubeObject } from './object.js';

function cached(object: KubeObject): CachedObject {
  return { key: `/registry/x/${object.metadata.name}`, bytes: JSON.stringify(object), revision: 1, namespace: '', name: object.metadata.name!, labels: undefined, fields: {} };
}

describe('topLevelValueSpan', () => {
  const cases: [string, string, string | undefined][] = [
    ['{"a":1,"metadata":{"name":"x","b":[1,{"c":"}"}]},"z":2}', 'metadata', '{"name":"x","b":[1,{"c":"}"}]}'],
    ['{"kind":"metadata","metadata" : {"x":"\\"metadata\\":"} }', 'metadata', '{"x":"\\"metadata\\":"}'],
    ['{"spec":{"metadata":{"a":1}},"metadata":{"b":2}}', 'metadata', '{"b":2}'],
    ['{"a":{"metadata":1}}', 'metadata', undefined],
    ['{"metadata":"last" }', 'metadata', '"last"'],
    ['{"metadata":12,"x":1}', 'metadata', '12'],
    ['[1,2]', 'metadata', undefined],
  ];
  for (const [json, key, expected] of cases) {
    it(`finds ${key} in ${json}`, () => {
      const span = topLevelValueSpan(json, key);
      assert.equal(span ? json.slice(span[0], span[1]) : undefined, expected);
    });
  }
});

describe('tableRowsJson', () => {
  const columns: PrinterColumn[] = [
    nameColumn,
    { name: 'Restarts', type: 'string', value: (object) => since(object.metadata.creationTimestamp, (age) => `1 (${age} ago)`) },
    { name: 'Missing', type: 'string', value: () => undefined },
    { name: 'Broken', type: 'integer', value: () => { throw new Error('no'); } },
    { name: 'Created', type: 'date', value: (object) => object.metadata.creationTimestamp },
    ageColumn,
  ];
  const objects: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', creationTimestamp: new Date(Date.now() - 300_000).toISOString(), labels: { x: 'y' } }, spec: {} },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'b' } },
  ];
  for (const include of ['None', 'Metadata', 'Object'] as const) {
    it(`matches tableRow for includeObject=${include}, also on the second (cached) call`, () => {
      const items = objects.map(cached);
      const expected = objects.map((object) => tableRow(columns, object, include, 'meta.k8s.io/v1'));
      assert.deepEqual(JSON.parse(`[${tableRowsJson(items, columns, include, 'meta.k8s.io/v1')}]`), expected);
      assert.deepEqual(JSON.parse(`[${tableRowsJson(items, columns, include, 'meta.k8s.io/v1')}]`), expected);
    });
  }
  it('renders clock-dependent cells at response time', () => {
    const rows = JSON.parse(`[${tableRowsJson([cached(objects[0])], columns, 'None', 'meta.k8s.io/v1')}]`) as { cells: unknown[] }[];
    assert.deepEqual(rows[0].cells, ['a', '1 (5m ago)', null, null, '5m', '5m']);
  });
});
