// The aggregator: the front door of the chain. It authenticates and authorizes every request, serves
// merged discovery and OpenAPI, and proxies each request to the backend that serves its group-version.

import { readFileSync } from 'node:fs';
import { GENERIC_FLAGS, createGenericServer, readFlags, runGenericServer } from '../apiserver/server/options.js';
import type { FlagSpec } from '../apiserver/server/flags.js';
import { FlagError, listFlag, stringFlag } from '../apiserver/server/flags.js';
import { pathNotFound } from '../apiserver/request/status.js';
import { backendAgent } from './backend-client.js';
import { Backend } from './backend.js';
import { MergedDiscovery } from './merged-discovery.js';
import { MergedOpenApi } from './merged-openapi.js';
import { MergedOpenApiV2 } from './merged-openapi-v2.js';
import { BackendProxy } from './proxy.js';

const FLAGS: FlagSpec[] = [
  ...GENERIC_FLAGS,
  { name: 'proxy-client-cert-file', type: 'string', description: 'Client certificate (signed by the requestheader CA) the aggregator presents to backends.' },
  { name: 'proxy-client-key-file', type: 'string', description: 'Private key for --proxy-client-cert-file.' },
  { name: 'backend-ca-file', type: 'string', description: 'CA bundle that signed the backends\' serving certificates.' },
  { name: 'backends', type: 'list', default: [], description: 'Backends as name=https://host:port, in delegation order (a group-version served by several goes to the first).' },
];

const values = readFlags(process.argv.slice(2), 'aggregator', 'aggregator is the front door: authentication, authorization, merged discovery and OpenAPI, and routing to backends.', FLAGS);
const proxyCert = stringFlag(values, 'proxy-client-cert-file');
const proxyKey = stringFlag(values, 'proxy-client-key-file');
const backendCa = stringFlag(values, 'backend-ca-file');
if (!proxyCert || !proxyKey || !backendCa) throw new FlagError('--proxy-client-cert-file, --proxy-client-key-file and --backend-ca-file are required');

const generic = createGenericServer('aggregator', values, { requestHeader: undefined, untrustedIdentityHeaders: 'strip' });
const { server } = generic;
const agentTls = { proxyClientCert: readFileSync(proxyCert, 'utf8'), proxyClientKey: readFileSync(proxyKey, 'utf8'), backendCa: readFileSync(backendCa, 'utf8') };

const backends: Backend[] = [];
const discovery = new MergedDiscovery(backends, () => `127.0.0.1:${server.port}`);
const openapi = new MergedOpenApi(backends);
const openapiV2 = new MergedOpenApiV2(openapi);
for (const spec of listFlag(values, 'backends')) {
  const eq = spec.indexOf('=');
  if (eq < 0) throw new FlagError(`--backends entry "${spec}" is not name=url`);
  backends.push(new Backend(spec.slice(0, eq), spec.slice(eq + 1), backendAgent(agentTls), () => {
    discovery.rebuild();
    openapi.rebuild();
  }));
}

server.health.add('backends', () => {
  const notReady = backends.filter((backend) => !backend.ready);
  if (notReady.length) throw new Error(notReady.map((backend) => `${backend.name} not ready (${backend.lastError ?? 'no answer yet'})`).join('; '));
}, ['readyz']);

const proxy = new BackendProxy();
server.addPrefilterRoute(async (req, res, state) => {
  const { info } = state;
  if (info.isResourceRequest) {
    const backend = discovery.backendFor(info.apiGroup, info.apiVersion);
    if (!backend) throw pathNotFound();
    await proxy.forward(req, res, backend, state.user);
    return true;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const path = info.path.replace(/\/+$/, '');
  if (discovery.serve(req, res, path)) return true;
  const groupVersion = /^\/api\/(v1)$/.exec(path) ?? /^\/apis\/([^/]+\/[^/]+)$/.exec(path);
  if (groupVersion) {
    const [group, version] = path.startsWith('/api/') ? ['', groupVersion[1]] : groupVersion[1].split('/');
    const backend = discovery.backendFor(group, version);
    if (!backend) throw pathNotFound();
    await proxy.forward(req, res, backend, state.user);
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
    const backend = openapi.backendFor(path.slice('/openapi/v3/'.length));
    if (!backend) throw pathNotFound();
    await proxy.forward(req, res, backend, state.user);
    return true;
  }
  return false;
});

for (const backend of backends) backend.start();
await runGenericServer(generic, () => {
  for (const backend of backends) backend.stop();
});
