import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditAttributes } from './policy.js';
import type { Policy } from './policy.js';
import type { UserInfo } from '../registry/object.js';
import type { Level, PolicyRule } from './policy.js';
import { compilePolicy, evaluatePolicy as evaluateFor, parsePolicy, PolicyError } from './policy.js';

const evaluatePolicy = (policy: Policy, attributes: AuditAttributes & { user?: UserInfo }) => evaluateFor(policy, attributes, attributes.user);

const admin = { username: 'admin', groups: ['system:masters', 'system:authenticated'] };

function attributes(overrides: Partial<AuditAttributes & { user?: UserInfo }>): AuditAttributes & { user?: UserInfo } {
  return { user: admin, verb: 'get', isResourceRequest: true, path: '/api/v1/namespaces/default/pods/p', apiGroup: '', namespace: 'default', resource: 'pods', subresource: '', name: 'p', ...overrides };
}

const policy = parsePolicy(`
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
  - level: None
    userGroups: ["system:nodes"]
    resources: [{group: "", resources: ["events"]}]
  - level: Metadata
    resources: [{group: "", resources: ["secrets", "configmaps"]}]
    namespaces: ["kube-system"]
  - level: Request
    resources: [{group: "", resources: ["pods/log", "pods/status"]}]
  - level: RequestResponse
    resources: [{group: "", resources: ["configmaps"], resourceNames: ["controller-leader"]}]
    omitStages: [ResponseStarted]
  - level: Request
    resources: [{group: "apps", resources: ["*/scale"]}, {group: "batch", resources: ["jobs/*"]}]
  - level: None
    nonResourceURLs: ["/healthz*", "/version"]
  - level: Metadata
    omitManagedFields: true
`);

describe('audit policy', () => {
  it('takes the first matching rule and defaults to None when none matches', () => {
    const empty = parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Request, verbs: [create]}]\n');
    assert.equal(evaluatePolicy(empty, attributes({ verb: 'create' })).level, 'Request');
    assert.equal(evaluatePolicy(empty, attributes({ verb: 'get' })).level, 'None');
  });

  it('matches users and verbs together', () => {
    const proxy = { username: 'system:kube-proxy', groups: [] };
    assert.equal(evaluatePolicy(policy, attributes({ user: proxy, verb: 'watch', name: '' })).level, 'None');
    assert.equal(evaluatePolicy(policy, attributes({ user: proxy, verb: 'list', name: '' })).level, 'Metadata');
  });

  it('matches any of the user groups', () => {
    const node = { username: 'system:node:a', groups: ['system:nodes', 'system:authenticated'] };
    assert.equal(evaluatePolicy(policy, attributes({ user: node, resource: 'events' })).level, 'None');
    assert.equal(evaluatePolicy(policy, attributes({ user: admin, resource: 'events' })).level, 'Metadata');
  });

  it('matches namespaces with resources', () => {
    assert.equal(evaluatePolicy(policy, attributes({ resource: 'secrets', namespace: 'kube-system' })).level, 'Metadata');
    assert.deepEqual(evaluatePolicy(policy, attributes({ resource: 'secrets', namespace: 'kube-system' })).omitStages, ['RequestReceived']);
  });

  it('matches subresources exactly, by */sub and by resource/*', () => {
    assert.equal(evaluatePolicy(policy, attributes({ subresource: 'log' })).level, 'Request');
    assert.equal(evaluatePolicy(policy, attributes({ subresource: 'exec' })).level, 'Metadata');
    assert.equal(evaluatePolicy(policy, attributes({ apiGroup: 'apps', resource: 'deployments', subresource: 'scale' })).level, 'Request');
    assert.equal(evaluatePolicy(policy, attributes({ apiGroup: 'apps', resource: 'deployments', subresource: '' })).level, 'Metadata');
    assert.equal(evaluatePolicy(policy, attributes({ apiGroup: 'batch', resource: 'jobs', subresource: 'status' })).level, 'Request');
    // The group must match: core pods/log rules say nothing of a group's "pods".
    assert.equal(evaluatePolicy(policy, attributes({ apiGroup: 'metrics.k8s.io', subresource: 'log' })).level, 'Metadata');
  });

  it('matches resourceNames and merges the rule\'s omitStages with the policy\'s', () => {
    const leader = evaluatePolicy(policy, attributes({ resource: 'configmaps', name: 'controller-leader' }));
    assert.equal(leader.level, 'RequestResponse');
    assert.deepEqual(leader.omitStages.sort(), ['RequestReceived', 'ResponseStarted']);
    assert.equal(evaluatePolicy(policy, attributes({ resource: 'configmaps', name: 'other' })).level, 'Metadata');
  });

  it('matches non-resource URLs exactly or by a trailing *, never resource requests', () => {
    const nonResource = (path: string) => attributes({ isResourceRequest: false, path, resource: '', namespace: '', name: '' });
    assert.equal(evaluatePolicy(policy, nonResource('/healthz')).level, 'None');
    assert.equal(evaluatePolicy(policy, nonResource('/healthz/etcd')).level, 'None');
    assert.equal(evaluatePolicy(policy, nonResource('/version')).level, 'None');
    assert.equal(evaluatePolicy(policy, nonResource('/version/x')).level, 'Metadata');
    assert.equal(evaluatePolicy(policy, nonResource('/metrics')).level, 'Metadata');
    // A resources rule never matches a non-resource URL.
    assert.equal(evaluatePolicy(parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Request, resources: [{group: ""}]}]\n'), nonResource('/api')).level, 'None');
  });

  it('applies omitManagedFields from the rule, else the policy', () => {
    assert.equal(evaluatePolicy(policy, attributes({ resource: 'nodes' })).omitManagedFields, true);
    assert.equal(evaluatePolicy(policy, attributes({ subresource: 'log' })).omitManagedFields, false);
  });

  it('a request without a user (failed authentication) matches no user or group rule', () => {
    const p = parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, userGroups: [system:masters]}, {level: Metadata}]\n');
    assert.equal(evaluatePolicy(p, attributes({ user: undefined })).level, 'Metadata');
  });

  it('rejects invalid policies with the field at fault', () => {
    const invalid = (text: string, pattern: RegExp) => assert.throws(() => parsePolicy(text), (error: Error) => error instanceof PolicyError && pattern.test(error.message));
    invalid('apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules: [{level: None}]', /expected apiVersion audit.k8s.io\/v1/);
    invalid('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Everything}]', /rules\[0\]\.level: Unsupported value: "Everything"/);
    invalid('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, omitStages: [Sometimes]}]', /omitStages: Unsupported value/);
    invalid('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, nonResourceURLs: ["/a"], namespaces: [x]}]', /both regular resources and non-resource URLs/);
    invalid('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, nonResourceURLs: ["/a*b"]}]', /wildcards must be at the end/);
    invalid('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []', /no rules/);
  });

  it('the compiled matcher decides as upstream\'s rule-by-rule checker on random requests', () => {
    // Upstream's checker.go written out plainly, as the reference the compiled form must agree with.
    const hasString = (list: string[], value: string) => list.includes(value);
    const referenceMatches = (rule: PolicyRule, request: AuditAttributes, user: UserInfo | undefined): boolean => {
      if (rule.users.length && (!user || !hasString(rule.users, user.username))) return false;
      if (rule.userGroups.length && (!user || !user.groups.some((group) => hasString(rule.userGroups, group)))) return false;
      if (rule.verbs.length && !hasString(rule.verbs, request.verb)) return false;
      if (rule.namespaces.length || rule.resources.length) {
        if (!request.isResourceRequest) return false;
        if (rule.namespaces.length && !hasString(rule.namespaces, request.namespace)) return false;
        if (!rule.resources.length) return true;
        const combined = request.subresource ? `${request.resource}/${request.subresource}` : request.resource;
        for (const gr of rule.resources) {
          if (gr.group !== request.apiGroup) continue;
          if (!gr.resources.length) return true;
          for (const res of gr.resources) {
            if (gr.resourceNames.length && !hasString(gr.resourceNames, request.name)) continue;
            if (res === combined || res === '*') return true;
            if (request.subresource && res.startsWith('*/') && request.subresource === res.replace(/^[*/]+/, '')) return true;
            if (res.endsWith('/*') && request.resource === res.replace(/[/*]+$/, '')) return true;
          }
        }
        return false;
      }
      if (rule.nonResourceURLs.length) {
        if (request.isResourceRequest) return false;
        return rule.nonResourceURLs.some((spec) => spec === '*' || spec === request.path || (spec.endsWith('*') && request.path.startsWith(spec.replace(/\*+$/, ''))));
      }
      return true;
    };
    const reference = (p: typeof policy, request: AuditAttributes, user: UserInfo | undefined): Level => p.rules.find((rule) => referenceMatches(rule, request, user))?.level ?? 'None';

    let seed = 42;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
    const pick = <T>(list: T[]) => list[random(list.length)];
    const users = [undefined, admin, { username: 'system:kube-proxy', groups: [] }, { username: 'system:node:a', groups: ['system:nodes', 'system:authenticated'] }, { username: 'alice', groups: ['dev'] }];
    const verbs = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', 'post'];
    const groups = ['', 'apps', 'batch', 'example.com'];
    const resources = ['pods', 'secrets', 'configmaps', 'events', 'deployments', 'jobs', 'widgets'];
    const subresources = ['', '', 'status', 'log', 'scale', 'exec'];
    const namespaces = ['', 'default', 'kube-system', 'full'];
    const names = ['', 'controller-leader', 'x'];
    const paths = ['/healthz', '/healthz/etcd', '/version', '/metrics', '/api', '/apis/apps'];
    const randomPolicy = parsePolicy(`
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - {level: None, users: ["system:kube-proxy"], verbs: [watch]}
  - {level: Request, userGroups: [dev], verbs: [create, update]}
  - {level: RequestResponse, resources: [{group: "", resources: [configmaps], resourceNames: [controller-leader]}]}
  - {level: None, resources: [{group: "", resources: ["pods/*"]}], namespaces: [kube-system]}
  - {level: Metadata, resources: [{group: apps, resources: ["*/scale", deployments]}, {group: batch}]}
  - {level: Request, resources: [{group: "", resources: ["*"]}], namespaces: ["", default]}
  - {level: None, nonResourceURLs: ["/healthz*", "/version"]}
  - {level: Request, verbs: [post], nonResourceURLs: ["*"]}
  - {level: RequestResponse, namespaces: [full]}
  - {level: Metadata, userGroups: [system:nodes]}
`);
    for (const p of [policy, randomPolicy]) {
      for (let index = 0; index < 5000; index++) {
        const isResourceRequest = random(4) > 0;
        const request: AuditAttributes = isResourceRequest
          ? { verb: pick(verbs), isResourceRequest, path: '/api/v1/x', apiGroup: pick(groups), namespace: pick(namespaces), resource: pick(resources), subresource: pick(subresources), name: pick(names) }
          : { verb: pick(verbs), isResourceRequest, path: pick(paths), apiGroup: '', namespace: '', resource: '', subresource: '', name: '' };
        const user = pick(users);
        assert.equal(evaluateFor(p, request, user).level, reference(p, request, user), JSON.stringify({ request, user }));
      }
    }
  });

  it('a compiled decision is shared, not built per request', () => {
    const checker = compilePolicy(policy);
    assert.equal(compilePolicy(policy), checker, 'compiled once per policy');
    const first = checker.evaluate(attributes({ resource: 'nodes' }), admin);
    const second = checker.evaluate(attributes({ resource: 'nodes', name: 'other' }), admin);
    assert.equal(first, second);
    assert.ok(Object.isFrozen(first));
  });
});
