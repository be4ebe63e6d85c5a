// The admission contract (k8s.io/apiserver/pkg/admission): every write — create, update, patch, delete and
// connect — passes a chain of plugins between authorization and storage, in upstream's order: mutating
// plugins (which may change the object) after the strategy's defaulting and preparation, then the object's
// own validation, then validating plugins, then the write. Dry runs go through the same chain (plugins
// with side effects must honour `dryRun`). Built-in plugins, webhooks and ValidatingAdmissionPolicies are
// all AdmissionPlugins; a server holds one AdmissionChain that its components register into.

import type { KubeObject, UserInfo } from '../registry/object.js';

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionAttributes {
  operation: AdmissionOperation;
  /** The resource as the request named it (the served version). */
  resource: { group: string; version: string; resource: string };
  subresource: string;
  kind: { group: string; version: string; kind: string };
  namespace: string;
  name: string;
  /** The object to be written (CREATE, UPDATE; a mutating plugin changes it in place). Absent for DELETE. */
  object?: KubeObject;
  /** The stored object (UPDATE, DELETE). */
  oldObject?: KubeObject;
  /** CreateOptions / UpdateOptions / PatchOptions / DeleteOptions, as upstream passes them to webhooks. */
  options?: Record<string, unknown>;
  dryRun: boolean;
  user: UserInfo;
}

export interface AdmissionContext {
  /** Warning headers for the response (`299 - "…"` is added by the server). */
  warnings: string[];
  /** Audit annotations (`<plugin or webhook>/<key>`: value). */
  auditAnnotations: Record<string, string>;
}

export interface AdmissionPlugin {
  /** Upstream's plugin name (`NamespaceLifecycle`, `ResourceQuota`, …) or the webhook's name. */
  readonly name: string;
  /** Mutating phase: may change `attributes.object`; throws a StatusError to reject. */
  admit?(attributes: AdmissionAttributes, context: AdmissionContext): Promise<void>;
  /** Validating phase: must not change anything; throws a StatusError to reject. */
  validate?(attributes: AdmissionAttributes, context: AdmissionContext): Promise<void>;
}

export class AdmissionChain {
  readonly plugins: AdmissionPlugin[] = [];

  /** Plugins run in registration order within each phase (upstream's --enable-admission-plugins order). */
  register(plugin: AdmissionPlugin): void {
    this.plugins.push(plugin);
  }

  async admit(attributes: AdmissionAttributes, context: AdmissionContext): Promise<void> {
    for (const plugin of this.plugins) if (plugin.admit) await plugin.admit(attributes, context);
  }

  async validate(attributes: AdmissionAttributes, context: AdmissionContext): Promise<void> {
    for (const plugin of this.plugins) if (plugin.validate) await plugin.validate(attributes, context);
  }
}
