// The MutatingAdmissionWebhook and ValidatingAdmissionWebhook plugins (upstream's mutating and validating
// dispatchers). Mutating webhooks run one after another, each seeing the previous one's patch; validating
// webhooks run in parallel and the first denial (in webhook order) wins. A webhook with
// reinvocationPolicy IfNeeded runs once more when a later webhook changed the object.

import { isDeepStrictEqual } from 'node:util';
import fastJsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import type { ServiceResolver } from '../../../apiextensions/conversion/service-resolver.js';
import type { Authorizer } from '../../filters/authorize.js';
import type { KubeObject } from '../../registry/object.js';
import { isObject } from '../../registry/object.js';
import { badRequest, forbidden, internalError, invalid } from '../../request/status.js';
import type { AdmissionAttributes, AdmissionContext, AdmissionPlugin } from '../interface.js';
import { isExemptConfigurationResource } from '../matching.js';
import type { ObjectSource } from '../sources.js';
import { namespaceLookup, waitForSync } from '../sources.js';
import { CallError } from './client.js';
import type { CompiledWebhook } from './webhook.js';
import { CompiledConfigurations } from './webhook.js';

export interface WebhookPluginOptions {
  /** MutatingWebhookConfigurations or ValidatingWebhookConfigurations. */
  configurations: ObjectSource;
  namespaces: ObjectSource;
  resolver?: ServiceResolver;
  /** The server's authorizer, for the `authorizer` variable of matchConditions (read per request). */
  authorizer?: () => Authorizer | undefined;
}

async function matchingWebhooks(options: WebhookPluginOptions, compiled: CompiledConfigurations, attributes: AdmissionAttributes): Promise<CompiledWebhook[] | undefined> {
  if (isExemptConfigurationResource(attributes)) return undefined;
  if (!(await waitForSync([options.configurations, options.namespaces]))) {
    throw forbidden(`${attributes.resource.resource} "${attributes.name}" is forbidden: not yet ready to handle request`);
  }
  const webhooks = compiled.webhooks(options.configurations.list());
  return webhooks.length > 0 ? webhooks : undefined;
}

export function validatingWebhookPlugin(options: WebhookPluginOptions): AdmissionPlugin {
  const compiled = new CompiledConfigurations(options.resolver);
  const namespaces = namespaceLookup(options.namespaces);
  return {
    name: 'ValidatingAdmissionWebhook',
    async validate(attributes, context) {
      const webhooks = await matchingWebhooks(options, compiled, attributes);
      if (!webhooks) return;
      const outcomes = await Promise.all(
        webhooks.map(async (webhook, index): Promise<unknown> => {
          const failedOpenKey = `failed-open.validating.webhook.admission.k8s.io/round_0_index_${index}`;
          try {
            if (!(await webhook.matches(attributes, namespaces, options.authorizer?.()))) return undefined;
            await webhook.call(attributes, context, false, failedOpenKey);
            return undefined;
          } catch (error) {
            if (error instanceof CallError) {
              try {
                webhook.failed(error, context, failedOpenKey);
                return undefined;
              } catch (failure) {
                return failure;
              }
            }
            return error;
          }
        }),
      );
      const failure = outcomes.find((outcome) => outcome !== undefined);
      if (failure) throw failure;
    },
  };
}

export function mutatingWebhookPlugin(options: WebhookPluginOptions): AdmissionPlugin {
  const compiled = new CompiledConfigurations(options.resolver);
  const namespaces = namespaceLookup(options.namespaces);

  async function run(webhook: CompiledWebhook, index: number, round: number, attributes: AdmissionAttributes, context: AdmissionContext): Promise<{ called: boolean; changed: boolean }> {
    const failedOpenKey = `failed-open.mutation.webhook.admission.k8s.io/round_${round}_index_${index}`;
    try {
      if (!(await webhook.matches(attributes, namespaces, options.authorizer?.()))) return { called: false, changed: false };
    } catch (error) {
      if (!(error instanceof CallError)) throw error;
      webhook.failed(error, context, failedOpenKey);
      return { called: false, changed: false };
    }
    const response = await webhook.call(attributes, context, true, failedOpenKey);
    if (!response) return { called: true, changed: false };
    let changed = false;
    if (response.patch) {
      if (response.patchType !== 'JSONPatch') {
        webhook.failed(new CallError(`unsupported patch type ${JSON.stringify(response.patchType)}`), context, failedOpenKey);
        return { called: true, changed: false };
      }
      changed = applyPatch(webhook, attributes, response.patch);
    }
    context.auditAnnotations[`mutation.webhook.admission.k8s.io/round_${round}_index_${index}`] = JSON.stringify({ configuration: webhook.configuration, webhook: webhook.name, mutated: changed });
    return { called: true, changed };
  }

  return {
    name: 'MutatingAdmissionWebhook',
    async admit(attributes, context) {
      const webhooks = await matchingWebhooks(options, compiled, attributes);
      if (!webhooks) return;
      // Upstream's reinvocation: a change by one webhook makes every IfNeeded webhook called before it due
      // for one more call, in order, after the first round.
      let calledIfNeeded = new Set<number>();
      const reinvoke = new Set<number>();
      for (const [index, webhook] of webhooks.entries()) {
        const { called, changed } = await run(webhook, index, 0, attributes, context);
        if (changed) {
          for (const earlier of calledIfNeeded) reinvoke.add(earlier);
          calledIfNeeded = new Set();
        }
        if (called && webhook.reinvokeIfNeeded) calledIfNeeded.add(index);
      }
      for (const [index, webhook] of webhooks.entries()) {
        if (reinvoke.has(index)) await run(webhook, index, 1, attributes, context);
      }
    },
  };
}

/** Applies a JSONPatch to the request's object in place; true when it changed anything. */
function applyPatch(webhook: CompiledWebhook, attributes: AdmissionAttributes, encoded: string): boolean {
  const object = attributes.object;
  if (!object) return false;
  let operations: Operation[];
  try {
    operations = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as Operation[];
    if (!Array.isArray(operations)) throw new Error('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  } catch (error) {
    throw internalError((error as Error).message);
  }
  if (operations.length === 0) return false;
  let patched: KubeObject;
  try {
    patched = fastJsonPatch.applyPatch(structuredClone(object), operations, true, false).newDocument;
  } catch (error) {
    throw internalError((error as Error).message.split('\n')[0]);
  }
  if (!isObject(patched) || !isObject(patched.metadata)) throw internalError(`admission webhook ${JSON.stringify(webhook.name)} returned a patch that does not leave an object with metadata`);
  checkIdentity(webhook, attributes, object, patched);
  if (isDeepStrictEqual(patched, object)) return false;
  for (const key of Object.keys(object)) delete (object as Record<string, unknown>)[key];
  Object.assign(object, patched);
  return true;
}

/**
 * What a webhook may not change, and the error upstream's later steps give when it does: the type (decoding
 * into the request's kind), the namespace (BeforeCreate's check), the name of an existing object.
 */
function checkIdentity(webhook: CompiledWebhook, attributes: AdmissionAttributes, before: KubeObject, after: KubeObject): void {
  if (after.apiVersion !== before.apiVersion || after.kind !== before.kind) {
    throw internalError(`admission webhook ${JSON.stringify(webhook.name)} changed the object's apiVersion or kind (${String(before.apiVersion)}, Kind=${String(before.kind)} to ${String(after.apiVersion)}, Kind=${String(after.kind)})`);
  }
  if ((after.metadata.namespace ?? '') !== (before.metadata.namespace ?? '')) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  if (attributes.operation === 'UPDATE' && after.metadata.name !== before.metadata.name) {
    throw invalid(attributes.kind.kind, attributes.kind.group, before.metadata.name ?? '', [{ field: 'metadata.name', type: 'FieldValueInvalid', value: after.metadata.name, detail: 'field is immutable' }]);
  }
}

