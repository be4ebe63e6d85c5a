import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequestInfo } from '../request/request-info.js';
import { estimateWork, type WorkEstimatorSources } from './work-estimate.js';
import { WatchTracker } from './watch-tracker.js';

const counts: Record<string, number> = { configmaps: 799, 'deployments.apps': 3, pods: 100_000 };
const sources = (watches = 0): WorkEstimatorSources => ({ objectCount: (resource) => counts[resource], interestedWatches: () => watches });

function seatsOf(method: string, url: string, levelMaxSeats = 0, watches = 0) {
  const [path, search = ''] = url.split('?');
  const query = new URLSearchParams(search);
  return estimateWork(parseRequestInfo(method, path, query), query, sources(watches), levelMaxSeats);
}

test('a LIST served from the watch cache costs a seat per 100 stored objects, whatever its limit', () => {
  assert.equal(seatsOf('GET', '/api/v1/configmaps').initialSeats, 8);
  assert.equal(seatsOf('GET', '/api/v1/namespaces/default/configmaps?limit=50').initialSeats, 8);
  assert.equal(seatsOf('GET', '/api/v1/configmaps?resourceVersion=0').initialSeats, 8);
  assert.equal(seatsOf('GET', '/apis/apps/v1/deployments').initialSeats, 1);
});

test('a LIST from storage costs twice its limit, or every object plus the limit with a selector', () => {
  // A continuation, an Exact match or the legacy exact match (limit with a resourceVersion) reads storage.
  assert.equal(seatsOf('GET', '/api/v1/configmaps?limit=50&continue=abc').initialSeats, 1);
  assert.equal(seatsOf('GET', '/api/v1/configmaps?limit=200&resourceVersion=12&resourceVersionMatch=Exact').initialSeats, 4);
  assert.equal(seatsOf('GET', '/api/v1/configmaps?limit=300&resourceVersion=12').initialSeats, 6);
  assert.equal(seatsOf('GET', '/api/v1/configmaps?limit=100&continue=abc&labelSelector=app%3Dx').initialSeats, 9);
  assert.equal(seatsOf('GET', '/api/v1/configmaps?limit=100&resourceVersion=0').initialSeats, 8, 'rv=0 with a limit is the cache');
});

test('clamps: at most 10 seats, at most the level\'s maximum, at least one; one name or an unknown resource costs one', () => {
  assert.equal(seatsOf('GET', '/api/v1/pods').initialSeats, 10);
  assert.equal(seatsOf('GET', '/api/v1/pods', 3).initialSeats, 3);
  assert.equal(seatsOf('GET', '/api/v1/pods', 37).initialSeats, 10);
  assert.equal(seatsOf('GET', '/api/v1/pods?fieldSelector=metadata.name%3Dweb-0').initialSeats, 1);
  assert.equal(seatsOf('GET', '/apis/wardle.example.com/v1alpha1/flunders').initialSeats, 1, 'served elsewhere: its server prices it');
  assert.equal(seatsOf('GET', '/api/v1/pods?limit=abc').initialSeats, 10, 'options that will be refused cost the most');
  assert.equal(seatsOf('GET', '/api/v1/namespaces/default/pods/web-0').initialSeats, 1);
});

test('a WATCH costs one seat unless it asks for initial events, then what its list would', () => {
  assert.deepEqual(seatsOf('GET', '/api/v1/pods?watch=true'), { initialSeats: 1, finalSeats: 0, additionalLatencyMs: 0 });
  assert.equal(seatsOf('GET', '/api/v1/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true').initialSeats, 8);
});

test('a write watched by many holds ceil(watches / 10) seats for 5 ms × that count after it finishes', () => {
  assert.deepEqual(seatsOf('POST', '/api/v1/namespaces/default/configmaps', 0, 9), { initialSeats: 1, finalSeats: 0, additionalLatencyMs: 0 });
  assert.deepEqual(seatsOf('POST', '/api/v1/namespaces/default/configmaps', 0, 25), { initialSeats: 1, finalSeats: 3, additionalLatencyMs: 5 });
  // Wider than the level allows: fewer seats for longer, the same work.
  assert.deepEqual(seatsOf('PUT', '/api/v1/namespaces/default/configmaps/x', 0, 500), { initialSeats: 1, finalSeats: 10, additionalLatencyMs: 25 });
  assert.deepEqual(seatsOf('POST', '/api/v1/namespaces/default/serviceaccounts/default/token', 0, 500), { initialSeats: 1, finalSeats: 0, additionalLatencyMs: 0 });
});

test('watches are counted for the writes they will see: the resource, its namespace, the object', () => {
  const tracker = new WatchTracker();
  const watch = (path: string, search = '') => tracker.register(parseRequestInfo('GET', path, new URLSearchParams(`watch=true&${search}`)), new URLSearchParams(search));
  const forget = [watch('/api/v1/configmaps'), watch('/api/v1/namespaces/a/configmaps'), watch('/api/v1/namespaces/b/configmaps'), watch('/api/v1/namespaces/a/configmaps', 'fieldSelector=metadata.name%3Dx')];
  watch('/api/v1/pods', 'fieldSelector=spec.nodeName%3Dnode-1'); // a kubelet's watch: indexed, not counted
  const write = (method: string, path: string) => tracker.interested(parseRequestInfo(method, path, new URLSearchParams()));
  assert.equal(write('POST', '/api/v1/namespaces/a/configmaps'), 2);
  assert.equal(write('PUT', '/api/v1/namespaces/b/configmaps/y'), 2);
  assert.equal(write('PUT', '/api/v1/pods/x'), 0);
  forget[0]();
  forget[0]();
  assert.equal(write('POST', '/api/v1/namespaces/a/configmaps'), 1);
});
