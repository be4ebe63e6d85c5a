// Running the chain for one write: the attributes a store builds from what it is writing, upstream's
// Forbidden wording for plugins, and the rule that a plugin's failure is a Status — a plugin that throws
// anything else answers 500 "Internal error occurred: …", never a crash.

import type { AdmissionAttributes, AdmissionChain, AdmissionContext, AdmissionOperation, AdmissionPlugin } from './interface.js';
import type { KubeObject, UserInfo } from '../registry/object.js';
import type { ResourceDefinition } from '../registry/resource.js';
import { forbidden, internalError, StatusError } from '../request/status.js';

export interface AdmissionRequest {
  operation: AdmissionOperation;
  resource: ResourceDefinition;
  subresource: string;
  namespace: string;
  name: string;
  object?: KubeObject;
  oldObject?: KubeObject;
  options?: Record<string, unknown>;
  dryRun: boolean;
  user: UserInfo;
}

/** The attributes of a write of `resource` (through `subresource`, whose own kind the attributes name). */
export function attributesFor(request: AdmissionRequest): AdmissionAttributes {
  const { resource, subresource } = request;
  const sub = subresource ? resource.subresources[subresource] : undefined;
  return {
    operation: request.operation,
    resource: { group: resource.group, version: resource.version, resource: resource.plural },
    subresource,
    kind: {
      group: sub?.group ?? resource.group,
      version: sub?.version ?? resource.version,
      kind: sub?.kind ?? resource.kind,
    },
    namespace: resource.namespaced ? request.namespace : '',
    name: request.name,
    object: request.object,
    oldObject: request.oldObject,
    options: request.options,
    dryRun: request.dryRun,
    user: request.user,
  };
}

function asStatus(error: unknown): StatusError {
  if (error instanceof StatusError) return error;
  return internalError(error instanceof Error ? error.message : String(error));
}

export async function runMutating(chain: AdmissionChain, attributes: AdmissionAttributes, context: AdmissionContext): Promise<void> {
  try {
    await chain.admit(attributes, context);
  } catch (error) {
    throw asStatus(error);
  }
}

export async function runValidating(chain: AdmissionChain, attributes: AdmissionAttributes, context: AdmissionContext): Promise<void> {
  try {
    await chain.validate(attributes, context);
  } catch (error) {
    throw asStatus(error);
  }
}

const schemaPreserving = new WeakSet<AdmissionPlugin>();

/**
 * Declares that a plugin's mutations always keep the object within its schema (built-in plugins that set
 * known fields), so a write need not snapshot the object to find out whether it must be checked again.
 */
export function markSchemaPreserving<T extends AdmissionPlugin>(plugin: T): T {
  schemaPreserving.add(plugin);
  return plugin;
}

/** True when some plugin of the chain may change objects in unknown ways (a changed object is checked again). */
export function hasMutating(chain: AdmissionChain): boolean {
  return chain.plugins.some((plugin) => plugin.admit !== undefined && !schemaPreserving.has(plugin));
}

/**
 * upstream's admission.NewForbidden: `<resource>[.<group>] "<name>" is forbidden: <why>`, the name taken
 * from the object when the request has none (generateName creates).
 */
export function admissionForbidden(attributes: AdmissionAttributes, why: string, causes?: { reason?: string; message?: string; field?: string }[]): StatusError {
  const { group, resource } = attributes.resource;
  const qualified = group ? `${resource}.${group}` : resource;
  const name = attributes.name || attributes.object?.metadata?.name || '';
  const message = name ? `${qualified} "${name}" is forbidden: ${why}` : `${qualified} is forbidden: ${why}`;
  return forbidden(message, { name: name || undefined, group: group || undefined, kind: resource, causes });
}
