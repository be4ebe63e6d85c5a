import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { labelSelectorFromMatch, parseLabelSelector, type LabelSelectorSpec } from './labels.js';
import { StatusError } from '../request/status.js';

function assertBadRequest(action: () => unknown, message?: RegExp | string): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof StatusError, `expected a StatusError, got ${String(error)}`);
    assert.equal(error.code, 400);
    assert.equal(error.reason, 'BadRequest');
    if (typeof message === 'string') assert.equal(error.message, message);
    else if (message) assert.match(error.message, message);
    return true;
  });
}

const web = { app: 'web', tier: 'frontend', replicas: '3' };
const database = { app: 'db', tier: 'backend' };
const unlabelled = undefined;

function selects(selector: string, labels: Record<string, string> | undefined): boolean {
  return parseLabelSelector(selector).matches(labels);
}

describe('parseLabelSelector matching', () => {
  it('an empty or blank selector is empty and matches everything, even unlabelled objects', () => {
    for (const text of ['', '   ']) {
      const selector = parseLabelSelector(text);
      assert.equal(selector.empty, true);
      assert.equal(selector.toString(), '');
      assert.equal(selector.matches(unlabelled), true);
      assert.equal(selector.matches(web), true);
    }
  });

  it('k=v and k==v require the label with that value', () => {
    for (const text of ['app=web', 'app==web']) {
      assert.equal(selects(text, web), true);
      assert.equal(selects(text, database), false);
      assert.equal(selects(text, unlabelled), false);
    }
  });

  it('k!=v matches objects without the label', () => {
    assert.equal(selects('app!=web', web), false);
    assert.equal(selects('app!=web', database), true);
    assert.equal(selects('app!=web', unlabelled), true);
  });

  it('k= matches only the empty value', () => {
    assert.equal(selects('app=', { app: '' }), true);
    assert.equal(selects('app=', web), false);
    assert.equal(selects('app=', unlabelled), false);
  });

  it('in and notin test set membership; notin matches objects without the label', () => {
    assert.equal(selects('app in (web,api)', web), true);
    assert.equal(selects('app in (db)', web), false);
    assert.equal(selects('app in (web)', unlabelled), false);
    assert.equal(selects('app notin (web,api)', web), false);
    assert.equal(selects('app notin (api)', web), true);
    assert.equal(selects('app notin (api)', unlabelled), true);
  });

  it('empty slots in a set are the empty value', () => {
    assert.equal(selects('app in ()', { app: '' }), true);
    assert.equal(selects('app in (web,)', { app: '' }), true);
    assert.equal(selects('app in (,web)', { app: '' }), true);
    assert.equal(parseLabelSelector('app in (b,,a)').toString(), 'app in (,a,b)');
  });

  it('k and !k test existence', () => {
    assert.equal(selects('replicas', web), true);
    assert.equal(selects('replicas', database), false);
    assert.equal(selects('!replicas', web), false);
    assert.equal(selects('!replicas', database), true);
    assert.equal(selects('!replicas', unlabelled), true);
  });

  it('k>n and k<n compare integers and never match missing or non-integer labels', () => {
    assert.equal(selects('replicas>2', web), true);
    assert.equal(selects('replicas>3', web), false);
    assert.equal(selects('replicas<4', web), true);
    assert.equal(selects('replicas<3', web), false);
    assert.equal(selects('replicas>1', database), false);
    assert.equal(selects('app>1', web), false);
    assert.equal(selects('big>9223372036854775806', { big: '9223372036854775807' }), true);
  });

  it('commas AND the requirements together', () => {
    assert.equal(selects('app=web,tier=frontend', web), true);
    assert.equal(selects('app=web,tier=backend', web), false);
    assert.equal(selects('app in (web,db),!replicas', database), true);
  });

  it('whitespace between tokens is ignored', () => {
    assert.equal(selects('  app = web ,  tier  in ( frontend , backend )  ', web), true);
    assert.equal(selects('! replicas', database), true);
  });

  it('in and notin are keywords only in operator position', () => {
    assert.equal(selects('in=notin', { in: 'notin' }), true);
    assert.equal(selects('in in (in)', { in: 'in' }), true);
    assert.equal(selects('notin', { notin: 'x' }), true);
  });

  it('accepts prefixed keys', () => {
    assert.equal(selects('app.kubernetes.io/name=web', { 'app.kubernetes.io/name': 'web' }), true);
    assert.equal(selects('!kubernetes.io/cluster-service', {}), true);
  });

  it('prints a canonical form: sorted by key, set values sorted', () => {
    assert.equal(
      parseLabelSelector('tier notin (z,a), app==web, !old, exists, n>5, m<2, x!=y, b=c').toString(),
      'app==web,b=c,exists,m<2,n>5,!old,tier notin (a,z),x!=y',
    );
    const roundTrip = parseLabelSelector('app in (b,a),tier!=x');
    assert.equal(parseLabelSelector(roundTrip.toString()).toString(), roundTrip.toString());
  });
});

describe('parseLabelSelector errors', () => {
  it('an invalid value is a 400 naming the value and the rule', () => {
    assertBadRequest(
      () => parseLabelSelector('app in (a.)'),
      'unable to parse requirement: values[0][app]: Invalid value: "a.": a valid label must be an empty string or consist of ' +
        "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or " +
        "'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    );
  });

  it('an invalid key is a 400', () => {
    assertBadRequest(() => parseLabelSelector('-app=web'), /^unable to parse requirement: key: Invalid value: "-app": name part must consist of/);
    assertBadRequest(() => parseLabelSelector('Example.com/app=web'), /prefix part a lowercase RFC 1123 subdomain/);
    assertBadRequest(() => parseLabelSelector('a/b/c'), /a qualified name must consist of/);
    assertBadRequest(() => parseLabelSelector('/app'), /prefix part must be non-empty/);
    assertBadRequest(() => parseLabelSelector(`${'k'.repeat(64)}=v`), /name part must be no more than 63 characters/);
  });

  it('a value longer than 63 characters is a 400', () => {
    assertBadRequest(() => parseLabelSelector(`app=${'v'.repeat(64)}`), /must be no more than 63 characters/);
  });

  it('accepts the edge cases of valid keys and values', () => {
    for (const text of [`${'k'.repeat(63)}=${'v'.repeat(63)}`, 'a.b-c_D=x.y-z_W', 'example.com/A=1', 'k8s.io/a in (,b)']) {
      assert.doesNotThrow(() => parseLabelSelector(text), text);
    }
    for (const text of ['a_=b', 'a=b_', 'a=ä', 'UPPER.com/x=y', 'a/=b', `${'p'.repeat(254)}/x=y`]) {
      assertBadRequest(() => parseLabelSelector(text), /^unable to parse requirement: (key|values\[0\]\[a\]): Invalid value/);
    }
  });

  it('a non-integer or negative bound for > and < is a 400', () => {
    assertBadRequest(() => parseLabelSelector('replicas>many'), /values\[0\]: Invalid value: "many": for 'Gt', 'Lt' operators, the value must be an integer/);
    assertBadRequest(() => parseLabelSelector('replicas<'), /must be an integer/);
    assertBadRequest(() => parseLabelSelector('replicas>-1'), /a valid label must be an empty string/);
  });

  it('syntax errors are 400s that say what was found and expected', () => {
    assertBadRequest(() => parseLabelSelector('app=web tier=x'), "found 'tier', expected: ',' or 'end of string'");
    assertBadRequest(() => parseLabelSelector('app=web,'), "found 'end of string', expected: identifier after ','");
    assertBadRequest(() => parseLabelSelector(',app'), "found ',', expected: identifier");
    assertBadRequest(() => parseLabelSelector('app in web'), "unable to parse requirement: found 'web', expected: '('");
    assertBadRequest(() => parseLabelSelector('app in (a b)'), /found 'b', expected: ',' or '\)'/);
    assertBadRequest(() => parseLabelSelector('app in (a'), /found 'end of string', expected: ',', '\)' or identifier/);
    assertBadRequest(() => parseLabelSelector('app web'), /found 'web', expected: in, notin, =, ==, !=, gt, lt/);
    assertBadRequest(() => parseLabelSelector('app=(x)'), /found '\(', expected: identifier/);
    assertBadRequest(() => parseLabelSelector('!app=web'), "found '=', expected: ',' or 'end of string'");
    assertBadRequest(() => parseLabelSelector('!'), /found 'end of string', expected: identifier/);
    assertBadRequest(() => parseLabelSelector('=web'), /found '=', expected: identifier/);
  });

  it('never throws anything but a 400 StatusError on junk input', () => {
    const pieces = ['a', 'in', 'notin', '=', '==', '!=', '!', '(', ')', ',', '>', '<', ' ', '5', '-', 'x/y', '\\'];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 500; round++) {
      const text = Array.from({ length: 1 + Math.floor(random() * 6) }, () => pieces[Math.floor(random() * pieces.length)]).join('');
      try {
        parseLabelSelector(text).matches({ a: '5' });
      } catch (error) {
        assert.ok(error instanceof StatusError && error.code === 400, `${JSON.stringify(text)} threw ${String(error)}`);
      }
    }
  });
});

describe('labelSelectorFromMatch', () => {
  it('an empty metav1.LabelSelector matches everything', () => {
    const selector = labelSelectorFromMatch({});
    assert.equal(selector.empty, true);
    assert.equal(selector.matches(unlabelled), true);
    assert.equal(labelSelectorFromMatch({ matchLabels: {}, matchExpressions: [] }).empty, true);
  });

  it('matchLabels and matchExpressions are ANDed', () => {
    const selector = labelSelectorFromMatch({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['frontend', 'edge'] },
        { key: 'env', operator: 'NotIn', values: ['prod'] },
        { key: 'replicas', operator: 'Exists' },
        { key: 'legacy', operator: 'DoesNotExist' },
      ],
    });
    assert.equal(selector.matches(web), true);
    assert.equal(selector.matches({ ...web, legacy: 'yes' }), false);
    assert.equal(selector.matches({ ...web, env: 'prod' }), false);
    assert.equal(selector.matches({ ...web, tier: 'backend' }), false);
    assert.equal(selector.matches(database), false);
    assert.equal(selector.toString(), 'app=web,env notin (prod),!legacy,replicas,tier in (edge,frontend)');
  });

  it('rejects invalid selectors with a 400 naming each problem', () => {
    assertBadRequest(() => labelSelectorFromMatch({ matchExpressions: [{ key: 'tier', operator: 'In', values: [] }] }), /matchExpressions\[0\]\.values: Required value/);
    assertBadRequest(
      () => labelSelectorFromMatch({ matchExpressions: [{ key: 'tier', operator: 'Exists', values: ['x'] }] }),
      /matchExpressions\[0\]\.values: Forbidden/,
    );
    assertBadRequest(
      () => labelSelectorFromMatch({ matchExpressions: [{ key: 'tier', operator: 'Gt', values: ['1'] }] } as unknown as LabelSelectorSpec),
      /matchExpressions\[0\]\.operator: Unsupported value: "Gt": supported values: "In", "NotIn", "Exists", "DoesNotExist"/,
    );
    assertBadRequest(
      () => labelSelectorFromMatch({ matchLabels: { 'bad key': 'a b' } }),
      /^invalid label selector: \[matchLabels: Invalid value: "bad key": .*, matchLabels\[bad key\]: Invalid value: "a b": .*\]$/,
    );
    assertBadRequest(() => labelSelectorFromMatch({ matchExpressions: [{ operator: 'In' }] } as unknown as LabelSelectorSpec), /key must be a string/);
    assertBadRequest(() => labelSelectorFromMatch({ matchExpressions: [{ key: 'a', operator: 'toString' }] } as unknown as LabelSelectorSpec), /Unsupported value/);
  });
});
