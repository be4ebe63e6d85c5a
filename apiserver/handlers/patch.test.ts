import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { duplicateKeysMessage, parsePatch } from './patch.js';

describe('apply bodies', () => {
  it('accept repeated keys (the last wins) and report them as the strict YAML decoder does', () => {
    const parsed = parsePatch('apply', Buffer.from('apiVersion: v1\nkind: ConfigMap\ndata:\n  a: "1"\n  a: "2"\n'));
    assert.deepEqual(parsed.document, { apiVersion: 'v1', kind: 'ConfigMap', data: { a: '2' } });
    assert.deepEqual(parsed.duplicateKeys, ['line 5: key "a" already set in map']);
    assert.equal(duplicateKeysMessage(parsed.duplicateKeys!), 'error converting YAML to JSON: yaml: unmarshal errors:\n  line 5: key "a" already set in map');
  });

  it('JSON bodies are YAML too', () => {
    const parsed = parsePatch('apply', Buffer.from('{"kind":"ConfigMap","data":{"x":"1","x":"2"}}'));
    assert.deepEqual(parsed.duplicateKeys, ['line 1: key "x" already set in map']);
  });

  it('a body that is not an object or not YAML is a 400', () => {
    assert.throws(() => parsePatch('apply', Buffer.from('[1, 2]')), (error: { code?: number }) => error.code === 400);
    assert.throws(() => parsePatch('apply', Buffer.from('a: [')), (error: { code?: number; message?: string }) => error.code === 400 && /error decoding YAML/.test(error.message ?? ''));
  });
});
