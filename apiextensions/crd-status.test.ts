import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../apiserver/registry/object.js';
import { desiredStatus, findNameConflict, setCondition } from './crd-status.js';

function crd(plural: string, kind: string, group = 'stable.example.com', status?: unknown): KubeObject {
  return {
    metadata: { name: `${plural}.${group}` },
    spec: { group, scope: 'Namespaced', names: { plural, kind, shortNames: ['ct'] }, versions: [{ name: 'v1', served: true, storage: true }] },
    status,
  };
}

describe('CRD status', () => {
  it('accepts the names and establishes a CRD without conflicts', () => {
    const status = desiredStatus(crd('crontabs', 'CronTab'), []);
    assert.deepEqual(status.acceptedNames, { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList', shortNames: ['ct'] });
    assert.equal(status.storedVersions, undefined, 'storedVersions are left to the strategy');
    assert.deepEqual(
      status.conditions?.map(({ type, status: value, reason, message }) => ({ type, value, reason, message })),
      [
        { type: 'NamesAccepted', value: 'True', reason: 'NoConflicts', message: 'no conflicts found' },
        { type: 'Established', value: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
      ],
    );
  });

  it('is stable: recomputing an up-to-date status changes nothing', () => {
    const object = crd('crontabs', 'CronTab');
    object.status = desiredStatus(object, []);
    assert.deepEqual(desiredStatus(object, []), object.status);
  });

  it('reports a plural taken by another CRD of the group', () => {
    const other = crd('crontabs', 'Other', 'stable.example.com', { acceptedNames: { plural: 'crontabs', kind: 'Other' } });
    other.metadata.name = 'other';
    const status = desiredStatus(crd('crontabs', 'CronTab'), [other]);
    const names = status.conditions?.find((condition) => condition.type === 'NamesAccepted');
    assert.equal(names?.status, 'False');
    assert.equal(names?.reason, 'PluralConflict');
    assert.equal(names?.message, '"crontabs" is already in use');
    assert.equal(status.conditions?.find((condition) => condition.type === 'Established')?.reason, 'NotAccepted');
  });

  it('reports a kind taken by another CRD of the group, and ignores other groups', () => {
    const other = crd('crons', 'CronTab', 'stable.example.com', { acceptedNames: { plural: 'crons', kind: 'CronTab' } });
    assert.deepEqual(findNameConflict(crd('crontabs', 'CronTab'), [other]), { reason: 'KindConflict', message: '"CronTab" is already in use' });
    const elsewhere = crd('crontabs', 'CronTab', 'other.example.com', { acceptedNames: { plural: 'crontabs', kind: 'CronTab' } });
    assert.equal(findNameConflict(crd('crontabs', 'CronTab'), [elsewhere]), undefined);
  });

  it('keeps lastTransitionTime while a condition keeps its status', () => {
    const first = setCondition([], { type: 'Established', status: 'True', reason: 'A' });
    const again = setCondition([{ ...first[0], lastTransitionTime: '2020-01-01T00:00:00Z' }], { type: 'Established', status: 'True', reason: 'A' });
    assert.equal(again[0].lastTransitionTime, '2020-01-01T00:00:00Z');
  });
});

describe('CRD status controllers (upstream naming, nonstructuralschema and apiapproval controllers)', () => {
  const accepted = (plural: string, kind: string, extra: Record<string, unknown> = {}) => ({ acceptedNames: { plural, singular: plural.replace(/s$/, ''), kind, listKind: `${kind}List`, ...extra } });
  const condition = (status: { conditions?: { type: string }[] }, type: string) => status.conditions?.find((item) => item.type === type) as { status: string; reason: string; message: string } | undefined;

  it('accepts the names that are free and keeps the previous value of those in use; the last conflict is reported', () => {
    const other = crd('others', 'CronTab', 'stable.example.com', accepted('crontabs', 'CronTab', { singular: 'other' }));
    other.metadata.name = 'others.stable.example.com';
    const mine = crd('crontabs', 'CronTab');
    mine.spec.names.shortNames = [];
    const status = desiredStatus(mine, [other]);
    // plural conflicts, then kind and listKind conflict: upstream's condition carries the last one.
    // Empty singular and listKind are omitted, as upstream serializes them.
    assert.deepEqual(status.acceptedNames, { plural: '', singular: 'crontab', kind: '' });
    assert.deepEqual(condition(status, 'NamesAccepted'), { ...condition(status, 'NamesAccepted'), status: 'False', reason: 'ListKindConflict', message: '"CronTabList" is already in use' });
    assert.equal(condition(status, 'Established')?.reason, 'NotAccepted');
  });

  it('aggregates short name conflicts as utilerrors does', () => {
    const other = crd('others', 'Other', 'stable.example.com', accepted('others', 'Other', { shortNames: ['ct', 'cts'] }));
    other.metadata.name = 'others.stable.example.com';
    const mine = crd('crontabs', 'CronTab');
    mine.spec.names.shortNames = ['ct', 'cts', 'free'];
    const status = desiredStatus(mine, [other]);
    assert.equal(condition(status, 'NamesAccepted')?.reason, 'ShortNamesConflict');
    assert.equal(condition(status, 'NamesAccepted')?.message, '["ct" is already in use, "cts" is already in use]');
    assert.equal(status.acceptedNames?.shortNames, undefined);
    assert.equal(status.acceptedNames?.kind, 'CronTab');
  });

  it('a name the CRD itself already accepted is never a conflict', () => {
    const mine = crd('crontabs', 'CronTab', 'stable.example.com', accepted('crontabs', 'CronTab', { shortNames: ['ct'] }));
    mine.spec.names.categories = ['all'];
    const status = desiredStatus(mine, [mine]);
    assert.equal(condition(status, 'NamesAccepted')?.status, 'True');
    assert.deepEqual(status.acceptedNames?.categories, ['all']);
  });

  it('an established CRD stays established when a later name change conflicts', () => {
    const other = crd('others', 'Other', 'stable.example.com', accepted('others', 'Other'));
    other.metadata.name = 'others.stable.example.com';
    const mine = crd('crontabs', 'CronTab');
    mine.status = desiredStatus(mine, [other]);
    mine.spec.names.kind = 'Other';
    const status = desiredStatus(mine, [other]);
    assert.equal(condition(status, 'NamesAccepted')?.reason, 'ListKindConflict');
    assert.equal(condition(status, 'Established')?.status, 'True');
    assert.equal(status.acceptedNames?.kind, 'CronTab');
  });

  it('reports a stored non-structural schema as NonStructuralSchema=True with upstream message, and drops the condition once fixed', () => {
    const object = crd('crontabs', 'CronTab');
    object.spec.versions[0].schema = { openAPIV3Schema: { type: 'object', properties: { spec: { properties: { a: { type: 'string' } } } } } };
    const status = desiredStatus(object, []);
    assert.deepEqual(
      { ...condition(status, 'NonStructuralSchema') },
      { ...condition(status, 'NonStructuralSchema'), status: 'True', reason: 'Violations', message: 'spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields' },
    );
    object.status = status;
    object.spec.versions[0].schema.openAPIV3Schema.properties.spec.type = 'object';
    assert.equal(condition(desiredStatus(object, []), 'NonStructuralSchema'), undefined);
  });

  it('sets KubernetesAPIApprovalPolicyConformant for protected groups only', () => {
    const unapproved = crd('crontabs', 'CronTab', 'stable.k8s.io');
    assert.deepEqual(
      { ...condition(desiredStatus(unapproved, []), 'KubernetesAPIApprovalPolicyConformant') },
      {
        ...condition(desiredStatus(unapproved, []), 'KubernetesAPIApprovalPolicyConformant'),
        status: 'False',
        reason: 'MissingAnnotation',
        message: 'protected groups must have approval annotation "api-approved.kubernetes.io", see https://github.com/kubernetes/enhancements/pull/1111',
      },
    );
    const approved = crd('crontabs', 'CronTab', 'stable.k8s.io');
    approved.metadata.annotations = { 'api-approved.kubernetes.io': 'https://github.com/kubernetes/kubernetes/pull/78458' };
    const approvedCondition = condition(desiredStatus(approved, []), 'KubernetesAPIApprovalPolicyConformant');
    assert.equal(approvedCondition?.reason, 'ApprovedAnnotation');
    assert.equal(approvedCondition?.message, 'approved in https://github.com/kubernetes/kubernetes/pull/78458');
    const bypassed = crd('crontabs', 'CronTab', 'stable.k8s.io');
    bypassed.metadata.annotations = { 'api-approved.kubernetes.io': 'unapproved, testing' };
    assert.equal(condition(desiredStatus(bypassed, []), 'KubernetesAPIApprovalPolicyConformant')?.message, 'not approved: "unapproved, testing"');
    assert.equal(condition(desiredStatus(crd('crontabs', 'CronTab'), []), 'KubernetesAPIApprovalPolicyConformant'), undefined);
  });
});
