// The part of upstream's strict decoding that a plain JSON.parse loses: repeated keys. kube-apiserver's
// decoder (sigs.k8s.io/json) reports each repeated key as `duplicate field "spec.replicas"` (the last value
// wins), and YAML bodies first go through a strict YAML-to-JSON conversion whose error lists every repeated
// key by line. fieldValidation=Strict turns these into a 400, Warn into warnings, Ignore skips the check
// (and its cost). Bodies without repeated keys, nearly all of them, are told apart without a second scan.

import { LineCounter, parseDocument, isMap, isScalar, type Node } from 'yaml';
import { badRequest, StatusError } from './status.js';

/** One strict-decoding problem of a body, with where it was found (to order it among unknown fields). */
export interface DecodeProblem {
  message: string;
  offset: number;
  /** The repeated field's path (JSON bodies). */
  path?: string;
  /** Its warnings under fieldValidation=Warn, when not just the message (YAML: one per repeated key). */
  warnings?: string[];
}

/**
 * Problems found while decoding a body, and where each field path first appears in it, so that problems
 * found later (unknown fields) can be put in document order as upstream's single-pass decoder reports them.
 */
export interface StrictDecodeReport {
  problems: DecodeProblem[];
  /** The body was YAML: the decoder saw its keys sorted, as the YAML-to-JSON conversion writes them. */
  yaml?: boolean;
  /** The body was a patch: its problems come first, then those of the patched object (decoded with sorted keys). */
  patch?: boolean;
  /** Offset of a field path's first key in the body; undefined for paths it does not have. */
  offsetOf(path: string): number | undefined;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function countKeys(value: unknown): number {
  if (Array.isArray(value)) {
    let count = 0;
    for (const item of value) if (typeof item === 'object' && item !== null) count += countKeys(item);
    return count;
  }
  if (!isObject(value)) return 0;
  let count = 0;
  for (const key in value) {
    count += 1;
    const child = value[key];
    if (typeof child === 'object' && child !== null) count += countKeys(child);
  }
  return count;
}

// A closing quote (one not escaped by an odd number of backslashes) followed by a colon ends a key, and
// nothing else: inside a string every quote is escaped, so last-applied-configuration's `\":` is no key.
const KEY_END = /(?<!(?:^|[^\\])(?:\\\\)*\\)"\s*:/g;

/**
 * Repeated keys of a JSON body already parsed into `parsed`. The text has exactly one key end per key it
 * holds, so when it has no more of them than the parsed value has keys, no key repeats.
 */
export function jsonDuplicateFields(text: string, parsed: unknown): StrictDecodeReport | undefined {
  const places = text.match(KEY_END)?.length ?? 0;
  if (places <= countKeys(parsed)) return undefined;
  const scanner = new JsonKeyScanner(text);
  scanner.scan();
  if (scanner.problems.length === 0) return undefined;
  const offsets = scanner.offsets;
  return { problems: scanner.problems, offsetOf: (path) => offsets.get(path) };
}

/** Walks JSON text (already known to be valid) recording each field path's first offset and repeated keys. */
class JsonKeyScanner {
  readonly problems: DecodeProblem[] = [];
  readonly offsets = new Map<string, number>();
  private index = 0;

  constructor(private readonly text: string) {}

  scan(): void {
    this.value('');
  }

  private skipSpace(): void {
    const text = this.text;
    while (this.index < text.length) {
      const code = text.charCodeAt(this.index);
      if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) return;
      this.index += 1;
    }
  }

  private value(path: string): void {
    this.skipSpace();
    const char = this.text[this.index];
    if (char === '{') this.object(path);
    else if (char === '[') this.array(path);
    else if (char === '"') this.string();
    else {
      // number, true, false, null: up to the next delimiter
      while (this.index < this.text.length && !',}] \n\r\t'.includes(this.text[this.index])) this.index += 1;
    }
  }

  /** Skips a string, returning its decoded value. */
  private string(): string {
    const text = this.text;
    const start = this.index;
    let escaped = false;
    this.index += 1;
    while (this.index < text.length) {
      const char = text[this.index];
      if (char === '\\') {
        escaped = true;
        this.index += 2;
        continue;
      }
      this.index += 1;
      if (char === '"') break;
    }
    const raw = text.slice(start, this.index);
    return escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
  }

  private object(path: string): void {
    const seen = new Set<string>();
    this.index += 1; // {
    for (;;) {
      this.skipSpace();
      if (this.text[this.index] === '}') {
        this.index += 1;
        return;
      }
      if (this.text[this.index] === ',') {
        this.index += 1;
        continue;
      }
      const offset = this.index;
      const key = this.string();
      const childPath = path ? `${path}.${key}` : key;
      if (seen.has(key)) this.problems.push({ message: `duplicate field "${childPath}"`, offset, path: childPath });
      else seen.add(key);
      if (!this.offsets.has(childPath)) this.offsets.set(childPath, offset);
      this.skipSpace();
      this.index += 1; // :
      this.value(childPath);
    }
  }

  private array(path: string): void {
    this.index += 1; // [
    let position = 0;
    for (;;) {
      this.skipSpace();
      const char = this.text[this.index];
      if (char === ']') {
        this.index += 1;
        return;
      }
      if (char === ',') {
        this.index += 1;
        position += 1;
        continue;
      }
      this.value(`${path}[${position}]`);
    }
  }
}

/**
 * A YAML body parsed as upstream's lenient YAML-to-JSON conversion does (a repeated key: the last value
 * wins), with the strict conversion's error for the repeated keys, if any.
 */
export function parseYamlLeniently(text: string, errorPrefix = 'error converting YAML to JSON'): { document: unknown; duplicateKeys: string[] } {
  const lines = new LineCounter();
  const parsed = parseDocument(text, { uniqueKeys: false, lineCounter: lines, maxAliasCount: 100 } as Parameters<typeof parseDocument>[1]);
  if (parsed.errors.length > 0) throw badRequest(`${errorPrefix}: ${parsed.errors[0].message}`);
  const duplicateKeys: string[] = [];
  const visit = (node: unknown): void => {
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        if (seen.has(key)) {
          const offset = (pair.key as Node | null)?.range?.[0] ?? 0;
          duplicateKeys.push(`line ${lines.linePos(offset).line}: key ${JSON.stringify(key)} already set in map`);
        }
        seen.add(key);
        visit(pair.value);
      }
    } else if (node && typeof node === 'object' && 'items' in node && Array.isArray((node as { items: unknown[] }).items)) {
      for (const item of (node as { items: unknown[] }).items) visit(item);
    }
  };
  visit(parsed.contents);
  try {
    return { document: parsed.toJS({ maxAliasCount: 100 }), duplicateKeys };
  } catch (error) {
    if (error instanceof StatusError) throw error;
    throw badRequest(`${errorPrefix}: ${(error as Error).message}`);
  }
}

/** The strict YAML conversion's problem for repeated keys: one error listing them, one warning each. */
export function yamlDuplicateKeysReport(duplicateKeys: string[]): StrictDecodeReport {
  const message = `yaml: unmarshal errors:\n${duplicateKeys.map((line) => `  ${line}`).join('\n')}`;
  return { problems: [{ message, offset: -1, warnings: duplicateKeys }], yaml: true, offsetOf: () => undefined };
}

/**
 * The body's own problems merged with the unknown fields the schema check found (`messages[i]` is about
 * `unknownFields[i]`), as errors (Strict) and warnings (Warn). A custom resource is decoded into a map
 * first and pruned afterwards, so its repeated keys come before its unknown fields. A built-in kind is
 * decoded in one pass, in document order, and a key that is unknown is only reported as unknown however
 * often it repeats; a YAML body reaches that decoder as JSON with sorted keys, after its own repeated keys.
 */
export function withDecodeProblems(
  report: StrictDecodeReport,
  unknownFields: string[],
  messages: string[],
  decodedBeforePruning: boolean,
): { errors: string[]; warnings: string[] } {
  let entries: { message: string; warnings?: string[] }[];
  if (decodedBeforePruning) {
    entries = [...report.problems, ...messages.map((message) => ({ message }))];
  } else if (report.yaml || report.patch) {
    const order = unknownFields.map((field, index) => ({ field, message: messages[index] })).sort((a, b) => compareSortedKeyPaths(a.field, b.field));
    entries = [...report.problems, ...order];
  } else {
    const underUnknown = (path: string) => unknownFields.some((field) => path === field || path.startsWith(`${field}.`) || path.startsWith(`${field}[`));
    entries = [
      ...report.problems.filter((problem) => problem.path === undefined || !underUnknown(problem.path)),
      ...messages.map((message, index) => ({ message, offset: report.offsetOf(unknownFields[index]) ?? Number.MAX_SAFE_INTEGER })),
    ].sort((a, b) => a.offset - b.offset);
  }
  return { errors: entries.map((entry) => entry.message), warnings: entries.flatMap((entry) => entry.warnings ?? [entry.message]) };
}

/** Orders field paths as a decoder walking objects with sorted keys meets them. */
export function compareSortedKeyPaths(a: string, b: string): number {
  const left = a.split(/(?=[.[])/);
  const right = b.split(/(?=[.[])/);
  for (let index = 0; index < Math.min(left.length, right.length); index++) {
    if (left[index] === right[index]) continue;
    return left[index] < right[index] ? -1 : 1;
  }
  return left.length - right.length;
}

const JSON_PATCH_OPERATION_FIELDS = new Set(['op', 'path', 'value', 'from']);
const OPERATION_LEVEL = /^\[\d+\]\.[^.[]+$/;

/**
 * Strict-decoding problems of a PATCH body, reported before those of the patched object. A merge or
 * strategic merge patch is decoded into a map, so every repeated key counts; a JSON patch is decoded into
 * its operations, so only their own fields are checked (repeated keys inside a value are lost on the way).
 */
export function patchBodyProblems(type: 'merge' | 'strategic' | 'json', text: string, parsed: unknown): StrictDecodeReport | undefined {
  if (type !== 'json') {
    const report = jsonDuplicateFields(text, parsed);
    return report && { ...report, patch: true };
  }
  const problems: DecodeProblem[] = [];
  const unknown: string[] = [];
  if (Array.isArray(parsed)) {
    parsed.forEach((operation, index) => {
      if (isObject(operation)) for (const key of Object.keys(operation)) if (!JSON_PATCH_OPERATION_FIELDS.has(key)) unknown.push(`[${index}].${key}`);
    });
  }
  const duplicates = jsonDuplicateFields(text, parsed);
  if (!duplicates && unknown.length === 0) return undefined;
  const scanner = new JsonKeyScanner(text);
  scanner.scan();
  for (const path of unknown) problems.push({ message: `json patch unknown field "${path}"`, offset: scanner.offsets.get(path) ?? 0 });
  for (const problem of duplicates?.problems ?? []) {
    if (problem.path && OPERATION_LEVEL.test(problem.path)) problems.push({ message: `json patch ${problem.message}`, offset: problem.offset });
  }
  if (problems.length === 0) return undefined;
  return { problems: problems.sort((a, b) => a.offset - b.offset), patch: true, offsetOf: () => undefined };
}
