// A parsed Go regexp compiled to a Thompson NFA and run without backtracking: a lazily built DFA for
// programs whose only assertions are `^`/`$` of the whole text (RE2's approach), otherwise a Pike VM.
// Either way the time is bounded by program size × input length.

import { GoRegexpError, isWordChar, MAX_PROGRAM, type CharTest, type Node } from './syntax.js';

type Instruction =
  | { op: 'char'; test: CharTest; next: number }
  | { op: 'split'; next: number; alternative: number }
  | { op: 'jump'; next: number }
  | { op: 'assert'; what: Extract<Node, { kind: 'assert' }>['what']; next: number }
  | { op: 'match' };

export class Compiler {
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
        return this.compileRepeat(node.node, node.min, node.max, node.lazy === true);
    }
  }

  /** A lazy repeat's split prefers skipping the body (its `next`), a greedy one entering it. */
  private compileRepeat(node: Node, min: number, max: number, lazy: boolean): { entry: number; exits: ((target: number) => void)[] } {
    const enter: 'next' | 'alternative' = lazy ? 'alternative' : 'next';
    const skip: 'next' | 'alternative' = lazy ? 'next' : 'alternative';
    const pieces: { entry: number; exits: ((target: number) => void)[] }[] = [];
    for (let index = 0; index < min; index++) pieces.push(this.compile(node));
    if (max === -1) {
      // x*: split → x → back to split
      const split = this.emit({ op: 'split', next: -1, alternative: -1 });
      const body = this.compile(node);
      (this.program[split] as { next: number; alternative: number })[enter] = body.entry;
      for (const exit of body.exits) exit(split);
      pieces.push({ entry: split, exits: [(target) => ((this.program[split] as { next: number; alternative: number })[skip] = target)] });
    } else {
      for (let index = min; index < max; index++) {
        const split = this.emit({ op: 'split', next: -1, alternative: -1 });
        const body = this.compile(node);
        (this.program[split] as { next: number; alternative: number })[enter] = body.entry;
        pieces.push({ entry: split, exits: [...body.exits, (target) => ((this.program[split] as { next: number; alternative: number })[skip] = target)] });
      }
    }
    if (pieces.length === 0) return this.compile({ kind: 'empty' });
    for (let index = 1; index < pieces.length; index++) for (const exit of pieces[index - 1].exits) exit(pieces[index].entry);
    return { entry: pieces[0].entry, exits: pieces[pieces.length - 1].exits };
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

export interface GoRegexp {
  readonly source: string;
  /** Whether the pattern matches anywhere in `text` (Go's MatchString). */
  test(text: string): boolean;
  /**
   * The leftmost-first match starting at or after code point `from` of `input` (code points), as
   * [start, end), or undefined: Go's doExecute at a position, for FindString and FindAllString.
   */
  findAt(input: number[], from: number): [number, number] | undefined;
}

interface Thread {
  pc: number;
  start: number;
}

export class PikeVM implements GoRegexp {
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

  findAt(input: number[], from: number): [number, number] | undefined {
    // Threads are kept in priority order (the order a backtracking engine would try them); the first to
    // reach `match` wins over every thread after it, while those before it may still find a preferred match.
    let current: Thread[] = [];
    let next: Thread[] = [];
    const onList = new Int32Array(this.program.length).fill(-1);
    let generation = 0;
    let matched: [number, number] | undefined;
    for (let position = from; position <= input.length; position++) {
      if (!matched) this.addThreadFrom(current, onList, generation, this.entry, input, position, position);
      generation++;
      if (current.length === 0) {
        if (matched) break;
        continue;
      }
      const c = input[position];
      for (const thread of current) {
        const instruction = this.program[thread.pc];
        if (instruction.op === 'match') {
          matched = [thread.start, position];
          break;
        }
        if (instruction.op === 'char' && c !== undefined && instruction.test(c)) this.addThreadFrom(next, onList, generation, instruction.next, input, position + 1, thread.start);
      }
      [current, next] = [next, current];
      next.length = 0;
    }
    return matched;
  }

  private addThreadFrom(list: Thread[], onList: Int32Array, generation: number, pc: number, input: number[], position: number, start: number): void {
    const waiting: number[] = [];
    this.addThread(waiting, onList, generation, pc, input, position);
    for (const waitingPc of waiting) list.push({ pc: waitingPc, start });
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

