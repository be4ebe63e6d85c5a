// Typed client-go clients (kubectl create namespace|configmap|secret, auth can-i, auth whoami) POST
// `application/vnd.kubernetes.protobuf` and never fall back to JSON, so the servers must read protobuf
// bodies. We only ever *read* them and answer in JSON, so this is a decoder into the equivalent JSON object.
//
// The decoder is generic; each kind is a table (field number → name and type) mirroring the upstream
// generated.proto files. Adding a kind means adding a table, not code.
//
// Decoding rules, chosen to reproduce what the Go server's JSON encoding of the same object would say:
// - Go writes every non-pointer scalar even when it is the zero value (`12 00 1a 00 …`), so zero scalars
//   ('' / 0 / false / empty time) are treated as absent and their keys omitted.
// - Fields marked `pointer` are Go pointers (`immutable *bool`): written only when set, so a zero value
//   there is a real value and is kept.
// - Maps and repeated fields appear only when they have entries. Map values and list elements keep empty
//   strings (a label may have an empty value).
// - A nested message that is present becomes an object even when empty: the captured Namespace body
//   decodes to `spec: {}, status: {}`, just as the Go server would render it.
// - Field numbers missing from a table are skipped (managedFields, fields of newer API versions).

import { badRequest } from './status.js';
import { moreProtobufKinds } from './protobuf-kinds/index.js';
import { coreV1Kinds } from './protobuf-kinds/core-v1.js';
import { reviewKinds } from './protobuf-kinds/reviews.js';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

/** True for `application/vnd.kubernetes.protobuf`, with or without parameters. */
export function isProtobufContentType(contentType: string): boolean {
  const mediaType = contentType.split(';', 1)[0].trim().toLowerCase();
  return mediaType === PROTOBUF_CONTENT_TYPE;
}

// ---- message descriptions --------------------------------------------------------------------------

/**
 * `time` is metav1.Time (`{1: seconds, 2: nanos}`), rendered as RFC 3339 at second precision like the
 * Go JSON encoder. `quantity` is resource.Quantity (`{1: string}`), rendered as its string. `bytes` is rendered as base64, as Go renders []byte.
 */
export type ScalarType = 'string' | 'bytes' | 'int64' | 'int32' | 'bool' | 'time' | 'intOrString' | 'quantity';

/**
 * Map value types. `stringList` is a message whose field 1 is a repeated string (authentication's
 * ExtraValue), which JSON renders as a bare array.
 */
export type MapValueType = 'string' | 'bytes' | 'stringList' | 'quantity';

export interface FieldSpec {
  /** The JSON field name. */
  name: string;
  type: ScalarType | 'message' | 'map';
  repeated?: boolean;
  /** For type 'message'. */
  message?: MessageSpec;
  /** For type 'map' (keys are always strings in the Kubernetes API). */
  mapValue?: MapValueType;
  /** A Go pointer field: only written when set, so its zero value is meaningful and kept. */
  pointer?: boolean;
  /** For type 'message': a Go embedded struct (`json:",inline"`), whose fields JSON shows in the parent. */
  inline?: boolean;
}

/** Field number → field. */
export type MessageSpec = { readonly [fieldNumber: number]: FieldSpec };

/** apiVersion → kind → top-level message. */
export type ProtobufKindTable = { readonly [apiVersion: string]: { readonly [kind: string]: MessageSpec } };

const QUANTITY: MessageSpec = { 1: { name: 'string', type: 'string' } };

const IntOrString: MessageSpec = {
  1: { name: 'type', type: 'int64' },
  2: { name: 'intVal', type: 'int32' },
  3: { name: 'strVal', type: 'string' },
};

export const builtinProtobufKinds: ProtobufKindTable = {
  ...moreProtobufKinds,
  v1: { ...coreV1Kinds, ...moreProtobufKinds.v1 },
  ...reviewKinds,
};


// ---- wire reader -----------------------------------------------------------------------------------

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

/** A malformed body; becomes a 400 once the caller knows which kind it was decoding. */
class WireError extends Error {
  /** Dotted path of the innermost field being decoded when the error happened. */
  field?: string;
}

class WireReader {
  private position: number;

  constructor(
    private readonly buffer: Buffer,
    start = 0,
    private readonly end = buffer.length,
  ) {
    this.position = start;
  }

  get done(): boolean {
    return this.position >= this.end;
  }

  readVarint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.position >= this.end) throw new WireError(`truncated data at byte ${this.position}`);
      const byte = this.buffer[this.position++];
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    throw new WireError(`malformed varint ending at byte ${this.position}`);
  }

  readTag(): { fieldNumber: number; wireType: number } {
    const tag = this.readVarint();
    const fieldNumber = Number(tag >> 3n);
    if (fieldNumber === 0) throw new WireError(`invalid field number 0 at byte ${this.position}`);
    return { fieldNumber, wireType: Number(tag & 7n) };
  }

  /** The payload of a length-delimited field, as a view into the same buffer. */
  readLengthDelimited(): WireReader {
    const length = this.readVarint();
    const start = this.position;
    if (BigInt(start) + length > BigInt(this.end)) {
      throw new WireError(`truncated data: field of ${length} bytes at byte ${start} runs past the end of its message`);
    }
    this.position = start + Number(length);
    return new WireReader(this.buffer, start, this.position);
  }

  bytes(): Buffer {
    return this.buffer.subarray(this.position, this.end);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.readVarint();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_LENGTH_DELIMITED:
        this.readLengthDelimited();
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
      default:
        // 3 and 4 are proto2 groups, which Kubernetes never uses; anything else is not protobuf.
        throw new WireError(`unsupported wire type ${wireType} at byte ${this.position}`);
    }
  }

  private advance(count: number): void {
    if (this.position + count > this.end) throw new WireError(`truncated data at byte ${this.position}`);
    this.position += count;
  }
}

// ---- decoding --------------------------------------------------------------------------------------

/**
 * Decodes a `k8s\0`-prefixed runtime.Unknown envelope into the JSON form of the object it carries,
 * with `apiVersion` and `kind` taken from the envelope.
 */
export function decodeProtobufObject(body: Buffer, kinds: ProtobufKindTable = builtinProtobufKinds): Record<string, unknown> {
  const envelope = decodeEnvelope(body);
  const { apiVersion, kind } = envelope;
  const spec = Object.hasOwn(kinds, apiVersion) && Object.hasOwn(kinds[apiVersion], kind) ? kinds[apiVersion][kind] : undefined;
  if (!spec) {
    throw badRequest(`unable to decode protobuf body for kind "${kind}" in version "${apiVersion}": not supported, send JSON`);
  }
  try {
    const object = decodeMessage(new WireReader(envelope.raw), spec, '');
    return { apiVersion, kind, ...object };
  } catch (error) {
    rethrowAsBadRequest(error, `unable to decode protobuf body for kind "${kind}" in version "${apiVersion}"`);
  }
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

function decodeEnvelope(body: Buffer): { apiVersion: string; kind: string; raw: Buffer } {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw badRequest('unable to decode protobuf body: it does not start with the Kubernetes protobuf prefix "k8s\\x00"');
  }
  let apiVersion = '';
  let kind = '';
  let raw: Buffer = Buffer.alloc(0);
  let contentEncoding = '';
  try {
    const reader = new WireReader(body, MAGIC.length);
    while (!reader.done) {
      const { fieldNumber, wireType } = reader.readTag();
      if (fieldNumber >= 1 && fieldNumber <= 4 && wireType !== WIRE_LENGTH_DELIMITED) {
        throw new WireError(`envelope field ${fieldNumber} has wire type ${wireType}, expected ${WIRE_LENGTH_DELIMITED}`);
      }
      if (fieldNumber === 1) {
        const typeMeta = reader.readLengthDelimited();
        while (!typeMeta.done) {
          const inner = typeMeta.readTag();
          if ((inner.fieldNumber === 1 || inner.fieldNumber === 2) && inner.wireType === WIRE_LENGTH_DELIMITED) {
            const text = typeMeta.readLengthDelimited().bytes().toString('utf8');
            if (inner.fieldNumber === 1) apiVersion = text;
            else kind = text;
          } else {
            typeMeta.skip(inner.wireType);
          }
        }
      } else if (fieldNumber === 2) {
        raw = reader.readLengthDelimited().bytes();
      } else if (fieldNumber === 3) {
        contentEncoding = reader.readLengthDelimited().bytes().toString('utf8');
      } else {
        // 4 contentType is always empty or protobuf in practice; the raw bytes decide either way.
        reader.skip(wireType);
      }
    }
  } catch (error) {
    rethrowAsBadRequest(error, 'unable to decode protobuf body');
  }
  if (contentEncoding) {
    throw badRequest(`unable to decode protobuf body: unsupported contentEncoding "${contentEncoding}"`);
  }
  if (!kind || !apiVersion) {
    throw badRequest('unable to decode protobuf body: the envelope does not name the apiVersion and kind of the object');
  }
  return { apiVersion, kind, raw };
}

function decodeMessage(reader: WireReader, spec: MessageSpec, path: string): Record<string, unknown> {
  const values = new Map<number, unknown>();
  while (!reader.done) {
    const { fieldNumber, wireType } = reader.readTag();
    const field = Object.hasOwn(spec, fieldNumber) ? spec[fieldNumber] : undefined;
    if (!field) {
      reader.skip(wireType);
      continue;
    }
    const fieldPath = path ? `${path}.${field.name}` : field.name;
    try {
      decodeField(reader, wireType, field, fieldPath, values, fieldNumber);
    } catch (error) {
      if (error instanceof WireError && error.field === undefined) error.field = fieldPath;
      throw error;
    }
  }
  // Assemble in field-number order so keys come out in a stable, upstream-like order.
  const object: Record<string, unknown> = {};
  for (const fieldNumber of Object.keys(spec).map(Number).sort((a, b) => a - b)) {
    if (!values.has(fieldNumber)) continue;
    const field = spec[fieldNumber];
    const value = values.get(fieldNumber);
    if (!field.repeated && field.type !== 'map' && field.type !== 'message' && !field.pointer && isZero(value)) continue;
    if (value === undefined) continue;
    if (field.inline && field.type === 'message' && !field.repeated) {
      Object.assign(object, value);
      continue;
    }
    object[field.name] = value;
  }
  return object;
}

function decodeField(
  reader: WireReader,
  wireType: number,
  field: FieldSpec,
  path: string,
  values: Map<number, unknown>,
  fieldNumber: number,
): void {
  if (field.type === 'map') {
    expectWireType(wireType, WIRE_LENGTH_DELIMITED, path);
    const map = (values.get(fieldNumber) as Record<string, unknown> | undefined) ?? {};
    const [key, value] = decodeMapEntry(reader.readLengthDelimited(), field.mapValue ?? 'string');
    map[key] = value;
    values.set(fieldNumber, map);
    return;
  }
  if (field.repeated) {
    const list = (values.get(fieldNumber) as unknown[] | undefined) ?? [];
    if (isVarintType(field.type) && wireType === WIRE_LENGTH_DELIMITED) {
      // Packed encoding: proto2 does not use it by default, but a decoder must accept it.
      const packed = reader.readLengthDelimited();
      while (!packed.done) list.push(varintValue(packed.readVarint(), field.type));
    } else {
      list.push(decodeSingle(reader, wireType, field, path));
    }
    values.set(fieldNumber, list);
    return;
  }
  values.set(fieldNumber, decodeSingle(reader, wireType, field, path));
}

function decodeSingle(reader: WireReader, wireType: number, field: FieldSpec, path: string): unknown {
  switch (field.type) {
    case 'string':
      expectWireType(wireType, WIRE_LENGTH_DELIMITED, path);
      return reader.readLengthDelimited().bytes().toString('utf8');
    case 'bytes':
      expectWireType(wireType, WIRE_LENGTH_DELIMITED, path);
      return reader.readLengthDelimited().bytes().toString('base64');
    case 'int64':
    case 'int32':
    case 'bool':
      expectWireType(wireType, WIRE_VARINT, path);
      return varintValue(reader.readVarint(), field.type);
    case 'time':
      expectWireType(wireType, WIRE_LENGTH_DELIMITED, path);
      return decodeTime(reader.readLengthDelimited());
    case 'intOrString': {
      // intstr.IntOrString {1: type (0 int, 1 string), 2: intVal, 3: strVal}: JSON renders the value itself.
      expectWireType(wireType, WIRE_LENGTH_DELIMITED, path);
      const value = decodeMessage(reader.readLengthDelimited(), IntOrString, path);
      return value.type === 1 ? (value.strVal ?? '') : (value.intVal ?? 0);
    }
    case 'quantity':
      expectWireType(wireType, WIRE_LENGTH_DELIMITED, path);
      return decodeMessage(reader.readLengthDelimited(), QUANTITY, path).string ?? '';
    case 'message':
      expectWireType(wireType, WIRE_LENGTH_DELIMITED, path);
      return decodeMessage(reader.readLengthDelimited(), field.message ?? {}, path);
    case 'map':
      throw new WireError('a map cannot be decoded as a single value');
  }
}

function decodeMapEntry(entry: WireReader, valueType: MapValueType): [string, unknown] {
  let key = '';
  let value: unknown = valueType === 'stringList' ? [] : '';
  while (!entry.done) {
    const { fieldNumber, wireType } = entry.readTag();
    if (fieldNumber === 1) {
      expectWireType(wireType, WIRE_LENGTH_DELIMITED, 'key');
      key = entry.readLengthDelimited().bytes().toString('utf8');
    } else if (fieldNumber === 2) {
      expectWireType(wireType, WIRE_LENGTH_DELIMITED, 'value');
      const payload = entry.readLengthDelimited();
      if (valueType === 'string') value = payload.bytes().toString('utf8');
      else if (valueType === 'bytes') value = payload.bytes().toString('base64');
      // resource.Quantity {1: string}: JSON renders the string itself.
      else if (valueType === 'quantity') value = decodeMessage(payload, { 1: { name: 'string', type: 'string' } }, '').string ?? '';
      else value = decodeMessage(payload, { 1: { name: 'items', type: 'string', repeated: true } }, '').items ?? [];
    } else {
      entry.skip(wireType);
    }
  }
  return [key, value];
}

/**
 * metav1.Time: an empty message is the zero time (absent). Otherwise Go keeps whole seconds only, and
 * its JSON is RFC 3339 in UTC (`2026-11-22T18:49:58Z`).
 */
function decodeTime(reader: WireReader): string | undefined {
  if (reader.done) return undefined;
  const timestamp = decodeMessage(reader, { 1: { name: 'seconds', type: 'int64', pointer: true } }, '');
  const seconds = (timestamp.seconds as number | undefined) ?? 0;
  const date = new Date(seconds * 1000);
  const year = date.getUTCFullYear();
  if (Number.isNaN(date.getTime()) || year < 0 || year > 9999) {
    throw new WireError(`timestamp of ${seconds} seconds is out of range`);
  }
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

type VarintType = 'int64' | 'int32' | 'bool';

function isVarintType(type: FieldSpec['type']): type is VarintType {
  return type === 'int64' || type === 'int32' || type === 'bool';
}

function varintValue(value: bigint, type: ScalarType): number | boolean {
  if (type === 'bool') return value !== 0n;
  // Negative ints are sent as 10-byte two's complement varints; reinterpret at the declared width.
  return Number(BigInt.asIntN(type === 'int32' ? 32 : 64, value));
}

function expectWireType(actual: number, expected: number, path: string): void {
  if (actual !== expected) throw new WireError(`field ${path} has wire type ${actual}, expected ${expected}`);
}

function isZero(value: unknown): boolean {
  return value === '' || value === 0 || value === false || value === undefined;
}

function rethrowAsBadRequest(error: unknown, prefix: string): never {
  if (error instanceof WireError) {
    const where = error.field ? ` (in ${error.field})` : '';
    throw badRequest(`${prefix}: ${error.message}${where}`);
  }
  throw error;
}
