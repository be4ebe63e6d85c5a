// The aggregator: the front door of the chain. It authenticates and authorizes every request, serves
// APIServices from its own storage, registers the backends' group-versions as local APIServices, keeps
// every APIService's Available condition, serves merged discovery and OpenAPI, and proxies each request in
// one hop to the backend (a process over mTLS, or a server in this process) or extension server that
// serves its group-version.

import { pathNotFound } from '../apiserver/request/status.js';
import type { GenericServer } from '../apiserver/server/options.js';
import { builtinSchemas } from '../apiserver/schema/builtin.js';
import { structuralCheckFor } from '../apiserver/schema/structural-check.js';
import { aggregatedResources } from '../apiserver/discovery/documents.js';
import type { BackendTls } from './backend-client.js';
import { backendAgent } from './backend-client.js';
import { Backend } from './backend.js';
import { MergedDiscovery } from './merged-discovery.js';
import { MergedOpenApi } from './merged-openapi.js';
import { MergedOpenApiV2 } from './merged-openapi-v2.js';
import { BackendProxy } from './proxy.js';
import { apiServices } from './apiservices.js';
import { ApiServiceRouter } from './api-service-router.js';
import { AvailabilityController } from './availability.js';
import { AutoRegistration } from './registration.js';
import type { InProcessServer } from './remote-discovery.js';
import type { ObjectLookup } from './remote-endpoint.js';
import { NamespaceFinalizer } from './namespace-finalizer.js';
import { GarbageCollector } from './garbage-collector/collector.js';
import { forwardUpgrade } from './upgrade.js';
import { Informer } from '../apiserver/client/informer.js';
import { RbacIndex } from '../apiserver/authorization/rbac-index.js';
import { authorizationFromFlags } from '../apiserver/authorization/modes.js';
import { informerRbacCache, sharedRbacCache } from './rbac-cache.js';
import { ALWAYS_LEADING, whileLeading } from '../apiserver/server/leader-election.js';

export interface DelegateSpec {
  name: string;
  /** https://host:port of a backend process; omitted for an in-process server. */
  url?: string;
  inProcess?: InProcessServer;
}

/** Where Services and Endpoints are read from (an informer on core-apiserver, or its watch cache in process). */
export interface ServiceLookups {
  services: ObjectLookup & { synced: boolean };
  endpoints: ObjectLookup & { synced: boolean };
  /** Called with a function to run whenever either changes. */
  onChange(listener: () => void): void;
  start(): void;
  stop(): void;
}

export interface AggregatorOptions {
  delegates: DelegateSpec[];
  tls: BackendTls;
  crdBackend?: string;
  lookups: (backends: Backend[]) => ServiceLookups;
  /** Run namespace finalization across every API here (the backends' own controllers are then off). */
  namespaceController?: boolean;
  /** Run the garbage collector across every API here. */
  garbageCollector?: boolean;
  /** Core's RBAC index when core runs in this process; otherwise the RBAC objects are List-Watched from rbacBackend. */
  rbacIndex?: RbacIndex;
  rbacBackend?: string;
}

export interface Aggregator {
  start(): Promise<void>;
  stop(): void;
  backends: Backend[];
}

export function createAggregator(generic: GenericServer, options: AggregatorOptions): Aggregator {
  const { server, storage } = generic;
  const leadership = generic.leadership ?? ALWAYS_LEADING;
  const definitions = builtinSchemas();
  server.openapi.definitions = definitions;
  const apiServiceStore = server.addResource({ definition: apiServices, storage, hooks: { structuralCheck: structuralCheckFor(definitions[apiServices.schemaName!], definitions) } })!;
  const own = new Map([['apiregistration.k8s.io/v1', aggregatedResources({ group: 'apiregistration.k8s.io', version: 'v1', resources: [apiServices] })]]);
  const credentials = { cert: options.tls.proxyClientCert, key: options.tls.proxyClientKey };

  let refreshQueued = false;
  /** APIServices whose watch events arrived since the last refresh: routing re-reads only those. */
  const changedApiServices = new Set<string>();
  /** Bumped on every refresh: the garbage collector re-reads what is served only after one. */
  let generation = 0;
  function scheduleRefresh(apiService?: string): void {
    if (apiService !== undefined) changedApiServices.add(apiService);
    if (refreshQueued) return;
    refreshQueued = true;
    setImmediate(() => {
      refreshQueued = false;
      generation++;
      router.update(changedApiServices);
      changedApiServices.clear();
      discovery.rebuild();
      openapi.rebuild();
    });
  }

  const backends = options.delegates.map(
    (delegate) =>
      new Backend(
        delegate.name,
        delegate.url ?? `in-process://${delegate.name}`,
        backendAgent(options.tls),
        (change) => {
          void registration.sync(change);
          scheduleRefresh();
        },
        delegate.inProcess,
      ),
  );
  const lookups = options.lookups(backends);
  // Every request is authorized here before it is routed, from an in-memory copy of core's RBAC objects.
  const rbacIndex = options.rbacIndex ?? new RbacIndex();
  const authorization = authorizationFromFlags(generic.values, rbacIndex);
  server.options.authorizer = authorization.authorizer;
  const rbacBackend = options.rbacBackend ?? 'core-apiserver';
  const rbac = options.rbacIndex || !authorization.usesRbac ? sharedRbacCache() : informerRbacCache(rbacIndex, () => backends.find((backend) => backend.name === rbacBackend));
  server.health.add(
    'rbac-cache',
    () => {
      if (!rbac.synced) throw new Error('the RBAC objects have not been listed from core yet');
    },
    ['readyz'],
  );
  lookups.onChange(() => scheduleRefresh());
  const self = { name: 'aggregator', url: 'in-process://aggregator', agent: backendAgent(options.tls), target: { protocol: 'https:', host: '127.0.0.1', port: 0 }, inProcess: server };
  const router: ApiServiceRouter = new ApiServiceRouter(apiServiceStore, backends, lookups.services, lookups.endpoints, credentials, () => availability, own, self);
  const availability = new AvailabilityController(
    apiServiceStore,
    (apiService) => {
      const entry = router.entryForApiService(apiService.metadata.name!);
      if (!entry?.remote || !lookups.services.synced || !lookups.endpoints.synced) return undefined;
      return {
        agent: entry.remote.agent,
        resolve: () => {
          const target = router.remoteTarget(entry);
          return 'reason' in target ? { ok: false, reason: target.reason as never, message: target.message } : { ok: true, url: target.url };
        },
      };
    },
    () => {
      // A remote server came back or went away: its discovery is refreshed (or marked stale) at once.
      void router.refreshRemoteDiscovery(true).finally(scheduleRefresh);
    },
    () => leadership.isLeader,
  );
  const discovery = new MergedDiscovery(() => router.versions(), () => `127.0.0.1:${server.port}`);
  const openapi = new MergedOpenApi(() => router.openapiSources());
  const openapiV2 = new MergedOpenApiV2(openapi);
  const registration = new AutoRegistration(apiServiceStore, backends, {
    crdBackend: options.crdBackend,
    crdOwnGroup: 'apiextensions.k8s.io',
    own: [{ group: 'apiregistration.k8s.io', version: 'v1' }],
    isLeader: () => leadership.isLeader,
  });
  leadership.onChange((leading) => leading && void registration.sync());

  server.health.add(
    'backends',
    () => {
      const notReady = backends.filter((backend) => !backend.ready);
      if (notReady.length) throw new Error(notReady.map((backend) => `${backend.name} not ready (${backend.lastError ?? 'no answer yet'})`).join('; '));
    },
    ['readyz'],
  );

  const proxy = new BackendProxy();
  // Upstream's aggregator hands a group-version it has no APIService for down its delegation chain, which ends
  // in apiextensions: a custom resource is served once its CRD is Established, before routing catches up.
  const unclaimed = backends.find((backend) => backend.name === options.crdBackend);
  server.addPrefilterRoute(async (req, res, state) => {
    const { info } = state;
    if (info.isResourceRequest) {
      const route = router.route(info.apiGroup, info.apiVersion) ?? (unclaimed && info.apiGroup ? { kind: 'proxy' as const, target: unclaimed } : undefined);
      if (!route) throw pathNotFound();
      if (route.kind === 'self') return false;
      if (route.kind === 'unavailable') throw route.error;
      await proxy.forward(req, res, route.target, state.user);
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = info.path.replace(/\/+$/, '');
    if (discovery.serve(req, res, path)) return true;
    const groupVersion = /^\/api\/(v1)$/.exec(path) ?? /^\/apis\/([^/]+\/[^/]+)$/.exec(path);
    if (groupVersion) {
      const [group, version] = path.startsWith('/api/') ? ['', groupVersion[1]] : groupVersion[1].split('/');
      const route = router.route(group, version);
      if (!route) throw pathNotFound();
      if (route.kind === 'self') return false;
      if (route.kind === 'unavailable') throw route.error;
      await proxy.forward(req, res, route.target, state.user);
      return true;
    }
    // ServiceAccount issuer discovery is core-apiserver's (upstream: kube-apiserver behind the aggregator).
    if (path === '/.well-known/openid-configuration' || path === '/openid/v1/jwks') {
      const route = router.route('', 'v1');
      if (!route || route.kind !== 'proxy') return false;
      await proxy.forward(req, res, route.target, state.user);
      return true;
    }
    if (path === '/openapi/v2') {
      await openapiV2.serve(req, res);
      return true;
    }
    if (path === '/openapi/v3') {
      openapi.serveIndex(req, res);
      return true;
    }
    if (path.startsWith('/openapi/v3/')) {
      const target = openapi.targetFor(path.slice('/openapi/v3/'.length));
      if (!target || target === self) return false; // our own documents: served by this server
      await proxy.forward(req, res, target, state.user);
      return true;
    }
    return false;
  });

  server.upgradeHandler = async (req, socket, head, state) => {
    const { info } = state;
    const route = info.isResourceRequest ? router.route(info.apiGroup, info.apiVersion) : undefined;
    if (!route) throw pathNotFound();
    if (route.kind === 'unavailable') throw route.error;
    if (route.kind === 'self') return false;
    // A delegate in this process takes the upgrade as it is, with the identity established here.
    const inProcess = route.target.inProcess;
    if (inProcess) {
      if (!inProcess.serveUpgradeAuthenticated) return false;
      await inProcess.serveUpgradeAuthenticated(req, socket, head, state.user);
      return true;
    }
    forwardUpgrade(req, socket, head, route.target, state.user);
    return true;
  };

  // A remote CRD server announces new CRDs through its CRD collection: watching it lets discovery and
  // routing follow within milliseconds instead of the next poll.
  const crdBackend = backends.find((backend) => backend.name === options.crdBackend && !backend.inProcess);
  // Each event names the one group to read again (the backend's whole /apis grows with every CRD): a
  // CRD is named <plural>.<group>, so its metadata is enough.
  const crdWatch = crdBackend
    ? new Informer(
        () => crdBackend,
        '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
        (_type, crd) => {
          const name = crd.metadata?.name ?? '';
          const dot = name.indexOf('.');
          if (dot > 0 && dot < name.length - 1) crdBackend.groupChanged(name.slice(dot + 1));
          else void crdBackend.poll(true);
        },
        true,
      )
    : undefined;
  if (crdWatch) crdBackend!.announcedBy(() => crdWatch.synced && crdWatch.lastError === undefined);

  const namespaces = options.namespaceController === false ? undefined : new NamespaceFinalizer(router);
  const garbageCollector = options.garbageCollector ? new GarbageCollector(router, self, () => generation) : undefined;
  let periodic: NodeJS.Timeout | undefined;
  let finalizing: { stop(): void } | undefined;
  let collecting: { stop(): void } | undefined;
  return {
    backends,
    async start() {
      await apiServiceStore.cache.start();
      apiServiceStore.cache.watch({
        fromRevision: 0,
        prefix: apiServices.storagePrefix,
        filter: () => true,
        onEvent: (_type, apiService) => {
          scheduleRefresh(apiService.name);
          setImmediate(() => {
            void availability.checkOne(apiService.name);
            void router.refreshRemoteDiscovery(true).finally(scheduleRefresh);
          });
        },
      });
      for (const backend of backends) backend.start();
      lookups.start();
      crdWatch?.start();
      rbac.start();
      availability.start();
      finalizing = namespaces && whileLeading(leadership, () => (namespaces.start(), () => namespaces.stop()));
      collecting = garbageCollector && whileLeading(leadership, () => (garbageCollector.start(), () => garbageCollector.stop()));
      periodic = setInterval(() => void router.refreshRemoteDiscovery().then((changed) => changed && scheduleRefresh()), 5000);
      periodic.unref();
    },
    stop() {
      if (periodic) clearInterval(periodic);
      availability.stop();
      finalizing?.stop();
      collecting?.stop();
      lookups.stop();
      crdWatch?.stop();
      rbac.stop();
      for (const backend of backends) backend.stop();
    },
  };
}
