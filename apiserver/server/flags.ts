// Command-line flags in kube-apiserver's style (`--name=value` or `--name value`), declared with their help
// text so `--help` is generated from the same table the parser uses.

export interface FlagSpec {
  name: string;
  description: string;
  type: 'string' | 'number' | 'boolean' | 'list';
  default?: string | number | boolean | string[];
}

export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

export class FlagError extends Error {}

export function parseFlags(argv: string[], specs: FlagSpec[]): FlagValues {
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  const values: FlagValues = {};
  for (const spec of specs) if (spec.default !== undefined) values[spec.name] = spec.default;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === '--help' || arg === '-h') {
      values.help = true;
      continue;
    }
    if (!arg.startsWith('--')) throw new FlagError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = byName.get(name);
    if (!spec) throw new FlagError(`unknown flag: --${name}`);
    let raw: string;
    if (eq >= 0) raw = arg.slice(eq + 1);
    else if (spec.type === 'boolean') raw = 'true';
    else {
      if (index + 1 >= argv.length) throw new FlagError(`flag needs an argument: --${name}`);
      raw = argv[++index];
    }
    switch (spec.type) {
      case 'number': {
        const number = Number(raw);
        if (!Number.isFinite(number)) throw new FlagError(`invalid argument "${raw}" for "--${name}" flag: not a number`);
        values[name] = number;
        break;
      }
      case 'boolean':
        if (raw !== 'true' && raw !== 'false') throw new FlagError(`invalid argument "${raw}" for "--${name}" flag: must be true or false`);
        values[name] = raw === 'true';
        break;
      case 'list':
        values[name] = raw === '' ? [] : raw.split(',').map((item) => item.trim()).filter(Boolean);
        break;
      default:
        values[name] = raw;
    }
  }
  return values;
}

export function helpText(command: string, summary: string, specs: FlagSpec[]): string {
  const lines = [summary, '', `Usage:\n  ${command} [flags]`, '', 'Flags:'];
  for (const spec of [...specs].sort((a, b) => a.name.localeCompare(b.name))) {
    const type = spec.type === 'boolean' ? '' : spec.type === 'list' ? ' strings' : ` ${spec.type}`;
    const fallback = spec.default === undefined || spec.default === '' || (Array.isArray(spec.default) && spec.default.length === 0) ? '' : ` (default ${Array.isArray(spec.default) ? `[${spec.default.join(',')}]` : JSON.stringify(spec.default)})`;
    lines.push(`      --${spec.name}${type}`);
    lines.push(`            ${spec.description}${fallback}`);
  }
  lines.push('  -h, --help', '            help for this command');
  return lines.join('\n') + '\n';
}

export function stringFlag(values: FlagValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function numberFlag(values: FlagValues, name: string): number | undefined {
  const value = values[name];
  return typeof value === 'number' ? value : undefined;
}

export function listFlag(values: FlagValues, name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value : [];
}

export function boolFlag(values: FlagValues, name: string): boolean {
  return values[name] === true;
}
