// core-apiserver: the built-in resources of the Kubernetes API, on the framework. Built as a function so
// the same server runs as its own process (main.ts) or inside the all-in-one chain.

import { readFileSync } from 'node:fs';
import type { GenericServer } from '../apiserver/server/options.js';
import type { FlagSpec, FlagValues } from '../apiserver/server/flags.js';
import { listFlag, numberFlag, stringFlag } from '../apiserver/server/flags.js';
import { builtinSchemas } from '../apiserver/schema/builtin.js';
import { structuralCheckFor } from '../apiserver/schema/structural-check.js';
import { schemaPatchMeta } from '../apiserver/schema/patch-meta.js';
import type { GenericStore } from '../apiserver/registry/store.js';
import { StatusError } from '../apiserver/request/status.js';
import { corePriorities, coreResources } from './resources/index.js';
import { NamespaceController, ensureBootstrapNamespaces, namespaceStateFrom } from './controllers/namespace-lifecycle.js';
import { DefaultServiceAccountController } from './controllers/default-service-account.js';
import { NodeLifecycleController } from './controllers/node-lifecycle.js';
import { bootstrapAuthorizer } from '../apiserver/filters/authorize.js';
import { ReviewStore } from './reviews/review-store.js';
import { reviewsFor } from './reviews/reviews.js';
import { SERVICE_FLAGS, kubernetesEndpointFromFlags, serviceAllocatorsFromFlags } from './allocation/service-support.js';
import { ServiceStore } from './allocation/service-store.js';
import { repairAllocations } from './allocation/repair.js';
import { ensureKubernetesService } from './allocation/kubernetes-service.js';
import { AUTHENTICATION_FLAGS, configureBuiltInAuthentication, serviceAccountTokenOptions } from '../apiserver/authentication/options.js';
import { storeObjects } from '../apiserver/authentication/store-objects.js';
import { reviewToken } from '../apiserver/filters/authenticate.js';
import type { ResourceDefinition } from '../apiserver/registry/resource.js';
import { tokenSubresource } from './serviceaccount-tokens/token-request.js';
import { openIdDiscoveryRoute } from './serviceaccount-tokens/openid-discovery.js';
import { LegacyTokenController } from './serviceaccount-tokens/legacy-token-controller.js';
import { FlowControlBootstrap } from './flowcontrol-bootstrap.js';
import { watchCacheSource } from '../apiserver/flowcontrol/sources.js';

export const CORE_FLAGS: FlagSpec[] = [
  ...SERVICE_FLAGS,
  ...AUTHENTICATION_FLAGS,
  {
    name: 'namespace-controller',
    type: 'boolean',
    default: true,
    description: 'Finalize terminating namespaces here (only this server\'s resources). Behind an aggregator, turn it off: the aggregator finalizes across every API.',
  },
  { name: 'node-monitor-grace-period', type: 'number', default: 40, description: 'Seconds without a node Lease renewal (or status heartbeat) before its conditions become Unknown.' },
];

export interface CoreApiServer {
  start(): Promise<void>;
  stop(): void;
  store(plural: string): GenericStore;
}

export function createCoreApiServer(generic: GenericServer, values: FlagValues): CoreApiServer {
  const { server, storage } = generic;
  const definitions = builtinSchemas();
  server.openapi.definitions = definitions;
  server.openapi.strategicMerge = () => true;
  for (const [groupVersion, priority] of Object.entries(corePriorities)) server.discovery.priorities.set(groupVersion, priority);
  const allocators = serviceAllocatorsFromFlags(values, storage);

  const stores = new Map<string, GenericStore>();
  let namespaceStore: GenericStore | undefined;
  const namespaceState = (namespace: string) => namespaceStateFrom(namespaceStore!)(namespace);
  // ServiceAccount tokens: issued by serviceaccounts/token, verified against this server's own caches.
  const tokens = serviceAccountTokenOptions(values);
  const withTokens = (declared: ResourceDefinition): ResourceDefinition =>
    declared.plural === 'serviceaccounts' && tokens ? { ...declared, subresources: { ...declared.subresources, token: tokenSubresource(tokens, (plural) => stores.get(plural)!) } } : declared;
  configureBuiltInAuthentication(server.options.authentication, values, storeObjects((plural) => stores.get(plural)));
  for (const declared of coreResources) {
    const definition = withTokens(declared);
    const schema = definition.schemaName ? definitions[definition.schemaName] : definition.schema;
    const hooks = { structuralCheck: structuralCheckFor(schema, definitions), namespaceState: definition.namespaced ? namespaceState : undefined };
    const patchMeta = schemaPatchMeta(schema, definitions);
    // Services allocate cluster IPs and node ports around the generic store.
    const custom = definition.plural === 'services' ? new ServiceStore(definition, storage, allocators, hooks, (plural) => stores.get(plural)) : undefined;
    const store = server.addResource({ definition, storage, hooks, patchMeta, entry: custom && { store: custom, patchMeta } }) ?? custom!;
    stores.set(definition.plural, store);
    if (definition.plural === 'namespaces') namespaceStore = store;
  }
  // Reviews answer with this server's own authorizer (kubectl auth can-i / can-i --list / whoami).
  for (const { definition, review } of reviewsFor(bootstrapAuthorizer, (token, audiences) => reviewToken(server.options.authentication, token, audiences))) {
    server.addResource({ definition, storage, entry: { store: new ReviewStore(definition, review) } });
  }
  const serviceAccounts = new DefaultServiceAccountController(namespaceStore!, stores.get('serviceaccounts')!);
  const nodeLifecycle = new NodeLifecycleController(stores.get('nodes')!, stores.get('leases')!, (numberFlag(values, 'node-monitor-grace-period') ?? 40) * 1000);
  const clientCaFile = stringFlag(values, 'client-ca-file');
  const legacyTokens = tokens && new LegacyTokenController(stores.get('secrets')!, stores.get('serviceaccounts')!, tokens.issuer, clientCaFile ? readFileSync(clientCaFile, 'utf8') : '');
  // API Priority and Fairness: the bootstrap objects are kept here, and this server classifies by its own caches.
  const flowControlBootstrap = new FlowControlBootstrap(stores.get('flowschemas')!, stores.get('prioritylevelconfigurations')!);
  server.options.flowControl?.useSource(watchCacheSource(stores.get('flowschemas')!, stores.get('prioritylevelconfigurations')!));
  const controller = values['namespace-controller'] === false ? undefined : new NamespaceController(namespaceStore!, () => [...stores.values()]);

  /**
   * kube-system/extension-apiserver-authentication: how extension servers learn which client CA and which
   * front proxy to trust (upstream keys; lists are JSON arrays in strings).
   */
  async function publishAuthenticationConfig(configMaps: GenericStore): Promise<void> {
    const data: Record<string, string> = {};
    const clientCa = stringFlag(values, 'client-ca-file');
    if (clientCa) data['client-ca-file'] = readFileSync(clientCa, 'utf8');
    const requestHeaderCa = stringFlag(values, 'requestheader-client-ca-file');
    if (requestHeaderCa) {
      data['requestheader-client-ca-file'] = readFileSync(requestHeaderCa, 'utf8');
      data['requestheader-allowed-names'] = JSON.stringify(listFlag(values, 'requestheader-allowed-names'));
      data['requestheader-username-headers'] = JSON.stringify(listFlag(values, 'requestheader-username-headers'));
      data['requestheader-uid-headers'] = JSON.stringify(listFlag(values, 'requestheader-uid-headers'));
      data['requestheader-group-headers'] = JSON.stringify(listFlag(values, 'requestheader-group-headers'));
      data['requestheader-extra-headers-prefix'] = JSON.stringify(listFlag(values, 'requestheader-extra-headers-prefix'));
    }
    const context = { user: { username: 'system:kube-apiserver', groups: ['system:masters'] }, namespace: 'kube-system', warnings: [], dryRun: false, fieldManager: 'kube-apiserver', fieldValidation: 'Ignore' as const };
    const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'extension-apiserver-authentication', namespace: 'kube-system' }, data };
    try {
      await configMaps.create(structuredClone(object), context);
    } catch (error) {
      if (!(error instanceof StatusError && error.code === 409)) throw error;
      await configMaps.guaranteedUpdate('extension-apiserver-authentication', context, '', undefined, (current) => ({ ...current!, data }));
    }
  }

  return {
    store(plural) {
      const store = stores.get(plural);
      if (!store) throw new Error(`core-apiserver serves no ${plural}`);
      return store;
    },
    async start() {
      await server.startCaches();
      await ensureBootstrapNamespaces(namespaceStore!);
      await repairAllocations(stores.get('services')!, allocators);
      await ensureKubernetesService((plural) => stores.get(plural), allocators.clusterIps.firstAddress(), kubernetesEndpointFromFlags(values));
      await publishAuthenticationConfig(stores.get('configmaps')!);
      const endpoint = kubernetesEndpointFromFlags(values);
      const discoveryRoute = tokens && (await openIdDiscoveryRoute(tokens, `${endpoint.address}:${endpoint.port}`));
      if (discoveryRoute) server.addRoute(discoveryRoute);
      await controller?.start();
      await serviceAccounts.start();
      await nodeLifecycle.start();
      await legacyTokens?.start();
      await flowControlBootstrap.start();
    },
    stop: () => {
      controller?.stop();
      serviceAccounts.stop();
      nodeLifecycle.stop();
      legacyTokens?.stop();
      flowControlBootstrap.stop();
      server.options.flowControl?.stop();
    },
  };
}
