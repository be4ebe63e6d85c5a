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
import { ensurePki } from './pki.js';
import { writeAdminKubeconfig } from './kubeconfig.js';
import { SupervisedChild } from './supervisor.js';
import { freePort, waitForReady } from './ports.js';
import { registerMetricsExtension, waitForApiService } from './register-extension.js';

const FLAGS: FlagSpec[] = [
  { name: 'data-dir', type: 'string', default: './data', description: 'Directory for the PKI, the admin kubeconfig and every server\'s SQLite file.' },
  { name: 'secure-port', type: 'number', default: 6443, description: 'Port of the aggregator, the only public entry point (on 127.0.0.1).' },
  { name: 'storage-backend', type: 'string', default: 'sqlite', description: 'Storage for every server: "sqlite" (embedded default) or "memory".' },
  { name: 'etcd-servers', type: 'list', default: [], description: 'Run every server on this etcd (scheme://ip:port, comma separated) instead of its SQLite file, with leader election for the controllers that must run once.' },
  { name: 'etcd-prefix', type: 'string', default: '/registry', description: 'The prefix of every key in etcd.' },
  { name: 'etcd-cafile', type: 'string', description: 'CA file to verify etcd\'s serving certificates.' },
  { name: 'etcd-certfile', type: 'string', description: 'Client certificate for etcd.' },
  { name: 'etcd-keyfile', type: 'string', description: 'Client key for etcd.' },
  { name: 'emulated-version', type: 'string', default: '1.32', description: 'Kubernetes version reported by /version.' },
  { name: 'shutdown-grace-seconds', type: 'number', default: 60, description: 'How long servers may take to finish in-flight requests on shutdown.' },
  { name: 'all-in-one', type: 'boolean', default: false, description: 'Run the whole chain in this one process: the aggregator calls its delegates in-process instead of over HTTPS.' },
];

const BACKENDS = ['core-apiserver', 'apiextensions', 'sample-extension'] as const;
const COMPONENTS = ['aggregator', ...BACKENDS];

const values = readFlags(process.argv.slice(2), 'npm start --', 'Starts the whole delegation chain (aggregator, core-apiserver, apiextensions, sample-extension) with embedded storage.', FLAGS);
const dataDir = resolve(stringFlag(values, 'data-dir') ?? './data');
const securePort = numberFlag(values, 'secure-port') ?? 6443;
const graceMs = (numberFlag(values, 'shutdown-grace-seconds') ?? 60) * 1000;
mkdirSync(dataDir, { recursive: true });
const log = (line: string) => process.stdout.write(`${line}\n`);

if (values['all-in-one'] === true) {
  const { startAllInOne } = await import('./all-in-one.js');
  const chain = await startAllInOne({ dataDir, securePort, storageBackend: (stringFlag(values, 'storage-backend') ?? 'sqlite') as 'sqlite' | 'memory', etcdServers: listFlag(values, 'etcd-servers'), emulatedVersion: stringFlag(values, 'emulated-version') });
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
const distRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));

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
];

const backendUrls: string[] = [];
const children: SupervisedChild[] = [];
let metricsPort = 0;
for (const component of BACKENDS) {
  const port = await freePort();
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
          // The aggregator finalizes namespaces across every API; core's own controller would finalize early.
          ...(component === 'core-apiserver' ? [`--advertise-port=${securePort}`, '--namespace-controller=false'] : []),
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
    ],
  },
  log,
);

for (const child of children) child.start();
aggregator.start();

let stopping = false;
async function stopAll(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log(`[launcher] ${signal}: stopping (grace ${graceMs / 1000}s)`);
  // The front door first, so no new work reaches the backends while they drain.
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
  await waitForApiService(server, pki, 'v1beta1.metrics.k8s.io', 30_000);
  log(`[launcher] ready: ${server} (aggregator /readyz ok, v1beta1.metrics.k8s.io Available)`);
} catch (error) {
  log(`[launcher] not ready yet: ${(error as Error).message}`);
}
