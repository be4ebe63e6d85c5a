// The structural check the generic store runs on every decoded body, from a schema (named built-in
// definition or inline), compiled once per schema by the validator.

import type { StructuralCheck } from '../registry/store.js';
import type { JSONSchema } from './types.js';
import { validateStructure } from './validate.js';

// Server-owned metadata is checked by ObjectMeta validation, not by the schema of its type.
const IGNORED_PATHS = ['metadata.managedFields', 'metadata.creationTimestamp', 'metadata.deletionTimestamp'];

export function structuralCheckFor(schema: JSONSchema | undefined, definitions: Record<string, JSONSchema>): StructuralCheck | undefined {
  if (!schema) return undefined;
  return (object) => {
    const result = validateStructure(object, schema, definitions, { ignorePaths: IGNORED_PATHS });
    return { errors: result.errors, unknownFields: result.unknownFields };
  };
}
