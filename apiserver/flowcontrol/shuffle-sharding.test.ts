import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dealHand, flowHash, validateDealer } from './shuffle-sharding.js';

test('a hand holds handSize distinct queues of the deck, the same for the same flow', () => {
  for (let flow = 0; flow < 500; flow++) {
    const hash = flowHash('global-default', `user-${flow}`);
    const hand = dealHand(hash, 128, 6);
    assert.equal(hand.length, 6);
    assert.equal(new Set(hand).size, 6);
    assert.ok(hand.every((card) => card >= 0 && card < 128 && Number.isInteger(card)));
    assert.deepEqual(dealHand(hash, 128, 6), hand);
  }
  assert.deepEqual(dealHand(12345, 4, 4).sort(), [0, 1, 2, 3]);
});

test('hands spread over the whole deck and rarely coincide', () => {
  const seen = new Map<number, number>();
  const hands = new Set<string>();
  for (let flow = 0; flow < 2000; flow++) {
    const hand = dealHand(flowHash('fs', `u${flow}`), 64, 6);
    hands.add([...hand].sort((a, b) => a - b).join(','));
    for (const card of hand) seen.set(card, (seen.get(card) ?? 0) + 1);
  }
  assert.equal(seen.size, 64);
  // 2000 × 6 / 64 ≈ 187 per queue: no queue is starved or favoured by much.
  for (const count of seen.values()) assert.ok(count > 100 && count < 300, `queue dealt ${count} times`);
  assert.ok(hands.size > 1990);
});

test('dealer parameters are validated as upstream', () => {
  assert.equal(validateDealer(128, 6), undefined);
  assert.match(validateDealer(4, 5)!, /greater than deckSize/);
  assert.match(validateDealer(1 << 12, 6)!, /entropy/);
});
