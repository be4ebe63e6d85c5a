// The string formats custom resources are checked against: kube-openapi's strfmt registry as
// apiextensions-apiserver keeps it (every other format, int32 and int64 included, is stripped from CRD
// schemas and so accepts anything). Each check follows the Go function upstream registers, quirks included
// (e.g. an `ipv4` may have leading zeros, a `duration` may be Scala-style like `3 days`).

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const UUID3 = /^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const UUID4 = /^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i;
const UUID5 = /^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i;
const HOSTNAME =
  /^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9\-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})$/u;
const CREDIT_CARD = /^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35\d{3})\d{11})$/;
const ISBN10 = /^(?:[0-9]{9}X|[0-9]{10})$/;
const ISBN13 = /^(?:[0-9]{13})$/;
const SSN = /^\d{3}[- ]?\d{2}[- ]?\d{4}$/;
const HEX_COLOR = /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
const RGB_COLOR = /^rgb\(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*\)$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/;
const BSON_OBJECT_ID = /^[0-9a-fA-F]{24}$/;
const DATE_TIME_CLOCK = /^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$/;

const VALIDATORS: Record<string, (value: string) => boolean> = {
  bsonobjectid: (value) => BSON_OBJECT_ID.test(value),
  uri: isRequestURI,
  email: isEmail,
  hostname: isHostname,
  ipv4: (value) => parseIP(value, true) !== undefined && value.includes('.'),
  ipv6: (value) => parseIP(value, false) !== undefined && value.includes(':'),
  cidr: isCIDR,
  mac: isMAC,
  uuid: (value) => UUID.test(value),
  uuid3: (value) => UUID3.test(value),
  uuid4: (value) => UUID4.test(value),
  uuid5: (value) => UUID5.test(value),
  isbn: (value) => isISBN(value, 10) || isISBN(value, 13),
  isbn10: (value) => isISBN(value, 10),
  isbn13: (value) => isISBN(value, 13),
  creditcard: isCreditCard,
  ssn: (value) => SSN.test(value),
  hexcolor: (value) => HEX_COLOR.test(value),
  rgbcolor: (value) => RGB_COLOR.test(value),
  byte: (value) => BASE64.test(value),
  password: () => true,
  date: isDate,
  duration: isDuration,
  datetime: isDateTime,
};

/** strfmt's name normalization: `date-time` and `datetime` are one format. */
function normalize(format: string): string {
  return format.replaceAll('-', '');
}

/** Whether CRD schemas keep this format (upstream blanks the others, so they check nothing). */
export function isSupportedFormat(format: string): boolean {
  return Object.hasOwn(VALIDATORS, normalize(format));
}

/** Whether a string satisfies a supported format; unsupported formats accept everything. */
export function matchesFormat(format: string, value: string): boolean {
  const validator = VALIDATORS[normalize(format)];
  return validator ? validator(value) : true;
}

export const SUPPORTED_FORMATS = Object.keys(VALIDATORS);

function isHostname(value: string): boolean {
  if (Buffer.byteLength(value) > 255) return false;
  if (!HOSTNAME.test(value)) return false;
  return value.split('.').every((part) => Buffer.byteLength(part) <= 63);
}

/** RFC 3339 full-date as Go's time.Parse("2006-01-02") reads it: real calendar days only. */
export function isDate(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return day <= days;
}

function isDateTime(value: string): boolean {
  if (value.length < 4) return false;
  const parts = value.toLowerCase().split('t');
  if (parts.length < 2 || !isDate(parts[0])) return false;
  const match = DATE_TIME_CLOCK.exec(parts[1]);
  if (!match) return false;
  return match[1] <= '23' && match[2] <= '59' && match[3] <= '59';
}

const GO_DURATION_UNITS = new Set(['ns', 'us', 'µs', 'μs', 'ms', 's', 'm', 'h']);

/** Go's time.ParseDuration grammar: `[-+]?(\d+(\.\d*)?|\.\d+)unit...`, or a bare `0`. */
function isGoDuration(value: string): boolean {
  let rest = value.replace(/^[-+]/, '');
  if (rest === '0') return true;
  if (rest === '') return false;
  while (rest !== '') {
    const number = /^(\d+(\.\d*)?|\.\d+)/.exec(rest);
    if (!number) return false;
    rest = rest.slice(number[0].length);
    const unit = /^[^\d.]+/.exec(rest);
    if (!unit || !GO_DURATION_UNITS.has(unit[0])) return false;
    rest = rest.slice(unit[0].length);
  }
  return true;
}

const SCALA_UNITS = [['ns', 'nano'], ['us', 'µs', 'micro'], ['ms', 'milli'], ['s', 'sec'], ['m', 'min'], ['h', 'hr', 'hour'], ['d', 'day'], ['w', 'wk', 'week']];

/** strfmt.ParseDuration: Go's syntax, else any `<digits> <unit>` run it recognizes (`3 days`). */
function isDuration(value: string): boolean {
  if (isGoDuration(value)) return true;
  let recognized = false;
  for (const match of value.matchAll(/(\d+)\s*([A-Za-zµ]+)/g)) {
    // strconv.Atoi fails on values beyond int64, and so does the whole parse.
    if (match[1].replace(/^0+/, '').length > 18 && BigInt(match[1]) > 9223372036854775807n) return false;
    const unit = match[2].trim().toLowerCase();
    for (const variants of SCALA_UNITS) {
      variants.forEach((variant, index) => {
        if ((index === variants.length - 1 && unit.startsWith(variant)) || variant.toLowerCase() === unit) recognized = true;
      });
    }
  }
  return recognized;
}

/** net.ParseIP (sloppy: IPv4 parts may have leading zeros, as k8s.io/utils/net allows). */
export function parseIP(value: string, sloppy: boolean): 'v4' | 'v6' | undefined {
  if (isIPv4(value, sloppy)) return 'v4';
  return isIPv6(value, sloppy) ? 'v6' : undefined;
}

function isIPv4(value: string, sloppy: boolean): boolean {
  const parts = value.split('.');
  if (parts.length !== 4) return false;
  return parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255 && (sloppy || part === '0' || !part.startsWith('0')));
}

function isIPv6(value: string, sloppy: boolean): boolean {
  if (!value.includes(':')) return false;
  let text = value;
  let groupsNeeded = 8;
  // A trailing dotted quad stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (!isIPv4(tail, sloppy)) return false;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const doubleColon = text.indexOf('::');
  if (doubleColon !== -1 && text.indexOf('::', doubleColon + 1) !== -1) return false;
  const group = /^[0-9a-fA-F]{1,4}$/;
  if (doubleColon === -1) {
    const groups = text.split(':');
    return groups.length === groupsNeeded && groups.every((part) => group.test(part));
  }
  const head = text.slice(0, doubleColon);
  const rest = text.slice(doubleColon + 2);
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === '' ? [] : rest.split(':');
  groupsNeeded -= 1;
  return headGroups.length + restGroups.length <= groupsNeeded && [...headGroups, ...restGroups].every((part) => group.test(part));
}

function isCIDR(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash === -1) return false;
  const address = value.slice(0, slash);
  const prefix = value.slice(slash + 1);
  const family = parseIP(address, true);
  if (!family || !/^\d+$/.test(prefix) || prefix.length > 6) return false;
  return Number(prefix) <= (family === 'v4' ? 32 : 128);
}

/** net.ParseMAC: 6, 8 or 20 octets as `aa:bb:…`, `aa-bb-…` or `aabb.ccdd.…`. */
function isMAC(value: string): boolean {
  if (value.length < 14) return false;
  const octets = (count: number) => count === 6 || count === 8 || count === 20;
  if (value[2] === ':' || value[2] === '-') {
    if ((value.length + 1) % 3 !== 0 || !octets((value.length + 1) / 3)) return false;
    const separator = value[2];
    return value.split(separator).every((part) => /^[0-9a-fA-F]{2}$/.test(part));
  }
  if (value[4] === '.') {
    if ((value.length + 1) % 5 !== 0 || !octets((2 * (value.length + 1)) / 5)) return false;
    return value.split('.').every((part) => /^[0-9a-fA-F]{4}$/.test(part));
  }
  return false;
}

function isISBN(value: string, version: 10 | 13): boolean {
  const sanitized = value.replace(/[\s-]+/g, '');
  if (version === 10) {
    if (!ISBN10.test(sanitized)) return false;
    let checksum = 0;
    for (let index = 0; index < 9; index++) checksum += (index + 1) * Number(sanitized[index]);
    checksum += sanitized[9] === 'X' ? 100 : 10 * Number(sanitized[9]);
    return checksum % 11 === 0;
  }
  if (!ISBN13.test(sanitized)) return false;
  let checksum = 0;
  for (let index = 0; index < 12; index++) checksum += (index % 2 === 0 ? 1 : 3) * Number(sanitized[index]);
  return Number(sanitized[12]) - ((10 - (checksum % 10)) % 10) === 0;
}

/** govalidator.IsCreditCard as vendored by kube-openapi: the known issuer shapes plus the Luhn checksum. */
function isCreditCard(value: string): boolean {
  const sanitized = value.replace(/[^0-9]+/g, '');
  if (!CREDIT_CARD.test(sanitized)) return false;
  let sum = 0;
  let double = false;
  for (let index = sanitized.length - 1; index >= 0; index--) {
    let digit = Number(sanitized[index]);
    if (double) {
      digit *= 2;
      sum += digit >= 10 ? (digit % 10) + 1 : digit;
    } else {
      sum += digit;
    }
    double = !double;
  }
  return sum % 10 === 0;
}

/** net/mail.ParseAddress, for the shapes that occur in practice: `a@b` or `Name <a@b>`. */
function isEmail(value: string): boolean {
  const text = value.trim();
  const angle = /^(?:"(?:[^"\\]|\\.)*"|[^<>@",;:]*)\s*<([^<>]*)>$/.exec(text);
  const address = angle ? angle[1] : text;
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return false;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  const atom = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\u{10FFFF}]+$/u;
  const dotAtom = (text: string) => text.split('.').every((part) => atom.test(part));
  const localValid = /^"(?:[^"\\]|\\.)*"$/.test(local) || dotAtom(local);
  const domainValid = /^\[[^[\]\\]*\]$/.test(domain) || dotAtom(domain);
  return localValid && domainValid;
}

/** url.ParseRequestURI: an absolute URI or an absolute path, with well-formed escapes and authority. */
function isRequestURI(value: string): boolean {
  // eslint-disable-next-line no-control-regex
  if (value === '' || /[\x00-\x1f\x7f]/.test(value)) return false;
  if (value === '*') return true;
  let rest = value;
  let scheme = '';
  const schemeMatch = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(rest);
  if (rest.startsWith(':')) return false;
  if (schemeMatch) {
    scheme = schemeMatch[1];
    rest = rest.slice(schemeMatch[0].length);
  }
  if (!(rest.endsWith('?') && rest.split('?').length === 2)) rest = rest.split('?')[0];
  else rest = rest.slice(0, -1);
  if (!rest.startsWith('/')) return scheme !== '';
  if (scheme && rest.startsWith('//')) {
    const authorityEnd = rest.indexOf('/', 2);
    const authority = authorityEnd === -1 ? rest.slice(2) : rest.slice(2, authorityEnd);
    rest = authorityEnd === -1 ? '' : rest.slice(authorityEnd);
    const at = authority.lastIndexOf('@');
    const host = at === -1 ? authority : authority.slice(at + 1);
    if (at !== -1 && !/^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(authority.slice(0, at))) return false;
    if (!isValidHostPort(host)) return false;
  }
  return !/%(?![0-9a-fA-F]{2})/.test(rest);
}

function isValidHostPort(host: string): boolean {
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close === -1) return false;
    const port = host.slice(close + 1);
    return port === '' || /^:\d*$/.test(port);
  }
  const colon = host.lastIndexOf(':');
  if (colon !== -1 && !/^\d*$/.test(host.slice(colon + 1))) return false;
  const name = colon === -1 ? host : host.slice(0, colon);
  return /^[A-Za-z0-9\-._~!$&'()*+,;=%"<>\u0080-\u{10FFFF}]*$/u.test(name) && !/%(?![0-9a-fA-F]{2})/.test(name);
}
