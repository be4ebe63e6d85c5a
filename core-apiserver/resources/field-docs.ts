// Printer column descriptions are the field docs of the kind's schema, as upstream's printers take them
// from SwaggerDoc. Read lazily: a Table request is the first to need them.

import { builtinSchemas } from '../../apiserver/schema/builtin.js';

export function fieldDoc(definition: string, property: string): string {
  try {
    return builtinSchemas()[definition]?.properties?.[property]?.description ?? '';
  } catch {
    return '';
  }
}
