// v1 ServiceAccount and v1 Event. Events are printed as `kubectl get events` prints them (ages from the
// last/first timestamps or the series), and are selectable by their involved object as `kubectl events`
// asks for them.

import { defineResource } from '../../../apiserver/registry/resource.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import { isObject } from '../../../apiserver/registry/object.js';
import type { FieldError } from '../../../apiserver/request/status.js';
import { isQualifiedName } from '../../../apiserver/registry/names.js';
import { ageColumn, nameColumn, since, type SinceCell } from '../../../apiserver/registry/table.js';
import { fieldDoc } from '../field-docs.js';
import type { Json } from './pod-defaults.js';

const EVENT = 'io.k8s.api.core.v1.Event';
const OBJECT_REFERENCE = 'io.k8s.api.core.v1.ObjectReference';

export const serviceAccounts = defineResource({
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  plural: 'serviceaccounts',
  namespaced: true,
  returnDeletedObject: true,
  shortNames: ['sa'],
  schemaName: 'io.k8s.api.core.v1.ServiceAccount',
  printerColumns: [
    nameColumn,
    {
      name: 'Secrets',
      // A string column with an integer cell, as upstream declares it.
      type: 'string',
      get description() {
        return fieldDoc('io.k8s.api.core.v1.ServiceAccount', 'secrets');
      },
      value: (account) => (Array.isArray(account.secrets) ? account.secrets.length : 0),
    },
    ageColumn,
  ],
});

function record(value: unknown): Json {
  return isObject(value) ? value : {};
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function involved(event: KubeObject): Json {
  return record(event.involvedObject);
}

function firstSeen(event: KubeObject): SinceCell {
  return event.firstTimestamp ? since(event.firstTimestamp) : since(event.eventTime);
}

function lastSeen(event: KubeObject): SinceCell {
  if (isObject(event.series)) return since(text(event.series.lastObservedTime));
  return event.lastTimestamp ? since(event.lastTimestamp) : firstSeen(event);
}

function eventCount(event: KubeObject): number {
  if (isObject(event.series)) return typeof event.series.count === 'number' ? event.series.count : 0;
  // Singleton events of the new API carry no count.
  return typeof event.count === 'number' && event.count !== 0 ? event.count : 1;
}

/** `pod/web-1`, or just the kind when the object has no name. */
export function eventObject(event: KubeObject): string {
  const object = involved(event);
  const kind = text(object.kind).toLowerCase();
  return text(object.name) ? `${kind}/${text(object.name)}` : kind;
}

function eventSource(event: KubeObject): string {
  const source = record(event.source);
  const component = text(source.component) || text(event.reportingComponent);
  const instance = text(source.host) || text(event.reportingInstance);
  return instance ? `${component}, ${instance}` : component;
}

function validateEvent(event: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const namespace = event.metadata.namespace ?? '';
  const involvedNamespace = text(involved(event).namespace);
  const mismatch = { field: 'involvedObject.namespace', type: 'FieldValueInvalid' as const, value: involvedNamespace, detail: 'does not match event.namespace' };
  if (!event.eventTime) {
    if (involvedNamespace ? namespace !== involvedNamespace : namespace !== '' && namespace !== 'default') errors.push(mismatch);
    return errors;
  }
  // Events of the new API must say who reported them and what happened.
  if (!involvedNamespace && namespace !== 'default' && namespace !== 'kube-system') errors.push(mismatch);
  const controller = text(event.reportingComponent);
  if (!controller) errors.push({ field: 'source', type: 'FieldValueRequired' });
  else for (const detail of isQualifiedName(controller)) errors.push({ field: 'source', type: 'FieldValueInvalid', value: controller, detail });
  if (!text(event.reportingInstance)) errors.push({ field: 'reportingInstance', type: 'FieldValueRequired' });
  if (!text(event.action)) errors.push({ field: 'action', type: 'FieldValueRequired' });
  if (!text(event.reason)) errors.push({ field: 'reason', type: 'FieldValueRequired' });
  return errors;
}

const involvedField = (field: string) => (event: KubeObject) => text(involved(event)[field]);

export const events = defineResource({
  group: '',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  namespaced: true,
  shortNames: ['ev'],
  schemaName: EVENT,
  selectableFields: {
    'involvedObject.kind': involvedField('kind'),
    'involvedObject.namespace': involvedField('namespace'),
    'involvedObject.name': involvedField('name'),
    'involvedObject.uid': involvedField('uid'),
    'involvedObject.apiVersion': involvedField('apiVersion'),
    'involvedObject.resourceVersion': involvedField('resourceVersion'),
    'involvedObject.fieldPath': involvedField('fieldPath'),
    reason: (event) => text(event.reason),
    reportingComponent: (event) => text(event.reportingComponent),
    source: (event) => text(record(event.source).component),
    type: (event) => text(event.type),
  },
  strategy: { validate: validateEvent, validateUpdate: validateEvent, defaultGarbageCollectionPolicy: 'Unsupported' },
  printerColumns: [
    { name: 'Last Seen', type: 'string', get description() { return fieldDoc(EVENT, 'lastTimestamp'); }, value: lastSeen },
    { name: 'Type', type: 'string', get description() { return fieldDoc(EVENT, 'type'); }, value: (event) => text(event.type) },
    { name: 'Reason', type: 'string', get description() { return fieldDoc(EVENT, 'reason'); }, value: (event) => text(event.reason) },
    { name: 'Object', type: 'string', get description() { return fieldDoc(EVENT, 'involvedObject'); }, value: eventObject },
    { name: 'Subobject', type: 'string', priority: 1, get description() { return fieldDoc(OBJECT_REFERENCE, 'fieldPath'); }, value: (event) => text(involved(event).fieldPath) },
    { name: 'Source', type: 'string', priority: 1, get description() { return fieldDoc(EVENT, 'source'); }, value: eventSource },
    { name: 'Message', type: 'string', get description() { return fieldDoc(EVENT, 'message'); }, value: (event) => text(event.message).trim() },
    { name: 'First Seen', type: 'string', priority: 1, get description() { return fieldDoc(EVENT, 'firstTimestamp'); }, value: firstSeen },
    { name: 'Count', type: 'string', priority: 1, get description() { return fieldDoc(EVENT, 'count'); }, value: eventCount },
    { ...nameColumn, priority: 1 },
  ],
});
