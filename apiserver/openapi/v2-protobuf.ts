// The swagger 2.0 document as gnostic's `openapi.v2.Document` protobuf, the only form kubectl up to 1.27
// asks /openapi/v2 for (Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf). kube-apiserver
// produces it by parsing its JSON with gnostic and marshalling the result; this writes the same messages
// straight from the JSON. Field numbers are those of gnostic's openapiv2/OpenAPIv2.proto. Values gnostic
// keeps as free-form YAML (vendor extensions, default, example, enum) go into `Any.yaml`, which kubectl
// reads back with a YAML 1.1 parser (go-yaml v2), hence the 1.1 quoting.

import { stringify } from 'yaml';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;

function varint(value: bigint): Buffer {
  let remaining = BigInt.asUintN(64, value);
  const bytes: number[] = [];
  do {
    const low = Number(remaining & 0x7fn);
    remaining >>= 7n;
    bytes.push(remaining > 0n ? low | 0x80 : low);
  } while (remaining > 0n);
  return Buffer.from(bytes);
}

/**
 * One message being written. Scalars follow proto3: zero values are left out, as Go's marshaller does,
 * except inside a oneof, where the presence itself is the information (additionalProperties: false).
 * Sub-messages are written whenever given, even empty: kubectl tells an object with `properties: {}`
 * from a map by whether the Properties message is there.
 */
class Message {
  private readonly parts: Buffer[] = [];

  private key(field: number, wireType: number): void {
    this.parts.push(varint(BigInt((field << 3) | wireType)));
  }

  bytes(field: number, payload: Buffer): this {
    this.key(field, WIRE_LENGTH_DELIMITED);
    this.parts.push(varint(BigInt(payload.length)), payload);
    return this;
  }

  string(field: number, value: unknown): this {
    if (typeof value === 'string' && value !== '') this.bytes(field, Buffer.from(value, 'utf8'));
    return this;
  }

  /** A repeated string; a lone string counts as a list of one (swagger's `type` may be either). */
  strings(field: number, value: unknown): this {
    for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
      if (typeof item === 'string') this.bytes(field, Buffer.from(item, 'utf8'));
    }
    return this;
  }

  bool(field: number, value: unknown, inOneof = false): this {
    if (typeof value === 'boolean' && (value || inOneof)) {
      this.key(field, WIRE_VARINT);
      this.parts.push(varint(value ? 1n : 0n));
    }
    return this;
  }

  int64(field: number, value: unknown): this {
    if (typeof value === 'number' && Number.isFinite(value) && value !== 0) {
      this.key(field, WIRE_VARINT);
      this.parts.push(varint(BigInt(Math.trunc(value))));
    }
    return this;
  }

  double(field: number, value: unknown): this {
    if (typeof value === 'number' && value !== 0) {
      this.key(field, WIRE_FIXED64);
      const payload = Buffer.alloc(8);
      payload.writeDoubleLE(value);
      this.parts.push(payload);
    }
    return this;
  }

  message(field: number, payload: Buffer | undefined): this {
    if (payload) this.bytes(field, payload);
    return this;
  }

  messages(field: number, payloads: Buffer[]): this {
    for (const payload of payloads) this.bytes(field, payload);
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Encodes a message field only when the JSON has an object there. */
function optional(value: unknown, encode: (value: Json) => Buffer): Buffer | undefined {
  return isObject(value) ? encode(value) : undefined;
}

function entriesOf(value: unknown): [string, unknown][] {
  return isObject(value) ? Object.entries(value) : [];
}

// ---- free-form values -------------------------------------------------------------------------------

/** Any { google.protobuf.Any value = 1; string yaml = 2; } */
function any(value: unknown): Buffer {
  return new Message().string(2, stringify(value, { version: '1.1', lineWidth: 0 })).finish();
}

/** NamedAny { string name = 1; Any value = 2; } for every `x-` key of an object. */
function vendorExtensions(object: Json): Buffer[] {
  return Object.entries(object)
    .filter(([key]) => key.startsWith('x-'))
    .map(([name, value]) => new Message().string(1, name).message(2, any(value)).finish());
}

function anys(value: unknown): Buffer[] {
  return Array.isArray(value) ? value.map(any) : [];
}

/** The Named* messages: { string name = 1; T value = 2; }. */
function named(name: string, value: Buffer): Buffer {
  return new Message().string(1, name).message(2, value).finish();
}

function namedMap(value: unknown, encode: (value: Json) => Buffer, keep: (key: string) => boolean = () => true): Buffer[] {
  return entriesOf(value)
    .filter(([key, item]) => keep(key) && isObject(item))
    .map(([key, item]) => named(key, encode(item as Json)));
}

const notExtension = (key: string): boolean => !key.startsWith('x-');

// ---- document ---------------------------------------------------------------------------------------

export function encodeOpenApiV2Protobuf(document: Record<string, unknown>): Buffer {
  return new Message()
    .string(1, document.swagger)
    .message(2, optional(document.info, info))
    .string(3, document.host)
    .string(4, document.basePath)
    .strings(5, document.schemes)
    .strings(6, document.consumes)
    .strings(7, document.produces)
    .message(8, optional(document.paths, paths))
    .message(9, optional(document.definitions, (value) => new Message().messages(1, namedMap(value, schema)).finish()))
    .message(10, optional(document.parameters, (value) => new Message().messages(1, namedMap(value, parameter)).finish()))
    .message(11, optional(document.responses, (value) => new Message().messages(1, namedMap(value, response)).finish()))
    .messages(12, securityRequirements(document.security))
    .message(13, optional(document.securityDefinitions, securityDefinitions))
    .messages(14, Array.isArray(document.tags) ? document.tags.filter(isObject).map(tag) : [])
    .message(15, optional(document.externalDocs, externalDocs))
    .messages(16, vendorExtensions(document))
    .finish();
}

function info(value: Json): Buffer {
  return new Message()
    .string(1, value.title)
    .string(2, value.version)
    .string(3, value.description)
    .string(4, value.termsOfService)
    .message(5, optional(value.contact, (contact) => new Message().string(1, contact.name).string(2, contact.url).string(3, contact.email).messages(4, vendorExtensions(contact)).finish()))
    .message(6, optional(value.license, (license) => new Message().string(1, license.name).string(2, license.url).messages(3, vendorExtensions(license)).finish()))
    .messages(7, vendorExtensions(value))
    .finish();
}

function externalDocs(value: Json): Buffer {
  return new Message().string(1, value.description).string(2, value.url).messages(3, vendorExtensions(value)).finish();
}

function tag(value: Json): Buffer {
  return new Message().string(1, value.name).string(2, value.description).message(3, optional(value.externalDocs, externalDocs)).messages(4, vendorExtensions(value)).finish();
}

/** SecurityRequirement { repeated NamedStringArray additional_properties = 1; } with StringArray { repeated string value = 1; }. */
function securityRequirements(value: unknown): Buffer[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isObject).map((requirement) =>
    new Message().messages(1, Object.entries(requirement).map(([name, scopes]) => named(name, new Message().strings(1, scopes).finish()))).finish(),
  );
}

/** SecurityDefinitionsItem is a oneof on the scheme's type (and, for oauth2, its flow). */
function securityDefinitions(value: Json): Buffer {
  const items = Object.entries(value).filter(([, scheme]) => isObject(scheme)).map(([name, scheme]) => named(name, securityScheme(scheme as Json)));
  return new Message().messages(1, items).finish();
}

function securityScheme(scheme: Json): Buffer {
  const item = new Message();
  const scopes = optional(scheme.scopes, (value) => new Message().messages(1, Object.entries(value).map(([name, text]) => new Message().string(1, name).string(2, text).finish())).finish());
  if (scheme.type === 'basic') {
    return item.message(1, new Message().string(1, scheme.type).string(2, scheme.description).messages(3, vendorExtensions(scheme)).finish()).finish();
  }
  if (scheme.type === 'apiKey') {
    return item.message(2, new Message().string(1, scheme.type).string(2, scheme.name).string(3, scheme.in).string(4, scheme.description).messages(5, vendorExtensions(scheme)).finish()).finish();
  }
  const oauth = new Message().string(1, scheme.type).string(2, scheme.flow).message(3, scopes);
  switch (scheme.flow) {
    case 'implicit':
      return item.message(3, oauth.string(4, scheme.authorizationUrl).string(5, scheme.description).messages(6, vendorExtensions(scheme)).finish()).finish();
    case 'password':
    case 'application':
      return item.message(scheme.flow === 'password' ? 4 : 5, oauth.string(4, scheme.tokenUrl).string(5, scheme.description).messages(6, vendorExtensions(scheme)).finish()).finish();
    default:
      return item.message(6, oauth.string(4, scheme.authorizationUrl).string(5, scheme.tokenUrl).string(6, scheme.description).messages(7, vendorExtensions(scheme)).finish()).finish();
  }
}

// ---- paths and operations ---------------------------------------------------------------------------

/** Paths { repeated NamedAny vendor_extension = 1; repeated NamedPathItem path = 2; } */
function paths(value: Json): Buffer {
  return new Message().messages(1, vendorExtensions(value)).messages(2, namedMap(value, pathItem, notExtension)).finish();
}

function pathItem(value: Json): Buffer {
  return new Message()
    .string(1, value.$ref)
    .message(2, optional(value.get, operation))
    .message(3, optional(value.put, operation))
    .message(4, optional(value.post, operation))
    .message(5, optional(value.delete, operation))
    .message(6, optional(value.options, operation))
    .message(7, optional(value.head, operation))
    .message(8, optional(value.patch, operation))
    .messages(9, parametersItems(value.parameters))
    .messages(10, vendorExtensions(value))
    .finish();
}

function operation(value: Json): Buffer {
  return new Message()
    .strings(1, value.tags)
    .string(2, value.summary)
    .string(3, value.description)
    .message(4, optional(value.externalDocs, externalDocs))
    .string(5, value.operationId)
    .strings(6, value.produces)
    .strings(7, value.consumes)
    .messages(8, parametersItems(value.parameters))
    .message(9, optional(value.responses, responses))
    .strings(10, value.schemes)
    .bool(11, value.deprecated)
    .messages(12, securityRequirements(value.security))
    .messages(13, vendorExtensions(value))
    .finish();
}

/** ParametersItem { oneof { Parameter parameter = 1; JsonReference json_reference = 2; } } */
function parametersItems(value: unknown): Buffer[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isObject).map((item) => {
    if (typeof item.$ref === 'string') return new Message().message(2, jsonReference(item)).finish();
    return new Message().message(1, parameter(item)).finish();
  });
}

function jsonReference(value: Json): Buffer {
  return new Message().string(1, value.$ref).string(2, value.description).finish();
}

/** Parameter { oneof { BodyParameter body_parameter = 1; NonBodyParameter non_body_parameter = 2; } } */
function parameter(value: Json): Buffer {
  if (value.in === 'body') {
    const body = new Message()
      .string(1, value.description)
      .string(2, value.name)
      .string(3, value.in)
      .bool(4, value.required)
      .message(5, optional(value.schema, schema))
      .messages(6, vendorExtensions(value))
      .finish();
    return new Message().message(1, body).finish();
  }
  // NonBodyParameter's oneof: header = 1, formData = 2, query = 3, path = 4.
  const choice = value.in === 'header' ? 1 : value.in === 'formData' ? 2 : value.in === 'path' ? 4 : 3;
  const nonBody = new Message().message(choice, nonBodyParameter(value, choice === 2 || choice === 3)).finish();
  return new Message().message(2, nonBody).finish();
}

/**
 * The four *ParameterSubSchema messages share one layout: required, in, description, name, then (query
 * and formData only) allow_empty_value, then the primitive keywords in PrimitivesItems' order.
 */
function nonBodyParameter(value: Json, allowsEmptyValue: boolean): Buffer {
  const message = new Message().bool(1, value.required).string(2, value.in).string(3, value.description).string(4, value.name);
  if (allowsEmptyValue) message.bool(5, value.allowEmptyValue);
  return primitiveKeywords(message, value, allowsEmptyValue ? 5 : 4).finish();
}

/** type, format, items, collectionFormat, default … multipleOf, vendor extensions: fields 1–18 after `offset`. */
function primitiveKeywords(message: Message, value: Json, offset: number): Message {
  return message
    .string(offset + 1, value.type)
    .string(offset + 2, value.format)
    .message(offset + 3, optional(value.items, primitivesItems))
    .string(offset + 4, value.collectionFormat)
    .message(offset + 5, value.default === undefined ? undefined : any(value.default))
    .double(offset + 6, value.maximum)
    .bool(offset + 7, value.exclusiveMaximum)
    .double(offset + 8, value.minimum)
    .bool(offset + 9, value.exclusiveMinimum)
    .int64(offset + 10, value.maxLength)
    .int64(offset + 11, value.minLength)
    .string(offset + 12, value.pattern)
    .int64(offset + 13, value.maxItems)
    .int64(offset + 14, value.minItems)
    .bool(offset + 15, value.uniqueItems)
    .messages(offset + 16, anys(value.enum))
    .double(offset + 17, value.multipleOf)
    .messages(offset + 18, vendorExtensions(value));
}

function primitivesItems(value: Json): Buffer {
  return primitiveKeywords(new Message(), value, 0).finish();
}

/** Responses { repeated NamedResponseValue response_code = 1; repeated NamedAny vendor_extension = 2; } */
function responses(value: Json): Buffer {
  const codes = namedMap(value, (item) => (typeof item.$ref === 'string' ? new Message().message(2, jsonReference(item)).finish() : new Message().message(1, response(item)).finish()), notExtension);
  return new Message().messages(1, codes).messages(2, vendorExtensions(value)).finish();
}

function response(value: Json): Buffer {
  return new Message()
    .string(1, value.description)
    // SchemaItem { oneof { Schema schema = 1; FileSchema file_schema = 2; } }: gnostic tries Schema first.
    .message(2, optional(value.schema, (item) => new Message().message(1, schema(item)).finish()))
    .message(3, optional(value.headers, (headers) => new Message().messages(1, namedMap(headers, header)).finish()))
    .message(4, optional(value.examples, (examples) => new Message().messages(1, Object.entries(examples).map(([name, example]) => named(name, any(example)))).finish()))
    .messages(5, vendorExtensions(value))
    .finish();
}

/** Header: PrimitivesItems' fields 1–17, then description = 18 and vendor extensions = 19. */
function header(value: Json): Buffer {
  const withoutExtensions = Object.fromEntries(Object.entries(value).filter(([key]) => notExtension(key)));
  return primitiveKeywords(new Message(), withoutExtensions, 0).string(18, value.description).messages(19, vendorExtensions(value)).finish();
}

// ---- schemas ----------------------------------------------------------------------------------------

function schema(value: Json): Buffer {
  const additional = value.additionalProperties;
  return new Message()
    .string(1, value.$ref)
    .string(2, value.format)
    .string(3, value.title)
    .string(4, value.description)
    .message(5, value.default === undefined ? undefined : any(value.default))
    .double(6, value.multipleOf)
    .double(7, value.maximum)
    .bool(8, value.exclusiveMaximum)
    .double(9, value.minimum)
    .bool(10, value.exclusiveMinimum)
    .int64(11, value.maxLength)
    .int64(12, value.minLength)
    .string(13, value.pattern)
    .int64(14, value.maxItems)
    .int64(15, value.minItems)
    .bool(16, value.uniqueItems)
    .int64(17, value.maxProperties)
    .int64(18, value.minProperties)
    .strings(19, value.required)
    .messages(20, anys(value.enum))
    // AdditionalPropertiesItem { oneof { Schema schema = 1; bool boolean = 2; } }
    .message(21, typeof additional === 'boolean' ? new Message().bool(2, additional, true).finish() : optional(additional, (item) => new Message().message(1, schema(item)).finish()))
    // TypeItem { repeated string value = 1; }
    .message(22, value.type === undefined ? undefined : new Message().strings(1, value.type).finish())
    // ItemsItem { repeated Schema schema = 1; }: one schema, or swagger's tuple form.
    .message(23, value.items === undefined ? undefined : new Message().messages(1, (Array.isArray(value.items) ? value.items : [value.items]).filter(isObject).map(schema)).finish())
    .messages(24, Array.isArray(value.allOf) ? value.allOf.filter(isObject).map(schema) : [])
    .message(25, optional(value.properties, (properties) => new Message().messages(1, namedMap(properties, schema)).finish()))
    .string(26, value.discriminator)
    .bool(27, value.readOnly)
    .message(28, optional(value.xml, xml))
    .message(29, optional(value.externalDocs, externalDocs))
    .message(30, value.example === undefined ? undefined : any(value.example))
    .messages(31, vendorExtensions(value))
    .finish();
}

function xml(value: Json): Buffer {
  return new Message()
    .string(1, value.name)
    .string(2, value.namespace)
    .string(3, value.prefix)
    .bool(4, value.attribute)
    .bool(5, value.wrapped)
    .messages(6, vendorExtensions(value))
    .finish();
}
