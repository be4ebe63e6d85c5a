// Go's regexp syntax (RE2, as regexp/syntax parses it) into a small tree: literals and classes as
// per-code-point tests, assertions, concatenation, alternation and bounded repetition. Errors carry Go's
// wording (`error parsing regexp: missing closing ): \`(abc\``) so a CRD author sees what upstream says.

export type CharTest = (codePoint: number) => boolean;

export type Node =
  | { kind: 'empty' }
  | { kind: 'char'; test: CharTest }
  | { kind: 'assert'; what: 'lineStart' | 'lineEnd' | 'textStart' | 'textEnd' | 'wordBoundary' | 'notWordBoundary' }
  | { kind: 'concat'; parts: Node[] }
  | { kind: 'alternate'; options: Node[] }
  | { kind: 'repeat'; node: Node; min: number; max: number; lazy?: boolean }; // max -1: unbounded; lazy prefers fewer

interface Flags {
  caseInsensitive: boolean;
  multiLine: boolean;
  dotAll: boolean;
  /** U: `x*` is lazy and `x*?` greedy (which match is found, not whether one exists). */
  ungreedy?: boolean;
}

export class GoRegexpError extends Error {}

export const MAX_REPEAT = 1000;
export const MAX_PROGRAM = 20_000;
export const MAX_NESTING = 1000;

function parseError(code: string, argument: string): GoRegexpError {
  return new GoRegexpError(`error parsing regexp: ${code}: \`${argument}\``);
}

export const isWordChar = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isDigit = (c: number) => c >= 48 && c <= 57;
const isSpace = (c: number) => c === 9 || c === 10 || c === 12 || c === 13 || c === 32;

const POSIX_CLASSES: Record<string, CharTest> = {
  alnum: (c) => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122),
  alpha: (c) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122),
  ascii: (c) => c <= 0x7f,
  blank: (c) => c === 9 || c === 32,
  cntrl: (c) => c <= 0x1f || c === 0x7f,
  digit: isDigit,
  graph: (c) => c >= 0x21 && c <= 0x7e,
  lower: (c) => c >= 97 && c <= 122,
  print: (c) => c >= 0x20 && c <= 0x7e,
  punct: (c) => (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e),
  space: (c) => isSpace(c) || c === 11,
  upper: (c) => c >= 65 && c <= 90,
  word: isWordChar,
  xdigit: (c) => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102),
};

const unicodeClassCache = new Map<string, CharTest | undefined>();

/** `\p{Name}`: a Unicode general category or script, tested one code point at a time (no backtracking). */
function unicodeClass(name: string): CharTest | undefined {
  if (unicodeClassCache.has(name)) return unicodeClassCache.get(name);
  let test: CharTest | undefined;
  if (name === 'Any') test = () => true;
  else {
    for (const source of [`^\\p{${name}}$`, `^\\p{Script=${name}}$`]) {
      try {
        const regexp = new RegExp(source, 'u');
        test = (c) => regexp.test(String.fromCodePoint(c));
        break;
      } catch {
        // not this kind of property
      }
    }
  }
  unicodeClassCache.set(name, test);
  return test;
}

function foldCase(test: CharTest): CharTest {
  return (c) => {
    if (test(c)) return true;
    const text = String.fromCodePoint(c);
    const lower = text.toLowerCase();
    const upper = text.toUpperCase();
    return (lower.length === text.length && test(lower.codePointAt(0)!)) || (upper.length === text.length && test(upper.codePointAt(0)!));
  };
}

export class Parser {
  private position = 0;
  private depth = 0;
  private readonly chars: number[];

  constructor(private readonly source: string) {
    this.chars = [...source].map((char) => char.codePointAt(0)!);
  }

  parse(): Node {
    const node = this.alternation({ caseInsensitive: false, multiLine: false, dotAll: false });
    if (this.position < this.chars.length) {
      // Only an unmatched `)` stops the top level early.
      throw parseError('unexpected )', this.source);
    }
    return node;
  }

  private peek(offset = 0): number | undefined {
    return this.chars[this.position + offset];
  }

  private rest(): string {
    return String.fromCodePoint(...this.chars.slice(this.position));
  }

  private alternation(flags: Flags): Node {
    const options: Node[] = [this.concatenation(flags)];
    while (this.peek() === 0x7c /* | */) {
      this.position++;
      options.push(this.concatenation(flags));
    }
    return options.length === 1 ? options[0] : { kind: 'alternate', options };
  }

  private concatenation(flags: Flags): Node {
    const parts: Node[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === 0x7c || c === 0x29 /* ) */) break;
      const start = this.position;
      // Flag groups change the flags for the rest of the current group.
      if (c === 0x28 && this.peek(1) === 0x3f && this.isFlagGroup()) {
        this.flagGroup(flags, parts);
        continue;
      }
      let atom = this.atom(flags);
      atom = this.quantifiers(atom, start, flags.ungreedy === true);
      parts.push(atom);
    }
    return parts.length === 1 ? parts[0] : { kind: 'concat', parts };
  }

  private isFlagGroup(): boolean {
    let offset = 2;
    for (;;) {
      const c = this.peek(offset);
      if (c === undefined) return false;
      if (c === 0x29 || c === 0x3a) return true;
      if (![0x69, 0x6d, 0x73, 0x55, 0x2d].includes(c)) return false;
      offset++;
    }
  }

  /** `(?flags)` or `(?flags:re)`. */
  private flagGroup(flags: Flags, parts: Node[]): void {
    const start = this.position;
    this.position += 2;
    let negate = false;
    let sawFlag = false;
    const next = { ...flags };
    for (;;) {
      const c = this.peek()!;
      this.position++;
      if (c === 0x2d) {
        if (negate) throw parseError('invalid or unsupported Perl syntax', String.fromCodePoint(...this.chars.slice(start, this.position)));
        negate = true;
        sawFlag = false;
        continue;
      }
      if (c === 0x29 || c === 0x3a) {
        if (negate && !sawFlag) throw parseError('invalid or unsupported Perl syntax', String.fromCodePoint(...this.chars.slice(start, this.position)));
        if (c === 0x29) {
          Object.assign(flags, next);
          return;
        }
        this.depth++;
        if (this.depth > MAX_NESTING) throw parseError('expression nests too deeply', this.source);
        const inner = this.alternation(next);
        this.depth--;
        if (this.peek() !== 0x29) throw parseError('missing closing )', this.source);
        this.position++;
        parts.push(this.quantifiers(inner, start, flags.ungreedy === true));
        return;
      }
      sawFlag = true;
      if (c === 0x69) next.caseInsensitive = !negate;
      else if (c === 0x6d) next.multiLine = !negate;
      else if (c === 0x73) next.dotAll = !negate;
      else if (c === 0x55) next.ungreedy = !negate;
    }
  }

  private quantifiers(atom: Node, start: number, ungreedy: boolean): Node {
    let node = atom;
    let repeated = false;
    for (;;) {
      const c = this.peek();
      let min: number;
      let max: number;
      const operatorStart = this.position;
      if (c === 0x2a) [min, max] = [0, -1];
      else if (c === 0x2b) [min, max] = [1, -1];
      else if (c === 0x3f) [min, max] = [0, 1];
      else if (c === 0x7b) {
        const bounds = this.repeatBounds();
        if (!bounds) return node; // a literal `{`, handled by the next atom
        [min, max] = bounds;
      } else return node;
      if (c !== 0x7b) this.position++;
      let lazy = ungreedy;
      if (this.peek() === 0x3f) {
        this.position++;
        lazy = !lazy;
      }
      const operator = String.fromCodePoint(...this.chars.slice(operatorStart, this.position));
      if (repeated) throw parseError('invalid nested repetition operator', String.fromCodePoint(...this.chars.slice(start, this.position)).slice(-operator.length * 2) || operator);
      if (node.kind === 'empty' && start === operatorStart) throw parseError('missing argument to repetition operator', operator);
      if (min > MAX_REPEAT || max > MAX_REPEAT || (max !== -1 && max < min)) throw parseError('invalid repeat count', operator);
      node = { kind: 'repeat', node, min, max, lazy };
      repeated = true;
    }
  }

  /** `{n}`, `{n,}`, `{n,m}` at the current position; undefined when it is not a repetition (a literal `{`). */
  private repeatBounds(): [number, number] | undefined {
    const match = /^\{(\d+)(,(\d*))?\}/.exec(this.rest());
    if (!match) return undefined;
    this.position += [...match[0]].length;
    const min = Number(match[1]);
    const max = match[2] === undefined ? min : match[3] === '' ? -1 : Number(match[3]);
    if (match[1].length > 4 || (match[3] ?? '').length > 4) return [MAX_REPEAT + 1, MAX_REPEAT + 1];
    return [min, max];
  }

  private atom(flags: Flags): Node {
    const c = this.peek()!;
    const start = this.position;
    this.position++;
    switch (c) {
      case 0x28: // (
        return this.group(flags, start);
      case 0x5b: // [
        return this.charClass(flags, start);
      case 0x2e: // .
        return { kind: 'char', test: flags.dotAll ? () => true : (cp) => cp !== 10 };
      case 0x5e: // ^
        return { kind: 'assert', what: flags.multiLine ? 'lineStart' : 'textStart' };
      case 0x24: // $
        return { kind: 'assert', what: flags.multiLine ? 'lineEnd' : 'textEnd' };
      case 0x2a:
      case 0x2b:
      case 0x3f:
        throw parseError('missing argument to repetition operator', String.fromCodePoint(c));
      case 0x5c: // \
        return this.escapeAtom(flags);
      default:
        return this.literal(c, flags);
    }
  }

  private literal(c: number, flags: Flags): Node {
    const test: CharTest = (cp) => cp === c;
    return { kind: 'char', test: flags.caseInsensitive ? foldCase(test) : test };
  }

  private group(flags: Flags, start: number): Node {
    if (this.peek() === 0x3f) {
      const rest = this.rest();
      if (rest.startsWith('?P<') || rest.startsWith('?<')) {
        // A named group; Go reads `(?<=` and `(?<!` (lookbehind) as a malformed name too.
        const close = rest.indexOf('>');
        if (close === -1) throw parseError('invalid named capture', `(${rest}`);
        const name = rest.slice(rest.startsWith('?P<') ? 3 : 2, close);
        if (!/^[A-Za-z0-9_]+$/.test(name)) throw parseError('invalid named capture', `(${rest.slice(0, close + 1)}`);
        this.position += [...rest.slice(0, close + 1)].length;
      } else if (rest.startsWith('?:')) this.position += 2;
      else throw parseError('invalid or unsupported Perl syntax', String.fromCodePoint(...this.chars.slice(start, Math.min(this.position + 2, this.chars.length))));
    }
    this.depth++;
    if (this.depth > MAX_NESTING) throw parseError('expression nests too deeply', this.source);
    const inner = this.alternation({ ...flags });
    this.depth--;
    if (this.peek() !== 0x29) throw parseError('missing closing )', this.source);
    this.position++;
    return inner;
  }

  private escapeAtom(flags: Flags): Node {
    const c = this.peek();
    if (c === undefined) throw parseError('trailing backslash at end of expression', '');
    switch (c) {
      case 0x41: // \A
        this.position++;
        return { kind: 'assert', what: 'textStart' };
      case 0x7a: // \z
        this.position++;
        return { kind: 'assert', what: 'textEnd' };
      case 0x62: // \b
        this.position++;
        return { kind: 'assert', what: 'wordBoundary' };
      case 0x42: // \B
        this.position++;
        return { kind: 'assert', what: 'notWordBoundary' };
      case 0x51: {
        // \Q...\E: literal text
        this.position++;
        const rest = this.rest();
        const end = rest.indexOf('\\E');
        const text = end === -1 ? rest : rest.slice(0, end);
        this.position += [...text].length + (end === -1 ? 0 : 2);
        const parts = [...text].map((char) => this.literal(char.codePointAt(0)!, flags));
        return parts.length === 1 ? parts[0] : parts.length === 0 ? { kind: 'empty' } : { kind: 'concat', parts };
      }
    }
    const test = this.escapeClass(flags, false);
    return { kind: 'char', test };
  }

  /** After a backslash: a class escape (`\d`, `\pL`) or one escaped character. */
  private escapeClass(flags: Flags, inClass: boolean): CharTest {
    const start = this.position - 1;
    const c = this.chars[this.position++];
    const escaped = () => String.fromCodePoint(...this.chars.slice(start, this.position));
    switch (c) {
      case 0x64:
        return isDigit;
      case 0x44:
        return (cp) => !isDigit(cp);
      case 0x73:
        return isSpace;
      case 0x53:
        return (cp) => !isSpace(cp);
      case 0x77:
        return isWordChar;
      case 0x57:
        return (cp) => !isWordChar(cp);
      case 0x70:
      case 0x50: {
        let name: string;
        if (this.peek() === 0x7b) {
          const close = this.chars.indexOf(0x7d, this.position);
          if (close === -1) throw parseError('invalid character class range', escaped() + this.rest());
          name = String.fromCodePoint(...this.chars.slice(this.position + 1, close));
          this.position = close + 1;
        } else {
          const next = this.peek();
          if (next === undefined) throw parseError('invalid character class range', escaped());
          name = String.fromCodePoint(next);
          this.position++;
        }
        let negated = c === 0x50;
        if (name.startsWith('^')) {
          negated = !negated;
          name = name.slice(1);
        }
        const test = unicodeClass(name);
        if (!test) throw parseError('invalid character class range', escaped());
        const folded = flags.caseInsensitive ? foldCase(test) : test;
        return negated ? (cp) => !folded(cp) : folded;
      }
    }
    const literal = this.escapedLiteral(c, escaped, inClass);
    const test: CharTest = (cp) => cp === literal;
    return flags.caseInsensitive ? foldCase(test) : test;
  }

  private escapedLiteral(c: number, escaped: () => string, inClass: boolean): number {
    if (c >= 0x31 && c <= 0x37 && !(this.peek() !== undefined && this.peek()! >= 0x30 && this.peek()! <= 0x37)) {
      throw parseError('invalid escape sequence', escaped());
    }
    if (c >= 0x30 && c <= 0x37) {
      // Octal: up to three digits.
      let value = c - 0x30;
      for (let count = 0; count < 2 && this.peek() !== undefined && this.peek()! >= 0x30 && this.peek()! <= 0x37; count++) {
        value = value * 8 + (this.chars[this.position++] - 0x30);
      }
      return value;
    }
    switch (c) {
      case 0x61:
        return 7;
      case 0x66:
        return 12;
      case 0x74:
        return 9;
      case 0x6e:
        return 10;
      case 0x72:
        return 13;
      case 0x76:
        return 11;
      case 0x78: {
        // \x7F or \x{10FFFF}
        const rest = this.rest();
        const match = /^(?:\{([0-9A-Fa-f]{1,8})\}|([0-9A-Fa-f]{2}))/.exec(rest);
        if (!match) throw parseError('invalid escape sequence', escaped() + rest.slice(0, 2));
        this.position += match[0].length;
        const value = parseInt(match[1] ?? match[2], 16);
        if (value > 0x10ffff) throw parseError('invalid escape sequence', escaped());
        return value;
      }
    }
    // Punctuation may be escaped; letters and digits without a meaning may not.
    if (c < 0x80 && !/[A-Za-z0-9]/.test(String.fromCodePoint(c))) return c;
    void inClass;
    throw parseError('invalid escape sequence', escaped());
  }

  private charClass(flags: Flags, start: number): Node {
    let negated = false;
    if (this.peek() === 0x5e) {
      negated = true;
      this.position++;
    }
    const tests: CharTest[] = [];
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw parseError('missing closing ]', String.fromCodePoint(...this.chars.slice(start)));
      if (c === 0x5d && !first) {
        this.position++;
        break;
      }
      first = false;
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(this.rest());
      if (posix) {
        const test = POSIX_CLASSES[posix[2]];
        if (!test) throw parseError('invalid character class range', posix[0]);
        this.position += posix[0].length;
        tests.push(posix[1] ? (cp) => !test(cp) : test);
        continue;
      }
      const rangeStart = this.position;
      const low = this.classAtom(flags);
      if (typeof low === 'function') {
        tests.push(low);
        continue;
      }
      if (this.peek() === 0x2d && this.peek(1) !== undefined && this.peek(1) !== 0x5d) {
        this.position++;
        const high = this.classAtom(flags);
        if (typeof high === 'function' || high < low) {
          throw parseError('invalid character class range', String.fromCodePoint(...this.chars.slice(rangeStart, this.position)));
        }
        tests.push((cp) => cp >= low && cp <= high);
      } else {
        tests.push((cp) => cp === low);
      }
    }
    const union: CharTest = (cp) => tests.some((test) => test(cp));
    const folded = flags.caseInsensitive ? foldCase(union) : union;
    return { kind: 'char', test: negated ? (cp) => !folded(cp) : folded };
  }

  /** One class member: a code point, or a class escape such as `\d`. */
  private classAtom(flags: Flags): number | CharTest {
    const c = this.chars[this.position++];
    if (c !== 0x5c) return c;
    if (this.peek() === undefined) throw parseError('trailing backslash at end of expression', '');
    const next = this.peek()!;
    if ([0x64, 0x44, 0x73, 0x53, 0x77, 0x57, 0x70, 0x50].includes(next)) return this.escapeClass({ ...flags, caseInsensitive: false }, true);
    this.position++;
    return this.escapedLiteral(next, () => String.fromCodePoint(0x5c, next), true);
  }
}

