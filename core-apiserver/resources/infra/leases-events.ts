// coordination.k8s.io/v1 Lease (leader election and node heartbeats) and events.k8s.io/v1 Event.
// Events of both APIs live under one storage prefix as upstream, where core/v1 and events.k8s.io/v1 are two
// views of one store: objects are stored as core/v1 Events and events.k8s.io/v1 converts on the way in and
// out as upstream's conversion does (note<->message, regarding<->involvedObject, reportingController<->
// reportingComponent, deprecated* fields). The printer reads either shape (objects stored before that).

import { defineResource } from '../../../apiserver/registry/resource.js';
import type { VersionConverter } from '../../../apiserver/registry/conversion.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import type { FieldError } from '../../../apiserver/request/status.js';
import { isQualifiedName } from '../../../apiserver/registry/names.js';
import { ageColumn, nameColumn, since, type SinceCell } from '../../../apiserver/registry/table.js';
import { fieldDoc } from '../field-docs.js';
import { invalidEach, isObject, required, specOf } from './common.js';

// ---- Lease ------------------------------------------------------------------------------------------

/** strategy and preferredHolder belong to the alpha CoordinatedLeaderElection feature, which is off. */
function dropDisabledLeaseFields(lease: KubeObject, old?: KubeObject): void {
  const spec = specOf(lease);
  const oldSpec = old ? specOf(old) : {};
  for (const field of ['strategy', 'preferredHolder']) {
    if (oldSpec[field] === undefined) delete spec[field];
  }
}

function validateLease(lease: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const spec = specOf(lease);
  if (typeof spec.leaseDurationSeconds === 'number' && spec.leaseDurationSeconds <= 0) {
    errors.push({ field: 'spec.leaseDurationSeconds', type: 'FieldValueInvalid', value: spec.leaseDurationSeconds, detail: 'must be greater than 0' });
  }
  if (typeof spec.leaseTransitions === 'number' && spec.leaseTransitions < 0) {
    errors.push({ field: 'spec.leaseTransitions', type: 'FieldValueInvalid', value: spec.leaseTransitions, detail: 'must be greater than or equal to 0' });
  }
  return errors;
}

export const leases = defineResource({
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  namespaced: true,
  schemaName: 'io.k8s.api.coordination.v1.Lease',
  strategy: {
    prepareForCreate: (lease) => dropDisabledLeaseFields(lease),
    prepareForUpdate: (lease, old) => dropDisabledLeaseFields(lease, old),
    validate: validateLease,
    validateUpdate: (lease) => validateLease(lease),
  },
  printerColumns: [
    nameColumn,
    { name: 'Holder', type: 'string', get description() { return fieldDoc('io.k8s.api.coordination.v1.LeaseSpec', 'holderIdentity'); }, value: (lease) => specOf(lease).holderIdentity ?? '' },
    ageColumn,
  ],
});

// ---- events.k8s.io/v1 Event ---------------------------------------------------------------------

function field<T>(event: KubeObject, v1Name: string, coreName: string): T | undefined {
  return (event[v1Name] ?? event[coreName]) as T | undefined;
}

function eventTimes(event: KubeObject): { first: SinceCell; last: SinceCell; count: number } {
  const firstTimestamp = field<string>(event, 'deprecatedFirstTimestamp', 'firstTimestamp');
  const first = firstTimestamp ? since(firstTimestamp) : since(event.eventTime);
  const lastTimestamp = field<string>(event, 'deprecatedLastTimestamp', 'lastTimestamp');
  let last = lastTimestamp ? since(lastTimestamp) : first;
  let count = field<number>(event, 'deprecatedCount', 'count') ?? 0;
  if (isObject(event.series)) {
    last = since(event.series.lastObservedTime);
    count = event.series.count ?? 0;
  } else if (count === 0) {
    count = 1; // singleton events carry no count in the new API
  }
  return { first, last, count };
}

/** `kind/name` of the regarding (involved) object, lower-cased kind. */
export function eventTarget(event: KubeObject): string {
  const regarding = field<Record<string, any>>(event, 'regarding', 'involvedObject');
  if (!isObject(regarding)) return '';
  const kind = String(regarding.kind ?? '').toLowerCase();
  return regarding.name ? `${kind}/${regarding.name}` : kind;
}

function eventSource(event: KubeObject): string {
  const source = field<Record<string, any>>(event, 'deprecatedSource', 'source');
  const component = (isObject(source) && source.component) || event.reportingController || '';
  const instance = (isObject(source) && source.host) || event.reportingInstance || '';
  return instance ? `${component}, ${instance}` : component;
}

function eventDoc(property: string) {
  return fieldDoc('io.k8s.api.core.v1.Event', property);
}

function boundedString(event: KubeObject, name: string, max: number, errors: FieldError[]): void {
  const value = event[name];
  if (typeof value !== 'string' || value === '') errors.push(required(name));
  else if (value.length > max) errors.push({ field: name, type: 'FieldValueTooLong', detail: `must have at most ${max} bytes` });
}

/** events.k8s.io/v1 create: the new API's required fields (series-era events are self-describing). */
function validateEventCreate(event: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  if (!event.eventTime) errors.push(required('eventTime'));
  if (event.type !== 'Normal' && event.type !== 'Warning') errors.push({ field: 'type', type: 'FieldValueInvalid', value: '', detail: `has invalid value: ${event.type ?? ''}` });
  if (typeof event.reportingController !== 'string' || !event.reportingController) errors.push(required('reportingController'));
  else errors.push(...invalidEach('reportingController', event.reportingController, isQualifiedName(event.reportingController)));
  boundedString(event, 'reportingInstance', 128, errors);
  boundedString(event, 'action', 128, errors);
  boundedString(event, 'reason', 128, errors);
  if (typeof event.note === 'string' && event.note.length > 1024) errors.push({ field: 'note', type: 'FieldValueTooLong', detail: 'must have at most 1024 bytes' });
  return errors;
}

/** events.k8s.io/v1 field → core/v1 field (upstream's Convert_v1_Event_To_core_Event and back). */
const RENAMED: [string, string][] = [
  ['note', 'message'],
  ['regarding', 'involvedObject'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

function renameFields(event: KubeObject, apiVersion: string, fromIndex: 0 | 1): KubeObject {
  const converted: KubeObject = { ...event, apiVersion };
  for (const pair of RENAMED) {
    const from = pair[fromIndex];
    const to = pair[1 - fromIndex];
    delete converted[from];
    if (event[from] !== undefined) converted[to] = event[from];
  }
  return converted;
}

/** core/v1 ↔ events.k8s.io/v1; the direction follows each object's apiVersion. */
export const eventConversion: VersionConverter = {
  storageVersion: 'v1',
  storageApiVersion: 'v1',
  async convert(objects) {
    return objects.map((event) => (event.apiVersion === 'v1' ? renameFields(event, 'events.k8s.io/v1', 1) : renameFields(event, 'v1', 0)));
  },
};

export const events = defineResource({
  group: 'events.k8s.io',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  namespaced: true,
  shortNames: ['ev'],
  schemaName: 'io.k8s.api.events.v1.Event',
  storagePrefix: '/registry/events/',
  converter: eventConversion,
  strategy: { validate: validateEventCreate, defaultGarbageCollectionPolicy: 'Unsupported' },
  printerColumns: [
    { name: 'Last Seen', type: 'string', get description() { return eventDoc('lastTimestamp'); }, value: (event) => eventTimes(event).last },
    { name: 'Type', type: 'string', get description() { return eventDoc('type'); }, value: (event) => event.type ?? '' },
    { name: 'Reason', type: 'string', get description() { return eventDoc('reason'); }, value: (event) => event.reason ?? '' },
    { name: 'Object', type: 'string', get description() { return eventDoc('involvedObject'); }, value: eventTarget },
    { name: 'Subobject', type: 'string', priority: 1, get description() { return fieldDoc('io.k8s.api.core.v1.ObjectReference', 'fieldPath'); }, value: (event) => field<Record<string, any>>(event, 'regarding', 'involvedObject')?.fieldPath ?? '' },
    { name: 'Source', type: 'string', priority: 1, get description() { return eventDoc('source'); }, value: eventSource },
    { name: 'Message', type: 'string', get description() { return eventDoc('message'); }, value: (event) => String(field<string>(event, 'note', 'message') ?? '').trim() },
    { name: 'First Seen', type: 'string', priority: 1, get description() { return eventDoc('firstTimestamp'); }, value: (event) => eventTimes(event).first },
    { name: 'Count', type: 'string', priority: 1, get description() { return eventDoc('count'); }, value: (event) => eventTimes(event).count },
    { ...nameColumn, priority: 1 },
  ],
});
