// The one table of strategic-merge metadata for built-in types, mirroring the upstream Go struct tags
// (`patchStrategy`, `patchMergeKey`, `listType`, `listMapKey`). The schema generator writes it into the
// OpenAPI as x-kubernetes-patch-* / x-kubernetes-list-* (kubectl computes client-side-apply patches from
// those), and the server's strategic-merge and apply code read the same entries.

export type PatchStrategy = 'merge' | 'merge,retainKeys' | 'retainKeys' | 'replace';

export interface PatchStrategyEntry {
  /** The key that identifies a list element; absent for primitive lists and for maps. */
  mergeKey?: string;
  /** `replace` marks a list that is always replaced whole (atomic); upstream never writes it to OpenAPI. */
  strategy: PatchStrategy;
  /** Server-side-apply list semantics, where upstream declares them. */
  listType?: 'atomic' | 'set' | 'map';
  listMapKeys?: string[];
}

const CORE = 'io.k8s.api.core.v1';
const APPS = 'io.k8s.api.apps.v1';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

const byName = (strategy: PatchStrategy = 'merge'): PatchStrategyEntry => ({
  mergeKey: 'name',
  strategy,
  listType: 'map',
  listMapKeys: ['name'],
});
const byType: PatchStrategyEntry = { mergeKey: 'type', strategy: 'merge', listType: 'map', listMapKeys: ['type'] };
const atomic: PatchStrategyEntry = { strategy: 'replace', listType: 'atomic' };

/** Fields shared by Container and EphemeralContainer (the same Go struct embedded twice). */
const containerFields: Record<string, PatchStrategyEntry> = {
  ports: { mergeKey: 'containerPort', strategy: 'merge', listType: 'map', listMapKeys: ['containerPort', 'protocol'] },
  env: byName(),
  volumeMounts: { mergeKey: 'mountPath', strategy: 'merge', listType: 'map', listMapKeys: ['mountPath'] },
  volumeDevices: { mergeKey: 'devicePath', strategy: 'merge', listType: 'map', listMapKeys: ['devicePath'] },
  command: atomic,
  args: atomic,
};

function fieldsOf(definition: string, fields: Record<string, PatchStrategyEntry>): [string, PatchStrategyEntry][] {
  return Object.entries(fields).map(([field, entry]) => [`${definition}.${field}`, entry]);
}

/** `<definition>.<field>` → strategic-merge metadata. */
export const patchStrategies: Readonly<Record<string, Readonly<PatchStrategyEntry>>> = Object.freeze(
  Object.fromEntries([
    ...fieldsOf(`${META}.ObjectMeta`, {
      finalizers: { strategy: 'merge', listType: 'set' },
      ownerReferences: { mergeKey: 'uid', strategy: 'merge', listType: 'map', listMapKeys: ['uid'] },
    }),
    ...fieldsOf(`${CORE}.PodSpec`, {
      containers: byName(),
      initContainers: byName(),
      ephemeralContainers: byName(),
      volumes: byName('merge,retainKeys'),
      imagePullSecrets: byName(),
      hostAliases: { mergeKey: 'ip', strategy: 'merge', listType: 'map', listMapKeys: ['ip'] },
      topologySpreadConstraints: {
        mergeKey: 'topologyKey',
        strategy: 'merge',
        listType: 'map',
        listMapKeys: ['topologyKey', 'whenUnsatisfiable'],
      },
      resourceClaims: byName('merge,retainKeys'),
      schedulingGates: byName(),
      tolerations: atomic,
    }),
    ...fieldsOf(`${CORE}.Container`, containerFields),
    ...fieldsOf(`${CORE}.EphemeralContainer`, containerFields),
    ...fieldsOf(`${CORE}.PodStatus`, {
      conditions: byType,
      podIPs: { mergeKey: 'ip', strategy: 'merge', listType: 'map', listMapKeys: ['ip'] },
      hostIPs: { mergeKey: 'ip', strategy: 'merge', listType: 'atomic' },
      resourceClaimStatuses: byName('merge,retainKeys'),
    }),
    ...fieldsOf(`${CORE}.ServiceSpec`, {
      ports: { mergeKey: 'port', strategy: 'merge', listType: 'map', listMapKeys: ['port', 'protocol'] },
    }),
    ...fieldsOf(`${CORE}.ServiceStatus`, { conditions: byType }),
    ...fieldsOf(`${CORE}.NodeSpec`, { podCIDRs: { strategy: 'merge', listType: 'set' } }),
    ...fieldsOf(`${CORE}.NodeStatus`, { conditions: byType, addresses: byType }),
    ...fieldsOf(`${CORE}.NamespaceStatus`, { conditions: byType }),
    ...fieldsOf(`${CORE}.PersistentVolumeClaimStatus`, { conditions: byType }),
    ...fieldsOf(`${CORE}.ReplicationControllerStatus`, { conditions: byType }),
    ...fieldsOf(`${APPS}.DeploymentSpec`, { strategy: { strategy: 'retainKeys' } }),
    ...fieldsOf(`${APPS}.DeploymentStatus`, { conditions: byType }),
    ...fieldsOf(`${APPS}.ReplicaSetStatus`, { conditions: byType }),
    ...fieldsOf(`${APPS}.DaemonSetStatus`, { conditions: byType }),
    ...fieldsOf(`${APPS}.StatefulSetStatus`, { conditions: byType }),
    ...fieldsOf('io.k8s.api.batch.v1.JobStatus', { conditions: { mergeKey: 'type', strategy: 'merge', listType: 'atomic' } }),
    ...fieldsOf('io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus', { conditions: byType }),
    ...fieldsOf('io.k8s.api.policy.v1.PodDisruptionBudgetStatus', { conditions: byType }),
    ...fieldsOf('io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceStatus', { conditions: byType }),
  ]),
);

export function patchStrategyFor(definition: string, field: string): Readonly<PatchStrategyEntry> | undefined {
  const key = `${definition}.${field}`;
  return Object.hasOwn(patchStrategies, key) ? patchStrategies[key] : undefined;
}
