// The Pod Security Standards' controls (upstream k8s.io/pod-security-admission/policy), for the baseline
// and restricted levels: each check reports a forbidden reason and detail worded as upstream words them,
// and the checks run in upstream's order (by check ID; a restricted check replaces its baseline twin).

import { isObject } from '../../apiserver/registry/object.js';

type Json = Record<string, unknown>;

export type Level = 'privileged' | 'baseline' | 'restricted';

export interface Violation {
  reason: string;
  detail: string;
}

interface Check {
  id: string;
  level: 'baseline' | 'restricted';
  /** Baseline checks this one replaces at the restricted level. */
  overrides?: string[];
  run(spec: Json, containers: Json[]): Violation | undefined;
}

function record(value: unknown): Json {
  return isObject(value) ? value : {};
}

function joinQuote(names: string[]): string {
  return names.map((name) => JSON.stringify(name)).join(', ');
}

function plural(count: number, one: string, many: string): string {
  return count === 1 ? one : many;
}

function containerNames(containers: Json[]): string {
  return `${plural(containers.length, 'container', 'containers')} ${joinQuote(containers.map((container) => String(container.name)))}`;
}

const BASELINE_CAPABILITIES = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
const RESTRICTED_VOLUME_SOURCES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

function securityContext(container: Json): Json {
  return record(container.securityContext);
}

function addedCapabilities(container: Json): string[] {
  const add = record(securityContext(container).capabilities).add;
  return Array.isArray(add) ? add.map(String) : [];
}

function volumesOf(spec: Json): Json[] {
  return Array.isArray(spec.volumes) ? spec.volumes.filter(isObject) : [];
}

function volumeSources(volume: Json): string[] {
  return Object.keys(volume).filter((key) => key !== 'name' && volume[key] !== null && volume[key] !== undefined);
}

const CHECKS: Check[] = [
  {
    id: 'allowPrivilegeEscalation',
    level: 'restricted',
    run: (_spec, containers) => {
      const bad = containers.filter((container) => securityContext(container).allowPrivilegeEscalation !== false);
      if (bad.length === 0) return undefined;
      return { reason: 'allowPrivilegeEscalation != false', detail: `${containerNames(bad)} must set securityContext.allowPrivilegeEscalation=false` };
    },
  },
  {
    id: 'capabilities_baseline',
    level: 'baseline',
    run: (_spec, containers) => {
      const bad = containers.filter((container) => addedCapabilities(container).some((capability) => !BASELINE_CAPABILITIES.has(capability)));
      if (bad.length === 0) return undefined;
      const capabilities = [...new Set(bad.flatMap((container) => addedCapabilities(container).filter((capability) => !BASELINE_CAPABILITIES.has(capability))))].sort();
      return { reason: 'non-default capabilities', detail: `${containerNames(bad)} must not include ${joinQuote(capabilities)} in securityContext.capabilities.add` };
    },
  },
  {
    id: 'capabilities_restricted',
    level: 'restricted',
    overrides: ['capabilities_baseline'],
    run: (_spec, containers) => {
      const notDropping = containers.filter((container) => {
        const drop = record(securityContext(container).capabilities).drop;
        return !(Array.isArray(drop) && drop.includes('ALL'));
      });
      const adding = containers.filter((container) => addedCapabilities(container).some((capability) => capability !== 'NET_BIND_SERVICE'));
      const details: string[] = [];
      if (notDropping.length > 0) details.push(`${containerNames(notDropping)} must set securityContext.capabilities.drop=["ALL"]`);
      if (adding.length > 0) {
        const capabilities = [...new Set(adding.flatMap((container) => addedCapabilities(container).filter((capability) => capability !== 'NET_BIND_SERVICE')))].sort();
        details.push(`${containerNames(adding)} must not include ${joinQuote(capabilities)} in securityContext.capabilities.add`);
      }
      return details.length > 0 ? { reason: 'unrestricted capabilities', detail: details.join('; ') } : undefined;
    },
  },
  {
    id: 'hostNamespaces',
    level: 'baseline',
    run: (spec) => {
      const set = ['hostNetwork', 'hostPID', 'hostIPC'].filter((field) => spec[field] === true);
      return set.length > 0 ? { reason: 'host namespaces', detail: set.map((field) => `${field}=true`).join(', ') } : undefined;
    },
  },
  {
    id: 'hostPathVolumes',
    level: 'baseline',
    run: (spec) => {
      const bad = volumesOf(spec).filter((volume) => isObject(volume.hostPath));
      if (bad.length === 0) return undefined;
      return { reason: 'hostPath volumes', detail: `${plural(bad.length, 'volume', 'volumes')} ${joinQuote(bad.map((volume) => String(volume.name)))}` };
    },
  },
  {
    id: 'hostPorts',
    level: 'baseline',
    run: (_spec, containers) => {
      const ports: string[] = [];
      const bad = containers.filter((container) => {
        const used = (Array.isArray(container.ports) ? container.ports.filter(isObject) : []).map((port) => Number(port.hostPort ?? 0)).filter((port) => port !== 0);
        ports.push(...used.map(String));
        return used.length > 0;
      });
      if (bad.length === 0) return undefined;
      return { reason: 'hostPort', detail: `${containerNames(bad)} ${plural(bad.length, 'uses', 'use')} ${plural(ports.length, 'hostPort', 'hostPorts')} ${ports.join(', ')}` };
    },
  },
  {
    id: 'privileged',
    level: 'baseline',
    run: (_spec, containers) => {
      const bad = containers.filter((container) => securityContext(container).privileged === true);
      return bad.length > 0 ? { reason: 'privileged', detail: `${containerNames(bad)} must not set securityContext.privileged=true` } : undefined;
    },
  },
  {
    id: 'restrictedVolumes',
    level: 'restricted',
    overrides: ['hostPathVolumes'],
    run: (spec) => {
      const bad = volumesOf(spec).filter((volume) => volumeSources(volume).some((source) => !RESTRICTED_VOLUME_SOURCES.has(source)));
      if (bad.length === 0) return undefined;
      const types = [...new Set(bad.flatMap((volume) => volumeSources(volume).filter((source) => !RESTRICTED_VOLUME_SOURCES.has(source))))].sort();
      return {
        reason: 'restricted volume types',
        detail: `${plural(bad.length, 'volume', 'volumes')} ${joinQuote(bad.map((volume) => String(volume.name)))} ${plural(bad.length, 'uses', 'use')} ${plural(types.length, 'restricted volume type', 'restricted volume types')} ${joinQuote(types)}`,
      };
    },
  },
  {
    id: 'runAsNonRoot',
    level: 'restricted',
    run: (spec, containers) => {
      const pod = record(spec.securityContext).runAsNonRoot;
      const setters: string[] = pod === false ? ['pod'] : [];
      const podOptedIn = pod === true;
      const explicit = containers.filter((container) => securityContext(container).runAsNonRoot === false);
      const implicit = containers.filter((container) => !podOptedIn && (securityContext(container).runAsNonRoot === undefined || securityContext(container).runAsNonRoot === null));
      if (explicit.length > 0) setters.push(containerNames(explicit));
      // Explicit refusals are reported alone; then what pod or containers must opt into.
      if (setters.length > 0) return { reason: 'runAsNonRoot != true', detail: `${setters.join(' and ')} must not set securityContext.runAsNonRoot=false` };
      if (implicit.length > 0) return { reason: 'runAsNonRoot != true', detail: `pod or ${containerNames(implicit)} must set securityContext.runAsNonRoot=true` };
      return undefined;
    },
  },
  {
    id: 'runAsUser',
    level: 'restricted',
    run: (spec, containers) => {
      const setters: string[] = record(spec.securityContext).runAsUser === 0 ? ['pod'] : [];
      const bad = containers.filter((container) => securityContext(container).runAsUser === 0);
      if (bad.length > 0) setters.push(containerNames(bad));
      return setters.length > 0 ? { reason: 'runAsUser=0', detail: `${setters.join(' and ')} must not set runAsUser=0` } : undefined;
    },
  },
  {
    id: 'seccompProfile_baseline',
    level: 'baseline',
    run: (spec, containers) => {
      const setters: string[] = record(record(spec.securityContext).seccompProfile).type === 'Unconfined' ? ['pod'] : [];
      const bad = containers.filter((container) => record(securityContext(container).seccompProfile).type === 'Unconfined');
      if (bad.length > 0) setters.push(containerNames(bad));
      return setters.length > 0 ? { reason: 'seccompProfile', detail: `${setters.join(' and ')} must not set securityContext.seccompProfile.type to "Unconfined"` } : undefined;
    },
  },
  {
    id: 'seccompProfile_restricted',
    level: 'restricted',
    overrides: ['seccompProfile_baseline'],
    run: (spec, containers) => {
      const allowed = (type: unknown) => type === 'RuntimeDefault' || type === 'Localhost';
      const podProfile = record(spec.securityContext).seccompProfile;
      const setters: string[] = [];
      const badValues = new Set<string>();
      let podSet = false;
      if (isObject(podProfile)) {
        if (allowed(podProfile.type)) podSet = true;
        else {
          setters.push('pod');
          badValues.add(String(podProfile.type ?? ''));
        }
      }
      const explicit: Json[] = [];
      const implicit: Json[] = [];
      for (const container of containers) {
        const profile = securityContext(container).seccompProfile;
        if (isObject(profile)) {
          if (!allowed(profile.type)) {
            explicit.push(container);
            badValues.add(String(profile.type ?? ''));
          }
        } else if (!podSet) {
          implicit.push(container);
        }
      }
      if (explicit.length > 0) setters.push(containerNames(explicit));
      if (setters.length > 0) return { reason: 'seccompProfile', detail: `${setters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote([...badValues].sort())}` };
      if (implicit.length > 0) return { reason: 'seccompProfile', detail: `pod or ${containerNames(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"` };
      return undefined;
    },
  },
];

/** The containers a pod spec runs, in upstream's visiting order. */
function containersOf(spec: Json): Json[] {
  return ['initContainers', 'containers', 'ephemeralContainers'].flatMap((field) => (Array.isArray(spec[field]) ? (spec[field] as unknown[]).filter(isObject) : []));
}

/** Every violation of the level by this pod spec (empty when it complies). */
export function evaluate(level: Level, podSpec: Json): Violation[] {
  if (level === 'privileged') return [];
  const checks = CHECKS.filter((check) => check.level === 'baseline' || level === 'restricted');
  const overridden = new Set(checks.flatMap((check) => check.overrides ?? []));
  const containers = containersOf(podSpec);
  const violations: Violation[] = [];
  for (const check of checks) {
    if (overridden.has(check.id)) continue;
    const violation = check.run(podSpec, containers);
    if (violation) violations.push(violation);
  }
  return violations;
}

export function describe(violations: Violation[]): string {
  return violations.map((violation) => (violation.detail ? `${violation.reason} (${violation.detail})` : violation.reason)).join(', ');
}
