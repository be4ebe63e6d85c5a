// pods/binding: the scheduler's way of placing a pod (POST a v1 Binding). It sets spec.nodeName once —
// through this subresource only, since the pod's spec is otherwise frozen — copies the binding's
// annotations onto the pod and marks it PodScheduled.

import type { KubeObject } from '../../../apiserver/registry/object.js';
import { isObject, nowTimestamp } from '../../../apiserver/registry/object.js';
import type { SubresourceDefinition } from '../../../apiserver/registry/resource.js';
import type { FieldError } from '../../../apiserver/request/status.js';
import { badRequest, conflict, invalid, StatusError } from '../../../apiserver/request/status.js';

const BINDING = { group: '', resource: 'pods/binding' };

/** The success answer of a named create that returns no object (upstream's metav1.Status{Status: Success}). */
export function successStatus(code: number): { code: number; body: unknown } {
  return { code, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code } };
}

function validateBinding(binding: KubeObject): FieldError[] {
  const target = isObject(binding.target) ? binding.target : {};
  const errors: FieldError[] = [];
  if (target.kind !== undefined && target.kind !== '' && target.kind !== 'Node') {
    errors.push({ field: 'target.kind', type: 'FieldValueNotSupported', value: target.kind, supported: ['Node', '<empty>'] });
  }
  if (typeof target.name !== 'string' || target.name === '') errors.push({ field: 'target.name', type: 'FieldValueRequired' });
  return errors;
}

/** Sets a pod condition the way podutil.UpdatePodCondition does: the transition time moves only when the status changes. */
export function setPodCondition(pod: KubeObject, condition: { type: string; status: string; reason?: string; message?: string }): void {
  if (!isObject(pod.status)) pod.status = {};
  const conditions: Record<string, unknown>[] = Array.isArray(pod.status.conditions) ? pod.status.conditions : [];
  const index = conditions.findIndex((candidate) => candidate.type === condition.type);
  const existing = index >= 0 ? conditions[index] : undefined;
  const transition = existing && existing.status === condition.status ? existing.lastTransitionTime : nowTimestamp();
  const next = { type: condition.type, status: condition.status, lastProbeTime: null, lastTransitionTime: transition, ...(condition.reason ? { reason: condition.reason } : {}), ...(condition.message ? { message: condition.message } : {}) };
  if (index >= 0) conditions[index] = next;
  else conditions.push(next);
  pod.status.conditions = conditions;
}

export const bindingSubresource: SubresourceDefinition = {
  kind: 'Binding',
  verbs: ['create'],
  // What a binding may change; the rest of the pod keeps its stored value (see GenericStore.prepareUpdate).
  updates: ['spec.nodeName', 'metadata.annotations', 'status.conditions'],
  async create({ store, name, body, context }) {
    if (body.apiVersion !== undefined && body.apiVersion !== '' && body.apiVersion !== 'v1') {
      throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (v1)`);
    }
    if (body.kind !== undefined && body.kind !== '' && body.kind !== 'Binding') {
      throw badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (Binding)`);
    }
    const metadata = isObject(body.metadata) ? body.metadata : {};
    if (metadata.name !== name) throw badRequest('name in URL does not match name in Binding object');
    const errors = validateBinding(body);
    if (errors.length > 0) throw invalid('Binding', '', name, errors);
    const nodeName = String((body.target as Record<string, unknown>).name);
    await store.guaranteedUpdate(name, context, 'binding', undefined, (current) => {
      const pod = current!;
      const refuse = (why: string) => new StatusError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${name}": ${why}`, { name, kind: 'pods/binding' });
      if (pod.metadata.deletionTimestamp) throw refuse(`pod ${name} is being deleted, cannot be assigned to a host`);
      const spec = isObject(pod.spec) ? pod.spec : (pod.spec = {});
      if (spec.nodeName) throw refuse(`pod ${name} is already assigned to node ${JSON.stringify(spec.nodeName)}`);
      if (Array.isArray(spec.schedulingGates) && spec.schedulingGates.length > 0) throw refuse(`pod ${name} has non-empty .spec.schedulingGates`);
      if (typeof metadata.uid === 'string' && metadata.uid && metadata.uid !== pod.metadata.uid) {
        throw conflict(BINDING, name, `Precondition failed: UID in precondition: ${metadata.uid}, UID in object meta: ${pod.metadata.uid ?? ''}`);
      }
      if (typeof metadata.resourceVersion === 'string' && metadata.resourceVersion && metadata.resourceVersion !== pod.metadata.resourceVersion) {
        throw conflict(BINDING, name, `Precondition failed: ResourceVersion in precondition: ${metadata.resourceVersion}, ResourceVersion in object meta: ${pod.metadata.resourceVersion ?? ''}`);
      }
      spec.nodeName = nodeName;
      if (isObject(metadata.annotations)) pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), ...(metadata.annotations as Record<string, string>) };
      setPodCondition(pod, { type: 'PodScheduled', status: 'True' });
      return pod;
    });
    return successStatus(201);
  },
};
