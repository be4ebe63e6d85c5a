import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AdmissionAttributes } from './interface.js';
import { anyRuleMatches, isExemptConfigurationResource, namespaceSelectorMatches, objectSelectorMatches, parseSelector, ruleMatches } from './matching.js';

function attributes(overrides: Partial<AdmissionAttributes> = {}): AdmissionAttributes {
  return {
    operation: 'CREATE',
    resource: { group: '', version: 'v1', resource: 'pods' },
    subresource: '',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    namespace: 'default',
    name: 'web',
    object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } } },
    dryRun: false,
    user: { username: 'admin', groups: ['system:masters'] },
    ...overrides,
  };
}

const rule = (resources: string[], extra: Record<string, unknown> = {}) => ({ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources, ...extra });

describe('admission rule matching', () => {
  it('matches operations, groups and versions exactly or by *', () => {
    assert.equal(ruleMatches(rule(['pods']), attributes()), true);
    assert.equal(ruleMatches(rule(['pods'], { operations: ['UPDATE'] }), attributes()), false);
    assert.equal(ruleMatches(rule(['pods'], { operations: ['*'] }), attributes({ operation: 'DELETE' })), true);
    assert.equal(ruleMatches(rule(['deployments'], { apiGroups: ['apps'] }), attributes()), false);
    assert.equal(ruleMatches(rule(['pods'], { apiGroups: ['*'], apiVersions: ['*'] }), attributes()), true);
    assert.equal(ruleMatches(rule(['pods'], { apiVersions: ['v2'] }), attributes()), false);
  });

  it('resources: a bare name or * never matches a subresource; pods/status, pods/*, */status and */* do', () => {
    const status = attributes({ subresource: 'status', operation: 'CREATE' });
    assert.equal(ruleMatches(rule(['pods']), status), false);
    assert.equal(ruleMatches(rule(['*']), status), false);
    assert.equal(ruleMatches(rule(['*']), attributes()), true);
    assert.equal(ruleMatches(rule(['pods/status']), status), true);
    assert.equal(ruleMatches(rule(['pods/status']), attributes()), false);
    assert.equal(ruleMatches(rule(['pods/*']), status), true);
    assert.equal(ruleMatches(rule(['pods/*']), attributes()), true);
    assert.equal(ruleMatches(rule(['*/status']), status), true);
    assert.equal(ruleMatches(rule(['*/status']), attributes({ subresource: 'scale' })), false);
    assert.equal(ruleMatches(rule(['*/*']), attributes({ subresource: 'eviction' })), true);
  });

  it('scope: Namespaced excludes cluster-scoped requests and namespaces themselves; Cluster the reverse', () => {
    const namespace = attributes({ resource: { group: '', version: 'v1', resource: 'namespaces' }, namespace: '', name: 'team' });
    const node = attributes({ resource: { group: '', version: 'v1', resource: 'nodes' }, namespace: '' });
    assert.equal(ruleMatches(rule(['pods'], { scope: 'Namespaced' }), attributes()), true);
    assert.equal(ruleMatches(rule(['pods'], { scope: 'Cluster' }), attributes()), false);
    assert.equal(ruleMatches(rule(['namespaces'], { scope: 'Namespaced' }), { ...namespace, namespace: 'team' }), false);
    assert.equal(ruleMatches(rule(['namespaces'], { scope: 'Cluster' }), { ...namespace, namespace: 'team' }), true);
    assert.equal(ruleMatches(rule(['nodes'], { scope: 'Cluster' }), node), true);
    assert.equal(ruleMatches(rule(['nodes'], { scope: '*' }), node), true);
  });

  it('matchPolicy Equivalent matches the same group and resource in another version; Exact does not', () => {
    const v1beta1 = rule(['pods'], { apiVersions: ['v1beta1'] });
    assert.equal(anyRuleMatches([v1beta1], attributes()), false);
    assert.equal(anyRuleMatches([v1beta1], attributes(), { equivalent: true }), true);
  });

  it('policy rules may name resources', () => {
    assert.equal(ruleMatches(rule(['pods'], { resourceNames: ['web'] }), attributes()), true);
    assert.equal(ruleMatches(rule(['pods'], { resourceNames: ['db'] }), attributes()), false);
  });

  it('the admission configuration kinds are exempt', () => {
    assert.equal(isExemptConfigurationResource(attributes({ resource: { group: 'admissionregistration.k8s.io', version: 'v1', resource: 'validatingwebhookconfigurations' } })), true);
    assert.equal(isExemptConfigurationResource(attributes()), false);
  });
});

describe('admission selectors', () => {
  it('an object selector matches the new or the old object', () => {
    const selector = parseSelector({ matchLabels: { app: 'db' } });
    assert.equal(objectSelectorMatches(selector, attributes()), false);
    assert.equal(objectSelectorMatches(selector, attributes({ oldObject: { metadata: { name: 'web', labels: { app: 'db' } } } })), true);
    assert.equal(objectSelectorMatches(parseSelector({}), attributes()), true);
    assert.equal(objectSelectorMatches(parseSelector({ matchExpressions: [{ key: 'app', operator: 'Exists' }] }), attributes({ object: undefined, oldObject: undefined })), false);
  });

  it('a namespace selector reads the namespace, the new labels of a namespace being written, and 404s a missing one', async () => {
    const namespaces = new Map([['default', { metadata: { name: 'default', labels: { env: 'prod' } } }]]);
    const lookup = async (name: string) => namespaces.get(name);
    const prod = parseSelector({ matchLabels: { env: 'prod' } });
    assert.equal(await namespaceSelectorMatches(prod, attributes(), lookup), true);
    assert.equal(await namespaceSelectorMatches(parseSelector({ matchLabels: { env: 'dev' } }), attributes(), lookup), false);
    // Cluster-scoped requests other than namespaces always match.
    assert.equal(await namespaceSelectorMatches(prod, attributes({ namespace: '', resource: { group: '', version: 'v1', resource: 'nodes' } }), lookup), true);
    const creatingNamespace = attributes({ resource: { group: '', version: 'v1', resource: 'namespaces' }, namespace: '', name: 'new', object: { metadata: { name: 'new', labels: { env: 'prod' } } } });
    assert.equal(await namespaceSelectorMatches(prod, creatingNamespace, lookup), true);
    await assert.rejects(namespaceSelectorMatches(prod, attributes({ namespace: 'gone' }), lookup), (error: { code: number; message: string }) => error.code === 404 && error.message === 'namespaces "gone" not found');
  });
});
