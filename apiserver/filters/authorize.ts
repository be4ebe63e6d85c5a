// Authorization. Until RBAC arrives, the policy is upstream's bootstrap minimum: system:masters may do
// everything; everyone may read health and version (system:public-info-viewer); authenticated users may
// read discovery and OpenAPI (system:discovery) and create self-subject reviews (system:basic-user).
// Everything else is a 403 in upstream's words.

import type { RequestInfo } from '../request/request-info.js';
import type { UserInfo } from '../registry/object.js';
import { forbidden } from '../request/status.js';

export type Authorizer = (user: UserInfo, info: RequestInfo) => Promise<{ allowed: boolean; reason?: string }>;

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
  const qualified = info.apiGroup ? `${info.resource}.${info.apiGroup}` : info.resource;
  throw forbidden(forbiddenMessage(user, info, decision.reason), info.isResourceRequest ? { name: info.name || undefined, group: info.apiGroup || undefined, kind: info.resource } : undefined);
  void qualified;
}
