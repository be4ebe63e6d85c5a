// core-apiserver process: flags → the server → listen.

import { GENERIC_FLAGS, createGenericServer, readFlags, runGenericServer } from '../apiserver/server/options.js';
import { CORE_FLAGS, createCoreApiServer } from './server.js';

const values = readFlags(process.argv.slice(2), 'core-apiserver', 'core-apiserver serves the built-in resources of the Kubernetes API.', [...GENERIC_FLAGS, ...CORE_FLAGS]);
const generic = createGenericServer('core-apiserver', values);
const core = createCoreApiServer(generic, values);
await core.start();
await runGenericServer(generic, () => core.stop());
