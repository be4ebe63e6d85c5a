// The aggregator: the front door of the chain. It authenticates and authorizes every request, serves
// APIServices from its own storage, registers the backends' group-versions as local APIServices, keeps
// every APIService's Available condition, serves merged discovery and OpenAPI, and proxies each request in
// one hop to the backend process or extension server that serves its group-version.

import { readFileSync } from 'node:fs';
import { GENERIC_FLAGS, createGenericServer, readFlags, runGenericServer } from '../apiserver/server/options.js';
import type { FlagSpec } from '../apiserver/server/flags.js';
import { FlagError, listFlag, stringFlag } from '../apiserver/server/flags.js';
import { pathNotFound } from '../apiserver/request/status.js';
import { builtinSchemas } from '../apiserver/schema/builtin.js';
import { structuralCheckFor } from '../apiserver/schema/structural-check.js';
import { aggregatedResources } from '../apiserver/discovery/documents.js';
import { backendAgent } from './backend-client.js';
import { Backend } from './backend.js';
import { MergedDiscovery } from './merged-discovery.js';
import { MergedOpenApi } from './merged-openapi.js';
import { MergedOpenApiV2 } from './merged-openapi-v2.js';
import { BackendProxy } from './proxy.js';
import { apiServices } from './apiservices.js';
import { Informer } from './informer.js';
import { ApiServiceRouter } from './api-service-router.js';
import { AvailabilityController } from './availability.js';
import { AutoRegistration } from './registration.js';

const FLAGS: FlagSpec[] = [
  ...GENERIC_FLAGS,
  { name: 'proxy-client-cert-file', type: 'string', description: 'Client certificate (signed by the requestheader CA) the aggregator presents to backends and extension servers.' },
  { name: 'proxy-client-key-file', type: 'string', description: 'Private key for --proxy-client-cert-file.' },
  { name: 'backend-ca-file', type: 'string', description: "CA bundle that signed the backend processes' serving certificates." },
  { name: 'backends', type: 'list', default: [], description: 'Backend processes as name=https://host:port, in delegation order (a group-version served by several goes to the first); their group-versions become local APIServices.' },
  { name: 'crd-backend', type: 'string', default: 'apiextensions', description: 'The backend serving CustomResourceDefinitions: its other group-versions are registered as CRD APIServices (automanaged "true").' },
  { name: 'services-backend', type: 'string', default: 'core-apiserver', description: 'The backend serving Services and Endpoints, used to resolve remote APIServices.' },
];

const values = readFlags(process.argv.slice(2), 'aggregator', 'aggregator is the front door: authentication, authorization, APIServices, merged discovery and OpenAPI, and routing to backends.', FLAGS);
const proxyCert = stringFlag(values, 'proxy-client-cert-file');
const proxyKey = stringFlag(values, 'proxy-client-key-file');
const backendCa = stringFlag(values, 'backend-ca-file');
if (!proxyCert || !proxyKey || !backendCa) throw new FlagError('--proxy-client-cert-file, --proxy-client-key-file and --backend-ca-file are required');

const generic = createGenericServer('aggregator', values, { requestHeader: undefined, untrustedIdentityHeaders: 'strip' });
const { server, storage } = generic;
const definitions = builtinSchemas();
server.openapi.definitions = definitions;
const apiServiceStore = server.addResource({ definition: apiServices, storage, hooks: { structuralCheck: structuralCheckFor(definitions[apiServices.schemaName!], definitions) } })!;
const own = new Map([['apiregistration.k8s.io/v1', aggregatedResources({ group: 'apiregistration.k8s.io', version: 'v1', resources: [apiServices] })]]);

const credentials = { cert: readFileSync(proxyCert, 'utf8'), key: readFileSync(proxyKey, 'utf8') };
const agentTls = { proxyClientCert: credentials.cert, proxyClientKey: credentials.key, backendCa: readFileSync(backendCa, 'utf8') };

let refreshQueued = false;
function scheduleRefresh(): void {
  if (refreshQueued) return;
  refreshQueued = true;
  setImmediate(() => {
    refreshQueued = false;
    router.rebuild();
    discovery.rebuild();
    openapi.rebuild();
  });
}

const backends: Backend[] = [];
for (const spec of listFlag(values, 'backends')) {
  const eq = spec.indexOf('=');
  if (eq < 0) throw new FlagError(`--backends entry "${spec}" is not name=url`);
  backends.push(
    new Backend(spec.slice(0, eq), spec.slice(eq + 1), backendAgent(agentTls), () => {
      void registration.sync();
      scheduleRefresh();
    }),
  );
}
const servicesBackend = () => backends.find((backend) => backend.name === stringFlag(values, 'services-backend'));
const services = new Informer(servicesBackend, '/api/v1/services', () => scheduleRefresh());
const endpoints = new Informer(servicesBackend, '/api/v1/endpoints', () => scheduleRefresh());

const router: ApiServiceRouter = new ApiServiceRouter(apiServiceStore, backends, services, endpoints, credentials, () => availability, own);
const availability = new AvailabilityController(
  apiServiceStore,
  (apiService) => {
    const entry = router.entryForApiService(apiService.metadata.name!);
    if (!entry?.remote || !services.synced || !endpoints.synced) return undefined;
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
);
const discovery = new MergedDiscovery(() => router.versions(), () => `127.0.0.1:${server.port}`);
const openapi = new MergedOpenApi(() => router.openapiSources());
const openapiV2 = new MergedOpenApiV2(openapi);
const registration = new AutoRegistration(apiServiceStore, backends, {
  crdBackend: stringFlag(values, 'crd-backend'),
  crdOwnGroup: 'apiextensions.k8s.io',
  own: [{ group: 'apiregistration.k8s.io', version: 'v1' }],
});

server.health.add(
  'backends',
  () => {
    const notReady = backends.filter((backend) => !backend.ready);
    if (notReady.length) throw new Error(notReady.map((backend) => `${backend.name} not ready (${backend.lastError ?? 'no answer yet'})`).join('; '));
  },
  ['readyz'],
);

const proxy = new BackendProxy();
server.addPrefilterRoute(async (req, res, state) => {
  const { info } = state;
  if (info.isResourceRequest) {
    const route = router.route(info.apiGroup, info.apiVersion);
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
    if (!target) return false;
    await proxy.forward(req, res, target, state.user);
    return true;
  }
  return false;
});

await apiServiceStore.cache.start();
apiServiceStore.cache.watch({
  fromRevision: 0,
  prefix: apiServices.storagePrefix,
  filter: () => true,
  onEvent: () => {
    scheduleRefresh();
    setImmediate(() => {
      void availability.checkAll();
      void router.refreshRemoteDiscovery(true).finally(scheduleRefresh);
    });
  },
});
for (const backend of backends) backend.start();
services.start();
endpoints.start();
availability.start();
const periodic = setInterval(() => void router.refreshRemoteDiscovery().then((changed) => changed && scheduleRefresh()), 5000);
periodic.unref();
await runGenericServer(generic, () => {
  clearInterval(periodic);
  availability.stop();
  services.stop();
  endpoints.stop();
  for (const backend of backends) backend.stop();
});
