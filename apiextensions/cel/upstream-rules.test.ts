// Rules from upstream's CEL validator tables (apiextensions-apiserver schema/cel TestValidationExpressions):
// per group, the schema and object it runs on, the rules that must pass and, for the rules that must
// not, a part of the error upstream reports. Each rule is compiled as a CRD's rule at the root of the
// object, so it goes through the same compilation (literal validators, cost) and evaluation as a real one.
// Not here, because cel-js cannot yet do what they need: optional list/map literal entries (`[?x]`,
// `{?k: v}`), type identifiers (`net.IP`), equality and concatenation of list-type=set and list-type=map
// lists by their elements or keys, and `duration('0')`.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage } from '../../apiserver/request/status.js';
import type { JSONSchema } from '../../apiserver/schema/types.js';
import { compileSchemaRules } from './compile.js';
import { runRules } from './validate.js';

const primitive = (type: JSONSchema['type'], format?: string): JSONSchema => (format ? { type, format } : { type });
const integer = primitive('integer');
const number = primitive('number');
const float = primitive('number', 'float');
const double = primitive('number', 'double');
const string = primitive('string');
const byte = primitive('string', 'byte');
const boolean = primitive('boolean');
const duration = primitive('string', 'duration');
const date = primitive('string', 'date');
const dateTime = primitive('string', 'date-time');
const list = (items: JSONSchema): JSONSchema => ({ type: 'array', items });
const object = (properties: Record<string, JSONSchema>): JSONSchema => ({ type: 'object', properties });
const map = (values: JSONSchema): JSONSchema => ({ type: 'object', additionalProperties: values });
const schemas = (...values: JSONSchema[]): JSONSchema => object(Object.fromEntries(values.map((value, index) => [`val${index + 1}`, value])));
const objs = (...values: unknown[]): Record<string, unknown> => Object.fromEntries(values.map((value, index) => [`val${index + 1}`, value]));

const fixtures: Record<string, [JSONSchema, unknown]> = {
  'numeric comparisons': [schemas(integer, integer, integer, number, float, double, number, float, double), objs(5, 10, 15, 10, 10, 10, 10, 10, 10)],
  conversions: [
    schemas(integer, number, number, number, boolean, string, byte, string, duration, string, dateTime, string, date),
    objs(10, 10, 10.49, 10.5, true, '10', 'MTA=', '3723.004s', '1h2m3s4ms', '2011-08-18T19:03:37.01+01:00', '2011-08-18T19:03:37.01+01:00', '2011-08-18T00:00:00Z', '2011-08-18'),
  ],
  'unicode strings': [schemas(string, string), objs('Rook takes 👑', 'Rook takes 👑')],
  optionals: [
    object({ presentObj: object({ presentStr: string }), absentObj: object({ absentStr: string }), m: map(string), l: list(string) }),
    { presentObj: { presentStr: 'value' }, m: { k: 'v' }, l: ['a'] },
  ],
  quantity: [schemas(string, string), objs('20', '200M')],
  'IP and CIDR': [schemas(string, string), objs('20', '200M')],
  format: [schemas(string, string), objs('20', '200M')],
  'stdlib regex functions': [object({ str: string }), { str: 'this is a 123 string 456' }],
  'URL parsing': [object({ url: string }), { url: 'https://user:pass@kubernetes.io:80/docs/home?k1=a&k2=b&k2=c#anchor' }],
  'stdlib list functions': [
    object(
      Object.fromEntries(
        Object.entries({ Ints: integer, Doubles: double, IntBackedDoubles: double, Durations: duration, Strings: string, Dates: date }).flatMap(([name, items]) => [
          [name[0].toLowerCase() + name.slice(1), list(items)],
          [name === 'IntBackedDoubles' ? 'unsortedIntBackedDDoubles' : `unsorted${name}`, list(items)],
          [name === 'IntBackedDoubles' ? 'emptyIntBackedDDoubles' : `empty${name}`, list(items)],
        ]),
      ),
    ),
    {
      ints: [1, 2, 2, 3], unsortedInts: [2, 1], emptyInts: [],
      doubles: [1, 2, 2, 3], unsortedDoubles: [2, 1], emptyDoubles: [],
      intBackedDoubles: [1, 2, 2, 3], unsortedIntBackedDDoubles: [2, 1], emptyIntBackedDDoubles: [],
      durations: ['1s', '1m', '1m', '1h'], unsortedDurations: ['1m', '1s'], emptyDurations: [],
      strings: ['a', 'b', 'b', 'c'], unsortedStrings: ['b', 'a'], emptyStrings: [],
      dates: ['2000-01-01', '2000-02-01', '2000-02-01', '2010-01-01'], unsortedDates: ['2000-02-01', '2000-01-01'], emptyDates: [],
      objs: [{ f1: 'a', f2: 'a' }, { f1: 'a', f2: 'b' }, { f1: 'a', f2: 'b' }, { f1: 'a', f2: 'c' }],
    },
  ],
};
(fixtures['stdlib list functions'][0].properties as Record<string, JSONSchema>).objs = list(object({ f1: string, f2: string }));
const int32 = primitive('integer', 'int32');
const int64 = primitive('integer', 'int64');
const listMap = (keys: string[], items: JSONSchema): JSONSchema => ({ type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': keys, items });
Object.assign(fixtures, {
  // JSON.parse reads 9223372036854775807 as 2^63: past int64 either way, so adding 1 overflows.
  integers: [schemas(integer, integer, int32, int32, int64, int64), objs(2 ** 63, 2 ** 63, 2147483647, 2147483647, 2 ** 63, 2 ** 63)],
  numbers: [schemas(number, number, float, float, double, double, double), objs(Number.MAX_VALUE, Number.MAX_VALUE, 3.4028234663852886e38, 3.4028234663852886e38, Number.MAX_VALUE, Number.MAX_VALUE, 1)],
  bytes: [schemas(byte, byte), objs('QUI=', 'QUI=')],
  booleans: [schemas(boolean, boolean, boolean, boolean), objs(true, true, false, false)],
  'duration format': [schemas(duration, duration), objs('1h2m3s4ms', '1h2m3s4ms')],
  'date format': [schemas(date, date), objs('1997-07-16', '1997-07-16')],
  'date-time format': [schemas(dateTime, dateTime), objs('2011-08-18T19:03:37.010000000+01:00', '2011-08-18T19:03:37.010000000+01:00')],
  enums: [object({ enumStr: { type: 'string', enum: ['Pending', 'Available', 'Bound', 'Released', 'Failed'] } }), { enumStr: 'Pending' }],
  lists: [schemas(list(integer), list(integer)), objs([1, 2, 3], [1, 2, 3])],
  'string lists': [schemas(list(string)), objs(['a', 'b', 'c'])],
  listMaps: [
    object({ objs: list(listMap(['k'], object({ k: string, v: string }))) }),
    { objs: [[{ k: 'a', v: '1' }, { k: 'b', v: '2' }], [{ k: 'b', v: '2' }, { k: 'a', v: '1' }], [{ k: 'b', v: '3' }, { k: 'a', v: '1' }], [{ k: 'c', v: '4' }]] },
  ],
  maps: [schemas(map(string), map(string)), objs({ k1: 'a', k2: 'b' }, { k2: 'b', k1: 'a' })],
  objects: [object({ objs: list(object({ f1: string, f2: string })) }), { objs: [{ f1: 'a', f2: 'b' }, { f1: 'a', f2: 'b' }] }],
  'field nullability': [
    object({
      unsetPlainStr: string, unsetDefaultedStr: { ...string, default: 'default value' }, unsetNullableStr: { ...string, nullable: true },
      setPlainStr: string, setDefaultedStr: { ...string, default: 'default value' }, setNullableStr: { ...string, nullable: true }, setToNullNullableStr: { ...string, nullable: true },
    }),
    { setPlainStr: 'v1', setDefaultedStr: 'v2', setNullableStr: 'v3', setToNullNullableStr: null, unsetDefaultedStr: 'default value' },
  ],
});

const tables: Record<string, { valid: string[]; errors: Record<string, string> }> = {
  "numeric comparisons": {
    valid: [
      "double(self.val1) < self.val4",
      "double(self.val1) <= self.val4",
      "double(self.val2) <= self.val4",
      "double(self.val2) == self.val4",
      "double(self.val2) >= self.val4",
      "double(self.val3) > self.val4",
      "double(self.val3) >= self.val4",
      "self.val1 < int(self.val4)",
      "self.val2 == int(self.val4)",
      "self.val3 > int(self.val4)",
      "double(self.val1) < self.val5",
      "double(self.val2) == self.val5",
      "double(self.val3) > self.val5",
      "self.val1 < int(self.val5)",
      "self.val2 == int(self.val5)",
      "self.val3 > int(self.val5)",
      "double(self.val1) < self.val6",
      "double(self.val2) == self.val6",
      "double(self.val3) > self.val6",
      "self.val1 < int(self.val6)",
      "self.val2 == int(self.val6)",
      "self.val3 > int(self.val6)",
      "double(self.val1) < self.val7",
      "double(self.val2) == self.val7",
      "double(self.val3) > self.val7",
      "self.val1 < int(self.val7)",
      "self.val2 == int(self.val7)",
      "self.val3 > int(self.val7)",
      "double(self.val1) < self.val8",
      "double(self.val2) == self.val8",
      "double(self.val3) > self.val8",
      "self.val1 < int(self.val8)",
      "self.val2 == int(self.val8)",
      "self.val3 > int(self.val8)",
      "double(self.val1) < self.val9",
      "double(self.val2) == self.val9",
      "double(self.val3) > self.val9",
      "self.val1 < int(self.val9)",
      "self.val2 == int(self.val9)",
      "self.val3 > int(self.val9)",
      "double(5) < 10.0",
      "double(10) == 10.0",
      "double(15) > 10.0",
      "5 < int(10.0)",
      "10 == int(10.0)",
      "15 > int(10.0)",
      "double(self.val1) < 10.0",
      "double(self.val2) == 10.0",
      "double(self.val3) > 10.0",
      "self.val1 < self.val4",
      "self.val1 <= self.val4",
      "self.val2 <= self.val4",
      "self.val2 >= self.val4",
      "self.val3 > self.val4",
      "self.val3 >= self.val4",
      "self.val1 < self.val4",
      "self.val3 > self.val4",
      "self.val1 < self.val5",
      "self.val3 > self.val5",
      "self.val1 < self.val5",
      "self.val3 > self.val5",
      "self.val1 < self.val6",
      "self.val3 > self.val6",
      "self.val1 < self.val6",
      "self.val3 > self.val6",
      "self.val1 < self.val7",
      "self.val3 > self.val7",
      "self.val1 < int(self.val7)",
      "self.val3 > int(self.val7)",
      "self.val1 < self.val8",
      "self.val3 > self.val8",
      "self.val1 < self.val8",
      "self.val3 > self.val8",
      "self.val1 < self.val9",
      "self.val3 > self.val9",
      "self.val1 < self.val9",
      "self.val3 > self.val9",
      "5 < 10.0",
      "15 > 10.0",
      "5 < 10.0",
      "15 > 10.0",
      "self.val1 < 10.0",
      "self.val3 > 10.0",
    ],
    errors: {
    },
  },
  "conversions": {
    valid: [
      "int(self.val2) == self.val1",
      "int(self.val3) == self.val1",
      "int(self.val4) == self.val1",
      "int(self.val6) == self.val1",
      "double(self.val1) == self.val2",
      "double(self.val6) == self.val2",
      "bytes(self.val6) == self.val7",
      "string(self.val1) == self.val6",
      "string(self.val2) == '10'",
      "string(self.val3) == '10.49'",
      "string(self.val4) == '10.5'",
      "string(self.val5) == 'true'",
      "string(self.val7) == self.val6",
      "duration(self.val8) == self.val9",
      "string(self.val9) == self.val8",
      "timestamp(self.val10) == self.val11",
      "string(self.val11) == self.val10",
      "timestamp(self.val12) == self.val13",
      "string(self.val13) == self.val12",
    ],
    errors: {
    },
  },
  "unicode strings": {
    valid: [
      "self.val1.startsWith('Rook')",
      "!self.val1.startsWith('knight')",
      "self.val1.contains('takes')",
      "!self.val1.contains('gives')",
      "self.val1.endsWith('👑')",
      "!self.val1.endsWith('pawn')",
      "self.val1.matches('^[^0-9]*$')",
      "!self.val1.matches('^[0-9]*$')",
      "type(self.val1) == string",
      "size(self.val1) == 12",
      "self.val1.charAt(3) == 'k'",
      "self.val1.indexOf('o') == 1",
      "self.val1.indexOf('o', 2) == 2",
      "self.val1.replace(' ', 'x') == 'Rookxtakesx👑'",
      "self.val1.replace(' ', 'x', 1) == 'Rookxtakes 👑'",
      "self.val1.split(' ') == ['Rook', 'takes', '👑']",
      "self.val1.split(' ', 2) == ['Rook', 'takes 👑']",
      "self.val1.substring(5) == 'takes 👑'",
      "self.val1.substring(0, 4) == 'Rook'",
      "self.val1.substring(4, 10).trim() == 'takes'",
      "self.val1.upperAscii() == 'ROOK TAKES 👑'",
      "self.val1.lowerAscii() == 'rook takes 👑'",
      "'%d %s %f %s %s'.format([1, 'abc', 1.0, duration('1m'), timestamp('2000-01-01T00:00:00.000Z')]) == '1 abc 1.000000 60s 2000-01-01T00:00:00Z'",
      "'%e'.format([3.14]) == '3.140000 × 10⁰⁰'",
      "'%o %o %o'.format([7, 8, 9]) == '7 10 11'",
      "'%b %b %b'.format([7, 8, 9]) == '111 1000 1001'",
    ],
    errors: {
      "self.val1.matches(')')": "compilation failed: ERROR: <input>:1:19: invalid matches argument",
    },
  },
  "optionals": {
    valid: [
      "self.?presentObj.?presentStr == optional.of('value')",
      "self.presentObj.?presentStr == optional.of('value')",
      "self.presentObj.?presentStr.or(optional.of('nope')) == optional.of('value')",
      "self.presentObj.?presentStr.orValue('') == 'value'",
      "self.presentObj.?presentStr.hasValue() == true",
      "self.presentObj.?presentStr.optMap(v, v == 'value').hasValue()",
      "self.?absentObj.?absentStr == optional.none()",
      "self.?absentObj.?absentStr.or(optional.of('nope')) == optional.of('nope')",
      "self.?absentObj.?absentStr.orValue('nope') == 'nope'",
      "self.?absentObj.?absentStr.hasValue() == false",
      "self.?absentObj.?absentStr.optMap(v, v == 'value').hasValue() == false",
      "self.m[?'k'] == optional.of('v')",
      "self.m[?'k'].or(optional.of('nope')) == optional.of('v')",
      "self.m[?'k'].orValue('') == 'v'",
      "self.m[?'k'].hasValue() == true",
      "self.m[?'k'].optMap(v, v == 'v').hasValue()",
      "self.m[?'x'] == optional.none()",
      "self.m[?'x'].or(optional.of('nope')) == optional.of('nope')",
      "self.m[?'x'].orValue('nope') == 'nope'",
      "self.m[?'x'].hasValue() == false",
      "self.m[?'x'].hasValue() == false",
      "self.l[?0] == optional.of('a')",
      "self.l[?1] == optional.none()",
      "self.l[?0].orValue('') == 'a'",
      "self.l[?0].hasValue() == true",
      "self.l[?0].optMap(v, v == 'a').hasValue()",
      "self.l[?1] == optional.none()",
      "self.l[?1].or(optional.of('nope')) == optional.of('nope')",
      "self.l[?1].orValue('nope') == 'nope'",
      "self.l[?1].hasValue() == false",
      "self.l[?1].hasValue() == false",
      "optional.ofNonZeroValue(1).hasValue()",
      "optional.ofNonZeroValue(uint(1)).hasValue()",
      "optional.ofNonZeroValue(1.1).hasValue()",
      "optional.ofNonZeroValue('a').hasValue()",
      "optional.ofNonZeroValue(true).hasValue()",
      "optional.ofNonZeroValue(['a']).hasValue()",
      "optional.ofNonZeroValue({'k': 'v'}).hasValue()",
      "optional.ofNonZeroValue(timestamp('2011-08-18T00:00:00.000+01:00')).hasValue()",
      "optional.ofNonZeroValue(duration('19h3m37s10ms')).hasValue()",
      "optional.ofNonZeroValue(null) == optional.none()",
      "optional.ofNonZeroValue(0) == optional.none()",
      "optional.ofNonZeroValue(uint(0)) == optional.none()",
      "optional.ofNonZeroValue(0.0) == optional.none()",
      "optional.ofNonZeroValue('') == optional.none()",
      "optional.ofNonZeroValue(false) == optional.none()",
      "optional.ofNonZeroValue([]) == optional.none()",
      "optional.ofNonZeroValue({}) == optional.none()",
      "optional.ofNonZeroValue(timestamp('0001-01-01T00:00:00.000+00:00')) == optional.none()",
      "optional.ofNonZeroValue(duration('0s')) == optional.none()",
    ],
    errors: {
      "self.absentObj.?absentStr == optional.none()": "no such key: absentObj",
    },
  },
  "quantity": {
    valid: [
      "isQuantity(self.val1)",
      "isQuantity(self.val2)",
      "isQuantity(\"20Mi\")",
      "quantity(self.val2) == quantity(\"0.2G\") && quantity(\"0.2G\") == quantity(\"200M\")",
      "quantity(\"2M\") == quantity(\"0.002G\") && quantity(\"2000k\") == quantity(\"2M\") && quantity(\"0.002G\") == quantity(\"2000k\")",
      "quantity(self.val1).isLessThan(quantity(\"100M\"))",
      "quantity(self.val2).isGreaterThan(quantity(\"50M\"))",
      "quantity(self.val2).compareTo(quantity(\"0.2G\")) == 0",
      "quantity(\"50k\").add(quantity(self.val1)) == quantity(\"50.02k\")",
      "quantity(\"50k\").sub(quantity(self.val1)) == quantity(\"49980\")",
      "quantity(self.val1).isInteger()",
    ],
    errors: {
    },
  },
  "IP and CIDR": {
    valid: [
      "isIP(\"192.168.0.1\")",
      "ip.isCanonical(\"127.0.0.1\")",
      "ip(\"192.168.0.1\").family() > 0",
      "ip(\"0.0.0.0\").isUnspecified()",
      "ip(\"127.0.0.1\").isLoopback()",
      "ip(\"224.0.0.1\").isLinkLocalMulticast()",
      "ip(\"192.168.0.1\").isGlobalUnicast()",
      "cidr(\"192.168.0.0/24\").containsIP(ip(\"192.168.0.1\"))",
      "cidr(\"192.168.0.0/24\").containsCIDR(\"192.168.0.0/25\")",
      "cidr(\"2001:db8::/32\").containsCIDR(cidr(\"2001:db8::/33\"))",
      "cidr('192.168.0.0/24') == cidr('192.168.0.0/24').masked()",
      "cidr('192.168.0.0/16').prefixLength() == 16",
      "cidr('::1/128').ip().family() == 6",
    ],
    errors: {
    },
  },
  "format": {
    valid: [
      "format.dns1123Label().validate(\"my-label-name\") == optional.none()",
      "format.dns1123Subdomain().validate(\"apiextensions.k8s.io\") == optional.none()",
      "format.qualifiedName().validate(\"apiextensions.k8s.io/v1beta1\") == optional.none()",
      "format.dns1123LabelPrefix().validate(\"my-label-prefix-\") == optional.none()",
      "format.dns1123SubdomainPrefix().validate(\"mysubdomain.prefix.-\") == optional.none()",
      "format.dns1035LabelPrefix().validate(\"my-label-prefix-\") == optional.none()",
      "format.uri().validate(\"http://example.com\") == optional.none()",
      "format.uuid().validate(\"123e4567-e89b-12d3-a456-426614174000\") == optional.none()",
      "format.byte().validate(\"aGVsbG8=\") == optional.none()",
      "format.date().validate(\"2021-01-01\") == optional.none()",
      "format.datetime().validate(\"2021-01-01T00:00:00Z\") == optional.none()",
      "format.named(\"dns1123Label\").value().validate(\"my-name\") == optional.none()",
      "format.dns1123Label().validate(\"contains a space\").value()[0] == \"a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \\'-\\', and must start and end with an alphanumeric character (e.g. \\'my-name\\',  or \\'123-abc\\', regex used for validation is \\'[a-z0-9]([-a-z0-9]*[a-z0-9])?\\')\"",
      "!format.named(\"unknown\").hasValue()",
    ],
    errors: {
    },
  },
  "stdlib regex functions": {
    valid: [
      "self.str.find('[0-9]+') == '123'",
      "self.str.find('[0-9]+') != '456'",
      "self.str.find('xyz') == ''",
      "self.str.findAll('[0-9]+') == ['123', '456']",
      "self.str.findAll('[0-9]+', 0) == []",
      "self.str.findAll('[0-9]+', 1) == ['123']",
      "self.str.findAll('[0-9]+', 2) == ['123', '456']",
      "self.str.findAll('[0-9]+', 3) == ['123', '456']",
      "self.str.findAll('[0-9]+', -1) == ['123', '456']",
      "self.str.findAll('xyz') == []",
      "self.str.findAll('xyz', 1) == []",
    ],
    errors: {
      "self.str.find(')') == ''": "program instantiation failed: error parsing regexp: unexpected ): `)`",
      "self.str.findAll(')') == []": "program instantiation failed: error parsing regexp: unexpected ): `)`",
      "self.str.findAll(')', 1) == []": "program instantiation failed: error parsing regexp: unexpected ): `)`",
      "self.str.matches('x++')": "invalid matches argument",
    },
  },
  "URL parsing": {
    valid: [
      "url('/path').getScheme() == ''",
      "url('https://example.com/').getScheme() == 'https'",
      "url('https://example.com:80/').getHost() == 'example.com:80'",
      "url('https://example.com/').getHost() == 'example.com'",
      "url('https://[::1]:80/').getHost() == '[::1]:80'",
      "url('https://[::1]/').getHost() == '[::1]'",
      "url('/path').getHost() == ''",
      "url('https://example.com:80/').getHostname() == 'example.com'",
      "url('https://127.0.0.1/').getHostname() == '127.0.0.1'",
      "url('https://[::1]/').getHostname() == '::1'",
      "url('/path').getHostname() == ''",
      "url('https://example.com:80/').getPort() == '80'",
      "url('https://example.com/').getPort() == ''",
      "url('/path').getPort() == ''",
      "url('https://example.com/path').getEscapedPath() == '/path'",
      "url('https://example.com/with space/').getEscapedPath() == '/with%20space/'",
      "url('https://example.com').getEscapedPath() == ''",
      "url('https://example.com/path?k1=a&k2=b&k2=c').getQuery() == { 'k1': ['a'], 'k2': ['b', 'c']}",
      "url('https://example.com/path?key with spaces=value with spaces').getQuery() == { 'key with spaces': ['value with spaces']}",
      "url('https://example.com/path?').getQuery() == {}",
      "url('https://example.com/path').getQuery() == {}",
      "url(self.url).getScheme() == 'https'",
      "url(self.url).getHost() == 'kubernetes.io:80'",
      "url(self.url).getHostname() == 'kubernetes.io'",
      "url(self.url).getPort() == '80'",
      "url(self.url).getEscapedPath() == '/docs/home'",
      "url(self.url).getQuery() == {'k1': ['a'], 'k2': ['b', 'c']}",
      "isURL('https://user:pass@example.com:80/path?query=val#fragment')",
      "isURL('/path') == true",
      "isURL('https://a:b:c/') == false",
      "isURL('../relative-path') == false",
    ],
    errors: {
    },
  },
  "stdlib list functions": {
    valid: [
      "self.ints.sum() == 8",
      "self.ints.min() == 1",
      "self.ints.max() == 3",
      "self.emptyInts.sum() == 0",
      "self.ints.isSorted()",
      "self.emptyInts.isSorted()",
      "self.unsortedInts.isSorted() == false",
      "self.ints.indexOf(2) == 1",
      "self.ints.lastIndexOf(2) == 2",
      "self.ints.indexOf(10) == -1",
      "self.ints.lastIndexOf(10) == -1",
      "self.doubles.sum() == 8.0",
      "self.doubles.min() == 1.0",
      "self.doubles.max() == 3.0",
      "self.emptyDoubles.sum() == 0.0",
      "self.doubles.isSorted()",
      "self.emptyDoubles.isSorted()",
      "self.unsortedDoubles.isSorted() == false",
      "self.doubles.indexOf(2.0) == 1",
      "self.doubles.lastIndexOf(2.0) == 2",
      "self.doubles.indexOf(10.0) == -1",
      "self.doubles.lastIndexOf(10.0) == -1",
      "self.intBackedDoubles.sum() == 8.0",
      "self.intBackedDoubles.min() == 1.0",
      "self.intBackedDoubles.max() == 3.0",
      "self.emptyIntBackedDDoubles.sum() == 0.0",
      "self.intBackedDoubles.isSorted()",
      "self.emptyDoubles.isSorted()",
      "self.unsortedIntBackedDDoubles.isSorted() == false",
      "self.intBackedDoubles.indexOf(2.0) == 1",
      "self.intBackedDoubles.lastIndexOf(2.0) == 2",
      "self.intBackedDoubles.indexOf(10.0) == -1",
      "self.intBackedDoubles.lastIndexOf(10.0) == -1",
      "self.durations.sum() == duration('1h2m1s')",
      "self.durations.min() == duration('1s')",
      "self.durations.max() == duration('1h')",
      "self.durations.isSorted()",
      "self.emptyDurations.isSorted()",
      "self.unsortedDurations.isSorted() == false",
      "self.durations.indexOf(duration('1m')) == 1",
      "self.durations.lastIndexOf(duration('1m')) == 2",
      "self.durations.indexOf(duration('2m')) == -1",
      "self.durations.lastIndexOf(duration('2m')) == -1",
      "self.strings.min() == 'a'",
      "self.strings.max() == 'c'",
      "self.strings.isSorted()",
      "self.emptyStrings.isSorted()",
      "self.unsortedStrings.isSorted() == false",
      "self.strings.indexOf('b') == 1",
      "self.strings.lastIndexOf('b') == 2",
      "self.strings.indexOf('x') == -1",
      "self.strings.lastIndexOf('x') == -1",
      "self.dates.min() == timestamp('2000-01-01T00:00:00.000Z')",
      "self.dates.max() == timestamp('2010-01-01T00:00:00.000Z')",
      "self.dates.isSorted()",
      "self.emptyDates.isSorted()",
      "self.unsortedDates.isSorted() == false",
      "self.dates.indexOf(timestamp('2000-02-01T00:00:00.000Z')) == 1",
      "self.dates.lastIndexOf(timestamp('2000-02-01T00:00:00.000Z')) == 2",
      "self.dates.indexOf(timestamp('2005-02-01T00:00:00.000Z')) == -1",
      "self.dates.lastIndexOf(timestamp('2005-02-01T00:00:00.000Z')) == -1",
      "[[1], [2]].indexOf([1]) == 0",
      "[{'a': 1}, {'b': 2}].lastIndexOf({'b': 2}) == 1",
      "self.objs.indexOf(self.objs[1]) == 1",
      "self.objs.lastIndexOf(self.objs[1]) == 2",
      "([0] + self.emptyInts).min() == 0",
      "dyn([]).sum() == 0",
      "dyn([1, 2]).sum() == 3",
      "dyn([1.0, 2.0]).sum() == 3.0",
      "[].sum() == 0",
    ],
    errors: {
      "self.emptyInts.min() == 1": "min called on empty list",
      "self.emptyInts.max() == 3": "max called on empty list",
      "self.emptyDoubles.min() == 1.0": "min called on empty list",
      "self.emptyDoubles.max() == 3.0": "max called on empty list",
      "self.emptyStrings.min() == 'a'": "min called on empty list",
      "self.emptyStrings.max() == 'c'": "max called on empty list",
      "['a', 'b'].sum() == 'c'": "found no matching overload for 'sum' applied to 'list(string).()",
      "[[1], [2]].min() == [1]": "found no matching overload for 'min' applied to 'list(list(int)).()",
      "[{'a': 1}, {'b': 2}].max() == {'b': 2}": "found no matching overload for 'max' applied to 'list(map(string, int)).()",
    },
  },
  "integers": {
    valid: [
      "self.val1 == self.val6",
      "type(self.val1) == int",
      "type(self.val3) == int",
      "type(self.val5) == int",
    ],
    errors: {
      "self.val1 + 1 == 0": "integer overflow",
      "self.val5 + 1 == 0": "integer overflow",
      "1 / 0 == 1 / 0": "division by zero",
    },
  },
  "numbers": {
    valid: [
      "self.val1 == self.val6",
      "type(self.val1) == double",
      "type(self.val3) == double",
      "type(self.val5) == double",
      "type(self.val7) == double",
      "self.val7 == 1.0",
    ],
    errors: {
    },
  },
  "bytes": {
    valid: [
      "self.val1 == b'AB'",
      "self.val1 == bytes('AB')",
      "self.val1 == b'\\x41\\x42'",
      "type(self.val1) == bytes",
      "size(self.val1) == 2",
    ],
    errors: {
    },
  },
  "booleans": {
    valid: [
      "self.val1 != self.val4",
      "type(self.val1) == bool",
    ],
    errors: {
    },
  },
  "duration format": {
    valid: [
      "self.val1 == duration('1h2m') + duration('3s4ms')",
      "self.val1.getHours() == 1",
      "self.val1.getMinutes() == 62",
      "self.val1.getSeconds() == 3723",
      "self.val1.getMilliseconds() == 3723004",
      "type(self.val1) == google.protobuf.Duration",
    ],
    errors: {
      "duration('1')": "compilation failed: ERROR: <input>:1:10: invalid duration argument",
      "duration('1d')": "compilation failed: ERROR: <input>:1:10: invalid duration argument",
      "duration('1us') < duration('1nns')": "compilation failed: ERROR: <input>:1:28: invalid duration argument",
    },
  },
  "date format": {
    valid: [
      "self.val1.getDate() == 16",
      "self.val1.getMonth() == 06",
      "self.val1.getFullYear() == 1997",
      "type(self.val1) == google.protobuf.Timestamp",
    ],
    errors: {
    },
  },
  "date-time format": {
    valid: [
      "self.val1 == timestamp('2011-08-18T00:00:00.000+01:00') + duration('19h3m37s10ms')",
      "self.val1.getDate('01:00') == 18",
      "self.val1.getMonth('01:00') == 7",
      "self.val1.getFullYear('01:00') == 2011",
      "self.val1.getHours('01:00') == 19",
      "self.val1.getMinutes('01:00') == 03",
      "self.val1.getSeconds('01:00') == 37",
      "self.val1.getMilliseconds('01:00') == 10",
      "self.val1.getHours('UTC') == 18",
      "type(self.val1) == google.protobuf.Timestamp",
    ],
    errors: {
      "timestamp('1000-00-00T00:00:00Z')": "compilation failed: ERROR: <input>:1:11: invalid timestamp",
      "timestamp('1000-01-01T00:00:00ZZ')": "compilation failed: ERROR: <input>:1:11: invalid timestamp",
      "timestamp(-62135596801)": "compilation failed: ERROR: <input>:1:11: invalid timestamp",
    },
  },
  "enums": {
    valid: [
      "self.enumStr == 'Pending'",
      "self.enumStr in ['Pending', 'Available']",
    ],
    errors: {
    },
  },
  "lists": {
    valid: [
      "1 in self.val1",
      "self.val2[0] in self.val1",
      "!(0 in self.val1)",
      "self.val1 + self.val2 == [1, 2, 3, 1, 2, 3]",
      "self.val1 + [4, 5] == [1, 2, 3, 4, 5]",
    ],
    errors: {
      "[1, 'a', false].filter(x, string(x) == 'a')": "compilation failed: ERROR: <input>:1:5: expected type 'int' but found 'string'",
    },
  },
  "string lists": {
    valid: [
      "self.val1.join('-') == 'a-b-c'",
      "['a', 'b', 'c'].join('-') == 'a-b-c'",
      "self.val1.join() == 'abc'",
      "['a', 'b', 'c'].join() == 'abc'",
    ],
    errors: {
    },
  },
  "listMaps": {
    valid: [
      "self.objs[0] == [self.objs[0][0], self.objs[0][1]]",
      "size(self.objs[0] + [self.objs[3][0]]) == 3",
    ],
    errors: {
      "self.objs[0] == {'k': 'a', 'v': '1'}": "no matching overload for '_==_'",
    },
  },
  "maps": {
    valid: [
      "'k1' in self.val1",
      "!('k3' in self.val1)",
      "self.val1 == {'k1': 'a', 'k2': 'b'}",
    ],
    errors: {
      "{'k1': 'a', 'k2': 1, 'k2': false}": "expected type 'string' but found 'int'",
    },
  },
  "objects": {
    valid: [
    ],
    errors: {
      "self.objs[0] == {'f1': 'a', 'f2': 'b'}": "found no matching overload for '_==_'",
    },
  },
  "field nullability": {
    valid: [
      "!has(self.unsetPlainStr)",
      "has(self.unsetDefaultedStr) && self.unsetDefaultedStr == 'default value'",
      "!has(self.unsetNullableStr)",
      "has(self.setPlainStr) && self.setPlainStr == 'v1'",
      "has(self.setDefaultedStr) && self.setDefaultedStr == 'v2'",
      "has(self.setNullableStr) && self.setNullableStr == 'v3'",
      "type(self.setNullableStr) != null_type",
      "!has(self.setToNullNullableStr)",
    ],
    errors: {
      "self.unsetPlainStr == null": "no matching overload for '_==_' applied to '(string, null)",
      "self.unsetDefaultedStr != null": "no matching overload for '_!=_' applied to '(string, null)",
      "self.unsetNullableStr == null": "no matching overload for '_==_' applied to '(string, null)",
      "self.setPlainStr != null": "no matching overload for '_!=_' applied to '(string, null)",
      "self.setDefaultedStr != null": "no matching overload for '_!=_' applied to '(string, null)",
      "self.setNullableStr != null": "no matching overload for '_!=_' applied to '(string, null)",
    },
  },
};

/** The rule's outcome as one line: `ok`, or its compile or validation errors as kubectl shows them. */
function outcome(schema: JSONSchema, value: unknown, rule: string): string {
  // Upstream's validator tests compile without the CRD's cost limits (several of these rules exceed them).
  const compiled = compileSchemaRules({ ...schema, 'x-kubernetes-validations': [{ rule }] }, 'openAPIV3Schema', { costLimits: false });
  const errors = compiled.errors;
  if (errors.length > 0) return errors.map((error) => `${error.field}: ${fieldErrorMessage(error)}`).join('\n');
  if (!compiled.validator) return 'ok';
  const result = runRules(compiled.validator, value);
  return result.errors.length === 0 ? 'ok' : result.errors.map((error) => `${error.field}: ${fieldErrorMessage(error)}`).join('\n');
}

describe('CEL rules from upstream tables', () => {
  for (const [group, { valid, errors }] of Object.entries(tables)) {
    const [schema, value] = fixtures[group];
    describe(group, () => {
      it(`${valid.length} rules hold`, () => {
        const failures = valid.map((rule) => [rule, outcome(schema, value, rule)]).filter(([, result]) => result !== 'ok');
        assert.deepEqual(failures, []);
      });
      for (const [rule, expected] of Object.entries(errors)) {
        it(`${rule} fails with ${expected}`, () => assert.ok(outcome(schema, value, rule).includes(expected), outcome(schema, value, rule)));
      }
    });
  }
});
