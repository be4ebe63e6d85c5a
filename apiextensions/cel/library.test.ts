// The Kubernetes CEL libraries, table-driven with cases from upstream's library tests (ip_test.go,
// cidr_test.go, format_test.go, the lists and regex libraries, cel-go's sets and strings extensions):
// each expression's value, or its runtime error as upstream words it.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Optional } from '@marcbachmann/cel-js';
import { kubernetesEnvironment } from './library.js';

// As CRD rules compile it: literal homogeneity is checked by the compiler, which exempts string.format.
const env = kubernetesEnvironment({ homogeneousAggregateLiterals: false });

function run(expression: string): unknown {
  try {
    const value = env.evaluate(expression);
    if (value instanceof Optional) return value.hasValue() ? { optional: value.value() } : 'optional.none()';
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return String(value);
    return value;
  } catch (error) {
    return { error: (error as Error).message.split('\n')[0] };
  }
}

const DNS1123_LABEL = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1035_LABEL = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

const cases: [string, unknown][] = [
  // ---- ip (ip_test.go) ----
  ['string(ip("192.168.0.1"))', '192.168.0.1'],
  ['ip("192.168.0.1.0")', { error: 'IP Address "192.168.0.1.0" parse error during conversion from string: ParseAddr("192.168.0.1.0"): IPv4 address too long' }],
  ['isIP("192.168.0.1")', true],
  ['isIP("192.168.0.1.0")', false],
  ['ip.isCanonical("127.0.0.1")', true],
  ['ip.isCanonical("127.0.0.1.0")', { error: 'IP Address "127.0.0.1.0" parse error during conversion from string: ParseAddr("127.0.0.1.0"): IPv4 address too long' }],
  ['ip("192.168.0.1").family()', 4n],
  ['ip("0.0.0.0").isUnspecified()', true],
  ['ip("127.0.0.1").isUnspecified()', false],
  ['ip("127.0.0.1").isLoopback()', true],
  ['ip("1.2.3.4").isLoopback()', false],
  ['ip("224.0.0.1").isLinkLocalMulticast()', true],
  ['ip("224.0.1.1").isLinkLocalMulticast()', false],
  ['ip("169.254.169.254").isLinkLocalUnicast()', true],
  ['ip("192.168.0.1").isLinkLocalUnicast()', false],
  ['ip("192.168.0.1").isGlobalUnicast()', true],
  ['ip("255.255.255.255").isGlobalUnicast()', false],
  ['string(ip("2001:db8::68"))', '2001:db8::68'],
  ['ip("2001:db8:::68")', { error: 'IP Address "2001:db8:::68" parse error during conversion from string: ParseAddr("2001:db8:::68"): each colon-separated field must have at least one digit (at ":68")' }],
  ['isIP("2001:db8::68")', true],
  ['isIP("2001:db8:::68")', false],
  ['ip.isCanonical("2001:db8::68")', true],
  ['ip.isCanonical("2001:DB8::68")', false],
  ['ip("2001:db8::68").family()', 6n],
  ['ip("::").isUnspecified()', true],
  ['ip("::1").isUnspecified()', false],
  ['ip("::1").isLoopback()', true],
  ['ip("2001:db8::abcd").isLoopback()', false],
  ['ip("ff02::1").isLinkLocalMulticast()', true],
  ['ip("fd00::1").isLinkLocalMulticast()', false],
  ['ip("fe80::1").isLinkLocalUnicast()', true],
  ['ip("fd80::1").isLinkLocalUnicast()', false],
  ['ip("2001:db8::abcd").isGlobalUnicast()', true],
  ['ip("ff00::1").isGlobalUnicast()', false],
  // netip's canonical form, equality by address, and what Kubernetes refuses
  ['string(ip("2001:DB8:0:0:0:0:0:1"))', '2001:db8::1'],
  ['ip("::1") == ip("0:0::1")', true],
  ['ip("01.2.3.4")', { error: 'IP Address "01.2.3.4" parse error during conversion from string: ParseAddr("01.2.3.4"): IPv4 field has octet with leading zero' }],
  ['ip("::ffff:1.2.3.4")', { error: 'IPv4-mapped IPv6 address "::ffff:1.2.3.4" is not allowed' }],
  ['ip("fe80::1%eth0")', { error: 'IP address "fe80::1%eth0" with zone value is not allowed' }],
  ['ip("foo")', { error: 'IP Address "foo" parse error during conversion from string: ParseAddr("foo"): unable to parse IP' }],
  // ---- cidr (cidr_test.go) ----
  ['string(cidr("192.168.0.0/24"))', '192.168.0.0/24'],
  ['cidr("192.168.0.0/")', { error: 'network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix("192.168.0.0/"): bad bits after slash: ""' }],
  ['cidr("192.168.0.0/24").containsIP(ip("192.168.0.1"))', true],
  ['cidr("192.168.0.0/24").containsIP(ip("192.168.1.1"))', false],
  ['cidr("192.168.0.0/24").containsIP("192.168.0.1")', true],
  ['cidr("192.168.0.0/24").containsIP("192.168.1.1")', false],
  ['cidr("192.168.0.0/24").containsCIDR(cidr("192.168.0.0/25"))', true],
  ['cidr("192.168.0.0/24").containsCIDR(cidr("192.168.0.1/32"))', true],
  ['cidr("192.168.0.0/24").containsCIDR(cidr("192.168.0.0/23"))', false],
  ['cidr("192.168.0.0/24").containsCIDR(cidr("192.169.0.1/32"))', false],
  ['cidr("192.168.0.0/24").containsCIDR("192.168.0.0/25")', true],
  ['cidr("192.168.0.0/24").containsCIDR("192.168.0.0/23")', false],
  ['string(cidr("192.168.0.0/24").ip())', '192.168.0.0'],
  ['cidr("192.168.0.1/24").masked() == cidr("192.168.0.0/24")', true],
  ['string(cidr("192.168.0.1/24").masked())', '192.168.0.0/24'],
  ['cidr("192.168.0.0/24").prefixLength()', 24n],
  ['cidr("2001:db8::/")', { error: 'network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix("2001:db8::/"): bad bits after slash: ""' }],
  ['cidr("2001:db8::/32").containsIP(ip("2001:db8::1"))', true],
  ['cidr("2001:db8::/32").containsIP(ip("2001:dc8::1"))', false],
  ['cidr("2001:db8::/32").containsCIDR(cidr("2001:db8::/33"))', true],
  ['cidr("2001:db8::/32").containsCIDR("2001:db8::/31")', false],
  ['string(cidr("2001:db8:1::/32").masked())', '2001:db8::/32'],
  ['cidr("1.2.3.4/33")', { error: 'network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix("1.2.3.4/33"): prefix length out of range' }],
  ['isCIDR("10.0.0.0/8")', true],
  ['isCIDR("10.0.0.0")', false],
  // ---- format (format_test.go) ----
  ['format.dns1123Label().validate("my-label-name")', 'optional.none()'],
  ['format.dns1123Subdomain().validate("apiextensions.k8s.io")', 'optional.none()'],
  ['format.qualifiedName().validate("apiextensions.k8s.io/v1beta1")', 'optional.none()'],
  ['format.dns1123LabelPrefix().validate("my-label-prefix-")', 'optional.none()'],
  ['format.dns1123SubdomainPrefix().validate("mysubdomain.prefix.-")', 'optional.none()'],
  ['format.dns1035LabelPrefix().validate("my-label-prefix-")', 'optional.none()'],
  ['format.uri().validate("http://example.com")', 'optional.none()'],
  ['format.uuid().validate("123e4567-e89b-12d3-a456-426614174000")', 'optional.none()'],
  ['format.byte().validate("aGVsbG8=")', 'optional.none()'],
  ['format.date().validate("2021-01-01")', 'optional.none()'],
  ['format.datetime().validate("2021-01-01T00:00:00Z")', 'optional.none()'],
  ['format.dns1123Label().validate("contains a space")', { optional: [DNS1123_LABEL] }],
  ['format.dns1123Subdomain().validate("contains a space")', { optional: [DNS1123_SUBDOMAIN] }],
  ['format.dns1035Label().validate("contains a space")', { optional: [DNS1035_LABEL] }],
  ['format.dns1123LabelPrefix().validate("contains a space-")', { optional: [DNS1123_LABEL] }],
  ['format.dns1035LabelPrefix().validate("contains a space-")', { optional: [DNS1035_LABEL] }],
  ['format.byte().validate("aGVsbG8")', { optional: ['invalid base64'] }],
  ['format.date().validate("2020-01-32")', { optional: ['invalid date'] }],
  ['format.datetime().validate("2020-01-32T00:00:00Z")', { optional: ['invalid datetime'] }],
  ['format.uri().validate("not a uri")', { optional: ['parse "not a uri": invalid URI for request'] }],
  ['format.named("unknown").hasValue()', false],
  ['format.named("dns1123Label").value().validate("a b").hasValue()', true],
  // ---- lists ----
  ['[1, 2, 3].isSorted()', true],
  ['["b", "a"].isSorted()', false],
  ['[duration("1s"), duration("2s")].isSorted()', true],
  ['[1, 2, 3].sum()', 6n],
  ['[1.5, 2.5].sum()', 4],
  ['[9223372036854775807, 1].sum()', { error: 'integer overflow' }],
  ['[3, 1, 2].min()', 1n],
  ['["a", "c", "b"].max()', 'c'],
  ['[].min()', { error: 'min called on empty list' }],
  ['[].max()', { error: 'max called on empty list' }],
  ['[1, 2, 2, 3].indexOf(2)', 1n],
  ['[1, 2, 2, 3].lastIndexOf(2)', 2n],
  ['[1, 2].indexOf(4)', -1n],
  // ---- regex (Go's RE2: leftmost-first, lazy repeats, (?i), FindAllString's empty matches) ----
  ['"abc 123".find("[0-9]+")', '123'],
  ['"abc".find("[0-9]+")', ''],
  ['"123 abc 456".findAll("[0-9]+")', ['123', '456']],
  ['"123 abc 456".findAll("[0-9]+", 1)', ['123']],
  ['"123 abc 456".findAll("[0-9]+", 0)', []],
  ['"abc".findAll("")', ['', '', '', '']],
  ['"aaa".find("a+?")', 'a'],
  ['"ab".find("a|ab")', 'a'],
  ['"ABC".find("(?i)b")', 'B'],
  ['"abc".find("[")', { error: 'Illegal regex: error parsing regexp: missing closing ]: `[`' }],
  ['"abc".find("(?<name>a)")', 'a'],
  // ---- sets (cel-go ext) ----
  ['sets.contains([1, 2, 3], [2, 3])', true],
  ['sets.contains([1, 2], [4])', false],
  ['sets.contains([1, 2], [])', true],
  ['sets.equivalent([1, 2, 2], [2, 1])', true],
  ['sets.equivalent([1], [1, 2])', false],
  ['sets.intersects([1, 2], [2, 5])', true],
  ['sets.intersects([1], [])', false],
  // ---- strings v2 (no reverse before v3) ----
  ['strings.quote("a\\"b\\n")', '"a\\"b\\n"'],
  ['"abc".charAt(1)', 'b'],
  ['"a-b-c".replace("-", "_", 1)', 'a_b-c'],
  // ---- string.format (cel-go v0.22, en_US) ----
  ['"%s and %d".format(["a", 1])', 'a and 1'],
  ['"%.2f".format([1234.5])', '1,234.50'],
  ['"%f".format([3.14])', '3.140000'],
  ['"%e".format([2.71828])', '2.718280\u202f×\u202f10⁰⁰'],
  ['"%e".format([0.001])', '1.000000\u202f×\u202f10⁻⁰³'],
  ['"%x %X %o %b".format([26, 26, 30, 5])', '1a 1A 36 101'],
  ['"%x".format(["Hello"])', '48656c6c6f'],
  ['"%s".format([[1, 2.5, "a"]])', '[1, 2.500000, "a"]'],
  ['"%s".format([{"b": 2, "a": "x"}])', '{"a":"x", "b":2}'],
  ['"%s".format([duration("1h2m3s")])', '3723s'],
  ['"%s".format([timestamp("2023-02-03T23:31:20+00:00")])', '2023-02-03T23:31:20Z'],
  ['"%s %s".format(["a"])', { error: 'index 1 out of range' }],
  ['"%d".format(["a"])', { error: 'error during formatting: decimal clause can only be used on integers, was given string' }],
  ['"%z".format([1])', { error: 'could not parse formatting clause: unrecognized formatting clause "z"' }],
  ['"100%%".format([])', '100%'],
  ['string(duration("1h2m3.004s"))', '3723.004s'],
  ['string(timestamp("2011-08-18T19:03:37.01Z"))', '2011-08-18T19:03:37.01Z'],
  // ---- two-variable comprehensions (1.32) ----
  ['[1, 2].all(i, v, v > i)', true],
  ['{"a": 1, "b": 2}.exists(k, v, k == "b" && v == 2)', true],
  ['[1, 2, 3].existsOne(i, v, v == 2)', true],
  ['[1, 2, 3].transformList(i, v, i > 0, v * 2)', [4n, 6n]],
  ['{"a": 1}.transformMap(k, v, v + 1) == {"a": 2}', true],
  ['[1, 1].transformMapEntry(i, v, {v: i})', { error: 'insert failed: key 1 already exists' }],
  // ---- optionals ----
  ['optional.of(2).optMap(v, v * 2).value()', 4n],
  ['optional.none().optMap(v, v * 2).hasValue()', false],
  ['optional.of(2).optFlatMap(v, optional.of(v + 1)).value()', 3n],
  ['optional.ofNonZeroValue(0).hasValue()', false],
  ['optional.ofNonZeroValue("a").hasValue()', true],
  ['optional.of(1) == optional.of(1)', true],
  // ---- url ----
  ['url("https://example.com:80/path?k=v").getHost()', 'example.com:80'],
  ['url("x")', { error: 'URL parse error during conversion from string: parse "x": invalid URI for request' }],
];

describe('Kubernetes CEL libraries', () => {
  for (const [expression, expected] of cases) {
    it(expression, () => assert.deepEqual(run(expression), expected));
  }

  it('does not declare what 1.32 lacks: string.reverse (strings v3)', () => {
    assert.match(String((run('"abc".reverse()') as { error: string }).error), /reverse/);
  });

  it('a pathological pattern runs in linear time', () => {
    assert.deepEqual(run(`"${'a'.repeat(5000)}!".find("(a+)+$")`), '');
  });
});
