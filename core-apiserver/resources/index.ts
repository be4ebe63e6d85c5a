// Every resource core-apiserver serves: adding a built-in kind is adding its declaration here.

import type { ResourceDefinition } from '../../apiserver/registry/resource.js';
import { configMaps } from './configmaps.js';
import { endpoints } from './endpoints.js';
import { endpointSlices } from './endpointslices.js';
import { namespaces } from './namespaces.js';
import { secrets } from './secrets.js';
import { services } from './services.js';

export const coreResources: ResourceDefinition[] = [namespaces, configMaps, secrets, services, endpoints, endpointSlices];
