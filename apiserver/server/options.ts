// The options every server on the framework shares (upstream's RecommendedOptions), as flags, and the
// code that turns them into a listening ApiServer with its storage, plus graceful shutdown on signals.

import { readFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { Storage } from '../storage/interface.js';
import { MemoryStorage } from '../storage/memory.js';
import { SqliteStorage } from '../storage/sqlite.js';
import { startCompactor } from '../storage/compactor.js';
import { EtcdStorage } from '../storage/etcd.js';
import { ETCD_FLAGS, isEtcdBackend, openEtcdStorage, startEtcdCompactionFromFlags } from '../storage/etcd-options.js';
import { EncryptedStorage } from '../storage/encryption/encrypted-storage.js';
import type { EncryptionRule } from '../storage/encryption/config.js';
import { EncryptionConfigError, loadEncryptionConfig } from '../storage/encryption/config.js';
import type { AuthenticationConfig } from '../filters/authenticate.js';
import type { FlagSpec, FlagValues } from './flags.js';
import { FlagError, helpText, listFlag, numberFlag, parseFlags, stringFlag } from './flags.js';
import { ApiServer } from './api-server.js';
import { FlowControl } from '../flowcontrol/controller.js';
import { delegatingTokenAuthenticator, remoteTokenReviewer } from '../authentication/delegating.js';
import { trustFromConfigMap } from '../authentication/authentication-configmap.js';
import { parseDurationSeconds } from '../authentication/options.js';
import { DELEGATED_AUTHORIZATION_FLAGS, delegatingAuthorizerFromFlags } from '../authorization/delegating-authorizer.js';
import { LeaderElector, type Leadership } from './leader-election.js';
import { AUDIT_FLAGS, auditFromFlags } from '../audit/options.js';
import { instrumentStorage } from '../storage/instrumented.js';
import { storedObjectCount } from '../metrics/storage-objects.js';

export const GENERIC_FLAGS: FlagSpec[] = [
  { name: 'secure-port', type: 'number', default: 6443, description: 'The port on which to serve HTTPS with authentication and authorization (0 picks a free port).' },
  { name: 'bind-address', type: 'string', default: '127.0.0.1', description: 'The IP address on which to listen for the --secure-port port.' },
  { name: 'tls-cert-file', type: 'string', description: 'File containing the default x509 certificate for HTTPS.' },
  { name: 'tls-private-key-file', type: 'string', description: 'File containing the default x509 private key matching --tls-cert-file.' },
  { name: 'client-ca-file', type: 'string', description: 'Any request presenting a client certificate signed by one of the authorities in this file is authenticated with the identity of the certificate CommonName (user) and Organizations (groups).' },
  { name: 'requestheader-client-ca-file', type: 'string', description: 'Root certificate bundle used to verify client certificates on incoming requests before trusting usernames in headers specified by --requestheader-username-headers.' },
  { name: 'requestheader-allowed-names', type: 'list', default: [], description: 'List of client certificate common names allowed to provide usernames in headers. If empty, any client certificate validated by the authorities in --requestheader-client-ca-file is allowed.' },
  { name: 'requestheader-username-headers', type: 'list', default: ['X-Remote-User'], description: 'List of request headers to inspect for usernames. The first header with a value wins.' },
  { name: 'requestheader-uid-headers', type: 'list', default: [], description: 'List of request headers to inspect for UIDs. X-Remote-Uid is suggested.' },
  { name: 'requestheader-group-headers', type: 'list', default: ['X-Remote-Group'], description: 'List of request headers to inspect for groups.' },
  { name: 'requestheader-extra-headers-prefix', type: 'list', default: ['X-Remote-Extra-'], description: 'List of request header prefixes to inspect for extra user information.' },
  { name: 'storage-backend', type: 'string', default: 'sqlite', description: 'Storage backend: "sqlite" (embedded, the default), "etcd3" (with --etcd-servers; "etcd" works too) or "memory" (nothing persists; for tests).' },
  ...ETCD_FLAGS,
  { name: 'leader-elect', type: 'boolean', default: false, description: 'Run the controllers that must act once (namespaces, service accounts, CRD status, APIService availability and registration) only while holding a coordination.k8s.io Lease, so several replicas can share one etcd.' },
  { name: 'storage-dir', type: 'string', default: './data', description: 'Directory holding this server\'s SQLite file (<storage-dir>/<component>.db).' },
  { name: 'sqlite-synchronous', type: 'string', default: 'FULL', description: 'SQLite durability: FULL acknowledges a write only after the WAL is synced to disk (survives power loss, like etcd; one asynchronous fdatasync covers every batch committed meanwhile, so the event loop never waits for the disk); NORMAL acknowledges at commit (survives process crashes only).' },
  { name: 'max-requests-inflight', type: 'number', default: 400, description: 'The maximum number of non-mutating requests in flight at a given time. 0 means no limit.' },
  { name: 'max-mutating-requests-inflight', type: 'number', default: 200, description: 'The maximum number of mutating requests in flight at a given time. 0 means no limit.' },
  { name: 'enable-priority-and-fairness', type: 'boolean', default: true, description: 'If true, replace the max-in-flight handler with an enhanced one that queues and dispatches with priority and fairness (FlowSchemas and PriorityLevelConfigurations).' },
  { name: 'request-timeout', type: 'number', default: 60, description: 'Seconds a non-long-running request may take before the server answers 504 Timeout.' },
  { name: 'compaction-interval', type: 'number', default: 300, description: 'Seconds between compactions of old revisions (0 disables).' },
  { name: 'compaction-keep-revisions', type: 'number', default: 10000, description: 'Number of most recent revisions kept by compaction.' },
  { name: 'authentication-kubeconfig', type: 'string', description: 'kubeconfig file pointing at the core kubernetes server with enough rights to create tokenreviews.authentication.k8s.io: bearer tokens are authenticated by TokenReview there.' },
  { name: 'authentication-token-webhook-cache-ttl', type: 'string', default: '10s', description: 'The duration to cache responses from the webhook token authenticator (the TokenReview of --authentication-kubeconfig).' },
  { name: 'encryption-provider-config', type: 'string', description: 'The file containing configuration for encryption providers to be used for storing secrets (and other resources) at rest: an apiserver.config.k8s.io/v1 EncryptionConfiguration.' },
  { name: 'emulated-version', type: 'string', default: '1.32', description: 'Kubernetes version reported by /version (the installed kubectl dispatcher picks its binary by the minor number).' },
  ...DELEGATED_AUTHORIZATION_FLAGS,
  ...AUDIT_FLAGS,
];

export function readFlags(argv: string[], command: string, summary: string, specs: FlagSpec[]): FlagValues {
  try {
    const values = parseFlags(argv, specs);
    if (values.help) {
      process.stdout.write(helpText(command, summary, specs));
      process.exit(0);
    }
    return values;
  } catch (error) {
    if (error instanceof FlagError) {
      process.stderr.write(`Error: ${error.message}\nRun '${command} --help' for usage.\n`);
      process.exit(2);
    }
    throw error;
  }
}

function readPemCertificates(file: string | undefined): { pem: string; certificates: X509Certificate[] } {
  if (!file) return { pem: '', certificates: [] };
  const pem = readFileSync(file, 'utf8');
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return { pem, certificates: blocks.map((block) => new X509Certificate(block)) };
}

export interface GenericServer {
  server: ApiServer;
  storage: Storage;
  values: FlagValues;
  /** With --leader-elect: whether this replica runs the run-once controllers (absent: it always does). */
  leadership?: Leadership;
}

/** The backend named by the flags, timed as etcd_request_duration_seconds whatever it is. */
export function openStorage(component: string, values: FlagValues): Storage {
  const encryptionConfig = stringFlag(values, 'encryption-provider-config');
  // Read before opening the backend: a broken file stops the server with its message, nothing half-open.
  let rules: EncryptionRule[] | undefined;
  try {
    rules = encryptionConfig ? loadEncryptionConfig(encryptionConfig) : undefined;
  } catch (error) {
    if (!(error instanceof EncryptionConfigError)) throw error;
    process.stderr.write(`Error: ${error.message}\n`);
    process.exit(1);
  }
  // Timing sees what the backend does: encryption wraps the measured store.
  const storage = instrumentStorage(openBackend(component, values));
  return rules ? new EncryptedStorage(storage, rules) : storage;
}

function openBackend(component: string, values: FlagValues): Storage {
  const backend = stringFlag(values, 'storage-backend') ?? 'sqlite';
  if (backend === 'memory') return new MemoryStorage();
  if (isEtcdBackend(backend)) return openEtcdStorage(values);
  if (backend !== 'sqlite') throw new FlagError(`unsupported --storage-backend "${backend}"`);
  const dir = stringFlag(values, 'storage-dir') ?? './data';
  mkdirSync(dir, { recursive: true });
  const synchronous = (stringFlag(values, 'sqlite-synchronous') ?? 'FULL').toUpperCase();
  if (synchronous !== 'FULL' && synchronous !== 'NORMAL') throw new FlagError(`--sqlite-synchronous must be FULL or NORMAL, not "${synchronous}"`);
  return new SqliteStorage(join(dir, `${component}.db`), { synchronous });
}

/** Builds the server and storage from the generic flags (resources are added by the caller). */
export function createGenericServer(component: string, values: FlagValues, authenticationOverrides: Partial<AuthenticationConfig> = {}): GenericServer {
  const certFile = stringFlag(values, 'tls-cert-file');
  const keyFile = stringFlag(values, 'tls-private-key-file');
  if (!certFile || !keyFile) throw new FlagError('--tls-cert-file and --tls-private-key-file are required');
  const clientCa = readPemCertificates(stringFlag(values, 'client-ca-file'));
  const requestHeaderCa = readPemCertificates(stringFlag(values, 'requestheader-client-ca-file'));
  const authentication: AuthenticationConfig = {
    clientCa: clientCa.certificates,
    requestHeader: requestHeaderCa.certificates.length
      ? {
          clientCa: requestHeaderCa.certificates,
          allowedNames: listFlag(values, 'requestheader-allowed-names'),
          usernameHeaders: listFlag(values, 'requestheader-username-headers'),
          uidHeaders: listFlag(values, 'requestheader-uid-headers'),
          groupHeaders: listFlag(values, 'requestheader-group-headers'),
          extraHeadersPrefixes: listFlag(values, 'requestheader-extra-headers-prefix'),
        }
      : undefined,
    untrustedIdentityHeaders: 'reject',
    ...authenticationOverrides,
  };
  // Extension servers: bearer tokens are whatever core's TokenReview says they are.
  const authenticationKubeconfig = stringFlag(values, 'authentication-kubeconfig');
  if (authenticationKubeconfig) authentication.tokenAuthenticators = [delegatingTokenAuthenticator(remoteTokenReviewer(authenticationKubeconfig), parseDurationSeconds(stringFlag(values, 'authentication-token-webhook-cache-ttl') ?? '10s'))];
  const storage = openStorage(component, values);
  const emulated = stringFlag(values, 'emulated-version') ?? '1.32';
  // API Priority and Fairness shares out both in-flight limits; with either at 0 (no limit) there is nothing to share.
  const serverConcurrencyLimit = (numberFlag(values, 'max-requests-inflight') ?? 400) + (numberFlag(values, 'max-mutating-requests-inflight') ?? 200);
  const requestTimeoutMs = (numberFlag(values, 'request-timeout') ?? 60) * 1000;
  const flowControl = values['enable-priority-and-fairness'] !== false && numberFlag(values, 'max-requests-inflight') !== 0 && numberFlag(values, 'max-mutating-requests-inflight') !== 0 ? new FlowControl({ serverConcurrencyLimit, maxQueueWaitMs: requestTimeoutMs / 4, objectCount: storedObjectCount }) : undefined;
  const server = new ApiServer({
    flowControl,
    name: component,
    serving: {
      bindAddress: stringFlag(values, 'bind-address') ?? '127.0.0.1',
      port: numberFlag(values, 'secure-port') ?? 6443,
      cert: readFileSync(certFile, 'utf8'),
      key: readFileSync(keyFile, 'utf8'),
      clientCaPems: [clientCa.pem, requestHeaderCa.pem].filter(Boolean),
    },
    authentication,
    // Extension servers delegate to core; core and the aggregator install their RBAC authorizer over this.
    authorizer: delegatingAuthorizerFromFlags(values),
    maxRequestsInflight: numberFlag(values, 'max-requests-inflight'),
    maxMutatingRequestsInflight: numberFlag(values, 'max-mutating-requests-inflight'),
    requestTimeoutMs: (numberFlag(values, 'request-timeout') ?? 60) * 1000,
    versionMinor: emulated.split('.')[1] ?? '32',
    audit: auditFromFlags(values),
  });
  server.health.add('storage', async () => {
    await storage.currentRevision();
  });
  let leadership: LeaderElector | undefined;
  if (values['leader-elect'] === true) {
    leadership = new LeaderElector({ storage, name: component });
    leadership.start();
  }
  return { server, storage, values, leadership };
}

/**
 * An extension server given --authentication-kubeconfig but not the CA flags takes its trust from core's
 * extension-apiserver-authentication ConfigMap (core may still be starting: retried until it answers).
 */
async function trustDelegatedAuthentication(generic: GenericServer): Promise<void> {
  const { server, values } = generic;
  const kubeconfig = stringFlag(values, 'authentication-kubeconfig');
  const need = { clientCa: !stringFlag(values, 'client-ca-file'), requestHeader: !stringFlag(values, 'requestheader-client-ca-file') };
  if (!kubeconfig || (!need.clientCa && !need.requestHeader)) return;
  for (let attempt = 1; ; attempt++) {
    try {
      const trust = await trustFromConfigMap(kubeconfig, server.options.authentication, need);
      for (const pem of [trust.clientCaPem, trust.requestHeaderCaPem]) if (pem) server.options.serving?.clientCaPems.push(pem);
      return;
    } catch (error) {
      if (attempt % 10 === 1) process.stderr.write(`[${server.options.name}] waiting for kube-system/extension-apiserver-authentication: ${(error as Error).message}\n`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

/** Listens, reports the port on stdout (the launcher reads it), and shuts down gracefully on signals. */
export async function runGenericServer(generic: GenericServer, onStop?: () => Promise<void> | void): Promise<void> {
  const { server, storage, values } = generic;
  await server.startCaches();
  await trustDelegatedAuthentication(generic);
  const interval = numberFlag(values, 'compaction-interval') ?? 300;
  const compactor = storage instanceof EtcdStorage ? startEtcdCompactionFromFlags(storage, values) : interval > 0 ? startCompactor(storage, { intervalMs: interval * 1000, keepRevisions: numberFlag(values, 'compaction-keep-revisions') ?? 10000 }) : undefined;
  await server.listen();
  process.stdout.write(`${JSON.stringify({ component: server.options.name, listening: `https://127.0.0.1:${server.port}` })}\n`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`[${server.options.name}] ${signal}: shutting down gracefully\n`);
    const force = setTimeout(() => process.exit(1), 65_000);
    force.unref();
    try {
      await onStop?.();
      if (generic.leadership instanceof LeaderElector) await generic.leadership.stop();
      await server.shutdown(60_000);
      compactor?.stop();
      await storage.close();
    } finally {
      process.exit(0);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // A bug in one request must not take the server down (the request already got its 500).
  process.on('uncaughtException', (error) => console.error(`[${server.options.name}] uncaught exception:`, error));
  process.on('unhandledRejection', (error) => console.error(`[${server.options.name}] unhandled rejection:`, error));
}
