// apiextensions: CustomResourceDefinitions. This server stores and validates CRD objects; serving the
// custom resources they define is built on top of it.

import type { GenericServer } from '../apiserver/server/options.js';
import { builtinSchemas } from '../apiserver/schema/builtin.js';
import { structuralCheckFor } from '../apiserver/schema/structural-check.js';
import { customResourceDefinitions } from './resources/customresourcedefinitions.js';

export function createApiextensionsServer(generic: GenericServer): { start(): Promise<void>; stop(): void } {
  const { server, storage } = generic;
  const definitions = builtinSchemas();
  server.openapi.definitions = definitions;
  const schema = definitions[customResourceDefinitions.schemaName!];
  server.addResource({ definition: customResourceDefinitions, storage, hooks: { structuralCheck: structuralCheckFor(schema, definitions) } });
  return { start: () => server.startCaches(), stop: () => undefined };
}
