import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import type { ResourceDefinition, StrategyContext } from '../../../apiserver/registry/resource.js';
import { fieldErrorMessage } from '../../../apiserver/request/status.js';
import { tableRow } from '../../../apiserver/registry/table.js';
import { csiDrivers, csiNodes, csiStorageCapacities, volumeAttachments } from './csi.js';

const CONTEXT: StrategyContext = { user: { username: 'alice', groups: [] }, warnings: [], dryRun: false };
const DNS_SUBDOMAIN = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

function created(definition: ResourceDefinition, object: KubeObject): KubeObject {
  definition.strategy.prepareForCreate?.(object, CONTEXT);
  return object;
}

function problems(definition: ResourceDefinition, object: KubeObject, old?: KubeObject): string[] {
  const errors = old ? definition.strategy.validateUpdate!(object, old, CONTEXT) : definition.strategy.validate!(object, CONTEXT);
  return errors.map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
}

function cells(definition: ResourceDefinition, object: KubeObject): unknown[] {
  return tableRow(definition.printerColumns!, object, 'None').cells as unknown[];
}

const driver = (spec: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'storage.k8s.io/v1', kind: 'CSIDriver', metadata: { name: 'hostpath.csi.k8s.io' }, spec });

describe('CSIDriver', () => {
  it('defaults every spec field as SetDefaults_CSIDriver does, and prints them', () => {
    const object = created(csiDrivers, driver());
    assert.deepEqual(object.spec, {
      attachRequired: true,
      podInfoOnMount: false,
      storageCapacity: false,
      fsGroupPolicy: 'ReadWriteOnceWithFSType',
      volumeLifecycleModes: ['Persistent'],
      requiresRepublish: false,
      seLinuxMount: false,
    });
    assert.deepEqual(problems(csiDrivers, object), []);
    assert.deepEqual(cells(csiDrivers, object).slice(0, -1), ['hostpath.csi.k8s.io', true, false, false, '<unset>', false, 'Persistent']);
    const chosen = created(csiDrivers, driver({ attachRequired: false, volumeLifecycleModes: ['Persistent', 'Ephemeral'], tokenRequests: [{ audience: 'vault' }, { audience: '' }] }));
    assert.deepEqual(cells(csiDrivers, chosen).slice(0, -1), ['hostpath.csi.k8s.io', false, false, false, 'vault,', false, 'Persistent,Ephemeral']);
  });

  it('rejects unknown policies and modes, short or duplicate token requests', () => {
    const object = created(csiDrivers, driver({ fsGroupPolicy: 'Sometimes', volumeLifecycleModes: ['Forever'], tokenRequests: [{ audience: 'a', expirationSeconds: 60 }, { audience: 'a' }, { audience: 'b', expirationSeconds: 2 ** 33 }] }));
    assert.deepEqual(problems(csiDrivers, object), [
      'spec.fsGroupPolicy: Unsupported value: "Sometimes": supported values: "File", "None", "ReadWriteOnceWithFSType"',
      'spec.tokenRequests[0].expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes',
      'spec.tokenRequests[1].audience: Duplicate value: "a"',
      'spec.tokenRequests[2].expirationSeconds: Invalid value: 8589934592: may not specify a duration larger than 2^32 seconds',
      'spec.volumeLifecycleModes: Unsupported value: "Forever": supported values: "Persistent", "Ephemeral"',
    ]);
  });

  it('keeps attachRequired and volumeLifecycleModes immutable, under upstream\'s path name; the rest may change', () => {
    const old = created(csiDrivers, driver());
    const changed = created(csiDrivers, driver({ attachRequired: false, volumeLifecycleModes: ['Ephemeral'], podInfoOnMount: true, fsGroupPolicy: 'File', requiresRepublish: true }));
    assert.deepEqual(problems(csiDrivers, changed, old), ['spec.attachedRequired: Invalid value: false: field is immutable', 'spec.volumeLifecycleModes: Invalid value: []string{"Ephemeral"}: field is immutable']);
    const mutable = created(csiDrivers, driver({ podInfoOnMount: true, fsGroupPolicy: 'None', storageCapacity: true, tokenRequests: [{ audience: 'x' }] }));
    assert.deepEqual(problems(csiDrivers, mutable, old), []);
  });
});

describe('CSINode', () => {
  const node = (drivers: unknown[]): KubeObject => ({ apiVersion: 'storage.k8s.io/v1', kind: 'CSINode', metadata: { name: 'node-1' }, spec: { drivers } });

  it('validates driver names, node IDs, allocatable counts and topology keys', () => {
    assert.deepEqual(problems(csiNodes, node([{ name: 'a.csi', nodeID: 'n1', topologyKeys: ['zone'], allocatable: { count: 3 } }])), []);
    assert.deepEqual(
      problems(csiNodes, node([
        { name: 'Bad_Driver', nodeID: '', allocatable: { count: -1 } },
        { name: 'b.csi', nodeID: 'x'.repeat(193), topologyKeys: ['zone', 'zone', ''] },
        { name: 'b.csi', nodeID: 'n' },
      ])),
      [
        `spec.drivers[0].name: Invalid value: "Bad_Driver": ${DNS_SUBDOMAIN}`,
        'spec.drivers[0].nodeID: Required value',
        'spec.drivers[0].allocatable.count: Invalid value: -1: must be greater than or equal to 0',
        `spec.drivers[1].nodeID: Invalid value: "${'x'.repeat(193)}": must be 192 characters or less`,
        'spec.drivers[1]: Duplicate value: "zone"',
        'spec.drivers[1]: Required value',
        "spec.drivers[1]: Invalid value: \"\": name part must be non-empty",
        'spec.drivers[2].name: Duplicate value: "b.csi"',
      ],
    );
  });

  it('lets drivers come and go but never change, and keeps long node IDs valid once stored', () => {
    const old = node([{ name: 'a.csi', nodeID: 'n1' }]);
    assert.deepEqual(problems(csiNodes, node([{ name: 'a.csi', nodeID: 'n1' }, { name: 'b.csi', nodeID: 'n1' }]), old), []);
    assert.deepEqual(problems(csiNodes, node([]), old), []);
    assert.deepEqual(problems(csiNodes, node([{ name: 'a.csi', nodeID: 'n2' }]), old), ['spec.drivers: Invalid value: map[string]string{"name":"a.csi", "nodeID":"n2"}: field is immutable']);
    const long = node([{ name: 'a.csi', nodeID: 'y'.repeat(200) }]);
    assert.deepEqual(problems(csiNodes, long, long), []);
  });
});

describe('CSIStorageCapacity', () => {
  const capacity = (fields: Record<string, unknown>): KubeObject => ({ apiVersion: 'storage.k8s.io/v1', kind: 'CSIStorageCapacity', metadata: { name: 'c', namespace: 'default' }, storageClassName: 'standard', ...fields });

  it('needs a class name, a valid topology selector and a non-negative capacity; prints <unset> without one', () => {
    assert.deepEqual(problems(csiStorageCapacities, capacity({ capacity: '10Gi', nodeTopology: { matchLabels: { zone: 'a' } } })), []);
    assert.deepEqual(problems(csiStorageCapacities, capacity({ storageClassName: '', capacity: '-1Gi' })), [`storageClassName: Invalid value: "": ${DNS_SUBDOMAIN}`, 'capacity: Invalid value: "-1Gi": must be greater than or equal to 0']);
    assert.deepEqual(cells(csiStorageCapacities, capacity({})), ['c', 'standard', '<unset>']);
    assert.deepEqual(cells(csiStorageCapacities, capacity({ capacity: '5Gi' })), ['c', 'standard', '5Gi']);
  });

  it('fixes the topology and the class; capacity and maximumVolumeSize may change', () => {
    const old = capacity({ capacity: '10Gi', nodeTopology: { matchLabels: { zone: 'a' } } });
    assert.deepEqual(problems(csiStorageCapacities, capacity({ capacity: '5Gi', maximumVolumeSize: '1Gi', nodeTopology: { matchLabels: { zone: 'a' } } }), old), []);
    assert.deepEqual(problems(csiStorageCapacities, capacity({ storageClassName: 'fast', nodeTopology: { matchLabels: { zone: 'b' } } }), old), [
      'nodeTopology: Invalid value: "object": field is immutable',
      'storageClassName: Invalid value: "fast": field is immutable',
    ]);
  });
});

describe('VolumeAttachment', () => {
  const attachment = (spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject => ({ apiVersion: 'storage.k8s.io/v1', kind: 'VolumeAttachment', metadata: { name: 'va' }, spec, ...(status ? { status } : {}) });
  const valid = { attacher: 'hostpath.csi.k8s.io', nodeName: 'node-1', source: { persistentVolumeName: 'pv-1' } };

  it('starts detached, and prints attacher, PV, node and attached', () => {
    const object = created(volumeAttachments, attachment(valid));
    assert.deepEqual(object.status, { attached: false });
    assert.deepEqual(problems(volumeAttachments, object), []);
    assert.deepEqual(cells(volumeAttachments, object).slice(0, -1), ['va', 'hostpath.csi.k8s.io', 'pv-1', 'node-1', false]);
  });

  it('needs an attacher that is a driver name, exactly one source and a node name', () => {
    assert.deepEqual(problems(volumeAttachments, attachment({ attacher: '', nodeName: '', source: {} })), [
      'spec.attacher: Required value',
      `spec.attacher: Invalid value: "": ${DNS_SUBDOMAIN}`,
      'spec.source: Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName',
      `spec.nodeName: Invalid value: "": ${DNS_SUBDOMAIN}`,
    ]);
    assert.deepEqual(problems(volumeAttachments, attachment({ ...valid, source: { persistentVolumeName: 'pv', inlineVolumeSpec: {} } })), ['spec.source: Forbidden: must specify exactly one of inlineVolumeSpec and persistentVolumeName']);
    assert.deepEqual(problems(volumeAttachments, attachment({ ...valid, source: { persistentVolumeName: '' } })), ['spec.source.persistentVolumeName: Required value: must specify non empty persistentVolumeName']);
  });

  it('freezes the spec; the status (errors bounded) is the attacher\'s', () => {
    const old = created(volumeAttachments, attachment(valid));
    assert.deepEqual(problems(volumeAttachments, attachment({ ...valid, nodeName: 'node-2' }, { attached: false }), old), ['spec: Invalid value: "object": field is immutable']);
    const status = { attached: false, attachError: { message: 'x'.repeat(1025), errorCode: -1 } };
    assert.deepEqual(volumeAttachments.strategy.validateStatusUpdate!(attachment(valid, status), old, CONTEXT).map((error) => `${error.field}: ${fieldErrorMessage(error)}`), [
      'status.attachError.message: Too long: must have at most 262144 bytes',
      'status.attachError.errorCode: Invalid value: -1: must be between 0 and 2147483647, inclusive',
    ]);
  });
});
