// certificates.k8s.io/v1 CertificateSigningRequest and flowcontrol.apiserver.k8s.io/v1 FlowSchema /
// PriorityLevelConfiguration. A CSR records who asked (from the request's user, never from the body) and
// is approved or denied only through /approval; flow-control objects are defaulted to upstream's v1 values.

import { defineResource, statusSubresource } from '../../../apiserver/registry/resource.js';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import type { FieldError } from '../../../apiserver/request/status.js';
import { isQualifiedName } from '../../../apiserver/registry/names.js';
import { ageColumn, humanDuration, nameColumn } from '../../../apiserver/registry/table.js';
import { fieldDoc } from '../field-docs.js';
import { ensureSpec, immutable, invalidEach, isObject, notSupported, objectsOf, required, specOf } from './common.js';

// ---- CertificateSigningRequest --------------------------------------------------------------------

const KEY_USAGES = [
  'any', 'cert sign', 'client auth', 'code signing', 'content commitment', 'crl sign', 'data encipherment', 'decipher only', 'digital signature',
  'email protection', 'encipher only', 'ipsec end system', 'ipsec tunnel', 'ipsec user', 'key agreement', 'key encipherment', 'microsoft sgc',
  'netscape sgc', 'ocsp signing', 's/mime', 'server auth', 'signing', 'timestamping',
];

function validateCsr(csr: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const spec = specOf(csr);
  if (typeof spec.request !== 'string' || spec.request === '') errors.push(required('spec.request'));
  else if (!Buffer.from(spec.request, 'base64').toString('latin1').includes('-----BEGIN CERTIFICATE REQUEST-----')) {
    errors.push({ field: 'spec.request', type: 'FieldValueInvalid', value: '<redacted>', detail: 'PEM block type must be CERTIFICATE REQUEST' });
  }
  const signerName = typeof spec.signerName === 'string' ? spec.signerName : '';
  if (!signerName) errors.push(required('spec.signerName'));
  else if (!signerName.includes('/')) errors.push({ field: 'spec.signerName', type: 'FieldValueInvalid', value: signerName, detail: 'must be a fully qualified domain and path of the form \'example.com/signer-name\'' });
  else errors.push(...invalidEach('spec.signerName', signerName, isQualifiedName(signerName)));
  const usages = Array.isArray(spec.usages) ? spec.usages : [];
  if (usages.length === 0) errors.push(required('spec.usages'));
  usages.forEach((usage: unknown, index: number) => {
    if (typeof usage !== 'string' || !KEY_USAGES.includes(usage)) errors.push(notSupported(`spec.usages[${index}]`, usage, KEY_USAGES));
  });
  if (typeof spec.expirationSeconds === 'number' && spec.expirationSeconds < 600) {
    errors.push({ field: 'spec.expirationSeconds', type: 'FieldValueInvalid', value: spec.expirationSeconds, detail: 'may not specify a duration less than 600 seconds (10 minutes)' });
  }
  return errors;
}

/** extractCSRStatus: Denied over Approved over Pending, then `,Failed` and `,Issued`. */
export function csrCondition(csr: KubeObject): string {
  const status = isObject(csr.status) ? csr.status : {};
  const types = new Set(objectsOf(status.conditions).map((condition) => condition.type));
  let text = types.has('Denied') ? 'Denied' : types.has('Approved') ? 'Approved' : 'Pending';
  if (types.has('Failed')) text += ',Failed';
  if (typeof status.certificate === 'string' && status.certificate.length > 0) text += ',Issued';
  return text;
}

function csrDoc(property: string) {
  return fieldDoc('io.k8s.api.certificates.v1.CertificateSigningRequestSpec', property);
}

export const certificateSigningRequests = defineResource({
  group: 'certificates.k8s.io',
  version: 'v1',
  kind: 'CertificateSigningRequest',
  plural: 'certificatesigningrequests',
  namespaced: false,
  shortNames: ['csr'],
  schemaName: 'io.k8s.api.certificates.v1.CertificateSigningRequest',
  subresources: {
    status: statusSubresource,
    approval: { verbs: ['get', 'patch', 'update'], updates: ['status.conditions'] },
  },
  strategy: {
    prepareForCreate(csr, context) {
      // The requester's identity is the authenticated user's, whatever the body claims.
      const spec = ensureSpec(csr);
      delete spec.uid;
      delete spec.extra;
      spec.username = context.user.username;
      if (context.user.uid) spec.uid = context.user.uid;
      spec.groups = [...(context.user.groups ?? [])];
      if (context.user.extra && Object.keys(context.user.extra).length > 0) spec.extra = structuredClone(context.user.extra);
    },
    prepareForUpdate(csr, old) {
      csr.spec = structuredClone(old.spec);
    },
    validate: validateCsr,
    validateUpdate: (csr, old) => [...validateCsr(csr), ...immutable(csr.spec, old.spec, 'spec')],
  },
  printerColumns: [
    nameColumn,
    ageColumn,
    { name: 'SignerName', type: 'string', get description() { return csrDoc('signerName'); }, value: (csr) => specOf(csr).signerName || '<none>' },
    { name: 'Requestor', type: 'string', get description() { return csrDoc('request'); }, value: (csr) => specOf(csr).username ?? '' },
    {
      name: 'RequestedDuration',
      type: 'string',
      get description() {
        return csrDoc('expirationSeconds');
      },
      value: (csr) => (typeof specOf(csr).expirationSeconds === 'number' ? humanDuration(specOf(csr).expirationSeconds * 1000) : '<none>'),
    },
    { name: 'Condition', type: 'string', get description() { return fieldDoc('io.k8s.api.certificates.v1.CertificateSigningRequestStatus', 'conditions'); }, value: csrCondition },
  ],
});

// ---- FlowSchema -----------------------------------------------------------------------------------

const FLOWCONTROL = 'flowcontrol.apiserver.k8s.io';

function validateFlowSchema(flowSchema: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const spec = specOf(flowSchema);
  const reference = isObject(spec.priorityLevelConfiguration) ? spec.priorityLevelConfiguration : {};
  if (!reference.name) errors.push(required('spec.priorityLevelConfiguration.name', 'must reference a priority level'));
  if (typeof spec.matchingPrecedence === 'number' && (spec.matchingPrecedence < 1 || spec.matchingPrecedence > 10000)) {
    errors.push({ field: 'spec.matchingPrecedence', type: 'FieldValueInvalid', value: spec.matchingPrecedence, detail: 'must be between 1 and 10000 inclusively' });
  }
  if (isObject(spec.distinguisherMethod) && !['ByNamespace', 'ByUser'].includes(spec.distinguisherMethod.type)) {
    errors.push(notSupported('spec.distinguisherMethod.type', spec.distinguisherMethod.type ?? '', ['ByNamespace', 'ByUser']));
  }
  return errors;
}

export const flowSchemas = defineResource({
  group: FLOWCONTROL,
  version: 'v1',
  kind: 'FlowSchema',
  plural: 'flowschemas',
  namespaced: false,
  schemaName: 'io.k8s.api.flowcontrol.v1.FlowSchema',
  generation: true,
  subresources: { status: statusSubresource },
  strategy: {
    prepareForCreate: (flowSchema) => void (ensureSpec(flowSchema).matchingPrecedence ??= 1000),
    prepareForUpdate: (flowSchema) => void (ensureSpec(flowSchema).matchingPrecedence ??= 1000),
    validate: validateFlowSchema,
    validateUpdate: (flowSchema) => validateFlowSchema(flowSchema),
  },
  printerColumns: [
    nameColumn,
    { name: 'PriorityLevel', type: 'string', get description() { return fieldDoc('io.k8s.api.flowcontrol.v1.PriorityLevelConfigurationReference', 'name'); }, value: (flowSchema) => specOf(flowSchema).priorityLevelConfiguration?.name ?? '' },
    { name: 'MatchingPrecedence', type: 'string', get description() { return fieldDoc('io.k8s.api.flowcontrol.v1.FlowSchemaSpec', 'matchingPrecedence'); }, value: (flowSchema) => specOf(flowSchema).matchingPrecedence ?? 0 },
    { name: 'DistinguisherMethod', type: 'string', get description() { return fieldDoc('io.k8s.api.flowcontrol.v1.FlowSchemaSpec', 'distinguisherMethod'); }, value: (flowSchema) => specOf(flowSchema).distinguisherMethod?.type ?? '<none>' },
    ageColumn,
    {
      name: 'MissingPL',
      type: 'string',
      description: 'references a broken or non-existent PriorityLevelConfiguration',
      value: (flowSchema) => objectsOf(isObject(flowSchema.status) ? flowSchema.status.conditions : undefined).find((condition) => condition.type === 'Dangling')?.status ?? '?',
    },
  ],
});

// ---- PriorityLevelConfiguration -----------------------------------------------------------------

function defaultPriorityLevel(priorityLevel: KubeObject): void {
  const spec = ensureSpec(priorityLevel);
  if (spec.type === 'Exempt') {
    if (!isObject(spec.exempt)) spec.exempt = {};
    spec.exempt.nominalConcurrencyShares ??= 0;
    spec.exempt.lendablePercent ??= 0;
  }
  if (spec.type === 'Limited' && isObject(spec.limited)) {
    const limited = spec.limited;
    limited.nominalConcurrencyShares ??= 30;
    limited.lendablePercent ??= 0;
    if (isObject(limited.limitResponse) && limited.limitResponse.type === 'Queue') {
      if (!isObject(limited.limitResponse.queuing)) limited.limitResponse.queuing = {};
      const queuing = limited.limitResponse.queuing;
      queuing.queues ??= 64;
      queuing.handSize ??= 8;
      queuing.queueLengthLimit ??= 50;
    }
  }
}

function validatePriorityLevel(priorityLevel: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const spec = specOf(priorityLevel);
  if (spec.type === 'Limited') {
    if (!isObject(spec.limited)) errors.push(required('spec.limited', 'must not be empty when type is Limited'));
    if (spec.exempt !== undefined) errors.push({ field: 'spec.exempt', type: 'FieldValueForbidden', detail: 'must be nil if the type is Limited' });
    const limited = isObject(spec.limited) ? spec.limited : {};
    if (typeof limited.lendablePercent === 'number' && (limited.lendablePercent < 0 || limited.lendablePercent > 100)) {
      errors.push({ field: 'spec.limited.lendablePercent', type: 'FieldValueInvalid', value: limited.lendablePercent, detail: 'must be between 0 and 100, inclusive' });
    }
    const response = isObject(limited.limitResponse) ? limited.limitResponse : {};
    if (!['Queue', 'Reject'].includes(response.type)) errors.push(notSupported('spec.limited.limitResponse.type', response.type ?? '', ['Queue', 'Reject']));
    const queuing = isObject(response.queuing) ? response.queuing : undefined;
    if (response.type === 'Reject' && queuing) errors.push({ field: 'spec.limited.limitResponse.queuing', type: 'FieldValueForbidden', detail: 'must be nil if limited.limitResponse.type is not Limited' });
    if (queuing) {
      for (const key of ['queues', 'handSize', 'queueLengthLimit']) {
        if (typeof queuing[key] === 'number' && queuing[key] <= 0) errors.push({ field: `spec.limited.limitResponse.queuing.${key}`, type: 'FieldValueInvalid', value: queuing[key], detail: 'must be positive' });
      }
      if (typeof queuing.handSize === 'number' && typeof queuing.queues === 'number' && queuing.handSize > queuing.queues) {
        errors.push({ field: 'spec.limited.limitResponse.queuing.handSize', type: 'FieldValueInvalid', value: queuing.handSize, detail: `should not be greater than queues (${queuing.queues})` });
      }
    }
  } else if (spec.type === 'Exempt') {
    if (spec.limited !== undefined) errors.push({ field: 'spec.limited', type: 'FieldValueForbidden', detail: 'must be nil if the type is not Limited' });
  } else {
    errors.push(notSupported('spec.type', spec.type ?? '', ['Exempt', 'Limited']));
  }
  return errors;
}

/** `<none>` for the queuing cells of exempt levels and of levels that reject instead of queueing. */
function queuingCell(priorityLevel: KubeObject, key: string): unknown {
  const limited = specOf(priorityLevel).limited;
  const queuing = isObject(limited) && isObject(limited.limitResponse) ? limited.limitResponse.queuing : undefined;
  return isObject(queuing) ? (queuing[key] ?? 0) : '<none>';
}

function queuingDoc(property: string) {
  return fieldDoc('io.k8s.api.flowcontrol.v1.QueuingConfiguration', property);
}

export const priorityLevelConfigurations = defineResource({
  group: FLOWCONTROL,
  version: 'v1',
  kind: 'PriorityLevelConfiguration',
  plural: 'prioritylevelconfigurations',
  namespaced: false,
  schemaName: 'io.k8s.api.flowcontrol.v1.PriorityLevelConfiguration',
  generation: true,
  subresources: { status: statusSubresource },
  strategy: {
    prepareForCreate: defaultPriorityLevel,
    prepareForUpdate: defaultPriorityLevel,
    validate: validatePriorityLevel,
    validateUpdate: (priorityLevel) => validatePriorityLevel(priorityLevel),
  },
  printerColumns: [
    nameColumn,
    { name: 'Type', type: 'string', get description() { return fieldDoc('io.k8s.api.flowcontrol.v1.PriorityLevelConfigurationSpec', 'type'); }, value: (priorityLevel) => specOf(priorityLevel).type ?? '' },
    {
      name: 'NominalConcurrencyShares',
      type: 'string',
      get description() {
        return fieldDoc('io.k8s.api.flowcontrol.v1.LimitedPriorityLevelConfiguration', 'nominalConcurrencyShares');
      },
      value: (priorityLevel) => (isObject(specOf(priorityLevel).limited) ? (specOf(priorityLevel).limited.nominalConcurrencyShares ?? 0) : '<none>'),
    },
    { name: 'Queues', type: 'string', get description() { return queuingDoc('queues'); }, value: (priorityLevel) => queuingCell(priorityLevel, 'queues') },
    { name: 'HandSize', type: 'string', get description() { return queuingDoc('handSize'); }, value: (priorityLevel) => queuingCell(priorityLevel, 'handSize') },
    { name: 'QueueLengthLimit', type: 'string', get description() { return queuingDoc('queueLengthLimit'); }, value: (priorityLevel) => queuingCell(priorityLevel, 'queueLengthLimit') },
    ageColumn,
  ],
});
