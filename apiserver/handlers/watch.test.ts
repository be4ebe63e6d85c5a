// WATCH over real HTTP: chunked JSON framing, event types and resourceVersions, starting points,
// expiry as an ERROR event, selector transitions, bookmarks, timeouts, watch-list and Table events.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryStorage } from '../storage/memory.js';
import type { TestServer, WatchEvent } from '../server/test-server.js';
import { TABLE_ACCEPT, request, startTestServer, watch, widget, widgets } from '../server/test-server.js';

let t: TestServer;
const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => request(t.port, method, path, { body, headers });
const ns = (namespace: string) => `/apis/example.com/v1/namespaces/${namespace}/widgets`;
const MERGE = { 'Content-Type': 'application/merge-patch+json' };
const summary = (event: WatchEvent) => `${event.type} ${event.object.metadata?.name ?? ''}`;

before(async () => {
  t = await startTestServer();
});
after(async () => {
  await t.close();
});

describe('watch', () => {
  it('streams chunked JSON lines: ADDED for what exists, then MODIFIED and DELETED with new resourceVersions', async () => {
    const NS = ns('basic');
    const created = (await call('POST', NS, widget('w1'))).json;
    const stream = await watch(t.port, `${NS}?watch=true`);
    assert.equal(stream.status, 200);
    assert.equal(stream.headers['content-type'], 'application/json');
    assert.equal(stream.headers['transfer-encoding'], 'chunked');
    const added = await stream.next();
    assert.equal(summary(added), 'ADDED w1');
    assert.equal(added.object.kind, 'Widget');
    assert.equal(added.object.metadata.resourceVersion, created.metadata.resourceVersion);

    const patched = (await call('PATCH', `${NS}/w1`, { spec: { color: 'blue' } }, MERGE)).json;
    const modified = await stream.next();
    assert.equal(summary(modified), 'MODIFIED w1');
    assert.equal(modified.object.spec.color, 'blue');
    assert.equal(modified.object.metadata.resourceVersion, patched.metadata.resourceVersion);

    await call('DELETE', `${NS}/w1`);
    const deleted = await stream.next();
    assert.equal(summary(deleted), 'DELETED w1');
    assert.equal(deleted.object.spec.color, 'blue', 'DELETED carries the last state');
    assert.ok(Number(deleted.object.metadata.resourceVersion) > Number(patched.metadata.resourceVersion), 'with the deletion revision');
    for (const chunk of stream.raw) assert.ok(chunk.endsWith('\n'), 'every event is one newline-terminated JSON document');
    stream.close();
  });

  it('sends the headers before any event', async () => {
    const stream = await watch(t.port, `${ns('quiet')}?watch=true`);
    assert.equal(stream.status, 200);
    assert.deepEqual(stream.pending(), []);
    stream.close();
  });

  it('from a resourceVersion delivers exactly the later events', async () => {
    const NS = ns('fromrv');
    const first = (await call('POST', NS, widget('a'))).json;
    await call('PATCH', `${NS}/a`, { spec: { color: 'x' } }, MERGE);
    await call('POST', NS, widget('b'));
    await call('POST', ns('elsewhere'), widget('z'));
    await call('DELETE', `${NS}/a`);
    const stream = await watch(t.port, `${NS}?watch=true&resourceVersion=${first.metadata.resourceVersion}`);
    const events = [await stream.next(), await stream.next(), await stream.next()];
    assert.deepEqual(events.map(summary), ['MODIFIED a', 'ADDED b', 'DELETED a']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(stream.pending(), [], 'nothing else: no synthetic ADDED events, nothing from other namespaces');
    stream.close();
  });

  it('from a resourceVersion the cache has not reached: 200 at once, then only the events after it (upstream cacher)', async () => {
    const NS = ns('future');
    const first = (await call('POST', NS, widget('f0'))).json;
    const future = Number(first.metadata.resourceVersion) + 2;
    const stream = await watch(t.port, `${NS}?watch=true&resourceVersion=${future}`);
    assert.equal(stream.status, 200);
    for (const name of ['f1', 'f2', 'f3']) await call('POST', NS, widget(name));
    assert.equal(summary(await stream.next()), 'ADDED f3');
    stream.close();
  });

  it('sendInitialEvents from a resourceVersion the cache does not reach in time: an ERROR event with the 504 Status', async () => {
    const NS = ns('future-list');
    const first = (await call('POST', NS, widget('g0'))).json;
    const future = Number(first.metadata.resourceVersion) + 1000;
    const stream = await watch(t.port, `${NS}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=${future}`);
    assert.equal(stream.status, 200);
    const error = await stream.next();
    assert.equal(error.type, 'ERROR');
    assert.equal(error.object.code, 504);
    assert.equal(error.object.reason, 'Timeout');
    assert.match(error.object.message, new RegExp(`^Too large resource version: ${future}, current: \\d+$`));
    await stream.ended;
  });

  it('watches one object through the legacy /watch/ path', async () => {
    const NS = ns('single');
    await call('POST', NS, widget('one'));
    await call('POST', NS, widget('two'));
    const stream = await watch(t.port, '/apis/example.com/v1/watch/namespaces/single/widgets/two');
    assert.equal(summary(await stream.next()), 'ADDED two');
    await call('PATCH', `${NS}/one`, { spec: { color: 'x' } }, MERGE);
    await call('PATCH', `${NS}/two`, { spec: { color: 'y' } }, MERGE);
    assert.equal(summary(await stream.next()), 'MODIFIED two');
    stream.close();
  });

  it('a field selector on metadata.name narrows the watch (kubectl wait/delete)', async () => {
    const NS = ns('byname');
    const created = (await call('POST', NS, widget('target'))).json;
    await call('POST', NS, widget('other'));
    const stream = await watch(t.port, `${NS}?watch=true&fieldSelector=metadata.name%3Dtarget&resourceVersion=${created.metadata.resourceVersion}&allowWatchBookmarks=true&timeoutSeconds=300`);
    await call('DELETE', `${NS}/other`);
    await call('DELETE', `${NS}/target`);
    assert.equal(summary(await stream.next()), 'DELETED target');
    stream.close();
  });

  it('label selectors turn entering and leaving into ADDED and DELETED', async () => {
    const NS = ns('labels');
    await call('POST', NS, widget('l1', { color: 'red' }, { labels: { tier: 'back' } }));
    const stream = await watch(t.port, `${NS}?watch=true&labelSelector=tier%3Dfront`);
    const entered = (await call('PATCH', `${NS}/l1`, { metadata: { labels: { tier: 'front' } } }, MERGE)).json;
    const added = await stream.next();
    assert.equal(summary(added), 'ADDED l1');
    assert.equal(added.object.metadata.resourceVersion, entered.metadata.resourceVersion);
    await call('PATCH', `${NS}/l1`, { spec: { color: 'blue' } }, MERGE);
    assert.equal(summary(await stream.next()), 'MODIFIED l1');
    const left = (await call('PATCH', `${NS}/l1`, { metadata: { labels: { tier: 'back' } }, spec: { color: 'green' } }, MERGE)).json;
    const deleted = await stream.next();
    assert.equal(summary(deleted), 'DELETED l1');
    assert.equal(deleted.object.metadata.labels.tier, 'front', 'the last state that matched');
    assert.equal(deleted.object.spec.color, 'blue');
    assert.equal(deleted.object.metadata.resourceVersion, left.metadata.resourceVersion, 'at the revision of the change');
    stream.close();
  });

  it('a field selector on a selectable field behaves the same', async () => {
    const NS = ns('fields');
    await call('POST', NS, widget('f1', { color: 'red' }));
    const stream = await watch(t.port, `${NS}?watch=true&fieldSelector=spec.color%3Dblue`);
    await call('PATCH', `${NS}/f1`, { spec: { color: 'blue' } }, MERGE);
    assert.equal(summary(await stream.next()), 'ADDED f1');
    await call('PATCH', `${NS}/f1`, { spec: { color: 'red' } }, MERGE);
    assert.equal(summary(await stream.next()), 'DELETED f1');
    stream.close();
  });

  it('timeoutSeconds ends the stream cleanly, after a bookmark when bookmarks are allowed', async () => {
    const NS = ns('timeout');
    const plain = await watch(t.port, `${NS}?watch=true&timeoutSeconds=1`);
    const withBookmarks = await watch(t.port, `${NS}?watch=true&timeoutSeconds=1&allowWatchBookmarks=true&resourceVersion=1`);
    const started = Date.now();
    await Promise.all([plain.ended, withBookmarks.ended]);
    assert.ok(Date.now() - started >= 800, 'not before the timeout');
    assert.deepEqual(plain.pending(), []);
    const events = withBookmarks.pending();
    assert.equal(events.length, 1);
    assert.equal(events[0].type, 'BOOKMARK');
    assert.equal(events[0].object.kind, 'Widget');
    assert.equal(events[0].object.apiVersion, 'example.com/v1');
    assert.match(events[0].object.metadata.resourceVersion, /^\d+$/);
    assert.equal(events[0].object.metadata.annotations, undefined);
  });

  it('timeoutSeconds=0 and huge timeouts leave the stream open', async () => {
    const NS = ns('longtimeout');
    const zero = await watch(t.port, `${NS}?watch=true&timeoutSeconds=0`);
    const huge = await watch(t.port, `${NS}?watch=true&timeoutSeconds=99999999`);
    await call('POST', NS, widget('lt'));
    assert.equal(summary(await zero.next()), 'ADDED lt');
    assert.equal(summary(await huge.next()), 'ADDED lt');
    zero.close();
    huge.close();
  });

  it('sendInitialEvents=true gives ADDED events, then a BOOKMARK marking their end, then changes', async () => {
    const NS = ns('watchlist');
    await call('POST', NS, widget('i1'));
    await call('POST', NS, widget('i2'));
    const stream = await watch(t.port, `${NS}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`);
    assert.deepEqual([summary(await stream.next()), summary(await stream.next())], ['ADDED i1', 'ADDED i2']);
    const bookmark = await stream.next();
    assert.equal(bookmark.type, 'BOOKMARK');
    assert.deepEqual(bookmark.object.metadata.annotations, { 'k8s.io/initial-events-end': 'true' });
    const current = (await call('GET', NS)).json.metadata.resourceVersion;
    assert.ok(Number(bookmark.object.metadata.resourceVersion) >= Number((await call('GET', `${NS}/i2`)).json.metadata.resourceVersion));
    assert.ok(Number(bookmark.object.metadata.resourceVersion) <= Number(current));
    await call('POST', NS, widget('i3'));
    assert.equal(summary(await stream.next()), 'ADDED i3');
    stream.close();
  });

  it('sendInitialEvents=false starts from now without initial events', async () => {
    const NS = ns('noinitial');
    await call('POST', NS, widget('n1'));
    const stream = await watch(t.port, `${NS}?watch=true&sendInitialEvents=false&resourceVersionMatch=NotOlderThan`);
    await call('POST', NS, widget('n2'));
    assert.equal(summary(await stream.next()), 'ADDED n2');
    stream.close();
  });

  it('a plain watch with bookmarks allowed and no resourceVersion marks the end of its initial events, as 1.32 defaults it to a watch-list', async () => {
    const NS = ns('defaulted');
    await call('POST', NS, widget('d1'));
    const stream = await watch(t.port, `${NS}?watch=true&allowWatchBookmarks=true`);
    assert.equal(summary(await stream.next()), 'ADDED d1');
    const bookmark = await stream.next();
    assert.equal(bookmark.type, 'BOOKMARK');
    assert.deepEqual(bookmark.object.metadata.annotations, { 'k8s.io/initial-events-end': 'true' });
    stream.close();
  });

  it('rejects watch-list option combinations upstream rejects, with 422 on the ListOptions', async () => {
    const NS = ns('invalid');
    const noMatch = await call('GET', `${NS}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true`);
    assert.equal(noMatch.status, 422);
    assert.equal(noMatch.json.message, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan');
    const matchOnly = await call('GET', `${NS}?watch=true&resourceVersionMatch=NotOlderThan&resourceVersion=1`);
    assert.equal(matchOnly.status, 422);
    assert.equal(matchOnly.json.message, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided');
    const exact = await call('GET', `${NS}?watch=true&sendInitialEvents=true&resourceVersionMatch=Exact&resourceVersion=1`);
    assert.equal(exact.status, 422);
    assert.equal(
      exact.json.message,
      'ListOptions.meta.k8s.io "" is invalid: [resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan, resourceVersionMatch: Unsupported value: "Exact": supported values: "NotOlderThan"]',
    );
  });

  it('Table events have one row each and only the first carries column definitions', async () => {
    const NS = ns('tablewatch');
    await call('POST', NS, widget('tw1', { color: 'red' }));
    const stream = await watch(t.port, `${NS}?watch=true`, { Accept: TABLE_ACCEPT });
    const first = await stream.next();
    assert.equal(first.type, 'ADDED');
    assert.equal(first.object.kind, 'Table');
    assert.equal(first.object.apiVersion, 'meta.k8s.io/v1');
    assert.equal(first.object.columnDefinitions.length, 4);
    assert.equal(first.object.rows.length, 1);
    assert.equal(first.object.rows[0].cells[0], 'tw1');
    assert.equal(first.object.rows[0].object.kind, 'PartialObjectMetadata');
    const patched = (await call('PATCH', `${NS}/tw1`, { spec: { color: 'blue' } }, MERGE)).json;
    const second = await stream.next();
    assert.equal(second.type, 'MODIFIED');
    assert.equal(second.object.columnDefinitions, null);
    assert.equal(second.object.rows[0].cells[1], 'blue');
    assert.equal(second.object.metadata.resourceVersion, patched.metadata.resourceVersion);
    stream.close();
  });

  it('events asked as PartialObjectMetadata carry only metadata', async () => {
    const NS = ns('partialwatch');
    await call('POST', NS, widget('pw1'));
    const stream = await watch(t.port, `${NS}?watch=true`, { Accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json' });
    const event = await stream.next();
    assert.equal(event.object.kind, 'PartialObjectMetadata');
    assert.equal(event.object.metadata.name, 'pw1');
    assert.equal(event.object.spec, undefined);
    stream.close();
  });

  it('a closed client stream unsubscribes its watcher', async () => {
    await new Promise((resolve) => setTimeout(resolve, 50)); // let earlier tests' closed streams unsubscribe
    const before = t.widgets.cache.watcherCount;
    const stream = await watch(t.port, `${ns('closing')}?watch=true`);
    assert.equal(t.widgets.cache.watcherCount, before + 1);
    stream.close();
    for (let attempt = 0; attempt < 50 && t.widgets.cache.watcherCount !== before; attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(t.widgets.cache.watcherCount, before);
  });
});

describe('watches during shutdown', () => {
  it('a graceful shutdown ends open watches, with a last bookmark for clients that allow them', async () => {
    const server = await startTestServer({}, new MemoryStorage());
    const plain = await watch(server.port, `${ns('down')}?watch=true`);
    const bookmarked = await watch(server.port, `${ns('down')}?watch=true&allowWatchBookmarks=true&resourceVersion=1`);
    await server.close();
    await Promise.all([plain.ended, bookmarked.ended]);
    assert.deepEqual(plain.pending(), []);
    assert.deepEqual(bookmarked.pending().map((event) => event.type), ['BOOKMARK']);
  });
});

describe('watch from a revision older than the window', () => {
  it('answers 200, then an ERROR event with a 410 Expired Status, then ends', async () => {
    const storage = new MemoryStorage();
    for (const name of ['o1', 'o2', 'o3']) {
      await storage.create(`${widgets.storagePrefix}old/${name}`, JSON.stringify({ ...widget(name), metadata: { name, namespace: 'old', resourceVersion: '' } }));
    }
    const server = await startTestServer({}, storage);
    try {
      const listed = (await request(server.port, 'GET', ns('old'))).json;
      assert.equal(listed.items.length, 3);
      const stream = await watch(server.port, `${ns('old')}?watch=true&resourceVersion=2`);
      assert.equal(stream.status, 200);
      const error = await stream.next();
      assert.equal(error.type, 'ERROR');
      assert.deepEqual(error.object, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: 2 (${listed.metadata.resourceVersion})`,
        reason: 'Expired',
        code: 410,
      });
      await stream.ended;
      const fresh = await watch(server.port, `${ns('old')}?watch=true&resourceVersion=${listed.metadata.resourceVersion}`);
      await request(server.port, 'DELETE', `${ns('old')}/o1`);
      assert.equal(summary(await fresh.next()), 'DELETED o1');
      fresh.close();
    } finally {
      await server.close();
    }
  });
});
