// The custom-resource write pipeline, table-driven: each case is a schema (the `spec` part of a CRD's
// openAPIV3Schema), an object, optionally the old object of an update, and what upstream answers —
// the field errors as kubectl prints them, the object after pruning and defaulting, the pruned paths.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { fieldErrorMessage } from '../../apiserver/request/status.js';
import type { JSONSchema } from '../../apiserver/schema/types.js';
import { CustomResourceValidation } from './custom-resource-validation.js';

interface Case {
  name: string;
  /** Schema of `spec`. */
  spec: JSONSchema;
  /** Value of `spec` (undefined: no spec). */
  value: unknown;
  /** The old `spec` on update (ratcheting). */
  old?: unknown;
  errors?: string[];
  /** `spec` after pruning and defaulting. */
  result?: unknown;
  unknown?: string[];
  warnings?: string[];
}

const str: JSONSchema = { type: 'string' };
const int: JSONSchema = { type: 'integer' };
const obj = (properties: Record<string, JSONSchema>, extra: Partial<JSONSchema> = {}): JSONSchema => ({ type: 'object', properties, ...extra });

const cases: Case[] = [
  // ---- type ----
  { name: 'integer given a string', spec: obj({ replicas: int }), value: { replicas: 'three' }, errors: ['spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"'] },
  { name: 'integer given a float', spec: obj({ replicas: int }), value: { replicas: 1.5 }, errors: ['spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number"'] },
  { name: 'number accepts an integer', spec: obj({ ratio: { type: 'number' } }), value: { ratio: 2 }, errors: [] },
  { name: 'string given an object', spec: obj({ name: str }), value: { name: { a: 1 } }, errors: ['spec.name: Invalid value: "object": spec.name in body must be of type string: "object"'] },
  { name: 'boolean given a list', spec: obj({ on: { type: 'boolean' } }), value: { on: [true] }, errors: ['spec.on: Invalid value: "array": spec.on in body must be of type boolean: "array"'] },
  { name: 'object given a string', spec: obj({ name: str }), value: 'x', errors: ['spec: Invalid value: "string": spec in body must be of type object: "string"'] },
  { name: 'null list item of a non-nullable type', spec: obj({ names: { type: 'array', items: str } }), value: { names: ['a', null] }, errors: ['spec.names[1]: Invalid value: "null": spec.names[1] in body must be of type string: "null"'] },
  // ---- int-or-string ----
  { name: 'int-or-string accepts both', spec: obj({ port: { 'x-kubernetes-int-or-string': true } }), value: { port: 'http' }, errors: [] },
  {
    name: 'int-or-string written as anyOf reports the junctor too',
    spec: obj({ port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] } }),
    value: { port: true },
    errors: [
      'spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"',
      '<nil>: Invalid value: "": "spec.port" must validate at least one schema (anyOf)',
      'spec.port: Invalid value: "boolean": spec.port in body must be of type integer: "boolean"',
    ],
  },
  { name: 'int-or-string rejects a boolean', spec: obj({ port: { 'x-kubernetes-int-or-string': true } }), value: { port: true }, errors: ['spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"'] },
  // ---- nullable ----
  { name: 'nullable keeps null', spec: obj({ note: { type: 'string', nullable: true } }), value: { note: null }, errors: [], result: { note: null } },
  { name: 'non-nullable null is dropped', spec: obj({ note: str }), value: { note: null, keep: 1 }, errors: [], result: {}, unknown: ['spec.keep'] },
  { name: 'non-nullable null takes the default', spec: obj({ mode: { type: 'string', default: 'auto' } }), value: { mode: null }, errors: [], result: { mode: 'auto' } },
  // ---- enum ----
  { name: 'enum of strings', spec: obj({ type: { type: 'string', enum: ['a', 'b'] } }), value: { type: 'c' }, errors: ['spec.type: Unsupported value: "c": supported values: "a", "b"'] },
  { name: 'enum of numbers', spec: obj({ size: { type: 'integer', enum: [1, 2] } }), value: { size: 3 }, errors: ['spec.size: Unsupported value: 3: supported values: "1", "2"'] },
  { name: 'a nullable null never satisfies an enum (kube-openapi skips null members)', spec: obj({ mode: { type: 'string', nullable: true, enum: ['a', null] } }), value: { mode: null }, errors: ['spec.mode: Unsupported value: "null": supported values: "a", "null"'] },
  { name: 'enum match', spec: obj({ type: { type: 'string', enum: ['a', 'b'] } }), value: { type: 'b' }, errors: [] },
  // ---- pattern ----
  { name: 'pattern mismatch', spec: obj({ name: { type: 'string', pattern: '^[a-z]+$' } }), value: { name: 'X' }, errors: ['spec.name: Invalid value: "X": spec.name in body should match \'^[a-z]+$\''] },
  { name: 'pattern is unanchored like Go', spec: obj({ name: { type: 'string', pattern: '[0-9]' } }), value: { name: 'abc1' }, errors: [] },
  { name: 'pathological pattern runs in linear time', spec: obj({ name: { type: 'string', pattern: '^(a+)+$' } }), value: { name: `${'a'.repeat(5000)}!` }, errors: [`spec.name: Invalid value: "${'a'.repeat(256)}"...(truncated): spec.name in body should match '^(a+)+$'`] },
  { name: 'Go regexp classes and flags', spec: obj({ name: { type: 'string', pattern: '(?i)^\\p{L}[[:digit:]]\\z' } }), value: { name: 'É7' }, errors: [] },
  // ---- string lengths (code points, as Go counts runes) ----
  { name: 'maxLength', spec: obj({ name: { type: 'string', maxLength: 3 } }), value: { name: 'abcd' }, errors: ['spec.name: Too long: may not be more than 3 bytes'] },
  { name: 'maxLength counts code points', spec: obj({ name: { type: 'string', maxLength: 3 } }), value: { name: '😀😀😀' }, errors: [] },
  { name: 'minLength', spec: obj({ name: { type: 'string', minLength: 3 } }), value: { name: 'ab' }, errors: ['spec.name: Invalid value: "ab": spec.name in body should be at least 3 chars long'] },
  { name: 'only the first string check fails', spec: obj({ name: { type: 'string', maxLength: 2, pattern: '^z' } }), value: { name: 'abc' }, errors: ['spec.name: Too long: may not be more than 2 bytes'] },
  // ---- numbers ----
  { name: 'maximum', spec: obj({ replicas: { type: 'integer', maximum: 10 } }), value: { replicas: 11 }, errors: ['spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10'] },
  { name: 'exclusiveMaximum', spec: obj({ replicas: { type: 'integer', maximum: 10, exclusiveMaximum: true } }), value: { replicas: 10 }, errors: ['spec.replicas: Invalid value: 10: spec.replicas in body should be less than 10'] },
  { name: 'minimum', spec: obj({ replicas: { type: 'integer', minimum: 1 } }), value: { replicas: 0 }, errors: ['spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1'] },
  { name: 'exclusiveMinimum', spec: obj({ ratio: { type: 'number', minimum: 0, exclusiveMinimum: true } }), value: { ratio: 0 }, errors: ['spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0'] },
  { name: 'float bounds print like Go', spec: obj({ ratio: { type: 'number', maximum: 1000000 } }), value: { ratio: 1000000.5 }, errors: ['spec.ratio: Invalid value: 1.0000005e+06: spec.ratio in body should be less than or equal to 1e+06'] },
  { name: 'multipleOf', spec: obj({ step: { type: 'integer', multipleOf: 5 } }), value: { step: 12 }, errors: ['spec.step: Invalid value: 12: spec.step in body should be a multiple of 5'] },
  { name: 'multipleOf for floats', spec: obj({ step: { type: 'number', multipleOf: 0.5 } }), value: { step: 1.25 }, errors: ['spec.step: Invalid value: 1.25: spec.step in body should be a multiple of 0.5'] },
  { name: 'multipleOf with float data passes', spec: obj({ step: { type: 'number', multipleOf: 0.1 } }), value: { step: 0.3 }, errors: [] },
  { name: 'integer data truncates a fractional multipleOf, as Go converts it', spec: obj({ step: { type: 'integer', multipleOf: 0.5 } }), value: { step: 3 }, errors: ['spec.step: Invalid value: 0: factor MultipleOf declared for spec.step must be positive: 0'] },
  { name: 'several number errors in order', spec: obj({ n: { type: 'integer', multipleOf: 2, maximum: 4 } }), value: { n: 7 }, errors: ['spec.n: Invalid value: 7: spec.n in body should be a multiple of 2', 'spec.n: Invalid value: 7: spec.n in body should be less than or equal to 4'] },
  // ---- arrays ----
  { name: 'maxItems', spec: obj({ items: { type: 'array', items: str, maxItems: 3 } }), value: { items: ['a', 'b', 'c', 'd'] }, errors: ['spec.items: Too many: 4: must have at most 3 items'] },
  { name: 'minItems', spec: obj({ items: { type: 'array', items: str, minItems: 2 } }), value: { items: ['a'] }, errors: ['spec.items: Invalid value: 1: spec.items in body should have at least 2 items'] },
  { name: 'uniqueItems', spec: obj({ items: { type: 'array', items: int, uniqueItems: true } }), value: { items: [1, 2, 1] }, errors: ['spec.items: Invalid value: "": spec.items in body shouldn\'t contain duplicates'] },
  { name: 'item errors come before list errors', spec: obj({ items: { type: 'array', items: { type: 'string', maxLength: 1 }, maxItems: 1 } }), value: { items: ['ab', 'c'] }, errors: ['spec.items[0]: Too long: may not be more than 1 bytes', 'spec.items: Too many: 2: must have at most 1 items'] },
  // ---- objects ----
  { name: 'required', spec: obj({ cronSpec: str, image: str }, { required: ['cronSpec', 'image'] }), value: { image: 'x' }, errors: ['spec.cronSpec: Required value'] },
  { name: 'maxProperties', spec: { type: 'object', additionalProperties: str, maxProperties: 2 }, value: { a: 'x', b: 'y', c: 'z' }, errors: ['spec: Too many: 3: must have at most 2 items'] },
  { name: 'minProperties', spec: { type: 'object', additionalProperties: str, minProperties: 1 }, value: {}, errors: ['spec: Invalid value: 0: spec in body should have at least 1 properties'] },
  { name: 'additionalProperties values are validated', spec: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } }, value: { a: 1, b: -1 }, errors: ['spec.b: Invalid value: -1: spec.b in body should be greater than or equal to 0'] },
  // ---- formats ----
  { name: 'format date', spec: obj({ day: { type: 'string', format: 'date' } }), value: { day: '2024-02-30' }, errors: ['spec.day: Invalid value: "2024-02-30": spec.day in body must be of type date: "2024-02-30"'] },
  { name: 'format date-time', spec: obj({ at: { type: 'string', format: 'date-time' } }), value: { at: 'yesterday' }, errors: ['spec.at: Invalid value: "yesterday": spec.at in body must be of type date-time: "yesterday"'] },
  { name: 'format date-time accepts RFC 3339', spec: obj({ at: { type: 'string', format: 'date-time' } }), value: { at: '2024-02-29T10:00:00.5+01:00' }, errors: [] },
  { name: 'format duration (Go and Scala style)', spec: obj({ a: { type: 'string', format: 'duration' }, b: { type: 'string', format: 'duration' }, c: { type: 'string', format: 'duration' } }), value: { a: '1h30m', b: '3 days', c: 'soon' }, errors: ['spec.c: Invalid value: "soon": spec.c in body must be of type duration: "soon"'] },
  { name: 'format uuid', spec: obj({ id: { type: 'string', format: 'uuid' } }), value: { id: 'not-a-uuid' }, errors: ['spec.id: Invalid value: "not-a-uuid": spec.id in body must be of type uuid: "not-a-uuid"'] },
  { name: 'format ipv4, ipv6, cidr, mac', spec: obj({ a: { type: 'string', format: 'ipv4' }, b: { type: 'string', format: 'ipv6' }, c: { type: 'string', format: 'cidr' }, d: { type: 'string', format: 'mac' } }), value: { a: '010.0.0.1', b: 'fe80::1', c: '10.0.0.0/33', d: '00:00:5e:00:53:01' }, errors: ['spec.c: Invalid value: "10.0.0.0/33": spec.c in body must be of type cidr: "10.0.0.0/33"'] },
  { name: 'format hostname and email', spec: obj({ h: { type: 'string', format: 'hostname' }, e: { type: 'string', format: 'email' } }), value: { h: 'bad_host!', e: 'Jane <jane@example.com>' }, errors: ['spec.h: Invalid value: "bad_host!": spec.h in body must be of type hostname: "bad_host!"'] },
  { name: 'format byte, uri', spec: obj({ b: { type: 'string', format: 'byte' }, u: { type: 'string', format: 'uri' } }), value: { b: 'aGVsbG8=', u: 'not a uri' }, errors: ['spec.u: Invalid value: "not a uri": spec.u in body must be of type uri: "not a uri"'] },
  { name: 'formats upstream strips accept anything', spec: obj({ n: { type: 'integer', format: 'int32' }, s: { type: 'string', format: 'quantity' } }), value: { n: 5000000000, s: '!!' }, errors: [] },
  { name: 'format on a wrong-typed value', spec: obj({ day: { type: 'string', format: 'date' } }), value: { day: 5 }, errors: ['spec.day: Invalid value: "int64": spec.day in body must be of type date: "int64"'] },
  // ---- junctors ----
  {
    name: 'anyOf names the best branch',
    spec: obj({ a: str, b: str }, { anyOf: [{ required: ['a'] }, { required: ['b'] }] }),
    value: {},
    errors: ['<nil>: Invalid value: "": "spec" must validate at least one schema (anyOf)', 'spec.a: Required value'],
  },
  { name: 'oneOf with two matches', spec: obj({ a: str, b: str }, { oneOf: [{ required: ['a'] }, { required: ['b'] }] }), value: { a: 'x', b: 'y' }, errors: ['<nil>: Invalid value: "": "spec" must validate one and only one schema (oneOf). Found 2 valid alternatives'] },
  { name: 'allOf', spec: obj({ n: int }, { allOf: [{ properties: { n: { maximum: 5 } } }, { properties: { n: { minimum: 1 } } }] }), value: { n: 9 }, errors: ['spec.n: Invalid value: 9: spec.n in body should be less than or equal to 5', '<nil>: Invalid value: "": "spec" must validate all the schemas (allOf)'] },
  { name: 'not', spec: obj({ a: str }, { not: { required: ['a'] } }), value: { a: 'x' }, errors: ['<nil>: Invalid value: "": "spec" must not validate the schema (not)'] },
  // ---- defaults ----
  { name: 'defaults fill present objects', spec: obj({ replicas: { type: 'integer', default: 1 }, image: str }), value: { image: 'x' }, result: { image: 'x', replicas: 1 }, errors: [] },
  { name: 'defaulted parent gets its own defaults', spec: obj({ policy: { type: 'object', default: {}, properties: { mode: { type: 'string', default: 'Allow' } } } }), value: {}, result: { policy: { mode: 'Allow' } }, errors: [] },
  {
    name: 'a default under an absent parent is not applied, and said so',
    spec: obj({ template: obj({ replicas: { type: 'integer', default: 1 } }) }),
    value: {},
    result: {},
    warnings: ['spec.template.replicas: default not applied because parent spec.template is absent'],
    errors: [],
  },
  {
    name: 'one warning per request, counting the other defaults that did not apply',
    spec: obj({ tls: obj({ mode: { type: 'string', default: 'Terminate' }, port: { type: 'integer', default: 443 } }), extra: obj({ on: { type: 'boolean', default: true } }) }),
    value: {},
    result: {},
    warnings: ['spec.tls.mode: default not applied because parent spec.tls is absent (and 2 more defaults under absent parents)'],
    errors: [],
  },
  { name: 'no warning for the status of a new object', spec: obj({ image: str }), value: { image: 'x' }, errors: [], warnings: [] },
  { name: 'defaults in list items', spec: obj({ ports: { type: 'array', items: obj({ protocol: { type: 'string', default: 'TCP' } }) } }), value: { ports: [{}, { protocol: 'UDP' }] }, result: { ports: [{ protocol: 'TCP' }, { protocol: 'UDP' }] }, errors: [] },
  { name: 'defaults are validated', spec: obj({ n: { type: 'integer', default: 20, maximum: 10 } }), value: {}, errors: ['spec.n: Invalid value: 20: spec.n in body should be less than or equal to 10'] },
  // ---- pruning ----
  { name: 'unknown fields are pruned with a suggestion', spec: obj({ replicas: int }), value: { replica: 3, replicas: 1 }, result: { replicas: 1 }, unknown: ['spec.replica (did you mean spec.replicas)'], errors: [] },
  { name: 'unknown fields in list items', spec: obj({ ports: { type: 'array', items: obj({ port: int }) } }), value: { ports: [{ port: 1, prot: 2 }] }, result: { ports: [{ port: 1 }] }, unknown: ['spec.ports[0].prot (did you mean spec.ports[0].port)'], errors: [] },
  { name: 'preserve-unknown-fields keeps everything', spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, value: { anything: { goes: [1] } }, result: { anything: { goes: [1] } }, unknown: [], errors: [] },
  { name: 'declared properties below preserve-unknown-fields are still pruned inside', spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: obj({ a: int }) } }, value: { free: 1, known: { a: 1, b: 2 } }, result: { free: 1, known: { a: 1 } }, unknown: ['spec.known.b'], errors: [] },
  // ---- embedded resources ----
  {
    name: 'embedded resource keeps apiVersion, kind and ObjectMeta, and prunes metadata',
    spec: obj({ template: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true } }),
    value: { template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: 'b' }, labls: { x: 'y' } }, spec: { containers: [] } } },
    result: { template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: 'b' } }, spec: { containers: [] } } },
    unknown: ['spec.template.metadata.labls (did you mean spec.template.metadata.labels)'],
    errors: [],
  },
  {
    name: 'embedded resource needs apiVersion and kind',
    spec: obj({ template: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true } }),
    value: { template: { metadata: { name: 'Bad/Name' } } },
    errors: ['spec.template.apiVersion: Required value: must not be empty', 'spec.template.kind: Required value: must not be empty', "spec.template.metadata.name: Invalid value: \"Bad/Name\": may not contain '/'"],
  },
  // ---- list types ----
  { name: 'set with duplicates', spec: obj({ tags: { type: 'array', items: str, 'x-kubernetes-list-type': 'set' } }), value: { tags: ['a', 'b', 'a'] }, errors: ['spec.tags[2]: Duplicate value: "a"'] },
  {
    name: 'map list with a duplicate key',
    spec: obj({ ports: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: obj({ name: str, port: int }, { required: ['name'] }) } }),
    value: { ports: [{ name: 'a', port: 1 }, { name: 'a', port: 2 }] },
    errors: ['spec.ports[1]: Duplicate value: map[string]interface {}{"name":"a"}'],
  },
  {
    name: 'map list with composite keys',
    spec: obj({ ports: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['port', 'protocol'], items: obj({ port: int, protocol: str }) } }),
    value: { ports: [{ port: 80, protocol: 'TCP' }, { port: 80, protocol: 'UDP' }, { protocol: 'TCP', port: 80 }] },
    errors: ['spec.ports[2]: Duplicate value: map[string]interface {}{"port":80, "protocol":"TCP"}'],
  },
  { name: 'atomic list allows duplicates', spec: obj({ tags: { type: 'array', items: str, 'x-kubernetes-list-type': 'atomic' } }), value: { tags: ['a', 'a'] }, errors: [] },
  // ---- ratcheting ----
  { name: 'an unchanged invalid field does not block an update', spec: obj({ replicas: { type: 'integer', maximum: 10 }, image: str }), old: { replicas: 20, image: 'a' }, value: { replicas: 20, image: 'b' }, errors: [] },
  { name: 'a changed invalid field does', spec: obj({ replicas: { type: 'integer', maximum: 10 }, image: str }), old: { replicas: 20, image: 'a' }, value: { replicas: 21, image: 'a' }, errors: ['spec.replicas: Invalid value: 21: spec.replicas in body should be less than or equal to 10'] },
  { name: 'a newly required field is not ratcheted', spec: obj({ image: str, size: str }, { required: ['size'] }), old: { image: 'a' }, value: { image: 'b' }, errors: ['spec.size: Required value'] },
  {
    name: 'map-list items correlate by key',
    spec: obj({ ports: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: obj({ name: str, port: { type: 'integer', maximum: 100 } }, { required: ['name'] }) } }),
    old: { ports: [{ name: 'a', port: 500 }] },
    value: { ports: [{ name: 'b', port: 1 }, { name: 'a', port: 500 }] },
    errors: [],
  },
  {
    name: 'atomic-list items are ratcheted only when the list is unchanged',
    spec: obj({ sizes: { type: 'array', items: { type: 'integer', maximum: 100 } } }),
    old: { sizes: [500] },
    value: { sizes: [500, 1] },
    errors: ['spec.sizes[0]: Invalid value: 500: spec.sizes[0] in body should be less than or equal to 100'],
  },
  { name: 'set items correlate by value', spec: obj({ tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string', maxLength: 3 } } }), old: { tags: ['toolong'] }, value: { tags: ['new', 'toolong'] }, errors: [] },
  { name: 'list-type errors ratchet when the old object had them', spec: obj({ tags: { type: 'array', items: str, 'x-kubernetes-list-type': 'set' }, image: str }), old: { tags: ['a', 'a'], image: 'x' }, value: { tags: ['a', 'a'], image: 'y' }, errors: [] },
  // ---- messages never dump objects ----
  { name: 'a long string is cut in the message', spec: obj({ day: { type: 'string', format: 'date' } }), value: { day: 'y'.repeat(1000) }, errors: [`spec.day: Invalid value: "${'y'.repeat(256)}"...(truncated): spec.day in body must be of type date: "${'y'.repeat(256)}"...(truncated)`] },
  {
    name: 'an enum failure on a huge object is truncated',
    spec: obj({ choice: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, enum: [{ a: 1 }] } }),
    value: { choice: { blob: 'x'.repeat(10_000) } },
    errors: [`spec.choice: Unsupported value: map[string]interface {}{"blob":"${'x'.repeat(256 - 'map[string]interface {}{"blob":"'.length)}...(truncated): supported values: "{\\"a\\":1}"`],
  },
];

function runCase(testCase: Case) {
  const schema: JSONSchema = { type: 'object', properties: { spec: testCase.spec, status: obj({ phase: { type: 'string', default: 'Pending' } }) } };
  const validation = new CustomResourceValidation(schema);
  const base = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'default' } };
  const object = structuredClone({ ...base, ...(testCase.value === undefined ? {} : { spec: testCase.value }) }) as KubeObject;
  const decoded = validation.decode(object);
  const warning = validation.absentDefaultsWarning(object);
  let errors;
  if (testCase.old !== undefined) {
    const old = structuredClone({ ...base, spec: testCase.old }) as KubeObject;
    errors = validation.validateUpdate(object, old);
  } else {
    errors = validation.validate(object);
  }
  return {
    object,
    errors: errors.map((error) => `${error.field}: ${fieldErrorMessage(error)}`),
    unknown: decoded.unknownFields.map((field) => (decoded.suggestions.has(field) ? `${field} (did you mean ${decoded.suggestions.get(field)})` : field)),
    warnings: warning ? [warning] : [],
  };
}

describe('custom resource validation (table)', () => {
  for (const testCase of cases) {
    it(testCase.name, () => {
      const outcome = runCase(testCase);
      if (testCase.errors) assert.deepEqual(outcome.errors, testCase.errors);
      if (testCase.result !== undefined) assert.deepEqual(outcome.object.spec ?? {}, testCase.result);
      if (testCase.unknown) assert.deepEqual(outcome.unknown, testCase.unknown);
      assert.deepEqual(outcome.warnings, testCase.warnings ?? []);
    });
  }
});

describe('metadata that does not decode into ObjectMeta (upstream: 400 "cannot be handled as")', () => {
  const schema: JSONSchema = { type: 'object', properties: { spec: obj({ template: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true } }) } };
  const check = (metadata: unknown, spec?: unknown) => {
    const validation = new CustomResourceValidation(schema);
    const object = { apiVersion: 'example.com/v1', kind: 'Widget', metadata, ...(spec === undefined ? {} : { spec }) } as unknown as KubeObject;
    try {
      validation.structuralCheck(object);
      return 'ok';
    } catch (error) {
      const status = error as { code?: number; reason?: string; message: string };
      return `${status.code} ${status.reason}: ${status.message}`;
    }
  };
  const handled = 'Widget in version "v1" cannot be handled as a Widget: ';
  const cases: [string, unknown, unknown, string][] = [
    ['a label value of another type', { name: 'w', labels: { foo: 42, bar: 'abc' } }, undefined, `400 BadRequest: ${handled}json: cannot unmarshal number into Go struct field ObjectMeta.labels of type string`],
    ['labels that are not a map', { name: 'w', labels: 5 }, undefined, `400 BadRequest: ${handled}json: cannot unmarshal number into Go struct field ObjectMeta.labels of type map[string]string`],
    ['a numeric name', { name: 5 }, undefined, `400 BadRequest: ${handled}json: cannot unmarshal number into Go struct field ObjectMeta.name of type string`],
    ['a fractional generation', { name: 'w', generation: 1.5 }, undefined, `400 BadRequest: ${handled}json: cannot unmarshal number 1.5 into Go struct field ObjectMeta.generation of type int64`],
    ['an owner reference field', { name: 'w', ownerReferences: [{ name: 3 }] }, undefined, `400 BadRequest: ${handled}json: cannot unmarshal number into Go struct field OwnerReference.ownerReferences.name of type string`],
    ['metadata that is not an object', 'x', undefined, `400 BadRequest: ${handled}json: cannot unmarshal string into Go value of type v1.ObjectMeta`],
    ['an embedded resource\'s metadata', { name: 'w' }, { template: { metadata: { labels: [] } } }, `400 BadRequest: ${handled}spec.template.metadata: Invalid value: map[string]interface {}{"labels":[]interface {}{}}: json: cannot unmarshal array into Go struct field ObjectMeta.labels of type map[string]string`],
    ['an embedded resource\'s kind', { name: 'w' }, { template: { kind: 5 } }, `400 BadRequest: ${handled}spec.template.kind: Invalid value: 5: must be a string`],
    ['unknown metadata fields are not errors', { name: 'w', bogus: 1, labels: { a: 'b' } }, undefined, 'ok'],
  ];
  for (const [name, metadata, spec, expected] of cases) it(name, () => assert.equal(check(metadata, spec), expected));

  it('reads drop malformed metadata fields instead (objects stored before they were validated)', () => {
    const validation = new CustomResourceValidation(schema, 'example.com/v1');
    const stored = JSON.stringify({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', labels: { a: 1 }, annotations: { b: 'c' } } });
    const { resourceVersion: _stamped, ...metadata } = JSON.parse(validation.fromStorage(stored)).metadata;
    assert.deepEqual(metadata, { name: 'w', annotations: { b: 'c' } });
  });
});

describe('malformed schemas', () => {
  it('compile without crashing: keywords of the wrong JSON type are ignored', () => {
    const validation = new CustomResourceValidation({
      type: 'object',
      properties: { spec: { type: 'object', required: 'name', pattern: 5, enum: 'x', maximum: '10', properties: { a: 'not a schema' }, items: [{ type: 'string' }] } },
    } as unknown as JSONSchema);
    const object = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: {} } as KubeObject;
    validation.decode(object);
    assert.deepEqual(validation.validate(object), []);
  });
});

describe('custom resources with a scale subresource', () => {
  const validation = new CustomResourceValidation({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, 'example.com/v1', {
    specReplicasPath: '.spec.replicas',
    statusReplicasPath: '.status.replicas',
    labelSelectorPath: '.status.selector',
  });
  const check = (content: Record<string, unknown>) =>
    validation.validate({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, ...content } as KubeObject).map((error) => `${error.field}: ${fieldErrorMessage(error)}`);

  it('keep replicas within int32 and the selector a string, reported at the JSONPath', () => {
    assert.deepEqual(check({ spec: { replicas: -1 }, status: { replicas: 3000000000, selector: 5 } }), [
      '.spec.replicas: Invalid value: -1: should be a non-negative integer',
      '.status.replicas: Invalid value: 3000000000: should be less than or equal to 2147483647',
      '.status.selector: Invalid value: "": .status.selector accessor error: 5 is of the type int64, expected string',
    ]);
    assert.deepEqual(check({ spec: { replicas: 'two' } }), ['.spec.replicas: Invalid value: 0: .spec.replicas accessor error: two is of the type string, expected int64']);
    assert.deepEqual(check({ spec: 'x' }), ['.spec.replicas: Invalid value: 0: .spec.replicas accessor error: x is of the type string, expected map[string]interface{}']);
    assert.deepEqual(check({ spec: { replicas: 2 } }), []);
  });
});

describe('custom resource status writes', () => {
  const validation = new CustomResourceValidation({ type: 'object', properties: { spec: obj({ replicas: { type: 'integer', maximum: 1 } }), status: obj({ replicas: { type: 'integer', minimum: 0 } }) } });
  const base = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } };

  it('validate only status, with paths relative to it in the message', () => {
    const object = { ...base, spec: { replicas: 5 }, status: { replicas: -1 } } as KubeObject;
    const errors = validation.validateStatusUpdate(object, { ...base, spec: { replicas: 5 } } as KubeObject);
    assert.deepEqual(errors.map((error) => `${error.field}: ${fieldErrorMessage(error)}`), ['status.replicas: Invalid value: -1: replicas in body should be greater than or equal to 0']);
  });
});

describe('custom resource reads from storage', () => {
  const validation = new CustomResourceValidation({ type: 'object', properties: { spec: obj({ replicas: { type: 'integer', default: 1 }, image: str }) } });

  it('defaults and prunes stored objects written under an older schema', () => {
    const stored = JSON.stringify({ kind: 'Widget', apiVersion: 'example.com/v1', metadata: { resourceVersion: '', name: 'w' }, spec: { image: 'x', gone: true } });
    const read = JSON.parse(validation.fromStorage(stored)) as KubeObject;
    assert.deepEqual(read.spec, { image: 'x', replicas: 1 });
    assert.equal(read.metadata.resourceVersion, '', 'resourceVersion stays the first metadata key, to be stamped');
  });

  it('leaves objects stored in another version to the conversion', () => {
    const versioned = new CustomResourceValidation({ type: 'object', properties: { spec: obj({ replicas: { type: 'integer', default: 1 } }) } }, 'example.com/v2');
    const stored = JSON.stringify({ kind: 'Widget', apiVersion: 'example.com/v1', metadata: { resourceVersion: '', name: 'w' }, spec: { renamed: true } });
    assert.equal(versioned.fromStorage(stored), stored);
  });

  it('returns the very same bytes when nothing changes', () => {
    const stored = JSON.stringify({ kind: 'Widget', apiVersion: 'example.com/v1', metadata: { resourceVersion: '', name: 'w' }, spec: { image: 'x', replicas: 3 } });
    assert.equal(validation.fromStorage(stored), stored);
  });
});
