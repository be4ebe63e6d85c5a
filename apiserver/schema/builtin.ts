// The built-in type definitions, as the build step scripts/gen-builtin-schemas.ts wrote them. Loaded once,
// on first use, and shared: callers must treat the schemas as read-only.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import type { JSONSchema } from './types.js';

export type { JSONSchema } from './types.js';

/** dist/apiserver/schema/builtin.js → dist/generated/builtin-schemas.json */
export const BUILTIN_SCHEMAS_PATH = fileURLToPath(new URL('../../generated/builtin-schemas.json', import.meta.url));

let loaded: Record<string, JSONSchema> | undefined;

export function builtinSchemas(): Record<string, JSONSchema> {
  if (!loaded) {
    let text: string;
    try {
      text = readFileSync(BUILTIN_SCHEMAS_PATH, 'utf8');
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `built-in schemas are missing (${reason}); generate them with \`node dist/scripts/gen-builtin-schemas.js\` after tsc`,
      );
    }
    const document = JSON.parse(text) as { schemas?: Record<string, JSONSchema> };
    if (!document.schemas) throw new Error(`${BUILTIN_SCHEMAS_PATH} has no "schemas" object`);
    loaded = document.schemas;
  }
  return loaded;
}

export function builtinSchema(name: string): JSONSchema {
  const schemas = builtinSchemas();
  if (!Object.hasOwn(schemas, name)) {
    throw new Error(`unknown built-in schema "${name}" (expected a definition name such as io.k8s.api.core.v1.Pod)`);
  }
  return schemas[name];
}
