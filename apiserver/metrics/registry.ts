// The process's metrics registry, served at /metrics by every server (upstream's legacyregistry: one per
// process, so the all-in-one chain reports once, as kube-apiserver does). Names, labels and buckets are
// upstream's wherever the meaning is the same, so dashboards and alerts written for kube-apiserver work.
//
// Hooks for other parts of the server: the flow-control (`flowControlMetrics`) and admission
// (`admissionMetrics`) metric objects exist here so the code that implements those features only has to
// call them; `auditMetrics` is used by the audit backends.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

// Upstream's request-latency buckets (k8s.io/apiserver/pkg/endpoints/metrics).
const REQUEST_BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];

export const requestMetrics = {
  total: new Counter({
    name: 'apiserver_request_total',
    help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
    labelNames: ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component', 'code'] as const,
    registers: [registry],
  }),
  duration: new Histogram({
    name: 'apiserver_request_duration_seconds',
    help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
    labelNames: ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [registry],
  }),
  inflight: new Gauge({
    name: 'apiserver_current_inflight_requests',
    help: 'Maximal number of currently used inflight request limit of this apiserver per request kind in last second.',
    labelNames: ['request_kind'] as const,
    registers: [registry],
  }),
  longRunning: new Gauge({
    name: 'apiserver_longrunning_requests',
    help: 'Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component. Not all requests are tracked this way.',
    labelNames: ['verb', 'group', 'version', 'resource', 'subresource', 'scope', 'component'] as const,
    registers: [registry],
  }),
  watchEvents: new Counter({
    name: 'apiserver_watch_events_total',
    help: 'Number of events sent in watch clients',
    labelNames: ['group', 'version', 'kind'] as const,
    registers: [registry],
  }),
};
requestMetrics.inflight.set({ request_kind: 'readOnly' }, 0);
requestMetrics.inflight.set({ request_kind: 'mutating' }, 0);

export const storageMetrics = {
  requestDuration: new Histogram({
    name: 'etcd_request_duration_seconds',
    help: 'Etcd request latency in seconds for each operation and object type.',
    labelNames: ['operation', 'type'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [registry],
  }),
  requestErrors: new Counter({
    name: 'etcd_request_errors_total',
    help: 'Etcd failed request counts for each operation and object type.',
    labelNames: ['operation', 'type'] as const,
    registers: [registry],
  }),
};

export const aggregatorMetrics = {
  unavailableApiService: new Gauge({
    name: 'aggregator_unavailable_apiservice',
    help: 'Gauge of APIServices which are marked as unavailable broken down by APIService name.',
    labelNames: ['name'] as const,
    registers: [registry],
  }),
  unavailableApiServiceTotal: new Counter({
    name: 'aggregator_unavailable_apiservice_total',
    help: 'Counter of APIServices which are marked as unavailable broken down by APIService name and reason.',
    labelNames: ['name', 'reason'] as const,
    registers: [registry],
  }),
};

/**
 * Requests by audit level since apiserver_audit_level_total was last read, added to it then: a labelled
 * counter hashes its labels on every increment, which costs more than a request's policy evaluation.
 */
export const auditLevelCounts = new Map<string, number>();

export const auditMetrics = {
  events: new Counter({ name: 'apiserver_audit_event_total', help: 'Counter of audit events generated and sent to the audit backend.', registers: [registry] }),
  errors: new Counter({ name: 'apiserver_audit_error_total', help: 'Counter of audit events that failed to be audited properly. Plugin identifies the plugin affected by the error.', labelNames: ['plugin'] as const, registers: [registry] }),
  rejected: new Counter({ name: 'apiserver_audit_requests_rejected_total', help: 'Counter of apiserver requests rejected due to an error in audit logging backend.', registers: [registry] }),
  levels: new Counter({
    name: 'apiserver_audit_level_total', help: 'Counter of policy levels for audit events (1 per request).', labelNames: ['level'] as const, registers: [registry],
    collect() {
      for (const [level, count] of auditLevelCounts) this.inc({ level }, count);
      auditLevelCounts.clear();
    },
  }),
};

/**
 * A histogram whose series are held by the code that observes them (one object per label set, found
 * once): observing is a bucket search and two additions, where prom-client's observe hashes the labels on
 * every call. Rendered like prom-client's histograms.
 */
export class TalliedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: number[],
  ) {
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** The series of one label set (created on first use; keep it and observe on it). */
  seriesFor(labels: Record<string, string>): HistogramSeries {
    const key = Object.values(labels).join('\u0000');
    let series = this.series.get(key);
    if (!series) {
      series = new HistogramSeries(labels, this.buckets);
      this.series.set(key, series);
    }
    return series;
  }

  reset(): void {
    this.series.clear();
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: { labels: Record<string, string | number>; value: number; metricName: string }[] } {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const series of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((bound, index) => {
        cumulative += series.counts[index];
        values.push({ labels: { ...series.labels, le: bound }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...series.labels, le: '+Inf' }, value: series.count, metricName: `${this.name}_bucket` });
      values.push({ labels: series.labels, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: series.labels, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

export class HistogramSeries {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Record<string, string>,
    private readonly buckets: number[],
  ) {
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const buckets = this.buckets;
    for (let index = 0; index < buckets.length; index++) {
      if (value <= buckets[index]) {
        this.counts[index]++;
        return;
      }
    }
  }
}

/**
 * For API Priority and Fairness. The gauges and counters are filled when /metrics is scraped, from the
 * totals the flow-control code keeps anyway (`onFlowControlCollect`), so the request path pays nothing
 * for them; the histograms are observed per request.
 */
let flowControlCollector: (() => void) | undefined;
let lastFlowControlCollect = 0;
function collectFlowControl(): void {
  // Every metric below calls this on each scrape: refresh once per scrape, not once per metric.
  const now = Date.now();
  if (now - lastFlowControlCollect < 200) return;
  lastFlowControlCollect = now;
  flowControlCollector?.();
}
/** Sets what fills the flow-control gauges and counters at scrape time. */
export function onFlowControlCollect(collector: () => void): void {
  flowControlCollector = collector;
  lastFlowControlCollect = 0;
}
const PL = ['priority_level'] as const;
const PL_FS = ['priority_level', 'flow_schema'] as const;
const collected = { registers: [registry], collect: collectFlowControl };
const FLOWCONTROL_DURATION_BUCKETS = [0, 0.005, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30];
export const flowControlMetrics = {
  currentInqueueRequests: new Gauge({ name: 'apiserver_flowcontrol_current_inqueue_requests', help: 'Number of requests currently pending in queues of the API Priority and Fairness subsystem', labelNames: PL_FS, ...collected }),
  currentInqueueSeats: new Gauge({ name: 'apiserver_flowcontrol_current_inqueue_seats', help: 'Number of seats currently pending in queues of the API Priority and Fairness subsystem', labelNames: PL_FS, ...collected }),
  currentExecutingRequests: new Gauge({ name: 'apiserver_flowcontrol_current_executing_requests', help: 'Number of requests in initial (for a WATCH) or any (for a non-WATCH) execution stage in the API Priority and Fairness subsystem', labelNames: PL_FS, ...collected }),
  currentExecutingSeats: new Gauge({ name: 'apiserver_flowcontrol_current_executing_seats', help: 'Concurrency (number of seats) occupied by the currently executing (initial stage for a WATCH, any stage otherwise) requests in the API Priority and Fairness subsystem', labelNames: PL_FS, ...collected }),
  requestConcurrencyInUse: new Gauge({ name: 'apiserver_flowcontrol_request_concurrency_in_use', help: 'Concurrency (number of seats) occupied by the currently executing (initial stage for a WATCH, any stage otherwise) requests in the API Priority and Fairness subsystem', labelNames: PL_FS, ...collected }),
  dispatchedRequests: new Counter({ name: 'apiserver_flowcontrol_dispatched_requests_total', help: 'Number of requests executed by API Priority and Fairness subsystem', labelNames: PL_FS, ...collected }),
  rejectedRequests: new Counter({ name: 'apiserver_flowcontrol_rejected_requests_total', help: 'Number of requests rejected by API Priority and Fairness subsystem', labelNames: ['priority_level', 'flow_schema', 'reason'] as const, ...collected }),
  requestWaitDuration: new TalliedHistogram('apiserver_flowcontrol_request_wait_duration_seconds', 'Length of time a request spent waiting in its queue', FLOWCONTROL_DURATION_BUCKETS),
  requestExecutionSeconds: new Histogram({ name: 'apiserver_flowcontrol_request_execution_seconds', help: 'Duration of initial stage (for a WATCH) or any (for a non-WATCH) stage of request execution in the API Priority and Fairness subsystem', labelNames: ['priority_level', 'flow_schema', 'type'] as const, buckets: FLOWCONTROL_DURATION_BUCKETS, registers: [registry] }),
  workEstimatedSeats: new TalliedHistogram('apiserver_flowcontrol_work_estimated_seats', 'Number of estimated seats (maximum of initial and final seats) associated with requests in API Priority and Fairness', [1, 2, 4, 10]),
  watchCountSamples: new TalliedHistogram('apiserver_flowcontrol_watch_count_samples', 'count of watchers for mutating requests in API Priority and Fairness', [0, 1, 10, 100, 1000, 10000]),
  requestConcurrencyLimit: new Gauge({ name: 'apiserver_flowcontrol_request_concurrency_limit', help: 'Nominal number of execution seats configured for each priority level', labelNames: PL, ...collected }),
  nominalLimitSeats: new Gauge({ name: 'apiserver_flowcontrol_nominal_limit_seats', help: 'Nominal number of execution seats configured for each priority level', labelNames: PL, ...collected }),
  lowerLimitSeats: new Gauge({ name: 'apiserver_flowcontrol_lower_limit_seats', help: 'Configured lower bound on number of execution seats available to each priority level', labelNames: PL, ...collected }),
  upperLimitSeats: new Gauge({ name: 'apiserver_flowcontrol_upper_limit_seats', help: 'Configured upper bound on number of execution seats available to each priority level', labelNames: PL, ...collected }),
  currentLimitSeats: new Gauge({ name: 'apiserver_flowcontrol_current_limit_seats', help: 'current derived number of execution seats available to each priority level', labelNames: PL, ...collected }),
  demandSeatsHighWatermark: new Gauge({ name: 'apiserver_flowcontrol_demand_seats_high_watermark', help: 'High watermark, over last adjustment period, of demand_seats', labelNames: PL, ...collected }),
  demandSeatsAverage: new Gauge({ name: 'apiserver_flowcontrol_demand_seats_average', help: 'Time-weighted average, over last adjustment period, of demand_seats', labelNames: PL, ...collected }),
  demandSeatsStdev: new Gauge({ name: 'apiserver_flowcontrol_demand_seats_stdev', help: 'Time-weighted standard deviation, over last adjustment period, of demand_seats', labelNames: PL, ...collected }),
  demandSeatsSmoothed: new Gauge({ name: 'apiserver_flowcontrol_demand_seats_smoothed', help: 'Smoothed seat demands', labelNames: PL, ...collected }),
  targetSeats: new Gauge({ name: 'apiserver_flowcontrol_target_seats', help: 'Seat allocation targets', labelNames: PL, ...collected }),
  seatFairFrac: new Gauge({ name: 'apiserver_flowcontrol_seat_fair_frac', help: "Fair fraction of server's concurrency to allocate to each priority level that can use it", ...collected }),
};

// Upstream's admission latency buckets (k8s.io/apiserver/pkg/admission/metrics).
const ADMISSION_BUCKETS = [0.005, 0.025, 0.1, 0.5, 1.0, 2.5];
const WEBHOOK_BUCKETS = [0.005, 0.025, 0.1, 0.5, 1.0, 2.5, 10, 25];

/** For admission: type is "admit" or "validate", operation CREATE/UPDATE/DELETE/CONNECT, rejected "true"/"false". */
export const admissionMetrics = {
  stepDuration: new Histogram({ name: 'apiserver_admission_step_admission_duration_seconds', help: 'Admission sub-step latency histogram in seconds, broken out for each operation and API resource and step type (validate or admit).', labelNames: ['type', 'operation', 'rejected'] as const, buckets: ADMISSION_BUCKETS, registers: [registry] }),
  controllerDuration: new Histogram({ name: 'apiserver_admission_controller_admission_duration_seconds', help: 'Admission controller latency histogram in seconds, identified by name and broken out for each operation and API resource and type (validate or admit).', labelNames: ['name', 'type', 'operation', 'rejected'] as const, buckets: ADMISSION_BUCKETS, registers: [registry] }),
  webhookDuration: new Histogram({ name: 'apiserver_admission_webhook_admission_duration_seconds', help: 'Admission webhook latency histogram in seconds, identified by name and broken out for each operation and API resource and type (validate or admit).', labelNames: ['name', 'type', 'operation', 'rejected'] as const, buckets: WEBHOOK_BUCKETS, registers: [registry] }),
  webhookRejections: new Counter({ name: 'apiserver_admission_webhook_rejection_count', help: 'Admission webhook rejection count, identified by name and broken out for each admission type (validating or admit) and operation. Additional labels specify an error type (calling_webhook_error or apiserver_internal_error if an error occurred; no_error otherwise) and optionally a non-zero rejection code if the webhook rejects the request with an HTTP status code (honored by the apiserver when the code is greater or equal to 400). Codes greater than 600 are truncated to 600, to keep the metrics cardinality bounded.', labelNames: ['name', 'type', 'operation', 'error_type', 'rejection_code'] as const, registers: [registry] }),
};
