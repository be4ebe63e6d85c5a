import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DroppedRequests } from './dropped-requests.js';

test('Retry-After starts at 1 s, doubles while a level keeps dropping, and comes down one second at a time', () => {
  let second = 1000;
  const tracker = new DroppedRequests(() => second);
  const drop = (count: number) => {
    let retryAfter = 0;
    for (let index = 0; index < count; index++) retryAfter = tracker.record('level');
    return retryAfter;
  };
  assert.equal(drop(10), 1, 'within the first second nothing is known yet');
  second++;
  assert.equal(drop(1), 2, '10 drops in the last second ≥ 3 × 1');
  second++;
  assert.equal(drop(1), 2, 'at most one increase per Retry-After seconds');
  second += 2;
  assert.equal(drop(10), 1, 'fewer than 2 drops in the last 2 seconds: one second less');
  second++;
  assert.equal(drop(1), 2);
  for (let index = 0; index < 40; index++) {
    second++;
    drop(100);
  }
  assert.equal(tracker.record('level'), 32, 'capped at 32 s');
  assert.equal(tracker.record('other-level'), 1, 'each level on its own');
});
