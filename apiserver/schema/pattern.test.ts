import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileGoRegexp, goRegexpError, invalidPatterns } from './pattern.js';

describe('Go (RE2) patterns', () => {
  it('rejects what Go rejects, with Go\'s messages', () => {
    assert.equal(goRegexpError('(abc'), 'error parsing regexp: missing closing ): `(abc`');
    assert.equal(goRegexpError('abc)'), 'error parsing regexp: unexpected ): `abc)`');
    assert.equal(goRegexpError('a**'), 'error parsing regexp: invalid nested repetition operator: `**`');
    assert.equal(goRegexpError('*a'), 'error parsing regexp: missing argument to repetition operator: `*`');
    assert.equal(goRegexpError('(?=x)'), 'error parsing regexp: invalid or unsupported Perl syntax: `(?=`');
    assert.equal(goRegexpError('(?P<>x)'), 'error parsing regexp: invalid named capture: `(?P<>`');
    assert.equal(goRegexpError('(?P=name)'), 'error parsing regexp: invalid or unsupported Perl syntax: `(?P`');
    assert.equal(goRegexpError('(a)\\1'), 'error parsing regexp: invalid escape sequence: `\\1`');
    assert.equal(goRegexpError('a{1001}'), 'error parsing regexp: invalid repeat count: `{1001}`');
    assert.equal(goRegexpError('[z-a]'), 'error parsing regexp: invalid character class range: `z-a`');
    assert.equal(goRegexpError('[abc'), 'error parsing regexp: missing closing ]: `[abc`');
    assert.equal(goRegexpError('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'), undefined);
  });

  const matches: [string, string, boolean][] = [
    ['^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', 'my-name', true],
    ['^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', '-bad', false],
    ['[0-9]', 'abc1', true],
    ['^a$', 'a\n', false],
    ['(?m)^b$', 'a\nb\nc', true],
    ['(?i)^hello$', 'HeLLo', true],
    ['(?s)a.b', 'a\nb', true],
    ['a.b', 'a\nb', false],
    ['\\bcat\\b', 'a cat sat', true],
    ['\\bcat\\b', 'concatenate', false],
    ['^\\Q1+1\\E$', '1+1', true],
    ['^\\x{41}\\x42$', 'AB', true],
    ['^[[:alpha:]]+[[:^digit:]]$', 'abc!', true],
    ['^\\p{Greek}+$', 'αβγ', true],
    ['^\\pL\\PL$', 'a1', true],
    ['^(?P<word>\\w+)-(?:x|y){2,3}$', 'ab-xyx', true],
    ['^(?P<word>\\w+)-(?:x|y){2,3}$', 'ab-x', false],
    ['^a{2}$', 'aa', true],
    ['^a{,2}$', 'a{,2}', true],
    ['^$', '', true],
    ['^[^a-c]+$', 'xyz', true],
    ['^[\\d\\-]+$', '12-3', true],
    ['^😀+$', '😀😀', true],
    ['^.$', '😀', true],
  ];
  for (const [pattern, text, expected] of matches) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(text)}`, () => {
      assert.equal(compileGoRegexp(pattern).test(text), expected);
    });
  }

  it('agrees with JavaScript on patterns both read the same way, however often a compiled pattern is reused', () => {
    const patterns = ['^(ab|a)(b|c)*d?$', '(bc|cb)+', '^a*b{2,3}$', 'c$', '^$|^d', '(?:a|b)(?:c|d)'];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (const pattern of patterns) {
      const ours = compileGoRegexp(pattern);
      const theirs = new RegExp(pattern.replace('(?:', '(?:'));
      for (let run = 0; run < 400; run++) {
        const text = Array.from({ length: Math.floor(random() * 9) }, () => 'abcd'[Math.floor(random() * 4)]).join('');
        assert.equal(ours.test(text), theirs.test(text), `${pattern} on ${JSON.stringify(text)}`);
      }
    }
  });

  it('matches in linear time where a backtracking engine would not finish', () => {
    const input = `${'a'.repeat(20_000)}!`;
    assert.equal(compileGoRegexp('^(a+)+$').test(input), false);
    assert.equal(compileGoRegexp('(a*)*b').test(input), false);
    assert.equal(compileGoRegexp('^(a|aa)+$').test('a'.repeat(20_000)), true);
  });

  it('lists the patterns of a CRD schema that Go cannot compile, at upstream\'s paths', () => {
    const schema = { type: 'object', properties: { spec: { type: 'object', properties: { name: { type: 'string', pattern: '(a' }, ok: { type: 'string', pattern: '^a$' } }, anyOf: [{ properties: { name: { pattern: '(?<=x)' } } }] } } };
    assert.deepEqual(invalidPatterns(schema, 'spec.versions[0].schema.openAPIV3Schema'), [
      { field: 'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[name].pattern', type: 'FieldValueInvalid', value: '(a', detail: "must be a valid regular expression, but isn't: error parsing regexp: missing closing ): `(a`" },
      { field: 'spec.versions[0].schema.openAPIV3Schema.properties[spec].anyOf[0].properties[name].pattern', type: 'FieldValueInvalid', value: '(?<=x)', detail: "must be a valid regular expression, but isn't: error parsing regexp: invalid named capture: `(?<=x)`" },
    ]);
  });

  it('refuses programs too large to run cheaply', () => {
    assert.match(goRegexpError('((a{1000}){1000}){1000}') ?? '', /expression too large|invalid repeat count/);
  });
});
