// apiextensions process: flags → the server → listen.

import { GENERIC_FLAGS, createGenericServer, readFlags, runGenericServer } from '../apiserver/server/options.js';
import { createApiextensionsServer } from './server.js';

const values = readFlags(process.argv.slice(2), 'apiextensions', 'apiextensions serves apiextensions.k8s.io (CustomResourceDefinitions) and the custom resources they define.', GENERIC_FLAGS);
const generic = createGenericServer('apiextensions', values);
const apiextensions = createApiextensionsServer(generic);
await apiextensions.start();
await runGenericServer(generic, () => apiextensions.stop());
