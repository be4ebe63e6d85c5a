// default/kubernetes: the Service in-cluster clients use to reach the API (the first cluster IP, port
// 443), with Endpoints and an EndpointSlice naming where the API really listens. Created at startup
// when missing, as upstream's control-plane reconcilers do; the endpoints follow the configured address.

import type { KubeObject } from '../../apiserver/registry/object.js';
import type { GenericStore, WriteContext } from '../../apiserver/registry/store.js';
import { StatusError } from '../../apiserver/request/status.js';
import { ipFamilyOf } from '../resources/network-fields.js';
import { deepEqual } from '../../apiserver/registry/managed-fields.js';

export interface KubernetesEndpoint {
  address: string;
  port: number;
}

const NAME = 'kubernetes';
const NAMESPACE = 'default';

function systemContext(): WriteContext {
  return {
    user: { username: 'system:apiserver', groups: ['system:masters'] },
    namespace: NAMESPACE,
    warnings: [],
    dryRun: false,
    fieldManager: 'kube-apiserver',
    fieldValidation: 'Ignore',
  };
}

export function kubernetesService(clusterIP: string, endpoint: KubernetesEndpoint): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: NAME, namespace: NAMESPACE, labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      type: 'ClusterIP',
      clusterIP,
      clusterIPs: [clusterIP],
      ipFamilyPolicy: 'SingleStack',
      sessionAffinity: 'None',
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: endpoint.port }],
    },
  };
}

function kubernetesEndpoints(endpoint: KubernetesEndpoint): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    // The EndpointSlice is written directly, so the mirroring controller must leave these alone.
    metadata: { name: NAME, namespace: NAMESPACE, labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: [{ ip: endpoint.address }], ports: [{ name: 'https', port: endpoint.port, protocol: 'TCP' }] }],
  };
}

function kubernetesEndpointSlice(endpoint: KubernetesEndpoint): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: NAME, namespace: NAMESPACE, labels: { 'kubernetes.io/service-name': NAME } },
    addressType: ipFamilyOf(endpoint.address) ?? 'IPv4',
    endpoints: [{ addresses: [endpoint.address], conditions: { ready: true } }],
    ports: [{ name: 'https', port: endpoint.port, protocol: 'TCP' }],
  };
}

/** Creates the object unless it exists; another replica winning the race is success too. */
async function createIfMissing(store: GenericStore, object: KubeObject): Promise<void> {
  const name = object.metadata.name!;
  try {
    await store.get(NAMESPACE, name);
    return;
  } catch (error) {
    if (!(error instanceof StatusError && error.code === 404)) throw error;
  }
  try {
    await store.create(structuredClone(object), systemContext());
  } catch (error) {
    // Another replica may hold the allocation already and be about to write the object: give it a moment.
    for (let attempt = 0; attempt < 25; attempt++) {
      const exists = await store.get(NAMESPACE, name).then(
        () => true,
        () => false,
      );
      if (exists) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw error;
  }
}

/** Creates the object or brings the given top-level fields and labels back to what this server serves. */
async function reconcile(store: GenericStore, desired: KubeObject, fields: string[]): Promise<void> {
  const name = desired.metadata.name!;
  const current = await store.getObject(NAMESPACE, name).catch((error: unknown) => {
    if (error instanceof StatusError && error.code === 404) return undefined;
    throw error;
  });
  if (!current) return createIfMissing(store, desired);
  const labels = { ...(current.metadata.labels ?? {}), ...desired.metadata.labels };
  if (fields.every((field) => deepEqual(current[field], desired[field])) && deepEqual(labels, current.metadata.labels)) return;
  await store.guaranteedUpdate(name, systemContext(), '', undefined, (latest) => {
    const next = structuredClone(latest ?? desired);
    for (const field of fields) next[field] = structuredClone(desired[field]);
    next.metadata.labels = { ...(next.metadata.labels ?? {}), ...desired.metadata.labels };
    return next;
  });
}

export async function ensureKubernetesService(stores: (plural: string) => GenericStore | undefined, clusterIP: string, endpoint: KubernetesEndpoint): Promise<void> {
  const services = stores('services');
  if (services) await createIfMissing(services, kubernetesService(clusterIP, endpoint));
  const endpoints = stores('endpoints');
  if (endpoints) await reconcile(endpoints, kubernetesEndpoints(endpoint), ['subsets']);
  const slices = stores('endpointslices');
  if (slices) await reconcile(slices, kubernetesEndpointSlice(endpoint), ['addressType', 'endpoints', 'ports']);
}
