// What core-apiserver needs for Services beyond the declarations: the allocators from the flags, the
// Service store that uses them, and the startup work (repair of allocation records, default/kubernetes).

import type { ResourceDefinition } from '../../apiserver/registry/resource.js';
import type { GenericStore, StoreHooks } from '../../apiserver/registry/store.js';
import type { FlagSpec, FlagValues } from '../../apiserver/server/flags.js';
import { FlagError, numberFlag, stringFlag } from '../../apiserver/server/flags.js';
import type { Storage } from '../../apiserver/storage/interface.js';
import type { ServiceAllocators } from './allocators.js';
import { serviceAllocators } from './allocators.js';
import type { KubernetesEndpoint } from './kubernetes-service.js';
import { ensureKubernetesService } from './kubernetes-service.js';
import { repairAllocations } from './repair.js';
import { ServiceStore } from './service-store.js';

export const SERVICE_FLAGS: FlagSpec[] = [
  { name: 'service-cluster-ip-range', type: 'string', default: '10.96.0.0/12', description: 'A CIDR notation IP range from which to assign service cluster IPs (IPv4 only here). Its first address goes to the kubernetes Service.' },
  { name: 'service-node-port-range', type: 'string', default: '30000-32767', description: "A port range to reserve for services with NodePort visibility. Example: '30000-32767'. Inclusive at both ends of the range." },
  { name: 'advertise-address', type: 'string', default: '127.0.0.1', description: 'The IP address published in the default/kubernetes Endpoints and EndpointSlice.' },
  { name: 'advertise-port', type: 'number', default: 6443, description: "The port published in the default/kubernetes Endpoints (the chain's public port: the aggregator's --secure-port)." },
];

/** The allocators the flags describe; flags missing from `values` take their defaults. */
export function serviceAllocatorsFromFlags(values: FlagValues, storage: Storage): ServiceAllocators {
  try {
    return serviceAllocators(storage, stringFlag(values, 'service-cluster-ip-range') ?? '10.96.0.0/12', stringFlag(values, 'service-node-port-range') ?? '30000-32767');
  } catch (error) {
    throw new FlagError((error as Error).message);
  }
}

export function kubernetesEndpointFromFlags(values: FlagValues): KubernetesEndpoint {
  return { address: stringFlag(values, 'advertise-address') ?? '127.0.0.1', port: numberFlag(values, 'advertise-port') ?? 6443 };
}

export class ServiceSupport {
  readonly allocators: ServiceAllocators;
  readonly endpoint: KubernetesEndpoint;

  constructor(
    values: FlagValues,
    private readonly storage: Storage,
    /** The server's stores by plural, filled as resources are registered. */
    private readonly stores: (plural: string) => GenericStore | undefined,
  ) {
    this.allocators = serviceAllocatorsFromFlags(values, storage);
    this.endpoint = kubernetesEndpointFromFlags(values);
  }

  /** The store for a resource that needs more than the generic one (Services), else undefined. */
  storeFor(definition: ResourceDefinition, hooks: StoreHooks): GenericStore | undefined {
    if (definition.group !== '' || definition.plural !== 'services') return undefined;
    return new ServiceStore(definition, this.storage, this.allocators, hooks, this.stores);
  }

  /** After the caches started: allocation records match the stored Services, default/kubernetes exists. */
  async start(): Promise<void> {
    const services = this.stores('services');
    if (services) await repairAllocations(services, this.allocators);
    await ensureKubernetesService(this.stores, this.allocators.clusterIps.firstAddress(), this.endpoint);
  }
}
