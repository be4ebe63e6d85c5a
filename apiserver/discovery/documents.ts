// Discovery documents built from resource declarations: legacy (APIVersions, APIGroupList, APIGroup,
// APIResourceList) and aggregated (apidiscovery.k8s.io/v2 APIGroupDiscovery), with upstream's ordering.

import { createHash } from 'node:crypto';
import type { ResourceDefinition } from '../registry/resource.js';

export interface GroupVersionResources {
  group: string;
  version: string;
  resources: ResourceDefinition[];
  /** Higher sorts first (APIService groupPriorityMinimum / versionPriority). */
  groupPriority?: number;
  versionPriority?: number;
}

export function storageVersionHash(group: string, version: string, kind: string): string {
  return createHash('sha256').update(`${group}/${version}/${kind}`).digest().subarray(0, 8).toString('base64');
}

export function apiResourceList(gv: GroupVersionResources): Record<string, unknown> {
  const resources: Record<string, unknown>[] = [];
  for (const resource of [...gv.resources].sort((a, b) => a.plural.localeCompare(b.plural))) {
    const entry: Record<string, unknown> = {
      name: resource.plural,
      singularName: resource.singular,
      namespaced: resource.namespaced,
      kind: resource.kind,
      verbs: [...resource.verbs].sort(),
    };
    if (resource.shortNames.length) entry.shortNames = resource.shortNames;
    if (resource.categories.length) entry.categories = resource.categories;
    const hash = resource.storageVersionHash ?? storageVersionHash(resource.group, resource.version, resource.kind);
    if (hash) entry.storageVersionHash = hash;
    resources.push(entry);
    for (const [name, sub] of Object.entries(resource.subresources).sort(([a], [b]) => a.localeCompare(b))) {
      const subEntry: Record<string, unknown> = { name: `${resource.plural}/${name}`, singularName: '', namespaced: resource.namespaced, kind: sub.kind ?? resource.kind, verbs: [...sub.verbs].sort() };
      if (sub.group !== undefined) subEntry.group = sub.group;
      if (sub.version !== undefined) subEntry.version = sub.version;
      resources.push(subEntry);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv.group ? `${gv.group}/${gv.version}` : gv.version, resources };
}

export function aggregatedResources(gv: GroupVersionResources): Record<string, unknown>[] {
  return [...gv.resources]
    .sort((a, b) => a.plural.localeCompare(b.plural))
    .map((resource) => {
      const entry: Record<string, unknown> = {
        resource: resource.plural,
        responseKind: { group: resource.group, version: resource.version, kind: resource.kind },
        scope: resource.namespaced ? 'Namespaced' : 'Cluster',
        singularResource: resource.singular,
        verbs: [...resource.verbs].sort(),
      };
      if (resource.shortNames.length) entry.shortNames = resource.shortNames;
      if (resource.categories.length) entry.categories = resource.categories;
      const subresources = Object.entries(resource.subresources).sort(([a], [b]) => a.localeCompare(b));
      if (subresources.length) {
        entry.subresources = subresources.map(([name, sub]) => ({
          subresource: name,
          responseKind: { group: sub.group ?? resource.group, version: sub.version ?? resource.version, kind: sub.kind ?? resource.kind },
          verbs: [...sub.verbs].sort(),
        }));
      }
      return entry;
    });
}

/** Kube-aware version ordering: GA > beta > alpha, higher numbers first, then non-kube versions by name. */
export function compareKubeVersions(a: string, b: string): number {
  const parse = (version: string) => {
    const match = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(version);
    if (!match) return undefined;
    const stability = match[2] === undefined ? 3 : match[2] === 'beta' ? 2 : 1;
    return { major: Number(match[1]), stability, minor: match[3] === undefined ? 0 : Number(match[3]) };
  };
  const left = parse(a);
  const right = parse(b);
  if (left && right) {
    if (left.stability !== right.stability) return right.stability - left.stability;
    if (left.major !== right.major) return right.major - left.major;
    return right.minor - left.minor;
  }
  if (left) return -1;
  if (right) return 1;
  return a.localeCompare(b);
}

export interface GroupSummary {
  name: string;
  versions: string[]; // in preference order
}

/** Groups in discovery order from group-versions with priorities. */
export function orderGroups(gvs: GroupVersionResources[]): GroupSummary[] {
  const byGroup = new Map<string, GroupVersionResources[]>();
  for (const gv of gvs) {
    if (!byGroup.has(gv.group)) byGroup.set(gv.group, []);
    byGroup.get(gv.group)!.push(gv);
  }
  const groups = [...byGroup.entries()].map(([name, versions]) => ({
    name,
    priority: Math.max(...versions.map((v) => v.groupPriority ?? 0)),
    versions: versions
      .sort((a, b) => (b.versionPriority ?? 0) - (a.versionPriority ?? 0) || compareKubeVersions(a.version, b.version))
      .map((v) => v.version),
  }));
  groups.sort((a, b) => b.priority - a.priority || a.name.localeCompare(b.name));
  return groups.map(({ name, versions }) => ({ name, versions }));
}

export function apiGroup(summary: GroupSummary): Record<string, unknown> {
  const versions = summary.versions.map((version) => ({ groupVersion: `${summary.name}/${version}`, version }));
  return { kind: 'APIGroup', apiVersion: 'v1', name: summary.name, versions, preferredVersion: versions[0] };
}

export function apiGroupList(groups: GroupSummary[]): Record<string, unknown> {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groups.map((group) => {
      const { kind: _kind, apiVersion: _apiVersion, ...rest } = apiGroup(group);
      return rest;
    }),
  };
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

export interface AggregatedVersion {
  version: string;
  resources: Record<string, unknown>[];
  freshness?: 'Current' | 'Stale';
}

export interface AggregatedGroup {
  name: string;
  versions: AggregatedVersion[];
}

export function aggregatedDiscoveryList(groups: AggregatedGroup[], version: 'v2' | 'v2beta1'): Record<string, unknown> {
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: groups.map((group) => ({
      metadata: { name: group.name, creationTimestamp: null },
      versions: group.versions.map((v) => ({ version: v.version, resources: v.resources, freshness: v.freshness ?? 'Current' })),
    })),
  };
}
