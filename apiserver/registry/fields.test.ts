import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { escapeFieldValue, exactMatchValue, parseFieldSelector } from './fields.js';
import { StatusError } from '../request/status.js';

function assertBadRequest(action: () => unknown, message: RegExp | string): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof StatusError, `expected a StatusError, got ${String(error)}`);
    assert.equal(error.code, 400);
    assert.equal(error.reason, 'BadRequest');
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

const pod = { 'metadata.name': 'web-1', 'metadata.namespace': 'default', 'status.phase': 'Running' };

describe('parseFieldSelector', () => {
  it('an empty selector is empty and matches everything', () => {
    for (const text of ['', ' ', ',,']) {
      const selector = parseFieldSelector(text);
      assert.equal(selector.empty, true);
      assert.deepEqual(selector.requirements, []);
      assert.equal(selector.matches(pod), true);
      assert.equal(selector.toString(), '');
    }
  });

  it('a=b and a==b require equality, a!=b inequality', () => {
    assert.equal(parseFieldSelector('status.phase=Running').matches(pod), true);
    assert.equal(parseFieldSelector('status.phase==Running').matches(pod), true);
    assert.equal(parseFieldSelector('status.phase=Pending').matches(pod), false);
    assert.equal(parseFieldSelector('status.phase!=Running').matches(pod), false);
    assert.equal(parseFieldSelector('status.phase!=Pending').matches(pod), true);
    assert.deepEqual(parseFieldSelector('a==b').requirements, [{ field: 'a', operator: '=', value: 'b' }]);
  });

  it('a missing field counts as the empty string', () => {
    assert.equal(parseFieldSelector('spec.nodeName=').matches(pod), true);
    assert.equal(parseFieldSelector('spec.nodeName!=').matches(pod), false);
    assert.equal(parseFieldSelector('spec.nodeName!=node-1').matches(pod), true);
  });

  it('commas AND the terms and requirements keep their written order', () => {
    const selector = parseFieldSelector('metadata.name=web-1,status.phase!=Pending');
    assert.equal(selector.matches(pod), true);
    assert.equal(selector.matches({ ...pod, 'metadata.name': 'web-2' }), false);
    assert.deepEqual(selector.requirements, [
      { field: 'metadata.name', operator: '=', value: 'web-1' },
      { field: 'status.phase', operator: '!=', value: 'Pending' },
    ]);
  });

  it('ignores whitespace around fields, operators and values', () => {
    assert.deepEqual(parseFieldSelector(' status.phase = Running , metadata.name != x ').requirements, [
      { field: 'status.phase', operator: '=', value: 'Running' },
      { field: 'metadata.name', operator: '!=', value: 'x' },
    ]);
  });

  it('unescapes \\, \\= \\\\ and \\! in values', () => {
    const selector = parseFieldSelector('metadata.annotations=a\\,b\\=c\\\\d\\!e,other=x!y');
    assert.deepEqual(selector.requirements, [
      { field: 'metadata.annotations', operator: '=', value: 'a,b=c\\d!e' },
      { field: 'other', operator: '=', value: 'x!y' },
    ]);
    assert.equal(selector.matches({ 'metadata.annotations': 'a,b=c\\d!e', other: 'x!y' }), true);
  });

  it('splits at the first operator, so a value may start with "=" only when escaped', () => {
    assert.deepEqual(parseFieldSelector('a!=\\=b').requirements, [{ field: 'a', operator: '!=', value: '=b' }]);
    assertBadRequest(() => parseFieldSelector('a=b=c'), /unescaped character in value: '='/);
    assertBadRequest(() => parseFieldSelector('a===b'), /unescaped character in value: '='/);
  });

  it('prints a canonical, escaped, sorted form that parses back to the same selector', () => {
    const selector = parseFieldSelector('z=1,a!=x\\,y,m==\\\\');
    assert.equal(selector.toString(), 'a!=x\\,y,m=\\\\,z=1');
    assert.deepEqual(parseFieldSelector(selector.toString()).requirements.sort((p, q) => p.field.localeCompare(q.field)), [
      { field: 'a', operator: '!=', value: 'x,y' },
      { field: 'm', operator: '=', value: '\\' },
      { field: 'z', operator: '=', value: '1' },
    ]);
    assert.equal(escapeFieldValue('a\\b,c=d!'), 'a\\\\b\\,c\\=d!');
  });

  it('rejects a term without an operator or without a field', () => {
    assertBadRequest(() => parseFieldSelector('metadata.name'), "invalid selector: 'metadata.name'; can't understand 'metadata.name'");
    assertBadRequest(() => parseFieldSelector('a=b,=c'), "invalid selector: 'a=b,=c'; can't understand '=c'");
  });

  it('rejects invalid escape sequences', () => {
    assertBadRequest(() => parseFieldSelector('a=b\\n'), 'invalid field selector: invalid escape sequence: \\n');
    assertBadRequest(() => parseFieldSelector('a=b\\'), /invalid escape sequence: \\ at the end/);
  });

  it('rejects fields outside allowedFields with upstream\'s message', () => {
    const allowed = new Set(['metadata.name', 'metadata.namespace']);
    assert.equal(parseFieldSelector('metadata.name=web-1', allowed).matches(pod), true);
    assertBadRequest(() => parseFieldSelector('metadata.name=x,spec.nodeName=n1', allowed), 'field label not supported: spec.nodeName');
  });

  it('never throws anything but a 400 StatusError on junk input', () => {
    const pieces = ['a', '=', '==', '!=', '!', ',', '\\', ' ', 'b.c', '\\,', '\\='];
    let seed = 11;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 500; round++) {
      const text = Array.from({ length: 1 + Math.floor(random() * 6) }, () => pieces[Math.floor(random() * pieces.length)]).join('');
      try {
        parseFieldSelector(text, new Set(['a'])).matches({ a: 'b' });
      } catch (error) {
        assert.ok(error instanceof StatusError && error.code === 400, `${JSON.stringify(text)} threw ${String(error)}`);
      }
    }
  });
});

describe('exactMatchValue', () => {
  it('returns the value a selector pins a field to', () => {
    assert.equal(exactMatchValue(parseFieldSelector('metadata.name=web-1'), 'metadata.name'), 'web-1');
    assert.equal(exactMatchValue(parseFieldSelector('status.phase=Running,metadata.namespace==kube-system'), 'metadata.namespace'), 'kube-system');
    assert.equal(exactMatchValue(parseFieldSelector('metadata.name='), 'metadata.name'), '');
  });

  it('returns undefined when the field is not pinned', () => {
    assert.equal(exactMatchValue(parseFieldSelector(''), 'metadata.name'), undefined);
    assert.equal(exactMatchValue(parseFieldSelector('metadata.name!=web-1'), 'metadata.name'), undefined);
    assert.equal(exactMatchValue(parseFieldSelector('status.phase=Running'), 'metadata.name'), undefined);
  });
});
