// The static cost of rules, against upstream's TestCostEstimation table (apiextensions schema/cel
// compilation_test.go): each rule on a generated schema, once unbounded (sizes estimated from the 3 MiB
// request limit) and once with maxItems/maxProperties/maxLength set, must cost exactly what cel-go's
// estimator with Kubernetes' size and library estimators computes.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JSONSchema } from '../../apiserver/schema/types.js';
import { estimateStaticCost } from './cost-estimate.js';
import { kubernetesEnvironment } from './library.js';
import { celTypeName, DeclBuilder, objectFields } from './types.js';

type Generator = (max?: number) => JSONSchema;

const ruleType = (type: string): JSONSchema =>
  type === 'duration' || type === 'date' || type === 'date-time' ? { type: 'string', format: type } : type === 'int-or-string' ? { 'x-kubernetes-int-or-string': true } : { type: type as JSONSchema['type'] };
const bound = (key: 'maxItems' | 'maxProperties' | 'maxLength', max?: number) => (max === undefined ? {} : { [key]: max });
const array = (type: string): Generator => (max) => ({ type: 'array', items: ruleType(type), ...bound('maxItems', max) });
const arrayOfArrays = (type: string): Generator => (max) => ({ type: 'array', items: { type: 'array', items: { type: type as JSONSchema['type'] } }, ...bound('maxItems', max) });
const objectArray: Generator = (max) => ({ type: 'array', items: { type: 'object', properties: { required: { type: 'string' }, optional: { type: 'string' } }, required: ['required'] }, ...bound('maxItems', max) });
const mapArray = (type: string): Generator => (max) => ({ type: 'array', items: { type: 'object', additionalProperties: { type: type as JSONSchema['type'] } }, ...bound('maxItems', max) });
const map = (type: string): Generator => (max) => ({ type: 'object', additionalProperties: ruleType(type), ...bound('maxProperties', max) });
const string: Generator = (max) => ({ type: 'string', ...bound('maxLength', max) });
const bytes: Generator = (max) => ({ type: 'string', format: 'byte', ...bound('maxLength', max) });
const nestedSpec: Generator = (max) => ({ type: 'object', additionalProperties: { type: 'string', ...bound('maxLength', max) }, ...bound('maxProperties', max) });
const enumOf = (...values: string[]): Generator => (max) => ({ type: 'string', enum: values, ...bound('maxLength', max) });

// [schema, rule, unbounded cost, the bound, bounded cost]
const cases: [Generator, string, number, number, number][] = [
  [array('number'), 'self.all(x, true)', 4718591, 10, 32],
  [array('string'), 'self.all(x, true)', 3145727, 20, 62],
  [array('boolean'), 'self.all(x, true)', 1887437, 5, 17],
  [arrayOfArrays('number'), 'self.all(x, true)', 3145727, 100, 302],
  [objectArray, 'self.all(x, true)', 555128, 50, 152],
  [map('number'), 'self.all(x, true)', 1348169, 10, 32],
  [map('string'), 'self.all(x, true)', 1179647, 3, 11],
  [map('boolean'), 'self.all(x, true)', 943718, 100, 302],
  [string, "self.contains('test')", 314574, 10, 5],
  [string, "self.startsWith('test')", 2, 15, 2],
  [string, "self.endsWith('test')", 2, 30, 2],
  [string, 'size(self + "hello") > size("hello")', 314578, 4, 7],
  [array('number'), 'self[1] == 0.0', 2, 5000, 2],
  [array('string'), 'self[1] == self[1]', 314577, 8, 314577],
  [string, 'self.matches("x")', 314574, 50, 22],
  [string, '"".matches("(((((((((())))))))))[0-9]")', 7, 10, 7],
  [string, 'self.matches("")', 1, 100, 1],
  [nestedSpec, 'self.all(x, x.contains(self[x]))', 2752507, 10, 72],
  [array('number'), 'self[3] == 0.0', 2, 0, 2],
  [map('number'), 'self["x"] == 0.0', 2, 0, 2],
  [string, 'self == "x"', 2, 0, 1],
  [bytes, 'self == b"x"', 2, 0, 1],
  [array('number'), 'self.all(x, x == 0.0)', 6291454, 3 * 1024 * 2048, 25165826],
  [array('int-or-string'), 'self.all(x, true)', 4718591, 10, 32],
  [array('int-or-string'), 'self[0] == 5', 3, 10, 3],
  [array('boolean'), 'self[0] == false', 2, 25, 2],
  [arrayOfArrays('number'), 'self[0][0] == -1.0', 3, 51, 3],
  [mapArray('number'), 'self.all(x, x.y == 25.2)', 6291452, 12, 74],
  [mapArray('number'), 'self[0].x > 2.0', 4, 3000, 4],
  [array('duration'), 'self.all(x, true)', 2359295, 5, 17],
  [array('duration'), 'self[0].getHours() == 2', 4, 525, 4],
  [array('date'), 'self.all(x, true)', 725936, 15, 47],
  [array('date-time'), 'self.all(x, true)', 428963, 25, 77],
  [map('int-or-string'), 'self.all(x, true)', 1348169, 15, 47],
  [map('duration'), 'self.all(x, true)', 1048577, 5, 17],
  [map('date'), 'self.all(x, true)', 524288, 10, 32],
  [map('date-time'), 'self.all(x, true)', 349526, 25, 77],
  [string, "self.find('[0-9]+') == ''", 629147, 10, 11],
  [map('integer'), 'oldSelf.size() == self.size()', 5, 10, 5],
  [map('date-time'), 'self["a"] == self["b"]', 8, 7, 8],
  [map('duration'), 'self["c"] == self["d"]', 8, 42, 8],
  [enumOf('A', 'B', 'C', 'LongValue'), "self.contains('A')", 2, 1000, 401],
  [array('number'), 'self.all(x, self.all(y, true))', NaN, 10, 352],
  [array('number'), 'self.all(x, self.all(y, self.all(z, true)))', NaN, 10, 3552],
];

let counter = 0;
function cost(schema: JSONSchema, rule: string): number {
  const builder = new DeclBuilder(`costTest${counter++}_`);
  const decl = builder.declFor(schema, false)!;
  const env = kubernetesEnvironment({ homogeneousAggregateLiterals: false });
  for (const object of builder.objects) env.registerType(object.typeName, { ctor: object.ctor, fields: objectFields(object) });
  env.registerVariable('self', celTypeName(decl));
  env.registerVariable('oldSelf', celTypeName(decl));
  const program = env.parse(rule) as unknown as { ast: { op: string; args: unknown }; check(): { valid: boolean } };
  assert.ok(program.check().valid, rule);
  return estimateStaticCost(program.ast, decl);
}

describe('estimated rule cost (upstream TestCostEstimation)', () => {
  for (const [generator, rule, unbounded, max, bounded] of cases) {
    const schema = generator(undefined);
    it(`${JSON.stringify(schema).slice(0, 60)} ${rule}`, () => {
      if (!Number.isNaN(unbounded)) assert.equal(cost(schema, rule), unbounded, 'unbounded');
      assert.equal(cost(generator(max), rule), bounded, `bounded by ${max}`);
    });
  }
});
