import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import type { ResourceDefinition, StrategyContext } from '../../../apiserver/registry/resource.js';
import { fieldErrorMessage } from '../../../apiserver/request/status.js';
import { tableRow } from '../../../apiserver/registry/table.js';
import { certificateSigningRequests, csrCondition, flowSchemas, priorityLevelConfigurations } from './certificates-flowcontrol.js';
import { eventTarget, leases } from './leases-events.js';
import { mutatingWebhookConfigurations, validatingWebhookConfigurations } from './webhooks.js';

const CONTEXT: StrategyContext = { user: { username: 'alice', uid: 'u-1', groups: ['devs'] }, warnings: [], dryRun: false };

function problems(definition: ResourceDefinition, object: KubeObject): string[] {
  definition.strategy.prepareForCreate?.(object, CONTEXT);
  return definition.strategy.validate!(object, CONTEXT).map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
}

function cells(definition: ResourceDefinition, object: KubeObject): unknown[] {
  return tableRow(definition.printerColumns!, object, 'None').cells as unknown[];
}

describe('Lease', () => {
  it('drops the fields of the disabled coordinated leader election feature and checks durations', () => {
    const lease: KubeObject = { metadata: { name: 'kube-scheduler', namespace: 'kube-system' }, spec: { holderIdentity: 'node-1', leaseDurationSeconds: 0, strategy: 'OldestEmulationVersion', preferredHolder: 'x' } };
    assert.deepEqual(problems(leases, lease), ['spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0']);
    assert.deepEqual(lease.spec, { holderIdentity: 'node-1', leaseDurationSeconds: 0 });
    assert.equal(cells(leases, lease)[1], 'node-1');
    assert.equal(cells(leases, { metadata: { name: 'free' }, spec: {} })[1], '');
  });
});

describe('events.k8s.io Event', () => {
  it('names the regarding object as kind/name, reading either API shape', () => {
    assert.equal(eventTarget({ metadata: {}, regarding: { kind: 'Pod', name: 'web' } }), 'pod/web');
    assert.equal(eventTarget({ metadata: {}, involvedObject: { kind: 'Node' } }), 'node');
  });
});

describe('Webhook configurations', () => {
  const webhook = (fields: Record<string, unknown>) => ({
    name: 'pods.example.com',
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
    clientConfig: { url: 'https://hooks.example.com/validate' },
    ...fields,
  });

  it('refuses duplicate and short names, bad timeouts and client configs with both or neither target', () => {
    const configuration: KubeObject = {
      metadata: { name: 'hooks' },
      webhooks: [webhook({ timeoutSeconds: 31 }), webhook({ clientConfig: {} }), webhook({ name: 'short.name', clientConfig: { url: 'http://x.example.com' } })],
    };
    assert.deepEqual(problems(validatingWebhookConfigurations, configuration), [
      'webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds',
      'webhooks[1].clientConfig: Required value: exactly one of url or service is required',
      'webhooks[1].name: Duplicate value: "pods.example.com"',
      'webhooks[2].name: Invalid value: "short.name": should be a domain with at least three segments separated by dots',
      'webhooks[2].clientConfig.url: Invalid value: "http://x.example.com": \'https\' is the only allowed URL scheme',
    ]);
    assert.equal(configuration.webhooks[0].reinvocationPolicy, undefined);
  });

  it('requires side effects with upstream wording and prints the webhook count', () => {
    const configuration: KubeObject = { metadata: { name: 'hooks' }, webhooks: [webhook({ sideEffects: undefined })] };
    assert.deepEqual(problems(mutatingWebhookConfigurations, configuration), ['webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun']);
    assert.equal(configuration.webhooks[0].reinvocationPolicy, 'Never');
    assert.equal(cells(mutatingWebhookConfigurations, configuration)[1], 1);
  });
});

describe('CertificateSigningRequest', () => {
  it('takes the requester from the authenticated user, not the body', () => {
    const csr: KubeObject = { metadata: { name: 'c' }, spec: { request: 'x', signerName: 'example.com/signer', usages: ['digital signature'], username: 'mallory', extra: { a: ['b'] } } };
    certificateSigningRequests.strategy.prepareForCreate!(csr, CONTEXT);
    assert.deepEqual([csr.spec.username, csr.spec.uid, csr.spec.groups, csr.spec.extra], ['alice', 'u-1', ['devs'], undefined]);
  });

  it('prints Denied over Approved over Pending, then Failed and Issued, and the requested duration', () => {
    const csr = (conditions: string[], certificate?: string): KubeObject => ({
      metadata: { name: 'c' },
      spec: { signerName: 'example.com/s', username: 'alice', expirationSeconds: 3600 },
      status: { conditions: conditions.map((type) => ({ type, status: 'True' })), ...(certificate ? { certificate } : {}) },
    });
    assert.equal(csrCondition(csr([])), 'Pending');
    assert.equal(csrCondition(csr(['Approved'], 'Y2VydA==')), 'Approved,Issued');
    assert.equal(csrCondition(csr(['Approved', 'Denied', 'Failed'])), 'Denied,Failed');
    const row = cells(certificateSigningRequests, csr([]));
    assert.deepEqual([row[2], row[3], row[4], row[5]], ['example.com/s', 'alice', '60m', 'Pending']);
  });
});

describe('Flow control', () => {
  it('defaults matchingPrecedence and prints MissingPL from the Dangling condition, ? without it', () => {
    const flowSchema: KubeObject = { metadata: { name: 'fs' }, spec: { priorityLevelConfiguration: { name: 'global-default' }, distinguisherMethod: { type: 'ByUser' } } };
    assert.deepEqual(problems(flowSchemas, flowSchema), []);
    assert.equal(flowSchema.spec.matchingPrecedence, 1000);
    const row = cells(flowSchemas, flowSchema);
    assert.deepEqual([row[1], row[2], row[3], row[5]], ['global-default', 1000, 'ByUser', '?']);
    flowSchema.status = { conditions: [{ type: 'Dangling', status: 'False' }] };
    assert.equal(cells(flowSchemas, flowSchema)[5], 'False');
  });

  it('defaults limited queuing levels and prints <none> for exempt ones', () => {
    const limited: KubeObject = { metadata: { name: 'workload-low' }, spec: { type: 'Limited', limited: { limitResponse: { type: 'Queue' } } } };
    assert.deepEqual(problems(priorityLevelConfigurations, limited), []);
    assert.deepEqual(limited.spec.limited, { limitResponse: { type: 'Queue', queuing: { queues: 64, handSize: 8, queueLengthLimit: 50 } }, nominalConcurrencyShares: 30, lendablePercent: 0 });
    assert.deepEqual(cells(priorityLevelConfigurations, limited).slice(0, 6), ['workload-low', 'Limited', 30, 64, 8, 50]);
    const exempt: KubeObject = { metadata: { name: 'exempt' }, spec: { type: 'Exempt' } };
    assert.deepEqual(problems(priorityLevelConfigurations, exempt), []);
    assert.deepEqual(cells(priorityLevelConfigurations, exempt).slice(0, 6), ['exempt', 'Exempt', '<none>', '<none>', '<none>', '<none>']);
  });
});
