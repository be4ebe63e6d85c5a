// Strategic-merge metadata read from a schema: the strategy and merge key sit on the property that holds
// a list, and the element type is reached through $ref / allOf:[{$ref}].

import type { PatchMeta } from '../registry/strategic-merge.js';
import type { JSONSchema } from './types.js';
import { refTarget } from './types.js';

function resolve(schema: JSONSchema | undefined, definitions: Record<string, JSONSchema>): JSONSchema | undefined {
  let current = schema;
  for (let depth = 0; current && depth < 16; depth++) {
    if (current.$ref) current = definitions[refTarget(current.$ref)];
    else if (!current.properties && !current.items && current.allOf?.length === 1 && current.allOf[0].$ref) current = definitions[refTarget(current.allOf[0].$ref)];
    else return current;
  }
  return current;
}

export function schemaPatchMeta(schema: JSONSchema | undefined, definitions: Record<string, JSONSchema>, holder?: JSONSchema): PatchMeta | undefined {
  const resolved = resolve(schema, definitions);
  if (!resolved && !holder) return undefined;
  return {
    strategy: holder?.['x-kubernetes-patch-strategy'],
    mergeKey: holder?.['x-kubernetes-patch-merge-key'],
    field(name) {
      const property = resolved?.properties?.[name];
      if (property) return schemaPatchMeta(property, definitions, property);
      const additional = resolved?.additionalProperties;
      if (additional && typeof additional === 'object') return schemaPatchMeta(additional, definitions, additional);
      return undefined;
    },
    items() {
      const items = resolved?.items;
      return items ? schemaPatchMeta(items, definitions) : undefined;
    },
  };
}
