import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocateCurrentLimits, initialCurrentCL, levelLimits, sharesOf, type BorrowingLevel } from './borrowing.js';
import { computeConcurrencyAllocation, MIN_TARGET, type AllocationClass } from './concurrency-allocation.js';
import { SeatDemandIntegrator, SeatDemandStats } from './seat-demand.js';
import { MANDATORY_PRIORITY_LEVELS, SUGGESTED_PRIORITY_LEVELS } from './bootstrap.js';
import type { PriorityLevelConfiguration } from './types.js';

const byName = (name: string): PriorityLevelConfiguration => [...MANDATORY_PRIORITY_LEVELS, ...SUGGESTED_PRIORITY_LEVELS].find((level) => level.metadata.name === name)!;

test('limits: NominalCL from shares, MinCL from lendablePercent, MaxCL from borrowingLimitPercent (unset: the whole server)', () => {
  const levels = [...MANDATORY_PRIORITY_LEVELS, ...SUGGESTED_PRIORITY_LEVELS];
  const shareSum = levels.reduce((sum, level) => sum + sharesOf(level), 0);
  assert.equal(shareSum, 245);
  const workloadLow = levelLimits(byName('workload-low'), 600, shareSum);
  assert.deepEqual(workloadLow, { nominalCL: 245, lendableCL: 221, borrowingCL: 600, minCL: 24, maxCL: 845, maxSeats: 37 });
  assert.equal(initialCurrentCL(workloadLow), 245 - 110);
  const exempt = levelLimits(byName('exempt'), 600, shareSum);
  assert.deepEqual([exempt.nominalCL, exempt.minCL, exempt.maxSeats], [0, 0, 0]);
  const capped: PriorityLevelConfiguration = { metadata: { name: 'capped' }, spec: { type: 'Limited', limited: { nominalConcurrencyShares: 50, lendablePercent: 20, borrowingLimitPercent: 50, limitResponse: { type: 'Reject' } } } };
  assert.deepEqual(levelLimits(capped, 100, 100), { nominalCL: 50, lendableCL: 10, borrowingCL: 25, minCL: 40, maxCL: 75, maxSeats: 0 });
});

test('the widest request of a queuing level: max(1, min(ceil(15 % of NominalCL), NominalCL / handSize)) as upstream', () => {
  const cases: [number, number, number][] = [[5, 6, 1], [10, 6, 1], [15, 6, 2], [20, 6, 3], [35, 6, 5], [100, 6, 15], [200, 6, 30], [10, 1, 2], [100, 20, 5]];
  for (const [nominalCL, handSize, expected] of cases) {
    const level: PriorityLevelConfiguration = { metadata: { name: 'pl' }, spec: { type: 'Limited', limited: { nominalConcurrencyShares: 1, limitResponse: { type: 'Queue', queuing: { queues: 64, handSize, queueLengthLimit: 50 } } } } };
    assert.equal(levelLimits(level, nominalCL, 1).maxSeats, expected, `nominalCL=${nominalCL} handSize=${handSize}`);
  }
});

/** Upstream's TestUpdateBorrowing: exempt, workload-high, workload-low and catch-all with serverCL = 6 × shares. */
function upstreamScenario() {
  let clock = 0;
  const now = () => clock;
  const objects = [byName('exempt'), byName('workload-high'), byName('workload-low'), byName('catch-all')];
  const serverCL = (40 + 100 + 5) * 6;
  const shareSum = objects.reduce((sum, level) => sum + sharesOf(level), 0);
  const levels = objects.map((object) => {
    const limits = levelLimits(object, serverCL, shareSum);
    return { name: object.metadata.name, exempt: object.spec.type === 'Exempt', limits, demand: new SeatDemandStats(), integrator: new SeatDemandIntegrator(now), currentCL: initialCurrentCL(limits) };
  });
  const nominalCLSum = levels.reduce((sum, level) => sum + level.limits.nominalCL, 0);
  assert.equal(nominalCLSum, serverCL, 'no rounding in this configuration');
  const update = () => {
    clock += 10_000;
    for (const level of levels) level.demand.update(level.integrator.reset());
    const outcome = allocateCurrentLimits(levels as BorrowingLevel[], nominalCLSum);
    levels.forEach((level, index) => (level.currentCL = outcome.currentCLs[index]));
  };
  const [exempt, high, mid, low] = levels;
  return { serverCL, update, exempt, high, mid, low };
}

test('borrowing scenario 1: the exempt level uses more than the server; everyone else falls to MinCL', () => {
  const { serverCL, update, exempt, high, mid, low } = upstreamScenario();
  for (const level of [exempt, high, mid, low]) level.integrator.set(serverCL + 100);
  update();
  assert.equal(exempt.currentCL, serverCL + 100);
  for (const level of [high, mid, low]) assert.equal(level.currentCL, level.limits.minCL, level.name);
});

test('borrowing scenario 2: what exempt leaves is shared halfway between MinCL and what each level used', () => {
  const { serverCL, update, exempt, high, mid, low } = upstreamScenario();
  for (const level of [exempt, high, mid, low]) level.integrator.set(serverCL + 100);
  update();
  const expected = [high, mid, low].map((level) => Math.trunc((level.limits.nominalCL + level.limits.minCL) / 2));
  exempt.integrator.set(serverCL - expected.reduce((sum, value) => sum + value, 0));
  update();
  update();
  assert.equal(exempt.currentCL, serverCL - expected.reduce((sum, value) => sum + value, 0));
  assert.deepEqual([high, mid, low].map((level) => level.currentCL), expected);
});

test('borrowing scenario 3: only the idle level lends, and exempt borrows all of it', () => {
  const { serverCL, update, exempt, high, mid, low } = upstreamScenario();
  for (const level of [exempt, high, mid, low]) level.integrator.set(serverCL + 100);
  update();
  const expectedExempt = serverCL - (high.limits.nominalCL + mid.limits.minCL + low.limits.nominalCL);
  exempt.integrator.set(expectedExempt);
  mid.integrator.set(1);
  update();
  update();
  assert.deepEqual([exempt.currentCL, high.currentCL, mid.currentCL, low.currentCL], [expectedExempt, high.limits.nominalCL, mid.limits.minCL, low.limits.nominalCL]);
});

test('a busy level borrows from idle levels up to its MaxCL; idle lenders keep their MinCL', () => {
  const limits = (nominalCL: number, lendable: number, borrowing: number) => ({ nominalCL, lendableCL: lendable, borrowingCL: borrowing, minCL: nominalCL - lendable, maxCL: nominalCL + borrowing, maxSeats: 0 });
  const stats = (highWatermark: number, smoothed: number) => Object.assign(new SeatDemandStats(), { highWatermark, smoothed });
  const levels: BorrowingLevel[] = [
    { exempt: true, limits: limits(0, 0, 100), demand: stats(0, 0), currentCL: 0 },
    { exempt: false, limits: limits(40, 20, 100), demand: stats(90, 90), currentCL: 30 }, // busy, may borrow anything
    { exempt: false, limits: limits(40, 30, 100), demand: stats(0, 0), currentCL: 25 }, // idle, lends 30
    { exempt: false, limits: limits(20, 10, 5), demand: stats(60, 60), currentCL: 15 }, // busy but may borrow only 5
  ];
  const outcome = allocateCurrentLimits(levels, 100);
  assert.deepEqual(outcome.currentCLs, [0, 65, 10, 25]);
  assert.equal(outcome.currentCLs.slice(1).reduce((sum, value) => sum + value, 0), 100);
  // With nothing to borrow (everyone busy), each stays at its nominal share.
  const busy = levels.map((level) => ({ ...level, demand: level.exempt ? level.demand : stats(1000, 1000) }));
  assert.deepEqual(allocateCurrentLimits(busy, 100).currentCLs, [0, 40, 40, 20]);
});

test('the fair allocation meets its bounds and the required sum in randomly generated problems (upstream TestConcAlloc)', () => {
  let seed = 1234567890;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let trial = 0; trial < 5000; trial++) {
    const count = [1, 2, 3, 4, 6, 9][Math.floor(random() * 6)];
    const classes: AllocationClass[] = [];
    let lowSum = 0;
    let highSum = 0;
    for (let index = 0; index < count; index++) {
      const lowerBound = Math.max(0, random() * 5 - 1);
      const item = { lowerBound, target: lowerBound + 2 * random(), upperBound: lowerBound + 3 * random() };
      if (random() < 0.1) item.target = 0 + (item.lowerBound = 0);
      classes.push(item);
      lowSum += item.lowerBound;
      highSum += item.upperBound;
    }
    const required = Math.ceil(lowSum + (highSum - lowSum) * random());
    if (required > highSum) {
      assert.throws(() => computeConcurrencyAllocation(required, classes));
      continue;
    }
    const { allocations, fairProportion } = computeConcurrencyAllocation(required, classes);
    const sum = allocations.reduce((total, value) => total + value, 0);
    assert.ok(Math.abs(sum - required) <= 1e-9 * Math.max(1, required), `sum ${sum} for ${required}`);
    classes.forEach((item, index) => {
      const fair = fairProportion * Math.max(item.target, MIN_TARGET);
      const expected = fair <= item.lowerBound ? item.lowerBound : fair >= item.upperBound ? item.upperBound : fair;
      assert.ok(Math.abs(allocations[index] - expected) <= 1e-9 * Math.max(1, expected), `class ${index}: ${allocations[index]} vs ${expected}`);
    });
  }
});
