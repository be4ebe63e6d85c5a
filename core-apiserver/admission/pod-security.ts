// PodSecurity (upstream k8s.io/pod-security-admission): a namespace's labels
// `pod-security.kubernetes.io/{enforce,warn,audit}[-version]` choose a Pod Security Standard level per
// mode. A pod that violates the enforce level is refused; warn violations come back as Warning headers,
// audit ones as audit annotations. Workloads (their pod templates) are never refused: upstream turns
// their enforce and warn violations into warnings, so `kubectl apply` of a Deployment says in advance
// what its pods will fail on.

import type { AdmissionAttributes, AdmissionContext, AdmissionPlugin } from '../../apiserver/admission/interface.js';
import { admissionForbidden } from '../../apiserver/admission/run.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';
import type { Level } from './pod-security-checks.js';
import { describe, evaluate } from './pod-security-checks.js';

const LABEL_PREFIX = 'pod-security.kubernetes.io/';
const LEVELS: Level[] = ['privileged', 'baseline', 'restricted'];

type Json = Record<string, unknown>;

function record(value: unknown): Json {
  return isObject(value) ? value : {};
}

interface Policy {
  level: Level;
  version: string;
}

function policyOf(labels: Record<string, string>, mode: 'enforce' | 'warn' | 'audit'): Policy | undefined {
  const level = labels[`${LABEL_PREFIX}${mode}`];
  if (!level || !LEVELS.includes(level as Level) || level === 'privileged') return undefined;
  return { level: level as Level, version: labels[`${LABEL_PREFIX}${mode}-version`] || 'latest' };
}

/** Where each workload kind keeps the pod template it stamps out (upstream's default PodSpecExtractor). */
function templateSpecOf(group: string, resource: string, object: KubeObject): Json | undefined {
  const spec = record(object.spec);
  if (group === '' && resource === 'podtemplates') return record(record((object as Json).template).spec);
  if (group === '' && resource === 'replicationcontrollers') return record(record(spec.template).spec);
  if (group === 'apps' && ['deployments', 'replicasets', 'statefulsets', 'daemonsets'].includes(resource)) return record(record(spec.template).spec);
  if (group === 'batch' && resource === 'jobs') return record(record(spec.template).spec);
  if (group === 'batch' && resource === 'cronjobs') return record(record(record(record(spec.jobTemplate).spec).template).spec);
  return undefined;
}

export class PodSecurity implements AdmissionPlugin {
  readonly name = 'PodSecurity';

  constructor(private readonly namespaceLabels: (namespace: string) => Promise<Record<string, string> | undefined>) {}

  async validate(attributes: AdmissionAttributes, context: AdmissionContext): Promise<void> {
    const object = attributes.object;
    if (!object || !attributes.namespace) return;
    // Pods are judged when created, and again when `kubectl debug` adds an ephemeral container (the only
    // way their security-relevant fields change afterwards, upstream's pods/ephemeralcontainers check).
    const { group, resource } = attributes.resource;
    const isPod = group === '' && resource === 'pods';
    const addsEphemeral = isPod && attributes.subresource === 'ephemeralcontainers' && attributes.operation === 'UPDATE';
    if (attributes.subresource !== '' && !addsEphemeral) return;
    if (isPod ? attributes.operation !== 'CREATE' && !addsEphemeral : attributes.operation !== 'CREATE' && attributes.operation !== 'UPDATE') return;
    const podSpec = isPod ? record(object.spec) : templateSpecOf(group, resource, object);
    if (!podSpec) return;
    const labels = await this.namespaceLabels(attributes.namespace);
    if (!labels) return;
    const enforce = policyOf(labels, 'enforce');
    const warn = policyOf(labels, 'warn');
    const audit = policyOf(labels, 'audit');
    if (!enforce && !warn && !audit) return;
    const judged = new Map<string, string>();
    const judge = (policy: Policy) => {
      const key = `${policy.level}:${policy.version}`;
      if (!judged.has(key)) judged.set(key, describe(evaluate(policy.level, podSpec)));
      return judged.get(key)!;
    };
    const warned = new Set<string>();
    const addWarning = (policy: Policy) => {
      const problems = judge(policy);
      const key = `${policy.level}:${policy.version}`;
      if (!problems || warned.has(key)) return;
      warned.add(key);
      context.warnings.push(`would violate PodSecurity "${key}": ${problems}`);
    };
    if (enforce) {
      context.auditAnnotations[`${LABEL_PREFIX}enforce-policy`] = `${enforce.level}:${enforce.version}`;
      const problems = judge(enforce);
      if (problems) {
        if (isPod) throw admissionForbidden(attributes, `violates PodSecurity "${enforce.level}:${enforce.version}": ${problems}`);
        addWarning(enforce);
      }
    }
    if (audit) {
      const problems = judge(audit);
      if (problems) context.auditAnnotations[`${LABEL_PREFIX}audit-violations`] = `would violate PodSecurity "${audit.level}:${audit.version}": ${problems}`;
    }
    if (warn) addWarning(warn);
  }
}
