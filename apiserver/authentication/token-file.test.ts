import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCsv, parseTokenFile, TokenFileError } from './token-file.js';

describe('static token file (upstream CSV)', () => {
  it('reads token,user,uid,"groups" with quoted comma-separated groups', () => {
    const tokens = parseTokenFile('abc,alice,uid-1,"devs,ops"\nxyz,bob,uid-2\n');
    assert.deepEqual(tokens.get('abc'), { username: 'alice', uid: 'uid-1', groups: ['devs', 'ops'] });
    assert.deepEqual(tokens.get('xyz'), { username: 'bob', uid: 'uid-2', groups: [] });
  });

  it('follows encoding/csv: blank lines skipped, leading spaces trimmed, doubled quotes, CRLF', () => {
    assert.deepEqual(parseCsv('\n a, "b ""q""",c\r\n\nd,e,f'), [
      ['a', 'b "q"', 'c'],
      ['d', 'e', 'f'],
    ]);
  });

  it('refuses records with fewer than three columns, in upstream words', () => {
    assert.throws(() => parseTokenFile('abc,alice\n', '/etc/tokens.csv'), (error: Error) => error instanceof TokenFileError && error.message === "token file '/etc/tokens.csv' must have at least 3 columns (token, user name, user uid), found 2");
  });

  it('skips a record with an empty token and lets a later duplicate win', () => {
    const tokens = parseTokenFile(',nobody,uid-0\nt,first,1\nt,second,2\n');
    assert.equal(tokens.size, 1);
    assert.equal(tokens.get('t')?.username, 'second');
  });

  it('rejects an unterminated quoted field', () => {
    assert.throws(() => parseCsv('a,"b,c\n'), TokenFileError);
  });
});
