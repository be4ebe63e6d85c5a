// AdmissionReview admission.k8s.io/v1 (or v1beta1, same shape, for webhooks that only list it): the request
// a webhook receives, and the checks upstream makes on the answer before trusting it (for v1: uid,
// apiVersion and kind; patch only from mutating webhooks, with its type).

import type { AdmissionAttributes } from '../interface.js';
import { isObject } from '../../registry/object.js';

const OPTIONS_KIND: Record<string, string> = { CREATE: 'CreateOptions', UPDATE: 'UpdateOptions', DELETE: 'DeleteOptions' };

export type ReviewVersion = 'v1' | 'v1beta1';

/** The first AdmissionReview version the webhook lists that we speak (upstream's choice). */
export function reviewVersionFor(versions: unknown): ReviewVersion | undefined {
  return (Array.isArray(versions) ? versions : []).find((version): version is ReviewVersion => version === 'v1' || version === 'v1beta1');
}

export function admissionReview(uid: string, attributes: AdmissionAttributes, version: ReviewVersion = 'v1'): Record<string, unknown> {
  const { user } = attributes;
  const optionsKind = OPTIONS_KIND[attributes.operation];
  const options = attributes.options ?? (optionsKind ? { kind: optionsKind, apiVersion: 'meta.k8s.io/v1' } : undefined);
  return {
    kind: 'AdmissionReview',
    apiVersion: `admission.k8s.io/${version}`,
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

/** Upstream's VerifyAdmissionResponse: throws the reason the answer cannot be used (v1beta1 was never checked for uid and type). */
export function verifyResponse(answer: unknown, uid: string, mutating: boolean, version: ReviewVersion = 'v1'): ReviewResponse {
  if (!isObject(answer)) throw new Error('webhook response was absent');
  const gvk = `${String(answer.apiVersion ?? '')}, Kind=${String(answer.kind ?? '')}`;
  const response = answer.response;
  if (!isObject(response)) throw new Error('webhook response was absent');
  let patch = typeof response.patch === 'string' ? response.patch : '';
  let patchType = typeof response.patchType === 'string' ? response.patchType : '';
  if (version === 'v1beta1') {
    // Upstream ignores what a v1beta1 validating webhook says about patches.
    if (!mutating) patch = patchType = '';
  } else {
    if (response.uid !== uid) throw new Error(`expected response.uid=${JSON.stringify(uid)}, got ${JSON.stringify(response.uid ?? '')}`);
    if (answer.apiVersion !== 'admission.k8s.io/v1' || answer.kind !== 'AdmissionReview') throw new Error(`expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got ${gvk}`);
  }
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
