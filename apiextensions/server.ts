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

/** Webhook configurations and namespaces as core serves them (an informer through a client, or core's caches in process). */
export interface AdmissionSources {
  mutatingWebhookConfigurations: ObjectSource;
  validatingWebhookConfigurations: ObjectSource;
  namespaces: ObjectSource;
}

export function createApiextensionsServer(generic: GenericServer, options: { serviceResolver?: ServiceResolver; admission?: AdmissionSources } = {}): { start(): Promise<void>; stop(): void; controller: CrdController } {
  const { server, storage } = generic;
  // Custom resources go through the same webhooks as built-ins (upstream's apiextensions-apiserver runs them too).
  if (options.admission) {
    const { namespaces, mutatingWebhookConfigurations, validatingWebhookConfigurations } = options.admission;
    server.admission.register(mutatingWebhookPlugin({ configurations: mutatingWebhookConfigurations, namespaces, resolver: options.serviceResolver }));
    server.admission.register(validatingWebhookPlugin({ configurations: validatingWebhookConfigurations, namespaces, resolver: options.serviceResolver }));
  }
  const definitions = builtinSchemas();
  server.openapi.definitions = definitions;
  const schema = definitions[customResourceDefinitions.schemaName!];
  const crds = server.addResource({ definition: customResourceDefinitions, storage, hooks: { structuralCheck: structuralCheckFor(schema, definitions) } })!;
  const controller = new CrdController(server, storage, crds, options.serviceResolver);
  return {
    controller,
    start: async () => {
      await server.startCaches();
      await controller.start();
    },
    stop: () => controller.stop(),
  };
}
