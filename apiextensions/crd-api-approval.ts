// The API review rule for CRDs in Kubernetes' own groups (upstream's apihelpers.GetAPIApprovalState):
// a CRD of *.k8s.io or *.kubernetes.io must carry the api-approved.kubernetes.io annotation with the URL
// of its approved API review, or a reason starting with "unapproved".

export const API_APPROVED_ANNOTATION = 'api-approved.kubernetes.io';

export type ApprovalState = 'Invalid' | 'Approved' | 'Bypassed' | 'Missing';

export function isProtectedCommunityGroup(group: string): boolean {
  return group === 'k8s.io' || group.endsWith('.k8s.io') || group === 'kubernetes.io' || group.endsWith('.kubernetes.io');
}

export function apiApprovalState(annotations: Record<string, string> | undefined): { state: ApprovalState; reason: string } {
  const annotation = typeof annotations?.[API_APPROVED_ANNOTATION] === 'string' ? annotations[API_APPROVED_ANNOTATION] : '';
  if (annotation === '') {
    return { state: 'Missing', reason: `protected groups must have approval annotation "${API_APPROVED_ANNOTATION}", see https://github.com/kubernetes/enhancements/pull/1111` };
  }
  if (annotation.startsWith('unapproved')) return { state: 'Bypassed', reason: `not approved: ${JSON.stringify(annotation)}` };
  if (isRequestUriWithHost(annotation)) return { state: 'Approved', reason: `approved in ${annotation}` };
  return {
    state: 'Invalid',
    reason: `protected groups must have approval annotation "${API_APPROVED_ANNOTATION}" with either a URL or a reason starting with "unapproved", see https://github.com/kubernetes/enhancements/pull/1111`,
  };
}

/** Go's url.ParseRequestURI succeeding with a scheme and a host. */
function isRequestUriWithHost(value: string): boolean {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]+)/.exec(value);
  if (!match || /[\s\x00-\x1f\x7f]/.test(value)) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/** The KubernetesAPIApprovalPolicyConformant condition (upstream's apiapproval controller), or undefined outside protected groups. */
export function apiApprovalCondition(group: string, annotations: Record<string, string> | undefined): { type: string; status: 'True' | 'False' | 'Unknown'; reason: string; message: string } | undefined {
  if (!isProtectedCommunityGroup(group)) return undefined;
  const { state, reason } = apiApprovalState(annotations);
  const type = 'KubernetesAPIApprovalPolicyConformant';
  switch (state) {
    case 'Invalid':
      return { type, status: 'False', reason: 'InvalidAnnotation', message: reason };
    case 'Missing':
      return { type, status: 'False', reason: 'MissingAnnotation', message: reason };
    case 'Approved':
      return { type, status: 'True', reason: 'ApprovedAnnotation', message: reason };
    case 'Bypassed':
      return { type, status: 'False', reason: 'UnapprovedAnnotation', message: reason };
  }
}
