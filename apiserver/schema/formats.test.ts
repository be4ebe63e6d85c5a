import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSupportedFormat, matchesFormat } from './formats.js';

describe('CRD string formats (kube-openapi strfmt)', () => {
  const cases: [string, string, boolean][] = [
    ['date', '2024-02-29', true],
    ['date', '2023-02-29', false],
    ['date-time', '2024-01-02T03:04:05Z', true],
    ['datetime', '2024-01-02t03:04:05.123+02:00', true],
    ['date-time', '2024-01-02T24:00:00Z', false],
    ['duration', '1h2m3.5s', true],
    ['duration', '3 days', true],
    ['duration', '-0', true],
    ['duration', 'forever', false],
    ['uuid', '123e4567-e89b-12d3-a456-426614174000', true],
    ['uuid4', '123e4567-e89b-12d3-a456-426614174000', false],
    ['uuid4', '123e4567-e89b-42d3-a456-426614174000', true],
    ['hostname', 'example.com', true],
    ['hostname', 'ex_ample.com', false],
    ['ipv4', '192.168.0.1', true],
    ['ipv4', '010.1.1.1', true],
    ['ipv4', '256.1.1.1', false],
    ['ipv6', '2001:db8::1', true],
    ['ipv6', '::ffff:1.2.3.4', true],
    ['ipv6', '1.2.3.4', false],
    ['cidr', '10.0.0.0/8', true],
    ['cidr', '2001:db8::/129', false],
    ['mac', '00:00:5e:00:53:01', true],
    ['mac', '0000.5e00.5301', true],
    ['mac', '00:00:5e:00:53', false],
    ['uri', 'https://example.com/a?b=c', true],
    ['uri', '/absolute/path', true],
    ['uri', 'relative/path', false],
    ['uri', 'mailto:someone', true],
    ['email', 'jane@example.com', true],
    ['email', 'Jane Doe <jane@example.com>', true],
    ['email', 'jane', false],
    ['byte', 'aGVsbG8=', true],
    ['byte', 'not base64!', false],
    ['bsonobjectid', '507f1f77bcf86cd799439011', true],
    ['isbn10', '0-306-40615-2', true],
    ['isbn13', '978-0-306-40615-7', true],
    ['isbn', '978-0-306-40615-8', false],
    ['creditcard', '4111 1111 1111 1111', true],
    ['creditcard', '4111 1111 1111 1112', false],
    ['ssn', '123-45-6789', true],
    ['hexcolor', '#ffcc00', true],
    ['rgbcolor', 'rgb(255, 0, 10)', true],
    ['rgbcolor', 'rgb(256, 0, 10)', false],
    ['password', 'anything', true],
  ];
  for (const [format, value, expected] of cases) {
    it(`${format}: ${JSON.stringify(value)} is ${expected ? 'valid' : 'invalid'}`, () => assert.equal(matchesFormat(format, value), expected));
  }

  it('formats upstream strips from CRD schemas are not checked', () => {
    for (const format of ['int32', 'int64', 'float', 'double', 'quantity', 'k8s-short-name']) assert.equal(isSupportedFormat(format), false, format);
    assert.equal(isSupportedFormat('date-time'), true);
  });
});
