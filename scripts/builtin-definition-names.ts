// Maps the client's class names (V1Pod, AppsV1… , V1beta1Device) to the definition names upstream's
// OpenAPI uses (io.k8s.api.core.v1.Pod), and finds the group-version-kind of every top-level kind.
//
// A class name carries the version (`V1`, `V1beta1`, `V2`) and sometimes the group (`CoreV1Event`,
// `AuthenticationV1TokenRequest`, prefixed where two groups share a kind name) but usually not the group.
// The group is found in three steps:
//   1. top-level kinds: the request paths of the generated API classes (`/apis/apps/v1/…/deployments`
//      returns V1Deployment, so Deployment is in `apps`), taking only plain resource paths, because
//      subresources return other groups' kinds (pods/eviction → policy's Eviction);
//   2. nested types: they belong to the group of the first kind that reaches them, visiting core kinds
//      first (core never references other groups, while apps/batch/… reference core types);
//   3. two small tables for what the first two steps cannot see: meta types, which no path returns, and
//      the few types whose Go package differs from the only group that uses them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { ClientModel } from './client-node-models.js';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface DefinitionName {
  /** `io.k8s.api.apps.v1.Deployment` */
  definition: string;
  /** Set on kinds that are objects of their own (apiVersion, kind and metadata), lists included. */
  groupVersionKind?: GroupVersionKind;
}

/** API group → the Go package prefix of its definitions. `meta` stands for apimachinery's meta/v1. */
const GROUP_PACKAGES: Record<string, string> = {
  '': 'io.k8s.api.core',
  'admissionregistration.k8s.io': 'io.k8s.api.admissionregistration',
  'apiextensions.k8s.io': 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions',
  'apiregistration.k8s.io': 'io.k8s.kube-aggregator.pkg.apis.apiregistration',
  apps: 'io.k8s.api.apps',
  'authentication.k8s.io': 'io.k8s.api.authentication',
  'authorization.k8s.io': 'io.k8s.api.authorization',
  autoscaling: 'io.k8s.api.autoscaling',
  batch: 'io.k8s.api.batch',
  'certificates.k8s.io': 'io.k8s.api.certificates',
  'coordination.k8s.io': 'io.k8s.api.coordination',
  'discovery.k8s.io': 'io.k8s.api.discovery',
  'events.k8s.io': 'io.k8s.api.events',
  'flowcontrol.apiserver.k8s.io': 'io.k8s.api.flowcontrol',
  'internal.apiserver.k8s.io': 'io.k8s.api.apiserverinternal',
  'networking.k8s.io': 'io.k8s.api.networking',
  'node.k8s.io': 'io.k8s.api.node',
  policy: 'io.k8s.api.policy',
  'rbac.authorization.k8s.io': 'io.k8s.api.rbac',
  'resource.k8s.io': 'io.k8s.api.resource',
  'scheduling.k8s.io': 'io.k8s.api.scheduling',
  'storage.k8s.io': 'io.k8s.api.storage',
  'storagemigration.k8s.io': 'io.k8s.api.storagemigration',
  meta: 'io.k8s.apimachinery.pkg.apis.meta',
};

/** apimachinery's meta/v1 types: no request path returns most of them, so no path can place them. */
const META_KINDS = new Set([
  'APIGroup', 'APIGroupList', 'APIResource', 'APIResourceList', 'APIVersions', 'Condition', 'DeleteOptions',
  'FieldSelectorRequirement', 'GroupVersionForDiscovery', 'LabelSelector', 'LabelSelectorRequirement',
  'ListMeta', 'ManagedFieldsEntry', 'ObjectMeta', 'OwnerReference', 'Preconditions',
  'ServerAddressByClientCIDR', 'Status', 'StatusCause', 'StatusDetails', 'WatchEvent',
]);

/** Meta kinds that are objects of their own; upstream lists them under the core group. */
const META_TOP_LEVEL_KINDS = new Set(['APIGroup', 'APIGroupList', 'APIResourceList', 'APIVersions', 'Status']);

/**
 * Classes whose Go package the traversal would get wrong: kinds reachable only as subresources of
 * another group's resource (Scale, Eviction), and core types only other groups reference
 * (TopologySelectorTerm is core/v1 but only StorageClass uses it).
 */
const GROUP_OVERRIDES: Record<string, string> = {
  V1Scale: 'autoscaling',
  V1Eviction: 'policy',
  V1TopologySelectorTerm: '',
  V1TopologySelectorLabelRequirement: '',
};

/** Types with no version prefix at all. */
const UNVERSIONED_DEFINITIONS: Record<string, string> = {
  VersionInfo: 'io.k8s.apimachinery.pkg.version.Info',
};

interface ParsedClassName {
  groupPrefix?: string;
  version: string;
  kind: string;
}

const CLASS_NAME = /^([A-Z][a-z]+)?V(\d+(?:(?:alpha|beta)\d+)?)([A-Z].*)$/;

export function parseClassName(className: string): ParsedClassName | undefined {
  const match = CLASS_NAME.exec(className);
  if (!match) return undefined;
  return { groupPrefix: match[1], version: `v${match[2]}`, kind: match[3] };
}

/** `Core` → '', `Rbac` → rbac.authorization.k8s.io: the prefix is the last segment of the Go package. */
function groupOfPrefix(prefix: string): string {
  const segment = prefix.toLowerCase();
  for (const [group, goPackage] of Object.entries(GROUP_PACKAGES)) {
    if (goPackage.endsWith(`.${segment}`)) return group;
  }
  throw new Error(`unknown group prefix ${prefix} in the client's class names`);
}

const RESOURCE_PATH = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))\/(?:namespaces\/\{namespace\}\/)?[a-z0-9]+(?:\/\{name\})?$/;

/**
 * Class name → API group, read from the generated API classes: each request-factory method has its
 * path, and the matching `…WithHttpInfo` response method deserializes its return type.
 */
export function groupsFromRequestPaths(clientPackage: string): Map<string, string> {
  const apisDirectory = join(clientPackage, 'dist', 'gen', 'apis');
  const groups = new Map<string, string>();
  for (const file of readdirSync(apisDirectory).sort()) {
    if (!/V\d+(?:(?:alpha|beta)\d+)?Api\.js$/.test(file)) continue;
    const pathsByMethod = new Map<string, string>();
    const typesByMethod = new Map<string, string>();
    for (const chunk of readFileSync(join(apisDirectory, file), 'utf8').split('\n    async ').slice(1)) {
      const method = /^(\w+)\(/.exec(chunk)?.[1];
      if (!method) continue;
      const path = /const localVarPath = '([^']+)'/.exec(chunk)?.[1];
      if (path) pathsByMethod.set(method, path);
      const returned = /ObjectSerializer\.deserialize\([^;]*?, "(\w+)", ""\)/.exec(chunk)?.[1];
      if (returned && method.endsWith('WithHttpInfo')) typesByMethod.set(method.slice(0, -'WithHttpInfo'.length), returned);
    }
    for (const [method, path] of pathsByMethod) {
      const returned = typesByMethod.get(method);
      const match = RESOURCE_PATH.exec(path);
      if (!returned || !match || returned === 'V1Status') continue;
      const group = match[1] ? '' : match[2];
      const previous = groups.get(returned);
      if (previous !== undefined && previous !== group) {
        throw new Error(`${returned} is returned by paths of two groups: "${previous}" and "${group}"`);
      }
      groups.set(returned, group);
    }
  }
  return groups;
}

/** Class names referenced by a field type such as `Array<V1Container>` or `{ [key: string]: V1Counter; }`. */
function referencedClasses(fieldType: string, known: Map<string, ClientModel>): string[] {
  return (fieldType.match(/[A-Za-z0-9]+/g) ?? []).filter((word) => known.has(word));
}

export function resolveDefinitionNames(models: ClientModel[], clientPackage: string): Map<string, DefinitionName> {
  const byClass = new Map(models.map((model) => [model.className, model]));
  const groupOf = new Map<string, string>();
  for (const [className, group] of Object.entries(GROUP_OVERRIDES)) if (byClass.has(className)) groupOf.set(className, group);
  for (const model of models) {
    const parsed = parseClassName(model.className);
    if (!parsed) continue;
    if (parsed.groupPrefix) groupOf.set(model.className, groupOfPrefix(parsed.groupPrefix));
    else if (META_KINDS.has(parsed.kind) && parsed.version === 'v1') groupOf.set(model.className, 'meta');
  }
  const roots = groupsFromRequestPaths(clientPackage);
  for (const [className, group] of roots) if (!groupOf.has(className)) groupOf.set(className, group);

  // Core first (see the header), then the other groups in a fixed order for a deterministic result.
  const rootList = [...byClass.keys()].filter((className) => groupOf.has(className) && groupOf.get(className) !== 'meta');
  rootList.sort((a, b) => {
    const groupA = groupOf.get(a)!;
    const groupB = groupOf.get(b)!;
    if (groupA !== groupB) return groupA === '' ? -1 : groupB === '' ? 1 : groupA < groupB ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
  for (const root of rootList) {
    const group = groupOf.get(root)!;
    const queue = [root];
    while (queue.length > 0) {
      const model = byClass.get(queue.pop()!)!;
      for (const field of model.fields) {
        for (const referenced of referencedClasses(field.type, byClass)) {
          if (groupOf.has(referenced)) continue;
          groupOf.set(referenced, group);
          queue.push(referenced);
        }
      }
    }
  }

  const names = new Map<string, DefinitionName>();
  for (const model of models) {
    const unversioned = UNVERSIONED_DEFINITIONS[model.className];
    if (unversioned) {
      names.set(model.className, { definition: unversioned });
      continue;
    }
    const parsed = parseClassName(model.className);
    const group = groupOf.get(model.className);
    if (!parsed || group === undefined) {
      throw new Error(`cannot tell the API group of ${model.className}: add it to GROUP_OVERRIDES`);
    }
    const name: DefinitionName = { definition: `${GROUP_PACKAGES[group]}.${parsed.version}.${parsed.kind}` };
    const jsonNames = new Set(model.fields.map((field) => field.jsonName));
    const isObjectOfItsOwn = jsonNames.has('apiVersion') && jsonNames.has('kind') && jsonNames.has('metadata');
    if (group === 'meta') {
      if (META_TOP_LEVEL_KINDS.has(parsed.kind)) name.groupVersionKind = { group: '', version: parsed.version, kind: parsed.kind };
    } else if (isObjectOfItsOwn) {
      name.groupVersionKind = { group, version: parsed.version, kind: parsed.kind };
    }
    names.set(model.className, name);
  }
  return names;
}
