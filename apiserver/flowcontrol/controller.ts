// API Priority and Fairness (upstream's flowcontrol filter and config controller): every request is
// classified by the FlowSchemas to a priority level, which runs it on one of its seats, queues it fairly
// among flows, or answers 429. A level's seats are its share of the server's concurrency limit
// (--max-requests-inflight + --max-mutating-requests-inflight):
// ceil(limit × nominalConcurrencyShares / sum of every level's shares). The exempt level is never held.
// Borrowing between levels (lendablePercent, borrowingLimitPercent) is not done: each level keeps its
// nominal seats.

import type { ServerResponse } from 'node:http';
import type { UserInfo } from '../registry/object.js';
import type { RequestInfo } from '../request/request-info.js';
import { tooManyRequests } from '../request/status.js';
import { MANDATORY_FLOW_SCHEMAS, MANDATORY_PRIORITY_LEVELS } from './bootstrap.js';
import { flowDistinguisher, flowSchemaMatches, inMatchingOrder } from './classify.js';
import { QueueSet, RejectedError } from './queue-set.js';
import { flowHash } from './shuffle-sharding.js';
import type { FlowSchema, PriorityLevelConfiguration } from './types.js';
import { FLOW_SCHEMA_UID_HEADER, PRIORITY_LEVEL_UID_HEADER } from './types.js';

export interface FlowControlOptions {
  /** --max-requests-inflight + --max-mutating-requests-inflight. */
  serverConcurrencyLimit: number;
  /** How long a request may wait in a queue (upstream: a quarter of the request timeout). */
  maxQueueWaitMs: number;
}

interface Level {
  object: PriorityLevelConfiguration;
  /** Undefined for the exempt type. */
  queueSet: QueueSet | undefined;
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

const DEFAULT_SHARES = 30;

function sharesOf(level: PriorityLevelConfiguration): number {
  return level.spec.type === 'Exempt' ? (level.spec.exempt?.nominalConcurrencyShares ?? 0) : (level.spec.limited?.nominalConcurrencyShares ?? DEFAULT_SHARES);
}

export class FlowControl {
  private schemas: FlowSchema[] = [];
  private readonly levels = new Map<string, Level>();
  private source: FlowControlSource | undefined;
  /** Flow hashes by schema and distinguisher: hashing (64-bit FNV in BigInt) costs more than classifying. */
  private readonly hashes = new Map<string, number>();

  constructor(private readonly options: FlowControlOptions) {
    // Until the stored configuration arrives the mandatory objects are in effect, as upstream.
    this.configure([], []);
  }

  /** Follows a source of configuration objects from now on. */
  useSource(source: FlowControlSource): void {
    this.source?.stop();
    this.source = source;
    source.start((flowSchemas, priorityLevels) => this.configure(flowSchemas, priorityLevels));
  }

  stop(): void {
    this.source?.stop();
  }

  /** Applies a configuration; the mandatory objects fill in for any that are missing. */
  configure(flowSchemas: FlowSchema[], priorityLevels: PriorityLevelConfiguration[]): void {
    const levelObjects = new Map(priorityLevels.map((level) => [level.metadata.name, level]));
    for (const mandatory of MANDATORY_PRIORITY_LEVELS) if (!levelObjects.has(mandatory.metadata.name)) levelObjects.set(mandatory.metadata.name, mandatory);
    const schemaObjects = new Map(flowSchemas.map((schema) => [schema.metadata.name, schema]));
    for (const mandatory of MANDATORY_FLOW_SCHEMAS) if (!schemaObjects.has(mandatory.metadata.name)) schemaObjects.set(mandatory.metadata.name, mandatory);

    const totalShares = [...levelObjects.values()].reduce((sum, level) => sum + sharesOf(level), 0);
    for (const [name, object] of levelObjects) {
      const existing = this.levels.get(name);
      if (object.spec.type === 'Exempt') {
        this.levels.set(name, { object, queueSet: undefined });
        continue;
      }
      const limit = Math.max(1, Math.ceil((this.options.serverConcurrencyLimit * sharesOf(object)) / Math.max(1, totalShares)));
      const limitResponse = object.spec.limited?.limitResponse;
      const config = { concurrencyLimit: limit, queuing: limitResponse?.type === 'Queue' ? limitResponse.queuing : undefined, maxWaitMs: this.options.maxQueueWaitMs };
      if (existing?.queueSet) {
        existing.queueSet.reconfigure(config);
        existing.object = object;
      } else {
        this.levels.set(name, { object, queueSet: new QueueSet(config) });
      }
    }
    // Requests already admitted to a removed level finish there; new ones cannot reach it.
    for (const name of [...this.levels.keys()]) if (!levelObjects.has(name)) this.levels.delete(name);
    // A schema whose level does not exist (dangling) matches nothing.
    this.schemas = inMatchingOrder([...schemaObjects.values()].filter((schema) => this.levels.has(schema.spec.priorityLevelConfiguration.name)));
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
   * Classifies the request, names its schema and level in the response headers, and waits for a seat.
   * Returns the release function (synchronously when a seat is free); a full level or queue, or a wait
   * past the limit, is upstream's 429 "Too many requests, please try again later." with Retry-After.
   */
  admit(user: UserInfo, info: RequestInfo, res: ServerResponse): (() => void) | Promise<() => void> {
    const { flowSchema, priorityLevel, distinguisher } = this.classify(user, info);
    // The built-in stand-ins for unstored mandatory objects have no uid: say nothing rather than "" (a
    // backend behind the aggregator would otherwise blank the aggregator's headers when proxied).
    if (flowSchema.metadata.uid) res.setHeader(FLOW_SCHEMA_UID_HEADER, flowSchema.metadata.uid);
    if (priorityLevel.metadata.uid) res.setHeader(PRIORITY_LEVEL_UID_HEADER, priorityLevel.metadata.uid);
    const queueSet = this.levels.get(priorityLevel.metadata.name)?.queueSet;
    if (!queueSet) return () => undefined;
    try {
      const admitted = queueSet.acquire(this.hashOf(flowSchema.metadata.name, distinguisher), (cancel) => res.once('close', cancel));
      if (typeof admitted === 'function') return admitted;
      return admitted.catch((error: unknown) => {
        throw error instanceof RejectedError ? tooManyRequests(1) : error;
      });
    } catch (error) {
      throw error instanceof RejectedError ? tooManyRequests(1) : error;
    }
  }

  private hashOf(flowSchemaName: string, distinguisher: string): number {
    const key = `${flowSchemaName}\u0000${distinguisher}`;
    let hash = this.hashes.get(key);
    if (hash === undefined) {
      if (this.hashes.size >= 10_000) this.hashes.clear();
      hash = flowHash(flowSchemaName, distinguisher);
      this.hashes.set(key, hash);
    }
    return hash;
  }

  /** Seats in use and requests waiting per level (for tests and diagnostics). */
  levelStats(name: string): { executing: number; waiting: number; concurrencyLimit: number } | undefined {
    return this.levels.get(name)?.queueSet?.stats;
  }
}
