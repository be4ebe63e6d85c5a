// AdmissionReview admission.k8s.io/v1: the request a webhook receives, and the checks upstream makes on the
// answer before trusting it (uid, apiVersion and kind, patch only from mutating webhooks, with its type).

import type { AdmissionAttributes } from '../interface.js';
import { isObject } from '../../registry/object.js';

const OPTIONS_KIND: Record<string, string> = { CREATE: 'CreateOptions', UPDATE: 'UpdateOptions', DELETE: 'DeleteOptions' };

export function admissionReview(uid: string, attributes: AdmissionAttributes): Record<string, unknown> {
  const { user } = attributes;
  const optionsKind = OPTIONS_KIND[attributes.operation];
  const options = attributes.options ?? (optionsKind ? { kind: optionsKind, apiVersion: 'meta.k8s.io/v1' } : undefined);
  return {
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: {
      uid,
      kind: attributes.kind,
      resource: attributes.resource,
      subResource: attributes.subresource || undefined,
      requestKind: attributes.kind,
      requestResource: attributes.resource,
      requestSubResource: attributes.subresource || undefined,
      name: attributes.name || undefined,
      namespace: attributes.namespace || undefined,
      operation: attributes.operation,
      userInfo: { username: user.username, uid: user.uid || undefined, groups: user.groups, extra: user.extra && Object.keys(user.extra).length > 0 ? user.extra : undefined },
      object: attributes.object ?? null,
      oldObject: attributes.oldObject ?? null,
      dryRun: attributes.dryRun,
      options: options ?? null,
    },
  };
}

export interface ReviewResponse {
  allowed: boolean;
  status?: { code?: number; reason?: string; message?: string; details?: Record<string, unknown>; status?: string };
  patch?: string;
  patchType?: string;
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

/** Upstream's VerifyAdmissionResponse for v1: throws the reason the answer cannot be used. */
export function verifyResponse(answer: unknown, uid: string, mutating: boolean): ReviewResponse {
  if (!isObject(answer)) throw new Error('webhook response was absent');
  const gvk = `${String(answer.apiVersion ?? '')}, Kind=${String(answer.kind ?? '')}`;
  const response = answer.response;
  if (!isObject(response)) throw new Error('webhook response was absent');
  if (response.uid !== uid) throw new Error(`expected response.uid=${JSON.stringify(uid)}, got ${JSON.stringify(response.uid ?? '')}`);
  if (answer.apiVersion !== 'admission.k8s.io/v1' || answer.kind !== 'AdmissionReview') throw new Error(`expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got ${gvk}`);
  const patch = typeof response.patch === 'string' ? response.patch : '';
  const patchType = typeof response.patchType === 'string' ? response.patchType : '';
  if (mutating && patch && !patchType) throw new Error('webhook returned response.patch but not response.patchType');
  if (mutating && !patch && patchType) throw new Error('webhook returned response.patchType but not response.patch');
  if (!mutating && patch) throw new Error('validating webhook may not return response.patch');
  if (!mutating && patchType) throw new Error('validating webhook may not return response.patchType');
  return {
    allowed: response.allowed === true,
    status: isObject(response.status) ? (response.status as ReviewResponse['status']) : undefined,
    patch: patch || undefined,
    patchType: patchType || undefined,
    warnings: Array.isArray(response.warnings) ? response.warnings.filter((warning): warning is string => typeof warning === 'string') : [],
    auditAnnotations: isObject(response.auditAnnotations) ? (response.auditAnnotations as Record<string, string>) : {},
  };
}
