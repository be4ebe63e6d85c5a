// LIST over real HTTP: the list document, label and field selectors, pagination on a consistent
// snapshot, resourceVersion semantics and list-option validation, Table and YAML output.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestServer } from '../server/test-server.js';
import { GADGETS, TABLE_ACCEPT, request, startTestServer, widget } from '../server/test-server.js';

let t: TestServer;
const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => request(t.port, method, path, { body, headers });
const names = (list: { items: { metadata: { name: string } }[] }) => list.items.map((item) => item.metadata.name);
const ns = (namespace: string) => `/apis/example.com/v1/namespaces/${namespace}/widgets`;
const SEL = ns('sel');

before(async () => {
  t = await startTestServer();
  const fixtures: [string, string, Record<string, string>][] = [
    ['a', 'red', { tier: 'front', env: 'prod' }],
    ['b', 'blue', { tier: 'back', env: 'prod' }],
    ['c', 'red', { tier: 'back' }],
    ['d', 'green', {}],
  ];
  for (const [name, color, labels] of fixtures) {
    const response = await call('POST', SEL, widget(name, { color }, { labels }));
    assert.equal(response.status, 201);
  }
  await call('POST', ns('sel2'), widget('e', { color: 'red' }, { labels: { tier: 'front' } }));
});
after(async () => {
  await t.close();
});

describe('list', () => {
  it('answers a WidgetList with the current resourceVersion and full items', async () => {
    const response = await call('GET', SEL);
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'application/json');
    assert.equal(response.json.kind, 'WidgetList');
    assert.equal(response.json.apiVersion, 'example.com/v1');
    assert.match(response.json.metadata.resourceVersion, /^\d+$/);
    assert.deepEqual(names(response.json), ['a', 'b', 'c', 'd']);
    assert.equal(response.json.items[0].kind, 'Widget');
    assert.equal(response.json.items[0].spec.color, 'red');
    const latest = Math.max(...response.json.items.map((item: { metadata: { resourceVersion: string } }) => Number(item.metadata.resourceVersion)));
    assert.ok(Number(response.json.metadata.resourceVersion) >= latest);
  });

  it('an empty list has "items":[]', async () => {
    const response = await call('GET', ns('empty'));
    assert.equal(response.status, 200);
    assert.match(response.text, /"items":\[\]/);
  });

  it('lists across namespaces at the cluster-wide path', async () => {
    const response = await call('GET', '/apis/example.com/v1/widgets?labelSelector=tier%3Dfront');
    assert.deepEqual(names(response.json).sort(), ['a', 'e']);
  });

  it('lists cluster-scoped kinds', async () => {
    await call('POST', GADGETS, { metadata: { name: 'g1' } });
    const response = await call('GET', GADGETS);
    assert.equal(response.json.kind, 'GadgetList');
    assert.deepEqual(names(response.json), ['g1']);
  });

  it('answers YAML when asked', async () => {
    const response = await call('GET', SEL, undefined, { Accept: 'application/yaml' });
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'application/yaml');
    assert.match(response.text, /^kind: WidgetList\napiVersion: example.com\/v1\n/);
  });
});

describe('label selectors', () => {
  const cases: [string, string[]][] = [
    ['tier=front', ['a']],
    ['tier==back', ['b', 'c']],
    ['tier!=front', ['b', 'c', 'd']],
    ['tier in (front,back)', ['a', 'b', 'c']],
    ['tier notin (front)', ['b', 'c', 'd']],
    ['env', ['a', 'b']],
    ['!env', ['c', 'd']],
    ['tier=back,env=prod', ['b']],
    ['tier=nothing', []],
  ];
  for (const [selector, expected] of cases) {
    it(`"${selector}" selects ${expected.length ? expected.join(', ') : 'nothing'}`, async () => {
      const response = await call('GET', `${SEL}?labelSelector=${encodeURIComponent(selector)}`);
      assert.equal(response.status, 200);
      assert.deepEqual(names(response.json), expected);
    });
  }

  it('a malformed label selector is 400', async () => {
    const response = await call('GET', `${SEL}?labelSelector=${encodeURIComponent('tier in (a')}`);
    assert.equal(response.status, 400);
    assert.equal(response.json.reason, 'BadRequest');
  });
});

describe('field selectors', () => {
  it('metadata.name picks one object', async () => {
    const response = await call('GET', `${SEL}?fieldSelector=metadata.name%3Db`);
    assert.deepEqual(names(response.json), ['b']);
  });

  it('metadata.namespace filters a cluster-wide list', async () => {
    const response = await call('GET', '/apis/example.com/v1/widgets?fieldSelector=metadata.namespace%3Dsel2');
    assert.deepEqual(names(response.json), ['e']);
  });

  it('declared selectable fields work with = and !=', async () => {
    assert.deepEqual(names((await call('GET', `${SEL}?fieldSelector=spec.color%3Dred`)).json), ['a', 'c']);
    assert.deepEqual(names((await call('GET', `${SEL}?fieldSelector=spec.color!%3Dred`)).json), ['b', 'd']);
    assert.deepEqual(names((await call('GET', `${SEL}?fieldSelector=spec.color%3Dred,metadata.name!%3Da`)).json), ['c']);
  });

  it('combines with label selectors', async () => {
    const response = await call('GET', `${SEL}?fieldSelector=spec.color%3Dred&labelSelector=tier%3Dback`);
    assert.deepEqual(names(response.json), ['c']);
  });

  it('an unknown field is 400 "field label not supported"', async () => {
    const response = await call('GET', `${SEL}?fieldSelector=spec.bogus%3Dx`);
    assert.equal(response.status, 400);
    assert.deepEqual(response.json, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'field label not supported: spec.bogus',
      reason: 'BadRequest',
      code: 400,
    });
  });

  it('metadata.namespace is not a field of a cluster-scoped kind', async () => {
    const response = await call('GET', `${GADGETS}?fieldSelector=metadata.namespace%3Dx`);
    assert.equal(response.status, 400);
    assert.equal(response.json.message, 'field label not supported: metadata.namespace');
  });
});

describe('pagination', () => {
  const PAGES = ns('pages');
  before(async () => {
    for (const name of ['p1', 'p2', 'p3', 'p4', 'p5']) await call('POST', PAGES, widget(name, { color: 'red' }, { labels: { page: 'yes' } }));
  });

  it('limit gives a continue token and remainingItemCount; following it gives the rest', async () => {
    const first = await call('GET', `${PAGES}?limit=2`);
    assert.deepEqual(names(first.json), ['p1', 'p2']);
    assert.equal(first.json.metadata.remainingItemCount, 3);
    assert.ok(first.json.metadata.continue);
    const second = await call('GET', `${PAGES}?limit=2&continue=${encodeURIComponent(first.json.metadata.continue)}`);
    assert.deepEqual(names(second.json), ['p3', 'p4']);
    assert.equal(second.json.metadata.remainingItemCount, 1);
    assert.equal(second.json.metadata.resourceVersion, first.json.metadata.resourceVersion);
    const third = await call('GET', `${PAGES}?limit=2&continue=${encodeURIComponent(second.json.metadata.continue)}`);
    assert.deepEqual(names(third.json), ['p5']);
    assert.equal(third.json.metadata.continue, undefined);
    assert.equal(third.json.metadata.remainingItemCount, undefined);
  });

  it('later pages show the snapshot of the first page even when objects change in between', async () => {
    const first = await call('GET', `${PAGES}?limit=2`);
    const snapshot = first.json.metadata.resourceVersion;
    await call('PATCH', `${PAGES}/p3`, { spec: { color: 'changed' } }, { 'Content-Type': 'application/merge-patch+json' });
    await call('DELETE', `${PAGES}/p4`);
    await call('POST', PAGES, widget('p35'));
    const second = await call('GET', `${PAGES}?limit=10&continue=${encodeURIComponent(first.json.metadata.continue)}`);
    assert.equal(second.status, 200);
    assert.deepEqual(names(second.json), ['p3', 'p4', 'p5']);
    assert.equal(second.json.items[0].spec.color, 'red');
    assert.equal(second.json.metadata.resourceVersion, snapshot);
    const now = await call('GET', PAGES);
    assert.deepEqual(names(now.json), ['p1', 'p2', 'p3', 'p35', 'p5']);
    // Restore for the other tests.
    await call('DELETE', `${PAGES}/p35`);
    await call('POST', PAGES, widget('p4', { color: 'red' }, { labels: { page: 'yes' } }));
    await call('PATCH', `${PAGES}/p3`, { spec: { color: 'red' } }, { 'Content-Type': 'application/merge-patch+json' });
  });

  it('a later page of an old snapshot still counts the remaining items', async () => {
    const first = await call('GET', `${PAGES}?limit=1`);
    await call('PATCH', `${PAGES}/p5`, { metadata: { labels: { touched: 'yes' } } }, { 'Content-Type': 'application/merge-patch+json' });
    const second = await call('GET', `${PAGES}?limit=2&continue=${encodeURIComponent(first.json.metadata.continue)}`);
    assert.deepEqual(names(second.json), ['p2', 'p3']);
    assert.equal(second.json.metadata.remainingItemCount, 2);
  });

  it('paginates with selectors, without remainingItemCount', async () => {
    const first = await call('GET', `${PAGES}?limit=2&labelSelector=page%3Dyes`);
    assert.equal(first.json.items.length, 2);
    assert.ok(first.json.metadata.continue);
    assert.equal(first.json.metadata.remainingItemCount, undefined);
    const rest = await call('GET', `${PAGES}?limit=10&labelSelector=page%3Dyes&continue=${encodeURIComponent(first.json.metadata.continue)}`);
    assert.equal(rest.json.items.length, 3);
  });

  it('a malformed continue token is 400', async () => {
    const response = await call('GET', `${PAGES}?limit=2&continue=garbage`);
    assert.equal(response.status, 400);
    assert.equal(response.json.reason, 'BadRequest');
    assert.match(response.json.message, /^invalid continue token: continue key is not valid/);
  });

  it('continue with a resourceVersion is 400', async () => {
    const first = await call('GET', `${PAGES}?limit=2`);
    const response = await call('GET', `${PAGES}?limit=2&resourceVersion=5&continue=${encodeURIComponent(first.json.metadata.continue)}`);
    assert.equal(response.status, 400);
    assert.equal(response.json.message, 'specifying resource version is not allowed when using continue');
  });

  it('a continue token whose snapshot was compacted is 410 Expired with a token to continue inconsistently', async () => {
    const first = await call('GET', `${PAGES}?limit=2`);
    await call('PATCH', `${PAGES}/p5`, { metadata: { labels: { compacted: 'yes' } } }, { 'Content-Type': 'application/merge-patch+json' });
    await t.storage.compact(await t.storage.currentRevision());
    const response = await call('GET', `${PAGES}?limit=2&continue=${encodeURIComponent(first.json.metadata.continue)}`);
    assert.equal(response.status, 410);
    assert.equal(response.json.reason, 'Expired');
    assert.equal(
      response.json.message,
      'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
    );
    const token = response.json.metadata.continue;
    assert.ok(token, 'the Status carries a continue token');
    const rest = await call('GET', `${PAGES}?limit=10&continue=${encodeURIComponent(token)}`);
    assert.equal(rest.status, 200);
    assert.deepEqual(names(rest.json), ['p3', 'p4', 'p5']);
    assert.equal(rest.json.items[2].metadata.labels.compacted, 'yes', 'the inconsistent continuation reads the latest state');
  });
});

describe('resourceVersion semantics', () => {
  const RV = ns('rv');

  it('resourceVersion=0 is served from the cache', async () => {
    await call('POST', RV, widget('r0'));
    const response = await call('GET', `${RV}?resourceVersion=0`);
    assert.equal(response.status, 200);
    assert.deepEqual(names(response.json), ['r0']);
  });

  it('resourceVersionMatch=Exact lists the state at exactly that revision', async () => {
    const created = (await call('POST', RV, widget('r1', { color: 'red' }))).json;
    const atCreate = created.metadata.resourceVersion;
    await call('PATCH', `${RV}/r1`, { spec: { color: 'blue' } }, { 'Content-Type': 'application/merge-patch+json' });
    await call('POST', RV, widget('r2'));
    const exact = await call('GET', `${RV}?resourceVersion=${atCreate}&resourceVersionMatch=Exact`);
    assert.equal(exact.status, 200);
    assert.equal(exact.json.metadata.resourceVersion, atCreate);
    assert.deepEqual(names(exact.json), ['r0', 'r1']);
    assert.equal(exact.json.items[1].spec.color, 'red');
  });

  it('a paginated list at a resourceVersion without a match reads exactly that revision', async () => {
    const created = (await call('POST', RV, widget('r3', { color: 'red' }))).json;
    await call('PATCH', `${RV}/r3`, { spec: { color: 'blue' } }, { 'Content-Type': 'application/merge-patch+json' });
    const response = await call('GET', `${RV}?limit=10&resourceVersion=${created.metadata.resourceVersion}`);
    assert.equal(response.status, 200);
    assert.equal(response.json.metadata.resourceVersion, created.metadata.resourceVersion);
    assert.equal(response.json.items.find((item: { metadata: { name: string } }) => item.metadata.name === 'r3').spec.color, 'red');
    await call('DELETE', `${RV}/r3`);
  });

  it('an unparsable resourceVersion is 400', async () => {
    const response = await call('GET', `${RV}?resourceVersion=abc`);
    assert.equal(response.status, 400);
    assert.equal(response.json.message, 'invalid resource version: strconv.ParseUint: parsing "abc": invalid syntax');
  });

  it('resourceVersionMatch=NotOlderThan answers a state at least that new', async () => {
    const current = (await call('GET', RV)).json.metadata.resourceVersion;
    const response = await call('GET', `${RV}?resourceVersion=${current}&resourceVersionMatch=NotOlderThan`);
    assert.equal(response.status, 200);
    assert.ok(Number(response.json.metadata.resourceVersion) >= Number(current));
    assert.deepEqual(names(response.json), ['r0', 'r1', 'r2']);
  });

  it('resourceVersionMatch without resourceVersion is 422 on the ListOptions', async () => {
    const response = await call('GET', `${RV}?resourceVersionMatch=NotOlderThan`);
    assert.equal(response.status, 422);
    assert.deepEqual(response.json, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
      reason: 'Invalid',
      details: {
        group: 'meta.k8s.io',
        kind: 'ListOptions',
        causes: [{ reason: 'FieldValueForbidden', message: 'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided', field: 'resourceVersionMatch' }],
      },
      code: 422,
    });
  });

  it('Exact with resourceVersion=0 and an unknown match are 422', async () => {
    const exactZero = await call('GET', `${RV}?resourceVersion=0&resourceVersionMatch=Exact`);
    assert.equal(exactZero.status, 422);
    assert.equal(exactZero.json.message, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
    const unknown = await call('GET', `${RV}?resourceVersion=1&resourceVersionMatch=Newest`);
    assert.equal(unknown.status, 422);
    assert.equal(unknown.json.message, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""');
  });

  it('sendInitialEvents is forbidden for list', async () => {
    const response = await call('GET', `${RV}?sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=0`);
    assert.equal(response.status, 422);
    assert.equal(response.json.message, 'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list');
  });

  it('Exact at a compacted revision is 410 Expired', async () => {
    const old = (await call('GET', RV)).json.metadata.resourceVersion;
    await call('PATCH', `${RV}/r2`, { spec: { color: 'x' } }, { 'Content-Type': 'application/merge-patch+json' });
    await t.storage.compact(await t.storage.currentRevision());
    const response = await call('GET', `${RV}?resourceVersion=${old}&resourceVersionMatch=Exact`);
    assert.equal(response.status, 410);
    assert.equal(response.json.reason, 'Expired');
    assert.equal(response.json.message, 'The resourceVersion for the provided list is too old.');
  });
});

describe('Table output', () => {
  const TABLES = ns('tables');
  before(async () => {
    await call('POST', TABLES, widget('t1', { color: 'red', size: 3 }, { labels: { app: 'x' } }));
    await call('POST', TABLES, widget('t2', { color: 'blue' }));
  });

  it('a list as Table has column definitions, one row per object and PartialObjectMetadata', async () => {
    const response = await call('GET', `${TABLES}?limit=500`, undefined, { Accept: TABLE_ACCEPT });
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'application/json');
    const table = response.json;
    assert.equal(table.kind, 'Table');
    assert.equal(table.apiVersion, 'meta.k8s.io/v1');
    assert.match(table.metadata.resourceVersion, /^\d+$/);
    assert.deepEqual(
      table.columnDefinitions.map((column: { name: string; type: string; format: string; priority: number }) => [column.name, column.type, column.format, column.priority]),
      [
        ['Name', 'string', 'name', 0],
        ['Color', 'string', '', 0],
        ['Size', 'integer', '', 1],
        ['Age', 'string', '', 0],
      ],
    );
    assert.equal(table.columnDefinitions[1].description, 'The color of the widget.');
    assert.equal(table.rows.length, 2);
    const [first, second] = table.rows;
    assert.deepEqual(first.cells.slice(0, 3), ['t1', 'red', 3]);
    assert.match(first.cells[3], /^\d+s$/);
    assert.deepEqual(second.cells.slice(0, 3), ['t2', 'blue', null]);
    assert.equal(first.object.kind, 'PartialObjectMetadata');
    assert.equal(first.object.apiVersion, 'meta.k8s.io/v1');
    assert.equal(first.object.metadata.name, 't1');
    assert.equal(first.object.metadata.namespace, 'tables');
    assert.deepEqual(first.object.metadata.labels, { app: 'x' });
    assert.ok(first.object.metadata.uid);
    assert.ok(Array.isArray(first.object.metadata.managedFields), 'upstream keeps managedFields in PartialObjectMetadata');
    assert.equal(first.object.spec, undefined);
  });

  it('includeObject=None omits row objects and includeObject=Object embeds the full object', async () => {
    const none = await call('GET', `${TABLES}?includeObject=None`, undefined, { Accept: TABLE_ACCEPT });
    assert.equal(none.json.rows[0].object, undefined);
    const full = await call('GET', `${TABLES}?includeObject=Object`, undefined, { Accept: TABLE_ACCEPT });
    assert.equal(full.json.rows[0].object.kind, 'Widget');
    assert.equal(full.json.rows[0].object.spec.color, 'red');
  });

  it('an unknown includeObject is 400', async () => {
    const response = await call('GET', `${TABLES}?includeObject=All`, undefined, { Accept: TABLE_ACCEPT });
    assert.equal(response.status, 400);
    assert.equal(response.json.message, "Unable to convert to Table as requested: includeObject: Invalid value: \"All\": must be 'Metadata', 'Object', 'None', or empty");
  });

  it('a paginated Table carries continue and remainingItemCount', async () => {
    const response = await call('GET', `${TABLES}?limit=1`, undefined, { Accept: TABLE_ACCEPT });
    assert.equal(response.json.rows.length, 1);
    assert.ok(response.json.metadata.continue);
    assert.equal(response.json.metadata.remainingItemCount, 1);
  });

  it('an empty list as Table has "rows":[]', async () => {
    const response = await call('GET', ns('nothing-here'), undefined, { Accept: TABLE_ACCEPT });
    assert.equal(response.status, 200);
    assert.deepEqual(response.json.rows, []);
  });

  it('a single object as Table has one row and the object\'s resourceVersion', async () => {
    const object = (await call('GET', `${TABLES}/t1`)).json;
    const response = await call('GET', `${TABLES}/t1`, undefined, { Accept: TABLE_ACCEPT });
    assert.equal(response.json.kind, 'Table');
    assert.equal(response.json.metadata.resourceVersion, object.metadata.resourceVersion);
    assert.equal(response.json.rows.length, 1);
    assert.equal(response.json.rows[0].cells[0], 't1');
  });

  it('kinds without printer columns get Name and Created At with a raw timestamp', async () => {
    await call('POST', GADGETS, { metadata: { name: 'g-table' } });
    const response = await call('GET', `${GADGETS}/g-table`, undefined, { Accept: TABLE_ACCEPT });
    assert.deepEqual(
      response.json.columnDefinitions.map((column: { name: string; type: string; format: string }) => [column.name, column.type, column.format]),
      [
        ['Name', 'string', 'name'],
        ['Created At', 'date', ''],
      ],
    );
    assert.equal(response.json.rows[0].cells[0], 'g-table');
    assert.match(response.json.rows[0].cells[1], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('a Table Accept with v1beta1 is honoured and one for another group falls back to JSON', async () => {
    const beta = await call('GET', TABLES, undefined, { Accept: 'application/json;as=Table;v=v1beta1;g=meta.k8s.io' });
    assert.equal(beta.json.kind, 'Table');
    assert.equal(beta.json.apiVersion, 'meta.k8s.io/v1beta1');
    const other = await call('GET', TABLES, undefined, { Accept: 'application/json;as=Table;v=v1;g=example.com, application/json' });
    assert.equal(other.json.kind, 'WidgetList');
  });
});

describe('PartialObjectMetadata output', () => {
  const PARTIAL = ns('partial');
  before(async () => {
    await call('POST', PARTIAL, widget('m1', { color: 'red' }, { labels: { a: 'b' } }));
  });

  it('a list asked as PartialObjectMetadataList has metadata-only items', async () => {
    const response = await call('GET', PARTIAL, undefined, { Accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json' });
    assert.equal(response.status, 200);
    assert.equal(response.json.kind, 'PartialObjectMetadataList');
    assert.equal(response.json.apiVersion, 'meta.k8s.io/v1');
    assert.match(response.json.metadata.resourceVersion, /^\d+$/);
    assert.deepEqual(response.json.items[0].kind, 'PartialObjectMetadata');
    assert.deepEqual(response.json.items[0].metadata.labels, { a: 'b' });
    assert.equal(response.json.items[0].spec, undefined);
  });

  it('an object asked as PartialObjectMetadata has only its metadata', async () => {
    const response = await call('GET', `${PARTIAL}/m1`, undefined, { Accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1' });
    assert.equal(response.json.kind, 'PartialObjectMetadata');
    assert.equal(response.json.metadata.name, 'm1');
    assert.equal(response.json.spec, undefined);
  });

  it('the wrong one of the two is 406', async () => {
    const list = await call('GET', PARTIAL, undefined, { Accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1' });
    assert.equal(list.status, 406);
    assert.equal(list.json.reason, 'NotAcceptable');
    const item = await call('GET', `${PARTIAL}/m1`, undefined, { Accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1' });
    assert.equal(item.status, 406);
  });
});
