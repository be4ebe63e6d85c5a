// Concurrency limits of priority levels and borrowing between them (upstream's apf_controller, 1.29+):
// - NominalCL = ceil(serverCL × nominalConcurrencyShares / sum of every level's shares);
// - LendableCL = round(NominalCL × lendablePercent / 100): what the level may lend when idle, so its
//   lower limit (MinCL) is NominalCL − LendableCL;
// - BorrowingCL = round(NominalCL × borrowingLimitPercent / 100), or the whole server when unset: its upper
//   limit (MaxCL) is NominalCL + BorrowingCL;
// - every adjustment period (10 s) each level's CurrentCL is re-derived from its seat demand: the exempt
//   level takes what it used (its high watermark, at least its MinCL), and the non-exempt levels share the
//   rest in proportion to their smoothed demand, each between max(MinCL, min(NominalCL, high watermark))
//   and MaxCL (the fair allocation problem), so a busy level borrows the seats idle levels lend.

import type { PriorityLevelConfiguration } from './types.js';
import { computeConcurrencyAllocation } from './concurrency-allocation.js';
import type { SeatDemandStats } from './seat-demand.js';

export const BORROWING_ADJUSTMENT_PERIOD_MS = 10_000;
const DEFAULT_SHARES = 30;
/** A level's widest request is at most this fraction of its nominal seats (upstream's priorityLevelMaxSeatsPercent). */
const MAX_SEATS_FRACTION = 0.15;

export interface LevelLimits {
  nominalCL: number;
  lendableCL: number;
  borrowingCL: number;
  minCL: number;
  maxCL: number;
  /** The widest request in seats (0: no level-specific limit). */
  maxSeats: number;
}

export function sharesOf(level: PriorityLevelConfiguration): number {
  return level.spec.type === 'Exempt' ? (level.spec.exempt?.nominalConcurrencyShares ?? 0) : (level.spec.limited?.nominalConcurrencyShares ?? DEFAULT_SHARES);
}

/** The limits of one level, given the server's limit and the sum of every level's shares. */
export function levelLimits(level: PriorityLevelConfiguration, serverConcurrencyLimit: number, shareSum: number): LevelLimits {
  const limited = level.spec.type === 'Exempt' ? undefined : level.spec.limited;
  const lendablePercent = limited ? limited.lendablePercent : level.spec.exempt?.lendablePercent;
  const borrowingLimitPercent = limited?.borrowingLimitPercent;
  const nominalCL = shareSum > 0 ? Math.ceil((serverConcurrencyLimit * sharesOf(level)) / shareSum) : 0;
  const lendableCL = lendablePercent === undefined ? 0 : Math.round((nominalCL * lendablePercent) / 100);
  const borrowingCL = borrowingLimitPercent === undefined ? serverConcurrencyLimit : Math.round((nominalCL * borrowingLimitPercent) / 100);
  const queuing = limited?.limitResponse?.type === 'Queue' ? limited.limitResponse.queuing : undefined;
  const maxSeats = queuing ? Math.max(1, Math.min(Math.ceil(nominalCL * MAX_SEATS_FRACTION), Math.trunc(nominalCL / Math.max(1, queuing.handSize)))) : 0;
  return { nominalCL, lendableCL, borrowingCL, minCL: nominalCL - lendableCL, maxCL: nominalCL + borrowingCL, maxSeats };
}

/** The CurrentCL of a level that has just been created: half of what it may lend is lent from the start. */
export function initialCurrentCL(limits: LevelLimits): number {
  return limits.nominalCL - Math.trunc(limits.lendableCL / 2);
}

export interface BorrowingLevel {
  exempt: boolean;
  limits: LevelLimits;
  demand: SeatDemandStats;
  currentCL: number;
}

export interface BorrowingOutcome {
  /** The new CurrentCL of each level, in the order given. */
  currentCLs: number[];
  /** The fair proportion of the allocation (0 when the lower limits alone use up the seats). */
  fairFraction: number;
  /** Each non-exempt level's target (for the target_seats metric); the exempt levels' entries are 0. */
  targets: number[];
}

/**
 * Upstream's updateBorrowingLocked after the demand stats have been updated: `nominalCLSum` is the sum of
 * every level's NominalCL, which is what the levels share.
 */
export function allocateCurrentLimits(levels: BorrowingLevel[], nominalCLSum: number): BorrowingOutcome {
  let remainingServerCL = nominalCLSum;
  let minCLSum = 0;
  let minCurrentCLSum = 0;
  const minCurrentCLs: number[] = [];
  const classes: { target: number; lowerBound: number; upperBound: number }[] = [];
  const targets: number[] = [];
  for (const level of levels) {
    const { limits, demand } = level;
    if (level.exempt) {
      const minCurrentCL = Math.max(limits.minCL, demand.highWatermark);
      minCurrentCLs.push(minCurrentCL);
      remainingServerCL -= minCurrentCL;
      targets.push(0);
      continue;
    }
    const minCurrentCL = Math.max(limits.minCL, Math.min(limits.nominalCL, demand.highWatermark));
    minCurrentCLs.push(minCurrentCL);
    const target = Math.max(minCurrentCL, demand.smoothed);
    classes.push({ lowerBound: minCurrentCL, upperBound: limits.maxCL, target });
    targets.push(target);
    minCLSum += limits.minCL;
    minCurrentCLSum += minCurrentCL;
  }

  let allocations: number[] | undefined;
  let shareFraction = 0;
  let fairFraction = 0;
  if (remainingServerCL <= minCLSum) {
    // The exempt level used so much that the others get only their lower limits.
  } else if (remainingServerCL <= minCurrentCLSum) {
    // Between the lower limits and what the levels used: each gets the same fraction of that gap.
    shareFraction = (remainingServerCL - minCLSum) / (minCurrentCLSum - minCLSum);
  } else {
    try {
      const solved = computeConcurrencyAllocation(nominalCLSum, classes);
      allocations = solved.allocations;
      fairFraction = solved.fairProportion;
    } catch {
      // Upstream's backstop: keep the current limits.
      allocations = levels.filter((level) => !level.exempt).map((level) => level.currentCL);
    }
  }

  let nonExemptIndex = 0;
  const currentCLs = levels.map((level, index) => {
    if (level.exempt) return minCurrentCLs[index];
    const classIndex = nonExemptIndex++;
    if (remainingServerCL <= minCLSum) return level.limits.minCL;
    if (remainingServerCL <= minCurrentCLSum) return level.limits.minCL + Math.round((minCurrentCLs[index] - level.limits.minCL) * shareFraction);
    return Math.round(allocations![classIndex]);
  });
  return { currentCLs, fairFraction, targets };
}
