// apiextensions: CustomResourceDefinitions, and the custom resources they define. The CRD controller
// keeps CRD status up to date and registers each established CRD's served versions as resources here.

import type { GenericServer } from '../apiserver/server/options.js';
import { builtinSchemas } from '../apiserver/schema/builtin.js';
import { structuralCheckFor } from '../apiserver/schema/structural-check.js';
import { customResourceDefinitions } from './resources/customresourcedefinitions.js';
import { CrdController } from './controller.js';
import type { ServiceResolver } from './conversion/service-resolver.js';

export function createApiextensionsServer(generic: GenericServer, options: { serviceResolver?: ServiceResolver } = {}): { start(): Promise<void>; stop(): void; controller: CrdController } {
  const { server, storage } = generic;
  const definitions = builtinSchemas();
  server.openapi.definitions = definitions;
  const schema = definitions[customResourceDefinitions.schemaName!];
  const crds = server.addResource({ definition: customResourceDefinitions, storage, hooks: { structuralCheck: structuralCheckFor(schema, definitions) } })!;
  const controller = new CrdController(server, storage, crds, options.serviceResolver, generic.leadership);
  return {
    controller,
    start: async () => {
      await server.startCaches();
      await controller.start();
    },
    stop: () => controller.stop(),
  };
}
