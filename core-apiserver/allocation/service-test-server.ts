// Test support (not itself a test): an ApiServer serving Services (with allocation), Endpoints and
// EndpointSlices over MemoryStorage on plain HTTP, as core-apiserver wires them.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiServer } from '../../apiserver/server/api-server.js';
import { MemoryStorage } from '../../apiserver/storage/memory.js';
import { builtinSchemas } from '../../apiserver/schema/builtin.js';
import { structuralCheckFor } from '../../apiserver/schema/structural-check.js';
import { schemaPatchMeta } from '../../apiserver/schema/patch-meta.js';
import type { GenericStore } from '../../apiserver/registry/store.js';
import type { ResourceDefinition } from '../../apiserver/registry/resource.js';
import { services } from '../resources/services.js';
import { endpoints } from '../resources/endpoints.js';
import { endpointSlices } from '../resources/endpointslices.js';
import type { ServiceAllocators } from './allocators.js';
import { ServiceSupport } from './service-support.js';

export const SERVICES = '/api/v1/namespaces/default/services';
export const ENDPOINTS = '/api/v1/namespaces/default/endpoints';
export const ENDPOINT_SLICES = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices';

export interface ServiceServer {
  port: number;
  storage: MemoryStorage;
  allocators: ServiceAllocators;
  support: ServiceSupport;
  stores: Map<string, GenericStore>;
  close(): Promise<void>;
}

export async function startServiceServer(options: { clusterIpRange?: string; nodePortRange?: string; storage?: MemoryStorage } = {}): Promise<ServiceServer> {
  const storage = options.storage ?? new MemoryStorage();
  const definitions = builtinSchemas();
  const server = new ApiServer({ name: 'core-test', authentication: { clientCa: [], untrustedIdentityHeaders: 'strip' }, authorizer: async () => ({ allowed: true }) });
  const stores = new Map<string, GenericStore>();
  const values = { 'service-cluster-ip-range': options.clusterIpRange, 'service-node-port-range': options.nodePortRange };
  const support = new ServiceSupport(values, storage, (plural) => stores.get(plural));
  for (const definition of [services, endpoints, endpointSlices] as ResourceDefinition[]) {
    const schema = definitions[definition.schemaName!];
    const hooks = { structuralCheck: structuralCheckFor(schema, definitions) };
    const patchMeta = schemaPatchMeta(schema, definitions);
    const custom = support.storeFor(definition, hooks);
    stores.set(definition.plural, server.addResource({ definition, storage, hooks, patchMeta, entry: custom && { store: custom, patchMeta } }) ?? custom!);
  }
  await server.startCaches();
  const httpServer = http.createServer(server.callback());
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  return {
    port: (httpServer.address() as AddressInfo).port,
    storage,
    allocators: support.allocators,
    support,
    stores,
    async close() {
      await server.shutdown(1000);
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}

/** A minimal Service manifest (one port 80, selector app=<name>). */
export function service(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec } };
}

/** The values that have an allocation record under a prefix. */
export async function recordKeys(storage: MemoryStorage, prefix: string): Promise<string[]> {
  return (await storage.list(prefix)).items.map((item) => item.key.slice(prefix.length));
}
