// aggregator process: flags → the aggregator over backend processes reached by mTLS.

import { readFileSync } from 'node:fs';
import { GENERIC_FLAGS, createGenericServer, readFlags, runGenericServer } from '../apiserver/server/options.js';
import type { FlagSpec } from '../apiserver/server/flags.js';
import { FlagError, listFlag, stringFlag } from '../apiserver/server/flags.js';
import { createAggregator } from './aggregator.js';
import { remoteServiceLookups } from './service-lookups.js';
import { AUTHENTICATION_FLAGS, configureBuiltInAuthentication } from '../apiserver/authentication/options.js';
import { informerServiceAccountObjects } from './service-account-objects.js';
import { AUTHORIZATION_MODE_FLAG } from '../apiserver/authorization/modes.js';
import { informerSource } from '../apiserver/flowcontrol/sources.js';

const FLAGS: FlagSpec[] = [
  ...GENERIC_FLAGS,
  ...AUTHENTICATION_FLAGS,
  AUTHORIZATION_MODE_FLAG,
  { name: 'proxy-client-cert-file', type: 'string', description: 'Client certificate (signed by the requestheader CA) the aggregator presents to backends and extension servers.' },
  { name: 'proxy-client-key-file', type: 'string', description: 'Private key for --proxy-client-cert-file.' },
  { name: 'backend-ca-file', type: 'string', description: "CA bundle that signed the backend processes' serving certificates." },
  { name: 'backends', type: 'list', default: [], description: 'Backend processes as name=https://host:port, in delegation order (a group-version served by several goes to the first); their group-versions become local APIServices.' },
  { name: 'crd-backend', type: 'string', default: 'apiextensions', description: 'The backend serving CustomResourceDefinitions: its other group-versions are registered as CRD APIServices (automanaged "true").' },
  { name: 'services-backend', type: 'string', default: 'core-apiserver', description: 'The backend serving Services and Endpoints, used to resolve remote APIServices.' },
  { name: 'garbage-collector', type: 'boolean', default: true, description: 'Collect objects whose owners are gone and carry out foreground and orphan deletion across every API (as kube-controller-manager\'s garbage collector).' },
  { name: 'namespace-controller', type: 'boolean', default: true, description: 'Finalize terminating namespaces across every API (run core-apiserver with --namespace-controller=false then).' },
];

const values = readFlags(process.argv.slice(2), 'aggregator', 'aggregator is the front door: authentication, authorization, APIServices, merged discovery and OpenAPI, and routing to backends.', FLAGS);
const proxyCert = stringFlag(values, 'proxy-client-cert-file');
const proxyKey = stringFlag(values, 'proxy-client-key-file');
const backendCa = stringFlag(values, 'backend-ca-file');
if (!proxyCert || !proxyKey || !backendCa) throw new FlagError('--proxy-client-cert-file, --proxy-client-key-file and --backend-ca-file are required');

const delegates = listFlag(values, 'backends').map((spec) => {
  const eq = spec.indexOf('=');
  if (eq < 0) throw new FlagError(`--backends entry "${spec}" is not name=url`);
  return { name: spec.slice(0, eq), url: spec.slice(eq + 1) };
});
const generic = createGenericServer('aggregator', values, { requestHeader: undefined, untrustedIdentityHeaders: 'strip' });
const aggregator = createAggregator(generic, {
  delegates,
  tls: { proxyClientCert: readFileSync(proxyCert, 'utf8'), proxyClientKey: readFileSync(proxyKey, 'utf8'), backendCa: readFileSync(backendCa, 'utf8') },
  crdBackend: stringFlag(values, 'crd-backend'),
  namespaceController: values['namespace-controller'] !== false,
  garbageCollector: values['garbage-collector'] !== false,
  lookups: (backends) => remoteServiceLookups(() => backends.find((backend) => backend.name === stringFlag(values, 'services-backend'))),
});
// ServiceAccount tokens are checked against core's objects through informers on the services backend.
const serviceAccountObjects = informerServiceAccountObjects(() => aggregator.backends.find((backend) => backend.name === stringFlag(values, 'services-backend')));
configureBuiltInAuthentication(generic.server.options.authentication, values, serviceAccountObjects);
if (listFlag(values, 'service-account-key-file').length) {
  serviceAccountObjects.start();
  // Not ready until ServiceAccount tokens can be checked (before that they would be refused).
  generic.server.health.add('service-account-objects', () => {
    if (!serviceAccountObjects.synced) throw new Error('ServiceAccount, Pod, Secret and Node informers have not synced');
  }, ['readyz']);
}
// API Priority and Fairness at the front door, configured by core's FlowSchemas and priority levels.
generic.server.options.flowControl?.useSource(informerSource(() => aggregator.backends.find((backend) => backend.name === stringFlag(values, 'services-backend'))));
await aggregator.start();
await runGenericServer(generic, () => {
  serviceAccountObjects.stop();
  aggregator.stop();
});
