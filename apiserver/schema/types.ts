// An OpenAPI v3 schema object as Kubernetes uses it: the subset of JSON Schema that OpenAPI allows, plus
// the x-kubernetes-* extensions. One type for built-in definitions, CRD schemas and served OpenAPI.

export type JSONSchemaType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';

export interface SchemaGroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

export interface JSONSchema {
  /** `#/components/schemas/<definition>` (or `#/definitions/<definition>` in OpenAPI v2). */
  $ref?: string;
  type?: JSONSchemaType;
  format?: string;
  title?: string;
  description?: string;
  default?: unknown;
  example?: unknown;
  nullable?: boolean;
  enum?: unknown[];

  properties?: Record<string, JSONSchema>;
  additionalProperties?: JSONSchema | boolean;
  required?: string[];
  minProperties?: number;
  maxProperties?: number;

  items?: JSONSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;

  pattern?: string;
  minLength?: number;
  maxLength?: number;

  minimum?: number;
  maximum?: number;
  /** OpenAPI 3.0 form: a flag qualifying minimum/maximum. */
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;

  allOf?: JSONSchema[];
  anyOf?: JSONSchema[];
  oneOf?: JSONSchema[];
  not?: JSONSchema;

  'x-kubernetes-group-version-kind'?: SchemaGroupVersionKind[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'granular' | 'atomic';
  'x-kubernetes-patch-merge-key'?: string;
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-validations'?: ValidationRule[];
}

/** Where definitions live in an OpenAPI v3 document; every `$ref` the generator writes starts with it. */
export const SCHEMA_REF_PREFIX = '#/components/schemas/';

export function schemaRef(definition: string): string {
  return `${SCHEMA_REF_PREFIX}${definition}`;
}

/** The definition name a `$ref` points at, for both v3 (`#/components/schemas/`) and v2 (`#/definitions/`). */
export function refTarget(ref: string): string {
  const slash = ref.lastIndexOf('/');
  return slash === -1 ? ref : ref.slice(slash + 1);
}
