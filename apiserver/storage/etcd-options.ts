// kube-apiserver's etcd flags, and turning them into an EtcdStorage and its compactor.

import { readFileSync } from 'node:fs';
import type { FlagSpec, FlagValues } from '../server/flags.js';
import { FlagError, listFlag, stringFlag } from '../server/flags.js';
import { EtcdStorage } from './etcd.js';
import { startEtcdCompactor } from './etcd-compactor.js';

export const ETCD_FLAGS: FlagSpec[] = [
  { name: 'etcd-servers', type: 'list', default: [], description: 'List of etcd servers to connect with (scheme://ip:port), comma separated. Used with --storage-backend=etcd3.' },
  { name: 'etcd-prefix', type: 'string', default: '/registry', description: 'The prefix to prepend to all resource paths in etcd.' },
  { name: 'etcd-cafile', type: 'string', description: 'SSL Certificate Authority file used to secure etcd communication.' },
  { name: 'etcd-certfile', type: 'string', description: 'SSL certification file used to secure etcd communication.' },
  { name: 'etcd-keyfile', type: 'string', description: 'SSL key file used to secure etcd communication.' },
  { name: 'etcd-compaction-interval', type: 'string', default: '5m0s', description: 'The interval of compaction requests. If 0, the compaction request from apiserver is disabled.' },
];

export function isEtcdBackend(backend: string): boolean {
  return backend === 'etcd3' || backend === 'etcd';
}

export function openEtcdStorage(values: FlagValues): EtcdStorage {
  const endpoints = listFlag(values, 'etcd-servers');
  if (endpoints.length === 0) throw new FlagError('--etcd-servers must be specified with --storage-backend=etcd3');
  for (const endpoint of endpoints) {
    if (!/^https?:\/\/[^/]+\/?$/.test(endpoint)) throw new FlagError(`--etcd-servers entry "${endpoint}" is not scheme://host:port`);
  }
  const secure = endpoints.filter((endpoint) => endpoint.startsWith('https://')).length;
  if (secure > 0 && secure < endpoints.length) throw new FlagError('--etcd-servers must be all http:// or all https://');
  const read = (flag: string) => {
    const file = stringFlag(values, flag);
    return file ? readFileSync(file) : undefined;
  };
  const tls = { ca: read('etcd-cafile'), cert: read('etcd-certfile'), key: read('etcd-keyfile') };
  if (Boolean(tls.cert) !== Boolean(tls.key)) throw new FlagError('--etcd-certfile and --etcd-keyfile must be given together');
  return new EtcdStorage({ endpoints, prefix: stringFlag(values, 'etcd-prefix') ?? '/registry', tls: tls.ca || tls.cert ? tls : undefined });
}

/** Starts compaction per --etcd-compaction-interval (upstream's default 5m; 0 disables). */
export function startEtcdCompactionFromFlags(storage: EtcdStorage, values: FlagValues): { stop(): void } | undefined {
  const intervalMs = parseDuration(stringFlag(values, 'etcd-compaction-interval') ?? '5m', 'etcd-compaction-interval');
  return intervalMs > 0 ? startEtcdCompactor(storage, { intervalMs }) : undefined;
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration ("5m0s", "90s", "1h30m", "0") in milliseconds. */
export function parseDuration(text: string, flag: string): number {
  if (text === '0') return 0;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text) {
    throw new FlagError(`invalid argument "${text}" for "--${flag}" flag: time: invalid duration "${text}"`);
  }
  return parts.reduce((total, part) => total + Number(part[1]) * UNIT_MS[part[2]], 0);
}
