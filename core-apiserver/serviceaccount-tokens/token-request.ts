// serviceaccounts/token: POST an authentication.k8s.io/v1 TokenRequest, get a signed ServiceAccount token
// (`kubectl create token SA [--duration] [--audience] [--bound-object-kind Pod --bound-object-name p]`).
// Audiences default to the API audiences, the lifetime to an hour (at least 10 minutes, at most
// --service-account-max-token-expiration); a token may be bound to a Pod, Secret or Node of the same
// namespace, and then lives only as long as that object.

import type { KubeObject } from '../../apiserver/registry/object.js';
import { isObject, nowTimestamp } from '../../apiserver/registry/object.js';
import type { SubresourceDefinition } from '../../apiserver/registry/resource.js';
import type { GenericStore } from '../../apiserver/registry/store.js';
import type { FieldError } from '../../apiserver/request/status.js';
import { badRequest, conflict, invalid } from '../../apiserver/request/status.js';
import type { ServiceAccountTokenOptions } from '../../apiserver/authentication/options.js';
import type { Reference, TokenSpec } from '../../apiserver/authentication/service-account-token.js';

const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;
const DEFAULT_EXPIRATION_SECONDS = 3600;

function validate(request: KubeObject, namespace: string, name: string): FieldError[] {
  const errors: FieldError[] = [];
  if (request.metadata?.name && request.metadata.name !== name) errors.push({ field: 'metadata.name', type: 'FieldValueInvalid', value: request.metadata.name, detail: 'must match the service account name if specified' });
  if (request.metadata?.namespace && request.metadata.namespace !== namespace) errors.push({ field: 'metadata.namespace', type: 'FieldValueInvalid', value: request.metadata.namespace, detail: 'must match the service account namespace if specified' });
  const seconds = request.spec.expirationSeconds;
  if (typeof seconds !== 'number' || !Number.isInteger(seconds)) errors.push({ field: 'spec.expirationSeconds', type: 'FieldValueInvalid', value: seconds, detail: 'must be an integer' });
  else if (seconds < MIN_EXPIRATION_SECONDS) errors.push({ field: 'spec.expirationSeconds', type: 'FieldValueInvalid', value: seconds, detail: 'may not specify a duration less than 10 minutes' });
  else if (seconds > MAX_EXPIRATION_SECONDS) errors.push({ field: 'spec.expirationSeconds', type: 'FieldValueInvalid', value: seconds, detail: 'may not specify a duration larger than 2^32 seconds' });
  const audiences = request.spec.audiences;
  if (audiences !== undefined && audiences !== null && !(Array.isArray(audiences) && audiences.every((audience) => typeof audience === 'string'))) {
    errors.push({ field: 'spec.audiences', type: 'FieldValueInvalid', value: audiences, detail: 'must be a list of strings' });
  }
  return errors;
}

function reference(object: KubeObject): Reference {
  return { name: object.metadata.name ?? '', uid: object.metadata.uid ?? '' };
}

export function tokenSubresource(options: ServiceAccountTokenOptions, store: (plural: string) => GenericStore): SubresourceDefinition {
  return {
    kind: 'TokenRequest',
    group: 'authentication.k8s.io',
    version: 'v1',
    verbs: ['create'],
    create: async ({ namespace, name, body }) => ({ code: 201, body: await createToken(namespace, name, body) }),
  };

  async function createToken(namespace: string, name: string, body: KubeObject): Promise<KubeObject> {
      if (body.kind !== undefined && body.kind !== 'TokenRequest') throw badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (TokenRequest)`);
      const request: KubeObject = { ...body, metadata: isObject(body.metadata) ? body.metadata : {}, spec: isObject(body.spec) ? { ...body.spec } : {} };
      request.spec.expirationSeconds ??= DEFAULT_EXPIRATION_SECONDS;
      const errors = validate(request, namespace, name);
      if (errors.length) throw invalid('TokenRequest', 'authentication.k8s.io', request.metadata.name ?? '', errors);

      const account = await store('serviceaccounts').getObject(namespace, name);
      const spec: TokenSpec = { namespace, serviceAccount: reference(account), audiences: [], expirationSeconds: request.spec.expirationSeconds };
      const ref = isObject(request.spec.boundObjectRef) ? (request.spec.boundObjectRef as { kind?: string; apiVersion?: string; name?: string; uid?: string }) : undefined;
      if (ref) {
        const group = (ref.apiVersion ?? '').includes('/') ? (ref.apiVersion ?? '').split('/')[0] : '';
        const version = (ref.apiVersion ?? '').includes('/') ? (ref.apiVersion ?? '').split('/')[1] : ref.apiVersion ?? '';
        let bound: KubeObject;
        if (group === '' && ref.kind === 'Pod') {
          bound = await store('pods').getObject(namespace, ref.name ?? '');
          const podAccount = bound.spec?.serviceAccountName ?? '';
          if (podAccount !== name) throw badRequest(`cannot bind token for serviceaccount "${name}" to pod running with serviceaccount "${podAccount}"`);
          spec.pod = reference(bound);
          // The node the pod runs on is named in the token too (informational, as upstream's pod-node info;
          // by name alone when the Node object does not exist).
          const nodeName = typeof bound.spec?.nodeName === 'string' ? bound.spec.nodeName : '';
          if (nodeName) {
            const node = await store('nodes').getObject('', nodeName).catch(() => undefined);
            spec.node = { name: nodeName, uid: node?.metadata.uid ?? '' };
          }
        } else if (group === '' && ref.kind === 'Secret') {
          bound = await store('secrets').getObject(namespace, ref.name ?? '');
          spec.secret = reference(bound);
        } else if (group === '' && ref.kind === 'Node') {
          bound = await store('nodes').getObject('', ref.name ?? '');
          spec.node = reference(bound);
        } else {
          throw badRequest(`cannot bind token to object of type ${group ? `${group}/` : '/'}${version}, Kind=${ref.kind ?? ''}`);
        }
        if (ref.uid && ref.uid !== bound.metadata.uid) {
          throw conflict({ group, resource: ref.kind ?? '' }, ref.name ?? '', `the UID in the bound object reference (${ref.uid}) does not match the UID in record (${bound.metadata.uid}). The object might have been deleted and then recreated`);
        }
      }
      const audiences = Array.isArray(request.spec.audiences) && request.spec.audiences.length ? (request.spec.audiences as string[]) : options.apiAudiences;
      request.spec.audiences = audiences;
      spec.audiences = audiences;
      if (options.maxExpirationSeconds > 0 && spec.expirationSeconds > options.maxExpirationSeconds) {
        spec.expirationSeconds = options.maxExpirationSeconds;
        request.spec.expirationSeconds = options.maxExpirationSeconds;
      }
      const issuedAt = new Date();
      const { token, claims } = await options.issuer.issue(spec, issuedAt);
      return {
        kind: 'TokenRequest',
        apiVersion: 'authentication.k8s.io/v1',
        metadata: { ...request.metadata, name, namespace, creationTimestamp: nowTimestamp() },
        spec: { audiences, expirationSeconds: request.spec.expirationSeconds, ...(ref ? { boundObjectRef: ref } : {}) },
        status: { token, expirationTimestamp: new Date(claims.exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') },
      };
  }
}
