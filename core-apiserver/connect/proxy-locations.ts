// Where pods/proxy, services/proxy and nodes/proxy lead (upstream's ResourceLocation of each registry): the
// name in the URL may carry a scheme and a port (`https:web:8443`), a pod is reached on its IP, a service on
// one ready endpoint address (Endpoints whose address is a pod with that IP), a node on its kubelet.

import net from 'node:net';
import type { GenericStore } from '../../apiserver/registry/store.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';
import { badRequest, serviceUnavailable, StatusError } from '../../apiserver/request/status.js';
import type { ProxyLocation } from './upgrade-aware-proxy.js';

export interface SchemeNamePort {
  scheme: '' | 'http' | 'https';
  name: string;
  port: string;
}

/** utilnet.SplitSchemeNamePort: `name`, `name:port` or `scheme:name:port` with scheme http, https or empty. */
export function splitSchemeNamePort(id: string): SchemeNamePort | undefined {
  const parts = id.split(':');
  let scheme = '';
  let name = '';
  let port = '';
  if (parts.length === 1) [name] = parts;
  else if (parts.length === 2) [name, port] = parts;
  else if (parts.length === 3) [scheme, name, port] = parts;
  else return undefined;
  if (name === '' || (scheme !== '' && scheme !== 'http' && scheme !== 'https')) return undefined;
  return { scheme: scheme as SchemeNamePort['scheme'], name, port };
}

type Json = Record<string, unknown>;

function objects(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

async function read(store: GenericStore, namespace: string, name: string): Promise<KubeObject> {
  return JSON.parse(await store.getBytes(namespace, name)) as KubeObject;
}

function hostPort(host: string, port: string): { host: string; port: number } {
  return { host, port: Number(port) };
}

/** Go's net.IP.IsGlobalUnicast: not unspecified, loopback, link-local, multicast or broadcast. */
export function isGlobalUnicast(ip: string): boolean {
  if (net.isIPv4(ip)) {
    const [a, b] = ip.split('.').map(Number);
    return !(a === 0 || a === 127 || (a === 169 && b === 254) || a >= 224);
  }
  if (net.isIPv6(ip)) {
    const lower = ip.toLowerCase();
    return !(lower === '::' || lower === '::1' || lower.startsWith('fe8') || lower.startsWith('fe9') || lower.startsWith('fea') || lower.startsWith('feb') || lower.startsWith('ff'));
  }
  return false;
}

function podIPs(pod: KubeObject): string[] {
  const status = isObject(pod.status) ? pod.status : {};
  const ips = objects(status.podIPs).map((entry) => String(entry.ip ?? '')).filter(Boolean);
  if (ips.length === 0 && typeof status.podIP === 'string' && status.podIP) ips.push(status.podIP);
  return ips;
}

/** pod.ResourceLocation: the pod's first IP, on the given port or its first declared container port. */
export async function podLocation(pods: GenericStore, namespace: string, id: string, path: string): Promise<ProxyLocation> {
  const parsed = splitSchemeNamePort(id);
  if (!parsed) throw badRequest(`invalid pod request ${JSON.stringify(id)}`);
  const pod = await read(pods, namespace, parsed.name);
  let port = parsed.port;
  if (!port) {
    const spec = isObject(pod.spec) ? pod.spec : {};
    for (const container of objects(spec.containers)) {
      const first = objects(container.ports)[0];
      if (first && typeof first.containerPort === 'number') {
        port = String(first.containerPort);
        break;
      }
    }
  }
  const ip = podIPs(pod)[0] ?? '';
  if (!isGlobalUnicast(ip)) throw badRequest('address not allowed');
  const scheme = parsed.scheme || 'http';
  return { scheme, ...hostPort(ip, port || (scheme === 'https' ? '443' : '80')), path, query: '' };
}

/**
 * The service's REST ResourceLocation: a port number is turned into the service port's name, then a
 * random Endpoints subset with that port and a random address of it that is a pod of this namespace with
 * that IP (upstream's isValidAddress: addresses without such a pod are skipped).
 */
export async function serviceLocation(services: GenericStore, endpoints: GenericStore, pods: GenericStore, namespace: string, id: string, path: string): Promise<ProxyLocation> {
  const parsed = splitSchemeNamePort(id);
  if (!parsed) throw badRequest(`invalid service request ${JSON.stringify(id)}`);
  let portName = parsed.port;
  if (/^[+-]?\d+$/.test(portName)) {
    const service = await read(services, namespace, parsed.name);
    const spec = isObject(service.spec) ? service.spec : {};
    const match = objects(spec.ports).find((port) => port.port === Number(portName));
    if (!match) throw serviceUnavailable(`no service port ${Number(portName)} found for service ${JSON.stringify(parsed.name)}`);
    portName = typeof match.name === 'string' ? match.name : '';
  }
  const endpointsObject = await read(endpoints, namespace, parsed.name);
  const subsets = objects((endpointsObject as Json).subsets);
  if (subsets.length === 0) throw serviceUnavailable(`no endpoints available for service ${JSON.stringify(parsed.name)}`);
  const start = Math.floor(Math.random() * subsets.length);
  for (let offset = 0; offset < subsets.length; offset++) {
    const subset = subsets[(start + offset) % subsets.length];
    const addresses = objects(subset.addresses);
    if (addresses.length === 0) continue;
    for (const port of objects(subset.ports)) {
      if ((typeof port.name === 'string' ? port.name : '') !== portName) continue;
      const first = Math.floor(Math.random() * addresses.length);
      for (let attempt = 0; attempt < addresses.length; attempt++) {
        const address = addresses[(first + attempt) % addresses.length];
        if (!(await isPodAddress(pods, namespace, address))) continue;
        return { scheme: parsed.scheme || 'http', ...hostPort(String(address.ip), String(port.port)), path, query: '' };
      }
    }
  }
  throw serviceUnavailable(`no endpoints available for service ${JSON.stringify(id)}`);
}

/** isValidAddress: the address names a pod of the request's namespace that has this IP. */
async function isPodAddress(pods: GenericStore, namespace: string, address: Json): Promise<boolean> {
  const ref = isObject(address.targetRef) ? address.targetRef : undefined;
  if (!ref || ref.namespace !== namespace || typeof ref.name !== 'string') return false;
  try {
    return podIPs(await read(pods, namespace, ref.name)).includes(String(address.ip));
  } catch (error) {
    if (error instanceof StatusError && error.code === 404) return false;
    throw error;
  }
}
