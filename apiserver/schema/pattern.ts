// `pattern` as upstream evaluates it: Go's regexp package, i.e. RE2 syntax with linear-time matching.
// JavaScript's backtracking RegExp would accept patterns upstream rejects (backreferences, lookaround) and
// can take exponential time on others (`(a+)+$`), so patterns are parsed here with Go's grammar and run
// on a Thompson NFA (a Pike VM without captures): time is bounded by pattern size × input length.
// crd-validation calls `compileGoRegexp` to reject, at CRD creation, a pattern Go would not compile.

type CharTest = (codePoint: number) => boolean;

type Node =
  | { kind: 'empty' }
  | { kind: 'char'; test: CharTest }
  | { kind: 'assert'; what: 'lineStart' | 'lineEnd' | 'textStart' | 'textEnd' | 'wordBoundary' | 'notWordBoundary' }
  | { kind: 'concat'; parts: Node[] }
  | { kind: 'alternate'; options: Node[] }
  | { kind: 'repeat'; node: Node; min: number; max: number }; // max -1: unbounded

interface Flags {
  caseInsensitive: boolean;
  multiLine: boolean;
  dotAll: boolean;
}

export class GoRegexpError extends Error {}

const MAX_REPEAT = 1000;
const MAX_PROGRAM = 20_000;
const MAX_NESTING = 1000;

function parseError(code: string, argument: string): GoRegexpError {
  return new GoRegexpError(`error parsing regexp: ${code}: \`${argument}\``);
}

const isWordChar = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
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

class Parser {
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
      atom = this.quantifiers(atom, start);
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
        parts.push(this.quantifiers(inner, start));
        return;
      }
      sawFlag = true;
      if (c === 0x69) next.caseInsensitive = !negate;
      else if (c === 0x6d) next.multiLine = !negate;
      else if (c === 0x73) next.dotAll = !negate;
      // U (ungreedy) does not change whether a match exists.
    }
  }

  private quantifiers(atom: Node, start: number): Node {
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
      if (this.peek() === 0x3f) this.position++; // lazy: same language
      const operator = String.fromCodePoint(...this.chars.slice(operatorStart, this.position));
      if (repeated) throw parseError('invalid nested repetition operator', String.fromCodePoint(...this.chars.slice(start, this.position)).slice(-operator.length * 2) || operator);
      if (node.kind === 'empty' && start === operatorStart) throw parseError('missing argument to repetition operator', operator);
      if (min > MAX_REPEAT || max > MAX_REPEAT || (max !== -1 && max < min)) throw parseError('invalid repeat count', operator);
      node = { kind: 'repeat', node, min, max };
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

// ---- the program and its simulation ---------------------------------------------------------------

type Instruction =
  | { op: 'char'; test: CharTest; next: number }
  | { op: 'split'; next: number; alternative: number }
  | { op: 'jump'; next: number }
  | { op: 'assert'; what: Extract<Node, { kind: 'assert' }>['what']; next: number }
  | { op: 'match' };

class Compiler {
  readonly program: Instruction[] = [];

  private emit(instruction: Instruction): number {
    if (this.program.length >= MAX_PROGRAM) throw new GoRegexpError('error parsing regexp: expression too large');
    this.program.push(instruction);
    return this.program.length - 1;
  }

  /** Compiles `node` so that it continues at the returned patch list; returns the entry point. */
  compile(node: Node): { entry: number; exits: ((target: number) => void)[] } {
    switch (node.kind) {
      case 'empty': {
        const at = this.emit({ op: 'jump', next: -1 });
        return { entry: at, exits: [(target) => ((this.program[at] as { next: number }).next = target)] };
      }
      case 'char':
      case 'assert': {
        const at = this.emit(node.kind === 'char' ? { op: 'char', test: node.test, next: -1 } : { op: 'assert', what: node.what, next: -1 });
        return { entry: at, exits: [(target) => ((this.program[at] as { next: number }).next = target)] };
      }
      case 'concat': {
        if (node.parts.length === 0) return this.compile({ kind: 'empty' });
        let first: { entry: number; exits: ((target: number) => void)[] } | undefined;
        let exits: ((target: number) => void)[] = [];
        for (const part of node.parts) {
          const compiled = this.compile(part);
          if (!first) first = compiled;
          else for (const exit of exits) exit(compiled.entry);
          exits = compiled.exits;
        }
        return { entry: first!.entry, exits };
      }
      case 'alternate': {
        const exits: ((target: number) => void)[] = [];
        let entry = -1;
        let pendingSplit = -1;
        node.options.forEach((option, index) => {
          const last = index === node.options.length - 1;
          const split = last ? -1 : this.emit({ op: 'split', next: -1, alternative: -1 });
          const compiled = this.compile(option);
          if (split !== -1) (this.program[split] as { next: number }).next = compiled.entry;
          const here = split !== -1 ? split : compiled.entry;
          if (entry === -1) entry = here;
          if (pendingSplit !== -1) (this.program[pendingSplit] as { alternative: number }).alternative = here;
          pendingSplit = split;
          exits.push(...compiled.exits);
        });
        return { entry, exits };
      }
      case 'repeat':
        return this.compileRepeat(node.node, node.min, node.max);
    }
  }

  private compileRepeat(node: Node, min: number, max: number): { entry: number; exits: ((target: number) => void)[] } {
    const pieces: { entry: number; exits: ((target: number) => void)[] }[] = [];
    for (let index = 0; index < min; index++) pieces.push(this.compile(node));
    if (max === -1) {
      // x*: split → x → back to split
      const split = this.emit({ op: 'split', next: -1, alternative: -1 });
      const body = this.compile(node);
      (this.program[split] as { next: number }).next = body.entry;
      for (const exit of body.exits) exit(split);
      pieces.push({ entry: split, exits: [(target) => ((this.program[split] as { alternative: number }).alternative = target)] });
    } else {
      for (let index = min; index < max; index++) {
        const split = this.emit({ op: 'split', next: -1, alternative: -1 });
        const body = this.compile(node);
        (this.program[split] as { next: number }).next = body.entry;
        pieces.push({ entry: split, exits: [...body.exits, (target) => ((this.program[split] as { alternative: number }).alternative = target)] });
      }
    }
    if (pieces.length === 0) return this.compile({ kind: 'empty' });
    for (let index = 1; index < pieces.length; index++) for (const exit of pieces[index - 1].exits) exit(pieces[index].entry);
    return { entry: pieces[0].entry, exits: pieces[pieces.length - 1].exits };
  }
}

export interface GoRegexp {
  readonly source: string;
  /** Whether the pattern matches anywhere in `text` (Go's MatchString). */
  test(text: string): boolean;
}

const compiledCache = new Map<string, GoRegexp | GoRegexpError>();

/** Compiles a Go (RE2) regular expression; throws GoRegexpError with Go's message when Go would refuse it. */
export function compileGoRegexp(source: string): GoRegexp {
  const cached = compiledCache.get(source);
  if (cached instanceof GoRegexpError) throw cached;
  if (cached) return cached;
  try {
    const tree = new Parser(source).parse();
    const compiler = new Compiler();
    const compiled = compiler.compile(tree);
    const match = compiler.program.length;
    compiler.program.push({ op: 'match' });
    for (const exit of compiled.exits) exit(match);
    const regexp = new PikeVM(source, compiler.program, compiled.entry);
    if (compiledCache.size > 1000) compiledCache.clear();
    compiledCache.set(source, regexp);
    return regexp;
  } catch (error) {
    if (error instanceof GoRegexpError) {
      compiledCache.set(source, error);
      throw error;
    }
    throw error;
  }
}

/** Go's error for a pattern it cannot compile, or undefined when it compiles. */
export function goRegexpError(source: string): string | undefined {
  try {
    compileGoRegexp(source);
    return undefined;
  } catch (error) {
    if (error instanceof GoRegexpError) return error.message;
    throw error;
  }
}

interface DfaState {
  pcs: number[];
  match: boolean;
  next: Map<number, DfaState>;
  /** Transitions into the last position, where `$` holds. */
  nextAtEnd: Map<number, DfaState>;
}

const MAX_DFA_STATES = 2000;

class PikeVM implements GoRegexp {
  /**
   * Thread sets seen so far, as states of a lazily built DFA (RE2's approach): a string of n code points
   * costs n map lookups once the states it passes through exist. Only for programs whose assertions are
   * `^`/`$` of the whole text; line and word assertions depend on neighbours and take the VM.
   */
  private readonly dfa?: { states: Map<string, DfaState>; start?: DfaState };

  constructor(
    readonly source: string,
    private readonly program: Instruction[],
    private readonly entry: number,
  ) {
    const contextFree = program.every((instruction) => instruction.op !== 'assert' || instruction.what === 'textStart' || instruction.what === 'textEnd');
    if (contextFree) this.dfa = { states: new Map() };
  }

  test(text: string): boolean {
    return this.dfa ? this.runDfa(text, this.dfa) : this.runVM([...text].map((char) => char.codePointAt(0)!));
  }

  private runDfa(text: string, dfa: { states: Map<string, DfaState>; start?: DfaState }): boolean {
    if (text.length === 0) return this.closure([this.entry], true, true).match;
    dfa.start ??= this.closure([this.entry], true, false);
    let state = dfa.start;
    for (let index = 0; index < text.length; ) {
      if (state.match) return true;
      const c = text.codePointAt(index)!;
      index += c > 0xffff ? 2 : 1;
      const last = index >= text.length;
      const cached = (last ? state.nextAtEnd : state.next).get(c);
      if (cached) {
        state = cached;
        continue;
      }
      const stepped: number[] = [];
      for (const pc of state.pcs) {
        const instruction = this.program[pc];
        if (instruction.op === 'char' && instruction.test(c)) stepped.push(instruction.next);
      }
      // Unanchored search: a new thread starts at every position.
      stepped.push(this.entry);
      const next = this.closure(stepped, false, last);
      if (dfa.states.size > MAX_DFA_STATES) {
        // Bounded memory: start over rather than grow (RE2 resets its DFA cache the same way).
        dfa.states.clear();
        dfa.start = undefined;
      } else {
        (last ? state.nextAtEnd : state.next).set(c, next);
      }
      state = next;
    }
    return state.match;
  }

  /** The DFA state of a set of threads: what they wait on after jumps, splits and `^`/`$`. */
  private closure(starts: number[], atStart: boolean, atEnd: boolean): DfaState {
    const seen = new Set<number>();
    const waiting: number[] = [];
    const stack = [...starts].reverse();
    while (stack.length > 0) {
      const pc = stack.pop()!;
      if (seen.has(pc)) continue;
      seen.add(pc);
      const instruction = this.program[pc];
      if (instruction.op === 'jump') stack.push(instruction.next);
      else if (instruction.op === 'split') stack.push(instruction.alternative, instruction.next);
      else if (instruction.op === 'assert') {
        if (instruction.what === 'textStart' ? atStart : atEnd) stack.push(instruction.next);
      } else waiting.push(pc);
    }
    waiting.sort((a, b) => a - b);
    const key = `${atEnd ? 'e' : ''}${waiting.join(',')}`;
    const states = this.dfa!.states;
    let state = states.get(key);
    if (!state) {
      state = { pcs: waiting, match: waiting.some((pc) => this.program[pc].op === 'match'), next: new Map(), nextAtEnd: new Map() };
      states.set(key, state);
    }
    return state;
  }

  private runVM(input: number[]): boolean {
    let current: number[] = [];
    let next: number[] = [];
    const onList = new Int32Array(this.program.length).fill(-1);
    let generation = 0;
    for (let position = 0; position <= input.length; position++) {
      // Unanchored search: a new thread starts at every position.
      this.addThread(current, onList, generation, this.entry, input, position);
      generation++;
      const c = input[position];
      for (const pc of current) {
        const instruction = this.program[pc];
        if (instruction.op === 'match') return true;
        if (instruction.op === 'char' && c !== undefined && instruction.test(c)) this.addThread(next, onList, generation, instruction.next, input, position + 1);
      }
      [current, next] = [next, current];
      next.length = 0;
    }
    return current.some((pc) => this.program[pc].op === 'match');
  }

  /** Follows jumps, splits and assertions (evaluated at `position`) and records the threads that wait on input. */
  private addThread(list: number[], onList: Int32Array, generation: number, start: number, input: number[], position: number): void {
    const stack = [start];
    while (stack.length > 0) {
      const pc = stack.pop()!;
      if (onList[pc] === generation) continue;
      onList[pc] = generation;
      const instruction = this.program[pc];
      switch (instruction.op) {
        case 'jump':
          stack.push(instruction.next);
          break;
        case 'split':
          stack.push(instruction.alternative, instruction.next);
          break;
        case 'assert':
          if (assertionHolds(instruction.what, input, position)) stack.push(instruction.next);
          break;
        default:
          list.push(pc);
      }
    }
  }
}

function assertionHolds(what: Extract<Node, { kind: 'assert' }>['what'], input: number[], position: number): boolean {
  switch (what) {
    case 'textStart':
      return position === 0;
    case 'textEnd':
      return position === input.length;
    case 'lineStart':
      return position === 0 || input[position - 1] === 10;
    case 'lineEnd':
      return position === input.length || input[position] === 10;
    case 'wordBoundary':
    case 'notWordBoundary': {
      const before = position > 0 && isWordChar(input[position - 1]);
      const after = position < input.length && isWordChar(input[position]);
      return (before !== after) === (what === 'wordBoundary');
    }
  }
}

interface PatternSchema {
  pattern?: unknown;
  properties?: Record<string, PatternSchema>;
  additionalProperties?: PatternSchema | boolean;
  items?: PatternSchema | PatternSchema[];
  allOf?: PatternSchema[];
  anyOf?: PatternSchema[];
  oneOf?: PatternSchema[];
  not?: PatternSchema;
}

/**
 * For CRD validation: every `pattern` in a schema that Go cannot compile, reported as upstream's
 * structural-schema validation does, e.g. `spec.versions[0].schema.openAPIV3Schema.properties[spec]
 * .properties[name].pattern: Invalid value: "(a": must be a valid regular expression, but isn't: …`.
 */
export function invalidPatterns(schema: unknown, path: string): { field: string; type: 'FieldValueInvalid'; value: string; detail: string }[] {
  const errors: { field: string; type: 'FieldValueInvalid'; value: string; detail: string }[] = [];
  const visit = (node: unknown, at: string, depth: number): void => {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || depth > MAX_NESTING) return;
    const schemaNode = node as PatternSchema;
    if (typeof schemaNode.pattern === 'string') {
      const error = goRegexpError(schemaNode.pattern);
      if (error) errors.push({ field: `${at}.pattern`, type: 'FieldValueInvalid', value: schemaNode.pattern, detail: `must be a valid regular expression, but isn't: ${error}` });
    }
    for (const [name, property] of Object.entries(schemaNode.properties ?? {})) visit(property, `${at}.properties[${name}]`, depth + 1);
    if (typeof schemaNode.additionalProperties === 'object') visit(schemaNode.additionalProperties, `${at}.additionalProperties`, depth + 1);
    if (Array.isArray(schemaNode.items)) schemaNode.items.forEach((item, index) => visit(item, `${at}.items[${index}]`, depth + 1));
    else visit(schemaNode.items, `${at}.items`, depth + 1);
    for (const junctor of ['allOf', 'anyOf', 'oneOf'] as const) (schemaNode[junctor] ?? []).forEach((member, index) => visit(member, `${at}.${junctor}[${index}]`, depth + 1));
    visit(schemaNode.not, `${at}.not`, depth + 1);
  };
  visit(schema, path, 0);
  return errors;
}
