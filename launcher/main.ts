// The launcher: `npm start -- --data-dir DIR --secure-port PORT` runs the whole chain on one machine with
// the embedded storage. It creates the PKI and the admin kubeconfig on first start, runs each server as
// its own process (backends on free loopback ports chosen once, so restarts keep their address), and
// stops everything gracefully on SIGINT/SIGTERM.

import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdirSync } from 'node:fs';
import { GENERIC_FLAGS, readFlags } from '../apiserver/server/options.js';
import type { FlagSpec } from '../apiserver/server/flags.js';
import { listFlag, numberFlag, stringFlag } from '../apiserver/server/flags.js';
import { ensureClientCertificate, ensurePki } from './pki.js';
import { writeAdminKubeconfig, writeComponentKubeconfig, writeServerKubeconfig } from './kubeconfig.js';
import { defaultNodeName } from '../node-agent/host.js';
import { SupervisedChild } from './supervisor.js';
import { freePort, waitForReady } from './ports.js';
import { registerMetricsExtension, registerNodeAgentAccess, waitForApiService } from './register-extension.js';
import { AUTHENTICATION_FLAGS } from '../apiserver/authentication/options.js';
import { AUDIT_FLAGS, PASSED_AUDIT_FLAGS } from '../apiserver/audit/options.js';
import { asArgs, authenticationValues } from './authentication-args.js';
import { writeClientKubeconfig } from './kubeconfig.js';

const FLAGS: FlagSpec[] = [
  { name: 'data-dir', type: 'string', default: './data', description: 'Directory for the PKI, the admin kubeconfig and every server\'s SQLite file.' },
  { name: 'secure-port', type: 'number', default: 6443, description: 'Port of the aggregator, the only public entry point (on 127.0.0.1); 0 picks a free one.' },
  { name: 'storage-backend', type: 'string', default: 'sqlite', description: 'Storage for every server: "sqlite" (embedded default) or "memory".' },
  { name: 'etcd-servers', type: 'list', default: [], description: 'Run every server on this etcd (scheme://ip:port, comma separated) instead of its SQLite file, with leader election for the controllers that must run once.' },
  { name: 'etcd-prefix', type: 'string', default: '/registry', description: 'The prefix of every key in etcd.' },
  { name: 'etcd-cafile', type: 'string', description: 'CA file to verify etcd\'s serving certificates.' },
  { name: 'etcd-certfile', type: 'string', description: 'Client certificate for etcd.' },
  { name: 'etcd-keyfile', type: 'string', description: 'Client key for etcd.' },
  { name: 'emulated-version', type: 'string', default: '1.32', description: 'Kubernetes version reported by /version.' },
  { name: 'shutdown-grace-seconds', type: 'number', default: 60, description: 'How long servers may take to finish in-flight requests on shutdown.' },
  { name: 'node-agent', type: 'boolean', default: true, description: 'Run a node agent for this host (a Node with a simulated runtime, kubelet-style metrics) and its scheduler.' },
  { name: 'node-name', type: 'string', description: "Name of this host's Node (default: the host name)." },
  { name: 'simulated-nodes', type: 'number', default: 0, description: 'Simulated nodes the node agent runs beside this host (for scale tests).' },
  { name: 'node-monitor-grace-period', type: 'number', default: 40, description: 'Seconds without a node heartbeat before core marks the node NotReady (Unknown).' },
  { name: 'workload-controllers', type: 'boolean', default: true, description: 'Run the Deployment, ReplicaSet, ReplicationController, DaemonSet, StatefulSet and disruption controllers in core-apiserver (Deployments create ReplicaSets, ReplicaSets, ReplicationControllers, DaemonSets and StatefulSets create pods, PodDisruptionBudgets get their status).' },
  { name: 'metric-resolution', type: 'number', default: 15, description: 'Seconds between metric scrapes of the kubelets by the metrics extension.' },
  { name: 'garbage-collector', type: 'boolean', default: true, description: 'Run the garbage collector (ownerReferences, foreground and orphan deletion) in the aggregator.' },
  { name: 'enable-priority-and-fairness', type: 'boolean', default: true, description: 'API Priority and Fairness in every server (false: the plain in-flight limits).' },
  { name: 'max-requests-inflight', type: 'number', default: 400, description: 'Each server\'s limit on non-mutating requests in flight (with priority and fairness: part of the total it shares out).' },
  { name: 'max-mutating-requests-inflight', type: 'number', default: 200, description: 'Each server\'s limit on mutating requests in flight (with priority and fairness: part of the total it shares out).' },
  { name: 'encryption-provider-config', type: 'string', description: 'EncryptionConfiguration file for encryption at rest, passed to core-apiserver and apiextensions.' },
  { name: 'admission-control-config-file', type: 'string', description: 'AdmissionConfiguration file (PodSecurity defaults and exemptions), passed to core-apiserver.' },
  { name: 'all-in-one', type: 'boolean', default: false, description: 'Run the whole chain in this one process: the aggregator calls its delegates in-process instead of over HTTPS.' },
  { name: 'audit-policy-file', type: 'string', description: 'Audit policy (audit.k8s.io/v1 Policy) for every server; each writes its own log, DIR/audit-<component>.log.' },
  { name: 'audit-log-maxsize', type: 'number', default: 0, description: 'Megabytes of each audit log before it is rotated (0: 100).' },
  { name: 'audit-log-maxbackup', type: 'number', default: 0, description: 'Rotated audit log files kept per server (0: all).' },
  { name: 'audit-log-maxage', type: 'number', default: 0, description: 'Days rotated audit log files are kept (0: no limit).' },
  // Passed on to every server as given (their defaults: json, blocking, no compression).
  ...AUDIT_FLAGS.filter((spec) => PASSED_AUDIT_FLAGS.includes(spec.name)).map((spec) => ({ ...spec, default: undefined })),
  // Passed on to the aggregator and core-apiserver (ServiceAccount keys default to the launcher's PKI).
  ...AUTHENTICATION_FLAGS.map((spec) => ({ ...spec, default: undefined })),
];

const BACKENDS = ['core-apiserver', 'apiextensions', 'sample-extension'] as const;
const COMPONENTS = ['aggregator', ...BACKENDS, 'node-agent'];

const values = readFlags(process.argv.slice(2), 'npm start --', 'Starts the whole delegation chain (aggregator, core-apiserver, apiextensions, sample-extension) with embedded storage.', FLAGS);
const dataDir = resolve(stringFlag(values, 'data-dir') ?? './data');
const requestedPort = numberFlag(values, 'secure-port') ?? 6443;
if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) {
  process.stderr.write(`--secure-port must be a port number (0 picks a free one), not ${requestedPort}\n`);
  process.exit(2);
}
// 0 asks for any free port; the kubeconfig and the kubernetes Endpoints need the real one.
const securePort = requestedPort === 0 ? await freePort() : requestedPort;
const graceMs = (numberFlag(values, 'shutdown-grace-seconds') ?? 60) * 1000;
mkdirSync(dataDir, { recursive: true });
const log = (line: string) => process.stdout.write(`${line}\n`);

if (values['all-in-one'] === true) {
  const { startAllInOne } = await import('./all-in-one.js');
  const chain = await startAllInOne({ dataDir, securePort, storageBackend: (stringFlag(values, 'storage-backend') ?? 'sqlite') as 'sqlite' | 'memory', etcdServers: listFlag(values, 'etcd-servers'), emulatedVersion: stringFlag(values, 'emulated-version'), garbageCollector: values['garbage-collector'] !== false,
    nodeAgent: values['node-agent'] !== false,
    nodeName: stringFlag(values, 'node-name'),
    simulatedNodes: numberFlag(values, 'simulated-nodes') ?? 0,
    metricResolutionSeconds: numberFlag(values, 'metric-resolution') ?? 15,
    authentication: values,
    audit: stringFlag(values, 'audit-policy-file') ? { policyFile: resolve(stringFlag(values, 'audit-policy-file')!), maxSizeMB: numberFlag(values, 'audit-log-maxsize'), maxBackups: numberFlag(values, 'audit-log-maxbackup'), maxAgeDays: numberFlag(values, 'audit-log-maxage'), flags: Object.fromEntries(PASSED_AUDIT_FLAGS.map((name) => [name, values[name]])) } : undefined,
    encryptionProviderConfig: stringFlag(values, 'encryption-provider-config'),
  });
  log(`[launcher] admin kubeconfig: ${chain.kubeconfig}`);
  log(`[launcher] ready: ${chain.url} (all in one process)`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`[launcher] ${signal}: stopping`);
    const force = setTimeout(() => process.exit(1), graceMs + 5000);
    force.unref();
    await chain.stop();
    log('[launcher] stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  await new Promise(() => undefined);
}

const pki = await ensurePki(dataDir, COMPONENTS);
const server = `https://127.0.0.1:${securePort}`;
const kubeconfig = await writeAdminKubeconfig(dataDir, server, pki);
// The metrics extension and the node agent call the API as themselves, like their upstream counterparts.
const metricsClient = pki.clients['sample-extension'];
const metricsKubeconfig = await writeServerKubeconfig(dataDir, server, pki, 'sample-extension');
const nodeName = stringFlag(values, 'node-name') ?? defaultNodeName();
const nodeClient = await ensureClientCertificate(dataDir, 'node-agent-client', `system:node:${nodeName}`, ['system:nodes']);
const nodeKubeconfig = await writeComponentKubeconfig(dataDir, 'node-agent', server, pki.caCert, nodeClient);
const distRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));
// core reaches kubelets (logs, exec, nodes/proxy) with its own client certificate, as kubeadm's apiserver-kubelet-client.
const kubeletClient = await ensureClientCertificate(dataDir, 'apiserver-kubelet-client', 'kube-apiserver-kubelet-client', ['system:masters']);

// On etcd every server shares the one keyspace (upstream's layout keeps their keys apart) and elects
// leaders for its run-once controllers, so more replicas of any of them can join.
const etcdServers = listFlag(values, 'etcd-servers');
const storageArgs = etcdServers.length
  ? [
      '--storage-backend=etcd3',
      `--etcd-servers=${etcdServers.join(',')}`,
      ...['etcd-prefix', 'etcd-cafile', 'etcd-certfile', 'etcd-keyfile'].flatMap((flag) => (stringFlag(values, flag) ? [`--${flag}=${stringFlag(values, flag)}`] : [])),
      '--leader-elect',
    ]
  : [`--storage-backend=${stringFlag(values, 'storage-backend') ?? 'sqlite'}`, `--storage-dir=${dataDir}`];

const common = (component: string) => [
  `--tls-cert-file=${pki.serving[component].cert}`,
  `--tls-private-key-file=${pki.serving[component].key}`,
  `--client-ca-file=${pki.caCert}`,
  ...storageArgs,
  `--emulated-version=${stringFlag(values, 'emulated-version') ?? '1.32'}`,
  '--bind-address=127.0.0.1',
  ...auditArgs(component),
  `--enable-priority-and-fairness=${values['enable-priority-and-fairness'] !== false}`,
  `--max-requests-inflight=${numberFlag(values, 'max-requests-inflight') ?? 400}`,
  `--max-mutating-requests-inflight=${numberFlag(values, 'max-mutating-requests-inflight') ?? 200}`,
];

/** Every server audits with the same policy into its own file in the data directory. */
function auditArgs(component: string): string[] {
  const policy = stringFlag(values, 'audit-policy-file');
  if (!policy) return [];
  return [
    `--audit-policy-file=${resolve(policy)}`,
    `--audit-log-path=${join(dataDir, `audit-${component}.log`)}`,
    ...['audit-log-maxsize', 'audit-log-maxbackup', 'audit-log-maxage'].map((name) => `--${name}=${numberFlag(values, name) ?? 0}`),
    ...PASSED_AUDIT_FLAGS.filter((name) => values[name] !== undefined).map((name) => `--${name}=${String(values[name])}`),
  ];
}

const backendUrls: string[] = [];
const children: SupervisedChild[] = [];
let metricsPort = 0;
let coreUrl = '';
for (const component of BACKENDS) {
  const port = await freePort();
  if (component === 'core-apiserver') coreUrl = `https://127.0.0.1:${port}`;
  // Extension servers authenticate bearer tokens with TokenReviews to core (core is started first).
  const delegation = component === 'core-apiserver' ? [] : [`--authentication-kubeconfig=${await writeClientKubeconfig(join(dataDir, 'pki', 'delegator.kubeconfig'), coreUrl, pki.caCert, pki.delegatorCert, pki.delegatorKey, 'system:extension-apiserver')}`];
  // The metrics extension is not a delegate: it is registered as a remote APIService, like any user's.
  if (component === 'sample-extension') metricsPort = port;
  else backendUrls.push(`${component}=https://127.0.0.1:${port}`);
  children.push(
    new SupervisedChild(
      {
        name: component,
        script: join(distRoot, component, 'main.js'),
        args: [
          ...common(component),
          `--secure-port=${port}`,
          `--requestheader-client-ca-file=${pki.frontProxyCaCert}`,
          '--requestheader-allowed-names=front-proxy-client',
          '--requestheader-uid-headers=X-Remote-Uid',
          // The aggregator finalizes namespaces across every API; core's own controller would finalize early.
          ...(component === 'core-apiserver' ? [`--kubelet-client-certificate=${kubeletClient.cert}`, `--kubelet-client-key=${kubeletClient.key}`, `--kubelet-certificate-authority=${pki.caCert}`, '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname', `--advertise-port=${securePort}`, '--namespace-controller=false', `--node-monitor-grace-period=${numberFlag(values, 'node-monitor-grace-period') ?? 40}`, `--workload-controllers=${values['workload-controllers'] !== false}`, ...asArgs(authenticationValues(values, pki, 'core-apiserver'))] : delegation),
          ...(component === 'sample-extension'
            ? [
                `--kubeconfig=${metricsKubeconfig}`,
                `--kubelet-certificate-authority=${pki.caCert}`,
                `--kubelet-client-certificate=${metricsClient.cert}`,
                `--kubelet-client-key=${metricsClient.key}`,
                `--metric-resolution=${numberFlag(values, 'metric-resolution') ?? 15}`,
              ]
            : []),
          ...(component !== 'sample-extension' && stringFlag(values, 'encryption-provider-config') ? [`--encryption-provider-config=${resolve(stringFlag(values, 'encryption-provider-config')!)}`] : []),
          ...(component === 'core-apiserver' && stringFlag(values, 'admission-control-config-file') ? [`--admission-control-config-file=${resolve(stringFlag(values, 'admission-control-config-file')!)}`] : []),
          // Conversion webhooks given as a service reference are resolved through the core API, as upstream's --kubeconfig.
          ...(component === 'apiextensions' ? [`--kubeconfig=${kubeconfig}`] : []),
          // Extension servers ask core (through the front door) for SubjectAccessReviews, as their own identity.
          ...(pki.clients[component] ? [`--authorization-kubeconfig=${await writeServerKubeconfig(dataDir, server, pki, component)}`] : []),
        ],
      },
      log,
    ),
  );
}
const aggregator = new SupervisedChild(
  {
    name: 'aggregator',
    script: join(distRoot, 'aggregator', 'main.js'),
    args: [
      ...common('aggregator'),
      `--secure-port=${securePort}`,
      `--proxy-client-cert-file=${pki.frontProxyClientCert}`,
      `--proxy-client-key-file=${pki.frontProxyClientKey}`,
      `--backend-ca-file=${pki.caCert}`,
      `--backends=${backendUrls.join(',')}`,
      `--garbage-collector=${values['garbage-collector'] !== false}`,
      ...asArgs(authenticationValues(values, pki, 'aggregator')),
    ],
  },
  log,
);

for (const child of children) child.start();
aggregator.start();

let nodeAgent: SupervisedChild | undefined;
let stopping = false;
async function stopAll(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log(`[launcher] ${signal}: stopping (grace ${graceMs / 1000}s)`);
  // The front door first, so no new work reaches the backends while they drain.
  await nodeAgent?.stop(graceMs);
  await aggregator.stop(graceMs);
  await Promise.all(children.map((child) => child.stop(graceMs)));
  log('[launcher] stopped');
  process.exit(0);
}
process.on('SIGINT', () => void stopAll('SIGINT'));
process.on('SIGTERM', () => void stopAll('SIGTERM'));

log(`[launcher] admin kubeconfig: ${kubeconfig}`);
log(`[launcher] try: kubectl --kubeconfig ${kubeconfig} get namespaces`);
try {
  await waitForReady(server, pki, 120_000);
  await registerMetricsExtension(server, pki, metricsPort);
  if (values['node-agent'] !== false) {
    await registerNodeAgentAccess(server, pki);
    nodeAgent = new SupervisedChild(
      {
        name: 'node-agent',
        script: join(distRoot, 'node-agent', 'main.js'),
        args: [
          `--kubeconfig=${nodeKubeconfig}`,
          `--node-name=${nodeName}`,
          `--port=${await freePort()}`,
          `--tls-cert-file=${pki.serving['node-agent'].cert}`,
          `--tls-private-key-file=${pki.serving['node-agent'].key}`,
          `--client-ca-file=${pki.caCert}`,
          `--simulated-nodes=${numberFlag(values, 'simulated-nodes') ?? 0}`,
          '--scheduler',
        ],
      },
      log,
    );
    nodeAgent.start();
  }
  await waitForApiService(server, pki, 'v1beta1.metrics.k8s.io', 30_000);
  log(`[launcher] ready: ${server} (aggregator /readyz ok, v1beta1.metrics.k8s.io Available)`);
} catch (error) {
  log(`[launcher] not ready yet: ${(error as Error).message}`);
}
