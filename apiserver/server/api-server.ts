// An API server built from options and resource declarations, the same for every server of the chain.
// `pipeline` is the filter chain, in order: panic recovery → request info → authentication →
// impersonation → in-flight limit or priority and fairness → authorization → timeout → routing (health,
// version, discovery, OpenAPI, resources, then the Koa app for extension routes).

import https from 'node:https';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import Koa from 'koa';
import type { Storage } from '../storage/interface.js';
import type { RequestInfo } from '../request/request-info.js';
import { isLongRunning, parseRequestInfo, READ_ONLY_VERBS } from '../request/request-info.js';
import { pathNotFound, StatusError, timeout, toStatusError } from '../request/status.js';
import { writeJson, writeStatusError, setWarnings } from '../request/response.js';
import { negotiatedPlainFormat } from '../request/negotiation.js';
import type { UserInfo } from '../registry/object.js';
import type { ResourceDefinition } from '../registry/resource.js';
import type { StoreHooks } from '../registry/store.js';
import { GenericStore } from '../registry/store.js';
import type { ResourceEntry } from '../handlers/resource-handler.js';
import { handleResourceRequest } from '../handlers/resource-handler.js';
import { connectSubresourceOf, serveConnect } from '../handlers/connect.js';
import type { WatchRegistry } from '../handlers/watch.js';
import type { AuthenticationConfig } from '../filters/authenticate.js';
import { authenticate, isFrontProxy } from '../filters/authenticate.js';
import type { Authorizer } from '../filters/authorize.js';
import { authorize, bootstrapAuthorizer } from '../filters/authorize.js';
import { impersonate } from '../filters/impersonate.js';
import { InFlightLimiter } from '../filters/in-flight.js';
import type { FlowControl } from '../flowcontrol/controller.js';
import { serveDumpPriorityLevels } from '../flowcontrol/debug.js';
import { withTimeout } from '../filters/timeout.js';
import { HealthChecks, serveHealth } from './health.js';
import { versionInfo } from './version.js';
import { DiscoveryEndpoints } from './discovery-endpoints.js';
import { aggregatedResources } from '../discovery/documents.js';
import { OpenApiEndpoints } from './openapi-endpoints.js';
import type { PatchMeta } from '../registry/strategic-merge.js';
import type { AuditConfig } from '../audit/request-audit.js';
import { RequestAudit } from '../audit/request-audit.js';
import { serveMetrics } from '../metrics/endpoint.js';
import { recordRequest, requestLabels, trackInflight, trackLongRunning } from '../metrics/request-metrics.js';
import { registerStorageType, trackStorageObjects } from '../metrics/storage-objects.js';
import { AdmissionChain } from '../admission/interface.js';

export interface ServingOptions {
  bindAddress: string;
  port: number;
  cert: string;
  key: string;
  /** CA bundle(s) used to request client certificates (client CA and requestheader CA). */
  clientCaPems: string[];
}

export interface ApiServerOptions {
  name: string;
  serving?: ServingOptions;
  authentication: AuthenticationConfig;
  authorizer?: Authorizer;
  maxRequestsInflight?: number;
  maxMutatingRequestsInflight?: number;
  /** API Priority and Fairness: replaces the in-flight limits when set (--enable-priority-and-fairness). */
  flowControl?: FlowControl;
  requestTimeoutMs?: number;
  maxBodyBytes?: number;
  versionMinor?: string;
  /** Address advertised in /api serverAddressByClientCIDRs. */
  advertiseAddress?: string;
  /** Audit policy and backend (--audit-policy-file, --audit-log-path); none: nothing is audited. */
  audit?: AuditConfig;
}

export interface RequestState {
  info: RequestInfo;
  query: URLSearchParams;
  user: UserInfo;
  warnings: string[];
  /** The request's audit ID (also the Audit-Id response header and the header sent to backends). */
  auditID: string;
  /** Annotations for this request's audit events (authorization's decision; admission adds its own). */
  auditAnnotations: Record<string, string>;
}

export interface ResourceRegistration {
  definition: ResourceDefinition;
  storage: Storage;
  hooks?: StoreHooks;
  patchMeta?: PatchMeta;
  /** A fully custom entry (e.g. read-only aggregated APIs); bypasses the generic store. */
  entry?: ResourceEntry;
}

/** A handler for paths the server owns beyond resources (e.g. the aggregator's proxy), tried before 404. */
export type ExtraRoute = (req: IncomingMessage, res: ServerResponse, state: RequestState) => Promise<boolean>;

const REQUEST_STATE = Symbol('request state');

export class ApiServer {
  /**
   * Koa hosts the non-API routes an extension server adds (`server.app.use(...)`, e.g. a /metrics
   * endpoint). API requests do not go through it: a Koa context costs 25-50 µs per request, measured at
   * about 8 % of a proxied GET, and the filter chain below is explicit in `pipeline` instead.
   */
  readonly app = new Koa<RequestState>();
  readonly health = new HealthChecks();
  readonly discovery: DiscoveryEndpoints;
  readonly openapi: OpenApiEndpoints;
  /** Every write of every resource registered here passes this chain; components register their plugins in it. */
  readonly admission = new AdmissionChain();
  private readonly entries = new Map<string, ResourceEntry>(); // "group/version/plural"
  private readonly limiter: InFlightLimiter;
  private readonly watches = new Set<() => void>();
  private readonly routes: ExtraRoute[] = [];
  private readonly prefilters: ExtraRoute[] = [];
  private server: https.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private inFlight = 0;
  /** Long-running requests (watches, also when proxied elsewhere): ended on shutdown, not waited for. */
  private readonly longRunning = new Set<ServerResponse>();
  private shuttingDown = false;
  readonly watchRegistry: WatchRegistry = {
    add: (end) => {
      this.watches.add(end);
      return () => this.watches.delete(end);
    },
  };

  constructor(readonly options: ApiServerOptions) {
    this.limiter = new InFlightLimiter(options.maxRequestsInflight ?? 400, options.maxMutatingRequestsInflight ?? 200);
    this.discovery = new DiscoveryEndpoints(() => this.options.advertiseAddress ?? `127.0.0.1:${this.port}`);
    this.openapi = new OpenApiEndpoints();
    this.app.silent = true;
    // The outermost Koa middleware: carries our request state in, and answers what no route took with a
    // NotFound Status rather than Koa's text.
    this.app.use(async (ctx, next) => {
      ctx.state = (ctx.req as IncomingMessage & { [REQUEST_STATE]?: RequestState })[REQUEST_STATE] ?? ctx.state;
      await next();
      if (ctx.body === undefined && ctx.status === 404) {
        const status = pathNotFound();
        ctx.status = status.code;
        ctx.type = 'application/json';
        ctx.body = JSON.stringify(status.toStatus());
      }
    });
    this.health.add('shutdown', () => {
      if (this.shuttingDown) throw new Error('the server is shutting down');
    }, ['readyz']);
  }

  get port(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : this.options.serving?.port ?? 0;
  }

  /** Registers a resource; returns its store (undefined for custom entries). */
  addResource(registration: ResourceRegistration): GenericStore | undefined {
    const definition = registration.definition;
    const entry = registration.entry ?? { store: new GenericStore(definition, registration.storage, { admission: this.admission, ...registration.hooks }), patchMeta: registration.patchMeta };
    this.entries.set(`${definition.group}/${definition.version}/${definition.plural}`, entry);
    if (!registration.entry) {
      const groupResource = definition.group ? `${definition.plural}.${definition.group}` : definition.plural;
      registerStorageType(definition.storagePrefix, groupResource);
      trackStorageObjects(groupResource, () => entry.store.cache.size);
    }
    this.discovery.add(definition);
    this.openapi.invalidate(definition.group, definition.version);
    this.notifyDiscoveryChange();
    return registration.entry ? undefined : entry.store;
  }

  removeResource(group: string, version: string, plural: string): void {
    const entry = this.entries.get(`${group}/${version}/${plural}`);
    if (!entry) return;
    entry.store.cache.stop();
    this.entries.delete(`${group}/${version}/${plural}`);
    this.discovery.remove(group, version, plural);
    this.openapi.invalidate(group, version);
    this.notifyDiscoveryChange();
  }

  private readonly discoveryListeners = new Set<() => void>();

  /** Called after resources come or go (an in-process aggregator refreshes at once instead of polling). */
  onDiscoveryChange(listener: () => void): () => void {
    this.discoveryListeners.add(listener);
    return () => this.discoveryListeners.delete(listener);
  }

  private notifyDiscoveryChange(): void {
    for (const listener of this.discoveryListeners) listener();
  }

  resourceEntry(group: string, version: string, plural: string): ResourceEntry | undefined {
    return this.entries.get(`${group}/${version}/${plural}`);
  }

  /** Routes tried after built-in non-resource paths and before 404. */
  addRoute(route: ExtraRoute): void {
    this.routes.push(route);
  }

  /** Routes tried first for every authorized request (the aggregator's proxy to remote APIServices). */
  addPrefilterRoute(route: ExtraRoute): void {
    this.prefilters.push(route);
  }

  /** Starts every watch cache (so the first request does not pay for it). */
  async startCaches(): Promise<void> {
    await Promise.all([...this.entries.values()].map((entry) => entry.store.cache.start()));
  }

  /** What an in-process aggregator needs to know of this server: its aggregated discovery and OpenAPI index. */
  discoverySnapshot(): { groups: { name: string; versions: { version: string; resources: Record<string, unknown>[] }[] }[]; openapiPaths: Record<string, { serverRelativeURL: string }> } {
    const gvs = this.discovery.groupVersions();
    const groups = new Map<string, { version: string; resources: Record<string, unknown>[] }[]>();
    for (const gv of gvs) {
      if (!groups.has(gv.group)) groups.set(gv.group, []);
      groups.get(gv.group)!.push({ version: gv.version, resources: aggregatedResources(gv) });
    }
    return { groups: [...groups.entries()].map(([name, versions]) => ({ name, versions })), openapiPaths: this.openapi.indexPaths(gvs) };
  }

  openapiDocument(key: string): string | undefined {
    return this.openapi.documentBytes(key, this.discovery.groupVersions());
  }

  /**
   * Upgrade requests (exec, attach, port-forward, websockets): authenticated and authorized like any
   * request, then handed to `upgradeHandler` (the aggregator streams them to the backend).
   */
  upgradeHandler: ((req: IncomingMessage, socket: Duplex, head: Buffer, state: RequestState) => Promise<boolean>) | undefined;

  private async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, delegatedUser?: UserInfo): Promise<void> {
    socket.on('error', () => socket.destroy());
    try {
      const url = req.url ?? '/';
      const queryIndex = url.indexOf('?');
      const query = new URLSearchParams(queryIndex < 0 ? '' : url.slice(queryIndex + 1));
      const info = parseRequestInfo(req.method ?? 'GET', queryIndex < 0 ? url : url.slice(0, queryIndex), query);
      const state = { info, query, warnings: [] as string[], auditAnnotations: {} } as RequestState;
      // Backends get the aggregator's audit ID with the rest of the request's headers.
      state.auditID = delegatedUser && typeof req.headers['audit-id'] === 'string' ? req.headers['audit-id'] : this.auditIdOf(req);
      req.headers['audit-id'] = state.auditID;
      if (delegatedUser) {
        state.user = delegatedUser;
      } else {
        state.user = await authenticate(req, this.options.authentication);
        state.user = await impersonate(req, state.user, this.options.authorizer ?? bootstrapAuthorizer);
        await authorize(this.options.authorizer ?? bootstrapAuthorizer, state.user, info);
      }
      if (this.upgradeHandler && (await this.upgradeHandler(req, socket, head, state))) return;
      // Connect subresources (exec, attach, port-forward, proxies) take upgrades themselves.
      const entry = info.isResourceRequest ? this.entries.get(`${info.apiGroup}/${info.apiVersion}/${info.resource}`) : undefined;
      const connect = entry && connectSubresourceOf(entry, info);
      if (entry && connect) {
        await serveConnect({ req, upgrade: { socket, head }, info, query, user: state.user, entry, lookup: (group, version, plural) => this.resourceEntry(group, version, plural) }, connect);
        return;
      }
      throw new StatusError(400, 'BadRequest', `upgrade requests are not supported for ${info.path}`);
    } catch (error) {
      const status = toStatusError(error);
      const body = JSON.stringify(status.toStatus());
      socket.end(`HTTP/1.1 ${status.code} ${status.reason || 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    }
  }

  /** An upgrade request the in-process aggregator already authenticated and authorized. */
  serveUpgradeAuthenticated(req: IncomingMessage, socket: Duplex, head: Buffer, user: UserInfo): Promise<void> {
    return this.handleUpgrade(req, socket, head, user);
  }

  /** The Node request listener. API requests never allocate a Koa context (see `app`). */
  callback(): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => void this.handle(req, res);
  }

  /**
   * In-process delegation (the all-in-one chain): the aggregator already authenticated and authorized
   * the request, so it enters after those filters, as kube-apiserver's delegates do.
   */
  serveAuthenticated(req: IncomingMessage, res: ServerResponse, user: UserInfo): Promise<void> {
    return this.handle(req, res, user);
  }

  /**
   * The audit ID: the one a trusted front proxy (or the in-process aggregator) assigned, so a request has
   * one ID in every server's log, else a new one.
   */
  private auditIdOf(req: IncomingMessage, res?: ServerResponse): string {
    const assigned = res?.getHeader('audit-id');
    if (typeof assigned === 'string') return assigned;
    const incoming = req.headers['audit-id'];
    if (typeof incoming === 'string' && incoming && this.options.authentication.requestHeader && isFrontProxy(req, this.options.authentication)) return incoming;
    return randomUUID();
  }

  private async handle(req: IncomingMessage, res: ServerResponse, delegatedUser?: UserInfo): Promise<void> {
    const state = { warnings: [] as string[], auditAnnotations: {} } as RequestState;
    state.auditID = this.auditIdOf(req, delegatedUser ? res : undefined);
    res.setHeader('Audit-Id', state.auditID);
    // An in-process delegate's request was audited and measured by the aggregator in front of it.
    const audit = this.options.audit && !delegatedUser ? new RequestAudit(this.options.audit, req, res, state.auditID, state.auditAnnotations) : undefined;
    if (!delegatedUser) {
      // Counted when the response is over: a watch's handler returns once the stream is set up.
      const started = process.hrtime.bigint();
      res.once('close', () => {
        if (state.info) recordRequest(requestLabels(req, state.info, state.query), res.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
      });
    }
    this.inFlight++;
    try {
      await this.pipeline(req, res, state, delegatedUser, audit);
    } catch (error) {
      const status = toStatusError(error);
      if (status.code >= 500 && !(error instanceof StatusError)) {
        console.error(`[${this.options.name}] ${req.method} ${req.url}:`, error);
        audit?.panic((error as Error)?.message ?? String(error));
      }
      // Upstream adds Warning headers as they arise, so a request that fails later still carries them.
      setWarnings(res, state.warnings ?? []);
      writeStatusError(res, status, negotiatedPlainFormat(req.headers.accept));
    } finally {
      this.inFlight--;
    }
  }

  /** The authorizer, noting its decision in the request's audit annotations (as upstream's filter). */
  private recordingAuthorizer(state: RequestState): Authorizer {
    const authorizer = this.options.authorizer ?? bootstrapAuthorizer;
    return async (user, info) => {
      const decision = await authorizer(user, info);
      state.auditAnnotations['authorization.k8s.io/decision'] = decision.allowed ? 'allow' : 'forbid';
      state.auditAnnotations['authorization.k8s.io/reason'] = decision.reason ?? '';
      return decision;
    };
  }

  private async pipeline(req: IncomingMessage, res: ServerResponse, state: RequestState, delegatedUser?: UserInfo, audit?: RequestAudit): Promise<void> {
    const url = req.url ?? '/';
    const queryIndex = url.indexOf('?');
    const path = queryIndex < 0 ? url : url.slice(0, queryIndex);
    const query = new URLSearchParams(queryIndex < 0 ? '' : url.slice(queryIndex + 1));
    const info = parseRequestInfo(req.method ?? 'GET', path, query);
    state.info = info;
    state.query = query;
    state.warnings = [];
    state.auditAnnotations ??= {}; // the audit trail holds this object: never replace it
    if (delegatedUser) {
      state.user = delegatedUser;
    } else {
      try {
        state.user = await authenticate(req, this.options.authentication);
      } catch (error) {
        if (toStatusError(error).code === 401) audit?.failedAuthentication(info);
        throw error;
      }
      audit?.start(info, state.user);
      const authenticated = state.user;
      state.user = await impersonate(req, state.user, this.options.authorizer ?? bootstrapAuthorizer);
      if (state.user !== authenticated) audit?.impersonated(state.user);
    }

    const longRunning = isLongRunning(info);
    const release = this.options.flowControl && !delegatedUser ? await this.admitFlow(res, state, longRunning) : longRunning ? undefined : this.limiter.acquire(!READ_ONLY_VERBS.has(info.verb));
    const measured = !delegatedUser;
    const endInflight = measured && !longRunning ? trackInflight(!READ_ONLY_VERBS.has(info.verb)) : undefined;
    if (measured && longRunning) res.once('close', trackLongRunning(requestLabels(req, info, query)));
    try {
      // Upstream authorizes inside the in-flight / priority-and-fairness filter: a flood of forbidden
      // requests is limited too.
      if (!delegatedUser) await authorize(this.recordingAuthorizer(state), state.user, info);
      if (longRunning) {
        this.inFlight--;
        this.longRunning.add(res);
        try {
          return await this.route(req, res, state);
        } finally {
          this.longRunning.delete(res);
          this.inFlight++;
        }
      }
      const work = this.route(req, res, state);
      await withTimeout(work, this.options.requestTimeoutMs ?? 60_000, () => {
        // Upstream's timeout filter words it this way (filters/timeout.ts's timeoutError does not).
        writeStatusError(res, timeout('request did not complete within the allotted timeout'));
      });
    } finally {
      release?.();
      endInflight?.();
    }
  }

  /**
   * API Priority and Fairness for one request. Long-running requests other than watches are not held
   * (upstream); a watch holds its seat only until it starts answering (its initialization).
   */
  private async admitFlow(res: ServerResponse, state: RequestState, longRunning: boolean): Promise<(() => void) | undefined> {
    if (longRunning && state.info.verb !== 'watch') return undefined;
    const admitted = this.options.flowControl!.admit(state.user, state.info, res, state.query);
    const release = typeof admitted === 'function' ? admitted : await admitted;
    if (longRunning) {
      const writeHead = res.writeHead;
      res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
        release();
        return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
      } as typeof res.writeHead;
    }
    return release;
  }

  private async route(req: IncomingMessage, res: ServerResponse, state: RequestState): Promise<void> {
    const { info, query } = state;
    for (const route of this.prefilters) if (await route(req, res, state)) return;
    if (info.isResourceRequest) {
      const entry = this.entries.get(`${info.apiGroup}/${info.apiVersion}/${info.resource}`);
      if (entry) {
        await handleResourceRequest({ req, res, info, query, user: state.user, warnings: state.warnings, auditAnnotations: state.auditAnnotations, entry, watches: this.watchRegistry, maxBodyBytes: this.options.maxBodyBytes ?? 3 * 1024 * 1024, lookup: (group, version, plural) => this.resourceEntry(group, version, plural) });
        return;
      }
    } else if (req.method === 'GET' || req.method === 'HEAD') {
      if (await serveHealth(res, this.health, info.path, query)) return;
      if (info.path === '/metrics') {
        await serveMetrics(res, req.method);
        return;
      }
      if (info.path === '/debug/api_priority_and_fairness/dump_priority_levels' && this.options.flowControl) {
        serveDumpPriorityLevels(res, this.options.flowControl);
        return;
      }
      if (info.path === '/version' || info.path === '/version/') {
        writeJson(res, 200, versionInfo(this.options.versionMinor));
        return;
      }
      if (this.discovery.serve(req, res, info.path)) return;
      if (await this.openapi.serve(req, res, info.path, query, () => this.discovery.groupVersions(), (key) => this.discovery.groupVersionByOpenApiKey(key))) return;
    }
    for (const route of this.routes) if (await route(req, res, state)) return;
    if (!info.isResourceRequest && this.app.middleware.length > 1) {
      // Non-API paths go to the Koa app, where extension servers mount their own routes.
      (req as IncomingMessage & { [REQUEST_STATE]?: RequestState })[REQUEST_STATE] = state;
      await new Promise<void>((resolve) => {
        res.once('close', resolve);
        res.once('finish', resolve);
        // Composed per call: only non-API paths get here, and routes may be added after start.
        this.app.callback()(req, res);
      });
      return;
    }
    setWarnings(res, state.warnings);
    throw pathNotFound();
  }

  async listen(): Promise<void> {
    const serving = this.options.serving;
    if (!serving) throw new Error('no serving options');
    this.server = https.createServer(
      {
        cert: serving.cert,
        key: serving.key,
        ca: serving.clientCaPems.length ? serving.clientCaPems : undefined,
        requestCert: true,
        rejectUnauthorized: false,
        minVersion: 'TLSv1.2',
        keepAliveTimeout: 120_000,
        headersTimeout: 60_000,
        requestTimeout: 0,
      },
      this.callback(),
    );
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.on('tlsClientError', () => undefined);
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.handleUpgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(serving.port, serving.bindAddress, () => resolve());
    });
  }

  /** Graceful stop: refuse new connections, end watches, let in-flight requests finish (bounded). */
  async shutdown(timeoutMs = 60_000): Promise<void> {
    this.shuttingDown = true;
    const closed = this.server ? new Promise<void>((resolve) => this.server!.close(() => resolve())) : Promise.resolve();
    this.server?.closeIdleConnections?.();
    for (const end of [...this.watches]) end();
    // Watches served elsewhere (proxied): end the stream cleanly so clients re-list and re-watch.
    for (const res of [...this.longRunning]) {
      if (res.headersSent) res.end();
      else res.destroy();
    }
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    this.server?.closeAllConnections?.();
    for (const socket of this.sockets) socket.destroy();
    await closed;
    for (const entry of this.entries.values()) entry.store.cache.stop();
    await this.options.audit?.backend.close();
  }
}
