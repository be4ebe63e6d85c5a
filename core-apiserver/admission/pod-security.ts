// PodSecurity (upstream k8s.io/pod-security-admission, 1.32): a namespace's labels
// `pod-security.kubernetes.io/{enforce,warn,audit}[-version]` choose a Pod Security Standard level per
// mode (unset labels take the configuration's defaults, privileged:latest unless configured). A pod that
// violates the enforce level is refused; warn violations come back as Warning headers, audit ones as audit
// annotations. Pod updates are judged only when something the standards look at can have changed
// (upstream's isSignificantPodUpdate). Workloads (their pod templates) are judged for warn and audit only:
// upstream never refuses a Deployment, its pods fail later. A namespace whose enforce level is raised gets
// warnings naming the existing pods that would now be refused. Exempt users, namespaces and runtime
// classes are never judged.

import type { AdmissionAttributes, AdmissionContext, AdmissionPlugin } from '../../apiserver/admission/interface.js';
import { admissionForbidden } from '../../apiserver/admission/run.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';
import type { FieldError } from '../../apiserver/request/status.js';
import { invalid } from '../../apiserver/request/status.js';
import type { Level } from './pod-security-checks.js';
import { describe, evaluate } from './pod-security-checks.js';

const LABEL_PREFIX = 'pod-security.kubernetes.io/';
const LEVELS: Level[] = ['privileged', 'baseline', 'restricted'];
const STRICTNESS: Record<Level, number> = { privileged: 0, baseline: 1, restricted: 2 };
const VERSION = /^v1\.([0-9]|[1-9][0-9]*)$/;
/** upstream's namespaceMaxPodsToCheck and namespacePodCheckTimeout. */
const NAMESPACE_MAX_PODS = 3000;
const NAMESPACE_CHECK_MS = 1000;

/** Pod subresources that cannot change what the standards look at (upstream's ignoredPodSubresources). */
const IGNORED_POD_SUBRESOURCES = new Set(['exec', 'attach', 'binding', 'eviction', 'log', 'portforward', 'proxy', 'status']);

type Json = Record<string, unknown>;

function record(value: unknown): Json {
  return isObject(value) ? value : {};
}

interface LevelVersion {
  level: Level;
  version: string;
}

interface Policy {
  enforce: LevelVersion;
  audit: LevelVersion;
  warn: LevelVersion;
}

/** PodSecurityConfiguration's defaults and exemptions (pod-security.admission.config.k8s.io/v1). */
export interface PodSecurityConfiguration {
  defaults?: Partial<Record<'enforce' | 'audit' | 'warn' | 'enforce-version' | 'audit-version' | 'warn-version', string>>;
  exemptions?: { usernames?: string[]; namespaces?: string[]; runtimeClasses?: string[] };
}

const key = (policy: LevelVersion) => `${policy.level}:${policy.version}`;

/** upstream's PolicyToEvaluate: a valid policy always, and the label errors beside it. */
function policyToEvaluate(labels: Record<string, string>, defaults: Policy): { policy: Policy; errors: FieldError[] } {
  const policy: Policy = { enforce: { ...defaults.enforce }, audit: { ...defaults.audit }, warn: { ...defaults.warn } };
  const errors: FieldError[] = [];
  const fail = (label: string, value: string, detail: string) => errors.push({ field: `metadata.labels[${LABEL_PREFIX}${label}]`, type: 'FieldValueInvalid', value, detail });
  for (const mode of ['enforce', 'audit', 'warn'] as const) {
    const level = labels[`${LABEL_PREFIX}${mode}`];
    if (level !== undefined) {
      if (LEVELS.includes(level as Level)) policy[mode].level = level as Level;
      else {
        fail(mode, level, `must be one of ${LEVELS.join(', ')}`);
        // An unreadable enforce level fails closed; audit and warn fail open.
        policy[mode].level = mode === 'enforce' ? 'restricted' : 'privileged';
      }
    }
    const version = labels[`${LABEL_PREFIX}${mode}-version`];
    if (version !== undefined) {
      if (version === 'latest' || VERSION.test(version)) policy[mode].version = version;
      else {
        fail(`${mode}-version`, version, 'must be "latest" or "v1.x"');
        policy[mode].version = 'latest';
      }
    }
  }
  return { policy, errors };
}

/** Where each workload kind keeps the pod template it stamps out (upstream's DefaultPodSpecExtractor). */
function templateOf(group: string, resource: string, object: KubeObject): Json | undefined | null {
  const spec = record(object.spec);
  const template = (value: unknown) => (isObject(value) ? value : null);
  if (group === '' && resource === 'podtemplates') return template((object as Json).template);
  if (group === '' && resource === 'replicationcontrollers') return template(spec.template);
  if (group === 'apps' && ['deployments', 'replicasets', 'statefulsets', 'daemonsets'].includes(resource)) return template(spec.template);
  if (group === 'batch' && resource === 'jobs') return template(spec.template);
  if (group === 'batch' && resource === 'cronjobs') return template(record(record(spec.jobTemplate).spec).template);
  return undefined;
}

function containersOf(spec: Json, field: string): Json[] {
  return Array.isArray(spec[field]) ? (spec[field] as unknown[]).filter(isObject) : [];
}

/**
 * upstream's isSignificantPodUpdate: the only pod fields the standards check that an update can change are
 * images, seccomp annotations and ephemeral containers.
 */
export function isSignificantPodUpdate(pod: KubeObject, old: KubeObject): boolean {
  const annotations = pod.metadata.annotations ?? {};
  const oldAnnotations = old.metadata.annotations ?? {};
  if (annotations['seccomp.security.alpha.kubernetes.io/pod'] !== oldAnnotations['seccomp.security.alpha.kubernetes.io/pod']) return true;
  const spec = record(pod.spec);
  const oldSpec = record(old.spec);
  const changed = (container: Json, oldContainer: Json) => {
    if (container.image !== oldContainer.image) return true;
    const seccomp = `container.seccomp.security.alpha.kubernetes.io/${String(container.name)}`;
    return annotations[seccomp] !== oldAnnotations[seccomp];
  };
  for (const field of ['containers', 'initContainers']) {
    const containers = containersOf(spec, field);
    const oldContainers = containersOf(oldSpec, field);
    if (containers.length !== oldContainers.length) return true;
    if (containers.some((container, index) => changed(container, oldContainers[index]))) return true;
  }
  const oldEphemeral = containersOf(oldSpec, 'ephemeralContainers');
  return containersOf(spec, 'ephemeralContainers').some((container) => {
    const previous = oldEphemeral.find((candidate) => candidate.name === container.name);
    return !previous || changed(container, previous);
  });
}

/** The reasons alone, as upstream's ForbiddenReason lists them for existing pods. */
function reasons(podSpec: Json, policy: LevelVersion): string {
  return evaluate(policy.level, podSpec)
    .map((violation) => violation.reason)
    .join(', ');
}

export interface PodSecuritySources {
  /** A namespace's labels (undefined when there is no such namespace). */
  namespaceLabels(namespace: string): Promise<Record<string, string> | undefined>;
  /** The pods of a namespace, for the check of a raised enforce level. */
  pods(namespace: string): Promise<KubeObject[]>;
}

export class PodSecurity implements AdmissionPlugin {
  readonly name = 'PodSecurity';
  private readonly defaults: Policy;
  private readonly exempt: { usernames: Set<string>; namespaces: Set<string>; runtimeClasses: Set<string> };

  constructor(
    private readonly sources: PodSecuritySources,
    configuration: PodSecurityConfiguration = {},
  ) {
    const defaults = configuration.defaults ?? {};
    const parsed = (mode: 'enforce' | 'audit' | 'warn'): LevelVersion => ({ level: (defaults[mode] as Level | undefined) ?? 'privileged', version: defaults[`${mode}-version`] ?? 'latest' });
    this.defaults = { enforce: parsed('enforce'), audit: parsed('audit'), warn: parsed('warn') };
    const exemptions = configuration.exemptions ?? {};
    this.exempt = { usernames: new Set(exemptions.usernames ?? []), namespaces: new Set(exemptions.namespaces ?? []), runtimeClasses: new Set(exemptions.runtimeClasses ?? []) };
  }

  async validate(attributes: AdmissionAttributes, context: AdmissionContext): Promise<void> {
    if (attributes.operation !== 'CREATE' && attributes.operation !== 'UPDATE') return;
    const object = attributes.object;
    if (!object) return;
    const { group, resource } = attributes.resource;
    if (group === '' && resource === 'namespaces') return this.validateNamespace(attributes, object, context);
    const isPod = group === '' && resource === 'pods';
    if (isPod ? IGNORED_POD_SUBRESOURCES.has(attributes.subresource) : attributes.subresource !== '') return;
    if (!attributes.namespace) return;
    const template = isPod ? undefined : templateOf(group, resource, object);
    if (!isPod && template === undefined) return;
    if (this.exemptFor(attributes, context)) return;
    const labels = await this.sources.namespaceLabels(attributes.namespace);
    if (!labels) return;
    const { policy, errors } = policyToEvaluate(labels, this.defaults);
    const privileged = (mode: LevelVersion) => errors.length === 0 && mode.level === 'privileged';
    if (privileged(policy.warn) && privileged(policy.audit) && (!isPod || privileged(policy.enforce))) return;
    if (isPod) {
      if (attributes.operation === 'UPDATE' && attributes.oldObject && !isSignificantPodUpdate(object, attributes.oldObject)) return;
      this.evaluate(attributes, policy, errors, record(object.spec), true, context);
    } else if (template) {
      this.evaluate(attributes, policy, errors, record(template.spec), false, context);
    }
  }

  private exemptFor(attributes: AdmissionAttributes, context: AdmissionContext): boolean {
    const reason = this.exempt.namespaces.has(attributes.namespace) ? 'namespace' : this.exempt.usernames.has(attributes.user.username) ? 'user' : undefined;
    if (reason) context.auditAnnotations[`${LABEL_PREFIX}exempt`] = reason;
    return reason !== undefined;
  }

  /** upstream's EvaluatePod: enforce (pods only), then audit, then warn, each level judged once. */
  private evaluate(attributes: AdmissionAttributes, policy: Policy, errors: FieldError[], podSpec: Json, enforce: boolean, context: AdmissionContext): void {
    const runtimeClass = podSpec.runtimeClassName;
    if (typeof runtimeClass === 'string' && runtimeClass && this.exempt.runtimeClasses.has(runtimeClass)) {
      context.auditAnnotations[`${LABEL_PREFIX}exempt`] = 'runtimeClass';
      return;
    }
    if (errors.length > 0) {
      const listed = errors.map((error) => `${error.field}: Invalid value: ${JSON.stringify(error.value)}: ${error.detail}`);
      context.auditAnnotations[`${LABEL_PREFIX}error`] = `Failed to parse policy: ${listed.length === 1 ? listed[0] : `[${listed.join(', ')}]`}`;
    }
    const judged = new Map<string, string>();
    const judge = (mode: LevelVersion) => {
      if (!judged.has(key(mode))) judged.set(key(mode), describe(evaluate(mode.level, podSpec)));
      return judged.get(key(mode))!;
    };
    const enforced = enforce ? judge(policy.enforce) : '';
    if (enforce) context.auditAnnotations[`${LABEL_PREFIX}enforce-policy`] = key(policy.enforce);
    const audited = judge(policy.audit);
    if (audited) context.auditAnnotations[`${LABEL_PREFIX}audit-violations`] = `would violate PodSecurity "${key(policy.audit)}": ${audited}`;
    // A request that is refused gets no warnings besides.
    if (enforced) throw admissionForbidden(attributes, `violates PodSecurity "${key(policy.enforce)}": ${enforced}`);
    const warned = judge(policy.warn);
    if (warned) context.warnings.push(`would violate PodSecurity "${key(policy.warn)}": ${warned}`);
  }

  /** Labels must parse (when they changed); a raised enforce level is checked against the existing pods. */
  private async validateNamespace(attributes: AdmissionAttributes, namespace: KubeObject, context: AdmissionContext): Promise<void> {
    if (attributes.subresource !== '') return;
    const name = namespace.metadata.name ?? attributes.name;
    const next = policyToEvaluate(namespace.metadata.labels ?? {}, this.defaults);
    const refuse = () => invalid('Namespace', '', name, next.errors);
    if (attributes.operation === 'CREATE') {
      if (next.errors.length > 0) throw refuse();
      return;
    }
    const old = policyToEvaluate(attributes.oldObject?.metadata.labels ?? {}, this.defaults);
    const described = (errors: FieldError[]) => JSON.stringify(errors.map((error) => [error.field, error.value, error.detail]));
    if (next.errors.length > 0 && (old.errors.length === 0 || described(next.errors) !== described(old.errors))) throw refuse();
    const [raised, was] = [next.policy.enforce, old.policy.enforce];
    if (key(raised) === key(was) || raised.level === 'privileged') return;
    if (raised.version === was.version && STRICTNESS[raised.level] <= STRICTNESS[was.level]) return;
    if (this.exempt.namespaces.has(name)) return;
    context.warnings.push(...(await this.existingPodWarnings(name, raised)));
  }

  /** upstream's EvaluatePodsInNamespace: one line per distinct violation, naming its first pod and how many others. */
  private async existingPodWarnings(namespace: string, enforce: LevelVersion): Promise<string[]> {
    let pods: KubeObject[];
    try {
      pods = await this.sources.pods(namespace);
    } catch {
      return ['failed to list pods while checking new PodSecurity enforce level'];
    }
    const deadline = Date.now() + NAMESPACE_CHECK_MS;
    const total = pods.length;
    const candidates = pods.slice(0, NAMESPACE_MAX_PODS);
    let checked = candidates.length;
    const byViolation = new Map<string, { first: string; count: number }>();
    for (const [index, pod] of candidates.entries()) {
      const spec = record(pod.spec);
      const runtimeClass = spec.runtimeClassName;
      if (!(typeof runtimeClass === 'string' && runtimeClass && this.exempt.runtimeClasses.has(runtimeClass))) {
        const violation = reasons(spec, enforce);
        if (violation) {
          const podName = pod.metadata.name ?? '';
          const seen = byViolation.get(violation);
          if (!seen) byViolation.set(violation, { first: podName, count: 1 });
          else {
            seen.count++;
            if (podName < seen.first) seen.first = podName;
          }
        }
      }
      if (Date.now() > deadline) {
        checked = index + 1;
        break;
      }
    }
    const warnings: string[] = [];
    if (checked < total) warnings.push(`new PodSecurity enforce level only checked against the first ${checked} of ${total} existing pods`);
    if (byViolation.size > 0) warnings.push(`existing pods in namespace ${JSON.stringify(namespace)} violate the new PodSecurity enforce level ${JSON.stringify(key(enforce))}`);
    const lines = [...byViolation].map(([violation, { first, count }]) => {
      if (count === 1) return `${first}: ${violation}`;
      if (count === 2) return `${first} (and 1 other pod): ${violation}`;
      return `${first} (and ${count - 1} other pods): ${violation}`;
    });
    return [...warnings, ...lines.sort()];
  }
}
