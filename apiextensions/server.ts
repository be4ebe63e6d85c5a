// apiextensions: CustomResourceDefinitions, and the custom resources they define. The CRD controller
// keeps CRD status up to date and registers each established CRD's served versions as resources here.

import type { GenericServer } from '../apiserver/server/options.js';
import { builtinSchemas } from '../apiserver/schema/builtin.js';
import { structuralCheckFor } from '../apiserver/schema/structural-check.js';
import { customResourceDefinitions } from './resources/customresourcedefinitions.js';
import { CrdController } from './controller.js';
import type { ServiceResolver } from './conversion/service-resolver.js';
import type { ObjectSource } from '../apiserver/admission/sources.js';
import { mutatingWebhookPlugin, validatingWebhookPlugin } from '../apiserver/admission/webhooks/plugins.js';
import type { KindSource } from '../apiserver/admission/sources.js';
import { localKindSources } from '../apiserver/admission/sources.js';
import { validatingAdmissionPolicyPlugin } from '../apiserver/admission/policy/validating-policy.js';
import { CustomResourceQuota } from './quota/custom-resource-quota.js';
import type { QuotaBackend } from './quota/backends.js';
import { NamespaceLifecycle } from '../core-apiserver/admission/namespace-lifecycle.js';
import { markSchemaPreserving } from '../apiserver/admission/run.js';
import type { KubeObject } from '../apiserver/registry/object.js';

/** Webhook configurations and namespaces as core serves them (an informer through a client, or core's caches in process). */
export interface AdmissionSources {
  mutatingWebhookConfigurations: ObjectSource;
  validatingWebhookConfigurations: ObjectSource;
  namespaces: ObjectSource;
  validatingAdmissionPolicies: ObjectSource;
  validatingAdmissionPolicyBindings: ObjectSource;
  /** A namespace read live from core, for one the mirror has not seen yet (upstream's NamespaceLifecycle does the same). */
  liveNamespace?: (name: string) => Promise<KubeObject | undefined>;
  /** Param kinds served elsewhere (built-in kinds in core); custom resource kinds come from this server. */
  remoteParams?: (apiVersion: string, kind: string) => KindSource | undefined | Promise<KindSource | undefined>;
}

export function createApiextensionsServer(generic: GenericServer, options: { serviceResolver?: ServiceResolver; admission?: AdmissionSources; quota?: QuotaBackend } = {}): { start(): Promise<void>; stop(): void; controller: CrdController } {
  const { server, storage } = generic;
  // Custom resources go through the same webhooks and policies as built-ins (upstream's apiextensions-apiserver
  // runs the same chain); policies may take their params from custom resources served here.
  if (options.admission) {
    const { namespaces, mutatingWebhookConfigurations, validatingWebhookConfigurations } = options.admission;
    const local = localKindSources(server);
    const remote = options.admission.remoteParams;
    // CEL's `authorizer` asks this server's authorizer (a SubjectAccessReview to core).
    const authorizer = () => server.options.authorizer;
    // Nothing is written into a namespace that does not exist, nor created in one being terminated.
    const live = options.admission.liveNamespace;
    server.admission.register(markSchemaPreserving(new NamespaceLifecycle(async (name) => {
      const namespace = namespaces.get('', name) ?? (await live?.(name));
      if (!namespace) return undefined;
      return (namespace.status as { phase?: string } | undefined)?.phase === 'Terminating' ? 'Terminating' : 'Active';
    })));
    server.admission.register(mutatingWebhookPlugin({ configurations: mutatingWebhookConfigurations, namespaces, resolver: options.serviceResolver, authorizer }));
    server.admission.register(validatingAdmissionPolicyPlugin({
      policies: options.admission.validatingAdmissionPolicies,
      bindings: options.admission.validatingAdmissionPolicyBindings,
      namespaces,
      params: async (apiVersion, kind) => local(apiVersion, kind) ?? (await remote?.(apiVersion, kind)),
      authorizer,
    }));
    server.admission.register(validatingWebhookPlugin({ configurations: validatingWebhookConfigurations, namespaces, resolver: options.serviceResolver, authorizer }));
  }
  const definitions = builtinSchemas();
  server.openapi.definitions = definitions;
  const schema = definitions[customResourceDefinitions.schemaName!];
  const crds = server.addResource({ definition: customResourceDefinitions, storage, hooks: { structuralCheck: structuralCheckFor(schema, definitions) } })!;
  const controller = new CrdController(server, storage, crds, options.serviceResolver, generic.leadership);
  // ResourceQuota comes last, as upstream orders it: it must see the object every other plugin let through.
  const quota = options.quota && new CustomResourceQuota(options.quota, (group, plural) => controller.storeFor(group, plural));
  if (quota) server.admission.register(quota);
  return {
    controller,
    start: async () => {
      await server.startCaches();
      await controller.start();
      quota?.start();
    },
    stop: () => {
      controller.stop();
      quota?.stop();
    },
  };
}
