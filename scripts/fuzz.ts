/**
 * The long contract fuzz: runs test/fuzz/contract-fuzz.test.ts under vitest (it needs the
 * shared HTTP fixtures, which need vitest) for as long as asked and prints a summary.
 *
 *   npm run fuzz -- [--seconds 300] [--runs N] [--seed N] [--engine sqlite|postgres|both]
 *
 * Exits non-zero when any case found a 5xx, a refusal that is not problem+json, a refused
 * write that changed the database, a dropped connection or a polluted prototype. Re-run a
 * failure with the seed it printed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type FuzzSummary, formatSummary } from '../test/fuzz/fuzz-summary.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '300' },
    runs: { type: 'string' },
    seed: { type: 'string' },
    engine: { type: 'string', default: 'sqlite' },
  },
});

const positive = (name: string, value: string | undefined): string | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) <= 0) throw new Error(`--${name} must be a positive integer, not "${value}"`);
  return value;
};
const seconds = positive('seconds', values.seconds)!;
const runs = positive('runs', values.runs);
const seed = values.seed === undefined ? undefined : String(Number(values.seed));
const engines = values.engine === 'both' ? ['sqlite', 'postgres'] : [values.engine!];
for (const engine of engines) if (engine !== 'sqlite' && engine !== 'postgres') throw new Error(`--engine must be sqlite, postgres or both, not "${engine}"`);

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'latchkey-fuzz-'));
let failed = false;
try {
  for (const engine of engines) {
    const summaryFile = join(dir, `${engine}.json`);
    process.stderr.write(`fuzz: ${engine}, ${runs ? `up to ${runs} cases or ` : ''}${seconds} s${seed ? `, seed ${seed}` : ''}…\n`);
    const run = spawnSync(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', 'test/fuzz/contract-fuzz.test.ts', '--reporter=dot'], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, FUZZ_SECONDS: seconds, FUZZ_ENGINE: engine, FUZZ_SUMMARY_FILE: summaryFile, ...(runs ? { FUZZ_RUNS: runs } : {}), ...(seed ? { FUZZ_SEED: seed } : {}) },
    });
    let summary: FuzzSummary | null = null;
    try {
      summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as FuzzSummary;
    } catch {
      // No summary: the run itself broke (printed above).
    }
    if (summary) process.stdout.write(`\n${formatSummary(summary)}\n`);
    if (run.status !== 0 || !summary || summary.findings.length > 0) failed = true;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(failed ? '\nfuzz: FAILED\n' : '\nfuzz: no findings\n');
process.exitCode = failed ? 1 : 0;
