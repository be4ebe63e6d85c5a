import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prettyPrint } from './negotiation.js';

describe('prettyPrint (upstream isPrettyPrint)', () => {
  it('?pretty= decides when given, parsed as Go parses a bool', () => {
    for (const value of ['true', 'True', 'TRUE', '1', 't']) assert.equal(prettyPrint(new URLSearchParams({ pretty: value }), 'kubectl/v1.32.0'), true, value);
    for (const value of ['false', '0', 'yes', 'nonsense']) assert.equal(prettyPrint(new URLSearchParams({ pretty: value }), 'curl/8.5.0'), false, value);
  });

  it('otherwise curl, Wget and browsers get indented output, other clients compact', () => {
    assert.equal(prettyPrint(new URLSearchParams(), 'curl/8.5.0'), true);
    assert.equal(prettyPrint(new URLSearchParams({ pretty: '' }), 'Wget/1.21'), true);
    assert.equal(prettyPrint(new URLSearchParams(), 'Mozilla/5.0 (X11; Linux x86_64)'), true);
    assert.equal(prettyPrint(new URLSearchParams(), 'OpenAPI-Generator/22.6.0/python'), false);
    assert.equal(prettyPrint(new URLSearchParams(), undefined), false);
  });
});
