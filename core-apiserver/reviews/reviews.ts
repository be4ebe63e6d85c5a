// authorization.k8s.io and authentication.k8s.io reviews, evaluated with the server's own authorizer
// (system:masters, then RBAC) and its RBAC rule resolver, so `kubectl auth can-i`, `can-i --list` and
// `auth whoami` tell the truth about what this server allows.

import { defineResource, type ResourceDefinition } from '../../apiserver/registry/resource.js';
import type { KubeObject, UserInfo } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';
import type { RequestInfo } from '../../apiserver/request/request-info.js';
import type { Authorizer, RuleResolver } from '../../apiserver/filters/authorize.js';
import { badRequest, internalError, invalid, type FieldError } from '../../apiserver/request/status.js';
import type { TokenResult } from '../../apiserver/authentication/token-authenticator.js';
import { AuthenticationError } from '../../apiserver/authentication/token-authenticator.js';
import type { Review } from './review-store.js';

const create = ['create'] as const;

function declare(group: string, kind: string, plural: string, namespaced = false): ResourceDefinition {
  // Never stored, so discovery shows no storage version hash (as upstream).
  return defineResource({ group, version: 'v1', kind, plural, namespaced, verbs: [...create], schemaName: `io.k8s.api.${group.split('.')[0]}.v1.${kind}`, storageVersionHash: '' });
}

export const subjectAccessReviews = declare('authorization.k8s.io', 'SubjectAccessReview', 'subjectaccessreviews');
export const localSubjectAccessReviews = declare('authorization.k8s.io', 'LocalSubjectAccessReview', 'localsubjectaccessreviews', true);
export const selfSubjectAccessReviews = declare('authorization.k8s.io', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews');
export const selfSubjectRulesReviews = declare('authorization.k8s.io', 'SelfSubjectRulesReview', 'selfsubjectrulesreviews');
export const tokenReviews = declare('authentication.k8s.io', 'TokenReview', 'tokenreviews');
export const selfSubjectReviews = declare('authentication.k8s.io', 'SelfSubjectReview', 'selfsubjectreviews');

/** ValidateSubjectAccessReviewSpec and friends: upstream's checks, all reported at once as one 422. */
function validateSpec(kind: string, spec: Record<string, unknown>, namespace?: string): void {
  const errors: FieldError[] = [];
  const resource = isObject(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
  const nonResource = isObject(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined;
  if (resource && nonResource) errors.push({ field: 'spec.nonResourceAttributes', type: 'FieldValueInvalid', value: nonResource, detail: 'cannot be specified in combination with resourceAttributes' });
  if (!resource && !nonResource) errors.push({ field: 'spec.resourceAttributes', type: 'FieldValueInvalid', value: null, detail: 'exactly one of nonResourceAttributes or resourceAttributes must be specified' });
  // Self reviews are about the caller; the others must name someone.
  if (!kind.startsWith('Self') && !spec.user && !(Array.isArray(spec.groups) && spec.groups.length)) {
    errors.push({ field: 'spec.user', type: 'FieldValueInvalid', value: '', detail: 'at least one of user or group must be specified' });
  }
  if (namespace !== undefined) {
    if (resource && String(resource.namespace ?? '') !== namespace) errors.push({ field: 'spec.resourceAttributes.namespace', type: 'FieldValueInvalid', value: String(resource.namespace ?? ''), detail: 'must match metadata.namespace' });
    if (nonResource) errors.push({ field: 'spec.nonResourceAttributes', type: 'FieldValueInvalid', value: nonResource, detail: 'disallowed on this kind of request' });
  }
  if (errors.length) throw invalid(kind, 'authorization.k8s.io', '', errors);
}

function attributesInfo(spec: Record<string, unknown>, kind: string, namespace?: string): RequestInfo {
  validateSpec(kind, spec, namespace);
  const resource = isObject(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
  const nonResource = isObject(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined;
  if (resource) {
    return {
      isResourceRequest: true,
      path: '',
      verb: String(resource.verb ?? ''),
      apiPrefix: resource.group ? 'apis' : 'api',
      apiGroup: String(resource.group ?? ''),
      apiVersion: String(resource.version ?? ''),
      namespace: String(resource.namespace ?? ''),
      resource: String(resource.resource ?? ''),
      subresource: String(resource.subresource ?? ''),
      name: String(resource.name ?? ''),
      parts: [],
    };
  }
  return { isResourceRequest: false, path: String(nonResource!.path ?? ''), verb: String(nonResource!.verb ?? ''), apiPrefix: '', apiGroup: '', apiVersion: '', namespace: '', resource: '', subresource: '', name: '', parts: [] };
}

async function decide(authorizer: Authorizer, user: UserInfo, info: RequestInfo): Promise<Record<string, unknown>> {
  const decision = await authorizer(user, info);
  const status: Record<string, unknown> = { allowed: decision.allowed };
  if (decision.reason) status.reason = decision.reason;
  if (decision.error) status.evaluationError = decision.error;
  return status;
}

function userFromSpec(spec: Record<string, unknown>): UserInfo {
  const extra = isObject(spec.extra) ? (spec.extra as Record<string, string[]>) : undefined;
  return { username: String(spec.user ?? ''), uid: spec.uid ? String(spec.uid) : undefined, groups: Array.isArray(spec.groups) ? spec.groups.map(String) : [], ...(extra ? { extra } : {}) };
}

function userInfoJson(user: UserInfo): Record<string, unknown> {
  const info: Record<string, unknown> = { username: user.username };
  if (user.uid) info.uid = user.uid;
  info.groups = user.groups;
  if (user.extra && Object.keys(user.extra).length) info.extra = user.extra;
  return info;
}

/** What a TokenReview asks: the server's own token authenticators (see filters/authenticate.ts reviewToken). */
export type TokenReviewer = (token: string, audiences: string[]) => Promise<TokenResult | undefined>;

/** authentication.k8s.io TokenReview: authenticated, user, audiences, and the rejection as error. */
async function reviewToken(reviewer: TokenReviewer | undefined, spec: Record<string, unknown>): Promise<Record<string, unknown>> {
  const token = typeof spec.token === 'string' ? spec.token : '';
  if (!token) throw badRequest('token is required for TokenReview in authentication');
  const audiences = Array.isArray(spec.audiences) ? spec.audiences.map(String) : [];
  if (!reviewer) return { user: {} };
  try {
    const result = await reviewer(token, audiences);
    // Upstream reviews through its bearer-token request authenticator, which names an unknown token so.
    if (!result) return { user: {}, error: 'invalid bearer token' };
    if (audiences.length && !result.audiences.some((audience) => audiences.includes(audience))) throw internalError('error validating audiences');
    return { authenticated: true, user: userInfoJson(result.user), audiences: result.audiences };
  } catch (error) {
    if (error instanceof AuthenticationError) return { user: {}, error: error.message };
    throw error;
  }
}

export function reviewsFor(authorizer: Authorizer, rulesFor: RuleResolver, tokenReviewer?: TokenReviewer): { definition: ResourceDefinition; review: Review }[] {
  return [
    { definition: subjectAccessReviews, review: (request) => decide(authorizer, userFromSpec(request.spec), attributesInfo(request.spec, 'SubjectAccessReview')) },
    {
      definition: localSubjectAccessReviews,
      review: (request: KubeObject, _user: UserInfo, namespace: string) => {
        const info = attributesInfo(request.spec, 'LocalSubjectAccessReview', namespace);
        return decide(authorizer, userFromSpec(request.spec), info);
      },
    },
    { definition: selfSubjectAccessReviews, review: (request, user) => decide(authorizer, user, attributesInfo(request.spec, 'SelfSubjectAccessReview')) },
    {
      definition: selfSubjectRulesReviews,
      review: (request, user) => {
        const namespace = typeof request.spec.namespace === 'string' ? request.spec.namespace : '';
        return { ...rulesFor(user, namespace) };
      },
    },
    { definition: tokenReviews, review: (request) => reviewToken(tokenReviewer, request.spec) },
    { definition: selfSubjectReviews, review: (_request, user) => ({ userInfo: userInfoJson(user) }) },
  ];
}
