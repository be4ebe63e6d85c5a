// CEL's Kubernetes authorization library (upstream apiserver/pkg/cel/library/authz.go) for admission
// expressions: `authorizer.group('apps').resource('deployments').namespace('x').name('y').check('get')`,
// `authorizer.path('/healthz').check('get')`, `authorizer.serviceAccount(ns, name)` and
// `authorizer.requestResource` (the request's own resource), whose Decision answers allowed(), reason(),
// errored() and error(). Checks ask the server's authorizer (RBAC in core, a SubjectAccessReview from
// extension servers) for the user who sent the request; `check` is asynchronous, so an expression that
// calls it evaluates to a Promise.

import type { Environment } from '@marcbachmann/cel-js';
import { EvaluationError } from '@marcbachmann/cel-js';
import type { Authorizer } from '../filters/authorize.js';
import type { UserInfo } from '../registry/object.js';
import type { RequestInfo } from '../request/request-info.js';

const PACKAGE = 'kubernetes.authorization';

export class CelDecision {
  constructor(
    readonly allowed: boolean,
    readonly reason: string,
    readonly error: string,
  ) {}
}

export class CelAuthorizer {
  constructor(
    readonly user: UserInfo,
    readonly authorize: Authorizer,
    /** The request's own resource (the `authorizer.requestResource` of upstream). */
    readonly requestResource?: CelResourceCheck,
  ) {}

  /** Asks the authorizer; an authorizer that fails is an errored decision, never an evaluation error. */
  async decide(info: RequestInfo): Promise<CelDecision> {
    try {
      const decision = await this.authorize(this.user, info);
      return new CelDecision(decision.allowed, decision.reason ?? '', decision.error ?? '');
    } catch (error) {
      return new CelDecision(false, '', (error as Error).message ?? String(error));
    }
  }
}

export class CelPathCheck {
  constructor(
    readonly authorizer: CelAuthorizer,
    readonly path: string,
  ) {}
}

export class CelGroupCheck {
  constructor(
    readonly authorizer: CelAuthorizer,
    readonly group: string,
  ) {}
}

export class CelResourceCheck {
  constructor(
    readonly groupCheck: CelGroupCheck,
    readonly resource: string,
    readonly subresource = '',
    readonly namespace = '',
    readonly name = '',
    /** Kept for the check (1.31+ authzSelectors); RBAC does not look at selectors. */
    readonly fieldSelector = '',
    readonly labelSelector = '',
  ) {}

  with(change: Partial<Pick<CelResourceCheck, 'subresource' | 'namespace' | 'name' | 'fieldSelector' | 'labelSelector'>>): CelResourceCheck {
    const next = { ...this, ...change };
    return new CelResourceCheck(this.groupCheck, this.resource, next.subresource, next.namespace, next.name, next.fieldSelector, next.labelSelector);
  }
}

/** The `authorizer` variable for a request by `user`, with `requestResource` naming what it writes. */
export function celAuthorizer(user: UserInfo, authorize: Authorizer, request: { group: string; resource: string; subresource: string; namespace: string; name: string }): CelAuthorizer {
  const plain = new CelAuthorizer(user, authorize);
  return new CelAuthorizer(user, authorize, new CelResourceCheck(new CelGroupCheck(plain, request.group), request.resource, request.subresource, request.namespace, request.name));
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function fail(message: string): never {
  throw new EvaluationError(message);
}

function resourceInfo(check: CelResourceCheck, verb: string): RequestInfo {
  return {
    isResourceRequest: true,
    path: '',
    verb,
    apiPrefix: check.groupCheck.group ? 'apis' : 'api',
    apiGroup: check.groupCheck.group,
    apiVersion: '*',
    namespace: check.namespace,
    resource: check.resource,
    subresource: check.subresource,
    name: check.name,
    parts: [],
  };
}

function pathInfo(check: CelPathCheck, verb: string): RequestInfo {
  return { isResourceRequest: false, path: check.path, verb, apiPrefix: '', apiGroup: '', apiVersion: '', namespace: '', resource: '', subresource: '', name: '', parts: [] };
}

/** Registers the library's types and functions on an environment. */
export function registerAuthorizationLibrary(env: Environment): void {
  const type = (name: string) => `${PACKAGE}.${name}`;
  env.registerType(type('Decision'), CelDecision);
  env.registerType(type('PathCheck'), CelPathCheck);
  env.registerType(type('GroupCheck'), CelGroupCheck);
  env.registerType(type('ResourceCheck'), CelResourceCheck);
  env.registerType(type('Authorizer'), { ctor: CelAuthorizer, fields: { requestResource: type('ResourceCheck') } } as never);
  const fn = (signature: string, handler: (...args: any[]) => unknown) => env.registerFunction(signature, handler); // eslint-disable-line @typescript-eslint/no-explicit-any
  const [authorizer, pathCheck, groupCheck, resourceCheck, decision] = ['Authorizer', 'PathCheck', 'GroupCheck', 'ResourceCheck', 'Decision'].map(type);

  fn(`${authorizer}.path(string): ${pathCheck}`, (self: CelAuthorizer, path: string) => (path.trim() === '' ? fail('path must not be empty') : new CelPathCheck(self, path)));
  fn(`${authorizer}.group(string): ${groupCheck}`, (self: CelAuthorizer, group: string) => new CelGroupCheck(self, group));
  fn(`${authorizer}.serviceAccount(string, string): ${authorizer}`, (self: CelAuthorizer, namespace: string, name: string) => {
    if (!DNS_SUBDOMAIN.test(name) || name.length > 253) fail('Invalid service account name');
    if (!DNS_LABEL.test(namespace) || namespace.length > 63) fail('Invalid service account namespace');
    const user: UserInfo = { username: `system:serviceaccount:${namespace}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`] };
    return new CelAuthorizer(user, self.authorize);
  });
  fn(`${groupCheck}.resource(string): ${resourceCheck}`, (self: CelGroupCheck, resource: string) => (resource.trim() === '' ? fail('resource must not be empty') : new CelResourceCheck(self, resource)));
  fn(`${resourceCheck}.subresource(string): ${resourceCheck}`, (self: CelResourceCheck, subresource: string) => self.with({ subresource }));
  fn(`${resourceCheck}.namespace(string): ${resourceCheck}`, (self: CelResourceCheck, namespace: string) => self.with({ namespace }));
  fn(`${resourceCheck}.name(string): ${resourceCheck}`, (self: CelResourceCheck, name: string) => self.with({ name }));
  fn(`${resourceCheck}.fieldSelector(string): ${resourceCheck}`, (self: CelResourceCheck, fieldSelector: string) => self.with({ fieldSelector }));
  fn(`${resourceCheck}.labelSelector(string): ${resourceCheck}`, (self: CelResourceCheck, labelSelector: string) => self.with({ labelSelector }));
  fn(`${resourceCheck}.check(string): ${decision}`, (self: CelResourceCheck, verb: string) => self.groupCheck.authorizer.decide(resourceInfo(self, verb)));
  fn(`${pathCheck}.check(string): ${decision}`, (self: CelPathCheck, verb: string) => self.authorizer.decide(pathInfo(self, verb)));
  fn(`${decision}.allowed(): bool`, (self: CelDecision) => self.allowed);
  fn(`${decision}.reason(): string`, (self: CelDecision) => self.reason);
  fn(`${decision}.errored(): bool`, (self: CelDecision) => self.error !== '');
  fn(`${decision}.error(): string`, (self: CelDecision) => self.error);
}
