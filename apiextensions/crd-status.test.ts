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
    assert.deepEqual(status.storedVersions, ['v1']);
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
