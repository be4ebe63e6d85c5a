// How core reaches a node's kubelet (upstream's pkg/kubelet/client): the Node's preferred address and its
// status.daemonEndpoints.kubeletEndpoint.Port, over HTTPS with the apiserver's kubelet client certificate
// (--kubelet-client-certificate/-key), verified against --kubelet-certificate-authority — or not verified
// at all when no CA is given, as upstream's kubelet client does.

import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { FlagSpec, FlagValues } from '../../apiserver/server/flags.js';
import { listFlag, stringFlag } from '../../apiserver/server/flags.js';
import type { GenericStore } from '../../apiserver/registry/store.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';
import { internalError } from '../../apiserver/request/status.js';
import type { ProxyTransport } from './upgrade-aware-proxy.js';

export const DEFAULT_KUBELET_PORT = 10250;
const DEFAULT_ADDRESS_TYPES = ['Hostname', 'InternalDNS', 'InternalIP', 'ExternalDNS', 'ExternalIP'];

export const KUBELET_FLAGS: FlagSpec[] = [
  { name: 'kubelet-client-certificate', type: 'string', description: 'Client certificate for connections to kubelets (logs, exec, attach, port-forward, nodes/proxy).' },
  { name: 'kubelet-client-key', type: 'string', description: 'Key of the kubelet client certificate.' },
  { name: 'kubelet-certificate-authority', type: 'string', description: "CA that signed kubelets' serving certificates (without it they are not verified, as upstream)." },
  { name: 'kubelet-preferred-address-types', type: 'list', default: DEFAULT_ADDRESS_TYPES, description: 'The Node address types to reach kubelets by, in order of preference.' },
];

export interface KubeletConnection {
  scheme: 'https';
  host: string;
  port: number;
  transport: ProxyTransport;
  /** The same without certificate verification (pods/log?insecureSkipTLSVerifyBackend=true). */
  insecureTransport: ProxyTransport;
}

export class KubeletClient {
  private readonly transport: ProxyTransport;
  private readonly insecureTransport: ProxyTransport;

  constructor(private readonly options: { ca?: string; cert?: string; key?: string; addressTypes: string[] }) {
    const base = { ca: options.ca, cert: options.cert, key: options.key };
    this.transport = { ...base, insecure: !options.ca, agent: new https.Agent({ keepAlive: true, ...base, rejectUnauthorized: Boolean(options.ca) }) };
    this.insecureTransport = { ...base, ca: undefined, insecure: true, agent: new https.Agent({ keepAlive: true, cert: options.cert, key: options.key, rejectUnauthorized: false }) };
  }

  static fromFlags(values: FlagValues): KubeletClient {
    const read = (flag: string) => {
      const file = stringFlag(values, flag);
      return file ? readFileSync(file, 'utf8') : undefined;
    };
    return new KubeletClient({ ca: read('kubelet-certificate-authority'), cert: read('kubelet-client-certificate'), key: read('kubelet-client-key'), addressTypes: listFlag(values, 'kubelet-preferred-address-types') });
  }

  /** GetConnectionInfo: where the kubelet of `nodeName` listens (a missing Node is `nodes "x" not found`). */
  async connectionInfo(nodes: GenericStore, nodeName: string): Promise<KubeletConnection> {
    const node = JSON.parse(await nodes.getBytes('', nodeName)) as KubeObject;
    const status = isObject(node.status) ? node.status : {};
    const addresses = (Array.isArray(status.addresses) ? status.addresses : []).filter(isObject) as { type?: string; address?: string }[];
    const preferred = this.options.addressTypes.length ? this.options.addressTypes : DEFAULT_ADDRESS_TYPES;
    let host: string | undefined;
    for (const type of preferred) {
      host = addresses.find((address) => address.type === type && address.address)?.address;
      if (host) break;
    }
    if (!host) {
      // nodeutil.NoMatchError, with Go's %v of the address list.
      throw internalError(`no preferred addresses found; known addresses: [${addresses.map((address) => `{${address.type ?? ''} ${address.address ?? ''}}`).join(' ')}]`);
    }
    const endpoints = isObject(status.daemonEndpoints) ? status.daemonEndpoints : {};
    const kubelet = isObject(endpoints.kubeletEndpoint) ? endpoints.kubeletEndpoint : {};
    const port = typeof kubelet.Port === 'number' && kubelet.Port > 0 ? kubelet.Port : DEFAULT_KUBELET_PORT;
    return { scheme: 'https', host, port, transport: this.transport, insecureTransport: this.insecureTransport };
  }
}
