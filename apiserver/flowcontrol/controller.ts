// API Priority and Fairness (upstream's flowcontrol filter and config controller, 1.29+ semantics): every
// request is classified by the FlowSchemas to a priority level, its work is estimated in seats (see
// work-estimate.ts), and the level runs it on its seats, queues it fairly among flows, or answers 429.
// A level's seats start from its share of the server's concurrency limit (--max-requests-inflight +
// --max-mutating-requests-inflight) and move every 10 s with demand: busy levels borrow what idle ones
// lend (see borrowing.ts). The exempt level is never held; it only counts what it uses, which the others
// then do without.

import type { ServerResponse } from 'node:http';
import type { UserInfo } from '../registry/object.js';
import type { RequestInfo } from '../request/request-info.js';
import { tooManyRequests } from '../request/status.js';
import { MANDATORY_FLOW_SCHEMAS, MANDATORY_PRIORITY_LEVELS } from './bootstrap.js';
import { BORROWING_ADJUSTMENT_PERIOD_MS, allocateCurrentLimits, initialCurrentCL, levelLimits, sharesOf, type LevelLimits } from './borrowing.js';
import { flowDistinguisher, flowSchemaMatches, inMatchingOrder } from './classify.js';
import { FlowTally, reportMetrics, tallyObserver, type LevelReport } from './metrics.js';
import { QueueSet, RejectedError, type QueueSetConfig, type QueueSetStats } from './queue-set.js';
import { SeatDemandIntegrator, SeatDemandStats } from './seat-demand.js';
import { flowHash } from './shuffle-sharding.js';
import type { FlowSchema, PriorityLevelConfiguration } from './types.js';
import { FLOW_SCHEMA_UID_HEADER, PRIORITY_LEVEL_UID_HEADER } from './types.js';
import { WatchTracker } from './watch-tracker.js';
import { DroppedRequests } from './dropped-requests.js';
import { estimateWork, type WorkEstimatorSources } from './work-estimate.js';

const MUTATING_VERBS = new Set(['create', 'update', 'patch', 'delete']);

export interface FlowControlOptions {
  /** --max-requests-inflight + --max-mutating-requests-inflight. */
  serverConcurrencyLimit: number;
  /** How long a request may wait in a queue (upstream: a quarter of the request timeout). */
  maxQueueWaitMs: number;
  /** Objects stored for "resource" or "resource.group" (LIST width); undefined when not stored here. */
  objectCount?: (groupResource: string) => number | undefined;
  /** Milliseconds on a monotonic clock (tests drive their own). */
  now?: () => number;
  /** Re-derive CurrentCL this often (0: only when asked, for tests); default 10 s. */
  borrowingPeriodMs?: number;
}

interface Level {
  object: PriorityLevelConfiguration;
  limits: LevelLimits;
  currentCL: number;
  queueSet: QueueSet<FlowTally>;
  demand: SeatDemandIntegrator;
  demandStats: SeatDemandStats;
  target: number;
  /** Removed from the configuration, still finishing what it admitted. */
  quiescing: boolean;
}

export interface Classification {
  flowSchema: FlowSchema;
  priorityLevel: PriorityLevelConfiguration;
  distinguisher: string;
}

/** A source of FlowSchemas and PriorityLevelConfigurations (watch caches in core, informers elsewhere). */
export interface FlowControlSource {
  start(onChange: (flowSchemas: FlowSchema[], priorityLevels: PriorityLevelConfiguration[]) => void): void;
  stop(): void;
}

export interface LevelState extends QueueSetStats {
  nominalCL: number;
  lendableCL: number;
  borrowingCL: number;
  minCL: number;
  maxCL: number;
  currentCL: number;
  maxSeats: number;
  quiescing: boolean;
}

export class FlowControl {
  private schemas: FlowSchema[] = [];
  private readonly levels = new Map<string, Level>();
  private nominalCLSum = 0;
  private fairFraction = 0;
  private source: FlowControlSource | undefined;
  private readonly tallies = new Map<string, FlowTally>();
  private readonly watches = new WatchTracker();
  private readonly dropped = new DroppedRequests();
  private configuration: [FlowSchema[], PriorityLevelConfiguration[]] = [[], []];
  private readonly timer: NodeJS.Timeout | undefined;
  private stopReporting: (() => void) | undefined;
  private readonly now: () => number;
  private readonly estimatorSources: WorkEstimatorSources;
  /**
   * Per flow schema object: its tally and its flow hashes by distinguisher, found without building a key
   * per request (hashing, 64-bit FNV in BigInt, costs more than classifying).
   */
  private readonly bySchema = new WeakMap<FlowSchema, { tally: FlowTally; hashes: Map<string, number> }>();

  constructor(private readonly options: FlowControlOptions) {
    this.now = options.now ?? performance.now.bind(performance);
    this.estimatorSources = { objectCount: options.objectCount ?? (() => undefined), interestedWatches: (request) => this.watches.interested(request) };
    // Until the stored configuration arrives the mandatory objects are in effect, as upstream.
    this.configure([], []);
    const period = options.borrowingPeriodMs ?? BORROWING_ADJUSTMENT_PERIOD_MS;
    if (period > 0) this.timer = setInterval(() => this.updateBorrowing(), period).unref();
  }

  /** Follows a source of configuration objects from now on. */
  useSource(source: FlowControlSource): void {
    this.source?.stop();
    this.source = source;
    source.start((flowSchemas, priorityLevels) => this.configure(flowSchemas, priorityLevels));
  }

  stop(): void {
    this.source?.stop();
    clearInterval(this.timer);
    this.stopReporting?.();
  }

  /** Applies a configuration; the mandatory objects fill in for any that are missing. */
  configure(flowSchemas: FlowSchema[], priorityLevels: PriorityLevelConfiguration[]): void {
    this.configuration = [flowSchemas, priorityLevels];
    const levelObjects = new Map(priorityLevels.map((level) => [level.metadata.name, level]));
    for (const mandatory of MANDATORY_PRIORITY_LEVELS) if (!levelObjects.has(mandatory.metadata.name)) levelObjects.set(mandatory.metadata.name, mandatory);
    const schemaObjects = new Map(flowSchemas.map((schema) => [schema.metadata.name, schema]));
    for (const mandatory of MANDATORY_FLOW_SCHEMAS) if (!schemaObjects.has(mandatory.metadata.name)) schemaObjects.set(mandatory.metadata.name, mandatory);

    const desired = new Set(levelObjects.keys());
    // A removed level keeps serving what it already admitted (and counts in the shares) until it is idle.
    for (const [name, level] of this.levels) {
      if (levelObjects.has(name)) continue;
      if (level.queueSet.idle) this.levels.delete(name);
      else levelObjects.set(name, level.object);
    }
    const shareSum = [...levelObjects.values()].reduce((sum, level) => sum + sharesOf(level), 0);
    this.nominalCLSum = 0;
    for (const [name, object] of levelObjects) {
      const limits = levelLimits(object, this.options.serverConcurrencyLimit, shareSum);
      this.nominalCLSum += limits.nominalCL;
      const existing = this.levels.get(name);
      if (existing) {
        existing.object = object;
        existing.quiescing = !desired.has(name);
        existing.limits = limits;
        existing.queueSet.reconfigure(this.queueSetConfig(object, existing.currentCL));
        continue;
      }
      const demand = new SeatDemandIntegrator(this.now);
      const currentCL = initialCurrentCL(limits);
      const queueSet = new QueueSet<FlowTally>(this.queueSetConfig(object, currentCL), { now: this.now, observer: tallyObserver, onDemand: (seats, atMs) => demand.set(seats, atMs) });
      this.levels.set(name, { object, limits, currentCL, queueSet, demand, demandStats: new SeatDemandStats(), target: 0, quiescing: false });
    }
    this.updateBorrowing();
    // A schema whose level does not exist (dangling) matches nothing.
    this.schemas = inMatchingOrder([...schemaObjects.values()].filter((schema) => desired.has(schema.spec.priorityLevelConfiguration.name)));
  }

  /** Re-derives every level's CurrentCL from its seat demand since the last time (every 10 s). */
  updateBorrowing(): void {
    // A removed level that has finished its last request goes now (its seats return to the others).
    for (const level of this.levels.values()) if (level.quiescing && level.queueSet.idle) return this.configure(...this.configuration);
    const levels = [...this.levels.values()];
    for (const level of levels) level.demandStats.update(level.demand.reset());
    const outcome = allocateCurrentLimits(
      levels.map((level) => ({ exempt: level.object.spec.type === 'Exempt', limits: level.limits, demand: level.demandStats, currentCL: level.currentCL })),
      this.nominalCLSum,
    );
    this.fairFraction = outcome.fairFraction;
    levels.forEach((level, index) => {
      level.target = outcome.targets[index];
      if (level.currentCL === outcome.currentCLs[index]) return;
      level.currentCL = outcome.currentCLs[index];
      level.queueSet.reconfigure(this.queueSetConfig(level.object, level.currentCL));
    });
  }

  private queueSetConfig(object: PriorityLevelConfiguration, concurrencyLimit: number): QueueSetConfig {
    const limitResponse = object.spec.limited?.limitResponse;
    return { concurrencyLimit, exempt: object.spec.type === 'Exempt', queuing: limitResponse?.type === 'Queue' ? limitResponse.queuing : undefined, maxWaitMs: this.options.maxQueueWaitMs };
  }

  classify(user: UserInfo, info: RequestInfo): Classification {
    const request = { user, info };
    for (const flowSchema of this.schemas) {
      if (!flowSchemaMatches(flowSchema, request)) continue;
      const level = this.levels.get(flowSchema.spec.priorityLevelConfiguration.name)!;
      return { flowSchema, priorityLevel: level.object, distinguisher: flowDistinguisher(flowSchema, request) };
    }
    // Nothing matched (the catch-all schema matches every authenticated or anonymous user): catch-all.
    const catchAll = this.levels.get('catch-all')!;
    return { flowSchema: MANDATORY_FLOW_SCHEMAS[1], priorityLevel: catchAll.object, distinguisher: user.username };
  }

  /**
   * Classifies the request, names its schema and level in the response headers, estimates its seats and
   * waits for them. Returns the release function (synchronously when the seats are free); a full level or
   * queue, or a wait past the limit, is upstream's 429 "Too many requests, please try again later." with
   * a Retry-After that grows while the level keeps dropping requests.
   */
  admit(user: UserInfo, info: RequestInfo, res: ServerResponse, query?: URLSearchParams): (() => void) | Promise<() => void> {
    const { flowSchema, priorityLevel, distinguisher } = this.classify(user, info);
    // The built-in stand-ins for unstored mandatory objects have no uid: say nothing rather than "" (a
    // backend behind the aggregator would otherwise blank the aggregator's headers when proxied).
    if (flowSchema.metadata.uid) res.setHeader(FLOW_SCHEMA_UID_HEADER, flowSchema.metadata.uid);
    if (priorityLevel.metadata.uid) res.setHeader(PRIORITY_LEVEL_UID_HEADER, priorityLevel.metadata.uid);
    const level = this.levels.get(priorityLevel.metadata.name)!;
    let perSchema = this.bySchema.get(flowSchema);
    if (!perSchema || perSchema.tally.priorityLevel !== priorityLevel.metadata.name) {
      perSchema = { tally: this.tallyOf(priorityLevel.metadata.name, flowSchema.metadata.name), hashes: new Map() };
      this.bySchema.set(flowSchema, perSchema);
    }
    const tally = perSchema.tally;
    const estimate = estimateWork(info, query, this.estimatorSources, level.limits.maxSeats);
    tally.seats.observe(Math.max(estimate.initialSeats, estimate.finalSeats));
    if (MUTATING_VERBS.has(info.verb)) tally.watchCounts.observe(this.watches.interested(info));
    const queues = level.object.spec.limited?.limitResponse?.queuing?.queues ?? 0;
    let hash = 0;
    if (queues > 1) {
      const known = perSchema.hashes.get(distinguisher);
      if (known === undefined) {
        if (perSchema.hashes.size >= 10_000) perSchema.hashes.clear();
        hash = flowHash(flowSchema.metadata.name, distinguisher);
        perSchema.hashes.set(distinguisher, hash);
      } else {
        hash = known;
      }
    }
    try {
      const admitted = level.queueSet.acquire(hash, estimate, tally, (cancel) => res.once('close', cancel));
      // An admitted watch counts, until it ends, toward the price of the writes it will see.
      const counted = (release: () => void) => {
        if (info.verb === 'watch') res.once('close', this.watches.register(info, query));
        return release;
      };
      if (typeof admitted === 'function') return counted(admitted);
      return admitted.then(counted, (error: unknown) => {
        throw error instanceof RejectedError ? tooManyRequests(this.dropped.record(level.object.metadata.name)) : error;
      });
    } catch (error) {
      throw error instanceof RejectedError ? tooManyRequests(this.dropped.record(level.object.metadata.name)) : error;
    }
  }

  private tallyOf(levelName: string, schemaName: string): FlowTally {
    const key = `${levelName}\u0000${schemaName}`;
    let tally = this.tallies.get(key);
    if (!tally) {
      tally = new FlowTally(levelName, schemaName);
      this.tallies.set(key, tally);
      this.stopReporting ??= reportMetrics({
        tallies: () => this.tallies.values(),
        levelReports: () => this.levelReports(),
        fairFraction: () => this.fairFraction,
      });
    }
    return tally;
  }

  private levelReports(): LevelReport[] {
    return [...this.levels.entries()].map(([name, level]) => ({
      name,
      nominalCL: level.limits.nominalCL,
      minCL: level.limits.minCL,
      maxCL: level.limits.maxCL,
      currentCL: level.currentCL,
      highWatermark: level.demandStats.highWatermark,
      average: level.demandStats.average,
      deviation: level.demandStats.deviation,
      smoothed: level.demandStats.smoothed,
      target: level.target,
    }));
  }

  /** A level's limits, seats and queue state (tests, diagnostics and the debug dump). */
  levelStats(name: string): LevelState | undefined {
    const level = this.levels.get(name);
    if (!level) return undefined;
    return { ...level.queueSet.stats, ...level.limits, currentCL: level.currentCL, quiescing: level.quiescing };
  }

  levelNames(): string[] {
    return [...this.levels.keys()].sort();
  }
}
