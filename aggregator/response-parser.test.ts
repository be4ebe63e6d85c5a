import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ResponseHead } from './response-parser.js';
import { ProtocolError, ResponseParser } from './response-parser.js';

interface Parsed {
  heads: ResponseHead[];
  body: string;
  chunks: number;
  complete: boolean;
}

function parser(headRequest = false): { parser: ResponseParser; parsed: Parsed } {
  const parsed: Parsed = { heads: [], body: '', chunks: 0, complete: false };
  const instance = new ResponseParser(
    {
      onHead: (head) => parsed.heads.push(head),
      onBody: (chunk) => {
        parsed.body += chunk.toString('latin1');
        parsed.chunks++;
      },
      onComplete: () => (parsed.complete = true),
    },
    headRequest,
  );
  return { parser: instance, parsed };
}

/** Feeds the text cut at every position into two pieces, then byte by byte; each must parse the same. */
function everySplit(text: string, check: (parsed: Parsed, parser: ResponseParser) => void, headRequest = false): void {
  const bytes = Buffer.from(text, 'latin1');
  for (let cut = 0; cut <= bytes.length; cut++) {
    const { parser: instance, parsed } = parser(headRequest);
    instance.execute(bytes.subarray(0, cut));
    instance.execute(bytes.subarray(cut));
    check(parsed, instance);
  }
  const { parser: instance, parsed } = parser(headRequest);
  for (let index = 0; index < bytes.length; index++) instance.execute(bytes.subarray(index, index + 1));
  check(parsed, instance);
}

describe('the proxy response parser', () => {
  it('reads a Content-Length response, keeping header names and repeated headers as sent', () => {
    const text = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nWarning: 299 - "a"\r\nWarning: 299 - "b"\r\nContent-Length: 11\r\n\r\n{"ok":true}';
    everySplit(text, (parsed, instance) => {
      assert.equal(parsed.heads.length, 1);
      const head = parsed.heads[0];
      assert.equal(head.statusCode, 200);
      assert.equal(head.statusMessage, 'OK');
      assert.deepEqual(head.rawHeaders, ['Content-Type', 'application/json', 'Warning', '299 - "a"', 'Warning', '299 - "b"', 'Content-Length', '11']);
      assert.equal(head.framing, 'length');
      assert.equal(head.keepAlive, true);
      assert.equal(parsed.body, '{"ok":true}');
      assert.ok(parsed.complete);
      assert.equal(instance.extraneous, false);
    });
  });

  it('decodes a chunked body with extensions and trailers', () => {
    const text = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: t\r\n\r\n';
    everySplit(text, (parsed) => {
      assert.equal(parsed.heads[0].framing, 'chunked');
      assert.equal(parsed.body, 'helloabcdefghijklmnopqrstuvwxyz');
      assert.ok(parsed.complete);
    });
  });

  it('hands on each chunk as it arrives (a watch stream)', () => {
    const { parser: instance, parsed } = parser();
    instance.execute(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'));
    assert.equal(parsed.heads.length, 1);
    assert.equal(parsed.chunks, 0);
    instance.execute(Buffer.from('11\r\n{"type":"ADDED"}\n\r\n'));
    assert.equal(parsed.body, '{"type":"ADDED"}\n');
    assert.equal(parsed.complete, false);
    instance.execute(Buffer.from('0\r\n\r\n'));
    assert.ok(parsed.complete);
  });

  it('skips interim responses', () => {
    everySplit('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}', (parsed) => {
      assert.deepEqual(
        parsed.heads.map((head) => head.statusCode),
        [201],
      );
      assert.equal(parsed.body, '{}');
      assert.ok(parsed.complete);
    });
  });

  it('reads no body for HEAD, 204 and 304, whatever the headers say', () => {
    everySplit('HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n', (parsed) => assert.ok(parsed.complete && parsed.body === ''), true);
    everySplit('HTTP/1.1 204 No Content\r\n\r\n', (parsed) => assert.ok(parsed.complete));
    everySplit('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n', (parsed) => assert.ok(parsed.complete && parsed.heads[0].framing === 'none'));
  });

  it('reads a body without length until the connection closes, and then the connection is not reused', () => {
    const { parser: instance, parsed } = parser();
    instance.execute(Buffer.from('HTTP/1.1 200 OK\r\n\r\nsome'));
    instance.execute(Buffer.from(' bytes'));
    assert.equal(parsed.complete, false);
    assert.equal(parsed.heads[0].keepAlive, false);
    instance.end();
    assert.ok(parsed.complete);
    assert.equal(parsed.body, 'some bytes');
  });

  it('says when the backend will not keep the connection, and for how long it keeps idle ones', () => {
    const { parser: closing, parsed: closed } = parser();
    closing.execute(Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'));
    assert.equal(closed.heads[0].keepAlive, false);
    const { parser: old, parsed: oldParsed } = parser();
    old.execute(Buffer.from('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n'));
    assert.equal(oldParsed.heads[0].keepAlive, false);
    const { parser: timed, parsed: timedParsed } = parser();
    timed.execute(Buffer.from('HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 0\r\n\r\n'));
    assert.equal(timedParsed.heads[0].keepAlive, true);
    assert.equal(timedParsed.heads[0].keepAliveTimeoutMs, 5000);
  });

  it('notices bytes after the response', () => {
    const { parser: instance, parsed } = parser();
    instance.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}junk'));
    assert.ok(parsed.complete);
    assert.equal(parsed.body, '{}');
    assert.equal(instance.extraneous, true);
  });

  it('rejects malformed responses', () => {
    for (const text of [
      'HTTP/2 200 OK\r\n\r\n',
      'HTTP/1.1 2x0 OK\r\n\r\n',
      'HTTP/1.1 200 OK\r\nno colon\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n',
      'HTTP/1.1 101 Switching Protocols\r\n\r\n',
    ]) {
      const { parser: instance } = parser();
      assert.throws(() => instance.execute(Buffer.from(text)), ProtocolError, text);
    }
  });

  it('says a response cut short is cut short', () => {
    const { parser: none } = parser();
    assert.throws(() => none.end(), /socket hang up/);
    const { parser: partial } = parser();
    partial.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    assert.throws(() => partial.end(), /closed in the middle of the response/);
  });
});
