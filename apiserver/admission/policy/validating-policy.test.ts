import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
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
