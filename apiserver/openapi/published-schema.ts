// What apiextensions publishes for a CRD's own schema beyond the schema as written (its OpenAPI builder):
// an embedded resource gets the fields every object has, apiVersion and kind required as the server
// requires them, and x-kubernetes-int-or-string is spelled out as anyOf integer/string ("unfolded") so
// clients that know nothing of the extension still see both types. `example` and `externalDocs`, which a
// structural schema does not keep, are not published. The declaration's schema stays as it is: validation
// and pruning read the extensions themselves.

import type { JSONSchema } from '../schema/types.js';

const OBJECT_META_REF = '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
const METADATA_DESCRIPTION = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const EMBEDDED_API_VERSION = {
  type: 'string',
  description:
    'apiVersion defines the versioned schema of this representation of an object. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources',
};
const EMBEDDED_KIND = {
  type: 'string',
  description: 'kind is a string value representing the type of this object. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds',
};
const INT_OR_STRING = [{ type: 'integer' }, { type: 'string' }];

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The published form of a CRD version's schema (a copy; the input is not changed). */
export function publishedSchema(schema: JSONSchema): JSONSchema {
  return publish(schema as Json) as JSONSchema;
}

function publish(node: Json): Json {
  const out: Json = { ...node };
  delete out.example;
  delete out.externalDocs;
  if (isObject(node.properties)) {
    const properties: Json = {};
    for (const [name, child] of Object.entries(node.properties)) properties[name] = isObject(child) ? publish(child) : child;
    out.properties = properties;
  }
  if (isObject(node.items)) out.items = publish(node.items);
  if (isObject(node.additionalProperties)) out.additionalProperties = publish(node.additionalProperties);
  if (node['x-kubernetes-embedded-resource'] === true) {
    out.properties = {
      ...(isObject(out.properties) ? out.properties : {}),
      apiVersion: { ...EMBEDDED_API_VERSION },
      kind: { ...EMBEDDED_KIND },
      metadata: { description: METADATA_DESCRIPTION, allOf: [{ $ref: OBJECT_META_REF }] },
    };
    const required = Array.isArray(node.required) ? [...(node.required as string[])] : [];
    for (const name of ['kind', 'apiVersion']) if (!required.includes(name)) required.push(name);
    out.required = required;
  }
  if (node['x-kubernetes-int-or-string'] === true) unfoldIntOrString(out);
  return out;
}

function isIntOrStringAnyOf(value: unknown): boolean {
  return Array.isArray(value) && value.length === 2 && isObject(value[0]) && value[0].type === 'integer' && isObject(value[1]) && value[1].type === 'string';
}

function unfoldIntOrString(out: Json): void {
  if (isIntOrStringAnyOf(out.anyOf)) return;
  const allOf = Array.isArray(out.allOf) ? out.allOf : undefined;
  if (allOf && isObject(allOf[0]) && isIntOrStringAnyOf(allOf[0].anyOf)) return;
  if (out.anyOf === undefined) out.anyOf = INT_OR_STRING.map((type) => ({ ...type }));
  else out.allOf = [{ anyOf: INT_OR_STRING.map((type) => ({ ...type })) }, ...(allOf ?? [])];
}
