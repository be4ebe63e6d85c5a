import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import type { ResourceDefinition, StrategyContext } from '../../../apiserver/registry/resource.js';
import { fieldErrorMessage } from '../../../apiserver/request/status.js';
import { tableRow } from '../../../apiserver/registry/table.js';
import { priorityClasses, runtimeClasses, storageClasses } from './classes.js';

const CONTEXT: StrategyContext = { user: { username: 'alice', groups: [] }, warnings: [], dryRun: false };

function created(definition: ResourceDefinition, object: KubeObject): KubeObject {
  definition.strategy.prepareForCreate?.(object, CONTEXT);
  return object;
}

function problems(definition: ResourceDefinition, object: KubeObject, old?: KubeObject): string[] {
  const errors = old ? definition.strategy.validateUpdate!(object, old, CONTEXT) : definition.strategy.validate!(object, CONTEXT);
  return errors.map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
}

function cells(definition: ResourceDefinition, object: KubeObject): unknown[] {
  return (tableRow(definition.printerColumns!, object, 'None').cells as unknown[]).slice(0, -1); // drop Age
}

function storageClass(fields: Record<string, unknown>, annotations?: Record<string, string>): KubeObject {
  return { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'fast', ...(annotations ? { annotations } : {}) }, provisioner: 'kubernetes.io/no-provisioner', ...fields };
}

describe('StorageClass', () => {
  it('defaults reclaimPolicy to Delete and volumeBindingMode to Immediate', () => {
    const object = created(storageClasses, storageClass({}));
    assert.equal(object.reclaimPolicy, 'Delete');
    assert.equal(object.volumeBindingMode, 'Immediate');
    assert.deepEqual(problems(storageClasses, object), []);
    const chosen = created(storageClasses, storageClass({ reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer' }));
    assert.deepEqual([chosen.reclaimPolicy, chosen.volumeBindingMode], ['Retain', 'WaitForFirstConsumer']);
  });

  it('requires a qualified provisioner and known policies', () => {
    assert.deepEqual(problems(storageClasses, created(storageClasses, storageClass({ provisioner: '', reclaimPolicy: 'Recycle', volumeBindingMode: 'Later' }))), [
      'provisioner: Required value',
      'reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"',
      'volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"',
    ]);
  });

  it('forbids changing provisioner, parameters, reclaimPolicy and volumeBindingMode but allows expansion and annotations', () => {
    const old = created(storageClasses, storageClass({ parameters: { type: 'ssd' } }));
    const changed = created(storageClasses, storageClass({ provisioner: 'example.com/csi', parameters: { type: 'hdd' }, reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer' }));
    assert.deepEqual(problems(storageClasses, changed, old), [
      'parameters: Forbidden: updates to parameters are forbidden.',
      'provisioner: Forbidden: updates to provisioner are forbidden.',
      'reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.',
      'volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable',
    ]);
    const expanded = created(storageClasses, storageClass({ parameters: { type: 'ssd' }, allowVolumeExpansion: true }, { note: 'x' }));
    assert.deepEqual(problems(storageClasses, expanded, old), []);
  });

  it('prints the default class with a (default) suffix and the defaulted columns', () => {
    const object = created(storageClasses, storageClass({ allowVolumeExpansion: true }, { 'storageclass.kubernetes.io/is-default-class': 'true' }));
    assert.deepEqual(cells(storageClasses, object), ['fast (default)', 'kubernetes.io/no-provisioner', 'Delete', 'Immediate', true]);
    assert.deepEqual(cells(storageClasses, storageClass({}, { 'storageclass.kubernetes.io/is-default-class': 'false' })), ['fast', 'kubernetes.io/no-provisioner', 'Delete', 'Immediate', false]);
    assert.deepEqual(
      storageClasses.printerColumns!.map((column) => column.name),
      ['Name', 'Provisioner', 'ReclaimPolicy', 'VolumeBindingMode', 'AllowVolumeExpansion', 'Age'],
    );
  });
});

describe('PriorityClass', () => {
  const priorityClass = (name: string, fields: Record<string, unknown>): KubeObject => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, ...fields });

  it('defaults preemptionPolicy and prints NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY', () => {
    const object = created(priorityClasses, priorityClass('high', { value: 1000 }));
    assert.equal(object.preemptionPolicy, 'PreemptLowerPriority');
    const row = tableRow(priorityClasses.printerColumns!, object, 'None').cells as unknown[];
    assert.deepEqual([row[0], row[1], row[2], row[4]], ['high', 1000, false, 'PreemptLowerPriority']);
  });

  it('reserves system- names and caps user values', () => {
    assert.deepEqual(problems(priorityClasses, priorityClass('system-mine', { value: 5 })), [
      "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class",
    ]);
    assert.deepEqual(problems(priorityClasses, priorityClass('system-node-critical', { value: 2000001000 })), []);
    assert.deepEqual(problems(priorityClasses, priorityClass('huge', { value: 2000000000 })), ['value: Forbidden: maximum allowed value of a user defined priority is 1000000000']);
  });

  it('refuses to change the value or the preemption policy', () => {
    const old = created(priorityClasses, priorityClass('high', { value: 1000 }));
    assert.deepEqual(problems(priorityClasses, created(priorityClasses, priorityClass('high', { value: 2000, preemptionPolicy: 'Never' })), old), [
      'value: Forbidden: may not be changed in an update.',
      'preemptionPolicy: Invalid value: "Never": field is immutable',
    ]);
  });
});

describe('RuntimeClass', () => {
  it('requires a DNS-label handler that never changes', () => {
    const runtimeClass = (handler?: string): KubeObject => ({ metadata: { name: 'gvisor' }, ...(handler === undefined ? {} : { handler }) });
    assert.deepEqual(problems(runtimeClasses, runtimeClass()), ['handler: Required value']);
    assert.deepEqual(problems(runtimeClasses, runtimeClass('runsc'), runtimeClass('runc')), ['handler: Invalid value: "runsc": field is immutable']);
    assert.deepEqual(cells(runtimeClasses, runtimeClass('runsc')), ['gvisor', 'runsc']);
  });
});
