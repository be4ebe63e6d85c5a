// Shared apimachinery meta/v1 messages (k8s.io/apimachinery pkg/apis/meta/v1/generated.proto).
//
// The one ObjectMeta table: protobuf.ts imports it from here (only types flow back, so there is no ESM
// cycle in which a table would be read before it is initialised).

import type { FieldSpec, MessageSpec } from '../protobuf.js';

const OwnerReference: MessageSpec = {
  1: { name: 'kind', type: 'string' },
  3: { name: 'name', type: 'string' },
  4: { name: 'uid', type: 'string' },
  5: { name: 'apiVersion', type: 'string' },
  6: { name: 'controller', type: 'bool', pointer: true },
  7: { name: 'blockOwnerDeletion', type: 'bool', pointer: true },
};

export const ObjectMeta: MessageSpec = {
  1: { name: 'name', type: 'string' },
  2: { name: 'generateName', type: 'string' },
  3: { name: 'namespace', type: 'string' },
  4: { name: 'selfLink', type: 'string' },
  5: { name: 'uid', type: 'string' },
  6: { name: 'resourceVersion', type: 'string' },
  7: { name: 'generation', type: 'int64' },
  8: { name: 'creationTimestamp', type: 'time' },
  9: { name: 'deletionTimestamp', type: 'time' },
  10: { name: 'deletionGracePeriodSeconds', type: 'int64', pointer: true },
  11: { name: 'labels', type: 'map', mapValue: 'string' },
  12: { name: 'annotations', type: 'map', mapValue: 'string' },
  13: { name: 'ownerReferences', type: 'message', repeated: true, message: OwnerReference },
  14: { name: 'finalizers', type: 'string', repeated: true },
  // 17 managedFields is deliberately absent: clients do not send it on create, and the server owns it.
};

export const metadata: FieldSpec = { name: 'metadata', type: 'message', message: ObjectMeta };

export const LabelSelectorRequirement: MessageSpec = {
  1: { name: 'key', type: 'string' },
  2: { name: 'operator', type: 'string' },
  3: { name: 'values', type: 'string', repeated: true },
};

/** metav1.LabelSelector: matchLabels 1, matchExpressions 2. */
export const LabelSelector: MessageSpec = {
  1: { name: 'matchLabels', type: 'map', mapValue: 'string' },
  2: { name: 'matchExpressions', type: 'message', repeated: true, message: LabelSelectorRequirement },
};
