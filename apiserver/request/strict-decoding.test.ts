import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { jsonDuplicateFields, parseYamlLeniently, patchBodyProblems, withDecodeProblems, yamlDuplicateKeysReport } from './strict-decoding.js';

const report = (text: string) => jsonDuplicateFields(text, JSON.parse(text));

describe('strict decoding: repeated keys', () => {
  it('finds nothing in a body without repeated keys, even with key-like text in its strings', () => {
    assert.equal(report('{"a":1,"b":{"c":"x\\":y","d":[{"e":1}]}}'), undefined);
    assert.equal(report('{"metadata":{"annotations":{"last":"{\\"a\\":1,\\"a\\":2}"}}}'), undefined);
  });

  it('names each repeated key by its path, arrays by index, in document order', () => {
    const found = report('{"spec":{"unknownField":"foo","replicas":2,"replicas":3,"template":{"spec":{"containers":[{"name":"a"},{"name":"b","name":"c"}]}}}}');
    assert.deepEqual(
      found?.problems.map((problem) => problem.message),
      ['duplicate field "spec.replicas"', 'duplicate field "spec.template.spec.containers[1].name"'],
    );
    assert.ok(found!.offsetOf('spec.unknownField')! < found!.problems[0].offset);
  });

  it('decodes escaped keys and reports a key repeated at the top level without a prefix', () => {
    const found = report('{ "k\\u0069nd" : "A", "kind": "B" }');
    assert.deepEqual(found?.problems.map((problem) => problem.message), ['duplicate field "kind"']);
  });

  it('orders built-in problems by position, a key both unknown and repeated only as unknown, and a custom resource\'s repeated keys first', () => {
    const found = report('{"spec":{"unknownField":"foo","replicas":2,"replicas":3,"zzz":1,"zzz":2}}')!;
    const unknown = ['spec.unknownField', 'spec.zzz'];
    const messages = unknown.map((field) => `unknown field "${field}"`);
    assert.deepEqual(withDecodeProblems(found, unknown, messages, false).errors, ['unknown field "spec.unknownField"', 'duplicate field "spec.replicas"', 'unknown field "spec.zzz"']);
    assert.deepEqual(withDecodeProblems(found, unknown, messages, true).errors, ['duplicate field "spec.replicas"', 'duplicate field "spec.zzz"', 'unknown field "spec.unknownField"', 'unknown field "spec.zzz"']);
  });

  it('reports YAML repeated keys as one error and one warning per key, built-in unknown fields in sorted-key order', () => {
    const yaml = yamlDuplicateKeysReport(['line 5: key "name" already set in map', 'line 12: key "paused" already set in map']);
    const unknown = ['spec.unknown1', 'spec.template.spec.containers[0].unknownNested'];
    const result = withDecodeProblems(yaml, unknown, unknown.map((field) => `unknown field "${field}"`), false);
    assert.deepEqual(result.errors, [
      'yaml: unmarshal errors:\n  line 5: key "name" already set in map\n  line 12: key "paused" already set in map',
      'unknown field "spec.template.spec.containers[0].unknownNested"',
      'unknown field "spec.unknown1"',
    ]);
    assert.deepEqual(result.warnings.slice(0, 2), ['line 5: key "name" already set in map', 'line 12: key "paused" already set in map']);
  });

  it('parses YAML with repeated keys leniently (the last wins) and lists them by line', () => {
    const { document, duplicateKeys } = parseYamlLeniently('a: 1\nb:\n  c: 1\n  c: 2\na: 3\n');
    assert.deepEqual(document, { a: 3, b: { c: 2 } });
    assert.deepEqual(duplicateKeys, ['line 4: key "c" already set in map', 'line 5: key "a" already set in map']);
  });

  it('checks a merge patch for every repeated key and a JSON patch for its operations\' own fields only', () => {
    const merge = '{"spec":{"unknownDupe":1,"unknownDupe":2,"paused":true,"paused":false}}';
    const mergeReport = patchBodyProblems('merge', merge, JSON.parse(merge))!;
    const unknown = ['spec.unknownDupe'];
    assert.deepEqual(withDecodeProblems(mergeReport, unknown, ['unknown field "spec.unknownDupe"'], false).errors, ['duplicate field "spec.unknownDupe"', 'duplicate field "spec.paused"', 'unknown field "spec.unknownDupe"']);
    const json = '[{"op":"add","path":"/spec/a","value":"v","foo":"bar"},{"op":"add","path":"/spec/b","path":"/spec/c","value":{"x":1,"x":2}}]';
    assert.deepEqual(patchBodyProblems('json', json, JSON.parse(json))!.problems.map((problem) => problem.message), ['json patch unknown field "[0].foo"', 'json patch duplicate field "[1].path"']);
    assert.equal(patchBodyProblems('json', '[{"op":"remove","path":"/a"}]', [{ op: 'remove', path: '/a' }]), undefined);
  });
});
