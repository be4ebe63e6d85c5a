// Authorization: the filter that turns a decision into upstream's 403, and the decision types. Servers of
// the chain plug in their authorizer (RBAC on core and the aggregator, apiserver/authorization/; a
// SubjectAccessReview to core on extension servers). A server given none falls back to the bootstrap
// minimum below: system:masters may do everything; everyone may read health and version
// (system:public-info-viewer); authenticated users may read discovery and OpenAPI (system:discovery) and
// create self-subject reviews (system:basic-user).

import type { RequestInfo } from '../request/request-info.js';
import type { UserInfo } from '../registry/object.js';
import { forbidden, internalError } from '../request/status.js';

export interface Decision {
  allowed: boolean;
  /** Why (RBAC: which binding allowed it; on a denial, what could not be resolved), appended to the 403. */
  reason?: string;
  /** The authorizer could not decide (e.g. a SubjectAccessReview failed): a 500, as upstream's filter answers. */
  error?: string;
}

export type Authorizer = (user: UserInfo, info: RequestInfo) => Promise<Decision>;

/** SelfSubjectRulesReview status: the rules that apply to a user in a namespace. */
export interface RulesReview {
  resourceRules: Record<string, unknown>[];
  nonResourceRules: Record<string, unknown>[];
  incomplete: boolean;
  evaluationError?: string;
}

export type RuleResolver = (user: UserInfo, namespace: string) => RulesReview;

const PUBLIC_INFO = [/^\/(healthz|livez|readyz)(\/.*)?$/, /^\/version\/?$/];
const DISCOVERY = [/^\/api\/?$/, /^\/api\/v1\/?$/, /^\/apis(\/[^/]+){0,2}\/?$/, /^\/openapi\/.*$/, /^\/version\/?$/];

// system:service-account-issuer-discovery, bound to system:serviceaccounts as upstream's bootstrap policy does.
const ISSUER_DISCOVERY = /^\/(\.well-known\/openid-configuration|openid\/v1\/jwks)\/?$/;

const SELF_REVIEWS = new Set([
  'authorization.k8s.io/selfsubjectaccessreviews',
  'authorization.k8s.io/selfsubjectrulesreviews',
  'authentication.k8s.io/selfsubjectreviews',
]);

export const bootstrapAuthorizer: Authorizer = async (user, info) => {
  if (user.groups.includes('system:masters')) return { allowed: true };
  // system:basic-user: every authenticated user may ask what it is allowed to do, and who it is.
  if (info.isResourceRequest && info.verb === 'create' && user.groups.includes('system:authenticated') && SELF_REVIEWS.has(`${info.apiGroup}/${info.resource}`)) {
    return { allowed: true };
  }
  if (!info.isResourceRequest && info.verb === 'get') {
    if (PUBLIC_INFO.some((pattern) => pattern.test(info.path))) return { allowed: true };
    if (user.groups.includes('system:authenticated') && DISCOVERY.some((pattern) => pattern.test(info.path))) return { allowed: true };
    if (user.groups.includes('system:serviceaccounts') && ISSUER_DISCOVERY.test(info.path)) return { allowed: true };
  }
  return { allowed: false };
};

export function forbiddenMessage(user: UserInfo, info: RequestInfo, reason?: string): string {
  const suffix = reason ? `: ${reason}` : '';
  if (!info.isResourceRequest) return `forbidden: User "${user.username}" cannot ${info.verb} path "${info.path}"${suffix}`;
  const resource = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
  const qualified = info.apiGroup ? `${info.resource}.${info.apiGroup}` : info.resource;
  const named = info.name ? ` "${info.name}"` : '';
  const scope = info.namespace ? ` in the namespace "${info.namespace}"` : ' at the cluster scope';
  return `${qualified}${named} is forbidden: User "${user.username}" cannot ${info.verb} resource "${resource}" in API group "${info.apiGroup}"${scope}${suffix}`;
}

export async function authorize(authorizer: Authorizer, user: UserInfo, info: RequestInfo): Promise<void> {
  const decision = await authorizer(user, info);
  if (decision.allowed) return;
  if (decision.error) throw internalError(decision.error);
  throw forbidden(forbiddenMessage(user, info, decision.reason), info.isResourceRequest ? { name: info.name || undefined, group: info.apiGroup || undefined, kind: info.resource } : undefined);
}
