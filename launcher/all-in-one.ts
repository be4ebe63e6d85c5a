// The whole chain in one Node process (`npm start -- --all-in-one`, or `startAllInOne()` from a test): the
// same servers and handler code as the separate processes, but the aggregator hands requests to its
// delegates as function calls — no HTTP hop, no second TLS session, the identity passed as a value.

import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import type { FlagValues } from '../apiserver/server/flags.js';
import type { GenericServer } from '../apiserver/server/options.js';
import { GENERIC_FLAGS, createGenericServer } from '../apiserver/server/options.js';
import { watchCacheSource } from '../apiserver/flowcontrol/sources.js';
import { startCompactor } from '../apiserver/storage/compactor.js';
import { EtcdStorage } from '../apiserver/storage/etcd.js';
import { startEtcdCompactionFromFlags } from '../apiserver/storage/etcd-options.js';
import { LeaderElector } from '../apiserver/server/leader-election.js';
import { createAggregator } from '../aggregator/aggregator.js';
import { inProcessServiceLookups } from '../aggregator/service-lookups.js';
import { localKindSources, storeSource } from '../apiserver/admission/sources.js';
import { createApiextensionsServer } from '../apiextensions/server.js';
import { storeQuotaBackend } from '../apiextensions/quota/backends.js';
import type { KubeObject } from '../apiserver/registry/object.js';
import { lookupServiceResolver } from '../apiextensions/conversion/service-resolver.js';
import { createSampleExtension } from '../sample-extension/server.js';
import { createCoreApiServer } from '../core-apiserver/server.js';
import { ensureClientCertificate, ensurePki, type PkiPaths } from './pki.js';
import { writeAdminKubeconfig, writeComponentKubeconfig, writeServerKubeconfig } from './kubeconfig.js';
import { grantMetricsServerAccess, registerNodeAgentAccess } from './register-extension.js';
import { KubeClient } from '../apiserver/client/kube-client.js';
import { startNodeAgent, type RunningNodeAgent } from '../node-agent/agent.js';
import { defaultNodeName } from '../node-agent/host.js';
import { authenticationValues } from './authentication-args.js';
import { configureBuiltInAuthentication } from '../apiserver/authentication/options.js';
import { storeObjects } from '../apiserver/authentication/store-objects.js';

export interface AllInOneOptions {
  dataDir: string;
  /** 0 picks a free port. */
  securePort?: number;
  storageBackend?: 'sqlite' | 'memory';
  /** Run on this etcd instead (every server shares it, with leader election as the launcher's processes). */
  etcdServers?: string[];
  emulatedVersion?: string;
  /** Run the garbage collector in the aggregator (default true). */
  garbageCollector?: boolean;
  /** Run a node agent (this host's Node, simulated runtime, kubelet metrics) and the scheduler in process too. */
  nodeAgent?: boolean;
  nodeName?: string;
  simulatedNodes?: number;
  metricResolutionSeconds?: number;
  /** Authentication flags (token file, OIDC, anonymous …); ServiceAccount keys default to the PKI's. */
  authentication?: FlagValues;
  /** Audit policy and rotation for every server; each logs to <dataDir>/audit-<component>.log. */
  audit?: { policyFile: string; maxSizeMB?: number; maxBackups?: number; maxAgeDays?: number; flags?: FlagValues };
  /** EncryptionConfiguration file for core-apiserver and apiextensions. */
  encryptionProviderConfig?: string;
}

export interface RunningChain {
  url: string;
  port: number;
  kubeconfig: string;
  pki: PkiPaths;
  stop(): Promise<void>;
}

const COMPONENTS = ['aggregator', 'core-apiserver', 'apiextensions', 'sample-extension', 'node-agent'];

function defaults(): FlagValues {
  const values: FlagValues = {};
  for (const spec of GENERIC_FLAGS) if (spec.default !== undefined) values[spec.name] = spec.default;
  return values;
}

export async function startAllInOne(options: AllInOneOptions): Promise<RunningChain> {
  mkdirSync(options.dataDir, { recursive: true });
  const pki = await ensurePki(options.dataDir, COMPONENTS);
  const valuesFor = (component: string, port: number): FlagValues => ({
    ...defaults(),
    'secure-port': port,
    'tls-cert-file': pki.serving[component].cert,
    'tls-private-key-file': pki.serving[component].key,
    'client-ca-file': pki.caCert,
    'storage-backend': options.storageBackend ?? 'sqlite',
    'storage-dir': options.dataDir,
    'emulated-version': options.emulatedVersion ?? '1.32',
    ...(options.etcdServers?.length ? { 'storage-backend': 'etcd3', 'etcd-servers': options.etcdServers, 'leader-elect': true } : {}),
    ...(options.audit
      ? {
          'audit-policy-file': options.audit.policyFile,
          'audit-log-path': join(options.dataDir, `audit-${component}.log`),
          'audit-log-maxsize': options.audit.maxSizeMB ?? 0,
          'audit-log-maxbackup': options.audit.maxBackups ?? 0,
          'audit-log-maxage': options.audit.maxAgeDays ?? 0,
          ...Object.fromEntries(Object.entries(options.audit.flags ?? {}).filter(([, value]) => value !== undefined)),
        }
      : {}),
    'encryption-provider-config': component === 'core-apiserver' || component === 'apiextensions' ? options.encryptionProviderConfig : undefined,
  });

  const kubeletClient = await ensureClientCertificate(options.dataDir, 'apiserver-kubelet-client', 'kube-apiserver-kubelet-client', ['system:masters']);
  const coreValues: FlagValues = { ...valuesFor('core-apiserver', 0), 'kubelet-client-certificate': kubeletClient.cert, 'kubelet-client-key': kubeletClient.key, 'kubelet-certificate-authority': pki.caCert, 'kubelet-preferred-address-types': ['InternalIP', 'ExternalIP', 'Hostname'], 'namespace-controller': false, 'advertise-port': options.securePort || 6443, ...authenticationValues(options.authentication ?? {}, pki, 'core-apiserver') };
  const coreGeneric = createGenericServer('core-apiserver', coreValues);
  const apiextensionsGeneric = createGenericServer('apiextensions', valuesFor('apiextensions', 0));
  const sampleGeneric = createGenericServer('sample-extension', { ...valuesFor('sample-extension', 0), 'storage-backend': 'memory' });
  const aggregatorGeneric = createGenericServer('aggregator', valuesFor('aggregator', options.securePort ?? 0), { requestHeader: undefined, untrustedIdentityHeaders: 'strip' });

  const core = createCoreApiServer(coreGeneric, coreValues);
  const apiextensions = createApiextensionsServer(apiextensionsGeneric, {
    serviceResolver: lookupServiceResolver(() => inProcessServiceLookups(core.store('services'), core.store('endpoints'))),
    admission: {
      mutatingWebhookConfigurations: storeSource(core.store('mutatingwebhookconfigurations')),
      validatingWebhookConfigurations: storeSource(core.store('validatingwebhookconfigurations')),
      namespaces: storeSource(core.store('namespaces')),
      validatingAdmissionPolicies: storeSource(core.store('validatingadmissionpolicies')),
      validatingAdmissionPolicyBindings: storeSource(core.store('validatingadmissionpolicybindings')),
      remoteParams: localKindSources(coreGeneric.server),
      liveNamespace: async (name) => {
        const stored = await core.store('namespaces').storage.get(core.store('namespaces').key('', name));
        return stored ? (JSON.parse(stored.value) as KubeObject) : undefined;
      },
    },
    quota: storeQuotaBackend(core.store('resourcequotas')),
  });
  await core.start();
  await apiextensions.start();

  const aggregator = createAggregator(aggregatorGeneric, {
    delegates: [
      { name: 'core-apiserver', inProcess: coreGeneric.server },
      { name: 'apiextensions', inProcess: apiextensionsGeneric.server },
      { name: 'sample-extension', inProcess: sampleGeneric.server },
    ],
    tls: { proxyClientCert: readFileSync(pki.frontProxyClientCert, 'utf8'), proxyClientKey: readFileSync(pki.frontProxyClientKey, 'utf8'), backendCa: readFileSync(pki.caCert, 'utf8') },
    crdBackend: 'apiextensions',
    garbageCollector: options.garbageCollector !== false,
    rbacIndex: core.rbacIndex,
    lookups: () => inProcessServiceLookups(core.store('services'), core.store('endpoints')),
  });
  // The aggregator checks ServiceAccount tokens against core's watch caches, in this same process.
  configureBuiltInAuthentication(aggregatorGeneric.server.options.authentication, { ...defaults(), ...authenticationValues(options.authentication ?? {}, pki, 'aggregator') }, storeObjects((plural) => core.store(plural)));
  const generics: GenericServer[] = [aggregatorGeneric, coreGeneric, apiextensionsGeneric, sampleGeneric];
  aggregatorGeneric.server.options.flowControl?.useSource(watchCacheSource(core.store('flowschemas'), core.store('prioritylevelconfigurations')));
  await aggregatorGeneric.server.startCaches();
  await aggregator.start();
  // On etcd the servers share one keyspace: one compactor (upstream's, coordinated through etcd) is enough.
  const compactors = coreGeneric.storage instanceof EtcdStorage
    ? [startEtcdCompactionFromFlags(coreGeneric.storage, coreValues)].filter((compactor) => compactor !== undefined)
    : generics.map((generic) => startCompactor(generic.storage, { intervalMs: 300_000, keepRevisions: 10_000 }));
  await aggregatorGeneric.server.listen();
  const port = aggregatorGeneric.server.port;
  const url = `https://127.0.0.1:${port}`;
  const kubeconfig = await writeAdminKubeconfig(options.dataDir, url, pki);

  // The metrics extension reads Nodes and Pods through the front door as itself, like in separate processes.
  await grantMetricsServerAccess(url, pki);
  const metricsClient = pki.clients['sample-extension'];
  const sample = createSampleExtension({
    ...sampleGeneric,
    values: {
      ...sampleGeneric.values,
      kubeconfig: await writeServerKubeconfig(options.dataDir, url, pki, 'sample-extension'),
      'kubelet-certificate-authority': pki.caCert,
      'kubelet-client-certificate': metricsClient.cert,
      'kubelet-client-key': metricsClient.key,
      'metric-resolution': options.metricResolutionSeconds ?? 15,
      'kubelet-preferred-address-types': ['InternalIP', 'ExternalIP', 'Hostname'],
    },
  });
  await sample.start();
  let nodeAgent: RunningNodeAgent | undefined;
  if (options.nodeAgent) {
    await registerNodeAgentAccess(url, pki);
    const nodeName = options.nodeName ?? defaultNodeName();
    const nodeClient = await ensureClientCertificate(options.dataDir, 'node-agent-client', `system:node:${nodeName}`, ['system:nodes']);
    nodeAgent = await startNodeAgent({
      client: KubeClient.fromKubeconfig(await writeComponentKubeconfig(options.dataDir, 'node-agent', url, pki.caCert, nodeClient)),
      nodeName,
      port: 0,
      tls: { cert: readFileSync(pki.serving['node-agent'].cert, 'utf8'), key: readFileSync(pki.serving['node-agent'].key, 'utf8'), clientCa: readFileSync(pki.caCert, 'utf8') },
      simulatedNodes: options.simulatedNodes ?? 0,
      scheduler: true,
    });
  }
  return {
    url,
    port,
    kubeconfig,
    pki,
    async stop() {
      nodeAgent?.stop();
      aggregator.stop();
      await aggregatorGeneric.server.shutdown(10_000);
      core.stop();
      apiextensions.stop();
      sample.stop();
      for (const compactor of compactors) compactor.stop();
      for (const generic of generics) if (generic.leadership instanceof LeaderElector) await generic.leadership.stop();
      for (const generic of generics.slice(1)) await generic.server.shutdown(1000);
      for (const generic of generics) await generic.storage.close();
    },
  };
}
