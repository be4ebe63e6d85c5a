// Runs the test suites with node's built-in runner on the compiled output: unit tests (dist/**/*.test.js
// outside dist/test) and end-to-end tests (dist/test/*.test.js). `--unit` or `--e2e` selects one part.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const mode = process.argv.includes('--unit') ? 'unit' : process.argv.includes('--e2e') ? 'e2e' : 'all';
function find(dir, out = []) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) find(path, out);
    else if (entry.endsWith('.test.js')) out.push(path);
  }
  return out;
}
const all = find('dist').filter((file) => !file.startsWith(join('dist', 'node_modules')));
const e2e = all.filter((file) => file.startsWith(join('dist', 'test') + '/'));
const unit = all.filter((file) => !e2e.includes(file));
const files = mode === 'unit' ? unit : mode === 'e2e' ? e2e : [...unit, ...e2e];
const extra = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files.filter((f) => extra.length === 0 || extra.some((x) => f.includes(x)))], { stdio: 'inherit' });
process.exit(result.status ?? 1);
