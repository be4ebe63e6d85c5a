// apiextensions: CustomResourceDefinitions. This process stores and validates CRD objects; serving the
// custom resources they define is built on top of it.

import { GENERIC_FLAGS, createGenericServer, readFlags, runGenericServer } from '../apiserver/server/options.js';
import { builtinSchemas } from '../apiserver/schema/builtin.js';
import { structuralCheckFor } from '../apiserver/schema/structural-check.js';
import { customResourceDefinitions } from './resources/customresourcedefinitions.js';

const values = readFlags(process.argv.slice(2), 'apiextensions', 'apiextensions serves apiextensions.k8s.io (CustomResourceDefinitions) and the custom resources they define.', GENERIC_FLAGS);
const generic = createGenericServer('apiextensions', values);
const { server, storage } = generic;
const definitions = builtinSchemas();
server.openapi.definitions = definitions;
const schema = definitions[customResourceDefinitions.schemaName!];
server.addResource({ definition: customResourceDefinitions, storage, hooks: { structuralCheck: structuralCheckFor(schema, definitions) } });
await runGenericServer(generic);
