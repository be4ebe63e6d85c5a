// API Priority and Fairness metrics (upstream's names and labels). Requests update plain per-(level, flow
// schema) totals; the Prometheus gauges and counters are filled from them when /metrics is scraped. Only
// the servers that have admitted a request report (an all-in-one process runs APF in its front server
// only; its delegates' idle controllers must not report zeros over it).

import { flowControlMetrics, onFlowControlCollect, type HistogramSeries } from '../metrics/registry.js';
import type { QueueSetObserver, RejectReason } from './queue-set.js';

export class FlowTally {
  inqueueRequests = 0;
  inqueueSeats = 0;
  executingRequests = 0;
  executingSeats = 0;
  dispatched = 0;
  readonly rejected = new Map<RejectReason, number>();
  private readonly labels: { priority_level: string; flow_schema: string };
  readonly seats: HistogramSeries;
  readonly watchCounts: HistogramSeries;
  readonly waitedExecuted: HistogramSeries;
  readonly waitedRejected: HistogramSeries;

  constructor(
    readonly priorityLevel: string,
    readonly flowSchema: string,
  ) {
    this.labels = { priority_level: priorityLevel, flow_schema: flowSchema };
    this.seats = flowControlMetrics.workEstimatedSeats.seriesFor(this.labels);
    this.watchCounts = flowControlMetrics.watchCountSamples.seriesFor(this.labels);
    this.waitedExecuted = flowControlMetrics.requestWaitDuration.seriesFor({ ...this.labels, execute: 'true' });
    this.waitedRejected = flowControlMetrics.requestWaitDuration.seriesFor({ ...this.labels, execute: 'false' });
  }

  report(): void {
    const labels = this.labels;
    flowControlMetrics.currentInqueueRequests.inc(labels, this.inqueueRequests);
    flowControlMetrics.currentInqueueSeats.inc(labels, this.inqueueSeats);
    flowControlMetrics.currentExecutingRequests.inc(labels, this.executingRequests);
    flowControlMetrics.currentExecutingSeats.inc(labels, this.executingSeats);
    flowControlMetrics.requestConcurrencyInUse.inc(labels, this.executingSeats);
    flowControlMetrics.dispatchedRequests.inc(labels, this.dispatched);
    for (const [reason, count] of this.rejected) flowControlMetrics.rejectedRequests.inc({ ...labels, reason }, count);
  }
}

export const tallyObserver: QueueSetObserver<FlowTally> = {
  queued(tally, requests, seats) {
    tally.inqueueRequests += requests;
    tally.inqueueSeats += seats;
  },
  executing(tally, requests, seats) {
    tally.executingRequests += requests;
    tally.executingSeats += seats;
  },
  dispatched(tally, waitedMs) {
    tally.dispatched++;
    tally.waitedExecuted.observe(waitedMs / 1000);
  },
  rejected(tally, reason, waitedMs) {
    tally.rejected.set(reason, (tally.rejected.get(reason) ?? 0) + 1);
    tally.waitedRejected.observe(waitedMs / 1000);
  },
};

export interface LevelReport {
  name: string;
  nominalCL: number;
  minCL: number;
  maxCL: number;
  currentCL: number;
  highWatermark: number;
  average: number;
  deviation: number;
  smoothed: number;
  target: number;
}

/** What a flow controller reports at scrape time. */
export interface MetricsSource {
  tallies(): Iterable<FlowTally>;
  levelReports(): LevelReport[];
  fairFraction(): number;
}

const sources = new Set<MetricsSource>();

const GAUGES_AND_COUNTERS = [
  flowControlMetrics.currentInqueueRequests,
  flowControlMetrics.currentInqueueSeats,
  flowControlMetrics.currentExecutingRequests,
  flowControlMetrics.currentExecutingSeats,
  flowControlMetrics.requestConcurrencyInUse,
  flowControlMetrics.dispatchedRequests,
  flowControlMetrics.rejectedRequests,
  flowControlMetrics.requestConcurrencyLimit,
  flowControlMetrics.nominalLimitSeats,
  flowControlMetrics.lowerLimitSeats,
  flowControlMetrics.upperLimitSeats,
  flowControlMetrics.currentLimitSeats,
  flowControlMetrics.demandSeatsHighWatermark,
  flowControlMetrics.demandSeatsAverage,
  flowControlMetrics.demandSeatsStdev,
  flowControlMetrics.demandSeatsSmoothed,
  flowControlMetrics.targetSeats,
  flowControlMetrics.seatFairFrac,
];

onFlowControlCollect(() => {
  for (const metric of GAUGES_AND_COUNTERS) metric.reset();
  for (const source of sources) {
    for (const tally of source.tallies()) tally.report();
    for (const level of source.levelReports()) {
      const labels = { priority_level: level.name };
      flowControlMetrics.requestConcurrencyLimit.inc(labels, level.nominalCL);
      flowControlMetrics.nominalLimitSeats.inc(labels, level.nominalCL);
      flowControlMetrics.lowerLimitSeats.inc(labels, level.minCL);
      flowControlMetrics.upperLimitSeats.inc(labels, level.maxCL);
      flowControlMetrics.currentLimitSeats.inc(labels, level.currentCL);
      flowControlMetrics.demandSeatsHighWatermark.inc(labels, level.highWatermark);
      flowControlMetrics.demandSeatsAverage.inc(labels, level.average);
      flowControlMetrics.demandSeatsStdev.inc(labels, level.deviation);
      flowControlMetrics.demandSeatsSmoothed.inc(labels, level.smoothed);
      flowControlMetrics.targetSeats.inc(labels, level.target);
    }
    flowControlMetrics.seatFairFrac.inc(source.fairFraction());
  }
});

/** Starts reporting a controller's numbers (from its first admitted request on). */
export function reportMetrics(source: MetricsSource): () => void {
  sources.add(source);
  return () => sources.delete(source);
}
