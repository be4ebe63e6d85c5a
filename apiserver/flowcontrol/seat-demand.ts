// A priority level's seat demand (seats in use plus seats of waiting requests) over an adjustment period,
// as upstream's Integrator and seatDemandStats: the time-weighted average and standard deviation, the high
// watermark, and a smoothed envelope that rises at once and decays slowly, which borrowing uses as the
// level's target.

/** Upstream's seatDemandSmoothingCoefficient: each period keeps 97.7 % of the old smoothed demand. */
const SMOOTHING = 0.977;

export interface DemandObservation {
  durationSeconds: number;
  average: number;
  deviation: number;
  max: number;
}

export class SeatDemandIntegrator {
  private value = 0;
  private lastMs: number;
  private elapsed = 0;
  private integral = 0;
  private integralOfSquares = 0;
  private max = 0;

  constructor(private readonly now: () => number) {
    this.lastMs = now();
  }

  /** `atMs`: the caller's reading of the same clock, when it has one. */
  set(value: number, atMs?: number): void {
    this.advance(atMs);
    this.value = value;
    if (value > this.max) this.max = value;
  }

  /** The observation since the last reset; a new period starts now at the current value. */
  reset(): DemandObservation {
    this.advance();
    const average = this.elapsed > 0 ? this.integral / this.elapsed : NaN;
    const variance = this.elapsed > 0 ? this.integralOfSquares / this.elapsed - average * average : NaN;
    const observation = { durationSeconds: this.elapsed, average, deviation: Math.sqrt(Math.max(0, variance)), max: this.max };
    this.elapsed = 0;
    this.integral = 0;
    this.integralOfSquares = 0;
    this.max = this.value;
    return observation;
  }

  private advance(atMs?: number): void {
    const now = atMs ?? this.now();
    const seconds = (now - this.lastMs) / 1000;
    this.lastMs = now;
    if (seconds <= 0) return;
    this.elapsed += seconds;
    this.integral += this.value * seconds;
    this.integralOfSquares += this.value * this.value * seconds;
  }
}

export class SeatDemandStats {
  average = 0;
  deviation = 0;
  highWatermark = 0;
  smoothed = 0;

  update(observation: DemandObservation): void {
    this.highWatermark = Math.round(observation.max);
    if (observation.durationSeconds <= 0) return;
    this.average = observation.average;
    this.deviation = Number.isNaN(observation.deviation) ? 0 : observation.deviation;
    const envelope = this.average + this.deviation;
    this.smoothed = Math.max(envelope, SMOOTHING * this.smoothed + (1 - SMOOTHING) * envelope);
  }
}
