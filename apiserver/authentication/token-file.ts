// Static tokens (`--token-auth-file`): upstream's CSV, one credential per line —
// token,user,uid[,"group1,group2"] — read with encoding/csv's rules (quoted fields, "" inside quotes,
// leading spaces trimmed, blank lines skipped). The file is read once at start, as upstream does.

import { readFileSync } from 'node:fs';
import type { UserInfo } from '../registry/object.js';
import type { TokenAuthenticator } from './token-authenticator.js';
import { audienceAgnostic } from './token-authenticator.js';

export class TokenFileError extends Error {}

/** Splits CSV text into records of fields (RFC 4180 plus encoding/csv's TrimLeadingSpace). */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let index = 0;
  let line = 1;
  let fieldStart = true;
  let quoted = false;
  const endField = () => {
    record.push(field);
    field = '';
    fieldStart = true;
    quoted = false;
  };
  const endRecord = () => {
    // A blank line is no record (encoding/csv skips empty lines).
    if (!(record.length === 0 && field === '' && !quoted)) {
      endField();
      records.push(record);
    }
    record = [];
    field = '';
    fieldStart = true;
    quoted = false;
  };
  while (index < text.length) {
    const char = text[index];
    if (fieldStart && (char === ' ' || char === '\t')) {
      index++;
      continue;
    }
    if (fieldStart && char === '"') {
      fieldStart = false;
      quoted = true;
      index++;
      // Inside quotes: until a lone closing quote.
      for (;;) {
        if (index >= text.length) throw new TokenFileError(`record on line ${line}: extraneous or missing " in quoted-field`);
        const inner = text[index];
        if (inner === '"') {
          if (text[index + 1] === '"') {
            field += '"';
            index += 2;
            continue;
          }
          index++;
          break;
        }
        if (inner === '\n') line++;
        field += inner;
        index++;
      }
      const next = text[index];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') throw new TokenFileError(`record on line ${line}: extraneous or missing " in quoted-field`);
      continue;
    }
    fieldStart = false;
    if (char === ',') {
      endField();
      index++;
      continue;
    }
    if (char === '\r' && text[index + 1] === '\n') {
      index++;
      continue;
    }
    if (char === '\n') {
      endRecord();
      line++;
      index++;
      continue;
    }
    if (char === '"' && !quoted) throw new TokenFileError(`record on line ${line}: bare " in non-quoted-field`);
    field += char;
    index++;
  }
  endRecord();
  return records;
}

/** token → identity; problems in the file are errors (the server refuses to start), as upstream. */
export function parseTokenFile(text: string, file = 'token file'): Map<string, UserInfo> {
  const tokens = new Map<string, UserInfo>();
  for (const record of parseCsv(text)) {
    if (record.length < 3) throw new TokenFileError(`token file '${file}' must have at least 3 columns (token, user name, user uid), found ${record.length}`);
    const [token, username, uid, groups] = record;
    if (token === '') continue; // upstream warns and skips
    const user: UserInfo = { username, groups: groups !== undefined ? groups.split(',') : [] };
    if (uid) user.uid = uid;
    tokens.set(token, user);
  }
  return tokens;
}

export function tokenFileAuthenticator(file: string, apiAudiences: string[]): TokenAuthenticator {
  const tokens = parseTokenFile(readFileSync(file, 'utf8'), file);
  return audienceAgnostic(
    {
      name: 'token-file',
      async authenticate(token) {
        const user = tokens.get(token);
        return user ? structuredClone(user) : undefined;
      },
    },
    apiAudiences,
  );
}
