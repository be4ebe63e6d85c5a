import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Authorizer } from '../../filters/authorize.js';
import type { KubeObject } from '../../registry/object.js';
import type { AdmissionAttributes, AdmissionContext } from '../interface.js';
import type { ObjectSource } from '../sources.js';
import { validatingAdmissionPolicyPlugin } from './validating-policy.js';

function source(objects: KubeObject[]): ObjectSource {
  return { synced: true, list: () => objects, get: (namespace, name) => objects.find((object) => object.metadata.name === name && (object.metadata.namespace ?? '') === namespace) };
}

const RULES = { resourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['deployments'] }] };

function policy(name: string, spec: Record<string, unknown>, resourceVersion = '1'): KubeObject {
  return { metadata: { name, uid: name, resourceVersion }, spec: { failurePolicy: 'Fail', matchConstraints: RULES, ...spec } };
}

function binding(name: string, policyName: string, actions: string[], extra: Record<string, unknown> = {}): KubeObject {
  return { metadata: { name }, spec: { policyName, validationActions: actions, ...extra } };
}

function deployment(replicas: number, namespace = 'default'): AdmissionAttributes {
  return {
    operation: 'CREATE',
    resource: { group: 'apps', version: 'v1', resource: 'deployments' },
    subresource: '',
    kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
    namespace,
    name: 'web',
    object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace }, spec: { replicas } },
    dryRun: false,
    user: { username: 'alice', groups: ['dev'] },
  };
}

const context = (): AdmissionContext => ({ warnings: [], auditAnnotations: {} });
const namespaces = source([{ metadata: { name: 'default', labels: { tier: 'prod' } } }, { metadata: { name: 'limits' } }]);

function plugin(policies: KubeObject[], bindings: KubeObject[], params: KubeObject[] = []) {
  return validatingAdmissionPolicyPlugin({ policies: source(policies), bindings: source(bindings), namespaces, params: (apiVersion, kind) => (apiVersion === 'v1' && kind === 'ConfigMap' ? { source: source(params), namespaced: true } : undefined) });
}

describe('ValidatingAdmissionPolicy plugin', () => {
  it('denies with the reason\'s code, a messageExpression, and upstream\'s wording', async () => {
    const limit = policy('limit', { validations: [{ expression: 'object.spec.replicas <= 5', messageExpression: "'replicas ' + string(object.spec.replicas) + ' > 5'", reason: 'Forbidden' }] });
    const admission = plugin([limit], [binding('limit-binding', 'limit', ['Deny'])]);
    await assert.rejects(admission.validate!(deployment(7), context()), (error: { code: number; reason: string; message: string; details: { causes: { message: string }[] } }) => {
      assert.equal(error.code, 403);
      assert.equal(error.reason, 'Forbidden');
      assert.equal(error.message, `deployments.apps "web" is forbidden: ValidatingAdmissionPolicy 'limit' with binding 'limit-binding' denied request: replicas 7 > 5`);
      assert.deepEqual(error.details.causes, [{ message: `ValidatingAdmissionPolicy 'limit' with binding 'limit-binding' denied request: replicas 7 > 5` }]);
      return true;
    });
    await admission.validate!(deployment(5), context());
  });

  it('without a message the failed expression is named; Audit records an annotation instead of denying', async () => {
    const limit = policy('limit', { validations: [{ expression: 'object.spec.replicas <= 5' }], auditAnnotations: [{ key: 'replicas', valueExpression: "string(object.spec.replicas)" }] });
    const admission = plugin([limit], [binding('audit', 'limit', ['Audit'])]);
    const ctx = context();
    await admission.validate!(deployment(9), ctx);
    assert.deepEqual(JSON.parse(ctx.auditAnnotations['validation.policy.admission.k8s.io/validation_failure']), [
      { message: 'failed expression: object.spec.replicas <= 5', policy: 'limit', binding: 'audit', expressionIndex: 0, validationActions: ['Audit'] },
    ]);
    assert.equal(ctx.auditAnnotations['limit/replicas'], '9');
  });

  it('an expression error fails closed with Fail and is ignored with Ignore', async () => {
    const broken = (failurePolicy: string) => policy('broken', { failurePolicy, validations: [{ expression: 'object.spec.missing > 1' }] });
    await assert.rejects(plugin([broken('Fail')], [binding('b', 'broken', ['Deny'])]).validate!(deployment(1), context()), (error: { code: number; message: string }) =>
      error.code === 422 && error.message.includes("denied request: expression 'object.spec.missing > 1' resulted in error: "));
    await plugin([broken('Ignore')], [binding('b', 'broken', ['Deny'])]).validate!(deployment(1), context());
  });

  it('params by selector are each evaluated; variables, namespaceObject and request are available', async () => {
    const perTeam = policy('per-team', {
      paramKind: { apiVersion: 'v1', kind: 'ConfigMap' },
      variables: [{ name: 'limit', expression: 'int(params.data.max)' }],
      validations: [{ expression: "object.spec.replicas <= variables.limit || namespaceObject.metadata.labels.tier != 'prod' || request.userInfo.username == 'root'", messageExpression: "params.metadata.name + ' allows ' + string(variables.limit)" }],
    });
    const params = [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'loose', namespace: 'limits', labels: { limits: 'yes' } }, data: { max: '10' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'strict', namespace: 'limits', labels: { limits: 'yes' } }, data: { max: '3' } },
    ];
    const bound = binding('per-team', 'per-team', ['Deny'], { paramRef: { namespace: 'limits', selector: { matchLabels: { limits: 'yes' } }, parameterNotFoundAction: 'Deny' } });
    await assert.rejects(plugin([perTeam], [bound], params).validate!(deployment(4), context()), (error: { message: string }) => error.message.endsWith('denied request: strict allows 3'));
    await plugin([perTeam], [bound], params).validate!(deployment(3), context());
    // No params and Allow: the binding does nothing.
    const allow = binding('per-team', 'per-team', ['Deny'], { paramRef: { name: 'absent', namespace: 'limits', parameterNotFoundAction: 'Allow' } });
    await plugin([perTeam], [allow], params).validate!(deployment(100), context());
  });

  it('matchConditions and excludeResourceRules skip requests; a binding of a missing policy does nothing', async () => {
    const limit = policy('limit', {
      matchConstraints: { ...RULES, excludeResourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['*'], resources: ['deployments'], resourceNames: ['excluded'] }] },
      matchConditions: [{ name: 'not-alice', expression: "request.userInfo.username != 'alice'" }],
      validations: [{ expression: 'false' }],
    });
    await plugin([limit], [binding('b', 'limit', ['Deny'])]).validate!(deployment(1), context());
    await plugin([], [binding('b', 'nothing', ['Deny'])]).validate!(deployment(1), context());
    const bob = { ...deployment(1), user: { username: 'bob', groups: [] } };
    await assert.rejects(plugin([limit], [binding('b', 'limit', ['Deny'])]).validate!(bob, context()));
    await plugin([limit], [binding('b', 'limit', ['Deny'])]).validate!({ ...bob, name: 'excluded' }, context());
  });
});

describe('ValidatingAdmissionPolicy: the authorizer variable, variables and namespaceObject', () => {
  // A stand-in for RBAC: alice may get pods in "default" and read /healthz; the SA "ci/deployer" may create deployments.
  const asked: string[] = [];
  const authorizer: Authorizer = async (user, info) => {
    asked.push(`${user.username} ${info.verb} ${info.isResourceRequest ? `${info.apiGroup}/${info.resource}/${info.subresource}@${info.namespace}/${info.name}` : info.path}`);
    if (info.resource === 'secrets') return { allowed: false, error: 'authorizer unavailable' };
    if (user.username === 'alice' && info.resource === 'pods' && info.namespace === 'default' && info.verb === 'get') return { allowed: true, reason: 'RBAC: allowed by RoleBinding "pod-readers/default"' };
    if (user.username === 'alice' && info.path === '/healthz') return { allowed: true };
    if (user.username === 'system:serviceaccount:ci:deployer' && user.groups.includes('system:serviceaccounts:ci') && info.resource === 'deployments' && info.verb === 'create') return { allowed: true };
    return { allowed: false };
  };
  const withAuthorizer = (policies: KubeObject[], bindings: KubeObject[]) =>
    validatingAdmissionPolicyPlugin({ policies: source(policies), bindings: source(bindings), namespaces, params: () => undefined, authorizer: () => authorizer });
  const denied = (admission: ReturnType<typeof withAuthorizer>, attributes: AdmissionAttributes) =>
    admission.validate!(attributes, context()).then(
      () => 'allowed',
      (error: Error) => error.message.replace(/^.*denied request: /, ''),
    );

  it('checks resources, paths and service accounts with the server’s authorizer for the requesting user', async () => {
    const checks = policy('checks', {
      validations: [
        { expression: "authorizer.group('').resource('pods').namespace(object.metadata.namespace).check('get').allowed()", message: 'cannot read pods' },
        { expression: "authorizer.path('/healthz').check('get').allowed()", message: 'cannot read healthz' },
        { expression: "authorizer.serviceAccount('ci', 'deployer').group('apps').resource('deployments').namespace('default').check('create').allowed()", message: 'deployer cannot create' },
        { expression: "authorizer.group('').resource('pods').namespace('default').check('get').reason() == 'RBAC: allowed by RoleBinding \"pod-readers/default\"'", message: 'no reason' },
      ],
    });
    const admission = withAuthorizer([checks], [binding('checks', 'checks', ['Deny'])]);
    assert.equal(await denied(admission, deployment(1)), 'allowed');
    assert.equal(await denied(admission, deployment(1, 'limits')), 'cannot read pods');
    assert.equal(await denied(admission, { ...deployment(1), user: { username: 'bob', groups: [] } }), 'cannot read pods');
    assert.ok(asked.includes('system:serviceaccount:ci:deployer create apps/deployments/@default/'));
  });

  it('requestResource names the request; errored() and error() report a failed check; invalid arguments are errors', async () => {
    const own = policy('own', {
      validations: [
        { expression: "authorizer.requestResource.check('create').allowed()", messageExpression: "'may not create: ' + string(authorizer.requestResource.check('create').allowed()) + ' ' + authorizer.requestResource.check('create').reason()" },
        { expression: "!authorizer.group('').resource('secrets').check('list').errored()", messageExpression: "authorizer.group('').resource('secrets').check('list').error()" },
      ],
    });
    const admission = withAuthorizer([own], [binding('own', 'own', ['Deny'])]);
    asked.length = 0;
    assert.equal(await denied(admission, deployment(1)), 'may not create: false');
    assert.equal(asked[0], 'alice create apps/deployments/@default/web');
    const errored = withAuthorizer([policy('errored', { validations: own.spec!.validations.slice(1) })], [binding('errored', 'errored', ['Deny'])]);
    assert.equal(await denied(errored, deployment(1)), 'authorizer unavailable');
    const invalid = withAuthorizer([policy('invalid', { validations: [{ expression: "authorizer.serviceAccount('Not Valid', 'x').path('/x').check('get').allowed()" }] })], [binding('invalid', 'invalid', ['Deny'])]);
    assert.equal(await denied(invalid, deployment(1)), "expression 'authorizer.serviceAccount('Not Valid', 'x').path('/x').check('get').allowed()' resulted in error: Invalid service account namespace");
  });

  it('variables compose (an authorization check in a variable, a later variable using it), and a failing variable fails only its users', async () => {
    const composed = policy('composed', {
      variables: [
        { name: 'canRead', expression: "authorizer.group('').resource('pods').namespace(object.metadata.namespace).check('get').allowed()" },
        { name: 'small', expression: 'object.spec.replicas <= 3' },
        { name: 'ok', expression: 'variables.canRead || variables.small' },
        { name: 'broken', expression: 'object.spec.missing > 1' },
      ],
      validations: [
        { expression: 'variables.ok', messageExpression: "'too many replicas for a reader-less user: ' + string(object.spec.replicas)" },
        { expression: "namespaceObject == null || !has(namespaceObject.metadata.labels) || namespaceObject.metadata.labels.tier != 'prod' || variables.canRead", message: 'prod needs readers' },
      ],
    });
    const admission = withAuthorizer([composed], [binding('composed', 'composed', ['Deny'])]);
    assert.equal(await denied(admission, deployment(9)), 'allowed');
    assert.equal(await denied(admission, deployment(2, 'limits')), 'allowed');
    assert.equal(await denied(admission, deployment(9, 'limits')), 'too many replicas for a reader-less user: 9');
    const usesBroken = withAuthorizer([policy('b', { variables: composed.spec!.variables, validations: [{ expression: 'variables.broken' }] })], [binding('b', 'b', ['Deny'])]);
    assert.match(await denied(usesBroken, deployment(1)), /^expression 'variables.broken' resulted in error: /);
  });
});
