// Delegated authorization for extension servers (upstream's DelegatingAuthorizationOptions): health paths
// and system:masters are answered here; everything else is a SubjectAccessReview to core, whose answer is
// cached for 10 s whether allowed or denied (upstream's webhook cache TTLs), so a busy client costs one
// review per distinct request shape per 10 s. A review that fails is not cached and fails the request with
// a 500, as upstream's authorization filter answers an authorizer error.

import NodeCache from 'node-cache';
import type { FlagSpec, FlagValues } from '../server/flags.js';
import { listFlag, numberFlag, stringFlag } from '../server/flags.js';
import type { Authorizer, Decision } from '../filters/authorize.js';
import type { UserInfo } from '../registry/object.js';
import type { RequestInfo } from '../request/request-info.js';
import { clientFromKubeconfig, type ApiClient } from './kubeconfig-client.js';
import { PRIVILEGED_GROUP } from './rbac-authorizer.js';

export const DELEGATED_AUTHORIZATION_FLAGS: FlagSpec[] = [
  { name: 'authorization-kubeconfig', type: 'string', description: 'kubeconfig file pointing at the \'core\' kubernetes server with enough rights to create subjectaccessreviews.authorization.k8s.io. Without it, only system:masters and the bootstrap minimum (health, version, discovery, self reviews) are allowed.' },
  { name: 'authorization-always-allow-paths', type: 'list', default: ['/healthz', '/readyz', '/livez'], description: 'A list of HTTP paths to skip during authorization, i.e. these are authorized without contacting the \'core\' kubernetes server. A trailing * matches a prefix.' },
  { name: 'authorization-webhook-cache-authorized-ttl', type: 'number', default: 10, description: 'Seconds to cache \'authorized\' responses from the webhook authorizer.' },
  { name: 'authorization-webhook-cache-unauthorized-ttl', type: 'number', default: 10, description: 'Seconds to cache \'unauthorized\' responses from the webhook authorizer.' },
];

export interface DelegatingAuthorizerOptions {
  client: ApiClient;
  alwaysAllowPaths?: string[];
  alwaysAllowGroups?: string[];
  allowedTtlSeconds?: number;
  deniedTtlSeconds?: number;
}

function pathAllowed(patterns: string[], path: string): boolean {
  return patterns.some((pattern) => (pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : pattern === path));
}

/** The SubjectAccessReview spec for a request, as upstream's webhook authorizer builds it. */
export function subjectAccessReviewSpec(user: UserInfo, info: RequestInfo): Record<string, unknown> {
  const spec: Record<string, unknown> = { user: user.username, groups: user.groups };
  if (user.uid) spec.uid = user.uid;
  if (user.extra && Object.keys(user.extra).length) spec.extra = user.extra;
  if (info.isResourceRequest) {
    spec.resourceAttributes = { namespace: info.namespace, verb: info.verb, group: info.apiGroup, version: info.apiVersion, resource: info.resource, subresource: info.subresource, name: info.name };
  } else {
    spec.nonResourceAttributes = { path: info.path, verb: info.verb };
  }
  return spec;
}

export function delegatingAuthorizer(options: DelegatingAuthorizerOptions): Authorizer {
  const alwaysAllowPaths = options.alwaysAllowPaths ?? ['/healthz', '/readyz', '/livez'];
  const alwaysAllowGroups = options.alwaysAllowGroups ?? [PRIVILEGED_GROUP];
  const allowedTtl = options.allowedTtlSeconds ?? 10;
  const deniedTtl = options.deniedTtlSeconds ?? 10;
  const cache = new NodeCache({ checkperiod: 30, useClones: false });
  return async (user, info) => {
    if (!info.isResourceRequest && pathAllowed(alwaysAllowPaths, info.path)) return { allowed: true };
    if (user.groups.some((group) => alwaysAllowGroups.includes(group))) return { allowed: true };
    const spec = subjectAccessReviewSpec(user, info);
    const key = JSON.stringify(spec);
    const cached = cache.get<Decision>(key);
    if (cached) return cached;
    let response: { status: number; body: Record<string, unknown> };
    try {
      response = await options.client.post('/apis/authorization.k8s.io/v1/subjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec });
    } catch (error) {
      return { allowed: false, error: `authorization webhook: ${(error as Error).message}` };
    }
    if (response.status !== 201 && response.status !== 200) {
      return { allowed: false, error: `authorization webhook: SubjectAccessReview to ${options.client.server} answered ${response.status}: ${String(response.body.message ?? '')}` };
    }
    const status = (response.body.status ?? {}) as Record<string, unknown>;
    const decision: Decision = { allowed: status.allowed === true };
    if (typeof status.reason === 'string' && status.reason) decision.reason = status.reason;
    cache.set(key, decision, decision.allowed ? allowedTtl : deniedTtl);
    return decision;
  };
}

/** The delegating authorizer from --authorization-kubeconfig, or undefined when none is given. */
export function delegatingAuthorizerFromFlags(values: FlagValues): Authorizer | undefined {
  const kubeconfig = stringFlag(values, 'authorization-kubeconfig');
  if (!kubeconfig) return undefined;
  return delegatingAuthorizer({
    client: clientFromKubeconfig(kubeconfig),
    alwaysAllowPaths: values['authorization-always-allow-paths'] === undefined ? undefined : listFlag(values, 'authorization-always-allow-paths'),
    allowedTtlSeconds: numberFlag(values, 'authorization-webhook-cache-authorized-ttl'),
    deniedTtlSeconds: numberFlag(values, 'authorization-webhook-cache-unauthorized-ttl'),
  });
}
