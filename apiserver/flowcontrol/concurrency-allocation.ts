// The fair allocation problem that API Priority and Fairness solves every adjustment period to share the
// server's seats among the non-exempt priority levels (upstream's computeConcurrencyAllocation): find the
// one proportion p such that the allocations clamp(p × target, lowerBound, upperBound) add up to the
// required sum. Each level then gets its target scaled by the same fair proportion unless a bound stops it.
//
// The sum is a continuous, non-decreasing, piecewise-linear function of p whose kinks are the bounds
// divided by the targets, so the answer lies on the segment between the two kinks that straddle the
// required sum and is found there exactly by linear interpolation.

export interface AllocationClass {
  target: number;
  lowerBound: number;
  upperBound: number;
}

export interface Allocation {
  allocations: number[];
  fairProportion: number;
}

/** A target below this counts as this much (upstream's MinTarget), so that every class has a direction. */
export const MIN_TARGET = 0.001;
const EPSILON = 1e-7;

export function computeConcurrencyAllocation(requiredSum: number, classes: AllocationClass[]): Allocation {
  if (requiredSum < 0) throw new Error('negative sums are not supported');
  let lowSum = 0;
  let highSum = 0;
  const targets: number[] = [];
  for (const [index, item] of classes.entries()) {
    if (item.lowerBound < 0) throw new Error(`lower bound ${index} is ${item.lowerBound} but negative lower bounds are not allowed`);
    if (item.target < item.lowerBound) throw new Error(`target ${index} is ${item.target}, which is below its lower bound of ${item.lowerBound}`);
    if (item.upperBound < item.lowerBound) throw new Error(`upper bound ${index} is ${item.upperBound} but should not be less than the lower bound ${item.lowerBound}`);
    targets.push(Math.max(item.target, MIN_TARGET));
    lowSum += item.lowerBound;
    highSum += item.upperBound;
  }
  if (lowSum - requiredSum > EPSILON) throw new Error(`lower bounds sum to ${lowSum}, which is higher than the required sum of ${requiredSum}`);
  if (requiredSum - highSum > EPSILON) throw new Error(`upper bounds sum to ${highSum}, which is lower than the required sum of ${requiredSum}`);
  if (requiredSum === 0) return { allocations: classes.map(() => 0), fairProportion: 0 };

  const kinks = new Set<number>();
  for (const [index, item] of classes.entries()) {
    kinks.add(item.lowerBound / targets[index]);
    kinks.add(item.upperBound / targets[index]);
  }
  const sorted = [...kinks].sort((a, b) => a - b);
  const allocate = (proportion: number) => classes.map((item, index) => Math.max(item.lowerBound, Math.min(item.upperBound, proportion * targets[index])));
  const sumAt = (proportion: number) => allocate(proportion).reduce((sum, value) => sum + value, 0);

  // No room to move: everyone at the bound that pins them.
  if (lowSum - requiredSum > -EPSILON) return { allocations: classes.map((item) => item.lowerBound), fairProportion: sorted[0] };
  if (requiredSum - highSum > -EPSILON) return { allocations: classes.map((item) => item.upperBound), fairProportion: sorted[sorted.length - 1] };

  let previous = sorted[0];
  let previousSum = sumAt(previous);
  for (const kink of sorted.slice(1)) {
    const kinkSum = sumAt(kink);
    if (kinkSum >= requiredSum) {
      // Linear between the kinks: interpolate to the exact proportion.
      const proportion = kinkSum === previousSum ? kink : previous + ((requiredSum - previousSum) * (kink - previous)) / (kinkSum - previousSum);
      return { allocations: allocate(proportion), fairProportion: proportion };
    }
    previous = kink;
    previousSum = kinkSum;
  }
  throw new Error('impossible: ran out of bounds to consider in bound-constrained problem');
}
