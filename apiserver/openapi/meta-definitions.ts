// Definitions every OpenAPI document references but that no client model describes (Patch), with the
// meta.k8s.io ones taken from the generated built-in schemas so extension servers share them.

import type { JSONSchema } from '../schema/types.js';
import { builtinSchemas } from '../schema/builtin.js';

let cached: Record<string, JSONSchema> | undefined;

export function metaDefinitions(): Record<string, JSONSchema> {
  if (cached) return cached;
  const all = builtinSchemas();
  const result: Record<string, JSONSchema> = {};
  for (const [name, schema] of Object.entries(all)) {
    if (name.startsWith('io.k8s.apimachinery.')) result[name] = schema;
  }
  result['io.k8s.apimachinery.pkg.apis.meta.v1.Patch'] = {
    type: 'object',
    description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.',
  };
  cached = result;
  return result;
}
