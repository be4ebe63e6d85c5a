import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FieldError } from '../../apiserver/request/status.js';
import { fieldErrorMessage } from '../../apiserver/request/status.js';
import type { JSONSchema } from '../../apiserver/schema/types.js';
import { compileSchemaRules } from './compile.js';
import { runRules } from './validate.js';

const ROOT = 'spec.versions[0].schema.openAPIV3Schema';

function render(errors: FieldError[]): string[] {
  return errors.map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
}

function compiled(schema: JSONSchema) {
  const result = compileSchemaRules(schema, ROOT);
  assert.deepEqual(render(result.errors), []);
  assert.ok(result.validator, 'a validator');
  return result.validator;
}

function spec(properties: Record<string, JSONSchema>, rules: JSONSchema['x-kubernetes-validations'], extra: Partial<JSONSchema> = {}): JSONSchema {
  return { type: 'object', properties: { spec: { type: 'object', properties, 'x-kubernetes-validations': rules, ...extra } } };
}

function validate(schema: JSONSchema, object: unknown, old?: unknown): string[] {
  return render(runRules(compiled(schema), object, old).errors);
}

describe('CEL rules on custom resources', () => {
  it('passes a true rule and reports a false one at the node, naming the schema type', () => {
    const schema = spec({ replicas: { type: 'integer' } }, [{ rule: 'self.replicas <= 10', message: 'must have replicas <= 10' }]);
    assert.deepEqual(validate(schema, { spec: { replicas: 3 } }), []);
    assert.deepEqual(validate(schema, { spec: { replicas: 11 } }), ['spec: Invalid value: "object": must have replicas <= 10']);
  });

  it('without a message reports "failed rule: <rule>"; a root rule is at <nil>', () => {
    const schema: JSONSchema = { type: 'object', 'x-kubernetes-validations': [{ rule: "self.metadata.name.startsWith('ok')" }], properties: {} };
    assert.deepEqual(validate(schema, { metadata: { name: 'ok-1' } }), []);
    assert.deepEqual(validate(schema, { metadata: { name: 'bad' } }), [`<nil>: Invalid value: "object": failed rule: self.metadata.name.startsWith('ok')`]);
  });

  it('uses messageExpression, falling back to message when it is empty', () => {
    const schema = spec({ replicas: { type: 'integer' } }, [
      // string(int) has no size estimate upstream, so `'…' + string(self.replicas)` would cost too much.
      { rule: 'self.replicas <= 10', messageExpression: "self.replicas > 20 ? 'replicas is far over 10' : 'replicas is over 10'" },
      { rule: 'self.replicas > 0', message: 'positive', messageExpression: "''" },
    ]);
    assert.deepEqual(validate(schema, { spec: { replicas: 11 } }), ['spec: Invalid value: "object": replicas is over 10']);
    assert.deepEqual(validate(schema, { spec: { replicas: 0 } }), ['spec: Invalid value: "object": positive']);
  });

  it('reason and fieldPath choose the error type and path', () => {
    const schema = spec({ a: { type: 'string' }, labels: { type: 'object', additionalProperties: { type: 'string' } } }, [
      { rule: 'has(self.a)', reason: 'FieldValueRequired', fieldPath: '.a', message: 'a is required' },
      { rule: "!('x' in self.labels)", reason: 'FieldValueForbidden', fieldPath: ".labels['x']", message: 'no x' },
      { rule: 'false', reason: 'FieldValueDuplicate' },
    ]);
    assert.deepEqual(validate(schema, { spec: { labels: { x: '1' } } }), ['spec.a: Required value: a is required', 'spec.labels[x]: Forbidden: no x', 'spec: Duplicate value: "object"']);
  });

  it('has() tells absent optional fields; integers and doubles follow the schema', () => {
    const schema = spec({ ratio: { type: 'number' }, count: { type: 'integer' }, name: { type: 'string' } }, [
      { rule: '!has(self.name) || self.name.size() > 1' },
      { rule: 'self.ratio < 1.0 && self.count + 1 == 3' },
    ]);
    assert.deepEqual(validate(schema, { spec: { ratio: 0.5, count: 2 } }), []);
    assert.deepEqual(validate(schema, { spec: { ratio: 1, count: 2, name: 'x' } }).length, 2);
  });

  it('int-or-string is dynamic; lists and maps of objects are typed', () => {
    const schema = spec(
      {
        port: { 'x-kubernetes-int-or-string': true },
        items: { type: 'array', maxItems: 100, items: { type: 'object', properties: { name: { type: 'string', maxLength: 64 }, size: { type: 'integer' } } } },
        byName: { type: 'object', additionalProperties: { type: 'object', properties: { size: { type: 'integer' } } } },
      },
      [
        { rule: "type(self.port) == int ? self.port > 0 : self.port.endsWith('%')", message: 'port' },
        { rule: 'self.items.all(i, i.size < 10) && self.byName.all(k, self.byName[k].size < 10)', message: 'sizes' },
        { rule: 'self.items.map(i, i.size).isSorted()', message: 'sorted' },
      ],
    );
    assert.deepEqual(validate(schema, { spec: { port: 80, items: [{ name: 'a', size: 1 }, { name: 'b', size: 2 }], byName: { a: { size: 3 } } } }), []);
    assert.deepEqual(validate(schema, { spec: { port: '50%', items: [{ name: 'b', size: 12 }, { name: 'a', size: 1 }], byName: {} } }), [
      'spec: Invalid value: "object": sizes',
      'spec: Invalid value: "object": sorted',
    ]);
  });

  it('escaped property names and embedded resources', () => {
    const schema = spec(
      { namespace: { type: 'string' }, 'my-field': { type: 'string' }, template: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true } },
      [{ rule: "self.__namespace__ == 'a' && self.my__dash__field == 'b' && self.template.kind == 'Pod' && self.template.metadata.name == 'p'", message: 'names' }],
    );
    assert.deepEqual(validate(schema, { spec: { namespace: 'a', 'my-field': 'b', template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } } } }), []);
    assert.deepEqual(validate(schema, { spec: { namespace: 'a', 'my-field': 'c', template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } } } }), ['spec: Invalid value: "object": names']);
  });

  it('a runtime error names the rule (absent field without has())', () => {
    const schema = spec({ name: { type: 'string' } }, [{ rule: "self.name == 'x'" }]);
    assert.deepEqual(validate(schema, { spec: {} }), [`spec: Invalid value: "object": no such key: name evaluating rule: self.name == 'x'`]);
  });

  it('rules on list items and map values report each element path', () => {
    const schema = spec(
      {
        ports: { type: 'array', items: { type: 'integer', 'x-kubernetes-validations': [{ rule: 'self < 65536', message: 'port too large' }] } },
        limits: { type: 'object', maxProperties: 16, additionalProperties: { type: 'string', maxLength: 64, 'x-kubernetes-validations': [{ rule: 'isQuantity(self)', message: 'not a quantity' }] } },
      },
      [],
    );
    assert.deepEqual(validate(schema, { spec: { ports: [80, 70000], limits: { cpu: '100m', memory: 'lots' } } }), [
      'spec.ports[1]: Invalid value: "integer": port too large',
      'spec.limits[memory]: Invalid value: "string": not a quantity',
    ]);
  });

  it('Kubernetes libraries: strings, regex, lists, quantity, url, ip', () => {
    const schema = spec({ s: { type: 'string' }, l: { type: 'array', items: { type: 'integer' } } }, [
      { rule: "self.s.lowerAscii().replace('-', '_') == 'a_b' && self.s.find('[0-9]+') == '' && self.s.split('-').size() == 2", message: 'strings' },
      { rule: 'self.l.sum() == 6 && self.l.min() == 1 && self.l.max() == 3 && self.l.indexOf(2) == 1 && self.l.isSorted()', message: 'lists' },
      { rule: "quantity('1Gi').isGreaterThan(quantity('1000Mi')) && quantity('1.5').asApproximateFloat() == 1.5 && !isQuantity('x')", message: 'quantity' },
      { rule: "url('https://example.com:8443/p?q=1').getHostname() == 'example.com' && url('https://example.com:8443/p').getPort() == '8443'", message: 'url' },
      { rule: "cidr('10.0.0.0/8').containsIP(ip('10.1.2.3')) && !isIP('10.0.0.01') && ip('::1').isLoopback()", message: 'ip' },
    ]);
    assert.deepEqual(validate(schema, { spec: { s: 'A-B', l: [1, 2, 3] } }), []);
  });

  it('date-time and duration formats are timestamps and durations', () => {
    const schema = spec({ at: { type: 'string', format: 'date-time' }, every: { type: 'string', format: 'duration' } }, [
      { rule: "self.at > timestamp('2020-01-01T00:00:00Z') && self.every < duration('1h')", message: 'time' },
    ]);
    assert.deepEqual(validate(schema, { spec: { at: '2024-05-01T10:00:00Z', every: '30m' } }), []);
    assert.deepEqual(validate(schema, { spec: { at: '2019-05-01T10:00:00Z', every: '30m' } }), ['spec: Invalid value: "object": time']);
  });
});

describe('transition rules and ratcheting', () => {
  const immutable = spec({ mode: { type: 'string' } }, [{ rule: 'self.mode == oldSelf.mode', message: 'mode is immutable' }]);

  it('a rule with oldSelf runs only on update', () => {
    assert.deepEqual(validate(immutable, { spec: { mode: 'a' } }), []);
    assert.deepEqual(validate(immutable, { spec: { mode: 'b' } }, { spec: { mode: 'a' } }), ['spec: Invalid value: "object": mode is immutable']);
    assert.deepEqual(validate(immutable, { spec: { mode: 'a' } }, { spec: { mode: 'a' } }), []);
  });

  it('optionalOldSelf makes oldSelf an optional that is none on create', () => {
    const schema = spec({ mode: { type: 'string' } }, [{ rule: "!oldSelf.hasValue() ? self.mode == 'new' : true", optionalOldSelf: true, message: 'starts new' }]);
    assert.deepEqual(validate(schema, { spec: { mode: 'old' } }), ['spec: Invalid value: "object": starts new']);
    assert.deepEqual(validate(schema, { spec: { mode: 'old' } }, { spec: { mode: 'x' } }), []);
  });

  it('list-type=map items correlate with old items by key', () => {
    const schema = spec(
      {
        entries: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          maxItems: 16,
          items: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 16 }, value: { type: 'string', maxLength: 16 } }, 'x-kubernetes-validations': [{ rule: 'self.value == oldSelf.value', message: 'value is immutable' }] },
        },
      },
      [],
    );
    const old = { spec: { entries: [{ name: 'a', value: '1' }, { name: 'b', value: '2' }] } };
    // Reordered and a new entry: nothing changed for a or b.
    assert.deepEqual(validate(schema, { spec: { entries: [{ name: 'b', value: '2' }, { name: 'c', value: '9' }, { name: 'a', value: '1' }] } }, old), []);
    assert.deepEqual(validate(schema, { spec: { entries: [{ name: 'b', value: '3' }, { name: 'a', value: '1' }] } }, old), ['spec.entries[0]: Invalid value: "object": value is immutable']);
  });

  it('oldSelf inside an atomic list is rejected when the CRD is written', () => {
    const schema = spec({ list: { type: 'array', maxItems: 8, items: { type: 'string', maxLength: 8, 'x-kubernetes-validations': [{ rule: 'self == oldSelf' }] } } }, []);
    assert.deepEqual(render(compileSchemaRules(schema, ROOT).errors), [
      `${ROOT}.properties[spec].properties[list].items.x-kubernetes-validations[0].rule: Invalid value: "self == oldSelf": oldSelf cannot be used on the uncorrelatable portion of the schema within ${ROOT}.properties[spec].properties[list]`,
    ]);
  });

  it('an unchanged invalid value only warns on update (ratcheting); a changed one fails', () => {
    const schema = spec({ name: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self.size() < 4', message: 'too long' }] }, other: { type: 'string' } }, []);
    const old = { spec: { name: 'toolong', other: 'a' } };
    const unchanged = runRules(compiled(schema), { spec: { name: 'toolong', other: 'b' } }, old);
    assert.deepEqual(render(unchanged.errors), []);
    assert.deepEqual(unchanged.warnings, ['spec.name: Invalid value: "string": too long']);
    assert.deepEqual(validate(schema, { spec: { name: 'longer', other: 'a' } }, old), ['spec.name: Invalid value: "string": too long']);
  });
});

describe('compiling rules when the CRD is written', () => {
  it('a syntax error is reported at the rule with the whole rule quoted', () => {
    const errors = render(compileSchemaRules(spec({}, [{ rule: 'self.x >' }]), ROOT).errors);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /^spec\.versions\[0\]\.schema\.openAPIV3Schema\.properties\[spec\]\.x-kubernetes-validations\[0\]\.rule: Invalid value: apiextensions\.ValidationRule\{Rule:"self\.x >", .*\}: compilation failed: ERROR: <input>:1:\d+: Syntax error: /);
    // upstream's e2e (crd_validation_rules.go) looks for "Syntax error" in the CRD's rejection
    const lexing = render(compileSchemaRules(spec({}, [{ rule: 'self = 42' }]), ROOT).errors);
    assert.match(lexing[0], /compilation failed: ERROR: <input>:1:6: Syntax error: token recognition error at: '='/);
  });

  it('an undeclared field and a non-bool rule are rejected', () => {
    const errors = render(compileSchemaRules(spec({ a: { type: 'integer' } }, [{ rule: 'self.b == 1' }, { rule: 'self.a' }, { rule: 'self.a > 0', messageExpression: 'self.a' }]), ROOT).errors);
    assert.match(errors[0], /x-kubernetes-validations\[0\]\.rule: .*compilation failed: ERROR: <input>:1:5: undefined field 'b'\n \| self\.b == 1\n \| \.\.\.\.\^$/);
    assert.match(errors[1], /x-kubernetes-validations\[1\]\.rule: .*: cel expression must evaluate to a bool$/);
    assert.match(errors[2], /x-kubernetes-validations\[2\]\.messageExpression: .*: messageExpression must evaluate to a string$/);
  });

  it('checks message, reason and fieldPath', () => {
    const errors = render(
      compileSchemaRules(
        spec({ a: { type: 'string' } }, [
          { rule: '', message: 'x' },
          { rule: 'true', message: 'two\nlines' },
          { rule: 'true', reason: 'Bogus' as never },
          { rule: 'true', fieldPath: '.nope' },
          { rule: 'true', optionalOldSelf: true },
        ]),
        ROOT,
      ).errors,
    );
    const at = `${ROOT}.properties[spec].x-kubernetes-validations`;
    assert.deepEqual(errors, [
      `${at}[0].rule: Required value: rule is not specified`,
      `${at}[1].message: Invalid value: "two\\nlines": message must not contain line breaks`,
      `${at}[2].reason: Unsupported value: "Bogus": supported values: "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"`,
      `${at}[3].fieldPath: Invalid value: ".nope": fieldPath must be a valid path`,
    ]);
    const optional = render(compileSchemaRules(spec({ a: { type: 'string' } }, [{ rule: 'true', optionalOldSelf: true }]), ROOT).errors);
    assert.deepEqual(optional, [`${at}[0].optionalOldSelf: Invalid value: true: may not be set if oldSelf is not used in rule`]);
  });

  it('rejects a rule whose estimated cost exceeds the budget, and accepts it once sizes are bounded', () => {
    const list = (bounded: boolean): JSONSchema => ({ type: 'array', ...(bounded ? { maxItems: 10 } : {}), items: { type: 'string', ...(bounded ? { maxLength: 64 } : {}) } });
    const rule = [{ rule: 'self.names.all(a, self.names.exists(b, a != b && a.contains(b)))' }];
    const errors = render(compileSchemaRules(spec({ names: list(false) }, rule), ROOT).errors);
    assert.deepEqual(errors, [
      `${ROOT}.properties[spec].x-kubernetes-validations[0].rule: Forbidden: estimated rule cost exceeds budget by factor of more than 100x (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)`,
      `${ROOT}.properties[spec].x-kubernetes-validations[0].rule: Forbidden: contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema`,
      `${ROOT}: Forbidden: x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema exceeds budget by factor of more than 100x (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)`,
    ]);
    assert.deepEqual(render(compileSchemaRules(spec({ names: list(true) }, rule), ROOT).errors), []);
  });
});

describe('compile issues in cel-go words (checker, literal validators, program instantiation)', () => {
  const detail = (rule: string) => {
    const errors = compileSchemaRules(spec({ s: { type: 'string' } }, [{ rule }]), ROOT).errors;
    return errors.map((error) => error.detail ?? '').join('\n');
  };
  const cases: [string, string][] = [
    ["self.s == 1", "compilation failed: ERROR: <input>:1:8: found no matching overload for '_==_' applied to '(string, int)'\n | self.s == 1\n | .......^"],
    ["size(1) == 1", "compilation failed: ERROR: <input>:1:5: found no matching overload for 'size' applied to '(int)'\n | size(1) == 1\n | ....^"],
    ["['a', 'b'].sum() == 'c'", "compilation failed: ERROR: <input>:1:15: found no matching overload for 'sum' applied to 'list(string).()'\n | ['a', 'b'].sum() == 'c'\n | ..............^"],
    ["optional.of(1) + 1 == 2", "compilation failed: ERROR: <input>:1:16: found no matching overload for '_+_' applied to '(optional_type(int), int)'\n | optional.of(1) + 1 == 2\n | ...............^"],
    ["self.s.matches('x++')", "compilation failed: ERROR: <input>:1:16: invalid matches argument\n | self.s.matches('x++')\n | ...............^"],
    ["self.s.find(')') == ''", 'program instantiation failed: error parsing regexp: unexpected ): `)`'],
    ["duration('1d') < duration('1h')", "compilation failed: ERROR: <input>:1:10: invalid duration argument\n | duration('1d') < duration('1h')\n | .........^"],
    ["timestamp('1000-00-00T00:00:00Z') < timestamp(0)", "compilation failed: ERROR: <input>:1:11: invalid timestamp argument\n | timestamp('1000-00-00T00:00:00Z') < timestamp(0)\n | ..........^"],
    ["timestamp(-62135596801) < timestamp(0)", "compilation failed: ERROR: <input>:1:11: invalid timestamp argument\n | timestamp(-62135596801) < timestamp(0)\n | ..........^"],
    ["[1, 'a', false].size() == 3", "compilation failed: ERROR: <input>:1:5: expected type 'int' but found 'string'\n | [1, 'a', false].size() == 3\n | ....^"],
    ["'%s %d'.format(['a', 1]) == 'a 1'", ''],
    ["[1, 2].all(i, v, v > i) && {'a': 1}.transformMap(k, v, v + 1) == {'a': 2}", ''],
  ];
  for (const [rule, expected] of cases) it(rule, () => assert.equal(detail(rule), expected));

  it('matches() is Go\'s RE2: (?i) and other RE2 syntax work, a bad pattern from the object is Go\'s error', () => {
    const schema = spec({ s: { type: 'string', maxLength: 16 }, p: { type: 'string', maxLength: 16 } }, [{ rule: "self.s.matches('(?i)^ab+$')", message: 'ab' }, { rule: "!has(self.p) || 'x'.matches(self.p)" }]);
    assert.deepEqual(validate(schema, { spec: { s: 'ABBB' } }), []);
    assert.deepEqual(validate(schema, { spec: { s: 'AC' } }), ['spec: Invalid value: "object": ab']);
    assert.deepEqual(validate(schema, { spec: { s: 'ab', p: '[' } }), ["spec: Invalid value: \"object\": error parsing regexp: missing closing ]: `[` evaluating rule: !has(self.p) || 'x'.matches(self.p)"]);
  });

  it('runtime errors read as cel-go reports them', () => {
    const schema = spec({ d: { type: 'string' }, n: { type: 'integer' } }, [{ rule: 'duration(self.d) > duration("1s")' }, { rule: 'self.n + 1 > 0' }]);
    assert.deepEqual(validate(schema, { spec: { d: '1d', n: 9223372036854775807n as unknown as number } }).slice(0, 1), [
      `spec: Invalid value: "object": time: unknown unit "d" in duration "1d" evaluating rule: duration(self.d) > duration("1s")`,
    ]);
  });
});

describe('runtime cost budget', () => {
  it('stops a rule that runs out of its per-call budget', () => {
    // Accepted when the CRD is written (estimated below the 10M static limit) but 1000×1000 steps at
    // runtime are more than the 1M per-call limit.
    const schema = spec({ numbers: { type: 'array', maxItems: 1000, items: { type: 'integer' } } }, [{ rule: 'self.numbers.all(x, self.numbers.all(y, x >= 0))', message: 'never' }]);
    const validator = compileSchemaRules(schema, ROOT).validator;
    assert.ok(validator);
    const errors = render(runRules(validator, { spec: { numbers: Array.from({ length: 1000 }, (_, index) => index) } }).errors);
    assert.deepEqual(errors, [
      `spec: Invalid value: "object": 'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: never`,
    ]);
  });

  it('stops every rule once the object has used up its budget', () => {
    // Each rule stays under the per-call limit and, estimated for all 13 rows, under the per-rule limit (the
    // two together under the CRD's), but running both on every row exceeds the 10M per-object budget.
    const rules = [{ rule: 'self.all(x, self.all(y, x >= 0))' }, { rule: 'self.all(x, self.all(y, y >= 0))' }];
    const items: JSONSchema = { type: 'array', maxItems: 300, items: { type: 'integer' }, 'x-kubernetes-validations': rules };
    const compiled = compileSchemaRules(spec({ rows: { type: 'array', maxItems: 13, items } }, []), ROOT);
    assert.deepEqual(render(compiled.errors), []);
    const row = Array.from({ length: 300 }, (_, index) => index);
    const errors = render(runRules(compiled.validator!, { spec: { rows: Array.from({ length: 13 }, () => row) } }).errors);
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0], /^spec\.rows\[\d+\]: Invalid value: "array": validation failed due to running out of cost budget, no further validation rules will be run$/);
  });

  it('a pathological regex does not hang', () => {
    const schema = spec({ s: { type: 'string', maxLength: 64 } }, [{ rule: "self.s.matches('^(a+)+$')", message: 'no' }]);
    assert.deepEqual(validate(schema, { spec: { s: 'a'.repeat(60) + '!' } }), ['spec: Invalid value: "object": no']);
  });
});
