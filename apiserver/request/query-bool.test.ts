import { test } from 'node:test';
import assert from 'node:assert/strict';
import { queryBool } from './query-bool.js';
import { parseRequestInfo } from './request-info.js';

test('boolean query parameters decode as upstream does', () => {
  assert.equal(queryBool(null), undefined);
  for (const value of ['true', 'True', 'TRUE', '1', 't', 'yes', '']) assert.equal(queryBool(value), true, value);
  for (const value of ['false', 'False', 'FALSE', '0']) assert.equal(queryBool(value), false, value);
});

test('?watch=True (the Python client) and ?watch=1 are watches; watch=false and watch=0 are lists', () => {
  const verb = (query: string) => parseRequestInfo('GET', '/api/v1/namespaces/default/configmaps', new URLSearchParams(query)).verb;
  assert.equal(verb('watch=True'), 'watch');
  assert.equal(verb('watch=1'), 'watch');
  assert.equal(verb('watch=true'), 'watch');
  assert.equal(verb('watch=false'), 'list');
  assert.equal(verb('watch=0'), 'list');
  assert.equal(verb(''), 'list');
});
