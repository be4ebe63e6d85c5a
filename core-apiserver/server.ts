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
import { computedResourceStores, corePriorities, coreResources } from './resources/index.js';
import { NamespaceController, ensureBootstrapNamespaces } from './controllers/namespace-lifecycle.js';
import { registerBuiltinAdmission } from './admission/index.js';
import { readAdmissionConfiguration } from './admission/admission-configuration.js';
import { DefaultServiceAccountController } from './controllers/default-service-account.js';
import { NodeLifecycleController } from './controllers/node-lifecycle.js';
import { DeploymentController } from './controllers/workloads/deployment.js';
import { REPLICATION_CONTROLLER, ReplicaSetController } from './controllers/workloads/replica-set.js';
import { DisruptionController } from './controllers/workloads/disruption.js';
import { DaemonSetController } from './controllers/workloads/daemon-set.js';
import { StatefulSetController } from './controllers/workloads/stateful-set.js';
import { RBAC_RESOURCES, RbacIndex } from '../apiserver/authorization/rbac-index.js';
import { AUTHORIZATION_MODE_FLAG, authorizationFromFlags } from '../apiserver/authorization/modes.js';
import { EscalationCheck } from './rbac/escalation.js';
import { PolicyBasedStore } from './rbac/policy-based-store.js';
import { feedIndexFromStores } from './rbac/local-index.js';
import { reconcileBootstrapPolicy, type RbacStores } from './rbac/reconcile.js';
import { ClusterRoleAggregationController } from './rbac/aggregation-controller.js';
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
import { ALWAYS_LEADING, whileLeading } from '../apiserver/server/leader-election.js';
import { mutatingWebhookPlugin, validatingWebhookPlugin } from '../apiserver/admission/webhooks/plugins.js';
import { localKindSources, storeSource } from '../apiserver/admission/sources.js';
import { validatingAdmissionPolicyPlugin } from '../apiserver/admission/policy/validating-policy.js';
import { lookupServiceResolver } from '../apiextensions/conversion/service-resolver.js';
import { inProcessServiceLookups } from '../aggregator/service-lookups.js';
import { FlowControlBootstrap } from './flowcontrol-bootstrap.js';
import { watchCacheSource } from '../apiserver/flowcontrol/sources.js';
import { KUBELET_FLAGS, KubeletClient, withConnectSubresources } from './connect/index.js';

export const CORE_FLAGS: FlagSpec[] = [
  ...SERVICE_FLAGS,
  ...KUBELET_FLAGS,
  ...AUTHENTICATION_FLAGS,
  AUTHORIZATION_MODE_FLAG,
  {
    name: 'namespace-controller',
    type: 'boolean',
    default: true,
    description: 'Finalize terminating namespaces here (only this server\'s resources). Behind an aggregator, turn it off: the aggregator finalizes across every API.',
  },
  {
    name: 'workload-controllers',
    type: 'boolean',
    default: true,
    description: 'Run the Deployment, ReplicaSet, ReplicationController, DaemonSet, StatefulSet and disruption controllers (kube-controller-manager\'s) here: Deployments create ReplicaSets, ReplicaSets, ReplicationControllers, DaemonSets and StatefulSets create pods, PodDisruptionBudgets get their status.',
  },
  { name: 'node-monitor-grace-period', type: 'number', default: 40, description: 'Seconds without a node Lease renewal (or status heartbeat) before its conditions become Unknown.' },
  { name: 'admission-control-config-file', type: 'string', description: 'File with admission control configuration (an apiserver.config.k8s.io/v1 AdmissionConfiguration; PodSecurity takes its defaults and exemptions from it).' },
];

export interface CoreApiServer {
  start(): Promise<void>;
  stop(): void;
  store(plural: string): GenericStore;
  /** The RBAC objects as the authorizer sees them (shared with an aggregator in the same process). */
  rbacIndex: RbacIndex;
}

export function createCoreApiServer(generic: GenericServer, values: FlagValues): CoreApiServer {
  const { server, storage } = generic;
  const definitions = builtinSchemas();
  server.openapi.definitions = definitions;
  server.openapi.strategicMerge = () => true;
  for (const [groupVersion, priority] of Object.entries(corePriorities)) server.discovery.priorities.set(groupVersion, priority);
  const allocators = serviceAllocatorsFromFlags(values, storage);
  // Authorization from this server's own RBAC objects, evaluated in memory (index fed by the watch caches).
  const rbacIndex = new RbacIndex();
  const authorization = authorizationFromFlags(values, rbacIndex);
  server.options.authorizer = authorization.authorizer;
  const escalation = new EscalationCheck({ index: rbacIndex, authorizer: authorization.authorizer });
  const rbacPlurals = new Set<string>(RBAC_RESOURCES);

  const stores = new Map<string, GenericStore>();
  let namespaceStore: GenericStore | undefined;
  // ServiceAccount tokens: issued by serviceaccounts/token, verified against this server's own caches.
  const tokens = serviceAccountTokenOptions(values);
  const withTokens = (declared: ResourceDefinition): ResourceDefinition =>
    declared.plural === 'serviceaccounts' && tokens ? { ...declared, subresources: { ...declared.subresources, token: tokenSubresource(tokens, (plural) => stores.get(plural)!) } } : declared;
  configureBuiltInAuthentication(server.options.authentication, values, storeObjects((plural) => stores.get(plural)));
  // Logs, exec, attach, port-forward and nodes/proxy reach kubelets with the kubelet client certificate.
  const kubelet = KubeletClient.fromFlags(values);
  for (const declared of coreResources) {
    const definition = withConnectSubresources(withTokens(declared), kubelet);
    const schema = definition.schemaName ? definitions[definition.schemaName] : definition.schema;
    const hooks = { structuralCheck: structuralCheckFor(schema, definitions), admission: server.admission };
    const patchMeta = schemaPatchMeta(schema, definitions);
    // Services allocate cluster IPs and node ports around the generic store.
    // RBAC kinds check privilege escalation around the generic store.
    const custom =
      definition.plural === 'services'
        ? new ServiceStore(definition, storage, allocators, hooks, (plural) => stores.get(plural))
        : rbacPlurals.has(definition.plural)
          ? new PolicyBasedStore(definition, storage, hooks, escalation)
          : undefined;
    const store = server.addResource({ definition, storage, hooks, patchMeta, entry: custom && { store: custom, patchMeta } }) ?? custom!;
    stores.set(definition.plural, store);
    if (definition.plural === 'namespaces') namespaceStore = store;
  }
  // Reviews answer with this server's own authorizer (kubectl auth can-i / can-i --list / whoami).
  for (const { definition, review } of reviewsFor(authorization.authorizer, authorization.rules, (token, audiences) => reviewToken(server.options.authentication, token, audiences))) {
    server.addResource({ definition, storage, entry: { store: new ReviewStore(definition, review) } });
  }
  // Kinds that are never stored (bindings, componentstatuses) bring their own stores.
  const components = { storage, values, leadership: generic.leadership, leaseName: server.options.name };
  for (const store of computedResourceStores({ store: (plural) => stores.get(plural)!, admission: server.admission, components })) {
    server.addResource({ definition: store.resource, storage, entry: { store } });
  }
  const admissionConfigFile = stringFlag(values, 'admission-control-config-file');
  const admissionConfig = admissionConfigFile ? readAdmissionConfiguration(admissionConfigFile) : {};
  const admission = registerBuiltinAdmission(server.admission, (plural) => stores.get(plural)!, () => [...stores.values()], admissionConfig);
  // Dynamic admission, in upstream's plugin order: mutating webhooks, ValidatingAdmissionPolicy, validating
  // webhooks, reading their configurations, namespaces, Services and Endpoints from this server's own caches.
  const admissionSources = {
    namespaces: storeSource(namespaceStore!),
    resolver: lookupServiceResolver(() => inProcessServiceLookups(stores.get('services')!, stores.get('endpoints')!)),
    // CEL's `authorizer` asks this server's own authorizer.
    authorizer: () => server.options.authorizer,
  };
  server.admission.register(mutatingWebhookPlugin({ ...admissionSources, configurations: storeSource(stores.get('mutatingwebhookconfigurations')!) }));
  server.admission.register(validatingAdmissionPolicyPlugin({
    policies: storeSource(stores.get('validatingadmissionpolicies')!),
    bindings: storeSource(stores.get('validatingadmissionpolicybindings')!),
    namespaces: admissionSources.namespaces,
    // Params are objects of the kinds served here (ConfigMaps and the like), from their watch caches.
    params: localKindSources(server),
    authorizer: admissionSources.authorizer,
  }));
  server.admission.register(validatingWebhookPlugin({ ...admissionSources, configurations: storeSource(stores.get('validatingwebhookconfigurations')!) }));
  admission.registerResourceQuota();
  const clientCaFile = stringFlag(values, 'client-ca-file');
  // API Priority and Fairness: the bootstrap objects are kept by the leader; every replica classifies by its own caches.
  const flowControlBootstrap = new FlowControlBootstrap(stores.get('flowschemas')!, stores.get('prioritylevelconfigurations')!);
  server.options.flowControl?.useSource(watchCacheSource(stores.get('flowschemas')!, stores.get('prioritylevelconfigurations')!));
  const rbacStores = Object.fromEntries([...rbacPlurals].map((plural) => [plural, stores.get(plural)!])) as RbacStores;
  let rbacFeed: { stop(): void } | undefined;
  // Controllers that must act once run only on the replica holding the Lease (always, without --leader-elect).
  let controllers: { started: Promise<void>; stop(): void } | undefined;
  const startControllers = async () => {
    const serviceAccounts = new DefaultServiceAccountController(namespaceStore!, stores.get('serviceaccounts')!);
    const controller = values['namespace-controller'] === false ? undefined : new NamespaceController(namespaceStore!, () => [...stores.values()]);
    const nodeLifecycle = new NodeLifecycleController(stores.get('nodes')!, stores.get('leases')!, (numberFlag(values, 'node-monitor-grace-period') ?? 40) * 1000);
    const legacyTokens = tokens && new LegacyTokenController(stores.get('secrets')!, stores.get('serviceaccounts')!, tokens.issuer, clientCaFile ? readFileSync(clientCaFile, 'utf8') : '');
    const aggregation = new ClusterRoleAggregationController(rbacStores.clusterroles);
    // kube-controller-manager's Deployment, ReplicaSet, ReplicationController, DaemonSet, StatefulSet and disruption (PodDisruptionBudget status) controllers (--workload-controllers=false turns them off).
    const workloads = values['workload-controllers'] === false
      ? []
      : [
          new ReplicaSetController(stores.get('replicasets')!, stores.get('pods')!),
          new ReplicaSetController(stores.get('replicationcontrollers')!, stores.get('pods')!, REPLICATION_CONTROLLER),
          new DeploymentController(stores.get('deployments')!, stores.get('replicasets')!),
          new DaemonSetController({ daemonSets: stores.get('daemonsets')!, pods: stores.get('pods')!, nodes: stores.get('nodes')!, revisions: stores.get('controllerrevisions')! }),
          new StatefulSetController({ statefulSets: stores.get('statefulsets')!, pods: stores.get('pods')!, claims: stores.get('persistentvolumeclaims')!, revisions: stores.get('controllerrevisions')! }),
          new DisruptionController({
            podDisruptionBudgets: stores.get('poddisruptionbudgets')!,
            pods: stores.get('pods')!,
            replicaSets: stores.get('replicasets')!,
            deployments: stores.get('deployments')!,
            statefulSets: stores.get('statefulsets')!,
            replicationControllers: stores.get('replicationcontrollers')!,
          }),
        ];
    await aggregation.start();
    for (const workload of workloads) await workload.start();
    await controller?.start();
    await serviceAccounts.start();
    await nodeLifecycle.start();
    await legacyTokens?.start();
    await admission.quotaController.start();
    await flowControlBootstrap.start();
    return () => {
      flowControlBootstrap.stop();
      admission.quotaController.stop();
      aggregation.stop();
      for (const workload of workloads) workload.stop();
      controller?.stop();
      serviceAccounts.stop();
      nodeLifecycle.stop();
      legacyTokens?.stop();
    };
  };

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
    rbacIndex,
    store(plural) {
      const store = stores.get(plural);
      if (!store) throw new Error(`core-apiserver serves no ${plural}`);
      return store;
    },
    async start() {
      await server.startCaches();
      await ensureBootstrapNamespaces(namespaceStore!);
      rbacFeed = feedIndexFromStores(rbacIndex, rbacStores);
      await reconcileBootstrapPolicy(rbacStores);
      await repairAllocations(stores.get('services')!, allocators);
      await ensureKubernetesService((plural) => stores.get(plural), allocators.clusterIps.firstAddress(), kubernetesEndpointFromFlags(values));
      await publishAuthenticationConfig(stores.get('configmaps')!);
      const endpoint = kubernetesEndpointFromFlags(values);
      const discoveryRoute = tokens && (await openIdDiscoveryRoute(tokens, `${endpoint.address}:${endpoint.port}`));
      if (discoveryRoute) server.addRoute(discoveryRoute);
      controllers = whileLeading(generic.leadership ?? ALWAYS_LEADING, startControllers);
      await controllers.started;
    },
    stop: () => {
      rbacFeed?.stop();
      controllers?.stop();
      server.options.flowControl?.stop();
    },
  };
}
