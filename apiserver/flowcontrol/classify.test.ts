import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequestInfo } from '../request/request-info.js';
import type { UserInfo } from '../registry/object.js';
import { MANDATORY_FLOW_SCHEMAS, SUGGESTED_FLOW_SCHEMAS } from './bootstrap.js';
import { flowDistinguisher, flowSchemaMatches, inMatchingOrder } from './classify.js';
import type { FlowSchema } from './types.js';

const schemas = inMatchingOrder([...MANDATORY_FLOW_SCHEMAS, ...SUGGESTED_FLOW_SCHEMAS]);

function classify(user: UserInfo, method: string, path: string): string {
  const queryIndex = path.indexOf('?');
  const info = parseRequestInfo(method, queryIndex < 0 ? path : path.slice(0, queryIndex), new URLSearchParams(queryIndex < 0 ? '' : path.slice(queryIndex + 1)));
  return schemas.find((schema) => flowSchemaMatches(schema, { user, info }))?.metadata.name ?? '(none)';
}

const authenticated = (username: string, ...groups: string[]): UserInfo => ({ username, groups: [...groups, 'system:authenticated'] });

test('the bootstrap schemas are tried in matchingPrecedence order, ties by name', () => {
  assert.deepEqual(schemas.map((schema) => schema.metadata.name), [
    'exempt', 'probes', 'system-leader-election', 'endpoint-controller', 'workload-leader-election', 'system-node-high', 'system-nodes',
    'kube-controller-manager', 'kube-scheduler', 'kube-system-service-accounts', 'service-accounts', 'global-default', 'catch-all',
  ]);
});

test('requests classify as upstream bootstrap configuration says', () => {
  assert.equal(classify(authenticated('admin', 'system:masters'), 'DELETE', '/api/v1/namespaces/x'), 'exempt');
  assert.equal(classify({ username: 'system:anonymous', groups: ['system:unauthenticated'] }, 'GET', '/readyz'), 'probes');
  assert.equal(classify({ username: 'system:anonymous', groups: ['system:unauthenticated'] }, 'GET', '/version'), 'global-default');
  assert.equal(classify(authenticated('alice'), 'POST', '/readyz'), 'global-default');
  assert.equal(classify(authenticated('system:node:n1', 'system:nodes'), 'PATCH', '/api/v1/nodes/n1/status'), 'system-node-high');
  assert.equal(classify(authenticated('system:node:n1', 'system:nodes'), 'PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1'), 'system-node-high');
  assert.equal(classify(authenticated('system:node:n1', 'system:nodes'), 'GET', '/api/v1/namespaces/default/pods'), 'system-nodes');
  assert.equal(classify(authenticated('system:kube-controller-manager'), 'GET', '/api/v1/namespaces/kube-system/configmaps/x'), 'system-leader-election');
  // Leader election outside kube-system is not the system kind; the endpoint controller has its own schema.
  assert.equal(classify(authenticated('system:kube-controller-manager'), 'GET', '/api/v1/namespaces/default/configmaps/x'), 'kube-controller-manager');
  assert.equal(classify(authenticated('system:kube-controller-manager'), 'DELETE', '/api/v1/namespaces/default/endpoints/x'), 'kube-controller-manager');
  assert.equal(classify(authenticated('system:kube-controller-manager'), 'PUT', '/api/v1/namespaces/default/endpoints/x'), 'endpoint-controller');
  const kubeSystemAccount = authenticated('system:serviceaccount:kube-system:foo', 'system:serviceaccounts', 'system:serviceaccounts:kube-system');
  assert.equal(classify(kubeSystemAccount, 'GET', '/apis/coordination.k8s.io/v1/namespaces/default/leases/x'), 'system-leader-election');
  assert.equal(classify(kubeSystemAccount, 'GET', '/api/v1/pods'), 'kube-system-service-accounts');
  assert.equal(classify(authenticated('system:serviceaccount:default:app', 'system:serviceaccounts'), 'GET', '/api/v1/namespaces/default/pods'), 'service-accounts');
  assert.equal(classify(authenticated('bob', 'dev'), 'GET', '/api/v1/namespaces/default/pods'), 'global-default');
  assert.equal(classify({ username: 'x', groups: [] }, 'GET', '/api'), '(none)');
});

test('resource rules: subresources, cluster scope and namespaces; non-resource URL wildcards', () => {
  const schema: FlowSchema = {
    metadata: { name: 'custom' },
    spec: {
      priorityLevelConfiguration: { name: 'p' },
      rules: [
        {
          subjects: [{ kind: 'User', user: { name: 'carol' } }],
          resourceRules: [{ verbs: ['get', 'list'], apiGroups: ['', 'apps'], resources: ['pods/log', 'deployments'], namespaces: ['team-a'] }, { verbs: ['*'], apiGroups: [''], resources: ['nodes'], clusterScope: true }],
          nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/apis/*', '/version'] }],
        },
      ],
    },
  };
  const carol = authenticated('carol');
  const matches = (method: string, path: string, user = carol) => flowSchemaMatches(schema, { user, info: parseRequestInfo(method, path, new URLSearchParams()) });
  assert.ok(matches('GET', '/api/v1/namespaces/team-a/pods/p/log'));
  assert.ok(!matches('GET', '/api/v1/namespaces/team-a/pods/p'));
  assert.ok(!matches('GET', '/api/v1/namespaces/team-b/pods/p/log'));
  assert.ok(matches('GET', '/apis/apps/v1/namespaces/team-a/deployments'));
  assert.ok(!matches('GET', '/apis/apps/v1/deployments'), 'a list across namespaces needs clusterScope');
  assert.ok(!matches('DELETE', '/apis/apps/v1/namespaces/team-a/deployments/d'));
  assert.ok(matches('DELETE', '/api/v1/nodes/n1'));
  assert.ok(matches('GET', '/apis'));
  assert.ok(matches('GET', '/apis/apps/v1'));
  assert.ok(matches('GET', '/version'));
  assert.ok(!matches('GET', '/healthz'));
  assert.ok(!matches('GET', '/version', authenticated('dave')));
});

test('flows are told apart by user, by namespace, or not at all', () => {
  const info = parseRequestInfo('GET', '/api/v1/namespaces/ns1/pods', new URLSearchParams());
  const user = authenticated('erin');
  const byName = (name: string) => [...MANDATORY_FLOW_SCHEMAS, ...SUGGESTED_FLOW_SCHEMAS].find((schema) => schema.metadata.name === name)!;
  assert.equal(flowDistinguisher(byName('global-default'), { user, info }), 'erin');
  assert.equal(flowDistinguisher(byName('kube-system-service-accounts'), { user, info }), 'ns1');
  assert.equal(flowDistinguisher(byName('exempt'), { user, info }), '');
});
